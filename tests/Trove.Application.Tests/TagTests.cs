using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class TagTests
{
    [Fact]
    public async Task Tags_are_normalised_and_duplicates_ignored()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];

        var change = await t.Tags.AddAsync(id[..10], ["  Long   Hair ", "BLUE_eyes", "long_hair", "__smile__"], Ct);

        Assert.Equal(id, change.Id);
        Assert.Equal(["long_hair", "blue_eyes", "smile"], change.Added);
        Assert.Equal(["long_hair", "blue_eyes", "smile"], t.TagsOf(id));
        Assert.Equal([id], await t.SearchIdsAsync("Long_Hair"));

        var again = await t.Tags.AddAsync(id, ["long hair"], Ct);
        Assert.Empty(again.Added);
        Assert.Equal(2, t.ReadSidecar(id).Revision);

        foreach (var bad in new[] { "-neg", "a*b", "or", "width:5", "(x)", "  " })
        {
            var ex = await Assert.ThrowsAsync<TroveUsageException>(() => t.Tags.AddAsync(id, [bad], Ct));
            Assert.Equal("invalid-tag", ex.Code);
        }

        Assert.Equal(2, t.ReadSidecar(id).Revision);
    }

    [Fact]
    public async Task Removing_tags_rewrites_the_sidecar()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1], "a", "b", "c"))[0];
        var change = await t.Tags.RemoveAsync(id, ["B", "not_there"], Ct);
        Assert.Equal(["b"], change.Removed);
        Assert.Equal(["a", "c"], t.TagsOf(id));
        Assert.Empty(await t.SearchIdsAsync("b"));
    }

    [Fact]
    public async Task Alias_retags_existing_media_and_resolves_future_tagging()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2]);
        await t.Tags.AddAsync(ids[0], ["kitty", "cute"], Ct);
        await t.Tags.AddAsync(ids[1], ["cat"], Ct);

        var change = await t.Tags.AliasAsync("Kitty", "cat", Ct);

        Assert.Equal(1, change.MediaUpdated);
        Assert.Equal(["cat", "cute"], t.TagsOf(ids[0]));
        var entry = t.ReadSidecar(ids[0]).Tags.Single(x => x.Name == "cat");
        Assert.Equal(TagSources.Alias, entry.Source);
        Assert.Equal("kitty", entry.Via);
        Assert.Equal(ids.Order(StringComparer.Ordinal), (await t.SearchIdsAsync("cat")).Order(StringComparer.Ordinal));

        // Adding FROM later yields TO.
        var third = (await t.ImportPngsAsync([3], "kitty"))[0];
        Assert.Equal(["cat"], t.TagsOf(third));
        var fourth = (await t.ImportPngsAsync([4]))[0];
        var added = await t.Tags.AddAsync(fourth, ["kitty"], Ct);
        Assert.Equal(["cat"], added.Added);

        // An alias whose target is itself an alias resolves to the canonical tag.
        await t.Tags.AliasAsync("kitten", "kitty", Ct);
        var vocabulary = await t.Tags.VocabularyAsync(Ct);
        Assert.Equal("cat", vocabulary.Aliases["kitten"].To);
        Assert.Equal("cat", vocabulary.Aliases["kitty"].To);
        var fifth = (await t.ImportPngsAsync([5], "kitten"))[0];
        Assert.Equal(["cat"], t.TagsOf(fifth));

        var listing = await t.Tags.ListAsync(Ct);
        var cat = Assert.Single(listing.Tags, x => x.Name == "cat");
        Assert.Equal(["kitten", "kitty"], cat.Aliases);
        Assert.Equal(5, cat.Count);
        Assert.DoesNotContain(listing.Tags, x => x.Name == "kitty" && x.Count > 0);

        var self = await Assert.ThrowsAsync<TroveUsageException>(() => t.Tags.AliasAsync("cat", "kitty", Ct));
        Assert.Equal("alias-cycle", self.Code);
    }

    [Fact]
    public async Task Implication_applies_retroactively_and_transitively()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3]);
        await t.Tags.AddAsync(ids[0], ["cat"], Ct);
        await t.Tags.AddAsync(ids[1], ["dog"], Ct);

        var change = await t.Tags.ImplyAsync("cat", "animal", Ct);
        Assert.Equal(1, change.MediaUpdated);
        Assert.Equal(["cat", "animal"], t.TagsOf(ids[0]));
        var implied = t.ReadSidecar(ids[0]).Tags.Single(x => x.Name == "animal");
        Assert.Equal(TagSources.Implication, implied.Source);
        Assert.Equal("cat", implied.Via);

        // animal -> living_thing reaches media that got 'animal' by implication.
        await t.Tags.ImplyAsync("animal", "living_thing", Ct);
        Assert.Equal(["cat", "animal", "living_thing"], t.TagsOf(ids[0]));
        Assert.Equal(["dog"], t.TagsOf(ids[1]));

        // A new link at the bottom of the chain brings the whole chain to existing media.
        await t.Tags.ImplyAsync("dog", "animal", Ct);
        Assert.Equal(["dog", "animal", "living_thing"], t.TagsOf(ids[1]));

        // Future tagging follows the chain.
        await t.Tags.AddAsync(ids[2], ["cat"], Ct);
        Assert.Equal(["cat", "animal", "living_thing"], t.TagsOf(ids[2]));
        Assert.Equal(3, (await t.Search.SearchAsync("living_thing", 10, 0, Ct)).Total);

        var listing = await t.Tags.ListAsync(Ct);
        Assert.Equal(["animal"], listing.Tags.Single(x => x.Name == "cat").Implies);
    }

    [Fact]
    public async Task Implication_cycle_is_refused_naming_the_cycle_and_nothing_changes()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1], "a"))[0];
        await t.Tags.ImplyAsync("a", "b", Ct);
        await t.Tags.ImplyAsync("b", "c", Ct);
        Assert.Equal(["a", "b", "c"], t.TagsOf(id));
        var before = FileTree.LibraryData(t.Root);

        var ex = await Assert.ThrowsAsync<TroveUsageException>(() => t.Tags.ImplyAsync("c", "a", Ct));

        Assert.Equal("implication-cycle", ex.Code);
        Assert.Contains("c → a → b → c", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, FileTree.LibraryData(t.Root));
        Assert.Equal(2, (await t.Tags.VocabularyAsync(Ct)).Implications.Count);

        var self = await Assert.ThrowsAsync<TroveUsageException>(() => t.Tags.ImplyAsync("a", "a", Ct));
        Assert.Equal("implication-cycle", self.Code);
        Assert.Equal(before, FileTree.LibraryData(t.Root));
    }

    [Fact]
    public async Task Removing_a_tag_implied_by_a_remaining_tag_is_refused()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1], "cat"))[0];
        await t.Tags.ImplyAsync("cat", "animal", Ct);
        var sidecarBefore = await File.ReadAllBytesAsync(t.SidecarPath(id));

        var ex = await Assert.ThrowsAsync<TroveUsageException>(() => t.Tags.RemoveAsync(id, ["animal"], Ct));
        Assert.Equal("tag-implied", ex.Code);
        Assert.Contains("'animal'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'cat'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(sidecarBefore, await File.ReadAllBytesAsync(t.SidecarPath(id)));

        var both = await t.Tags.RemoveAsync(id, ["animal", "cat"], Ct);
        Assert.Equal(["animal", "cat"], both.Removed);
        Assert.Empty(t.TagsOf(id));

        // After unimply, the parent can go on its own; media keep the parents they already had.
        await t.Tags.AddAsync(id, ["cat"], Ct);
        await t.Tags.UnimplyAsync("cat", "animal", Ct);
        Assert.Equal(["cat", "animal"], t.TagsOf(id));
        await t.Tags.RemoveAsync(id, ["animal"], Ct);
        Assert.Equal(["cat"], t.TagsOf(id));
    }

    [Fact]
    public async Task Categories_builtin_created_and_unknown()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1], "alice", "wonderland", "tree"))[0];

        await t.Tags.SetCategoryAsync("Alice", "character", create: false, Ct);
        var listing = await t.Tags.ListAsync(Ct);
        Assert.Equal("character", listing.Tags.Single(x => x.Name == "alice").Category);
        Assert.Equal("general", listing.Tags.Single(x => x.Name == "tree").Category);
        Assert.Equal(Vocabulary.BuiltinCategories, listing.Categories);

        var before = await File.ReadAllBytesAsync(t.Layout.VocabularyPath);
        var unknown = await Assert.ThrowsAsync<TroveUsageException>(() => t.Tags.SetCategoryAsync("tree", "flora", create: false, Ct));
        Assert.Equal("unknown-category", unknown.Code);
        Assert.Contains("flora", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(t.Layout.VocabularyPath));

        await t.Tags.SetCategoryAsync("tree", "Flora", create: true, Ct);
        listing = await t.Tags.ListAsync(Ct);
        Assert.Equal("flora", listing.Tags.Single(x => x.Name == "tree").Category);
        Assert.Contains("flora", listing.Categories);
        Assert.Equal(["flora"], (await t.Tags.VocabularyAsync(Ct)).Categories);

        await t.Tags.AddCategoryAsync("places", Ct);
        var exists = await Assert.ThrowsAsync<TroveUsageException>(() => t.Tags.AddCategoryAsync("Places", Ct));
        Assert.Equal("category-exists", exists.Code);
        await t.Tags.SetCategoryAsync("wonderland", "places", create: false, Ct);
        Assert.Equal("places", (await t.Media.ShowAsync(id, Ct)).TagCategories["wonderland"]);

        // Back to the default category prunes the entry.
        await t.Tags.SetCategoryAsync("alice", "general", create: false, Ct);
        Assert.False((await t.Tags.VocabularyAsync(Ct)).Tags.ContainsKey("alice"));
    }

    [Fact]
    public async Task Descriptions_are_stored_and_listed()
    {
        await using var t = await CreateAsync();
        await t.ImportPngsAsync([1], "cat");
        await t.Tags.AliasAsync("kitty", "cat", Ct);

        await t.Tags.DescribeAsync("kitty", "  A small feline.  ", Ct);

        var listing = await t.Tags.ListAsync(Ct);
        Assert.Equal("A small feline.", listing.Tags.Single(x => x.Name == "cat").Description);
        Assert.Equal("A small feline.", (await t.Tags.VocabularyAsync(Ct)).Tags["cat"].Description);

        // A described tag that no media uses is still listed.
        await t.Tags.DescribeAsync("unused", "nobody has it", Ct);
        var unused = (await t.Tags.ListAsync(Ct)).Tags.Single(x => x.Name == "unused");
        Assert.Equal(0, unused.Count);

        await t.Tags.DescribeAsync("cat", null, Ct);
        Assert.Null((await t.Tags.ListAsync(Ct)).Tags.Single(x => x.Name == "cat").Description);
    }

    [Fact]
    public async Task Tag_counts_exclude_trashed_media()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3], "shared");
        await t.Tags.AddAsync(ids[0], ["only_trashed"], Ct);

        await t.Media.DeleteAsync([ids[0]], Ct);

        var listing = await t.Tags.ListAsync(Ct);
        Assert.Equal(2, listing.Tags.Single(x => x.Name == "shared").Count);
        Assert.DoesNotContain(listing.Tags, x => x.Name == "only_trashed");

        await t.Media.RestoreAsync([ids[0]], Ct);
        listing = await t.Tags.ListAsync(Ct);
        Assert.Equal(3, listing.Tags.Single(x => x.Name == "shared").Count);
        Assert.Equal(1, listing.Tags.Single(x => x.Name == "only_trashed").Count);
    }
}
