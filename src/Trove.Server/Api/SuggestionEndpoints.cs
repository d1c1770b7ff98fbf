using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trove.Application;
using Trove.Application.Ports;
using Trove.Application.Tagging;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Api;

/// <summary>One suggestion as the API shows it. <see cref="ResolvedFrom"/> and <see cref="ImpliedBy"/> mark alias resolution and hierarchy.</summary>
public sealed record SuggestionResponse(
    string Tag,
    double Confidence,
    string? Model,
    string? Version,
    string Status,
    string? Category,
    string? External,
    string? ResolvedFrom,
    string? ImpliedBy,
    DateTimeOffset CreatedAt,
    string? Reviewer,
    DateTimeOffset? ReviewedAt)
{
    public static SuggestionResponse From(TagSuggestion s) =>
        new(s.Tag, s.Confidence, s.Model, s.ModelVersion, s.Status, s.Category, s.External, s.ResolvedFrom, s.ImpliedBy, s.CreatedAt, s.ReviewedBy, s.ReviewedAt);
}

public sealed record SuggestionListResponse(string Id, int Pending, IReadOnlyList<SuggestionResponse> Suggestions);

public sealed record ReviewRequest(IReadOnlyList<string>? Approve, IReadOnlyList<string>? Reject);

public sealed record ReviewItemResponse(string Tag, string Action, bool Ok, string? Code, string? Message);

public sealed record ReviewResponse(string Id, int Approved, int Rejected, int Failed, IReadOnlyList<ReviewItemResponse> Items, IReadOnlyList<string> TagsAdded, IReadOnlyList<string> AlsoApproved, IReadOnlyList<string> Tags)
{
    public static ReviewResponse From(ReviewResult r) => new(
        r.Id, r.Approved, r.Rejected, r.Failed, r.Items.Select(i => new ReviewItemResponse(i.Tag, i.Action, i.Ok, i.Code, i.Message)).ToList(), r.TagsAdded, r.AlsoApproved, r.Tags);
}

public sealed record QueueSuggestionResponse(string Tag, double Confidence, string? Model, string? Version);

public sealed record QueueItemResponse(string Id, string Thumbnail, double BestConfidence, long Pending, IReadOnlyList<QueueSuggestionResponse> Suggestions);

public sealed record QueueResponse(long Total, long Suggestions, int Limit, string? Next, IReadOnlyList<QueueItemResponse> Items)
{
    public static QueueResponse From(ReviewQueuePage page) => new(
        page.TotalMedia,
        page.TotalSuggestions,
        page.Limit,
        page.Next,
        page.Items.Select(m => new QueueItemResponse(
            m.MediaId,
            MediaEndpoints.ThumbnailUrl(m.MediaId, 256),
            m.BestConfidence,
            m.PendingTotal,
            m.Suggestions.Select(s => new QueueSuggestionResponse(s.Tag, s.Confidence, s.Model, s.ModelVersion)).ToList())).ToList());
}

public sealed record CountsResponse(long Pending, long Approved, long Rejected, long Total, double? ApprovalRate)
{
    public static CountsResponse From(SuggestionCounts c) => new(c.Pending, c.Approved, c.Rejected, c.Total, c.ApprovalRate);
}

public sealed record ModelStatsResponse(string? Model, string? Version, CountsResponse Counts);

public sealed record TagStatsResponse(string Tag, CountsResponse Counts);

public sealed record StatsResponse(CountsResponse Totals, IReadOnlyList<ModelStatsResponse> ByModel, IReadOnlyList<TagStatsResponse> TopSuggested, IReadOnlyList<TagStatsResponse> TopRejected)
{
    public static StatsResponse From(SuggestionStats s) => new(
        CountsResponse.From(s.Totals),
        s.ByModel.Select(m => new ModelStatsResponse(m.Model, m.ModelVersion, CountsResponse.From(m.Counts))).ToList(),
        s.TopSuggested.Select(t => new TagStatsResponse(t.Tag, CountsResponse.From(t.Counts))).ToList(),
        s.TopRejected.Select(t => new TagStatsResponse(t.Tag, CountsResponse.From(t.Counts))).ToList());
}

/// <summary>
/// Model tag suggestions and their review: a media's suggestions (readers), approve/reject (members on their own uploads,
/// moderators on any), and for moderators the library-wide review queue and statistics.
/// </summary>
public static class SuggestionEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var media = api.MapGroup("/media/{id}/tag-suggestions").WithTags("Suggestions");
        media.MapGet("/", async (string id, string? status, SuggestionService suggestions, CancellationToken ct) =>
        {
            var list = await suggestions.ListAsync(id, status, ct).ConfigureAwait(false);
            return TypedResults.Ok(new SuggestionListResponse(list.Id, list.Pending, list.Suggestions.Select(SuggestionResponse.From).ToList()));
        }).WithSummary("A media's tag suggestions (?status=pending|approved|rejected), best confidence first");

        media.MapPost("/review", async (HttpContext context, string id, ReviewRequest request, MediaService mediaService, SuggestionService suggestions, CancellationToken ct) =>
        {
            var approve = request.Approve ?? [];
            var reject = request.Reject ?? [];
            if (approve.Count + reject.Count == 0)
            {
                throw new TroveUsageException("nothing-to-review", "The request names no suggestion to approve or reject.", "Send e.g. {\"approve\":[\"cat\"],\"reject\":[\"dog\"]}.");
            }

            var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
            var result = await suggestions.ReviewAsync(resolved, approve, reject, ct).ConfigureAwait(false);
            return TypedResults.Ok(ReviewResponse.From(result));
        }).RequireAuthorization(Policies.Member)
            .WithSummary("Approve and/or reject pending suggestions in one write; 200 with a result per tag (ok, or an error code)");

        var library = api.MapGroup("/tag-suggestions").WithTags("Suggestions").RequireAuthorization(Policies.Moderator);
        library.MapGet("/queue", async (string? model, string? tag, string? minConfidence, string? maxConfidence, string? limit, string? cursor, SuggestionQueries queries, CancellationToken ct) =>
        {
            var request = new ReviewQueueRequest(
                model,
                tag,
                QueryConfidence(minConfidence, nameof(minConfidence)),
                QueryConfidence(maxConfidence, nameof(maxConfidence)),
                MediaEndpoints.QueryInt(limit, "limit", SuggestionQueries.DefaultQueueLimit, 1, SuggestionQueries.MaxQueueLimit),
                cursor);
            return TypedResults.Ok(QueueResponse.From(await queries.QueueAsync(request, ct).ConfigureAwait(false)));
        }).WithSummary("The review queue: library media with pending suggestions (filter by model[@version], tag, confidence), best confidence first, paged by cursor");

        library.MapGet("/stats", async (string? top, SuggestionQueries queries, CancellationToken ct) =>
        {
            var topTags = MediaEndpoints.QueryInt(top, "top", SuggestionQueries.DefaultTopTags, 1, SuggestionQueries.MaxTopTags);
            return TypedResults.Ok(StatsResponse.From(await queries.StatsAsync(topTags, ct).ConfigureAwait(false)));
        }).WithSummary("Suggestion statistics: totals by status, approval rate, by model and version, top suggested and top rejected tags");
    }

    private static double? QueryConfidence(string? raw, string name)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value) || value < 0 || value > 1)
        {
            throw new TroveUsageException("bad-confidence", $"'{name}' must be a number from 0 to 1; got '{(raw.Length > 20 ? raw[..20] + "…" : raw)}'.");
        }

        return value;
    }
}
