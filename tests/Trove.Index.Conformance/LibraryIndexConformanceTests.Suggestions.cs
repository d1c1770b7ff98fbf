using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Index.Conformance;

public abstract partial class LibraryIndexConformanceTests
{
    private static TagSuggestion Proposed(string tag, double confidence, string status = SuggestionStatus.Pending, string model = "wd14", string version = "v3") =>
        new() { Tag = tag, Confidence = confidence, Model = model, ModelVersion = version, Status = status, CreatedAt = T0 };

    private static MediaSidecar WithSuggestions(int n, params TagSuggestion[] suggestions)
    {
        var sidecar = Sidecar(n);
        sidecar.Suggestions = [.. suggestions];
        return sidecar;
    }

    private static PendingSuggestionFilter Queue(string? model = null, string? version = null, string? tag = null, double? min = null, double? max = null, int limit = 100, PendingSuggestionCursor? after = null) =>
        new(model, version, tag, min, max, limit, after);

    [Fact]
    public async Task Pending_suggestions_list_library_media_best_first_with_their_pending_suggestions()
    {
        await UpsertAsync(
            WithSuggestions(1, Proposed("cat", 0.6), Proposed("dog", 0.9, SuggestionStatus.Rejected), Proposed("hat", 0.7)),
            WithSuggestions(2, Proposed("cat", 0.95), Proposed("sky", 0.5, model: "custom", version: "1")),
            WithSuggestions(3, Proposed("tree", 0.8, SuggestionStatus.Approved)),
            Sidecar(4, "plain"));
        await UpsertTrashAsync(WithSuggestions(5, Proposed("cat", 0.99)));

        var page = await Index.PendingSuggestionsAsync(Queue(), Ct);

        Assert.Equal(2, page.TotalMedia);
        Assert.Equal(4, page.TotalSuggestions);
        Assert.Equal([IdOf(2), IdOf(1)], page.Items.Select(i => i.MediaId));
        var first = page.Items[0];
        Assert.Equal(0.95, first.BestConfidence);
        Assert.Equal(2, first.PendingTotal);
        Assert.Equal(["cat", "sky"], first.Suggestions.Select(s => s.Tag));
        Assert.Equal(new PendingSuggestionRow("sky", 0.5, "custom", "1"), first.Suggestions[1]);
        Assert.Equal(["hat", "cat"], page.Items[1].Suggestions.Select(s => s.Tag));
        Assert.Equal(0.7, page.Items[1].BestConfidence);
    }

    [Fact]
    public async Task Pending_suggestions_filter_by_model_version_tag_and_confidence()
    {
        await UpsertAsync(
            WithSuggestions(1, Proposed("cat", 0.6), Proposed("hat", 0.7, model: "custom", version: "1")),
            WithSuggestions(2, Proposed("cat", 0.95), Proposed("sky", 0.5, version: "v2")),
            WithSuggestions(3, Proposed("sky", 0.4, model: "custom", version: "2")));

        var custom = await Index.PendingSuggestionsAsync(Queue(model: "custom"), Ct);
        Assert.Equal([IdOf(1), IdOf(3)], custom.Items.Select(i => i.MediaId));
        Assert.Equal(["hat"], custom.Items[0].Suggestions.Select(s => s.Tag));
        Assert.Equal(2, custom.Items[0].PendingTotal);

        var v2 = await Index.PendingSuggestionsAsync(Queue(model: "wd14", version: "v2"), Ct);
        Assert.Equal([IdOf(2)], v2.Items.Select(i => i.MediaId));
        Assert.Equal(["sky"], v2.Items[0].Suggestions.Select(s => s.Tag));

        var cats = await Index.PendingSuggestionsAsync(Queue(tag: "cat"), Ct);
        Assert.Equal([IdOf(2), IdOf(1)], cats.Items.Select(i => i.MediaId));
        Assert.All(cats.Items, i => Assert.Equal(["cat"], i.Suggestions.Select(s => s.Tag)));

        var middle = await Index.PendingSuggestionsAsync(Queue(min: 0.5, max: 0.7), Ct);
        Assert.Equal(3, middle.TotalSuggestions);
        Assert.Equal([IdOf(1), IdOf(2)], middle.Items.Select(i => i.MediaId));
        Assert.Equal(["hat", "cat"], middle.Items[0].Suggestions.Select(s => s.Tag));
        Assert.Equal(0.5, middle.Items[1].BestConfidence);
    }

