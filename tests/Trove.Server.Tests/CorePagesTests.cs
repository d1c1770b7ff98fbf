using System.Net;
using System.Text.RegularExpressions;
using Trove.Application;

using static Trove.Server.Tests.PageRequests;

namespace Trove.Server.Tests;

/// <summary>The gallery, image and upload pages through the real host, as browsers see them (cookie sessions, antiforgery).</summary>
public sealed partial class CorePagesTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Gallery_shows_a_tile_per_media_and_the_result_count()
    {
        var ids = await ImportAsync("alice", 3);
        var vic = await _server.SessionAsync("vic");

        var html = await PageAsync(vic, "/");

        var tiles = TileIds(html);
        Assert.Equal(ids.Order(StringComparer.Ordinal), tiles.Order(StringComparer.Ordinal));
        Assert.Contains("data-total=\"3\"", html, StringComparison.Ordinal);
        Assert.Matches(@"<strong>3</strong>\s*results", html);
        foreach (var id in ids)
        {
            Assert.Contains($"src=\"/api/media/{id}/thumbnail?size=256\"", html, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("data-testid=\"sentinel\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gallery_of_an_empty_library_points_members_to_upload()
    {
        var alice = await _server.SessionAsync("alice");
        var html = await PageAsync(alice, "/");
        Assert.Contains("data-testid=\"empty-library\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/upload\"", html, StringComparison.Ordinal);
        Assert.Empty(TileIds(html));
    }

    [Fact]
    public async Task Page_handler_continues_the_grid_with_a_new_sentinel_and_no_repeats()
    {
        var ids = await ImportAsync("alice", (2 * 60) + 5, small: true);
        var vic = await _server.SessionAsync("vic");

        var first = await PageAsync(vic, "/");
        Assert.Matches(@"<strong>125</strong>\s*results", first);
        var seen = TileIds(first);
        Assert.Equal(60, seen.Count);

        var next = SentinelUrl(first);
        Assert.Contains("handler=Page", next, StringComparison.Ordinal);
        var second = await FragmentAsync(vic, next);
        Assert.DoesNotContain("<html", second, StringComparison.OrdinalIgnoreCase);
        var page2 = TileIds(second);
        Assert.Equal(60, page2.Count);
        Assert.Empty(page2.Intersect(seen));
        var nextAgain = SentinelUrl(second);
        Assert.NotEqual(next, nextAgain);
        Assert.Contains("start=120", nextAgain, StringComparison.Ordinal);

        var third = await FragmentAsync(vic, nextAgain);
        var page3 = TileIds(third);
        Assert.Equal(5, page3.Count);
        Assert.DoesNotContain("data-testid=\"sentinel\"", third, StringComparison.Ordinal);

        var all = seen.Concat(page2).Concat(page3).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(ids.Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal));

        // Tiles link to the image with the query and their position, for previous/next there.
        Assert.Contains($"href=\"/media/{page2[0]}?i=60\"", second, StringComparison.Ordinal);

        // The gallery can also start in the middle (where the image page's "back" returns to).
        var middle = await PageAsync(vic, "/?start=60");
        Assert.Equal(page2, TileIds(middle));
        Assert.Contains("id=\"t60\"", middle, StringComparison.Ordinal);
        Assert.Contains("Show earlier results", middle, StringComparison.Ordinal);
        Assert.Contains("start=120", SentinelUrl(middle), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_query_shows_the_message_under_the_box_not_a_server_error()
    {
        await ImportAsync("alice", 1);
        var vic = await _server.SessionAsync("vic");

        using var response = await vic.GetAsync("/?q=" + Uri.EscapeDataString("cat widht:>100"));
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("text/html", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Contains("id=\"q-error\"", html, StringComparison.Ordinal);
        Assert.Contains("Unknown metatag 'widht' at column 5 — did you mean 'width'?", html, StringComparison.Ordinal);
        Assert.Contains("value=\"cat widht:>100\"", html, StringComparison.Ordinal);
        Assert.Empty(TileIds(html));
    }

    [Fact]
    public async Task Sort_menu_rewrites_the_order_of_the_query_and_random_gets_a_seed()
    {
        var vic = await _server.SessionAsync("vic");

        using var oldest = await vic.GetAsync("/?q=" + Uri.EscapeDataString("cat order:width") + "&sort=oldest");
        Assert.Equal(HttpStatusCode.Redirect, oldest.StatusCode);
        Assert.Equal("/?q=" + Uri.EscapeDataString("cat order:oldest"), oldest.Headers.Location!.OriginalString);

        using var newest = await vic.GetAsync("/?q=" + Uri.EscapeDataString("cat order:width") + "&sort=newest");
        Assert.Equal("/?q=cat", newest.Headers.Location!.OriginalString);

        using var random = await vic.GetAsync("/?q=" + Uri.EscapeDataString("order:random cat"));
        Assert.Equal(HttpStatusCode.Redirect, random.StatusCode);
        Assert.Matches(@"^/\?q=order%3Arandom%3A\d+%20cat$", random.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Media_page_groups_tags_by_category_and_shows_no_edit_controls_to_a_viewer()
    {
        var id = (await ImportAsync("alice", 1))[0];
        await TagAsync(id, "sky", "hatsune_miku", "vocaloid", "highres");
        var tags = new TagService(_server.Library);
        await tags.SetCategoryAsync("hatsune_miku", "character", false, CancellationToken.None);
        await tags.SetCategoryAsync("vocaloid", "copyright", false, CancellationToken.None);
        await tags.SetCategoryAsync("highres", "meta", false, CancellationToken.None);
        var vic = await _server.SessionAsync("vic");

        var html = await PageAsync(vic, $"/media/{id}");

        var groups = GroupRegex().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["character", "copyright", "general", "meta"], groups);
        Assert.Equal("character", CategoryOf(html, "hatsune_miku"));
        Assert.Equal("copyright", CategoryOf(html, "vocaloid"));
        Assert.Equal("general", CategoryOf(html, "sky"));
        Assert.Contains("href=\"/?q=hatsune_miku\"", html, StringComparison.Ordinal);
        Assert.Contains($"src=\"/api/media/{id}/thumbnail?size=1024\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"crop-surface\"", html, StringComparison.Ordinal);

        Assert.DoesNotContain("data-testid=\"tag-input\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("tag-remove", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"crop-save\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"delete\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("caption-input", html, StringComparison.Ordinal);
        Assert.DoesNotContain("handler=AddToCollection", html, StringComparison.Ordinal);

        var alice = await _server.SessionAsync("alice");
        var own = await PageAsync(alice, $"/media/{id}");
        Assert.Contains("data-testid=\"tag-input\"", own, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"crop-save\"", own, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"delete\"", own, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_media_is_a_friendly_404_page()
    {
        var vic = await _server.SessionAsync("vic");
        using var response = await vic.GetAsync("/media/" + new string('a', 64));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("data-testid=\"media-not-found\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddTag_handler_adds_tags_and_answers_with_the_updated_panel()
    {
        var id = (await ImportAsync("alice", 1))[0];
        await TagAsync(id, "old_tag");
        var alice = await _server.SessionAsync("alice", sendCsrf: false);
        var token = CsrfToken(await PageAsync(alice, $"/media/{id}"));

        using var response = await PostHandlerAsync(alice, $"/media/{id}?handler=AddTag", token, ("tags", "Blue_Sky  sunset -old_tag"));

        var panel = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, panel);
        Assert.StartsWith("<div class=\"tags-body\" id=\"tags-panel\">", panel.TrimStart(), StringComparison.Ordinal);
        Assert.Contains("data-tag=\"blue_sky\"", panel, StringComparison.Ordinal);
        Assert.Contains("data-tag=\"sunset\"", panel, StringComparison.Ordinal);
        Assert.DoesNotContain("data-tag=\"old_tag\"", panel, StringComparison.Ordinal);
        Assert.DoesNotContain("<html", panel, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Added blue_sky, sunset; Removed old_tag.", string.Join(' ', response.Headers.GetValues("HX-Trigger")), StringComparison.Ordinal);
        Assert.Equal(["blue_sky", "sunset"], await TagsOfAsync(id));

        using var removed = await PostHandlerAsync(alice, $"/media/{id}?handler=RemoveTag", token, ("tag", "sunset"));
        Assert.DoesNotContain("data-tag=\"sunset\"", await removed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["blue_sky"], await TagsOfAsync(id));
    }

    [Fact]
    public async Task Page_handlers_refuse_changes_without_the_antiforgery_token()
    {
        var id = (await ImportAsync("alice", 1))[0];
        var alice = await _server.SessionAsync("alice", sendCsrf: false);

        using var response = await PostHandlerAsync(alice, $"/media/{id}?handler=AddTag", token: null, ("tags", "sneaky"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await TagsOfAsync(id));
    }

    [Fact]
    public async Task A_member_cannot_tag_someone_elses_upload()
    {
        var id = (await ImportAsync("bob", 1))[0];
        var alice = await _server.SessionAsync("alice", sendCsrf: false);
        var page = await PageAsync(alice, $"/media/{id}");
        Assert.DoesNotContain("data-testid=\"tag-input\"", page, StringComparison.Ordinal);
        Assert.Contains("Only bob or a moderator can edit this image.", page, StringComparison.Ordinal);

        using var response = await PostHandlerAsync(alice, $"/media/{id}?handler=AddTag", CsrfToken(page), ("tags", "vandalism"));

        var problem = await TestServer.ProblemAsync(response, HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains("members may change only their own uploads", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Empty(await TagsOfAsync(id));

        // A moderator may.
        var mod = await _server.SessionAsync("mod", sendCsrf: false);
        using var allowed = await PostHandlerAsync(mod, $"/media/{id}?handler=AddTag", CsrfToken(await PageAsync(mod, $"/media/{id}")), ("tags", "reviewed"));
        Assert.True(allowed.IsSuccessStatusCode);
        Assert.Equal(["reviewed"], await TagsOfAsync(id));
    }

    [Fact]
    public async Task Captions_are_added_and_made_primary_through_the_page()
    {
        var id = (await ImportAsync("alice", 1))[0];
        var alice = await _server.SessionAsync("alice", sendCsrf: false);
        var token = CsrfToken(await PageAsync(alice, $"/media/{id}"));

        using var first = await PostHandlerAsync(alice, $"/media/{id}?handler=AddCaption", token, ("text", "A red car"));
        using var second = await PostHandlerAsync(alice, $"/media/{id}?handler=AddCaption", token, ("text", "A car at dusk"));
        using var primary = await PostHandlerAsync(alice, $"/media/{id}?handler=PrimaryCaption", token, ("caption", "2"));

        var panel = await primary.Content.ReadAsStringAsync();
        Assert.True(primary.IsSuccessStatusCode, panel);
        Assert.Contains("id=\"captions-panel\"", panel, StringComparison.Ordinal);
        Assert.Matches("class=\"caption primary\" data-testid=\"caption\" data-caption=\"2\"", panel);
        var listing = await new CaptionService(_server.Library).ListAsync(id, CancellationToken.None);
        Assert.Equal([(1, false), (2, true)], listing.Captions.Select(c => (c.Id, c.Primary)));
    }

    [Fact]
    public async Task Media_page_opened_from_the_gallery_links_previous_and_next()
    {
        await ImportAsync("alice", 3);
        var vic = await _server.SessionAsync("vic");
        var order = TileIds(await PageAsync(vic, "/"));

        var middle = await PageAsync(vic, $"/media/{order[1]}?i=1");

        Assert.Contains($"rel=\"prev\" href=\"/media/{order[0]}?i=0\"", middle, StringComparison.Ordinal);
        Assert.Contains($"rel=\"next\" href=\"/media/{order[2]}?i=2\"", middle, StringComparison.Ordinal);
        Assert.Matches(@"data-testid=""position"">\s*2 of 3", middle);
        Assert.Contains("class=\"back\" href=\"/#t1\"", middle, StringComparison.Ordinal);
        var last = await PageAsync(vic, $"/media/{order[2]}?i=2");
        Assert.DoesNotContain("rel=\"next\"", last, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_page_is_for_members()
    {
        var alice = await _server.SessionAsync("alice");
        var html = await PageAsync(alice, "/upload");
        Assert.Contains("data-testid=\"upload-input\"", html, StringComparison.Ordinal);
        Assert.Contains("type=\"file\"", html, StringComparison.Ordinal);

        var vic = await _server.SessionAsync("vic");
        using var refused = await vic.GetAsync("/upload");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/denied", refused.Headers.Location!.AbsolutePath, StringComparison.Ordinal);

        using var anonymous = await _server.Anonymous().GetAsync("/upload");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login", anonymous.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
    }

    private async Task<IReadOnlyList<string>> ImportAsync(string uploader, int count, bool small = false)
    {
        var paths = Enumerable.Range(0, count)
            .Select(i => small ? _server.WriteJpeg($"{uploader}-{Guid.NewGuid():n}.jpg", 1000 + i, 48, 32) : _server.WriteJpeg($"{uploader}-{Guid.NewGuid():n}.jpg", 1000 + i))
            .ToArray();
        var ids = await _server.ImportAsync(uploader, paths);
        Assert.Equal(count, ids.Count);
        return ids;
    }

    private async Task TagAsync(string id, params string[] tags)
    {
        using (_server.Library.ActAs("alice"))
        {
            await new TagService(_server.Library).AddAsync(id, tags, CancellationToken.None);
        }
    }

    private async Task<IReadOnlyList<string>> TagsOfAsync(string id) =>
        (await new MediaService(_server.Library).ShowAsync(id, CancellationToken.None)).Sidecar.Tags.Select(t => t.Name).Order(StringComparer.Ordinal).ToList();

    private static async Task<string> FragmentAsync(HttpClient client, string url)
    {
        using var response = await HtmxGetAsync(client, url);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {html}");
        return html;
    }

    /// <summary>Posts a form to a page handler the way htmx does (HX-Request header, antiforgery token as a form field).</summary>
    private static Task<HttpResponseMessage> PostHandlerAsync(HttpClient client, string url, string? token, params (string Name, string Value)[] fields) =>
        HtmxPostAsync(client, url, token is null ? fields : [.. fields, ("__RequestVerificationToken", token)]);

    private static List<string> TileIds(string html) => TileRegex().Matches(html).Select(m => m.Groups[1].Value).ToList();

    private static string SentinelUrl(string html)
    {
        var m = SentinelRegex().Match(html);
        Assert.True(m.Success, "no sentinel in: " + html[^Math.Min(html.Length, 600)..]);
        return WebUtility.HtmlDecode(m.Groups[1].Value);
    }

    private static string CsrfToken(string html)
    {
        var m = CsrfRegex().Match(html);
        Assert.True(m.Success, "no csrf-token meta in the page");
        return WebUtility.HtmlDecode(m.Groups[1].Value);
    }

    private static string? CategoryOf(string html, string tag)
    {
        var at = html.IndexOf($"data-tag=\"{tag}\"", StringComparison.Ordinal);
        Assert.True(at >= 0, $"tag {tag} not shown");
        var group = GroupRegex().Matches(html[..at]).LastOrDefault();
        return group?.Groups[1].Value;
    }

    [GeneratedRegex("data-testid=\"tile\" data-id=\"([0-9a-f]{64})\"")]
    private static partial Regex TileRegex();

    [GeneratedRegex("class=\"sentinel\" hx-get=\"([^\"]+)\"")]
    private static partial Regex SentinelRegex();

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]+)\"")]
    private static partial Regex CsrfRegex();

    [GeneratedRegex("class=\"tag-group [^\"]*\" data-category=\"([^\"]+)\"")]
    private static partial Regex GroupRegex();
}
