using Microsoft.Extensions.Logging;
using Trove.Application.Jobs;
using Trove.Application.Tagging;
using Trove.Domain;

namespace Trove.Application.Embeddings;

/// <summary>An embed job's payload (JSON, camelCase): the media to embed and whether to embed them again.</summary>
public sealed record EmbedPayload(IReadOnlyList<string> Ids, bool Force);

/// <summary>What a finished embed job reports.</summary>
public sealed record EmbedJobResult(string Model, int Embedded, int Skipped, IReadOnlyList<TaggingFailure> Failed)
{
    /// <summary>Zero-shot tag suggestions stored.</summary>
    public int Suggested { get; init; }
}

/// <summary>
/// Embeddings as background jobs (kind <c>embed</c>, one at a time over all processes): the payload names the media.
/// Imports and uploads queue one, deferred like suggestions (<see cref="SuggestionSettings.AutoSuggestDelay"/>), when
/// the library has an embedder with <c>autoEmbed</c> on. A job that is stopped keeps the batches it stored; its retry
/// skips them.
/// </summary>
public static partial class EmbedJobs
{
    public const string Kind = "embed";

    public const int MediaPerJob = 500;

    public static readonly JobKind Definition = new(Kind)
    {
        Concurrency = 1,
        Timeout = TimeSpan.FromMinutes(30),
        MaxAttempts = 3,
        BackoffBase = TimeSpan.FromSeconds(30),
        BackoffCap = TimeSpan.FromMinutes(10),
    };

    public static async Task<IReadOnlyList<JobRecord>> EnqueueAsync(TroveLibrary library, IReadOnlyList<string> ids, bool force, TimeSpan delay, CancellationToken ct)
    {
        return await MediaBatchJobs.EnqueueAsync(library, Definition, ids, MediaPerJob, chunk => new EmbedPayload(chunk, force), delay, ct).ConfigureAwait(false);
    }

    /// <summary>After an upload or import: queues a deferred embed job when the embedder embeds new media. Never fails the import.</summary>
    public static async Task<IReadOnlyList<JobRecord>> AfterImportAsync(TroveLibrary library, IReadOnlyList<string> ids, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        return await MediaBatchJobs.AfterImportAsync(
            library,
            ids,
            () => ActiveEmbedder.Of(library) is { Parameters.AutoEmbed: true },
            () => EnqueueAsync(library, ids, force: false, library.Options.Suggestions.AutoSuggestDelay, ct),
            AutoEmbedFailed).ConfigureAwait(false);
    }

    public static IJobHandler Handler(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var runner = new EmbedRunner(library);
        return JobHandler.Create(Definition, async job =>
        {
            var payload = job.ReadPayload<EmbedPayload>();
            var result = await runner.RunAsync(payload.Ids ?? [], payload.Force, job.Progress, job.CancellationToken).ConfigureAwait(false);
            return new EmbedJobResult(result.Model, result.Embedded, result.Skipped, result.Failed) { Suggested = result.Suggested };
        });
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "No embed job was queued for {Count} imported media: {Reason}")]
    private static partial void AutoEmbedFailed(ILogger logger, int count, string reason, Exception ex);
}
