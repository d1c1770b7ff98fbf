using System.Text.Json;
using Trove.Application.Jobs;
using Trove.Domain;

namespace Trove.Application.Restoration;

/// <summary>What became of a run's result: kept, waiting to expire, in the trash, or gone.</summary>
public static class ResultStates
{
    public const string Kept = "kept";
    public const string Unkept = "unkept";
    public const string Trash = "trash";
    public const string Gone = "gone";
}

/// <summary>
/// One run of an upscaler or restorer, as the processing history shows it: who ran what on which media with which
/// parameters, when it was queued, started and finished, and the result (the derived media and what became of it) or
/// the error.
/// </summary>
public sealed record ProcessingRun(
    string Job,
    string Status,
    string By,
    string Media,
    string Model,
    IReadOnlyDictionary<string, string> Parameters,
    bool Keep,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Phase,
    long Done,
    long? Total,
    string? Result,
    bool Existing,
    int? Width,
    int? Height,
    double? Seconds,
    string? ResultState,
    DateTimeOffset? ExpiresAt,
    string? Error)
{
    /// <summary>Time spent waiting for a worker, in seconds (null until it started).</summary>
    public double? QueuedSeconds => StartedAt is { } s ? Math.Max(0, (s - CreatedAt).TotalSeconds) : null;
}

/// <summary>What the retention sweep did: the results it moved to the trash, and when the next one expires.</summary>
public sealed record RetentionReport(IReadOnlyList<string> Trashed, int Unkept, DateTimeOffset? NextExpiry);

/// <summary>
/// The processing history (the <c>restore</c> job records: docs/models.md, "Upscalers and restorers"), keeping and
/// discarding results, and the retention sweep that moves expired, unkept results to the trash (never unlinks them).
/// </summary>
public sealed class ProcessingService(TroveLibrary library)
{
    /// <summary>The actor the retention sweep acts as (it is who deleted an expired result).</summary>
    public const string RetentionActor = "retention";

    /// <summary>Newest first; <paramref name="by"/> restricts to one account's runs.</summary>
    public async Task<IReadOnlyList<ProcessingRun>> HistoryAsync(string? by, int limit, CancellationToken ct)
    {
        var jobs = await JobQueue.Of(library).Store.ListAsync(RestoreJobs.Kind, by, Math.Clamp(limit, 1, 1000), ct).ConfigureAwait(false);
        return jobs.Select(Run).ToList();
    }

    /// <summary>One run by its job id (null when there is none, or the job is not a restore).</summary>
    public async Task<ProcessingRun?> GetAsync(string job, CancellationToken ct)
    {
        var record = await JobQueue.Of(library).GetAsync(job, ct).ConfigureAwait(false);
        return record?.Kind == RestoreJobs.Kind ? Run(record) : null;
    }

    private ProcessingRun Run(JobRecord job)
    {
        var payload = JsonSerializer.Deserialize<RestorePayload>(job.Payload, JobQueue.Json);
        var result = job.Status == JobStatus.Succeeded && job.Result is { } text ? JsonSerializer.Deserialize<RestoreResult>(text, JobQueue.Json) : null;
        string? state = null;
        DateTimeOffset? expires = null;
        if (result is not null)
        {
            var stored = library.Files.TryReadSidecar(result.Result);
            state = stored switch
            {
                null => ResultStates.Gone,
                { InTrash: true } => ResultStates.Trash,
                { Sidecar.DerivedFrom: { Kept: false } d } => ResultStates.Unkept,
                _ => ResultStates.Kept,
            };
            expires = state == ResultStates.Unkept ? stored!.Sidecar.DerivedFrom!.ExpiresAt : null;
        }

        return new ProcessingRun(
            job.Id,
            job.Status,
            job.CreatedBy,
            payload?.Media ?? string.Empty,
            payload?.Model ?? string.Empty,
            payload?.Parameters ?? new Dictionary<string, string>(),
            payload?.Keep ?? false,
            job.CreatedAt,
            job.StartedAt,
            job.FinishedAt,
            job.Phase,
            job.Done,
            job.Total,
            result?.Result,
            result?.Existing ?? false,
            result?.Width,
            result?.Height,
            result?.Seconds,
            state,
            expires,
            job.Error);
    }

