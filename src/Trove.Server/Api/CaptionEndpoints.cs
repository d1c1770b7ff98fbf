using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trove.Application;
using Trove.Application.Captioning;
using Trove.Application.Providers;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Domain.Models;
using Trove.Server.Auth;

namespace Trove.Server.Api;

/// <summary>POST /api/captions/generate: which media (a query) and which captioner (<c>ID</c> or <c>ID@VERSION</c>; default the one active).</summary>
public sealed record CaptionGenerateRequest(string? Query, string? Model, bool? Overwrite);

public sealed record CaptionGenerateResponse(int Media, string Model, string Version, IReadOnlyList<JobResponse> Jobs);

/// <summary>POST /api/media/{id}/captions/{captionId}/review: approve (optionally with edited text), reject, or primary.</summary>
public sealed record CaptionReviewRequest(string? Action, string? Text);

public sealed record CaptionQueueItemResponse(string Id, string Thumbnail, string Preview, int? Width, int? Height, CaptionResponse? Primary, IReadOnlyList<CaptionResponse> Captions);

public sealed record CaptionQueueResponse(long Total, int Limit, string? Next, IReadOnlyList<CaptionQueueItemResponse> Items);

/// <summary>A remote provider as admins see it: where it is and its limits; the key's variable name and whether it is set, never the key.</summary>
public sealed record ProviderResponse(
    string Name, string Kind, string Url, string Model, string? ApiKeyEnv, bool ApiKeySet, int TimeoutSeconds, int MaxConcurrency,
    int? RequestsPerMinute, int MaxAttempts, int ImageMaxSide, int ImageQuality, bool SendOriginals, string? Description)
{
    public static ProviderResponse From(ProviderDefinition p) => new(
        p.Name, p.Kind, p.Url, p.Model, p.ApiKeyEnv, p.ApiKeyEnv is { } env && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(env)),
        p.TimeoutSeconds, p.MaxConcurrency, p.RequestsPerMinute, p.MaxAttempts, p.ImageMaxSide, p.ImageQuality, p.SendOriginals, p.Description);
}

/// <summary>
/// Generated captions: queue a caption job for a query's media (moderators: it spends a provider's quota), review a
/// generated caption (members on their own uploads, moderators on any), the review queue (moderators), and the
/// providers list (admins).
/// </summary>
public static class CaptionEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var captions = api.MapGroup("/captions").WithTags("Captions");
        captions.MapPost("/generate", async (CaptionGenerateRequest request, TroveLibrary library, SearchService search, CancellationToken ct) =>
        {
            var ids = await search.AllIdsAsync(request.Query ?? string.Empty, ct).ConfigureAwait(false);
            var (captioner, jobs) = await CaptionJobs.EnqueueAsync(library, ids, request.Model, request.Overwrite ?? false, ct).ConfigureAwait(false);
            return TypedResults.Accepted(
                jobs.Count > 0 ? $"/api/jobs/{jobs[0].Id}" : "/api/jobs",
                new CaptionGenerateResponse(ids.Count, captioner.Model.Id, captioner.Version.Version, jobs.Select(JobResponse.From).ToList()));
        }).RequireAuthorization(Policies.Moderator)
            .WithSummary("Queue caption generation for a query's media with a captioner; 202 with the jobs (captions wait for review)");

        captions.MapGet("/queue", async (string? status, string? q, string? model, string? limit, string? cursor, CaptionQueries queries, CancellationToken ct) =>
        {
            var page = await queries.QueueAsync(status, q, model, MediaEndpoints.QueryInt(limit, "limit", CaptionQueries.DefaultLimit, 1, CaptionQueries.MaxLimit), cursor, ct).ConfigureAwait(false);
            return TypedResults.Ok(new CaptionQueueResponse(
                page.Total,
                page.Limit,
                page.Next,
                page.Items.Select(i => new CaptionQueueItemResponse(
                    i.MediaId,
                    MediaEndpoints.ThumbnailUrl(i.MediaId, 256),
                    MediaEndpoints.ThumbnailUrl(i.MediaId, 1024),
                    i.Width,
                    i.Height,
                    i.Primary is null ? null : CaptionResponse.From(i.Primary),
                    i.Captions.Select(CaptionResponse.From).ToList())).ToList()));
        }).RequireAuthorization(Policies.Moderator)
            .WithSummary("Media with generated captions to review (?status=pending|approved|rejected, ?q= any query, ?model=), paged by cursor");

        api.MapPost("/media/{id}/captions/{captionId:int}/review", async (HttpContext context, string id, int captionId, CaptionReviewRequest request, MediaService mediaService, CaptionService service, CancellationToken ct) =>
        {
            var action = (request.Action ?? string.Empty).Trim().ToLowerInvariant() switch
            {
                "approve" => CaptionReviewAction.Approve,
                "reject" => CaptionReviewAction.Reject,
                "primary" => CaptionReviewAction.Primary,
                _ => throw new TroveUsageException("bad-action", $"'{request.Action}' is not a caption review action.", "Send {\"action\":\"approve\"} (optionally with \"text\"), {\"action\":\"reject\"} or {\"action\":\"primary\"}."),
            };
            if (action == CaptionReviewAction.Reject && request.Text is not null)
            {
                throw new TroveUsageException("bad-action", "text goes with approve or primary, not with reject.");
            }

            var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
            return TypedResults.Ok(CaptionListResponse.From(await service.ReviewAsync(resolved, captionId, action, request.Text, ct).ConfigureAwait(false)));
        }).RequireAuthorization(Policies.Member).WithTags("Captions")
            .WithSummary("Approve (optionally with edited text), reject or make primary a generated caption");

        api.MapGet("/providers", (ProviderRegistry providers) => TypedResults.Ok(providers.List().Select(ProviderResponse.From).ToList()))
            .RequireAuthorization(Policies.Admin).WithTags("Providers")
            .WithSummary("Remote model providers (admins; the API key's variable name and whether it is set, never the key)");
    }
}
