using System.Security.Cryptography;
using System.Text.Json;
using Trove.Application.Jobs;
using Trove.Domain;

namespace Trove.Application.Restoration;

/// <summary>A restore job's payload: the media, the model version (fixed when queued), the parameter overrides, keep.</summary>
public sealed record RestorePayload(string Media, string Model, IReadOnlyDictionary<string, string> Parameters, bool Keep);

/// <summary>
/// Restoration and upscaling as background jobs (kind <c>restore</c>): one media per job, one job at a time over all
/// processes (a tiled model keeps the cores busy). The job record is the processing history: who ran what, on which
/// media, with which parameters, the result or the error, and the timings (docs/models.md, "Upscalers and restorers").
/// </summary>
public static class RestoreJobs
{
    public const string Kind = "restore";

    public static readonly JobKind Definition = new(Kind)
    {
        Concurrency = 1,
        Timeout = TimeSpan.FromHours(2),
        MaxAttempts = 2,
        BackoffBase = TimeSpan.FromSeconds(30),
        BackoffCap = TimeSpan.FromMinutes(5),
    };

    public static async Task<(ResolvedRestorer Restorer, JobRecord Job)> EnqueueAsync(TroveLibrary library, RestoreRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(request);
        var service = new RestoreService(library);
        var restorer = service.Resolve(request.Model, request.Kind);
        RestoreService.Parameters(restorer, request.Parameters); // refuse bad parameters now, not in the worker
        var id = await library.ResolveIdAsync(request.Media, ct).ConfigureAwait(false);
        var job = await JobQueue.Of(library).EnqueueAsync(Definition.Job(new RestorePayload(id, restorer.Reference, request.Parameters, request.Keep), library.Actor), ct).ConfigureAwait(false);
        return (restorer, job);
    }

    /// <summary>
    /// Runs a restore in this process (<c>trove restore --now</c>) and records it in the processing history as a finished
    /// job, like one a worker ran: succeeded with its result, or failed with its error (which is then thrown on).
    /// </summary>
    public static async Task<RestoreResult> RunNowAsync(TroveLibrary library, RestoreRequest request, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(request);
        var service = new RestoreService(library);
        var restorer = service.Resolve(request.Model, request.Kind);
        var id = await library.ResolveIdAsync(request.Media, ct).ConfigureAwait(false);
        var payload = JsonSerializer.Serialize(new RestorePayload(id, restorer.Reference, request.Parameters, request.Keep), JobQueue.Json);
        var queue = JobQueue.Of(library);
        var started = queue.Time.GetUtcNow();
        JobRecord Record(string status, string? result, string? error) =>
            new(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), Kind, status, library.Actor, started, started, queue.Time.GetUtcNow(), null, 1, 1, payload, result, error)
            {
                Attempts = 1,
                MaxAttempts = 1,
                LeaseOwner = $"{Environment.MachineName}:{Environment.ProcessId}:now",
            };

        try
        {
            var result = await service.RunAsync(request with { Media = id, Model = restorer.Reference }, progress, ct).ConfigureAwait(false);
            await queue.Store.InsertAsync(Record(JobStatus.Succeeded, JsonSerializer.Serialize(result, JobQueue.Json), null), CancellationToken.None).ConfigureAwait(false);
            return result;
        }
        catch (Exception ex) when (ex is TroveException or OperationCanceledException)
        {
            var cancelled = ex is OperationCanceledException;
            await queue.Store.InsertAsync(
                Record(cancelled ? JobStatus.Cancelled : JobStatus.Failed, null, cancelled ? null : ex is TroveException t ? $"{t.Code}: {t.Message}" : ex.Message),
                CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public static IJobHandler Handler(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var service = new RestoreService(library);
        return JobHandler.Create(Definition, async job =>
        {
            var payload = job.ReadPayload<RestorePayload>();
            return await service.RunAsync(new RestoreRequest(payload.Media, payload.Model, payload.Parameters ?? new Dictionary<string, string>(), payload.Keep), job.Progress, job.CancellationToken).ConfigureAwait(false);
        });
    }
}
