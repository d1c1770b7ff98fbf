using Microsoft.Extensions.Logging;
using Trove.Application.Jobs;
using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>A suggestion job's payload (JSON, camelCase): the media to tag and whether to force.</summary>
public sealed record SuggestPayload(IReadOnlyList<string> Ids, bool Force);

/// <summary>
/// What a finished suggestion job reports (its result JSON, camelCase): the media and suggestions, what became of the
/// taggers' labels (the <see cref="LabelOutcomes"/> summed over the taggers, and <see cref="ByModel"/> per tagger),
/// <see cref="Summary"/> in words and, when a tagger suggested nothing, a <see cref="Hint"/> with the fix.
/// </summary>
public sealed record SuggestJobResult(IReadOnlyList<string> Models, int Media, int Added, int Updated, int Skipped, IReadOnlyList<TaggingFailure> Failed) : LabelOutcomes
{
    public IReadOnlyList<TaggerSummary> ByModel { get; init; } = [];

    /// <summary>Each tagger's counts in one line (<see cref="TaggerSummary.Describe"/>).</summary>
    public string? Summary { get; init; }

    public string? Hint { get; init; }
}

/// <summary>
/// Tag suggestions as background jobs on the persistent queue (kind <c>suggest</c>, one at a time over all processes):
/// the payload names the media; the worker runs the active taggers over them (<see cref="TaggerRunner"/>). Uploads and
/// imports queue one, deferred by <see cref="SuggestionSettings.AutoSuggestDelay"/>, when an active tagger has
/// <c>autoSuggest</c> on.
/// </summary>
public static partial class SuggestionJobs
{
    public const string Kind = "suggest";

    /// <summary>One at a time (a tagger keeps the cores busy); a failed attempt (model file being replaced…) is retried.</summary>
    public static readonly JobKind Definition = new(Kind)
    {
        Concurrency = 1,
        Timeout = TimeSpan.FromMinutes(30),
        MaxAttempts = 3,
        BackoffBase = TimeSpan.FromSeconds(30),
        BackoffCap = TimeSpan.FromMinutes(10),
    };

    /// <summary>Queues suggestions for <paramref name="ids"/> (split into jobs of <see cref="SuggestionSettings.MediaPerJob"/> media).</summary>
    public static async Task<IReadOnlyList<JobRecord>> EnqueueAsync(TroveLibrary library, IReadOnlyList<string> ids, bool force, TimeSpan delay, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        if (delay < TimeSpan.Zero)
        {
            throw new TroveUsageException("bad-delay", "A suggestion job cannot be queued with a negative delay.");
        }

        return await MediaBatchJobs.EnqueueAsync(library, Definition, ids, library.Options.Suggestions.MediaPerJob, chunk => new SuggestPayload(chunk, force), delay, ct).ConfigureAwait(false);
    }

    /// <summary>Whether new media get suggestions: the setting is on and an active tagger has <c>autoSuggest</c> on.</summary>
    public static bool AutoSuggestEnabled(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        return library.Options.Suggestions.AutoSuggest && TaggerRunner.AllActiveTaggers(library).Any(t => t.Parameters.AutoSuggest);
    }

    /// <summary>
    /// After an upload or import: queues a deferred suggestion job for the media when auto-suggest applies. Never
    /// fails the import — a problem (unreadable models.json, the state database busy) is logged and nothing is queued.
    /// </summary>
    public static async Task<IReadOnlyList<JobRecord>> AfterImportAsync(TroveLibrary library, IReadOnlyList<string> ids, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        return await MediaBatchJobs.AfterImportAsync(
            library,
            ids,
            () => AutoSuggestEnabled(library),
            () => EnqueueAsync(library, ids, force: false, library.Options.Suggestions.AutoSuggestDelay, ct),
            AutoSuggestFailed).ConfigureAwait(false);
    }

    /// <summary>Runs queued suggestion jobs; the runner (and its loaded models) lives as long as the handler.</summary>
    public static IJobHandler Handler(TroveLibrary library, TaggerRunner? runner = null)
    {
        ArgumentNullException.ThrowIfNull(library);
        runner ??= new TaggerRunner(library);
        return JobHandler.Create(Definition, async job =>
        {
            var payload = job.ReadPayload<SuggestPayload>();
            var result = await runner.RunAsync(payload.Ids ?? [], payload.Force, job.Progress, job.CancellationToken).ConfigureAwait(false);
            return ToJobResult(result);
        });
    }

    public static SuggestJobResult ToJobResult(TaggerRunResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var summary = result.Summary;
        return new SuggestJobResult(result.Models, result.Media.Count, result.Added, result.Updated, result.Skipped, result.Failed)
        {
            AboveThreshold = summary.AboveThreshold,
            Suggested = summary.Suggested,
            Refreshed = summary.Refreshed,
            Implied = summary.Implied,
            DroppedByVocabulary = summary.DroppedByVocabulary,
            IgnoredByMapping = summary.IgnoredByMapping,
            InvalidName = summary.InvalidName,
            AlreadyProposed = summary.AlreadyProposed,
            AlreadyOnMedia = summary.AlreadyOnMedia,
            AlreadyPending = summary.AlreadyPending,
            RejectedBefore = summary.RejectedBefore,
            RemovedBefore = summary.RemovedBefore,
            ByModel = summary.ByModel,
            Summary = summary.Text,
            Hint = summary.Hint,
        };
    }

    [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "No suggestion job was queued for {Count} imported media: {Reason}")]
    private static partial void AutoSuggestFailed(ILogger logger, int count, string reason, Exception ex);
}
