using Microsoft.Extensions.Logging;
using Trove.Application.Jobs;
using Trove.Application.Tagging;

namespace Trove.Application.Faces;

/// <summary>A faces job's payload (JSON, camelCase): the media to scan and whether to scan them again.</summary>
public sealed record FacesPayload(IReadOnlyList<string> Ids, bool Force);

/// <summary>What a finished faces job reports.</summary>
public sealed record FacesJobResult(string Detector, string? Embedder, int Media, int Faces, int Usable, int Skipped, IReadOnlyList<TaggingFailure> Failed, FaceClusterResult? Clustering);

/// <summary>
/// Face detection as background jobs (kind <c>faces</c>, one at a time over all processes, so that clustering passes
/// never overlap): the payload names the media. Imports and uploads queue one, deferred like suggestions, when the
/// library has a face detector with <c>autoFaces</c> on. A stopped job keeps the batches it wrote; its retry skips them.
/// </summary>
public static partial class FaceJobs
{
    public const string Kind = "faces";

    public const int MediaPerJob = 500;

    public static readonly JobKind Definition = new(Kind)
    {
        Concurrency = 1,
        Timeout = TimeSpan.FromMinutes(60),
        MaxAttempts = 3,
        BackoffBase = TimeSpan.FromSeconds(30),
        BackoffCap = TimeSpan.FromMinutes(10),
    };

    public static async Task<IReadOnlyList<JobRecord>> EnqueueAsync(TroveLibrary library, IReadOnlyList<string> ids, bool force, TimeSpan delay, CancellationToken ct)
    {
        return await MediaBatchJobs.EnqueueAsync(library, Definition, ids, MediaPerJob, chunk => new FacesPayload(chunk, force), delay, ct).ConfigureAwait(false);
    }

    /// <summary>After an upload or import: queues a deferred faces job when the detector scans new media. Never fails the import.</summary>
    public static async Task<IReadOnlyList<JobRecord>> AfterImportAsync(TroveLibrary library, IReadOnlyList<string> ids, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        return await MediaBatchJobs.AfterImportAsync(
            library,
            ids,
            () => ActiveFaceModels.Of(library) is { DetectorParameters.AutoFaces: true },
            () => EnqueueAsync(library, ids, force: false, library.Options.Suggestions.AutoSuggestDelay, ct),
            AutoFacesFailed).ConfigureAwait(false);
    }

    public static IJobHandler Handler(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var runner = new FaceRunner(library);
        return JobHandler.Create(Definition, async job =>
        {
            var payload = job.ReadPayload<FacesPayload>();
            var r = await runner.RunAsync(payload.Ids ?? [], payload.Force, cluster: true, job.Progress, job.CancellationToken).ConfigureAwait(false);
            return new FacesJobResult(r.Detector, r.Embedder, r.Media, r.Faces, r.Usable, r.Skipped, r.Failed, r.Clustering);
        });
    }

    [LoggerMessage(EventId = 1701, Level = LogLevel.Warning, Message = "No faces job was queued for {Count} imported media: {Reason}")]
    private static partial void AutoFacesFailed(ILogger logger, int count, string reason, Exception ex);
}
