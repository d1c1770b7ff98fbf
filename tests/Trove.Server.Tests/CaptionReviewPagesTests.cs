using System.Net;
using System.Text.RegularExpressions;
using Trove.Domain;

using static Trove.Server.Tests.PageRequests;

namespace Trove.Server.Tests;

/// <summary>
/// Reviewing generated captions in the web UI over HTTP with cookie sessions: the captions panel of the image page
/// (model, version and status of each caption; approve, edit, reject and make primary for those who may edit the
/// media) and the moderators' caption queue (/review/captions).
/// </summary>
public sealed partial class CaptionReviewPagesTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Image_page_shows_model_version_and_status_of_generated_captions_and_review_buttons_only_to_editors()
    {
        var id = await ImportAsync("alice");
        var pending = await _server.AddGeneratedCaptionAsync(id, "a red car parked by the sea", "florence", "2");

        var alice = await _server.SessionAsync("alice");
        var own = await PageAsync(alice, $"/media/{id}");
        Assert.Equal([(pending, "pending")], Captions(own));
        Assert.Contains("class=\"caption generated pending\"", own, StringComparison.Ordinal);
        Assert.Contains(">florence@2</span>", own, StringComparison.Ordinal);
        Assert.Contains(">pending review</span>", own, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"captions-pending\"", own, StringComparison.Ordinal);
        foreach (var button in ReviewButtons)
        {
            Assert.Contains($"data-testid=\"{button}\"", own, StringComparison.Ordinal);
        }

        Assert.Contains($"href=\"/media/{id}?edit={pending}#caption-{pending}\"", own, StringComparison.Ordinal);

        foreach (var other in new[] { "vic", "bob" })
        {
            var html = await PageAsync(await _server.SessionAsync(other), $"/media/{id}");
            Assert.Equal([(pending, "pending")], Captions(html));
            Assert.Contains(">florence@2</span>", html, StringComparison.Ordinal);
            Assert.All(ReviewButtons, b => Assert.DoesNotContain($"data-testid=\"{b}\"", html, StringComparison.Ordinal));
        }

        var mod = await PageAsync(await _server.SessionAsync("mod"), $"/media/{id}");
        Assert.All(ReviewButtons, b => Assert.Contains($"data-testid=\"{b}\"", mod, StringComparison.Ordinal));

        // Without JavaScript the Edit link opens the text box, prefilled with the model's words.
        var editing = await PageAsync(alice, $"/media/{id}?edit={pending}");
        Assert.Contains("class=\"caption generated pending editing\"", editing, StringComparison.Ordinal);
        Assert.Contains($"<textarea id=\"caption-edit-{pending}\" name=\"text\" rows=\"3\" required data-testid=\"caption-edit-text\">a red car parked by the sea</textarea>", editing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Review_caption_handler_approves_edits_rejects_and_makes_primary_in_the_sidecar()
    {
        var id = await ImportAsync("alice");
        var plain = await _server.AddGeneratedCaptionAsync(id, "a car");
        var edited = await _server.AddGeneratedCaptionAsync(id, "a red car by the see");
        var rejected = await _server.AddGeneratedCaptionAsync(id, "a cat on a sofa");
        var primary = await _server.AddGeneratedCaptionAsync(id, "a red car parked on a quay", "blip", "1");
        var alice = await _server.SessionAsync("alice");

        using (var approve = await HtmxPostAsync(alice, $"/media/{id}?handler=ReviewCaption", ("caption", N(plain)), ("decision", "approve")))
        {
            var panel = await approve.Content.ReadAsStringAsync();
            Assert.True(approve.IsSuccessStatusCode, panel);
            Assert.Contains("id=\"captions-panel\"", panel, StringComparison.Ordinal);
            Assert.DoesNotContain("<html", panel, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("approved by alice", panel, StringComparison.Ordinal);
            Assert.Contains($"Caption #{plain} approved.", string.Join(' ', approve.Headers.GetValues("HX-Trigger")), StringComparison.Ordinal);
        }

        using (var edit = await HtmxPostAsync(alice, $"/media/{id}?handler=ReviewCaption", ("caption", N(edited)), ("decision", "approve"), ("text", "  a red car by the sea ")))
        {
            var panel = await edit.Content.ReadAsStringAsync();
            Assert.True(edit.IsSuccessStatusCode, panel);
            Assert.Contains("data-testid=\"caption-original\"", panel, StringComparison.Ordinal);
            Assert.Contains("title=\"The model wrote: a red car by the see\"", panel, StringComparison.Ordinal);
            Assert.Contains("approved with your edit", string.Join(' ', edit.Headers.GetValues("HX-Trigger")), StringComparison.Ordinal);
        }

        // A text sent along with a rejection is not kept.
        using (var reject = await HtmxPostAsync(alice, $"/media/{id}?handler=ReviewCaption", ("caption", N(rejected)), ("decision", "reject"), ("text", "something else")))
        {
            var panel = await reject.Content.ReadAsStringAsync();
            Assert.True(reject.IsSuccessStatusCode, panel);
            Assert.Contains("class=\"caption generated rejected\"", panel, StringComparison.Ordinal);
            Assert.Contains("rejected by alice", panel, StringComparison.Ordinal);
        }

        using (var makePrimary = await HtmxPostAsync(alice, $"/media/{id}?handler=ReviewCaption", ("caption", N(primary)), ("decision", "primary")))
        {
            Assert.True(makePrimary.IsSuccessStatusCode, await makePrimary.Content.ReadAsStringAsync());
        }

        var stored = _server.CaptionsOf(id).ToDictionary(c => c.Id);
        Assert.Equal((CaptionStatus.Approved, "a car", (string?)null, "alice"), (stored[plain].Status, stored[plain].Text, stored[plain].GeneratedText, stored[plain].ReviewedBy));
        Assert.Equal((CaptionStatus.Approved, "a red car by the sea", "a red car by the see"), (stored[edited].Status, stored[edited].Text, stored[edited].GeneratedText));
        Assert.Equal((CaptionStatus.Rejected, "a cat on a sofa", (string?)null, "alice"), (stored[rejected].Status, stored[rejected].Text, stored[rejected].GeneratedText, stored[rejected].ReviewedBy));
        Assert.Equal(CaptionStatus.Approved, stored[primary].Status);
        Assert.Equal([primary], stored.Values.Where(c => c.Primary).Select(c => c.Id));
        Assert.All(stored.Values, c => Assert.NotNull(c.ReviewedAt));

        using var unknown = await HtmxPostAsync(alice, $"/media/{id}?handler=ReviewCaption", ("caption", N(plain)), ("decision", "maybe"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }

    [Fact]
    public async Task Only_the_uploader_and_moderators_review_a_caption_and_only_with_the_antiforgery_token()
    {
        var id = await ImportAsync("alice");
        var caption = (await _server.AddGeneratedCaptionAsync(id, "a red car")).ToString(System.Globalization.CultureInfo.InvariantCulture);

        foreach (var other in new[] { "vic", "bob" })
        {
            using var refused = await HtmxPostAsync(await _server.SessionAsync(other), $"/media/{id}?handler=ReviewCaption", ("caption", caption), ("decision", "approve"));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using (var noToken = await HtmxPostAsync(await _server.SessionAsync("alice", sendCsrf: false), $"/media/{id}?handler=ReviewCaption", ("caption", caption), ("decision", "approve")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        }

        Assert.Equal(CaptionStatus.Pending, Assert.Single(_server.CaptionsOf(id)).Status);

        using var allowed = await HtmxPostAsync(await _server.SessionAsync("mod"), $"/media/{id}?handler=ReviewCaption", ("caption", caption), ("decision", "reject"));
        Assert.True(allowed.IsSuccessStatusCode, await allowed.Content.ReadAsStringAsync());
        var stored = Assert.Single(_server.CaptionsOf(id));
        Assert.Equal((CaptionStatus.Rejected, "mod"), (stored.Status, stored.ReviewedBy));
    }

    [Fact]
    public async Task Caption_queue_lists_pending_captions_with_counts_and_filters_for_moderators_only()
    {
        var first = await ImportAsync("alice");
        var second = await ImportAsync("bob");
        var done = await ImportAsync("bob");
        await _server.AddGeneratedCaptionAsync(first, "a red car", "florence", "2");
        await _server.AddGeneratedCaptionAsync(first, "a car on a quay", "blip", "1");
        await _server.AddGeneratedCaptionAsync(second, "a lighthouse on a cliff", "florence", "2");
        var reviewed = await _server.AddGeneratedCaptionAsync(done, "a dune", "florence", "2");
        using (_server.Library.ActAs("mod"))
        {
            await new Trove.Application.CaptionService(_server.Library).ReviewAsync(done, reviewed, Trove.Application.CaptionReviewAction.Approve, null, CancellationToken.None);
        }

        var mod = await _server.SessionAsync("mod");
        var html = await PageAsync(mod, "/review/captions");
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), CardIds(html).Order(StringComparer.Ordinal));
        Assert.Contains("3 pending captions on 2 images.", html, StringComparison.Ordinal);
        Assert.Contains("a lighthouse on a cliff</textarea>", html, StringComparison.Ordinal);
        Assert.Contains($"/api/media/{first}/thumbnail?size=1024", html, StringComparison.Ordinal);
        Assert.Contains(">blip@1</span>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("a dune", html, StringComparison.Ordinal);
        foreach (var button in new[] { "caption-review-approve", "caption-review-primary", "caption-review-reject", "caption-review-edit", "caption-review-next" })
        {
            Assert.Contains($"data-testid=\"{button}\"", html, StringComparison.Ordinal);
        }

        var blip = await PageAsync(mod, "/review/captions?model=blip");
        Assert.Equal([first], CardIds(blip));
        Assert.Contains("1 pending caption on 1 image.", blip, StringComparison.Ordinal);
        Assert.DoesNotContain("a red car<", blip, StringComparison.Ordinal);
        Assert.Equal([first], CardIds(await PageAsync(mod, "/review/captions?model=florence%402&q=uploader%3Aalice")));
        Assert.Equal([second], CardIds(await PageAsync(mod, "/review/captions?q=uploader%3Abob")));
        var none = await PageAsync(mod, "/review/captions?model=florence%409");
        Assert.Contains("data-testid=\"caption-review-empty\"", none, StringComparison.Ordinal);
        Assert.Contains("with these filters", none, StringComparison.Ordinal);

        // Linked from the header and the tag review queue for moderators; members and viewers are sent away.
        Assert.Contains("href=\"/review/captions\"", await PageAsync(mod, "/"), StringComparison.Ordinal);
        Assert.Contains("href=\"/review/captions\"", await PageAsync(mod, "/review"), StringComparison.Ordinal);
        Assert.Contains("href=\"/review/captions\" aria-current=\"page\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/review\" aria-current=\"false\"", html, StringComparison.Ordinal);
        foreach (var user in new[] { "alice", "vic" })
        {
            var client = await _server.SessionAsync(user);
            using var denied = await client.GetAsync("/review/captions");
            Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
            Assert.Equal("/denied", new Uri(_server.Address, denied.Headers.Location!).AbsolutePath);
            Assert.DoesNotContain("href=\"/review/captions\"", await PageAsync(client, "/"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Empty_caption_queue_explains_how_to_generate_captions()
    {
        var mod = await _server.SessionAsync("mod");
        var html = WebUtility.HtmlDecode(await PageAsync(mod, "/review/captions"));
        Assert.Contains("data-testid=\"caption-review-empty\"", html, StringComparison.Ordinal);
        Assert.Contains("trove caption generate \"QUERY\" --model ID", html, StringComparison.Ordinal);
        Assert.Contains("POST /api/captions/generate", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deciding_in_the_caption_queue_changes_the_sidecar_and_shows_the_next_caption()
    {
        var first = await ImportAsync("alice");
        var second = await ImportAsync("bob");
        var a = await _server.AddGeneratedCaptionAsync(first, "a red car by the see");
        var b = await _server.AddGeneratedCaptionAsync(second, "a lighthouse");
        var mod = await _server.SessionAsync("mod");
        var ordered = CardIds(await PageAsync(mod, "/review/captions"));

        using (var approved = await HtmxPostAsync(mod, "/review/captions?handler=Decide", ("id", first), ("caption", N(a)), ("decision", "approve"), ("text", "a red car by the sea")))
        {
            var html = await approved.Content.ReadAsStringAsync();
            Assert.True(approved.IsSuccessStatusCode, html);
            Assert.Equal([second], CardIds(html));
            Assert.Contains("1 pending caption on 1 image.", html, StringComparison.Ordinal);
            Assert.Contains("approved with your edit", Regex.Unescape(string.Join(' ', approved.Headers.GetValues("HX-Trigger"))), StringComparison.Ordinal);
        }

        var stored = Assert.Single(_server.CaptionsOf(first));
        Assert.Equal((CaptionStatus.Approved, "a red car by the sea", "a red car by the see", "mod", true), (stored.Status, stored.Text, stored.GeneratedText, stored.ReviewedBy, stored.Primary));

        using (var rejected = await HtmxPostAsync(mod, "/review/captions?handler=Decide", ("id", second), ("caption", N(b)), ("decision", "reject"), ("text", "a lighthouse")))
        {
            Assert.Contains("data-testid=\"caption-review-empty\"", await rejected.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(CaptionStatus.Rejected, Assert.Single(_server.CaptionsOf(second)).Status);
        Assert.Equal(2, ordered.Count);

        // Members are sent away from the queue's handler too.
        var third = await ImportAsync("alice");
        var c = await _server.AddGeneratedCaptionAsync(third, "a dune");
        using var refused = await HtmxPostAsync(await _server.SessionAsync("alice"), "/review/captions?handler=Decide", ("id", third), ("caption", N(c)), ("decision", "approve"));
        Assert.False(refused.IsSuccessStatusCode);
        Assert.Equal(CaptionStatus.Pending, Assert.Single(_server.CaptionsOf(third)).Status);
    }

    /// <summary>With limit=1 one of the two requests must read past a media without such a caption to fill its page.</summary>
    [Fact]
    public async Task Caption_queue_api_filters_captions_by_model_and_version_and_fills_its_pages()
    {
        var first = await ImportAsync("alice");
        var second = await ImportAsync("alice");
        await _server.AddGeneratedCaptionAsync(first, "a red car", "florence", "2");
        await _server.AddGeneratedCaptionAsync(second, "a quay", "blip", "1");
        await _server.AddGeneratedCaptionAsync(second, "a quay at dusk", "florence", "3");

        var v2 = await TestServer.JsonAsync(await _server.As("mod").GetAsync("/api/captions/queue?model=florence@2&limit=1"));
        var item = Assert.Single(v2["items"]!.AsArray());
        Assert.Equal(first, (string?)item!["id"]);
        Assert.Equal(["a red car"], item["captions"]!.AsArray().Select(c => (string?)c!["text"]));

        var blip = await TestServer.JsonAsync(await _server.As("mod").GetAsync("/api/captions/queue?model=blip&limit=1"));
        var only = Assert.Single(blip["items"]!.AsArray());
        Assert.Equal(second, (string?)only!["id"]);
        Assert.Equal(["1"], only["captions"]!.AsArray().Select(c => (string?)c!["version"]));
    }

    private static readonly string[] ReviewButtons = ["caption-approve", "caption-edit", "caption-reject", "caption-primary"];

    private async Task<string> ImportAsync(string uploader)
    {
        var path = _server.WriteJpeg($"{uploader}-{Guid.NewGuid():n}.jpg", Random.Shared.Next(1, 100_000));
        return Assert.Single(await _server.ImportAsync(uploader, path));
    }

    private static string N(int caption) => caption.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static List<(int, string)> Captions(string html) =>
        CaptionRegex().Matches(html).Select(m => (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value)).ToList();

    private static List<string> CardIds(string html) => CardRegex().Matches(html).Select(m => m.Groups[1].Value).ToList();

    [GeneratedRegex("data-testid=\"caption\" data-caption=\"(\\d+)\" data-status=\"(\\w+)\"")]
    private static partial Regex CaptionRegex();

    [GeneratedRegex("data-testid=\"caption-card\" data-id=\"([0-9a-f]{64})\"")]
    private static partial Regex CardRegex();
}