    [Fact]
    public async Task Pending_suggestions_page_by_keyset_without_gaps_or_repeats()
    {
        // Media 1..7 with best confidences that tie in pairs, so the id breaks ties.
        var sidecars = Enumerable.Range(1, 7).Select(n => WithSuggestions(n, Proposed("t" + n, 0.5 + (0.1 * (n / 2))))).ToArray();
        await UpsertAsync(sidecars);
        var expected = (await Index.PendingSuggestionsAsync(Queue(), Ct)).Items.Select(i => i.MediaId).ToList();
        Assert.Equal(7, expected.Count);

        var seen = new List<string>();
        PendingSuggestionCursor? after = null;
        while (true)
        {
            var page = await Index.PendingSuggestionsAsync(Queue(limit: 3, after: after), Ct);
            Assert.Equal(7, page.TotalMedia);
            if (page.Items.Count == 0)
            {
                break;
            }

            Assert.True(page.Items.Count <= 3);
            seen.AddRange(page.Items.Select(i => i.MediaId));
            after = new PendingSuggestionCursor(page.Items[^1].BestConfidence, page.Items[^1].MediaId);
        }

        Assert.Equal(expected, seen);
        var ordered = expected.Select(id => sidecars.First(s => s.Id == id).Suggestions[0].Confidence).ToList();
        Assert.Equal(ordered.OrderDescending(), ordered);
    }

    [Fact]
    public async Task Suggestion_stats_count_library_media_by_model_and_tag_and_follow_rewrites()
    {
        await UpsertAsync(
            WithSuggestions(1, Proposed("cat", 0.6, SuggestionStatus.Approved), Proposed("dog", 0.9, SuggestionStatus.Rejected), Proposed("hat", 0.7)),
            WithSuggestions(2, Proposed("cat", 0.95, SuggestionStatus.Rejected), Proposed("dog", 0.5, SuggestionStatus.Rejected, "custom", "1")),
            WithSuggestions(3, Proposed("cat", 0.8)));
        await UpsertTrashAsync(WithSuggestions(4, Proposed("cat", 0.99, SuggestionStatus.Rejected), Proposed("zebra", 0.9)));

        var stats = await Index.SuggestionStatsAsync(10, Ct);

        Assert.Equal(
            [new SuggestionModelCounts("custom", "1", new(0, 0, 1)), new SuggestionModelCounts("wd14", "v3", new(2, 1, 2))],
            stats.ByModel);
        Assert.Equal(
            [new SuggestionTagCounts("cat", new(1, 1, 1)), new SuggestionTagCounts("dog", new(0, 0, 2)), new SuggestionTagCounts("hat", new(1, 0, 0))],
            stats.TopSuggested);
        Assert.Equal([new SuggestionTagCounts("dog", new(0, 0, 2)), new SuggestionTagCounts("cat", new(1, 1, 1))], stats.TopRejected);
        Assert.Equal(["cat"], (await Index.SuggestionStatsAsync(1, Ct)).TopSuggested.Select(t => t.Tag));

        // A rewritten sidecar replaces its suggestions; a removed media takes its own away.
        var decided = WithSuggestions(3, Proposed("cat", 0.8, SuggestionStatus.Approved));
        decided.Revision = 2;
        await UpsertAsync(decided);
        await WriteAsync(tx => tx.RemoveMediaAsync(IdOf(2), Ct));

        var after = await Index.SuggestionStatsAsync(10, Ct);
        Assert.Equal([new SuggestionModelCounts("wd14", "v3", new(1, 2, 1))], after.ByModel);
        Assert.Equal([new SuggestionTagCounts("dog", new(0, 0, 1))], after.TopRejected);
        Assert.Empty((await Index.PendingSuggestionsAsync(Queue(tag: "cat"), Ct)).Items);
    }
}
