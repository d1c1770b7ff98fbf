using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Trove.Application;
using Trove.Application.Captioning;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

/// <summary>
/// The moderators' caption review queue: media with generated captions waiting for review, one card each with a large
/// preview beside its pending captions, each in a text box to edit. Keyboard (caption-review.js): a approves the current
/// caption with the text as it is in its box (an edited text is recorded as an edit, the model's words kept), e edits,
/// x rejects, p approves it as the primary caption, j/k move between captions. After a decision the cards are
/// re-rendered (htmx selects <c>#caption-cards</c> from the answer), so the decided caption gives its place to the next.
/// Filters (model[@version], a query) live in the query string.
/// </summary>
[Authorize(Policy = Policies.Moderator)]
public sealed class ReviewCaptionsModel(CaptionQueries queries, CaptionService captions) : ManagePageModel
{
    public const int PageSize = 10;

    [BindProperty(SupportsGet = true, Name = "model")]
    public string? ModelFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Cursor { get; set; }

    public CaptionQueuePage? Queue { get; private set; }

    public CaptionQueueCounts? Counts { get; private set; }

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

            if (!string.IsNullOrWhiteSpace(Q))
            {
                parts.Add("q=" + Uri.EscapeDataString(Q));
            }

            return string.Join('&', parts);
        }
    }

    public string HandlerUrl(string handler) => "/review/captions?handler=" + handler + (FilterQuery.Length > 0 ? "&" + FilterQuery : string.Empty);

    public Task<IActionResult> OnGetAsync() => PageAsync();

    /// <summary>Approves (with <paramref name="text"/>, edited or not), rejects, or approves as primary one caption of one media.</summary>
    public async Task<IActionResult> OnPostDecideAsync(string id, int caption, string? decision, string? text)
    {
        await ChangeAsync(true, "review captions", async ct =>
        {
            var action = CaptionReview.Parse(decision);
            var listing = await captions.ReviewAsync(id, caption, action, action == CaptionReviewAction.Reject ? null : text, ct).ConfigureAwait(false);
            return CaptionReview.Describe(action, caption, listing);
        }).ConfigureAwait(false);

        if (IsHtmx && (Message ?? Error) is { } said)
        {
            var toast = new Dictionary<string, string> { ["message"] = said };
            if (Error is not null)
            {
                toast["kind"] = "error";
            }

            Response.Headers["HX-Trigger"] = JsonSerializer.Serialize(new Dictionary<string, object> { [ToastEvent] = toast });
        }

        Cursor = null;
        return await PageAsync().ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        var model = string.IsNullOrWhiteSpace(ModelFilter) ? null : ModelFilter.Trim();
        Queue = await queries.QueueAsync(null, Q, model, PageSize, Cursor, ct).ConfigureAwait(false);
        Counts = await queries.CountAsync(null, Q, model, ct).ConfigureAwait(false);
    }
}
