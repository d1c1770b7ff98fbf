using Trove.Application.Jobs;
using Trove.Domain;

namespace Trove.Application.Captioning;

/// <summary>A caption job's payload (JSON, camelCase): the media, the captioner (<c>ID@VERSION</c>, fixed when queued) and whether to overwrite.</summary>
public sealed record CaptionPayload(IReadOnlyList<string> Ids, string Model, bool Overwrite);

/// <summary>What a finished caption job reports (the same shape as <c>trove caption generate --now --json</c>).</summary>
public sealed record CaptionJobResult(string Model, string Version, int Generated, int Skipped, IReadOnlyList<CaptionFailure> Failed);

/// <summary>
/// Caption generation as background jobs on the persistent queue (kind <c>caption</c>): the payload names the media and
/// the captioner version; the worker runs <see cref="CaptionGenerator"/>. A job keeps every caption it stored; a
/// retried attempt skips the media already captioned by that model version. Permanent provider failures (a wrong
/// key, an unknown model) fail the job at once, without retries.
/// </summary>
public static class CaptionJobs
{
    public const string Kind = "caption";

    /// <summary>Media per job: small enough that progress and retries stay fine-grained.</summary>
    public const int MediaPerJob = 500;

    /// <summary>One job at a time over all processes (inside it, requests run in parallel up to the provider's concurrency).</summary>
    public static readonly JobKind Definition = new(Kind)
    {
        Concurrency = 1,
        Timeout = TimeSpan.FromHours(6),
        MaxAttempts = 3,
        BackoffBase = TimeSpan.FromMinutes(1),
        BackoffCap = TimeSpan.FromMinutes(30),
    };

    /// <summary>Queues caption jobs for <paramref name="ids"/> with the captioner <paramref name="reference"/> (resolved now, so the version is fixed).</summary>
    public static async Task<(ResolvedCaptioner Captioner, IReadOnlyList<JobRecord> Jobs)> EnqueueAsync(TroveLibrary library, IReadOnlyList<string> ids, string? reference, bool overwrite, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(ids);
        var captioner = new CaptionGenerator(library).Resolve(reference);
        var queue = JobQueue.Of(library);
        var jobs = new List<JobRecord>();
        foreach (var chunk in ids.Distinct(StringComparer.Ordinal).Chunk(MediaPerJob))
        {
            jobs.Add(await queue.EnqueueAsync(Definition.Job(new CaptionPayload(chunk, captioner.Reference, overwrite), library.Actor), ct).ConfigureAwait(false));
        }

        return (captioner, jobs);
    }

    public static IJobHandler Handler(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var generator = new CaptionGenerator(library);
        return JobHandler.Create(Definition, async job =>
        {
            var payload = job.ReadPayload<CaptionPayload>();
            var captioner = generator.Resolve(payload.Model);
            var result = await generator.RunAsync(captioner, payload.Ids ?? [], payload.Overwrite, job.Progress, job.CancellationToken).ConfigureAwait(false);
            return new CaptionJobResult(result.Model, result.Version, result.Generated, result.Skipped, result.Failed);
        });
    }
}
