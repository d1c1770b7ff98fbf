using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Trove.Testing;

namespace Trove.Server.Tests;

public sealed class DuplicateApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _better = null!;
    private string _worse = null!;
    private string _other = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        // The same picture saved twice at different JPEG quality: near-duplicates, but not the same bytes.
        var pixels = TestImages.Photo(42, 400, 300);
        var high = Path.Combine(_server.Scratch, "high.jpg");
        var low = Path.Combine(_server.Scratch, "low.jpg");
        TestImages.WriteJpeg(high, pixels, quality: 95);
        TestImages.WriteJpeg(low, pixels, quality: 40);
        _better = (await _server.ImportAsync("alice", high))[0];
        _worse = (await _server.ImportAsync("bob", low))[0];
        _other = (await _server.ImportAsync("bob", _server.WriteJpeg("other.jpg", seed: 7, 400, 300)))[0];
        Assert.NotEqual(_better, _worse);

        var mod = _server.As("mod");
        await TestServer.JsonAsync(await mod.PostAsJsonAsync($"/api/media/{_better}/tags", new { add = new[] { "sunset", "sea" } }));
        await TestServer.JsonAsync(await mod.PostAsJsonAsync($"/api/media/{_worse}/tags", new { add = new[] { "sunset", "boat" } }));
        await TestServer.JsonAsync(await mod.PostAsJsonAsync($"/api/media/{_worse}/captions", new { text = "A boat at sunset." }));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Near_duplicate_pair_is_a_group_and_merge_keeps_one_with_the_union()
    {
        var mod = _server.As("mod");
        var found = await TestServer.JsonAsync(await mod.GetAsync("/api/duplicates"));
        Assert.Equal(8, (int)found["distance"]!);
        var group = found["groups"]!.AsArray().Single()!.AsArray();
        Assert.Equal(new[] { _better, _worse }.Order(), group.Select(m => (string)m!["id"]!).Order());
        var member = group.First(m => (string?)m!["id"] == _better)!;
        Assert.Equal((400, 300), ((int)member["width"]!, (int)member["height"]!));
        Assert.True((long)member["size"]! > (long)group.First(m => (string?)m!["id"] == _worse)!["size"]!);
        Assert.DoesNotContain(_other, found.ToJsonString(), StringComparison.Ordinal);

        var report = await TestServer.JsonAsync(await mod.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better[..8], _worse[..8] } }));
        Assert.Equal(_better, (string?)report["kept"]);
        Assert.Equal([_worse], report["trashed"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["boat"], report["tagsAdded"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(1, (int)report["captionsAdded"]!);

        var kept = _server.Library.Files.ReadSidecar(_better);
        Assert.False(kept.InTrash);
        Assert.Equal(["boat", "sea", "sunset"], kept.Sidecar.Tags.Select(t => t.Name).Order());
        Assert.Equal("A boat at sunset.", kept.Sidecar.PrimaryCaption?.Text);
        var trashed = _server.Library.Files.ReadSidecar(_worse);
        Assert.True(trashed.InTrash);
        Assert.Contains(trashed.Sidecar.Relations, r => r.Type == "duplicate-of" && r.Target == _better);

        var after = await TestServer.JsonAsync(await mod.GetAsync("/api/duplicates"));
        Assert.Empty(after["groups"]!.AsArray());
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better, _worse } }), HttpStatusCode.BadRequest, "merge-trashed");
    }

    [Fact]
    public async Task Merge_may_name_the_one_to_keep()
    {
        var report = await TestServer.JsonAsync(await _server.As("mod").PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better }, keep = _worse }));
        Assert.Equal(_worse, (string?)report["kept"]);
        Assert.Equal([_better], report["trashed"]!.AsArray().Select(n => (string)n!));
        Assert.Contains(_server.Library.Files.ReadSidecar(_worse).Sidecar.Tags, t => t.Name == "sea");
    }

    [Fact]
    public async Task Only_moderators_review_and_merge()
    {
        foreach (var who in new[] { "alice", "bob", "vic" })
        {
            var client = _server.As(who);
            await TestServer.ProblemAsync(await client.GetAsync("/api/duplicates"), HttpStatusCode.Forbidden, "forbidden");
            await TestServer.ProblemAsync(await client.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better, _worse } }), HttpStatusCode.Forbidden, "forbidden");
        }

        using var anonymous = _server.Anonymous();
        await TestServer.ProblemAsync(await anonymous.GetAsync("/api/duplicates"), HttpStatusCode.Unauthorized, "unauthenticated");
        await TestServer.ProblemAsync(await anonymous.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better, _worse } }), HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.False(_server.Library.Files.ReadSidecar(_worse).InTrash);
        Assert.Equal(HttpStatusCode.OK, (await _server.As("admin").GetAsync("/api/duplicates")).StatusCode);
    }

    [Fact]
    public async Task Bad_input_is_a_problem_never_a_server_error()
    {
        var mod = _server.As("mod");
        await TestServer.ProblemAsync(await mod.GetAsync("/api/duplicates?distance=99"), HttpStatusCode.BadRequest, "bad-distance");
        await TestServer.ProblemAsync(await mod.GetAsync("/api/duplicates?distance=-1"), HttpStatusCode.BadRequest, "bad-distance");
        await TestServer.ProblemAsync(await mod.GetAsync("/api/duplicates?distance=abc"), HttpStatusCode.BadRequest, "bad-distance");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better } }), HttpStatusCode.BadRequest, "merge-needs-two");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better, _better[..10] } }), HttpStatusCode.BadRequest, "merge-needs-two");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better, "zzzz" } }), HttpStatusCode.BadRequest, "invalid-id");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better, "..%2f..%2fetc" } }), HttpStatusCode.BadRequest, "invalid-id");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better, "abcdef0123456789" } }), HttpStatusCode.NotFound, "media-not-found");
        await TestServer.ProblemAsync(await mod.PostAsJsonAsync("/api/duplicates/merge", new { ids = new[] { _better, _worse }, keep = "bbbbbb" }), HttpStatusCode.NotFound, "media-not-found");
        Assert.False(_server.Library.Files.ReadSidecar(_worse).InTrash);
    }
}
