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

        var bad = await Assert.ThrowsAsync<TroveUsageException>(() => Ids("order:random"));
        Assert.Contains("order:random", bad.Message, StringComparison.Ordinal);
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
    [InlineData("cat or dog", "'or'")]
    [InlineData("(cat dog)", "'(cat'")]
    [InlineData("cat -(dog)", "'-(dog)'")]
    [InlineData("width:>100", "'width:>100'")]
    [InlineData("-kind:mask", "'-kind:mask'")]
    public async Task Unsupported_syntax_names_the_term(string query, string term)
    {
        var ex = await Assert.ThrowsAsync<TroveUsageException>(() => Ids(query));
        Assert.Equal("query-unsupported", ex.Code);
        Assert.Contains(term, ex.Message, StringComparison.Ordinal);
        Assert.Contains("column", ex.Message, StringComparison.Ordinal);
    }
}
