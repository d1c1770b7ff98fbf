using Trove.Domain;
using Trove.Library;

namespace Trove.Index.Conformance;

public abstract partial class LibraryIndexConformanceTests
{
    [Fact]
    public async Task Vocabulary_stamp_is_set_replaced_and_cleared()
    {
        var first = new FileStamp(321, T0.UtcTicks, Digest("v1"));
        var second = new FileStamp(654, T0.AddHours(1).UtcTicks, Digest("v2"));

        await SetVocabularyAsync(new Vocabulary(), first);
        Assert.Equal(first, await Index.GetVocabularyStampAsync(Ct));

        await SetVocabularyAsync(new Vocabulary(), second);
        Assert.Equal(second, await Index.GetVocabularyStampAsync(Ct));

        await SetVocabularyAsync(new Vocabulary(), null);
        Assert.Null(await Index.GetVocabularyStampAsync(Ct));
    }

    [Fact]
    public async Task Setting_the_vocabulary_replaces_the_previous_one()
    {
        var v1 = new Vocabulary();
        v1.Tags["x"] = new TagInfo { Category = "character", Description = "The X" };
        v1.Aliases["y"] = new AliasInfo { To = "x", CreatedAt = T0 };
        v1.Implications.Add(new Implication { Child = "x", Parent = "z", CreatedAt = T0 });
        await SetVocabularyAsync(v1, new FileStamp(1, 1, Digest("v1")));

        var tags = await TagsByNameAsync();
        Assert.Equal("character", tags["x"].Category);
        Assert.Equal("The X", tags["x"].Description);
        Assert.Equal(["y"], tags["x"].Aliases);
        Assert.Equal(["z"], tags["x"].Implies);
        Assert.Equal(0, tags["z"].Count);

        var v2 = new Vocabulary();
        v2.Tags["w"] = new TagInfo { Description = "The W" };
        await SetVocabularyAsync(v2, new FileStamp(2, 2, Digest("v2")));

        var after = await Index.ListTagsAsync(Ct);
        var w = Assert.Single(after);
        Assert.Equal("w", w.Name);
        Assert.Equal(Vocabulary.DefaultCategory, w.Category);
        Assert.Equal("The W", w.Description);
        Assert.Equal(0, w.Count);
        Assert.Empty(w.Implies);
        Assert.Empty(w.Aliases);
    }

    [Fact]
    public async Task ListTags_counts_library_media_and_describes_tags_from_the_vocabulary()
    {
        var vocabulary = new Vocabulary();
        vocabulary.Categories.Add("species");
        vocabulary.Tags["smile"] = new TagInfo { Description = "Smiling" };
        vocabulary.Tags["artist_x"] = new TagInfo { Category = "artist" };
        vocabulary.Tags["cat"] = new TagInfo { Category = "species", Description = "A cat" };
        vocabulary.Aliases["longhair"] = new AliasInfo { To = "long_hair", CreatedAt = T0 };
        vocabulary.Aliases["long-hair"] = new AliasInfo { To = "long_hair", CreatedAt = T0 };
        vocabulary.Aliases["kitty"] = new AliasInfo { To = "feline", CreatedAt = T0 };
        vocabulary.Implications.Add(new Implication { Child = "long_hair", Parent = "hair", CreatedAt = T0 });
        vocabulary.Implications.Add(new Implication { Child = "long_hair", Parent = "long", CreatedAt = T0 });
        vocabulary.Implications.Add(new Implication { Child = "cat", Parent = "animal", CreatedAt = T0 });
        await SetVocabularyAsync(vocabulary, new FileStamp(10, 20, Digest("vocab")));

        await UpsertAsync(Sidecar(1, "long_hair", "smile"), Sidecar(2, "long_hair"), Sidecar(3, "plain"));
        await UpsertTrashAsync(Sidecar(4, "long_hair", "smile", "plain", "cat"));

        var tags = await TagsByNameAsync();

        var longHair = tags["long_hair"];
        Assert.Equal(2, longHair.Count);
        Assert.Equal(Vocabulary.DefaultCategory, longHair.Category);
        Assert.Null(longHair.Description);
        Assert.Equal(["hair", "long"], Sorted(longHair.Implies));
        Assert.Equal(["long-hair", "longhair"], Sorted(longHair.Aliases));

        var smile = tags["smile"];
        Assert.Equal(1, smile.Count);
        Assert.Equal(Vocabulary.DefaultCategory, smile.Category);
        Assert.Equal("Smiling", smile.Description);
        Assert.Empty(smile.Implies);
        Assert.Empty(smile.Aliases);

        var plain = tags["plain"];
        Assert.Equal(1, plain.Count);
        Assert.Equal(Vocabulary.DefaultCategory, plain.Category);
        Assert.Null(plain.Description);

        // Only named by the vocabulary: count 0.
        Assert.Equal(0, tags["artist_x"].Count);
        Assert.Equal("artist", tags["artist_x"].Category);
        Assert.Equal(0, tags["cat"].Count);
        Assert.Equal("species", tags["cat"].Category);
        Assert.Equal("A cat", tags["cat"].Description);
        Assert.Equal(["animal"], tags["cat"].Implies);
        Assert.Equal(0, tags["hair"].Count);
        Assert.Equal(Vocabulary.DefaultCategory, tags["hair"].Category);
        Assert.Equal(0, tags["long"].Count);
        Assert.Equal(0, tags["animal"].Count);
        Assert.Equal(0, tags["feline"].Count);
        Assert.Equal(["kitty"], tags["feline"].Aliases);
        Assert.Equal(Vocabulary.DefaultCategory, tags["feline"].Category);
    }

