using Trove.Application.Jobs;
using Trove.Application.Search;
using Trove.Domain;

namespace Trove.Application.Export;

/// <summary>What a finished export job reports (the file itself is downloaded separately).</summary>
public sealed record ExportJobResult(int Media, int Images, int Crops, int Masks, long Bytes, IReadOnlyList<ImportFailure> Failed);

/// <summary>
/// Exports as background jobs of a long-lived host: each job writes <c>cache/exports/&lt;job id&gt;.zip</c> in the
/// library (a cache: deleting it loses nothing but the file), which its creator (or an admin) downloads when the job
/// has succeeded.
/// </summary>
public static class ExportJobs
{
    public const string Kind = "export";

    public static string OutputPath(TroveLibrary library, string jobId)
    {
        ArgumentNullException.ThrowIfNull(library);
        return Path.Combine(library.Layout.CacheDir, "exports", jobId + ".zip");
    }

    /// <summary>
    /// Validates the options (a malformed query is refused here, before anything is queued) and queues the export;
    /// <see cref="ExportOptions.Out"/> is ignored: the job decides where its ZIP goes.
    /// </summary>
    public static async Task<JobRecord> StartAsync(TroveLibrary library, JobRunner runner, ExportService export, ExportOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(export);
        ArgumentNullException.ThrowIfNull(options);
        ExportService.Validate(options);

        // Some mistakes only show against the library (a misspelt metatag reads like a colon tag until no such tag
        // exists): run the query once, counting only, so that they are refused now rather than as a failed job.
        await new SearchService(library).SearchAsync(options.Query, 0, 0, ct).ConfigureAwait(false);
        var parameters = new
        {
            query = options.Query,
            format = options.Format,
            crops = options.Crops,
            maxSize = options.MaxSize,
            repeat = options.Repeat,
            concept = options.Concept,
            text = options.Text.ToString().ToLowerInvariant(),
            tagOrder = options.TagOrder,
            keepUnderscores = options.KeepUnderscores,
            masks = options.Masks,
        };
        return await runner.StartAsync(Kind, parameters, async job =>
        {
            var report = await export.ExportAsync(options with { Out = OutputPath(library, job.Id), Force = true }, job.Progress, job.CancellationToken).ConfigureAwait(false);
            return new ExportJobResult(report.Media, report.Images, report.Crops, report.Masks, report.Bytes, report.Failed);
        }, ct).ConfigureAwait(false);
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
