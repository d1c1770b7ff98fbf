using Trove.Application.Jobs;
using Trove.Application.Search;
using Trove.Domain;

namespace Trove.Application.Export;

/// <summary>What a finished export job reports (the file itself is downloaded separately).</summary>
public sealed record ExportJobResult(int Media, int Images, int Crops, int Masks, long Bytes, IReadOnlyList<ImportFailure> Failed);

/// <summary>
/// Exports as background jobs on the persistent queue (kind <c>export</c>, one at a time over all processes): each job
/// writes <c>cache/exports/&lt;job id&gt;.zip</c> in the library (a cache: deleting it loses nothing but the file), which
/// its creator (or an admin) downloads when the job has succeeded. The payload is the export's options; any worker
/// (<c>trove serve</c> or <c>trove worker</c>) runs it.
/// </summary>
public static class ExportJobs
{
    public const string Kind = "export";

    /// <summary>One export at a time (they read the whole library and write big files); a failed attempt (disk full…) is retried.</summary>
    public static readonly JobKind Definition = new(Kind)
    {
        Concurrency = 1,
        Timeout = TimeSpan.FromHours(6),
        MaxAttempts = 3,
        BackoffBase = TimeSpan.FromSeconds(30),
        BackoffCap = TimeSpan.FromMinutes(10),
    };

    public static string OutputPath(TroveLibrary library, string jobId)
    {
        ArgumentNullException.ThrowIfNull(library);
        return Path.Combine(library.Layout.CacheDir, "exports", jobId + ".zip");
    }

    /// <summary>
    /// Validates the options (a malformed query is refused here, before anything is queued) and queues the export for
    /// the current actor; <see cref="ExportOptions.Out"/> is ignored: the job decides where its ZIP goes.
    /// </summary>
    public static async Task<JobRecord> StartAsync(TroveLibrary library, ExportOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(options);
        ExportService.Validate(options);

        // Some mistakes only show against the library (a misspelt metatag reads like a colon tag until no such tag
        // exists): run the query once, counting only, so that they are refused now rather than as a failed job.
        await new SearchService(library).SearchAsync(options.Query, 0, 0, ct).ConfigureAwait(false);
        return await JobQueue.Of(library).EnqueueAsync(Definition.Job(ExportPayload.From(options), library.Actor), ct).ConfigureAwait(false);
    }

    /// <summary>Runs queued exports: the payload back to options, the ZIP to <see cref="OutputPath"/>.</summary>
    public static IJobHandler Handler(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var export = new ExportService(library);
        return JobHandler.Create(Definition, async job =>
        {
            var options = job.ReadPayload<ExportPayload>().ToOptions(job.Id, OutputPath(library, job.Id));
            var report = await export.ExportAsync(options, job.Progress, job.CancellationToken).ConfigureAwait(false);
            return new ExportJobResult(report.Media, report.Images, report.Crops, report.Masks, report.Bytes, report.Failed);
        });
    }

    /// <summary>
    /// The ZIP of a succeeded export job. While the job waits or runs: <c>conflict</c>; failed, cancelled, not an
    /// export, or the file since removed: <c>export-not-found</c>.
    /// </summary>
    public static string DownloadPath(TroveLibrary library, JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Kind != Kind)
        {
            throw new TroveException("export-not-found", $"Job {job.Id} is a {job.Kind} job, not an export.");
        }

        if (!JobStatus.IsFinished(job.Status))
        {
            throw new TroveException("conflict", $"Export {job.Id} is still {job.Status} ({job.Done} of {job.Total?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}).", $"Poll GET /api/jobs/{job.Id} until its status is 'succeeded', then download.");
        }

        if (job.Status != JobStatus.Succeeded)
        {
            throw new TroveException("export-not-found", $"Export {job.Id} {job.Status}, so there is nothing to download{(job.Error is null ? "." : ": " + job.Error)}", "Start the export again.");
        }

        var path = OutputPath(library, job.Id);
        return File.Exists(path)
            ? path
            : throw new TroveException("export-not-found", $"The file of export {job.Id} is gone (the export cache was cleared).", "Start the export again.");
    }
}

/// <summary>An export job's payload (JSON, camelCase): the options that matter once the job decides where its ZIP goes.</summary>
internal sealed record ExportPayload(
    string Query,
    string Format,
    bool Crops,
    int? MaxSize,
    int? Repeat,
    string Concept,
    string Text,
    IReadOnlyList<string>? TagOrder,
    bool KeepUnderscores,
    bool Masks)
{
    public static ExportPayload From(ExportOptions o) =>
        new(o.Query, o.Format, o.Crops, o.MaxSize, o.Repeat, o.Concept, o.Text.ToString().ToLowerInvariant(), o.TagOrder, o.KeepUnderscores, o.Masks);

    public ExportOptions ToOptions(string jobId, string output) =>
        !Enum.TryParse<ExportText>(Text, ignoreCase: true, out var text) || !Enum.IsDefined(text)
            ? throw new TroveUsageException("bad-job-payload", $"Export job {jobId} asks for text '{Text}', which is not auto, caption, tags or both.", "Start the export again.")
            : new ExportOptions(Query ?? string.Empty, output, Format ?? "kohya", Crops, MaxSize, Repeat, Concept ?? "images", text, TagOrder, KeepUnderscores, Masks, Force: true);
}
