using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class SearchTests : IAsyncLifetime
{
    private TestLibrary _t = null!;
    private string _redCat = null!;
    private string _blueCat = null!;
    private string _redDog = null!;
    private string _bird = null!;
    private string _mask = null!;

    public async Task InitializeAsync()
    {
        _t = await CreateAsync(clock: new SteppingClock());
        _redCat = await _t.ImportOneAsync(TestImages.Png(1), "1.png", ["cat", "red"]);
        _blueCat = await _t.ImportOneAsync(TestImages.Png(2, 8, 8), "2.png", ["cat", "blue", "cute"]);
        _redDog = await _t.ImportOneAsync(TestImages.Jpeg(3, 400), "3.jpg", ["dog", "red", "cute"]);
        _bird = await _t.ImportOneAsync(TestImages.Png(4), "4.png", ["bird", "blue_sky"]);
        var maskPath = _t.WriteSource("mask.png", TestImages.Png(5));
        var report = await _t.Media.ImportAsync([maskPath], new ImportOptions(["red"], null, false, MaskOf: _redCat[..10], MaskCategory: "Cat Outline"), null, Ct);
        _mask = Assert.Single(report.Media);
        await _t.Tags.AliasAsync("kitty", "cat", Ct);
        await _t.Collections.CreateAsync("My Pets", null, Ct);
        await _t.Collections.AddAsync("my pets", [_blueCat, _redDog], Ct);
    }

    public async Task DisposeAsync() => await _t.DisposeAsync();

    private Task<List<string>> Ids(string query) => _t.SearchIdsAsync(query);

    private static List<string> Sorted(params string[] ids) => [.. ids.Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Tags_are_anded()
    {
        Assert.Equal(Sorted(_redCat, _blueCat), Sorted([.. await Ids("cat")]));
        Assert.Equal([_redCat], await Ids("cat red"));
        Assert.Equal([_redDog], await Ids("red CUTE"));
        Assert.Empty(await Ids("cat dog"));
        Assert.Empty(await Ids("nonexistent"));
    }

    [Fact]
    public async Task Negation_excludes()
    {
        Assert.Equal([_blueCat], await Ids("cat -red"));
        Assert.Equal(Sorted(_redCat, _bird, _mask), Sorted([.. await Ids("-cute")]));
        Assert.Equal(Sorted(_redDog, _mask), Sorted([.. await Ids("red -cat")]));
    }

    [Fact]
    public async Task Wildcards_expand_to_used_tags()
    {
        Assert.Equal(Sorted(_blueCat, _bird), Sorted([.. await Ids("blue*")]));
        Assert.Equal(Sorted(_redCat, _blueCat, _redDog), Sorted([.. await Ids("c*")]));
        Assert.Equal(Sorted(_redCat, _redDog, _mask), Sorted([.. await Ids("-blue*")]));
        Assert.Equal([_bird], await Ids("*_sky"));
        Assert.Empty(await Ids("zebra*"));
    }

    [Fact]
    public async Task Aliases_resolve_in_queries()
    {
        Assert.Equal(await Ids("cat"), await Ids("kitty"));
        Assert.Equal([_blueCat], await Ids("KITTY -red"));
    }

    [Fact]
    public async Task Kind_id_and_collection_metatags_filter()
    {
        Assert.Equal([_mask], await Ids("kind:mask"));
        Assert.Equal(4, (await _t.Search.SearchAsync("kind:image", 10, 0, Ct)).Total);
        Assert.Equal([_mask], await Ids("red kind:mask"));
        Assert.Equal([_redDog], await Ids("id:" + _redDog[..8].ToUpperInvariant()));
        Assert.Equal(Sorted(_blueCat, _redDog), Sorted([.. await Ids("collection:\"my pets\"")]));
        Assert.Equal([_redDog], await Ids("collection:\"My Pets\" dog"));
        Assert.Empty(await Ids("collection:nothing_like_this"));

        var badKind = await Assert.ThrowsAsync<TroveUsageException>(() => Ids("kind:video"));
        Assert.Equal("query-invalid", badKind.Code);
        var badId = await Assert.ThrowsAsync<TroveUsageException>(() => Ids("id:xyz"));
        Assert.Contains("id:xyz", badId.Message, StringComparison.Ordinal);

        var mask = _t.ReadSidecar(_mask);
        Assert.Equal(MediaKinds.Mask, mask.Kind);
        Assert.Equal(_redCat, mask.Mask!.Source);
        Assert.Equal("cat_outline", mask.Mask.Category);
    }

    [Fact]
    public async Task Order_metatag_sorts()
    {
        var all = new[] { _redCat, _blueCat, _redDog, _bird, _mask };
        Assert.Equal(Sorted(all), await Ids("order:id"));
        Assert.Equal(Sorted(_redCat, _redDog, _mask), await Ids("red order:id"));

        var oldest = await Ids("order:oldest");
        var newest = await Ids("order:newest");
        Assert.Equal(5, oldest.Count);
        Assert.Equal(_redCat, oldest[0]);
        Assert.Equal(_mask, newest[0]);
        Assert.Equal(newest, await Ids(""));

        var bySize = await Ids("order:filesize");
        Assert.Equal(_redDog, bySize[0]);
        var sizes = bySize.Select(id => _t.ReadSidecar(id).Original.Size).ToList();
        Assert.Equal(sizes.OrderDescending(), sizes);

        var byTags = await Ids("order:tagcount");
        var counts = byTags.Select(id => _t.ReadSidecar(id).Tags.Count).ToList();
        Assert.Equal(counts.OrderDescending(), counts);
        Assert.Equal(3, counts[0]);

        var shuffled = await Ids("order:random:7");
        Assert.Equal(Sorted(all), Sorted([.. shuffled]));
        Assert.Equal(shuffled, await Ids("order:random:7"));
    }

    [Fact]
    public async Task Paging_reports_totals()
    {
        var all = await Ids("order:id");
        var page1 = await _t.Search.SearchAsync("order:id", 2, 0, Ct);
        var page2 = await _t.Search.SearchAsync("order:id", 2, 2, Ct);
        var page3 = await _t.Search.SearchAsync("order:id", 2, 4, Ct);
        var beyond = await _t.Search.SearchAsync("order:id", 2, 10, Ct);

        Assert.All(new[] { page1, page2, page3, beyond }, p => Assert.Equal(5, p.Total));
        Assert.Equal(all, [.. page1.Ids, .. page2.Ids, .. page3.Ids]);
        Assert.Single(page3.Ids);
        Assert.Empty(beyond.Ids);
        Assert.Equal(2, page2.Limit);
        Assert.Equal(2, page2.Offset);
        var countOnly = await _t.Search.SearchAsync("cat", 0, 0, Ct);
        Assert.Equal(2, countOnly.Total);
        Assert.Empty(countOnly.Ids);

        Assert.Equal("bad-limit", (await Assert.ThrowsAsync<TroveUsageException>(() => _t.Search.SearchAsync("", -1, 0, Ct))).Code);
        Assert.Equal("bad-offset", (await Assert.ThrowsAsync<TroveUsageException>(() => _t.Search.SearchAsync("", 10, -1, Ct))).Code);
    }

    [Fact]
    public async Task Misspelt_metatag_is_reported_with_column_and_suggestion()
    {
        var ex = await Assert.ThrowsAsync<TroveUsageException>(() => Ids("cat widht:3"));
        Assert.Contains("widht", ex.Message, StringComparison.Ordinal);
        Assert.Contains("column", ex.Message, StringComparison.Ordinal);
        Assert.Contains("width", ex.Message.Replace("widht", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("column 5", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cat or dog", "redCat blueCat redDog")]
    [InlineData("(cat or dog) -blue", "redCat redDog")]
    [InlineData("cat -(red or cute)", "")]
    [InlineData("-(cat or dog) -kind:mask", "bird")]
    [InlineData("-kind:image", "mask")]
    [InlineData("type:jpg", "redDog")]
    [InlineData("type:png -red", "blueCat bird")]
    [InlineData("has:mask", "redCat")]
    [InlineData("-has:mask cat", "blueCat")]
    [InlineData("tagcount:3", "blueCat redDog")]
    [InlineData("tagcount:<2 order:id", "mask")]
    [InlineData("kitty or bird", "redCat blueCat bird")]
    [InlineData("collection:\"my pets\" or bird", "blueCat redDog bird")]
    [InlineData("date:2024-01-01", "redCat blueCat redDog bird mask")]
    [InlineData("date:<2024", "")]
    public async Task Full_language_runs_through_the_service(string query, string expected)
    {
        var names = new Dictionary<string, string> { ["redCat"] = _redCat, ["blueCat"] = _blueCat, ["redDog"] = _redDog, ["bird"] = _bird, ["mask"] = _mask };
        var want = expected.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(n => names[n]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(want, Sorted([.. await Ids(query)]));
    }

    [Fact]
    public async Task Captions_are_searchable_by_word_prefix_and_phrase()
    {
        await _t.Captions.SetAsync(_redCat, "A red cat sleeping on the Café terrace", Ct);
        await _t.Captions.SetAsync(_bird, "The bird watches a sleeping cat", Ct);
        Assert.Equal(Sorted(_redCat, _bird), Sorted([.. await Ids("caption:sleeping")]));
        Assert.Equal([_redCat], await Ids("caption:\"cat sleeping\""));
        Assert.Equal([_redCat], await Ids("caption:cafe"));
        Assert.Equal([_bird], await Ids("caption:watch*"));
        Assert.Equal(Sorted(_redCat, _bird), Sorted([.. await Ids("has:caption")]));
        Assert.Empty(await Ids("caption:\"sleeping cat\" -bird"));
    }

    [Fact]
    public async Task Cursor_paging_walks_every_result_once()
    {
        var all = await Ids("order:tagcount");
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await _t.Search.SearchAsync("order:tagcount", new Trove.Search.Engine.SearchRequest(2, 0, cursor), Ct);
            Assert.Equal(5, page.Total);
            seen.AddRange(page.Ids);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(all, seen);
        var bad = await Assert.ThrowsAsync<TroveUsageException>(() => _t.Search.SearchAsync("order:id", new Trove.Search.Engine.SearchRequest(2, 0, "bm9wZQ"), Ct));
        Assert.Equal("bad-cursor", bad.Code);
    }

    [Fact]
    public async Task Changes_from_another_process_become_visible_without_reopening()
    {
        Assert.Equal(2, (await _t.Search.SearchAsync("cat", 0, 0, Ct)).Total);

        // A second library instance stands for another process (CLI import while the server runs).
        await using (var other = await _t.OpenSecondAsync())
        {
            await new TagService(other).AddAsync(_bird, ["cat"], Ct);
            await new MediaService(other).DeleteAsync([_redCat], Ct);
            await new TagService(other).AliasAsync("birdie", "bird", Ct);
        }

        Assert.Equal([_blueCat, _bird], Sorted([.. await Ids("cat")]).OrderBy(id => id == _bird).ToList());
        Assert.Equal(Sorted(_blueCat, _bird), Sorted([.. await Ids("kitty")]));
        Assert.Equal([_bird], await Ids("birdie"));
        Assert.DoesNotContain(_redCat, await Ids(""));

        // A rebuild empties and refills the index: the engine notices the new epoch and reloads.
        await using (var other = await _t.OpenSecondAsync())
        {
            await RebuildService.RebuildAsync(other, null, Ct);
        }

        Assert.Equal(Sorted(_blueCat, _bird), Sorted([.. await Ids("cat")]));
    }

    [Fact]
    public async Task Pathological_queries_are_refused_with_a_clear_message()
    {
        var many = string.Join(' ', Enumerable.Range(0, 10_000).Select(i => $"t{i}"));
        Assert.Equal("query-too-complex", (await Assert.ThrowsAsync<TroveUsageException>(() => Ids(many))).Code);
        var deep = new string('(', 100) + "cat" + new string(')', 100);
        Assert.Equal("query-too-complex", (await Assert.ThrowsAsync<TroveUsageException>(() => Ids(deep))).Code);
        Assert.Empty(await Ids("cat -cat"));
    }
}
