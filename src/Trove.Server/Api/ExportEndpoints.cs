using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Trove.Application;
using Trove.Application.Export;
using Trove.Application.Jobs;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Api;

/// <param name="Query">What to export (query language); "" is everything.</param>
/// <param name="Text">What goes into each .txt: auto (primary caption, else tags), caption, tags, both.</param>
public sealed record ExportRequest(
    string? Query,
    bool? Crops,
    int? MaxSize,
    bool? Masks,
    int? Repeat,
    string? Concept,
    string? Text,
    IReadOnlyList<string>? TagOrder,
    bool? KeepUnderscores);

/// <summary>
/// A background job as clients see it; <see cref="Parameters"/> and <see cref="Result"/> are the job's own JSON.
/// <see cref="Attempts"/> counts attempts started (a failed one is retried after a backoff while attempts remain:
/// <see cref="Error"/> then holds the last error and <see cref="RetryAt"/> when the next attempt may start);
/// <see cref="CancelRequested"/> is true while a running job has been asked to stop. <see cref="RunAfter"/> is when a
/// queued job may start (a delay at enqueue, e.g. the suggestion job after an upload, or the backoff before a retry);
/// <see cref="Progress"/> is the percentage done when the job knows its total; <see cref="Worker"/> names the worker
/// running it.
/// </summary>
public sealed record JobResponse(
    string Id,
    string Kind,
    string Status,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Phase,
    long Done,
    long? Total,
    JsonElement? Parameters,
    JsonElement? Result,
    string? Error,
    string? Download,
    int Priority,
    int Attempts,
    int MaxAttempts,
    DateTimeOffset? RetryAt,
    bool? CancelRequested,
    DateTimeOffset? RunAfter,
    int? Progress,
    string? Worker)
{
    public static JobResponse From(JobRecord j) => new(
        j.Id, j.Kind, j.Status, j.CreatedBy, j.CreatedAt, j.StartedAt, j.FinishedAt, j.Phase, j.Done, j.Total,
        Parse(j.Parameters), Parse(j.Result), j.Error,
        j.Kind == ExportJobs.Kind && j.Status == JobStatus.Succeeded ? $"/api/exports/{j.Id}/download" : null,
        j.Priority, j.Attempts, j.MaxAttempts,
        j.Status == JobStatus.Queued && j.Attempts > 0 ? j.AvailableAt : null,
        j.CancelRequested && !JobStatus.IsFinished(j.Status) ? true : null,
        j.Status == JobStatus.Queued ? j.AvailableAt : null,
        ProgressOf(j),
        j.Status == JobStatus.Running ? j.LeaseOwner : null);

    /// <summary>Percent done (0–100) when the job reported a total; 100 once it succeeded; otherwise unknown (null).</summary>
    public static int? ProgressOf(JobRecord j)
    {
        ArgumentNullException.ThrowIfNull(j);
        return j.Total is > 0 and var total ? (int)Math.Clamp(j.Done * 100 / total, 0, 100) : j.Status == JobStatus.Succeeded ? 100 : null;
    }

    private static JsonElement? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Exports as background jobs, and the jobs themselves (own jobs; admins all).</summary>
public static class ExportEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/exports", StartExportAsync)
            .RequireAuthorization(Policies.Member)
            .WithTags("Exports")
            .WithSummary("Start exporting a query as a kohya dataset ZIP: 202 with the job (Location: /api/jobs/{id})");
        api.MapGet("/exports/{jobId}/download", async (HttpContext context, string jobId, TroveLibrary library, CancellationToken ct) =>
        {
            var job = await new JobBoard(library).GetAsync(context.Principal(), jobId, ct).ConfigureAwait(false);
            var path = ExportJobs.DownloadPath(library, job);
            return TypedResults.PhysicalFile(path, "application/zip", fileDownloadName: $"trove-export-{job.Id}.zip", enableRangeProcessing: true);
        })
            .WithTags("Exports")
            .Produces<Stream>(StatusCodes.Status200OK, "application/zip")
            .WithSummary("The ZIP of a succeeded export (409 while it runs)");

        var jobs = api.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapGet("/", async (HttpContext context, string? kind, string? limit, TroveLibrary library, CancellationToken ct) =>
        {
            var n = MediaEndpoints.QueryInt(limit, "limit", 50, 1, JobBoard.MaxLimit);
            var list = await new JobBoard(library).ListAsync(context.Principal(), kind, n, ct).ConfigureAwait(false);
            return TypedResults.Ok(list.Select(JobResponse.From).ToList());
        }).WithSummary("Your jobs, newest first (admins: everyone's); ?kind=export&limit=50");
        jobs.MapGet("/{id}", async (HttpContext context, string id, TroveLibrary library, CancellationToken ct) =>
            TypedResults.Ok(JobResponse.From(await new JobBoard(library).GetAsync(context.Principal(), id, ct).ConfigureAwait(false))))
            .WithSummary("One job: status, progress, result or error (yours, or any for admins)");
        jobs.MapPost("/{id}/cancel", async (HttpContext context, string id, TroveLibrary library, CancellationToken ct) =>
            TypedResults.Accepted($"/api/jobs/{id}", JobResponse.From(await new JobBoard(library).CancelAsync(context.Principal(), id, ct).ConfigureAwait(false))))
            .RequireAuthorization(Policies.Member)
            .WithSummary("Cancel a queued job, or ask a running one to stop (cancelRequested: true until its worker stops it); 409 when it has finished");
    }

    private static async Task<Accepted<JobResponse>> StartExportAsync(ExportRequest? request, TroveLibrary library, CancellationToken ct)
    {
        var text = ExportText.Auto;
        if (request?.Text is { Length: > 0 } t && (!Enum.TryParse(t.Trim(), ignoreCase: true, out text) || !Enum.IsDefined(text)))
        {
            throw new TroveUsageException("bad-text", $"Export text '{t}' is not known; use auto, caption, tags, both or pending.");
        }

        var options = new ExportOptions(
            Query: request?.Query ?? string.Empty,
            Out: string.Empty,
            Crops: request?.Crops ?? false,
            MaxSize: request?.MaxSize,
            Repeat: request?.Repeat,
            Concept: string.IsNullOrWhiteSpace(request?.Concept) ? "images" : request.Concept,
            Text: text,
            TagOrder: request?.TagOrder,
            KeepUnderscores: request?.KeepUnderscores ?? false,
            Masks: request?.Masks ?? false);
        var job = await ExportJobs.StartAsync(library, options, ct).ConfigureAwait(false);
        return TypedResults.Accepted($"/api/jobs/{job.Id}", JobResponse.From(job));
    }
}
