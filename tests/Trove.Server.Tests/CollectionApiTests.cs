using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Trove.Server.Tests;

public sealed class CollectionApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private IReadOnlyList<string> _ids = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _ids = await _server.ImportAsync("bob", Enumerable.Range(1, 4).Select(i => _server.WriteJpeg($"m{i}.jpg", seed: 100 + i)).ToArray());
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Member_creates_and_adds_moderator_moves_and_removes_in_order()
    {
        var alice = _server.As("alice");
        var created = await alice.PostAsJsonAsync("/api/collections", new { name = "Beach Trip", description = "Summer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/collections/Beach%20Trip", created.Headers.Location?.ToString());
        var collection = await TestServer.JsonAsync(created);
        Assert.Equal("Beach Trip", (string?)collection["name"]);
        Assert.Equal("Summer", (string?)collection["description"]);

        // A member may add anyone's media (here bob's), by full id or prefix; adding again keeps the place.
        var added = await TestServer.JsonAsync(await alice.PostAsJsonAsync("/api/collections/Beach%20Trip/media", new { ids = new[] { _ids[0], _ids[1][..8], _ids[2] } }));
        Assert.Equal(_ids.Take(3), Members(added));
        var again = await TestServer.JsonAsync(await alice.PostAsJsonAsync("/api/collections/beach%20trip/media", new { ids = new[] { _ids[3], _ids[0] } }));
        Assert.Equal(_ids, Members(again));
        Assert.Equal(4, (long)again["total"]!);
        Assert.Equal(4, (int)again["members"]!.AsArray()[3]!["position"]!);

        var mod = _server.As("mod");
        var moved = await TestServer.JsonAsync(await mod.PostAsJsonAsync("/api/collections/Beach%20Trip/move", new { id = _ids[3], position = 1 }));
        Assert.Equal(new[] { _ids[3], _ids[0], _ids[1], _ids[2] }, Members(moved));
        var middle = await TestServer.JsonAsync(await mod.PostAsJsonAsync("/api/collections/Beach%20Trip/move", new { id = _ids[3], position = 3 }));
        Assert.Equal(new[] { _ids[0], _ids[1], _ids[3], _ids[2] }, Members(middle));

        var removed = await TestServer.JsonAsync(await mod.PostAsJsonAsync("/api/collections/Beach%20Trip/media/remove", new { ids = new[] { _ids[1] } }));
        Assert.Equal(new[] { _ids[0], _ids[3], _ids[2] }, Members(removed));

        var shown = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/collections/Beach%20Trip"));
        Assert.Equal(new[] { _ids[0], _ids[3], _ids[2] }, Members(shown));
        Assert.Equal(3, (long)shown["collection"]!["members"]!);
        Assert.Equal($"/api/media/{_ids[0]}/thumbnail?size=256", (string?)shown["members"]!.AsArray()[0]!["thumbnail"]);
        var page = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/collections/Beach%20Trip?offset=1&limit=1"));
        Assert.Equal(new[] { _ids[3] }, Members(page));
        Assert.Equal(2, (int)page["members"]!.AsArray()[0]!["position"]!);

        await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/collections/Beach%20Trip?offset=-1"), HttpStatusCode.BadRequest, "bad-offset");
        await TestServer.ProblemAsync(await _server.As("vic").GetAsync("/api/collections/Beach%20Trip?limit=x"), HttpStatusCode.BadRequest, "bad-limit");

        var listed = await TestServer.JsonAsync(await _server.As("vic").GetAsync("/api/collections"));
        Assert.Equal(3, (long)listed.AsArray().Single()!["members"]!);

        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/collections/Beach%20Trip/move", new { id = _ids[1], position = 1 }), HttpStatusCode.BadRequest, "not-a-member");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/collections/Beach%20Trip/move", new { id = _ids[0], position = 9 }), HttpStatusCode.BadRequest, "bad-position");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/collections/Beach%20Trip/move", new { position = 1 }), HttpStatusCode.BadRequest, "missing-field");
    }

    [Fact]
    public async Task Moderator_renames_describes_and_deletes_member_may_not()
    {
        var alice = _server.As("alice");
        await TestServer.JsonAsync(await alice.PostAsJsonAsync("/api/collections", new { name = "Draft" }));
        await TestServer.JsonAsync(await alice.PostAsJsonAsync("/api/collections/Draft/media", new { ids = new[] { _ids[0] } }));

        await TestServer.ProblemAsync(await alice.PatchAsJsonAsync("/api/collections/Draft", new { name = "Mine" }), HttpStatusCode.Forbidden, "forbidden");
        await TestServer.ProblemAsync(await alice.DeleteAsync("/api/collections/Draft"), HttpStatusCode.Forbidden, "forbidden");
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync("/api/collections/Draft/move", new { id = _ids[0], position = 1 }), HttpStatusCode.Forbidden, "forbidden");
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync("/api/collections/Draft/media/remove", new { ids = new[] { _ids[0] } }), HttpStatusCode.Forbidden, "forbidden");

        var vic = _server.As("vic");
        await TestServer.ProblemAsync(await vic.PostAsJsonAsync("/api/collections", new { name = "Viewer's" }), HttpStatusCode.Forbidden, "forbidden");
        await TestServer.ProblemAsync(await vic.PostAsJsonAsync("/api/collections/Draft/media", new { ids = new[] { _ids[1] } }), HttpStatusCode.Forbidden, "forbidden");
        using var anonymous = _server.Anonymous();
        await TestServer.ProblemAsync(await anonymous.GetAsync("/api/collections"), HttpStatusCode.Unauthorized, "unauthenticated");
        await TestServer.ProblemAsync(await anonymous.PostAsJsonAsync("/api/collections", new { name = "Anon" }), HttpStatusCode.Unauthorized, "unauthenticated");

        var mod = _server.As("mod");
        var updated = await TestServer.JsonAsync(await mod.PatchAsJsonAsync("/api/collections/Draft", new { name = "Final", description = "Chosen", tags = new[] { "Best Of" } }));
        Assert.Equal("Final", (string?)updated["name"]);
        Assert.Equal("Chosen", (string?)updated["description"]);
        Assert.Equal(["best_of"], updated["tags"]!.AsArray().Select(n => (string)n!));
        await TestServer.ProblemAsync(await mod.GetAsync("/api/collections/Draft"), HttpStatusCode.NotFound, "collection-not-found");
        var final = await TestServer.JsonAsync(await mod.GetAsync("/api/collections/Final"));
        Assert.Equal(new[] { _ids[0] }, Members(final));

        await TestServer.JsonAsync(await mod.PostAsJsonAsync("/api/collections", new { name = "Other" }));
        await TestServer.ProblemAsync(await mod.PatchAsJsonAsync("/api/collections/Final", new { name = "other" }), HttpStatusCode.Conflict, "collection-exists");
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync("/api/collections", new { name = "final" }), HttpStatusCode.Conflict, "collection-exists");
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync("/api/collections", new { name = "  " }), HttpStatusCode.BadRequest, "invalid-collection-name");

        Assert.Equal(HttpStatusCode.NoContent, (await mod.DeleteAsync("/api/collections/Final")).StatusCode);
        await TestServer.ProblemAsync(await mod.GetAsync("/api/collections/Final"), HttpStatusCode.NotFound, "collection-not-found");
        Assert.Empty(_server.Library.Files.ReadSidecar(_ids[0]).Sidecar.Collections);
    }

    [Fact]
    public async Task Names_with_slashes_and_forged_ids_are_handled()
    {
        var mod = _server.As("mod");
        await TestServer.JsonAsync(await mod.PostAsJsonAsync("/api/collections", new { name = "AC/DC" }));
        var shown = await TestServer.JsonAsync(await mod.GetAsync("/api/collections/AC%2FDC"));
        Assert.Equal("AC/DC", (string?)shown["collection"]!["name"]);

        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/collections/AC%2FDC/media", new { ids = new[] { "zzzz" } }), HttpStatusCode.BadRequest, "invalid-id");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/collections/AC%2FDC/media", new { ids = new[] { "../../etc/passwd" } }), HttpStatusCode.BadRequest, "invalid-id");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/collections/AC%2FDC/media", new { ids = new[] { "abcdef0123456789" } }), HttpStatusCode.NotFound, "media-not-found");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/collections/AC%2FDC/media", new { ids = Array.Empty<string>() }), HttpStatusCode.BadRequest, "missing-field");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/collections/nope/media", new { ids = new[] { _ids[0] } }), HttpStatusCode.NotFound, "collection-not-found");
        await TestServer.ProblemAsync(await mod.GetAsync("/api/collections/..%2F..%2Fstate"), HttpStatusCode.NotFound, "collection-not-found");
        Assert.Empty(Members(await TestServer.JsonAsync(await mod.GetAsync("/api/collections/AC%2FDC"))));
    }

    private static List<string> Members(JsonNode detail) =>
        detail["members"]!.AsArray().Select(m => (string)m!["id"]!).ToList();
}