    [Fact]
    public async Task ListTags_counts_follow_media_moving_to_and_from_the_trash()
    {
        var a = Sidecar(1, "t");
        var b = Sidecar(2, "t");
        await UpsertAsync(a, b);
        Assert.Equal(2, (await TagsByNameAsync())["t"].Count);

        await UpsertTrashAsync(a);
        Assert.Equal(1, (await TagsByNameAsync())["t"].Count);

        await UpsertAsync(a);
        Assert.Equal(2, (await TagsByNameAsync())["t"].Count);
    }

    [Fact]
    public async Task ExpandWildcard_matches_star_patterns_against_used_tags()
    {
        await UpsertAsync(
            Sidecar(1, "long_hair", "short_hair", "hair"),
            Sidecar(2, "hairband", "hair_ribbon", "blonde_hair"),
            Sidecar(3, "smile"));

        Assert.Equal(["blonde_hair", "long_hair", "short_hair"], Sorted(await Index.ExpandWildcardAsync("*_hair", 100, Ct)));
        Assert.Equal(["hair", "hair_ribbon", "hairband"], Sorted(await Index.ExpandWildcardAsync("hair*", 100, Ct)));
        Assert.Equal(["blonde_hair", "hair", "hair_ribbon", "hairband", "long_hair", "short_hair"], Sorted(await Index.ExpandWildcardAsync("*hair*", 100, Ct)));
        Assert.Equal(["long_hair"], await Index.ExpandWildcardAsync("l*r", 100, Ct));
        Assert.Equal(["short_hair"], await Index.ExpandWildcardAsync("s*_hair", 100, Ct));
        Assert.Equal(["smile"], await Index.ExpandWildcardAsync("smile*", 100, Ct));
        Assert.Equal(["hair"], await Index.ExpandWildcardAsync("hair", 100, Ct));
        Assert.Empty(await Index.ExpandWildcardAsync("zz*", 100, Ct));
        Assert.Equal(7, (await Index.ExpandWildcardAsync("*", 100, Ct)).Count);
    }

    [Fact]
    public async Task ExpandWildcard_respects_the_limit()
    {
        await UpsertAsync(Sidecar(1, "t1", "t2", "t3", "t4", "t5"));

        var limited = await Index.ExpandWildcardAsync("t*", 3, Ct);

        Assert.Equal(3, limited.Count);
        Assert.Equal(3, limited.Distinct(StringComparer.Ordinal).Count());
        Assert.All(limited, t => Assert.StartsWith("t", t, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExpandWildcard_treats_underscore_percent_and_backslash_literally()
    {
        await UpsertAsync(Sidecar(1, "a_c", "abc", "axc", "100%", "1000", "100x", @"a\b", "a\\\\b", "ab"));

        Assert.Equal(["a_c"], await Index.ExpandWildcardAsync("a_*", 100, Ct));
        Assert.Equal(["a_c"], await Index.ExpandWildcardAsync("a_c", 100, Ct));
        Assert.Equal(["a_c"], await Index.ExpandWildcardAsync("*_*", 100, Ct));
        Assert.Empty(await Index.ExpandWildcardAsync("_bc", 100, Ct));
        Assert.Equal(["100%"], await Index.ExpandWildcardAsync("100%", 100, Ct));
        Assert.Equal(["100%"], await Index.ExpandWildcardAsync("*%", 100, Ct));
        Assert.Empty(await Index.ExpandWildcardAsync("%", 100, Ct));
        Assert.Empty(await Index.ExpandWildcardAsync("10%", 100, Ct));
        Assert.Equal(["100%", "1000", "100x"], Sorted(await Index.ExpandWildcardAsync("100*", 100, Ct)));
        Assert.Equal([@"a\b"], await Index.ExpandWildcardAsync(@"a\b", 100, Ct));
        Assert.Equal(Sorted([@"a\b", @"a\\b"]), Sorted(await Index.ExpandWildcardAsync(@"a\*", 100, Ct)));
    }
}
