using Trove.Domain;

namespace Trove.Domain.Tests;

public class VocabularyTests
{
    private static readonly DateTimeOffset At = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static Vocabulary WithImplications(params (string Child, string Parent)[] pairs)
    {
        var v = new Vocabulary();
        foreach (var (child, parent) in pairs)
        {
            v.AddImplication(child, parent, At, "test");
        }

        return v;
    }

    private static List<(string Child, string Parent)> Pairs(Vocabulary v) =>
        v.Implications.Select(i => (i.Child, i.Parent)).OrderBy(p => p.Child, StringComparer.Ordinal).ThenBy(p => p.Parent, StringComparer.Ordinal).ToList();

    // ---- Categories ----

    [Fact]
    public void Builtin_categories_always_exist()
    {
        var v = new Vocabulary();
        foreach (var c in Vocabulary.BuiltinCategories)
        {
            Assert.True(v.CategoryExists(c));
        }

        Assert.False(v.CategoryExists("nope"));
        Assert.Equal(Vocabulary.DefaultCategory, v.CategoryOf("anything"));
    }

    [Fact]
    public void AddCategory_normalises_the_name_and_refuses_duplicates()
    {
        var v = new Vocabulary();
        v.AddCategory("My Category");
        Assert.Equal(["my_category"], v.Categories);
        Assert.True(v.CategoryExists("my_category"));

        var dup = Assert.Throws<TroveUsageException>(() => v.AddCategory("MY CATEGORY"));
        Assert.Equal("category-exists", dup.Code);

        var builtin = Assert.Throws<TroveUsageException>(() => v.AddCategory("artist"));
        Assert.Equal("category-exists", builtin.Code);
        Assert.Single(v.Categories);
    }

    [Fact]
    public void SetCategory_refuses_an_unknown_category()
    {
        var v = new Vocabulary();
        var ex = Assert.Throws<TroveUsageException>(() => v.SetCategory("tag", "nope"));
        Assert.Equal("unknown-category", ex.Code);
        Assert.Contains("'nope'", ex.Message);
        Assert.Contains("general", ex.Message);
        Assert.Contains("category-add nope", ex.Hint);
        Assert.Empty(v.Tags);
    }

    [Fact]
    public void SetCategory_records_the_category_and_drops_the_entry_when_set_back_to_default()
    {
        var v = new Vocabulary();
        v.SetCategory("hatsune_miku", "character");
        Assert.Equal("character", v.CategoryOf("hatsune_miku"));
        Assert.Equal("character", v.Tags["hatsune_miku"].Category);

        v.SetCategory("hatsune_miku", Vocabulary.DefaultCategory);
        Assert.Equal(Vocabulary.DefaultCategory, v.CategoryOf("hatsune_miku"));
        Assert.False(v.Tags.ContainsKey("hatsune_miku"));
    }

    [Fact]
    public void SetCategory_accepts_user_categories_and_applies_to_the_alias_target()
    {
        var v = new Vocabulary();
        v.AddCategory("place");
        v.AddAlias("nyc", "new_york", At, null);
        v.SetCategory("nyc", "place");
        Assert.Equal("place", v.CategoryOf("new_york"));
        Assert.False(v.Tags.ContainsKey("nyc"));
    }

    [Fact]
    public void SetDescription_trims_and_clears()
    {
        var v = new Vocabulary();
        v.SetDescription("tag", "  A thing.  ");
        Assert.Equal("A thing.", v.Tags["tag"].Description);
        v.SetDescription("tag", "   ");
        Assert.False(v.Tags.ContainsKey("tag"));
    }

    // ---- Aliases ----

    [Fact]
    public void AddAlias_records_the_alias_and_resolve_follows_it()
    {
        var v = new Vocabulary();
        var target = v.AddAlias("longhair", "long_hair", At, "alice");

        Assert.Equal("long_hair", target);
        Assert.Equal("long_hair", v.Resolve("longhair"));
        Assert.Equal("long_hair", v.Resolve("long_hair"));
        Assert.Equal("other", v.Resolve("other"));
        var info = v.Aliases["longhair"];
        Assert.Equal("long_hair", info.To);
        Assert.Equal(At, info.CreatedAt);
        Assert.Equal("alice", info.CreatedBy);
    }

    [Fact]
    public void AddAlias_to_an_alias_uses_its_canonical_target()
    {
        var v = new Vocabulary();
        v.AddAlias("b", "c", At, null);
        var target = v.AddAlias("a", "b", At, null);

        Assert.Equal("c", target);
        Assert.Equal("c", v.Aliases["a"].To);
        Assert.Empty(v.Validate());
    }

