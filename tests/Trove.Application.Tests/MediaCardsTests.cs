using Trove.Application.Search;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class MediaCardsTests
{
    [Fact]
    public async Task Cards_follow_the_sidecars_through_changes_trash_and_purge()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2], "b_tag");
        var cards = new MediaCards(t.Library);

        var first = await cards.ReadAsync(ids, Ct);
        Assert.Equal(ids, first.Select(c => c.Id));
        Assert.Equal(["b_tag"], first[0].Tags);
        Assert.Same(first[0], (await cards.ReadAsync(ids, Ct))[0]);

        await t.Tags.AddAsync(ids[0], ["a_tag"], Ct);
        Assert.Equal(["a_tag", "b_tag"], (await cards.ReadAsync(ids, Ct))[0].Tags);

        await t.Media.DeleteAsync([ids[0]], Ct);
        Assert.True((await cards.ReadAsync(ids, Ct))[0].InTrash);

        await t.Media.PurgeAsync([ids[0]], Ct);
        var after = await cards.ReadAsync(ids, Ct);
        Assert.Equal([ids[1]], after.Select(c => c.Id));
    }
}