    /// <summary>Keeps a result: it no longer expires and is an ordinary media from now on. Answers its derivation.</summary>
    public async Task<DerivationInfo> KeepAsync(string idOrPrefix, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = session.Read(id);
        var derivation = stored.Sidecar.DerivedFrom ?? throw NotDerived(id);
        if (stored.InTrash)
        {
            throw new TroveUsageException("in-trash", $"Media {id[..12]} is in the trash (it expired or was discarded).", $"Take it out first with 'trove restore {id[..12]}', then keep it.");
        }

        if (!derivation.Kept)
        {
            derivation.Kept = true;
            derivation.ExpiresAt = null;
            await session.SaveAsync(stored.Sidecar, false, ct).ConfigureAwait(false);
            session.Audit("keep", id, $"{derivation.Model}@{derivation.Version} from {derivation.Id}");
        }

        return derivation;
    }

    /// <summary>Discards a result now: it goes to the trash (restorable like any deleted media). Answers false when it already was there.</summary>
    public async Task<bool> DiscardAsync(string idOrPrefix, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = session.Read(id);
        _ = stored.Sidecar.DerivedFrom ?? throw NotDerived(id);
        if (stored.InTrash)
        {
            return false;
        }

        stored.Sidecar.Deleted = new DeletionInfo { At = session.Now, By = library.Actor };
        await session.MoveAsync(stored.Sidecar, toTrash: true, ct).ConfigureAwait(false);
        session.Audit("discard", id);
        return true;
    }

    /// <summary>
    /// Moves every unkept result whose retention has run out to the trash (restorable until the trash is purged), and
    /// tells when the next one expires. Safe to run at any time and from several processes: it holds the write lock
    /// and reads each sidecar again under it, so a result kept meanwhile stays.
    /// </summary>
    public async Task<RetentionReport> ExpireAsync(CancellationToken ct)
    {
        var derived = await new Search.SearchService(library).AllIdsAsync("derived:yes", ct).ConfigureAwait(false);
        var now = library.Time.GetUtcNow();
        var due = new List<string>();
        DateTimeOffset? next = null;
        var unkept = 0;
        foreach (var id in derived)
        {
            if (library.Files.TryReadSidecar(id) is { InTrash: false, Sidecar.DerivedFrom: { Kept: false, ExpiresAt: { } at } })
            {
                if (at <= now)
                {
                    due.Add(id);
                }
                else
                {
                    unkept++;
                    next = next is null || at < next ? at : next;
                }
            }
        }

        var trashed = new List<string>();
        if (due.Count > 0)
        {
            await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
            foreach (var id in due)
            {
                var stored = session.TryRead(id);
                if (stored is not { InTrash: false, Sidecar.DerivedFrom: { Kept: false, ExpiresAt: { } at } } || at > session.Now)
                {
                    continue;
                }

                stored.Sidecar.Deleted = new DeletionInfo { At = session.Now, By = RetentionActor };
                await session.MoveAsync(stored.Sidecar, toTrash: true, ct).ConfigureAwait(false);
                session.Audit("expire", id, $"unkept result of {stored.Sidecar.DerivedFrom.Model}@{stored.Sidecar.DerivedFrom.Version}, expired {at:u}");
                trashed.Add(id);
            }
        }

        return new RetentionReport(trashed, unkept, next);
    }

    private static TroveUsageException NotDerived(string id) =>
        new("not-derived", $"Media {id[..12]} was not made by an upscaler or restorer; only results can be kept or discarded.", $"Delete it with 'trove delete {id[..12]}' instead.");
}