    [Fact]
    public void AddAlias_retargets_aliases_that_pointed_at_from()
    {
        var v = new Vocabulary();
        v.AddAlias("x", "a", At, null);
        v.AddAlias("y", "a", At, null);
        v.AddAlias("a", "b", At, null);

        Assert.Equal("b", v.Aliases["x"].To);
        Assert.Equal("b", v.Aliases["y"].To);
        Assert.Equal("b", v.Aliases["a"].To);
        Assert.Equal("b", v.Resolve("x"));
        Assert.Empty(v.Validate());
    }

    [Fact]
    public void AddAlias_rewrites_implications_naming_from()
    {
        var v = WithImplications(("a", "p"), ("q", "a"), ("r", "s"));
        v.AddAlias("a", "b", At, null);

        Assert.Equal([("b", "p"), ("q", "b"), ("r", "s")], Pairs(v));
        Assert.Empty(v.Validate());
    }

    [Fact]
    public void AddAlias_keeps_implication_provenance_when_rewriting()
    {
        var v = new Vocabulary();
        var when = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        v.AddImplication("a", "p", when, "bob");
        v.AddAlias("a", "b", At, "alice");

        var imp = Assert.Single(v.Implications);
        Assert.Equal("b", imp.Child);
        Assert.Equal(when, imp.CreatedAt);
        Assert.Equal("bob", imp.CreatedBy);
    }

    [Fact]
    public void AddAlias_drops_implications_that_become_duplicates_or_self_implications()
    {
        var v = WithImplications(("a", "p"), ("b", "p"), ("a", "b"));
        v.AddAlias("a", "b", At, null);

        Assert.Equal([("b", "p")], Pairs(v));
    }

    [Fact]
    public void AddAlias_refuses_an_alias_to_itself()
    {
        var v = new Vocabulary();
        var ex = Assert.Throws<TroveUsageException>(() => v.AddAlias("a", "a", At, null));
        Assert.Equal("alias-cycle", ex.Code);
        Assert.Equal("Cannot alias 'a' to itself.", ex.Message);
        Assert.Empty(v.Aliases);
    }

    [Fact]
    public void AddAlias_refuses_a_target_that_is_an_alias_of_from()
    {
        var v = new Vocabulary();
        v.AddAlias("b", "a", At, null);

        var ex = Assert.Throws<TroveUsageException>(() => v.AddAlias("a", "b", At, null));
        Assert.Equal("alias-cycle", ex.Code);
        Assert.Equal("Cannot alias 'a' to 'b': 'b' is already an alias of 'a'.", ex.Message);
        Assert.Single(v.Aliases);
        Assert.Equal("a", v.Aliases["b"].To);
    }

    [Fact]
    public void AddAlias_refuses_from_that_is_already_an_alias()
    {
        var v = new Vocabulary();
        v.AddAlias("a", "b", At, null);

        var ex = Assert.Throws<TroveUsageException>(() => v.AddAlias("a", "c", At, null));
        Assert.Equal("alias-exists", ex.Code);
        Assert.Contains("'a' is already an alias of 'b'", ex.Message);
        Assert.Contains("unalias a", ex.Hint);
        Assert.Equal("b", v.Aliases["a"].To);
        Assert.False(v.Aliases.ContainsKey("c"));
    }

    [Fact]
    public void AddAlias_carries_category_and_description_over_when_the_target_has_none()
    {
        var v = new Vocabulary();
        v.SetCategory("miku", "character");
        v.SetDescription("miku", "Vocaloid");
        v.AddAlias("miku", "hatsune_miku", At, null);

        Assert.False(v.Tags.ContainsKey("miku"));
        Assert.Equal("character", v.CategoryOf("hatsune_miku"));
        Assert.Equal("Vocaloid", v.Tags["hatsune_miku"].Description);
    }

    [Fact]
    public void AddAlias_keeps_the_targets_own_category()
    {
        var v = new Vocabulary();
        v.SetCategory("miku", "character");
        v.SetCategory("hatsune_miku", "copyright");
        v.AddAlias("miku", "hatsune_miku", At, null);

        Assert.Equal("copyright", v.CategoryOf("hatsune_miku"));
        Assert.False(v.Tags.ContainsKey("miku"));
    }

    [Fact]
    public void AddAlias_refuses_a_merge_that_would_make_an_implication_cycle()
    {
        // x → y → z; making z an alias of x would turn y → z into y → x, closing x → y → x.
        var v = WithImplications(("x", "y"), ("y", "z"));

        var ex = Assert.Throws<TroveUsageException>(() => v.AddAlias("z", "x", At, null));
        Assert.Equal("implication-cycle", ex.Code);
        Assert.Contains("x → y → x", ex.Message);

        // Nothing changed.
        Assert.Empty(v.Aliases);
        Assert.Equal([("x", "y"), ("y", "z")], Pairs(v));
        Assert.Empty(v.Validate());
    }

