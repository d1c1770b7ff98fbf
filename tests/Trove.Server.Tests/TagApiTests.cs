using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Trove.Application.Search;

namespace Trove.Server.Tests;

public sealed class TagApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _first = null!;
    private string _second = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        var ids = await _server.ImportAsync("alice", _server.WriteJpeg("a.jpg", seed: 11), _server.WriteJpeg("b.jpg", seed: 12));
        (_first, _second) = (ids[0], ids[1]);
        var alice = _server.As("alice");
        await TestServer.JsonAsync(await alice.PostAsJsonAsync($"/api/media/{_first}/tags", new { add = new[] { "kitty", "outdoors" } }));
        await TestServer.JsonAsync(await alice.PostAsJsonAsync($"/api/media/{_second}/tags", new { add = new[] { "kitty" } }));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Tags_are_listed_with_counts_and_categories()
    {
        var listing = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/tags"));
        var kitty = Tag(listing, "kitty");
        Assert.Equal(2, (long)kitty["count"]!);
        Assert.Equal("general", (string?)kitty["category"]);
        Assert.Equal(1, (long)Tag(listing, "outdoors")["count"]!);
        var categories = listing["categories"]!.AsArray().Select(c => (string)c!["name"]!).ToList();
        Assert.Contains("character", categories);
        Assert.True((bool)listing["categories"]!.AsArray().First(c => (string?)c!["name"] == "general")!["builtin"]!);
        Assert.Empty(listing["aliases"]!.AsArray());

        var one = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/tags/Kitty"));
        Assert.Equal("kitty", (string?)one["name"]);
        Assert.Equal(2, (long)one["count"]!);
        await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/tags/never_used"), HttpStatusCode.NotFound, "tag-not-found");
        await TestServer.ProblemAsync(await _server.Anonymous().GetAsync("/api/tags"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Moderator_sets_category_and_description_others_may_not()
    {
        var mod = _server.As("mod");
        var created = await mod.PostAsJsonAsync("/api/categories", new { name = "Species" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var updated = await TestServer.JsonAsync(await mod.PutAsJsonAsync("/api/tags/kitty", new { category = "species", description = "A young cat." }));
        Assert.Equal("species", (string?)updated["category"]);
        Assert.Equal("A young cat.", (string?)updated["description"]);

        var categories = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/categories"));
        var species = categories.AsArray().Single(c => (string?)c!["name"] == "species")!;
        Assert.False((bool)species["builtin"]!);
        Assert.Equal(1, (long)species["tags"]!);

        var cleared = await TestServer.JsonAsync(await mod.PutAsJsonAsync("/api/tags/kitty", new { description = "" }));
        Assert.Null(cleared["description"]);
        Assert.Equal("species", (string?)cleared["category"]);

        var unknown = await TestServer.ProblemAsync(await mod.PutAsJsonAsync("/api/tags/kitty", new { category = "nonsense" }), HttpStatusCode.BadRequest, "unknown-category");
        Assert.Contains("species", (string?)unknown["detail"], StringComparison.Ordinal);
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/categories", new { name = "species" }), HttpStatusCode.Conflict, "category-exists");

        foreach (var who in new[] { "alice", "vic" })
        {
            var client = _server.As(who);
            await TestServer.ProblemAsync(await client.PutAsJsonAsync("/api/tags/kitty", new { category = "general" }), HttpStatusCode.Forbidden, "forbidden");
            await TestServer.ProblemAsync(await client.PostAsJsonAsync("/api/categories", new { name = "mine" }), HttpStatusCode.Forbidden, "forbidden");
            await TestServer.ProblemAsync(await client.PostAsJsonAsync("/api/tags/aliases", new { from = "kitty", to = "cat" }), HttpStatusCode.Forbidden, "forbidden");
            await TestServer.ProblemAsync(await client.DeleteAsync("/api/tags/aliases/kitty"), HttpStatusCode.Forbidden, "forbidden");
            await TestServer.ProblemAsync(await client.PostAsJsonAsync("/api/tags/implications", new { child = "kitty", parent = "cat" }), HttpStatusCode.Forbidden, "forbidden");
            await TestServer.ProblemAsync(await client.DeleteAsync("/api/tags/implications/kitty/cat"), HttpStatusCode.Forbidden, "forbidden");
        }

        using var anonymous = _server.Anonymous();
        await TestServer.ProblemAsync(await anonymous.PutAsJsonAsync("/api/tags/kitty", new { category = "general" }), HttpStatusCode.Unauthorized, "unauthenticated");
        await TestServer.ProblemAsync(await anonymous.PostAsJsonAsync("/api/tags/aliases", new { from = "kitty", to = "cat" }), HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal("species", (await TestServer.JsonAsync(await mod.GetAsync("/api/tags/kitty")))["category"]!.GetValue<string>());
    }

    [Fact]
    public async Task Alias_retags_media_and_the_old_name_keeps_finding_them()
    {
        var mod = _server.As("mod");
        var change = await TestServer.JsonAsync(await mod.PostAsJsonAsync("/api/tags/aliases", new { from = "kitty", to = "cat" }));
        Assert.Equal(2, (int)change["mediaUpdated"]!);
        Assert.All(new[] { _first, _second }, id => Assert.Contains(_server.Library.Files.ReadSidecar(id).Sidecar.Tags, t => t.Name == "cat"));

        var search = _server.App.Services.GetRequiredService<SearchService>();
        var byOldName = await search.SearchAsync("kitty", 10, 0, CancellationToken.None);
        Assert.Equal(2, byOldName.Total);
        Assert.Equal(new[] { _first, _second }.Order(), byOldName.Ids.Order());
        var overHttp = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/search?q=kitty"));
        Assert.Equal(2, (long)overHttp["total"]!);
        Assert.Equal(new[] { _first, _second }.Order(), overHttp["items"]!.AsArray().Select(i => (string)i!["id"]!).Order());

        // Tagging with the old name applies the canonical tag.
        var bobs = (await _server.ImportAsync("bob", _server.WriteJpeg("c.jpg", seed: 13)))[0];
        var tagged = await TestServer.JsonAsync(await _server.As("bob").PostAsJsonAsync($"/api/media/{bobs}/tags", new { add = new[] { "kitty" } }));
        Assert.Equal(["cat"], tagged["tags"]!.AsArray().Select(n => (string)n!));

        var lookedUp = await TestServer.JsonAsync(await mod.GetAsync("/api/tags/kitty"));
        Assert.Equal("cat", (string?)lookedUp["name"]);
        Assert.Equal("kitty", (string?)lookedUp["aliasFrom"]);
        Assert.Equal(3, (long)lookedUp["count"]!);
        Assert.Equal(["kitty"], lookedUp["aliases"]!.AsArray().Select(n => (string)n!));
        var listing = await TestServer.JsonAsync(await mod.GetAsync("/api/tags"));
        var alias = listing["aliases"]!.AsArray().Single()!;
        Assert.Equal(("kitty", "cat"), ((string)alias["from"]!, (string)alias["to"]!));

        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/tags/aliases", new { from = "cat", to = "kitty" }), HttpStatusCode.BadRequest, "alias-cycle");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/tags/aliases", new { from = "kitty" }), HttpStatusCode.BadRequest, "missing-field");

        var removed = await TestServer.JsonAsync(await mod.DeleteAsync("/api/tags/aliases/kitty"));
        Assert.Contains("no longer", (string?)removed["summary"], StringComparison.Ordinal);
        Assert.Empty((await TestServer.JsonAsync(await mod.GetAsync("/api/tags")))["aliases"]!.AsArray());
        await TestServer.ProblemAsync(await mod.DeleteAsync("/api/tags/aliases/kitty"), HttpStatusCode.NotFound, "alias-not-found");
    }

    [Fact]
    public async Task Implication_applies_retroactively_and_to_later_tagging()
    {
        var mod = _server.As("mod");
        await TestServer.JsonAsync(await mod.PostAsJsonAsync("/api/tags/implications", new { child = "cat", parent = "animal" }));
        var change = await TestServer.JsonAsync(await mod.PostAsJsonAsync("/api/tags/implications", new { child = "kitty", parent = "cat" }));
        Assert.Equal(2, (int)change["mediaUpdated"]!);
        foreach (var id in new[] { _first, _second })
        {
            var tags = _server.Library.Files.ReadSidecar(id).Sidecar.Tags;
            var cat = tags.Single(t => t.Name == "cat");
            Assert.Equal(("implication", "kitty"), (cat.Source, cat.Via));
            Assert.Contains(tags, t => t.Name == "animal");
        }

        var kitty = await TestServer.JsonAsync(await mod.GetAsync("/api/tags/kitty"));
        Assert.Equal(["cat"], kitty["implies"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["animal", "cat"], kitty["impliesAll"]!.AsArray().Select(n => (string)n!));
        var cat2 = await TestServer.JsonAsync(await mod.GetAsync("/api/tags/cat"));
        Assert.Equal(["kitty"], cat2["impliedBy"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(2, (long)cat2["count"]!);

        var cycle = await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/tags/implications", new { child = "animal", parent = "kitty" }), HttpStatusCode.BadRequest, "implication-cycle");
        Assert.Contains("kitty → cat → animal", (string?)cycle["detail"], StringComparison.Ordinal);

        var listing = await TestServer.JsonAsync(await mod.GetAsync("/api/tags"));
        Assert.Equal(2, listing["implications"]!.AsArray().Count);

        await TestServer.JsonAsync(await mod.DeleteAsync("/api/tags/implications/kitty/cat"));
        Assert.Contains(_server.Library.Files.ReadSidecar(_first).Sidecar.Tags, t => t.Name == "cat");
        await TestServer.ProblemAsync(await mod.DeleteAsync("/api/tags/implications/kitty/cat"), HttpStatusCode.NotFound, "implication-not-found");
        var later = (await _server.ImportAsync("alice", _server.WriteJpeg("d.jpg", seed: 14)))[0];
        var tagged = await TestServer.JsonAsync(await _server.As("alice").PostAsJsonAsync($"/api/media/{later}/tags", new { add = new[] { "cat" } }));
        Assert.Equal(["animal", "cat"], tagged["tags"]!.AsArray().Select(n => (string)n!).Order());
    }

    [Fact]
    public async Task Autocomplete_is_not_taken_for_a_tag_named_autocomplete()
    {
        var completions = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/tags/autocomplete?q=ki"));
        Assert.Equal("kitty", (string?)completions.AsArray().First()!["name"]);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_vocabulary_collection_duplicate_and_annotation_endpoints()
    {
        var document = await TestServer.JsonAsync(await _server.Anonymous().GetAsync("/api/openapi/v1.json"));
        var paths = document["paths"]!.AsObject();
        foreach (var path in new[]
        {
            "/api/tags", "/api/tags/{name}", "/api/tags/aliases", "/api/tags/aliases/{from}", "/api/tags/implications/{child}/{parent}", "/api/categories",
            "/api/collections", "/api/collections/{name}", "/api/collections/{name}/media", "/api/collections/{name}/media/remove", "/api/collections/{name}/move",
            "/api/duplicates", "/api/duplicates/merge",
            "/api/media/{id}/tags", "/api/media/{id}/captions", "/api/media/{id}/captions/{captionId}/primary", "/api/media/{id}/crops/{name}",
            "/api/media/{id}/crops/{name}/image", "/api/media/{id}/masks",
        })
        {
            Assert.True(paths.ContainsKey(path), $"{path} is not in the OpenAPI document");
        }

        Assert.NotNull(paths["/api/tags/{name}"]!["put"]);
        Assert.NotNull(paths["/api/collections/{name}"]!["patch"]);
    }

    private static JsonNode Tag(JsonNode listing, string name) =>
        listing["tags"]!.AsArray().Single(t => (string?)t!["name"] == name)!;
}
