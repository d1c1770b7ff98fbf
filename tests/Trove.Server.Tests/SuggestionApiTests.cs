using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Trove.Application.Tagging;

namespace Trove.Server.Tests;

/// <summary>The review API through the real host: per-media listing and review with ownership, the moderators' queue and stats.</summary>
public sealed class SuggestionApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _alice1 = null!;
    private string _alice2 = null!;
    private string _bob1 = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _alice1 = (await _server.ImportAsync("alice", _server.WriteJpeg("a1.jpg", 1)))[0];
        _alice2 = (await _server.ImportAsync("alice", _server.WriteJpeg("a2.jpg", 2)))[0];
        _bob1 = (await _server.ImportAsync("bob", _server.WriteJpeg("b1.jpg", 3)))[0];
        var service = new SuggestionService(_server.Library);
        await service.ApplyAsync(_alice1, [Model("wd14", "v3", ("cat", 0.9), ("dog", 0.4), ("hat", 0.6))], force: false, CancellationToken.None);
        await service.ApplyAsync(_alice2, [Model("custom", "1", ("sky", 0.8)), Model("wd14", "v3", ("cat", 0.55))], force: false, CancellationToken.None);
        await service.ApplyAsync(_bob1, [Model("wd14", "v2", ("tree", 0.7), ("cat", 0.95))], force: false, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ModelCandidates Model(string model, string version, params (string Tag, double Confidence)[] tags) =>
        new(model, version, [.. tags.Select(t => new TagCandidate(t.Tag, t.Confidence))]);

    private static Task<HttpResponseMessage> ReviewAsync(HttpClient client, string id, string[] approve, string[] reject) =>
        client.PostAsJsonAsync($"/api/media/{id}/tag-suggestions/review", new { approve, reject });

    private static string[] Tags(JsonNode node, string list = "suggestions") => [.. node[list]!.AsArray().Select(s => (string)s!["tag"]!)];

    [Fact]
    public async Task Uploader_lists_and_reviews_her_own_suggestions_and_the_tag_gets_provenance()
    {
        var alice = _server.As("alice");
        var listed = await TestServer.JsonAsync(await alice.GetAsync($"/api/media/{_alice1}/tag-suggestions"));
        Assert.Equal(3, (int)listed["pending"]!);
        Assert.Equal(["cat", "hat", "dog"], Tags(listed));
        var cat = listed["suggestions"]![0]!;
        Assert.Equal(0.9, (double)cat["confidence"]!);
        Assert.Equal("wd14", (string?)cat["model"]);
        Assert.Equal("v3", (string?)cat["version"]);
        Assert.Equal("pending", (string?)cat["status"]);
        Assert.Null(cat["reviewer"]);

        var review = await TestServer.JsonAsync(await ReviewAsync(alice, _alice1, ["cat"], ["dog"]));
        Assert.Equal(1, (int)review["approved"]!);
        Assert.Equal(1, (int)review["rejected"]!);
        Assert.Equal(0, (int)review["failed"]!);
        Assert.All(review["items"]!.AsArray(), i => Assert.True((bool)i!["ok"]!));
        Assert.Contains("cat", review["tagsAdded"]!.AsArray().Select(t => (string?)t));

        var detail = await TestServer.JsonAsync(await alice.GetAsync($"/api/media/{_alice1}"));
        var tag = detail["tags"]!.AsArray().Single(t => (string?)t!["name"] == "cat")!;
        Assert.Equal("suggestion", (string?)tag["source"]);
        Assert.Equal("wd14@v3", (string?)tag["via"]);
        Assert.Equal("alice", (string?)tag["addedBy"]);
        Assert.DoesNotContain(detail["tags"]!.AsArray(), t => (string?)t!["name"] == "dog");

        var rejected = await TestServer.JsonAsync(await alice.GetAsync($"/api/media/{_alice1}/tag-suggestions?status=rejected"));
        var dog = Assert.Single(rejected["suggestions"]!.AsArray())!;
        Assert.Equal("dog", (string?)dog["tag"]);
        Assert.Equal("alice", (string?)dog["reviewer"]);
        Assert.NotNull(dog["reviewedAt"]);
        Assert.Equal(["hat"], Tags(await TestServer.JsonAsync(await alice.GetAsync($"/api/media/{_alice1}/tag-suggestions?status=pending"))));
        await TestServer.ProblemAsync(await alice.GetAsync($"/api/media/{_alice1}/tag-suggestions?status=maybe"), HttpStatusCode.BadRequest, "invalid-status");
    }

    [Fact]
    public async Task Members_may_review_only_their_own_media_moderators_any_and_viewers_none()
    {
        await TestServer.ProblemAsync(await ReviewAsync(_server.As("alice"), _bob1, ["tree"], []), HttpStatusCode.Forbidden, "forbidden");
        await TestServer.ProblemAsync(await ReviewAsync(_server.As("vic"), _alice1, ["cat"], []), HttpStatusCode.Forbidden);
        await TestServer.ProblemAsync(await ReviewAsync(_server.As("bob"), "ffffffffffff", ["cat"], []), HttpStatusCode.NotFound);

        // Reading is open to every reader, viewers included.
        Assert.Equal(["cat", "tree"], Tags(await TestServer.JsonAsync(await _server.As("vic").GetAsync($"/api/media/{_bob1}/tag-suggestions"))));

        var review = await TestServer.JsonAsync(await ReviewAsync(_server.As("mod"), _bob1, ["tree"], []));
        Assert.Equal(1, (int)review["approved"]!);
        var detail = await TestServer.JsonAsync(await _server.As("bob").GetAsync($"/api/media/{_bob1}"));
        var tree = detail["tags"]!.AsArray().Single(t => (string?)t!["name"] == "tree")!;
        Assert.Equal("mod", (string?)tree["addedBy"]);
        Assert.Equal("wd14@v2", (string?)tree["via"]);
    }

    [Fact]
    public async Task Review_answers_200_with_an_error_code_per_failing_item()
    {
        var alice = _server.As("alice");
        await TestServer.JsonAsync(await ReviewAsync(alice, _alice1, [], ["hat"]));

        var response = await ReviewAsync(alice, _alice1, ["cat", "unicorn", "hat", "___"], ["cat2"]);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var review = await TestServer.JsonAsync(response);
        var items = review["items"]!.AsArray().ToDictionary(i => (string)i!["tag"]!, i => i!);
        Assert.True((bool)items["cat"]["ok"]!);
        Assert.Null(items["cat"]["code"]);
        Assert.Equal("suggestion-not-found", (string?)items["unicorn"]["code"]);
        Assert.False((bool)items["unicorn"]["ok"]!);
        Assert.Equal("already-rejected", (string?)items["hat"]["code"]);
        Assert.Equal("invalid-tag", (string?)items["___"]["code"]);
        Assert.Equal("suggestion-not-found", (string?)items["cat2"]["code"]);
        Assert.Equal("reject", (string?)items["cat2"]["action"]);
        Assert.Equal(1, (int)review["approved"]!);
        Assert.Equal(4, (int)review["failed"]!);

        var again = await TestServer.JsonAsync(await ReviewAsync(alice, _alice1, ["cat"], []));
        Assert.Equal("already-approved", (string?)again["items"]![0]!["code"]);
        await TestServer.ProblemAsync(await ReviewAsync(alice, _alice1, [], []), HttpStatusCode.BadRequest, "nothing-to-review");
    }

    [Fact]
    public async Task Queue_lists_pending_media_best_first_with_filters_and_paging()
    {
        var mod = _server.As("mod");
        var all = await TestServer.JsonAsync(await mod.GetAsync("/api/tag-suggestions/queue"));
        Assert.Equal(3, (long)all["total"]!);
        Assert.Equal(7, (long)all["suggestions"]!);
        var items = all["items"]!.AsArray();
        Assert.Equal([_bob1, _alice1, _alice2], items.Select(i => (string)i!["id"]!));
        Assert.Equal($"/api/media/{_bob1}/thumbnail?size=256", (string?)items[0]!["thumbnail"]);
        Assert.Equal(0.95, (double)items[0]!["bestConfidence"]!);
        Assert.Equal(["cat", "tree"], Tags(items[0]!));
        Assert.Null(all["next"]);

        var custom = await TestServer.JsonAsync(await mod.GetAsync("/api/tag-suggestions/queue?model=custom"));
        var only = Assert.Single(custom["items"]!.AsArray())!;
        Assert.Equal(_alice2, (string?)only["id"]);
        Assert.Equal(["sky"], Tags(only));
        Assert.Equal(2, (long)only["pending"]!);

        var v2 = await TestServer.JsonAsync(await mod.GetAsync("/api/tag-suggestions/queue?model=wd14@v2"));
        Assert.Equal([_bob1], v2["items"]!.AsArray().Select(i => (string)i!["id"]!));

        var cats = await TestServer.JsonAsync(await mod.GetAsync("/api/tag-suggestions/queue?tag=cat&minConfidence=0.5&maxConfidence=0.9"));
        Assert.Equal([_alice1, _alice2], cats["items"]!.AsArray().Select(i => (string)i!["id"]!));
        Assert.All(cats["items"]!.AsArray(), i => Assert.Equal(["cat"], Tags(i!)));

        var seen = new List<string>();
        string? next = null;
        do
        {
            var url = "/api/tag-suggestions/queue?limit=2" + (next is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(next));
            var page = await TestServer.JsonAsync(await mod.GetAsync(url));
            Assert.True(page["items"]!.AsArray().Count <= 2);
            seen.AddRange(page["items"]!.AsArray().Select(i => (string)i!["id"]!));
            next = (string?)page["next"];
        }
        while (next is not null);
        Assert.Equal([_bob1, _alice1, _alice2], seen);

        // Reviewed suggestions leave the queue.
        await TestServer.JsonAsync(await ReviewAsync(mod, _bob1, ["cat"], ["tree"]));
        var after = await TestServer.JsonAsync(await mod.GetAsync("/api/tag-suggestions/queue"));
        Assert.Equal([_alice1, _alice2], after["items"]!.AsArray().Select(i => (string)i!["id"]!));

        await TestServer.ProblemAsync(await mod.GetAsync("/api/tag-suggestions/queue?minConfidence=2"), HttpStatusCode.BadRequest, "bad-confidence");
        await TestServer.ProblemAsync(await mod.GetAsync("/api/tag-suggestions/queue?minConfidence=0.8&maxConfidence=0.2"), HttpStatusCode.BadRequest, "bad-confidence");
        await TestServer.ProblemAsync(await mod.GetAsync("/api/tag-suggestions/queue?cursor=nonsense"), HttpStatusCode.BadRequest, "bad-cursor");
    }

    [Fact]
    public async Task Stats_count_decisions_exactly_and_survive_a_rebuild()
    {
        var mod = _server.As("mod");
        await TestServer.JsonAsync(await ReviewAsync(_server.As("alice"), _alice1, ["cat"], ["dog", "hat"]));
        await TestServer.JsonAsync(await ReviewAsync(mod, _bob1, [], ["cat"]));
        await TestServer.JsonAsync(await ReviewAsync(mod, _alice2, ["sky"], []));

        var stats = await TestServer.JsonAsync(await mod.GetAsync("/api/tag-suggestions/stats"));
        AssertCounts(stats["totals"]!, pending: 2, approved: 2, rejected: 3, rate: 0.4);

        var byModel = stats["byModel"]!.AsArray().ToDictionary(m => $"{m!["model"]}@{m["version"]}", m => m!["counts"]!);
        Assert.Equal(["custom@1", "wd14@v2", "wd14@v3"], byModel.Keys.Order(StringComparer.Ordinal));
        AssertCounts(byModel["custom@1"], pending: 0, approved: 1, rejected: 0, rate: 1.0);
        AssertCounts(byModel["wd14@v2"], pending: 1, approved: 0, rejected: 1, rate: 0.0);
        AssertCounts(byModel["wd14@v3"], pending: 1, approved: 1, rejected: 2, rate: 1.0 / 3);

        // cat: 3 suggestions (approved, rejected, pending); then dog, hat, sky, tree with one each, by name.
        Assert.Equal(["cat", "dog", "hat", "sky", "tree"], Tags(stats, "topSuggested"));
        AssertCounts(stats["topSuggested"]![0]!["counts"]!, pending: 1, approved: 1, rejected: 1, rate: 0.5);
        Assert.Equal(["cat", "dog", "hat"], Tags(stats, "topRejected"));
        Assert.Equal(["cat"], Tags(await TestServer.JsonAsync(await mod.GetAsync("/api/tag-suggestions/stats?top=1")), "topSuggested"));

        // The decisions live in the sidecars: a rebuilt index gives the same numbers.
        await Trove.Application.RebuildService.RebuildAsync(_server.Library, null, CancellationToken.None);
        var rebuilt = await TestServer.JsonAsync(await mod.GetAsync("/api/tag-suggestions/stats"));
        Assert.Equal(stats.ToJsonString(), rebuilt.ToJsonString());
    }

    [Fact]
    public async Task Queue_and_stats_are_for_moderators_only()
    {
        foreach (var user in new[] { "alice", "vic" })
        {
            await TestServer.ProblemAsync(await _server.As(user).GetAsync("/api/tag-suggestions/queue"), HttpStatusCode.Forbidden);
            await TestServer.ProblemAsync(await _server.As(user).GetAsync("/api/tag-suggestions/stats"), HttpStatusCode.Forbidden);
        }

        await TestServer.JsonAsync(await _server.As("admin").GetAsync("/api/tag-suggestions/stats"));
    }

    [Fact]
    public async Task Listing_counts_every_status_of_the_media_whatever_the_filter()
    {
        var alice = _server.As("alice");
        await TestServer.JsonAsync(await ReviewAsync(alice, _alice1, ["cat"], ["dog"]));

        foreach (var (status, expected) in new[] { ("", new[] { "cat", "hat", "dog" }), ("pending", ["hat"]), ("approved", ["cat"]), ("rejected", ["dog"]) })
        {
            var list = await TestServer.JsonAsync(await alice.GetAsync($"/api/media/{_alice1}/tag-suggestions?status={status}"));
            Assert.Equal(_alice1, (string?)list["id"]);
            Assert.Equal(expected, Tags(list));
            Assert.Equal((1, 1, 1, 3), ((int)list["pending"]!, (int)list["approved"]!, (int)list["rejected"]!, (int)list["total"]!));
        }

        await TestServer.ProblemAsync(await alice.GetAsync("/api/media/ffffffffffff/tag-suggestions"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Review_takes_items_with_actions_and_answers_errors_per_item()
    {
        var alice = _server.As("alice");
        var body = new
        {
            suggestions = new object[]
            {
                new { tag = "cat", action = "approve" },
                new { tag = "dog", action = "REJECT" },
                new { tag = "hat", action = "maybe" },
                new { tag = "unicorn", action = "approve" },
                new { tag = "", action = "approve" },
            },
        };
        var response = await alice.PostAsJsonAsync($"/api/media/{_alice1}/tag-suggestions/review", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var review = await TestServer.JsonAsync(response);
        Assert.Equal((1, 1, 3), ((int)review["approved"]!, (int)review["rejected"]!, (int)review["failed"]!));
        var items = review["items"]!.AsArray().Select(i => ((string?)i!["tag"], (string?)i["action"], (bool)i["ok"]!, (string?)i["code"])).ToList();
        Assert.Equal(
            [("cat", "approve", true, null), ("unicorn", "approve", false, "suggestion-not-found"), ("dog", "reject", true, null), ("hat", "maybe", false, "invalid-action"), ("", "approve", false, "invalid-tag")],
            items);
        var errors = review["errors"]!.AsArray().Select(e => (string)e!).ToList();
        Assert.Equal(3, errors.Count);
        Assert.StartsWith("unicorn: ", errors[0], StringComparison.Ordinal);
        Assert.Equal("hat: Action 'maybe' for 'hat' is neither approve nor reject.", errors[1]);

        // The invalid item changed nothing: hat is still pending; the valid ones were decided in the same write.
        var pending = await TestServer.JsonAsync(await alice.GetAsync($"/api/media/{_alice1}/tag-suggestions?status=pending"));
        Assert.Equal(["hat"], Tags(pending));
        var detail = await TestServer.JsonAsync(await alice.GetAsync($"/api/media/{_alice1}"));
        Assert.Equal("wd14@v3", (string?)detail["tags"]!.AsArray().Single(t => (string?)t!["name"] == "cat")!["via"]);

        // Lists and items together; nothing at all is still a 400.
        var both = await TestServer.JsonAsync(await alice.PostAsJsonAsync($"/api/media/{_alice2}/tag-suggestions/review", new { approve = new[] { "sky" }, suggestions = new[] { new { tag = "cat", action = "reject" } } }));
        Assert.Equal((1, 1, 0), ((int)both["approved"]!, (int)both["rejected"]!, (int)both["failed"]!));
        Assert.Empty(both["errors"]!.AsArray());
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync($"/api/media/{_alice2}/tag-suggestions/review", new { suggestions = Array.Empty<object>() }), HttpStatusCode.BadRequest, "nothing-to-review");
    }

    [Fact]
    public async Task Only_the_uploader_moderators_and_admins_may_review()
    {
        var body = new { suggestions = new[] { new { tag = "cat", action = "approve" } } };

        // Refused: anonymous (401), a viewer, another member (403) — in both request forms — and nothing changed.
        await TestServer.ProblemAsync(await _server.Anonymous().PostAsJsonAsync($"/api/media/{_alice1}/tag-suggestions/review", body), HttpStatusCode.Unauthorized);
        await TestServer.ProblemAsync(await _server.As("vic").PostAsJsonAsync($"/api/media/{_alice1}/tag-suggestions/review", body), HttpStatusCode.Forbidden);
        await TestServer.ProblemAsync(await _server.As("bob").PostAsJsonAsync($"/api/media/{_alice1}/tag-suggestions/review", body), HttpStatusCode.Forbidden, "forbidden");
        await TestServer.ProblemAsync(await ReviewAsync(_server.As("bob"), _alice1, [], ["cat"]), HttpStatusCode.Forbidden, "forbidden");
        var untouched = await TestServer.JsonAsync(await _server.As("alice").GetAsync($"/api/media/{_alice1}/tag-suggestions"));
        Assert.Equal(3, (int)untouched["pending"]!);
        await TestServer.ProblemAsync(await _server.Anonymous().GetAsync($"/api/media/{_alice1}/tag-suggestions"), HttpStatusCode.Unauthorized);
        await TestServer.ProblemAsync(await _server.Anonymous().GetAsync("/api/tag-suggestions/queue"), HttpStatusCode.Unauthorized);
        await TestServer.ProblemAsync(await _server.Anonymous().GetAsync("/api/tag-suggestions/stats"), HttpStatusCode.Unauthorized);

        // Allowed: the uploader on her own media, a moderator and an admin on anyone's.
        Assert.Equal(1, (int)(await TestServer.JsonAsync(await _server.As("alice").PostAsJsonAsync($"/api/media/{_alice1}/tag-suggestions/review", body)))["approved"]!);
        Assert.Equal(1, (int)(await TestServer.JsonAsync(await ReviewAsync(_server.As("mod"), _alice2, ["sky"], [])))["approved"]!);
        Assert.Equal(1, (int)(await TestServer.JsonAsync(await ReviewAsync(_server.As("admin"), _bob1, [], ["tree"])))["rejected"]!);
        var tree = (await TestServer.JsonAsync(await _server.As("bob").GetAsync($"/api/media/{_bob1}/tag-suggestions?status=rejected")))["suggestions"]![0]!;
        Assert.Equal("admin", (string?)tree["reviewer"]);
    }

    private static void AssertCounts(JsonNode counts, long pending, long approved, long rejected, double? rate)
    {
        Assert.Equal(pending, (long)counts["pending"]!);
        Assert.Equal(approved, (long)counts["approved"]!);
        Assert.Equal(rejected, (long)counts["rejected"]!);
        Assert.Equal(pending + approved + rejected, (long)counts["total"]!);
        Assert.Equal(rate!.Value, (double)counts["approvalRate"]!, 9);
    }
}