    [Fact]
    public void RemoveAlias_removes_and_refuses_unknown()
    {
        var v = new Vocabulary();
        v.AddAlias("a", "b", At, null);
        v.RemoveAlias("a");
        Assert.Empty(v.Aliases);

        var ex = Assert.Throws<TroveUsageException>(() => v.RemoveAlias("a"));
        Assert.Equal("alias-not-found", ex.Code);
    }

    // ---- Implications ----

    [Fact]
    public void AddImplication_records_it_with_provenance()
    {
        var v = new Vocabulary();
        var imp = v.AddImplication("cat_ears", "animal_ears", At, "alice");

        Assert.Same(imp, Assert.Single(v.Implications));
        Assert.Equal("cat_ears", imp.Child);
        Assert.Equal("animal_ears", imp.Parent);
        Assert.Equal(At, imp.CreatedAt);
        Assert.Equal("alice", imp.CreatedBy);
    }

    [Fact]
    public void AddImplication_resolves_aliases_on_both_sides()
    {
        var v = new Vocabulary();
        v.AddAlias("kitty_ears", "cat_ears", At, null);
        v.AddAlias("animal_ear", "animal_ears", At, null);

        var imp = v.AddImplication("kitty_ears", "animal_ear", At, null);
        Assert.Equal("cat_ears", imp.Child);
        Assert.Equal("animal_ears", imp.Parent);
        Assert.Empty(v.Validate());
    }

    [Fact]
    public void AddImplication_refuses_a_tag_implying_itself_even_through_an_alias()
    {
        var v = new Vocabulary();
        var ex = Assert.Throws<TroveUsageException>(() => v.AddImplication("a", "a", At, null));
        Assert.Equal("implication-cycle", ex.Code);
        Assert.Contains("cannot imply itself ('a')", ex.Message);

        v.AddAlias("b", "a", At, null);
        var viaAlias = Assert.Throws<TroveUsageException>(() => v.AddImplication("b", "a", At, null));
        Assert.Equal("implication-cycle", viaAlias.Code);
        Assert.Empty(v.Implications);
    }

    [Fact]
    public void AddImplication_refuses_duplicates_including_through_aliases()
    {
        var v = WithImplications(("a", "b"));
        var ex = Assert.Throws<TroveUsageException>(() => v.AddImplication("a", "b", At, null));
        Assert.Equal("implication-exists", ex.Code);
        Assert.Contains("'a' already implies 'b'", ex.Message);

        v.AddAlias("aa", "a", At, null);
        var viaAlias = Assert.Throws<TroveUsageException>(() => v.AddImplication("aa", "b", At, null));
        Assert.Equal("implication-exists", viaAlias.Code);
        Assert.Single(v.Implications);
    }

    [Fact]
    public void AddImplication_refuses_a_direct_cycle()
    {
        var v = WithImplications(("a", "b"));
        var ex = Assert.Throws<TroveUsageException>(() => v.AddImplication("b", "a", At, null));
        Assert.Equal("implication-cycle", ex.Code);
        Assert.Equal("'b' → 'a' would make a cycle: b → a → b.", ex.Message);
        Assert.Single(v.Implications);
    }

    [Fact]
    public void AddImplication_refuses_a_longer_cycle_and_names_it()
    {
        var v = WithImplications(("b", "c"), ("c", "a"));
        var ex = Assert.Throws<TroveUsageException>(() => v.AddImplication("a", "b", At, null));
        Assert.Equal("implication-cycle", ex.Code);
        Assert.Contains("a → b → c → a", ex.Message);
        Assert.NotNull(ex.Hint);
        Assert.Equal(2, v.Implications.Count);
    }

    [Fact]
    public void AddImplication_names_the_shortest_cycle_among_several_paths()
    {
        // a → b → c → d and a → d; adding d → a: shortest way back from a to d is a → d.
        var v = WithImplications(("a", "b"), ("b", "c"), ("c", "d"), ("a", "d"));
        var ex = Assert.Throws<TroveUsageException>(() => v.AddImplication("d", "a", At, null));
        Assert.Contains("cycle: d → a → d.", ex.Message);
    }

    [Fact]
    public void AddImplication_allows_diamonds()
    {
        var v = WithImplications(("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"));
        Assert.Equal(4, v.Implications.Count);
        Assert.Empty(v.Validate());
    }

