using Trove.Application.Jobs;

namespace Trove.Application.Restoration;

/// <summary>
/// The scheduled retention sweep (job kind <c>retention</c>): moves unkept results to the trash once their retention
/// has run out (<see cref="ProcessingService.ExpireAsync"/>). Each unkept result schedules a sweep for when it expires;
/// each sweep schedules the next for the earliest result still waiting; <c>trove serve</c> and <c>trove worker</c>
/// schedule one as they start, so results whose sweep was lost (a cancelled job, a changed retention) still expire. A
/// sweep already queued for that time or earlier is enough, so results made together share one.
/// </summary>
public static class RetentionJobs
{
    public const string Kind = "retention";

    /// <summary>Sweeps are cheap and idempotent; a late one is harmless (results just live a little longer).</summary>
    public static readonly JobKind Definition = new(Kind)
    {
        Concurrency = 1,
        Timeout = TimeSpan.FromMinutes(30),
        MaxAttempts = 3,
        BackoffBase = TimeSpan.FromMinutes(1),
        BackoffCap = TimeSpan.FromMinutes(30),
        Priority = -10,
    };

    /// <summary>Queues a sweep at <paramref name="at"/> unless one is already queued for then or earlier; answers the job that will run it.</summary>
    public static async Task<JobRecord> ScheduleAsync(TroveLibrary library, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        var queue = JobQueue.Of(library);
        var pending = await queue.Store.ListAsync(Kind, null, 100, ct).ConfigureAwait(false);
        if (pending.Where(j => j.Status == JobStatus.Queued && j.AvailableAt <= at).MinBy(j => j.AvailableAt) is { } earlier)
        {
            return earlier;
        }

        var delay = at - queue.Time.GetUtcNow();
        return await queue.EnqueueAsync(Definition.Job(new { at }, ProcessingService.RetentionActor) with { Delay = delay > TimeSpan.Zero ? delay : TimeSpan.Zero }, ct).ConfigureAwait(false);
    }

    /// <summary>At a host's start: a sweep for the earliest unkept result (now, when some are already due); null when none waits.</summary>
    public static async Task<JobRecord?> ScheduleNextAsync(TroveLibrary library, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        var derived = await new Search.SearchService(library).AllIdsAsync("derived:yes", ct).ConfigureAwait(false);
        DateTimeOffset? next = null;
        foreach (var id in derived)
        {
            if (library.Files.TryReadSidecar(id) is { InTrash: false, Sidecar.DerivedFrom: { Kept: false, ExpiresAt: { } at } } && (next is null || at < next))
            {
                next = at;
            }
        }

        return next is { } when ? await ScheduleAsync(library, when, ct).ConfigureAwait(false) : null;
    }

    public static IJobHandler Handler(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var service = new ProcessingService(library);
        return JobHandler.Create(Definition, async job =>
        {
            var report = await service.ExpireAsync(job.CancellationToken).ConfigureAwait(false);
            if (report.NextExpiry is { } next)
            {
                await ScheduleAsync(library, next, job.CancellationToken).ConfigureAwait(false);
            }

            return new { trashed = report.Trashed, unkept = report.Unkept, nextExpiry = report.NextExpiry };
        });
    }
}
