using Microsoft.Extensions.Logging;

namespace Trove.Application.Jobs;

/// <summary>
/// What the jobs that work through a list of media (suggest, embed, faces) share: the ids split into jobs of a fixed
/// size, queued with a delay; and the guarded "after an import" step that queues them only when the feature is on and
/// never fails the import (a problem — unreadable models.json, the state database busy — is logged, nothing queued).
/// </summary>
public static class MediaBatchJobs
{
    /// <summary>Queues one job of <paramref name="kind"/> per <paramref name="perJob"/> distinct ids, each with the payload <paramref name="payload"/> makes.</summary>
    public static async Task<IReadOnlyList<JobRecord>> EnqueueAsync(TroveLibrary library, JobKind kind, IReadOnlyList<string> ids, int perJob, Func<string[], object> payload, TimeSpan delay, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(payload);
        var queue = JobQueue.Of(library);
        var jobs = new List<JobRecord>();
        foreach (var chunk in ids.Distinct(StringComparer.Ordinal).Chunk(Math.Max(1, perJob)))
        {
            jobs.Add(await queue.EnqueueAsync(kind.Job(payload(chunk), library.Actor) with { Delay = delay }, ct).ConfigureAwait(false));
        }

        return jobs;
    }

    /// <summary>
    /// After an upload or import: when <paramref name="enabled"/> says the feature applies, runs <paramref name="enqueue"/>
    /// for the media; any failure but cancellation goes to <paramref name="failed"/> (count, reason, exception) and queues nothing.
    /// </summary>
    public static async Task<IReadOnlyList<JobRecord>> AfterImportAsync(
        TroveLibrary library,
        IReadOnlyList<string> ids,
        Func<bool> enabled,
        Func<Task<IReadOnlyList<JobRecord>>> enqueue,
        Action<ILogger, int, string, Exception> failed)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(enabled);
        ArgumentNullException.ThrowIfNull(enqueue);
        ArgumentNullException.ThrowIfNull(failed);
        if (ids.Count == 0)
        {
            return [];
        }

        try
        {
            return enabled() ? await enqueue().ConfigureAwait(false) : [];
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            failed(library.Logger, ids.Count, ex.Message, ex);
            return [];
        }
    }
}