    [Fact]
    public void RemoveImplication_resolves_aliases_and_refuses_unknown()
    {
        var v = WithImplications(("a", "b"));
        v.AddAlias("aa", "a", At, null);
        v.RemoveImplication("aa", "b");
        Assert.Empty(v.Implications);

        var ex = Assert.Throws<TroveUsageException>(() => v.RemoveImplication("a", "b"));
        Assert.Equal("implication-not-found", ex.Code);
    }

    [Fact]
    public void ImpliedParents_is_transitive_and_excludes_the_given_tags()
    {
        var v = WithImplications(("a", "b"), ("b", "c"), ("c", "d"), ("x", "y"));

        var implied = v.ImpliedParents(["a"]);
        Assert.Equal(3, implied.Count);
        Assert.Equal("a", implied["b"]);
        Assert.Equal("b", implied["c"]);
        Assert.Equal("c", implied["d"]);
        Assert.False(implied.ContainsKey("a"));
        Assert.False(implied.ContainsKey("y"));
    }

    [Fact]
    public void ImpliedParents_leaves_out_tags_already_present()
    {
        var v = WithImplications(("a", "b"), ("b", "c"));

        var implied = v.ImpliedParents(["a", "b"]);
        Assert.Equal(["c"], implied.Keys);
        Assert.Equal("b", implied["c"]);
    }

    [Fact]
    public void ImpliedParents_follows_diamonds_once_and_handles_no_implications()
    {
        var v = WithImplications(("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"));
        var implied = v.ImpliedParents(["a"]);
        Assert.Equal(["b", "c", "d"], implied.Keys.Order(StringComparer.Ordinal));

        Assert.Empty(new Vocabulary().ImpliedParents(["a"]));
        Assert.Empty(v.ImpliedParents([]));
    }

    // ---- Validate (files edited by hand) ----

    [Fact]
    public void Validate_accepts_a_consistent_vocabulary()
    {
        var v = WithImplications(("a", "b"), ("b", "c"));
        v.AddAlias("aa", "a", At, null);
        v.AddCategory("place");
        v.SetCategory("c", "place");
        Assert.Empty(v.Validate());
    }

    [Fact]
    public void Validate_reports_alias_chains()
    {
        var v = new Vocabulary();
        v.Aliases["a"] = new AliasInfo { To = "b" };
        v.Aliases["b"] = new AliasInfo { To = "c" };

        var error = Assert.Single(v.Validate());
        Assert.Contains("alias 'a' → 'b' points at another alias", error);
    }

    [Fact]
    public void Validate_reports_alias_cycles()
    {
        var v = new Vocabulary();
        v.Aliases["a"] = new AliasInfo { To = "b" };
        v.Aliases["b"] = new AliasInfo { To = "a" };

        var errors = v.Validate();
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("alias 'a' → 'b'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("alias 'b' → 'a'", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_reports_unknown_categories()
    {
        var v = new Vocabulary();
        v.Tags["x"] = new TagInfo { Category = "nope" };
        v.Tags["y"] = new TagInfo { Category = "artist" };

        var error = Assert.Single(v.Validate());
        Assert.Equal("tag 'x' has unknown category 'nope'", error);
    }

    [Fact]
    public void Validate_reports_implications_naming_an_alias()
    {
        var v = new Vocabulary();
        v.Aliases["a"] = new AliasInfo { To = "b" };
        v.Implications.Add(new Implication { Child = "a", Parent = "c" });

        var error = Assert.Single(v.Validate());
        Assert.Contains("implication 'a' → 'c' names an alias", error);
    }

    [Fact]
    public void Validate_reports_implication_cycles()
    {
        var v = new Vocabulary();
        v.Implications.Add(new Implication { Child = "a", Parent = "b" });
        v.Implications.Add(new Implication { Child = "b", Parent = "c" });
        v.Implications.Add(new Implication { Child = "c", Parent = "a" });

        var errors = v.Validate();
        Assert.Equal(3, errors.Count);
        Assert.Contains("implication cycle: a → b → c → a", errors);
        Assert.Contains("implication cycle: b → c → a → b", errors);
        Assert.Contains("implication cycle: c → a → b → c", errors);
    }

    [Fact]
    public void Validate_reports_duplicate_problems_once()
    {
        var v = new Vocabulary();
        v.Tags["x"] = new TagInfo { Category = "nope" };
        v.Implications.Add(new Implication { Child = "a", Parent = "a" });
        v.Implications.Add(new Implication { Child = "a", Parent = "a" });

        var errors = v.Validate();
        Assert.Equal(errors.Count, errors.Distinct().Count());
        Assert.Contains("implication cycle: a → a", errors);
    }
}
