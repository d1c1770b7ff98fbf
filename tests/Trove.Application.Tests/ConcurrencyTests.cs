using Trove.Application.Search;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Two_libraries_tagging_the_same_media_concurrently_lose_no_updates()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync(Enumerable.Range(1, 30), "base");
        await using var second = await t.OpenSecondAsync();

        async Task TagAll(TroveLibrary library, string tag)
        {
            var tags = new TagService(library);
            foreach (var id in ids)
            {
                await tags.AddAsync(id, [tag], Ct);
            }
        }

        await Task.WhenAll(Task.Run(() => TagAll(t.Library, "from_first")), Task.Run(() => TagAll(second, "from_second")));

        foreach (var id in ids)
        {
            var tags = t.TagsOf(id);
            Assert.Contains("from_first", tags);
            Assert.Contains("from_second", tags);
            Assert.Contains("base", tags);
            Assert.Equal(3, t.ReadSidecar(id).Revision);
        }

        Assert.Equal(30, (await t.Search.SearchAsync("from_first from_second base", 100, 0, Ct)).Total);
        Assert.Equal(30, (await new SearchService(second).SearchAsync("from_first from_second", 100, 0, Ct)).Total);
        Assert.Empty((await t.Check.CheckAsync(repair: false, verifyHashes: false, null, Ct)).Problems);
    }

    [Fact]
    public async Task Concurrent_imports_and_vocabulary_changes_from_two_libraries_stay_consistent()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync(Enumerable.Range(1, 10), "cat");
        await using var second = await t.OpenSecondAsync();

        var sources = Enumerable.Range(100, 20).Select(i => t.WriteSource($"batch/{i}.png", TestImages.Png(i))).ToList();
        var import = Task.Run(async () =>
        {
            foreach (var path in sources)
            {
                await new MediaService(second).ImportAsync([path], new ImportOptions(["cat"], null, false), null, Ct);
            }
        });
        var imply = Task.Run(() => new TagService(t.Library).ImplyAsync("cat", "animal", Ct));
        await Task.WhenAll(import, imply);

        // Media imported after the implication got 'animal' at import; those before got it retroactively.
        Assert.Equal(30, (await t.Search.SearchAsync("cat", 100, 0, Ct)).Total);
        Assert.Equal(30, (await t.Search.SearchAsync("animal", 100, 0, Ct)).Total);
        Assert.Empty((await t.Check.CheckAsync(repair: false, verifyHashes: false, null, Ct)).Problems);
        Assert.All(ids, id => Assert.Contains("animal", t.TagsOf(id)));
    }
}
