using System.Net;
using System.Text.RegularExpressions;
using Trove.Application;
using Trove.Application.Tagging;

using static Trove.Server.Tests.PageRequests;

namespace Trove.Server.Tests;

/// <summary>
/// Suggestion review in the web UI over HTTP with cookie sessions: the suggestions panel on the image page (editors get
/// approve/reject, viewers a read-only list), the moderators' review queue and the statistics page.
/// </summary>
public sealed partial class ReviewPagesTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Image_page_shows_pending_suggestions_with_confidence_and_buttons_only_to_editors()
    {
        var id = await ImportWithSuggestionsAsync("alice", ("cat", 0.93), ("sofa", 0.41));

        var alice = await _server.SessionAsync("alice");
        var own = await PageAsync(alice, $"/media/{id}");
        Assert.Equal(["cat", "sofa"], SuggestedTags(own));
        Assert.Contains("0.93", own, StringComparison.Ordinal);
        Assert.Contains("width:93%", own, StringComparison.Ordinal);
        Assert.Contains("wd14@v3", own, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"approve\"", own, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"reject\"", own, StringComparison.Ordinal);
        Assert.Contains("Approve all ≥ 0.8 (1)", own, StringComparison.Ordinal);

        var vic = await _server.SessionAsync("vic");
        var viewer = await PageAsync(vic, $"/media/{id}");
        Assert.Equal(["cat", "sofa"], SuggestedTags(viewer));
        Assert.Contains("0.41", viewer, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"approve\"", viewer, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"reject\"", viewer, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"approve-above\"", viewer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approve_handler_adds_the_tag_and_answers_with_both_panels()
    {
        var id = await ImportWithSuggestionsAsync("alice", ("cat", 0.93), ("sofa", 0.41), ("dog", 0.2));
        var alice = await _server.SessionAsync("alice");

        using var approved = await HtmxPostAsync(alice, $"/media/{id}?handler=Approve", ("tag", "cat"));
        var html = await approved.Content.ReadAsStringAsync();
        Assert.True(approved.IsSuccessStatusCode, html);
        Assert.Equal(["dog", "sofa"], SuggestedTags(html).Order(StringComparer.Ordinal));
        Assert.Contains("id=\"tags-panel\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"tag\" data-tag=\"cat\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<html", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Approved 1", string.Join(' ', approved.Headers.GetValues("HX-Trigger")), StringComparison.Ordinal);
        Assert.Equal(["cat"], await TagsOfAsync(id));

        using var rejected = await HtmxPostAsync(alice, $"/media/{id}?handler=Reject", ("tag", "dog"));
        Assert.Equal(["sofa"], SuggestedTags(await rejected.Content.ReadAsStringAsync()));
        Assert.Equal(["cat"], await TagsOfAsync(id));
        var list = await new SuggestionService(_server.Library).ListAsync(id, "rejected", CancellationToken.None);
        Assert.Equal(["dog"], list.Suggestions.Select(s => s.Tag));

        using var above = await HtmxPostAsync(alice, $"/media/{id}?handler=Approve", ("min", "0.4"));
        Assert.Empty(SuggestedTags(await above.Content.ReadAsStringAsync()));
        Assert.Equal(["cat", "sofa"], await TagsOfAsync(id));
    }

    [Fact]
    public async Task A_member_cannot_review_suggestions_on_someone_elses_upload()
    {
        var id = await ImportWithSuggestionsAsync("bob", ("cat", 0.9));
        var alice = await _server.SessionAsync("alice");
        Assert.DoesNotContain("data-testid=\"approve\"", await PageAsync(alice, $"/media/{id}"), StringComparison.Ordinal);

        using var refused = await HtmxPostAsync(alice, $"/media/{id}?handler=Approve", ("tag", "cat"));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Empty(await TagsOfAsync(id));
    }

    [Fact]
    public async Task Review_queue_lists_media_with_pending_suggestions_for_moderators_only()
    {
        var first = await ImportWithSuggestionsAsync("alice", ("cat", 0.95), ("sofa", 0.5));
        var second = await ImportWithSuggestionsAsync("bob", ("dog", 0.7));
        var mod = await _server.SessionAsync("mod");

        var html = await PageAsync(mod, "/review");
        Assert.Equal([first, second], CardIds(html));
        Assert.Contains($"/api/media/{first}/thumbnail?size=512", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"review-approve-all\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"review-next\"", html, StringComparison.Ordinal);
        Assert.Contains("0.95", html, StringComparison.Ordinal);

        var filtered = await PageAsync(mod, "/review?tag=dog");
        Assert.Equal([second], CardIds(filtered));
        Assert.Equal([first], CardIds(await PageAsync(mod, "/review?min=0.9")));
        var upTo = await PageAsync(mod, "/review?max=0.8");
        Assert.Equal([second, first], CardIds(upTo)); // by best confidence within the range: dog 0.7, then sofa 0.5
        Assert.DoesNotContain("data-tag=\"cat\"", upTo, StringComparison.Ordinal);
        Assert.Contains("name=\"max\" type=\"number\" min=\"0\" max=\"1\" step=\"0.05\" value=\"0.8\"", upTo, StringComparison.Ordinal);
        Assert.Equal([second], CardIds(await PageAsync(mod, "/review?min=0.6&max=0.8")));

        var alice = await _server.SessionAsync("alice");
        using var denied = await alice.GetAsync("/review");
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
        Assert.Equal("/denied", new Uri(_server.Address, denied.Headers.Location!).AbsolutePath);
        Assert.DoesNotContain("href=\"/review\"", await PageAsync(alice, "/"), StringComparison.Ordinal);
        Assert.Contains("href=\"/review\"", await PageAsync(mod, "/"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deciding_a_card_approves_the_checked_tags_rejects_the_others_and_shows_the_next()
    {
        var first = await ImportWithSuggestionsAsync("alice", ("cat", 0.95), ("sofa", 0.5));
        var second = await ImportWithSuggestionsAsync("bob", ("dog", 0.7));
        var mod = await _server.SessionAsync("mod");

        using var decided = await HtmxPostAsync(mod, "/review?handler=Decide", ("id", first), ("shown", "cat"), ("shown", "sofa"), ("approve", "cat"), ("decision", "approve"));

        var html = await decided.Content.ReadAsStringAsync();
        Assert.True(decided.IsSuccessStatusCode, html);
        Assert.Equal([second], CardIds(html));
        Assert.Contains("Approved 1; rejected 1.", string.Join(' ', decided.Headers.GetValues("HX-Trigger")), StringComparison.Ordinal);
        Assert.Equal(["cat"], await TagsOfAsync(first));
        var rejected = await new SuggestionService(_server.Library).ListAsync(first, "rejected", CancellationToken.None);
        Assert.Equal(["sofa"], rejected.Suggestions.Select(s => s.Tag));

        using var all = await HtmxPostAsync(mod, "/review?handler=Decide", ("id", second), ("shown", "dog"), ("approve", "dog"), ("decision", "reject"));
        Assert.Contains("data-testid=\"review-empty\"", await all.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await TagsOfAsync(second));
    }

    [Fact]
    public async Task Approve_above_threshold_approves_only_confident_suggestions_on_the_page()
    {
        var first = await ImportWithSuggestionsAsync("alice", ("cat", 0.95), ("sofa", 0.5));
        var second = await ImportWithSuggestionsAsync("bob", ("dog", 0.85));
        var mod = await _server.SessionAsync("mod");

        using var response = await HtmxPostAsync(mod, "/review?handler=ApproveAbove", ("ids", first), ("ids", second), ("threshold", "0.8"));

        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, html);
        Assert.Equal([first], CardIds(html));
        Assert.Equal(["cat"], await TagsOfAsync(first));
        Assert.Equal(["dog"], await TagsOfAsync(second));
        Assert.Contains("Approved 2 suggestions ≥ 0.80 on 2 images.", System.Text.RegularExpressions.Regex.Unescape(string.Join(' ', response.Headers.GetValues("HX-Trigger"))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_page_shows_totals_rate_models_and_top_tags()
    {
        var first = await ImportWithSuggestionsAsync("alice", ("cat", 0.95), ("sofa", 0.5));
        await ImportWithSuggestionsAsync("bob", ("cat", 0.7), ("sofa", 0.3));
        var service = new SuggestionService(_server.Library);
        using (_server.Library.ActAs("mod"))
        {
            await service.ReviewAsync(first, ["cat"], ["sofa"], CancellationToken.None);
        }

        var mod = await _server.SessionAsync("mod");
        var html = await PageAsync(mod, "/review/stats");

        Assert.Equal("4", Stat(html, "stat-total"));
        Assert.Equal("2", Stat(html, "stat-pending"));
        Assert.Equal("1", Stat(html, "stat-approved"));
        Assert.Equal("1", Stat(html, "stat-rejected"));
        Assert.Equal("50%", Stat(html, "stat-rate"));
        Assert.Contains("data-testid=\"stats-model\" data-model=\"wd14\" data-version=\"v3\"", html, StringComparison.Ordinal);
        Assert.Matches("data-testid=\"top-rejected\">\\s*<li data-tag=\"sofa\" data-count=\"1\"", html);
        Assert.Contains("data-tag=\"cat\" data-count=\"2\"", html, StringComparison.Ordinal);
        Assert.Contains("width:100%", html, StringComparison.Ordinal);

        var alice = await _server.SessionAsync("alice");
        using var denied = await alice.GetAsync("/review/stats");
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
    }

    private async Task<string> ImportWithSuggestionsAsync(string uploader, params (string Tag, double Confidence)[] suggestions)
    {
        var path = _server.WriteJpeg($"{uploader}-{Guid.NewGuid():n}.jpg", Random.Shared.Next(1, 100_000));
        var id = Assert.Single(await _server.ImportAsync(uploader, path));
        var candidates = new ModelCandidates("wd14", "v3", suggestions.Select(s => new TagCandidate(s.Tag, s.Confidence)).ToList());
        var applied = await new SuggestionService(_server.Library).ApplyAsync(id, [candidates], false, CancellationToken.None);
        Assert.Equal(suggestions.Length, applied.Added);
        return id;
    }

    private async Task<IReadOnlyList<string>> TagsOfAsync(string id) =>
        (await new MediaService(_server.Library).ShowAsync(id, CancellationToken.None)).Sidecar.Tags.Select(t => t.Name).Order(StringComparer.Ordinal).ToList();

    private static List<string> SuggestedTags(string html) => SuggestionRegex().Matches(html).Select(m => m.Groups[1].Value).ToList();

    private static List<string> CardIds(string html) => CardRegex().Matches(html).Select(m => m.Groups[1].Value).ToList();

    private static string Stat(string html, string testid)
    {
        var m = Regex.Match(html, $"data-testid=\"{testid}\">([^<]*)<");
        Assert.True(m.Success, testid + " not shown");
        return WebUtility.HtmlDecode(m.Groups[1].Value).Trim();
    }

    [GeneratedRegex("data-testid=\"suggestion\" data-tag=\"([^\"]+)\"")]
    private static partial Regex SuggestionRegex();

    [GeneratedRegex("data-testid=\"review-card\" data-id=\"([0-9a-f]{64})\"")]
    private static partial Regex CardRegex();
}
