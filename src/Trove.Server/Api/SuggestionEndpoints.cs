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

/// <summary>
/// A media's suggestions (only those of <c>?status=</c> when given); <see cref="Pending"/>, <see cref="Approved"/>,
/// <see cref="Rejected"/> and <see cref="Total"/> count all of the media's suggestions, whatever the filter.
/// </summary>
public sealed record SuggestionListResponse(string Id, int Pending, int Approved, int Rejected, int Total, IReadOnlyList<SuggestionResponse> Suggestions)
{
    public static SuggestionListResponse From(SuggestionList list) =>
        new(list.Id, list.Pending, list.Approved, list.Rejected, list.Total, list.Suggestions.Select(SuggestionResponse.From).ToList());
}

/// <summary>One decision in the item form of a review: the suggestion's tag (suggestions are unique per media and tag) and approve or reject.</summary>
public sealed record ReviewItemRequest(string? Tag, string? Action);

/// <summary>
/// A batch of decisions on one media: tag lists (<see cref="Approve"/>, <see cref="Reject"/>), or items
/// (<see cref="Suggestions"/>: <c>[{"tag":"cat","action":"approve"}]</c>), or both.
/// </summary>
public sealed record ReviewRequest(IReadOnlyList<string>? Approve, IReadOnlyList<string>? Reject, IReadOnlyList<ReviewItemRequest>? Suggestions = null);

public sealed record ReviewItemResponse(string Tag, string Action, bool Ok, string? Code, string? Message);

/// <param name="Errors">One line per failed item (<c>tag: message</c>), the same failures as the items with <c>ok: false</c>.</param>
public sealed record ReviewResponse(string Id, int Approved, int Rejected, int Failed, IReadOnlyList<ReviewItemResponse> Items, IReadOnlyList<string> Errors, IReadOnlyList<string> TagsAdded, IReadOnlyList<string> AlsoApproved, IReadOnlyList<string> Tags)
{
    public static ReviewResponse From(ReviewResult r, IReadOnlyList<ReviewItemResponse>? refused = null)
    {
        var items = r.Items.Select(i => new ReviewItemResponse(i.Tag, i.Action, i.Ok, i.Code, i.Message)).Concat(refused ?? []).ToList();
        var errors = items.Where(i => !i.Ok).Select(i => $"{i.Tag}: {i.Message ?? i.Code}").ToList();
        return new(r.Id, r.Approved, r.Rejected, items.Count(i => !i.Ok), items, errors, r.TagsAdded, r.AlsoApproved, r.Tags);
    }
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
            return TypedResults.Ok(SuggestionListResponse.From(list));
        }).WithSummary("A media's tag suggestions (?status=pending|approved|rejected), best confidence first");

        media.MapPost("/review", async (HttpContext context, string id, ReviewRequest request, MediaService mediaService, SuggestionService suggestions, CancellationToken ct) =>
        {
            var (approve, reject, refused) = Decisions(request);
            if (approve.Count + reject.Count + refused.Count == 0)
            {
                throw new TroveUsageException("nothing-to-review", "The request names no suggestion to approve or reject.", "Send e.g. {\"approve\":[\"cat\"],\"reject\":[\"dog\"]} or {\"suggestions\":[{\"tag\":\"cat\",\"action\":\"approve\"}]}.");
            }

            var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
            var result = await suggestions.ReviewAsync(resolved, approve, reject, ct).ConfigureAwait(false);
            return TypedResults.Ok(ReviewResponse.From(result, refused));
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

    /// <summary>
    /// The tags to approve and to reject, from the lists and the items together (in that order), and the items refused
    /// before the review (no tag, or an action that is neither approve nor reject).
    /// </summary>
    private static (List<string> Approve, List<string> Reject, List<ReviewItemResponse> Refused) Decisions(ReviewRequest request)
    {
        var approve = new List<string>(request.Approve ?? []);
        var reject = new List<string>(request.Reject ?? []);
        var refused = new List<ReviewItemResponse>();
        foreach (var item in request.Suggestions ?? [])
        {
            var tag = item?.Tag ?? string.Empty;
            var action = item?.Action?.Trim().ToLowerInvariant() ?? string.Empty;
            if (tag.Trim().Length == 0)
            {
                refused.Add(new ReviewItemResponse(tag, action, false, "invalid-tag", "The item names no tag; send {\"tag\":\"cat\",\"action\":\"approve\"}."));
            }
            else if (action == ReviewActions.Approve)
            {
                approve.Add(tag);
            }
            else if (action == ReviewActions.Reject)
            {
                reject.Add(tag);
            }
            else
            {
                var shown = item?.Action is { } a ? (a.Length > 20 ? a[..20] + "…" : a) : "(none)";
                refused.Add(new ReviewItemResponse(tag, action, false, "invalid-action", $"Action '{shown}' for '{tag}' is neither approve nor reject."));
            }
        }

        return (approve, reject, refused);
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
