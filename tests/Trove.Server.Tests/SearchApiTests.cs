using System.Net;
using System.Text.Json.Nodes;
using Trove.Application;

namespace Trove.Server.Tests;

public sealed class SearchApiTests : IAsyncLifetime
{
    private readonly List<string> _ids = [];
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        string[] tags = ["long_hair,smile", "long_hair", "long_hair,long_sleeves", "short_hair,smile", "landscape"];
        for (var i = 0; i < tags.Length; i++)
        {
            _ids.Add(await Uploads.UploadOneAsync(_server.As(i % 2 == 0 ? "alice" : "bob"), $"s{i}.jpg", Uploads.Jpeg(_server, 200 + i, 160 + (i * 16), 120), tags[i]));
        }

        using (_server.Library.ActAs("mod"))
        {
            await new TagService(_server.Library).AliasAsync("hair_long", "long_hair", CancellationToken.None);
        }
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Search_answers_total_and_cards_with_dimensions_tags_and_thumbnails()
    {
        var result = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/search?q=long_hair"));
        Assert.Equal(3, (long)result["total"]!);
        Assert.Equal(60, (int)result["limit"]!);
        Assert.Equal(0, (int)result["offset"]!);
        Assert.Null(result["next"]);
        var items = result["items"]!.AsArray();
        Assert.Equal(_ids.Take(3).Order(StringComparer.Ordinal), items.Select(i => (string)i!["id"]!).Order(StringComparer.Ordinal));
        var third = items.Single(i => (string?)i!["id"] == _ids[2])!;
        Assert.Equal("image", (string?)third["kind"]);
        Assert.Equal("image/jpeg", (string?)third["mediaType"]);
        Assert.Equal(192, (int)third["width"]!);
        Assert.Equal(120, (int)third["height"]!);
        Assert.Equal(["long_hair", "long_sleeves"], third["tags"]!.AsArray().Select(t => (string)t!));
        Assert.Equal($"/api/media/{_ids[2]}/thumbnail?size=256", (string?)third["thumbnail"]);

        // The thumbnail URL works as given.
        using var thumb = await _server.As("vic").GetAsync((string)third["thumbnail"]!);
        Assert.Equal(HttpStatusCode.OK, thumb.StatusCode);

        // Aliases, negation and metatags go through the query language.
        Assert.Equal(3, (long)(await Search("hair_long"))["total"]!);
        Assert.Equal(2, (long)(await Search("long_hair -smile"))["total"]!);
        Assert.Equal(3, (long)(await Search("uploader:alice"))["total"]!);
        Assert.Equal(5, (long)(await Search(""))["total"]!);
    }

    [Fact]
    public async Task Cursor_paging_walks_every_result_once()
    {
        foreach (var query in new[] { "", "order:width", "order:oldest", "-landscape order:newest" })
        {
            var seen = new List<string>();
            string? cursor = null;
            long total;
            var pages = 0;
            do
            {
                var url = $"/api/search?q={Uri.EscapeDataString(query)}&limit=2" + (cursor is null ? string.Empty : $"&cursor={Uri.EscapeDataString(cursor)}");
                var page = await TestServer.JsonAsync(await _server.As("vic").GetAsync(url));
                total = (long)page["total"]!;
                var ids = page["items"]!.AsArray().Select(i => (string)i!["id"]!).ToList();
                Assert.True(ids.Count <= 2);
                seen.AddRange(ids);
                cursor = (string?)page["next"];
                Assert.True(++pages <= 5, "paging does not end");
            }
            while (cursor is not null);

            Assert.Equal(total, seen.Count);
            Assert.Equal(seen.Count, seen.Distinct(StringComparer.Ordinal).Count());
        }

        // Offsets page too (order:width is widest first); a cursor this server did not give is refused.
        var second = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/search?q=order:width&limit=2&offset=2"));
        Assert.Equal([_ids[2], _ids[1]], second["items"]!.AsArray().Select(i => (string)i!["id"]!));
        await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/search?q=&cursor=garbage"), HttpStatusCode.BadRequest, "bad-cursor");
    }

    [Fact]
    public async Task Malformed_queries_and_parameters_are_400_naming_the_problem()
    {
        var problem = await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/search?q=" + Uri.EscapeDataString("long_hair widht:>100")), HttpStatusCode.BadRequest, "query-invalid");
        var detail = (string)problem["detail"]!;
        Assert.Contains("widht", detail, StringComparison.Ordinal);
        Assert.Contains("column 11", detail, StringComparison.Ordinal);
        Assert.Contains("width", detail[(detail.IndexOf("did you mean", StringComparison.Ordinal))..], StringComparison.Ordinal);
        Assert.NotNull(problem["hint"]);

        var range = await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/search?q=" + Uri.EscapeDataString("width:abc")), HttpStatusCode.BadRequest, "query-invalid");
        Assert.Contains("column 1", (string)range["detail"]!, StringComparison.Ordinal);

        await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/search?q=&limit=501"), HttpStatusCode.BadRequest, "bad-limit");
        await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/search?q=&limit=ten"), HttpStatusCode.BadRequest, "bad-limit");
        await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/search?q=&offset=-1"), HttpStatusCode.BadRequest, "bad-offset");
        await TestServer.ProblemAsync(await _server.Anonymous().GetAsync("/api/search?q="), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task Trashed_media_leave_the_results()
    {
        var id = await Uploads.UploadOneAsync(_server.As("alice"), "trash.jpg", Uploads.Jpeg(_server, 250), "trashme");
        Assert.Equal(1, (long)(await Search("trashme"))["total"]!);
        await TestServer.JsonAsync(await _server.As("alice").DeleteAsync($"/api/media/{id}"));
        Assert.Equal(0, (long)(await Search("trashme"))["total"]!);
    }

    [Fact]
    public async Task Autocomplete_ranks_by_count_and_answers_aliases_with_the_canonical_tag()
    {
        var lon = (await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/tags/autocomplete?q=lon"))).AsArray();
        Assert.Equal(["long_hair", "long_sleeves"], lon.Select(c => (string)c!["name"]!));
        Assert.Equal(3, (long)lon[0]!["count"]!);
        Assert.Equal(1, (long)lon[1]!["count"]!);
        Assert.Equal("general", (string?)lon[0]!["category"]);
        Assert.Null(lon[0]!["alias"]);

        var alias = Assert.Single((await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/tags/autocomplete?q=hair_l"))).AsArray());
        Assert.Equal("long_hair", (string?)alias!["name"]);
        Assert.Equal("hair_long", (string?)alias["alias"]);
        Assert.Equal(3, (long)alias["count"]!);

        // Word starts inside a tag come after prefix matches; the limit holds.
        var hair = (await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/tags/autocomplete?q=hair"))).AsArray();
        Assert.Equal(["long_hair", "short_hair"], hair.Select(c => (string)c!["name"]!));
        Assert.Single((await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/tags/autocomplete?q=s&limit=1"))).AsArray());
        Assert.Empty((await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/tags/autocomplete?q="))).AsArray());
        await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/tags/autocomplete?q=a&limit=0"), HttpStatusCode.BadRequest, "bad-limit");
    }

    private async Task<JsonNode> Search(string query) =>
        await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/search?q=" + Uri.EscapeDataString(query)));
}
