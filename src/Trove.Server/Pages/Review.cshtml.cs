using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Trove.Application.Tagging;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

/// <summary>
/// The moderators' review queue, built for speed: media with pending model suggestions (best confidence first), one card
/// each with a large thumbnail and its pending tags. Keyboard (review.js): a approves the checked tags and rejects the
/// others, x rejects all shown, j/k move between cards, 1–9 toggle a tag. After a decision the list is re-rendered
/// (htmx selects <c>#review-cards</c> from the answer), so the decided card disappears and the next one takes its place.
/// Filters (model[@version], tag, minimum and maximum confidence) live in the query string.
/// </summary>
[Authorize(Policy = Policies.Moderator)]
public sealed class ReviewModel(SuggestionQueries queries, SuggestionService suggestions) : ManagePageModel
{
    public const int PageSize = 20;

    [BindProperty(SupportsGet = true, Name = "model")]
    public string? ModelFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Tag { get; set; }

    [BindProperty(SupportsGet = true)]
    public double? Min { get; set; }

    [BindProperty(SupportsGet = true)]
    public double? Max { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Cursor { get; set; }

    public ReviewQueuePage? Queue { get; private set; }

    /// <summary>The query string of the current filters (for the handlers' URLs and links).</summary>
    public string FilterQuery
    {
        get
        {
            var parts = new List<string>();
            if (!string.IsNullOrWhiteSpace(ModelFilter))
            {
                parts.Add("model=" + Uri.EscapeDataString(ModelFilter));
            }

            if (!string.IsNullOrWhiteSpace(Tag))
            {
                parts.Add("tag=" + Uri.EscapeDataString(Tag));
            }

            if (Min is { } min)
            {
                parts.Add("min=" + min.ToString(CultureInfo.InvariantCulture));
            }

            if (Max is { } max)
            {
                parts.Add("max=" + max.ToString(CultureInfo.InvariantCulture));
            }

            return string.Join('&', parts);
        }
    }

    public string HandlerUrl(string handler) => "/review?handler=" + handler + (FilterQuery.Length > 0 ? "&" + FilterQuery : string.Empty);

    public Task<IActionResult> OnGetAsync() => PageAsync();

    /// <summary>Approves the tags checked on one card (<c>approve</c>; not <c>tag</c>, which is the filter) and rejects its other shown tags (<c>decision=reject</c>: rejects all of them).</summary>
    public async Task<IActionResult> OnPostDecideAsync(string id, string[]? shown, string[]? approve, string? decision)
    {
        var all = (shown ?? []).Distinct(StringComparer.Ordinal).ToList();
        var chosen = (approve ?? []).Where(all.Contains).Distinct(StringComparer.Ordinal).ToList();
        var rejectAll = string.Equals(decision, ReviewActions.Reject, StringComparison.Ordinal);
        var approving = rejectAll ? [] : chosen;
        var rejecting = rejectAll ? all : all.Except(chosen, StringComparer.Ordinal).ToList();
        await ChangeAsync(true, "review suggestions", async ct =>
        {
            if (approving.Count + rejecting.Count == 0)
            {
                throw new TroveUsageException("nothing-to-review", "This card names no suggestion to approve or reject.");
            }

            var result = await suggestions.ReviewAsync(id, approving, rejecting, ct).ConfigureAwait(false);
            return Describe(result);
        }).ConfigureAwait(false);
        return await AnswerAsync().ConfigureAwait(false);
    }

    /// <summary>Approves, on every card shown, the pending suggestions at or above <paramref name="threshold"/>.</summary>
    public async Task<IActionResult> OnPostApproveAboveAsync(string[]? ids, double threshold)
    {
        await ChangeAsync(true, "review suggestions", async ct =>
        {
            if (double.IsNaN(threshold) || threshold is < 0 or > 1)
            {
                throw new TroveUsageException("bad-confidence", "The threshold must be from 0 to 1.");
            }

            int approved = 0, media = 0;
            foreach (var id in (ids ?? []).Distinct(StringComparer.Ordinal))
            {
                var list = await suggestions.ListAsync(id, SuggestionStatus.Pending, ct).ConfigureAwait(false);
                var tags = list.Suggestions.Where(s => s.Confidence >= threshold).Select(s => s.Tag).ToList();
                if (tags.Count == 0)
                {
                    continue;
                }

                var result = await suggestions.ReviewAsync(list.Id, tags, [], ct).ConfigureAwait(false);
                approved += result.Approved;
                media++;
            }

            return $"Approved {approved} suggestion{(approved == 1 ? "" : "s")} ≥ {threshold.ToString("0.00", CultureInfo.InvariantCulture)} on {media} image{(media == 1 ? "" : "s")}.";
        }).ConfigureAwait(false);
        return await AnswerAsync().ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        Queue = await queries.QueueAsync(new ReviewQueueRequest(ModelFilter, Tag, Min, Max, PageSize, Cursor), ct).ConfigureAwait(false);
    }

    public static string Percent(double confidence) => (Math.Clamp(confidence, 0, 1) * 100).ToString("0", CultureInfo.InvariantCulture);

    public static string Confidence(double confidence) => confidence.ToString("0.00", CultureInfo.InvariantCulture);

    internal static string Describe(ReviewResult result)
    {
        var parts = new List<string>();
        if (result.Approved > 0)
        {
            parts.Add($"approved {result.Approved}");
        }

        if (result.Rejected > 0)
        {
            parts.Add($"rejected {result.Rejected}");
        }

        if (result.AlsoApproved.Count > 0)
        {
            parts.Add("also approved (implied) " + string.Join(", ", result.AlsoApproved));
        }

        var failed = result.Items.Where(i => !i.Ok).Select(i => i.Message ?? i.Tag).ToList();
        if (failed.Count > 0)
        {
            parts.Add("not done: " + string.Join(" ", failed));
        }

        var text = parts.Count == 0 ? "Nothing changed." : string.Join("; ", parts) + ".";
        return char.ToUpperInvariant(text[0]) + text[1..];
    }

    /// <summary>The whole page (htmx picks the cards out of it), with the outcome as a toast.</summary>
    private async Task<IActionResult> AnswerAsync()
    {
        if (IsHtmx && (Message ?? Error) is { } text)
        {
            var toast = new Dictionary<string, string> { ["message"] = text };
            if (Error is not null)
            {
                toast["kind"] = "error";
            }

            Response.Headers["HX-Trigger"] = JsonSerializer.Serialize(new Dictionary<string, object> { [ToastEvent] = toast });
        }

        Cursor = null;
        return await PageAsync().ConfigureAwait(false);
    }
}

/// <summary>A media's suggestions on the image page: pending ones with their confidence, and how many were decided.</summary>
public sealed record MediaSuggestionsPanel(string Id, IReadOnlyList<TagSuggestion> Pending, int Decided, bool CanEdit, IReadOnlyDictionary<string, string> Categories)
{
    public const double ApproveAllThreshold = 0.8;

    public static MediaSuggestionsPanel From(string id, IReadOnlyList<TagSuggestion> all, bool canEdit, IReadOnlyDictionary<string, string>? categories) => new(
        id,
        all.Where(s => s.Status == SuggestionStatus.Pending).OrderByDescending(s => s.Confidence).ThenBy(s => s.Tag, StringComparer.Ordinal).ToList(),
        all.Count(s => s.Status != SuggestionStatus.Pending),
        canEdit,
        categories ?? new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>The media's tags panel, rendered after the suggestions in answers to a review (swapped out of band).</summary>
    public MediaTagsPanel? Tags { get; init; }

    public int AboveThreshold => Pending.Count(s => s.Confidence >= ApproveAllThreshold);

    /// <summary>CSS class for the tag's category colour (the vocabulary's, else the model's).</summary>
    public string CssClass(TagSuggestion s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var category = Categories.GetValueOrDefault(s.Tag) ?? s.Category ?? Vocabulary.DefaultCategory;
        return MediaTagsPanel.CategoryOrder.Contains(category) ? "cat-" + category : "cat-other";
    }
}
