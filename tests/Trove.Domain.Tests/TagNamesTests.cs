using Trove.Domain;

namespace Trove.Domain.Tests;

public class TagNamesTests
{
    [Theory]
    [InlineData("long_hair", "long_hair")]
    [InlineData("Long Hair", "long_hair")]
    [InlineData("LONG_HAIR", "long_hair")]
    [InlineData("  long   hair  ", "long_hair")]
    [InlineData("long__hair", "long_hair")]
    [InlineData("long _ hair", "long_hair")]
    [InlineData("_long_hair_", "long_hair")]
    [InlineData("long\thair", "long_hair")]
    [InlineData("long\u00A0hair", "long_hair")]
    [InlineData("a b c", "a_b_c")]
    [InlineData("foo-bar", "foo-bar")]
    [InlineData("1girl", "1girl")]
    public void Normalize_lowercases_and_joins_words_with_single_underscores(string raw, string expected)
    {
        Assert.Equal(expected, TagNames.Normalize(raw));
        Assert.True(TagNames.TryNormalize(raw, out var name, out var error));
        Assert.Equal(expected, name);
        Assert.Equal(string.Empty, error);
    }

    [Theory]
    [InlineData("re:zero", "re:zero")]
    [InlineData("Re:Zero", "re:zero")]
    [InlineData("steins;gate", "steins;gate")]
    [InlineData("ÜBER Café", "über_café")]
    [InlineData("東方", "東方")]
    [InlineData("ΑΒΓ", "αβγ")]
    [InlineData("widths:foo", "widths:foo")]
    [InlineData("my width:foo", "my_width:foo")]
    [InlineData("order", "order")]
    [InlineData("android", "android")]
    [InlineData("or_not", "or_not")]
    [InlineData("x-or", "x-or")]
    public void Normalize_accepts_names_that_are_not_ambiguous_in_searches(string raw, string expected)
    {
        Assert.Equal(expected, TagNames.Normalize(raw));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n")]
    public void TryNormalize_refuses_empty_names(string? raw)
    {
        Assert.False(TagNames.TryNormalize(raw, out var name, out var error));
        Assert.Equal(string.Empty, name);
        Assert.Contains("cannot be empty", error);
    }

    [Theory]
    [InlineData("_")]
    [InlineData("___")]
    [InlineData(" _ _ ")]
    public void TryNormalize_refuses_names_made_only_of_separators(string raw)
    {
        Assert.False(TagNames.TryNormalize(raw, out var name, out var error));
        Assert.Equal(string.Empty, name);
        Assert.Contains("no letters or digits", error);
    }

    [Theory]
    [InlineData("-foo", '-')]
    [InlineData(" -foo", '-')]
    [InlineData("_-foo", '-')]
    [InlineData("-", '-')]
    [InlineData("~foo", '~')]
    public void TryNormalize_refuses_a_leading_negation_character(string raw, char c)
    {
        Assert.False(TagNames.TryNormalize(raw, out _, out var error));
        Assert.Contains($"cannot start with '{c}'", error);
    }

    [Theory]
    [InlineData("foo*", '*')]
    [InlineData("*", '*')]
    [InlineData("a,b", ',')]
    [InlineData("say \"hi\"", '"')]
    public void TryNormalize_refuses_characters_with_a_meaning_in_searches(string raw, char c)
    {
        Assert.False(TagNames.TryNormalize(raw, out var name, out var error));
        Assert.Equal(string.Empty, name);
        Assert.Contains($"contains '{c}'", error);
    }

    [Theory]
    [InlineData("saber_(fate)", "saber_(fate)")]
    [InlineData("Saber (Fate)", "saber_(fate)")]
    [InlineData("a_(b)_(c)", "a_(b)_(c)")]
    public void TryNormalize_accepts_balanced_qualifier_parentheses(string raw, string expected)
    {
        Assert.True(TagNames.TryNormalize(raw, out var name, out _));
        Assert.Equal(expected, name);
    }

    [Theory]
    [InlineData("(fate)")]
    [InlineData("bar)")]
    [InlineData("foo(bar")]
    [InlineData("a)(b")]
    public void TryNormalize_refuses_parentheses_that_would_read_as_grouping(string raw)
    {
        Assert.False(TagNames.TryNormalize(raw, out _, out var error));
        Assert.Contains("parentheses", error);
    }

    [Theory]
    [InlineData("or", "or")]
    [InlineData("OR", "or")]
    [InlineData("and", "and")]
    [InlineData(" And ", "and")]
    public void TryNormalize_refuses_search_keywords(string raw, string keyword)
    {
        Assert.False(TagNames.TryNormalize(raw, out _, out var error));
        Assert.Equal($"'{keyword}' is a search keyword and cannot be a tag.", error);
    }

    [Theory]
    [InlineData("width:foo", "width")]
    [InlineData("Width:100", "width")]
    [InlineData("height:>5", "height")]
    [InlineData("type:png", "type")]
    [InlineData("order:random", "order")]
    [InlineData("id:abc", "id")]
    [InlineData("collection:my set", "collection")]
    public void TryNormalize_refuses_metatag_prefixes(string raw, string prefix)
    {
        Assert.False(TagNames.TryNormalize(raw, out _, out var error));
        Assert.Contains($"search metatag '{prefix}:'", error);
    }

    [Fact]
    public void Every_reserved_prefix_is_refused_followed_by_a_colon_and_accepted_alone()
    {
        foreach (var prefix in TagNames.ReservedPrefixes)
        {
            Assert.False(TagNames.TryNormalize(prefix + ":x", out _, out _), prefix);
            Assert.True(TagNames.TryNormalize(prefix, out var name, out _), prefix);
            Assert.Equal(prefix, name);
        }
    }

    [Fact]
    public void TryNormalize_refuses_control_characters()
    {
        Assert.False(TagNames.TryNormalize("a\u0001b", out var name, out var error));
        Assert.Equal(string.Empty, name);
        Assert.Contains("control character", error);
    }

    [Fact]
    public void TryNormalize_accepts_exactly_the_maximum_length()
    {
        var raw = new string('a', TagNames.MaxLength);
        Assert.True(TagNames.TryNormalize(raw, out var name, out _));
        Assert.Equal(raw, name);
    }

    [Fact]
    public void TryNormalize_measures_length_after_collapsing_whitespace()
    {
        var raw = "   " + new string('a', TagNames.MaxLength - 2) + "     b   ";
        Assert.True(TagNames.TryNormalize(raw, out var name, out _));
        Assert.Equal(TagNames.MaxLength, name.Length);
    }

    [Fact]
    public void TryNormalize_refuses_one_character_over_the_maximum_length()
    {
        var raw = new string('a', TagNames.MaxLength + 1);
        Assert.False(TagNames.TryNormalize(raw, out var name, out var error));
        Assert.Equal(string.Empty, name);
        Assert.Contains($"longer than {TagNames.MaxLength} characters", error);
        // The offending name is shortened in the message.
        Assert.Contains(new string('a', 40) + "…", error);
        Assert.DoesNotContain(new string('a', 41), error);
    }

    [Fact]
    public void Normalize_throws_a_usage_error_with_code_and_hint()
    {
        var ex = Assert.Throws<TroveUsageException>(() => TagNames.Normalize("-foo"));
        Assert.Equal("invalid-tag", ex.Code);
        Assert.True(ex.IsUsageError);
        Assert.Contains("-foo", ex.Message);
        Assert.False(string.IsNullOrEmpty(ex.Hint));
    }

    [Fact]
    public void Normalize_is_idempotent()
    {
        foreach (var raw in new[] { "Long Hair", "re:zero", "ÜBER Café", "a  b__c" })
        {
            var once = TagNames.Normalize(raw);
            Assert.Equal(once, TagNames.Normalize(once));
        }
    }
}
