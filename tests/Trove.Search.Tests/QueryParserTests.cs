using System.Diagnostics;
using Trove.Domain;
using Trove.Search.Engine;
using Trove.Search.Query;

namespace Trove.Search.Tests;

public class QueryParserTests
{
    private static QueryNode Root(string query) => QueryParser.Parse(query).Root!;

    private static T Node<T>(string query)
        where T : QueryNode => Assert.IsType<T>(Root(query));

    private static TroveUsageException Error(string query, QueryLimits? limits = null) =>
        Assert.Throws<TroveUsageException>(() => QueryParser.Parse(query, limits));

    private static long Ms(int y, int m, int d) => new DateTimeOffset(y, m, d, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static void AssertTag(QueryNode node, string name, int start, int length)
    {
        var tag = Assert.IsType<TagTerm>(node);
        Assert.Equal(name, tag.Name);
        Assert.Equal(new SourceSpan(start, length), tag.Span);
        Assert.Null(tag.MetatagLike);
    }

    private static string[] Names(QueryNode node) => node switch
    {
        AndNode a => [.. a.Children.Select(c => Assert.IsType<TagTerm>(c).Name)],
        OrNode o => [.. o.Children.Select(c => Assert.IsType<TagTerm>(c).Name)],
        _ => [Assert.IsType<TagTerm>(node).Name],
    };

    // ------------------------------------------------------------------ structure

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n ")]
    [InlineData(null)]
    public void Empty_query_has_no_root_and_the_default_order(string? query)
    {
        var parsed = QueryParser.Parse(query);
        Assert.Null(parsed.Root);
        Assert.Equal(OrderSpec.Newest, parsed.Order);
        Assert.Null(parsed.OrderSpan);
        Assert.Equal(query ?? string.Empty, parsed.Text);
    }

    [Fact]
    public void Single_tag_is_the_root()
    {
        AssertTag(Root("cat"), "cat", 0, 3);
    }

    [Fact]
    public void Whitespace_means_and()
    {
        var and = Node<AndNode>("cat dog  bird");
        Assert.Equal(["cat", "dog", "bird"], Names(and));
        Assert.Equal(new SourceSpan(0, 13), and.Span);
    }

    [Fact]
    public void Minus_negates_the_next_term()
    {
        var and = Node<AndNode>("cat -dog");
        AssertTag(and.Children[0], "cat", 0, 3);
        var not = Assert.IsType<NotNode>(and.Children[1]);
        Assert.Equal(new SourceSpan(4, 4), not.Span);
        AssertTag(not.Child, "dog", 5, 3);
    }

    [Fact]
    public void Double_minus_is_a_double_negation()
    {
        var outer = Node<NotNode>("--a");
        var inner = Assert.IsType<NotNode>(outer.Child);
        AssertTag(inner.Child, "a", 2, 1);
        Assert.Equal(new SourceSpan(0, 3), outer.Span);
        Assert.Equal(new SourceSpan(1, 2), inner.Span);
    }

    [Fact]
    public void A_minus_inside_a_word_is_part_of_the_tag()
    {
        AssertTag(Root("foo-bar"), "foo-bar", 0, 7);
        AssertTag(Root("x-"), "x-", 0, 2);
    }

    [Theory]
    [InlineData("cat or dog")]
    [InlineData("cat OR dog")]
    [InlineData("cat Or dog")]
    [InlineData("cat oR dog")]
    public void Or_is_case_insensitive(string query)
    {
        var or = Node<OrNode>(query);
        Assert.Equal(["cat", "dog"], Names(or));
        Assert.Equal(new SourceSpan(0, 10), or.Span);
    }

    [Fact]
    public void Words_containing_or_are_tags()
    {
        Assert.Equal(["or_not", "orange", "x-or"], Names(Root("or_not orange x-or")));
    }

    [Fact]
    public void And_binds_tighter_than_or()
    {
        var or = Node<OrNode>("a b or c");
        Assert.Equal(2, or.Children.Count);
        Assert.Equal(["a", "b"], Names(Assert.IsType<AndNode>(or.Children[0])));
        AssertTag(or.Children[1], "c", 7, 1);

        var or2 = Node<OrNode>("a or b c");
        AssertTag(or2.Children[0], "a", 0, 1);
        Assert.Equal(["b", "c"], Names(Assert.IsType<AndNode>(or2.Children[1])));
    }

    [Fact]
    public void Parentheses_group()
    {
        var and = Node<AndNode>("(a or b) c");
        var or = Assert.IsType<OrNode>(and.Children[0]);
        Assert.Equal(["a", "b"], Names(or));
        Assert.Equal(new SourceSpan(0, 8), or.Span);
        AssertTag(and.Children[1], "c", 9, 1);
    }

    [Fact]
    public void Nested_parentheses()
    {
        var or = Node<OrNode>("((a or b) c) or d");
        var and = Assert.IsType<AndNode>(or.Children[0]);

        // The group "(… c)" is an AND flattened into the AND around it, which is rebuilt from its children: the span
        // covers "(a or b) c" without the outer parentheses.
        Assert.Equal(new SourceSpan(1, 10), and.Span);
        var inner = Assert.IsType<OrNode>(and.Children[0]);
        Assert.Equal(["a", "b"], Names(inner));
        Assert.Equal(new SourceSpan(1, 8), inner.Span);
        AssertTag(and.Children[1], "c", 10, 1);
        AssertTag(or.Children[1], "d", 16, 1);
    }

    [Fact]
    public void Redundant_parentheses_around_a_term_vanish()
    {
        AssertTag(Root("((a))"), "a", 2, 1);
        AssertTag(Root("( a )"), "a", 2, 1);
    }

    [Fact]
    public void Negated_group()
    {
        var not = Node<NotNode>("-(a or b)");
        Assert.Equal(new SourceSpan(0, 9), not.Span);
        var or = Assert.IsType<OrNode>(not.Child);
        Assert.Equal(new SourceSpan(1, 8), or.Span);
        AssertTag(or.Children[0], "a", 2, 1);
        AssertTag(or.Children[1], "b", 7, 1);
    }

    [Fact]
    public void Negated_and_group_and_negation_inside_a_group()
    {
        var not = Node<NotNode>("-(a -b)");
        var and = Assert.IsType<AndNode>(not.Child);
        AssertTag(and.Children[0], "a", 2, 1);
        AssertTag(Assert.IsType<NotNode>(and.Children[1]).Child, "b", 5, 1);
    }

    [Fact]
    public void Nested_ands_and_ors_are_flattened()
    {
        Assert.Equal(["a", "b", "c"], Names(Node<AndNode>("a (b c)")));
        Assert.Equal(["a", "b", "c", "d"], Names(Node<AndNode>("(a b) (c d)")));
        Assert.Equal(["a", "b", "c"], Names(Node<OrNode>("a or (b or c)")));
        Assert.Equal(["a", "b", "c", "d"], Names(Node<OrNode>("a or (b or (c or d))")));
        Assert.Equal(["a", "b", "c"], Names(Node<OrNode>("a or b or c")));
        Assert.Equal(["a", "b", "c"], Names(Node<AndNode>("(a (b c))")));

        // An or inside an and (or the reverse) is not flattened.
        var and = Node<AndNode>("a (b or c)");
        Assert.IsType<OrNode>(and.Children[1]);
    }

    /// <summary>
    /// Regression (QueryParser.ParseOr, fixed): only the children after an 'or' are flattened; a leading group stays nested, so
    /// "(a or b) or c" is Or[Or[a, b], c] while "a or (b or c)" is Or[a, b, c].
    /// </summary>
    [Fact]
    public void Or_flattening_includes_a_leading_group()
    {
        Assert.Equal(["a", "b", "c"], Names(Node<OrNode>("(a or b) or c")));
        Assert.Equal(["a", "b", "c", "d"], Names(Node<OrNode>("(a or b) or (c or d)")));
    }

    [Fact]
    public void Booru_parentheses_stay_in_the_tag()
    {
        AssertTag(Root("saber_(fate)"), "saber_(fate)", 0, 12);
        AssertTag(Root("Saber_(Fate)"), "saber_(fate)", 0, 12);
        AssertTag(Root("a_(b)_(c)"), "a_(b)_(c)", 0, 9);
        AssertTag(Root("x_(y_(z))"), "x_(y_(z))", 0, 9);
    }

    [Fact]
    public void Booru_tags_inside_groups()
    {
        var or = Node<OrNode>("(saber_(fate) or rin)");
        Assert.Equal(new SourceSpan(0, 21), or.Span);
        AssertTag(or.Children[0], "saber_(fate)", 1, 12);
        AssertTag(or.Children[1], "rin", 17, 3);

        var or2 = Node<OrNode>("(rin or saber_(fate))");
        AssertTag(or2.Children[0], "rin", 1, 3);
        AssertTag(or2.Children[1], "saber_(fate)", 8, 12);

        var not = Node<NotNode>("-(saber_(fate))");
        AssertTag(not.Child, "saber_(fate)", 2, 12);

        var and = Node<AndNode>("((mercy_(overwatch) or saber_(fate)) -rin_(fate))");
        Assert.Equal(["mercy_(overwatch)", "saber_(fate)"], Names(Assert.IsType<OrNode>(and.Children[0])));
        AssertTag(Assert.IsType<NotNode>(and.Children[1]).Child, "rin_(fate)", 38, 10);
    }

    [Fact]
    public void Booru_wildcard_inside_a_group()
    {
        var and = Node<AndNode>("(saber_(*) x)");
        Assert.Equal("saber_(*)", Assert.IsType<WildcardTerm>(and.Children[0]).Pattern);
    }

    [Fact]
    public void Quoted_tag_keeps_spaces_as_underscores()
    {
        AssertTag(Root("\"long hair\""), "long_hair", 0, 11);
        AssertTag(Root("\"Long  Hair\" x").Let(n => ((AndNode)n).Children[0]), "long_hair", 0, 12);
    }

    [Fact]
    public void Tags_are_normalised()
    {
        AssertTag(Root("Long_Hair"), "long_hair", 0, 9);
        AssertTag(Root("long__hair_"), "long_hair", 0, 11);
    }

    [Fact]
    public void Unknown_name_colon_value_is_a_tag_that_remembers_it_looked_like_a_metatag()
    {
        var tag = Node<TagTerm>("re:zero");
        Assert.Equal("re:zero", tag.Name);
        Assert.Equal("re", tag.MetatagLike);

        var upper = Node<TagTerm>("Re:Zero");
        Assert.Equal("re:zero", upper.Name);
        Assert.Equal("re", upper.MetatagLike);

        // A quoted name:value is a plain tag.
        var quoted = Node<TagTerm>("\"re:zero\"");
        Assert.Equal("re:zero", quoted.Name);
        Assert.Null(quoted.MetatagLike);
    }

    [Theory]
    [InlineData("*_hair", "*_hair")]
    [InlineData("long*", "long*")]
    [InlineData("*hair*", "*hair*")]
    [InlineData("*", "*")]
    [InlineData("Long*Hair", "long*hair")]
    [InlineData("a***b", "a*b")]
    [InlineData("\"long *\"", "long_*")]
    public void Wildcards(string query, string pattern)
    {
        var w = Node<WildcardTerm>(query);
        Assert.Equal(pattern, w.Pattern);
        Assert.Equal(new SourceSpan(0, query.Length), w.Span);
    }

    [Fact]
    public void Negated_wildcard()
    {
        var not = Node<NotNode>("-blue*");
        Assert.Equal("blue*", Assert.IsType<WildcardTerm>(not.Child).Pattern);
    }

    // ------------------------------------------------------------------ quoting

    [Fact]
    public void Quoted_caption_phrase()
    {
        var c = Node<CaptionTerm>("caption:\"red car\"");
        Assert.Equal(["red", "car"], c.Words);
        Assert.False(c.LastIsPrefix);
        Assert.Equal(new SourceSpan(0, 17), c.Span);
    }

    [Fact]
    public void Quoted_collection_name()
    {
        var c = Node<ChoiceTerm>("collection:\"My Pets\"");
        Assert.Equal(ChoiceField.Collection, c.Field);
        Assert.Equal(["My Pets"], c.Values);
    }

    [Theory]
    [InlineData("collection:\"My \\\"Pets\\\"\"", "My \"Pets\"")]
    [InlineData("collection:\"a\\\\b\"", "a\\b")]
    [InlineData("collection:\"a)\"", "a)")]
    [InlineData("collection:\"(a\"", "(a")]
    [InlineData("collection:\"\\\"\"", "\"")]
    public void Quoted_values_unescape(string query, string value)
    {
        var c = Node<ChoiceTerm>(query);
        Assert.Equal([value], c.Values);
        Assert.Equal(new SourceSpan(0, query.Length), c.Span);
    }

    [Fact]
    public void Quoted_value_with_a_parenthesis_inside_a_group()
    {
        var and = Node<AndNode>("(collection:\"a)\" x)");
        Assert.Equal(["a)"], Assert.IsType<ChoiceTerm>(and.Children[0]).Values);
        AssertTag(and.Children[1], "x", 17, 1);

        var single = Node<ChoiceTerm>("(collection:\"a b)\")");
        Assert.Equal(["a b)"], single.Values);
    }

    /// <summary>
    /// Regression (QueryParser.LexWord, fixed): the parenthesis count ignores backslash escapes inside quotes, so an escaped quote
    /// flips its idea of "inside quotes" and a '(' in the value is counted: the group's ')' is then kept in the term.
    /// </summary>
    [Fact]
    public void Escaped_quote_followed_by_a_parenthesis_inside_a_group()
    {
        var c = Node<ChoiceTerm>("(collection:\"x\\\"(\")");
        Assert.Equal(["x\"("], c.Values);
    }

    [Fact]
    public void Quoted_uploader_is_lowercased()
    {
        Assert.Equal(["ann smith"], Node<ChoiceTerm>("uploader:\"Ann Smith\"").Values);
    }

    [Fact]
    public void Metatag_names_are_case_insensitive()
    {
        Assert.Equal(RangeField.Width, Node<RangeTerm>("WIDTH:5").Field);
        Assert.Equal(HasWhat.Caption, Node<HasTerm>("Has:Caption").What);
    }

    // ------------------------------------------------------------------ range metatags

    [Theory]
    [InlineData("width", RangeField.Width)]
    [InlineData("height", RangeField.Height)]
    [InlineData("tagcount", RangeField.TagCount)]
    public void Integer_ranges(string name, RangeField field)
    {
        void Check(string value, long min, long max)
        {
            var r = Node<RangeTerm>($"{name}:{value}");
            Assert.Equal(field, r.Field);
            Assert.Equal(new LongRange(min, max), r.Range);
        }

        Check("1024", 1024, 1024);
        Check("0", 0, 0);
        Check(">1000", 1001, long.MaxValue);
        Check(">=1000", 1000, long.MaxValue);
        Check("<1000", long.MinValue, 999);
        Check("<=1000", long.MinValue, 1000);
        Check("800..1200", 800, 1200);
        Check("800..800", 800, 800);
        Check("800..", 800, long.MaxValue);
        Check("..1200", long.MinValue, 1200);
        Check("<0", long.MinValue, -1);
    }

    [Theory]
    [InlineData("mpixels:2", 1_950_000, 2_049_999)]
    [InlineData("mpixels:2.0", 1_950_000, 2_049_999)]
    [InlineData("mpixels:0.5", 450_000, 549_999)]
    [InlineData("mpixels:2.25", 2_245_000, 2_254_999)]
    [InlineData("mpixels:12", 11_950_000, 12_049_999)]
    [InlineData("mpixels:>2", 2_000_001, long.MaxValue)]
    [InlineData("mpixels:>=1.5", 1_500_000, long.MaxValue)]
    [InlineData("mpixels:<2", long.MinValue, 1_999_999)]
    [InlineData("mpixels:<=2", long.MinValue, 2_000_000)]
    [InlineData("mpixels:1..4", 1_000_000, 4_000_000)]
    [InlineData("mpixels:..0.3", long.MinValue, 300_000)]
    [InlineData("mpixels:8..", 8_000_000, long.MaxValue)]
    public void Megapixels(string query, long min, long max)
    {
        var r = Node<RangeTerm>(query);
        Assert.Equal(RangeField.Pixels, r.Field);
        Assert.Equal(new LongRange(min, max), r.Range);
    }

    [Theory]
    [InlineData("ratio:16:9", 178, 178)]
    [InlineData("ratio:4:3", 133, 133)]
    [InlineData("ratio:2:3", 67, 67)]
    [InlineData("ratio:1:1", 100, 100)]
    [InlineData("ratio:1", 100, 100)]
    [InlineData("ratio:1.5", 150, 150)]
    [InlineData("ratio:1.777", 178, 178)]
    [InlineData("ratio:0.125", 13, 13)]
    [InlineData("ratio:>1", 101, long.MaxValue)]
    [InlineData("ratio:>=16:9", 178, long.MaxValue)]
    [InlineData("ratio:<1", long.MinValue, 99)]
    [InlineData("ratio:1.3..1.8", 130, 180)]
    [InlineData("ratio:4:3..16:9", 133, 178)]
    [InlineData("ratio:..1", long.MinValue, 100)]
    public void Ratios(string query, long min, long max)
    {
        var r = Node<RangeTerm>(query);
        Assert.Equal(RangeField.Ratio, r.Field);
        Assert.Equal(new LongRange(min, max), r.Range);
    }

    [Theory]
    [InlineData("filesize:100", 100, 100)]
    [InlineData("filesize:100b", 100, 100)]
    [InlineData("filesize:0", 0, 0)]
    [InlineData("filesize:1kb", 1024 - 51, 1024 + 51)]
    [InlineData("filesize:1k", 1024 - 51, 1024 + 51)]
    [InlineData("filesize:1KiB", 1024 - 51, 1024 + 51)]
    [InlineData("filesize:2mb", 2_097_152 - 104_858, 2_097_152 + 104_858)]
    [InlineData("filesize:2MB", 2_097_152 - 104_858, 2_097_152 + 104_858)]
    [InlineData("filesize:1.5mb", 1_572_864 - 78_643, 1_572_864 + 78_643)]
    [InlineData("filesize:1gb", 1_073_741_824 - 53_687_091, 1_073_741_824 + 53_687_091)]
    [InlineData("filesize:>2mb", 2_097_153, long.MaxValue)]
    [InlineData("filesize:>=2mb", 2_097_152, long.MaxValue)]
    [InlineData("filesize:<1kb", long.MinValue, 1023)]
    [InlineData("filesize:<=1gb", long.MinValue, 1_073_741_824)]
    [InlineData("filesize:100kb..1mb", 102_400, 1_048_576)]
    [InlineData("filesize:..500", long.MinValue, 500)]
    [InlineData("filesize:1m..", 1_048_576, long.MaxValue)]
    public void File_sizes(string query, long min, long max)
    {
        var r = Node<RangeTerm>(query);
        Assert.Equal(RangeField.FileSize, r.Field);
        Assert.Equal(new LongRange(min, max), r.Range);
    }

    public static TheoryData<string, long, long> Dates() => new()
    {
        { "2025", Ms(2025, 1, 1), Ms(2026, 1, 1) - 1 },
        { "2025-01", Ms(2025, 1, 1), Ms(2025, 2, 1) - 1 },
        { "2024-02", Ms(2024, 2, 1), Ms(2024, 3, 1) - 1 },
        { "2025-02", Ms(2025, 2, 1), Ms(2025, 3, 1) - 1 },
        { "2025-12", Ms(2025, 12, 1), Ms(2026, 1, 1) - 1 },
        { "2025-01-01", Ms(2025, 1, 1), Ms(2025, 1, 2) - 1 },
        { "2024-02-29", Ms(2024, 2, 29), Ms(2024, 3, 1) - 1 },
        { "2024-12-31", Ms(2024, 12, 31), Ms(2025, 1, 1) - 1 },
        { ">2025-01-01", Ms(2025, 1, 2), long.MaxValue },
        { ">=2025-01-01", Ms(2025, 1, 1), long.MaxValue },
        { "<2025-01-01", long.MinValue, Ms(2025, 1, 1) - 1 },
        { "<=2025-01-01", long.MinValue, Ms(2025, 1, 2) - 1 },
        { ">2025", Ms(2026, 1, 1), long.MaxValue },
        { "<=2025-01", long.MinValue, Ms(2025, 2, 1) - 1 },
        { "<2025-01", long.MinValue, Ms(2025, 1, 1) - 1 },
        { ">2025-01", Ms(2025, 2, 1), long.MaxValue },
        { "2024..2025", Ms(2024, 1, 1), Ms(2026, 1, 1) - 1 },
        { "2025-01-01..2025-06-30", Ms(2025, 1, 1), Ms(2025, 7, 1) - 1 },
        { "2025-01..2025-01", Ms(2025, 1, 1), Ms(2025, 2, 1) - 1 },
        { "2024-06..", Ms(2024, 6, 1), long.MaxValue },
        { "..2024-06", long.MinValue, Ms(2024, 7, 1) - 1 },
        { "1970", 0, Ms(1971, 1, 1) - 1 },
        { "1969-12-31", -86_400_000, -1 },
    };

    [Theory]
    [MemberData(nameof(Dates))]
    public void Dates_are_utc_periods(string value, long min, long max)
    {
        var date = Node<RangeTerm>("date:" + value);
        Assert.Equal(RangeField.Date, date.Field);
        Assert.Equal(new LongRange(min, max), date.Range);

        var taken = Node<RangeTerm>("taken:" + value);
        Assert.Equal(RangeField.Taken, taken.Field);
        Assert.Equal(new LongRange(min, max), taken.Range);
    }

    /// <summary>Regression (Metatags.DateValue, fixed): the end of year 9999 is past DateTime.MaxValue; AddYears throws.</summary>
    [Theory]
    [InlineData("date:9999")]
    [InlineData("date:9999-12")]
    [InlineData("date:9999-12-31")]
    [InlineData("taken:>=9999")]
    public void Dates_at_the_end_of_the_calendar_do_not_crash(string query)
    {
        var ex = Record.Exception(() => QueryParser.Parse(query));
        Assert.True(ex is null or TroveUsageException, $"'{query}' threw {ex?.GetType().Name}: {ex?.Message}");
    }

    // ------------------------------------------------------------------ choice metatags

    [Theory]
    [InlineData("type:jpg", new[] { "jpg" })]
    [InlineData("type:jpeg", new[] { "jpg" })]
    [InlineData("type:JPEG", new[] { "jpg" })]
    [InlineData("type:tif", new[] { "tiff" })]
    [InlineData("type:heif", new[] { "heic" })]
    [InlineData("type:png,jpg", new[] { "png", "jpg" })]
    [InlineData("type:png|webp", new[] { "png", "webp" })]
    [InlineData("type:png,jpeg|tif", new[] { "png", "jpg", "tiff" })]
    [InlineData("type:jpg,jpeg", new[] { "jpg" })]
    [InlineData("type:gif,bmp,avif,jxl", new[] { "gif", "bmp", "avif", "jxl" })]
    public void Types(string query, string[] values)
    {
        var c = Node<ChoiceTerm>(query);
        Assert.Equal(ChoiceField.Type, c.Field);
        Assert.Equal(values, c.Values);
    }

    [Theory]
    [InlineData("kind:image", new[] { "image" })]
    [InlineData("kind:mask", new[] { "mask" })]
    [InlineData("kind:IMAGE", new[] { "image" })]
    [InlineData("kind:image,mask", new[] { "image", "mask" })]
    [InlineData("kind:mask|image|mask", new[] { "mask", "image" })]
    public void Kinds(string query, string[] values)
    {
        var c = Node<ChoiceTerm>(query);
        Assert.Equal(ChoiceField.Kind, c.Field);
        Assert.Equal(values, c.Values);
    }

    [Fact]
    public void Uploader_is_lowercased_and_collection_is_kept()
    {
        var u = Node<ChoiceTerm>("uploader:Ann");
        Assert.Equal(ChoiceField.Uploader, u.Field);
        Assert.Equal(["ann"], u.Values);

        var c = Node<ChoiceTerm>("collection:Work");
        Assert.Equal(ChoiceField.Collection, c.Field);
        Assert.Equal(["Work"], c.Values);
    }

    [Theory]
    [InlineData("has:caption", HasWhat.Caption)]
    [InlineData("has:captions", HasWhat.Caption)]
    [InlineData("has:crop", HasWhat.Crop)]
    [InlineData("has:crops", HasWhat.Crop)]
    [InlineData("has:mask", HasWhat.Mask)]
    [InlineData("has:masks", HasWhat.Mask)]
    [InlineData("has:suggestion", HasWhat.Suggestions)]
    [InlineData("has:suggestions", HasWhat.Suggestions)]
    [InlineData("HAS:CAPTION", HasWhat.Caption)]
    public void Has(string query, HasWhat what)
    {
        Assert.Equal(what, Node<HasTerm>(query).What);
    }

    [Theory]
    [InlineData("suggested:cat", "cat", false)]
    [InlineData("suggested:Long_Hair", "long_hair", false)]
    [InlineData("suggested:\"long hair\"", "long_hair", false)]
    [InlineData("suggested:saber_(fate)", "saber_(fate)", false)]
    [InlineData("suggested:*hair", "*hair", true)]
    [InlineData("suggested:Long*", "long*", true)]
    [InlineData("suggested:*", "*", true)]
    public void Suggested(string query, string pattern, bool wildcard)
    {
        var s = Node<SuggestedTerm>(query);
        Assert.Equal(pattern, s.Pattern);
        Assert.Equal(wildcard, s.IsWildcard);
    }

    [Theory]
    [InlineData("caption:sun", new[] { "sun" }, false)]
    [InlineData("caption:sun*", new[] { "sun" }, true)]
    [InlineData("caption:Sun*", new[] { "sun" }, true)]
    [InlineData("caption:\"red car\"", new[] { "red", "car" }, false)]
    [InlineData("caption:\"red ca*\"", new[] { "red", "ca" }, true)]
    [InlineData("caption:Café", new[] { "cafe" }, false)]
    [InlineData("caption:\"CAFÉ au lait\"", new[] { "cafe", "au", "lait" }, false)]
    [InlineData("caption:naïve", new[] { "naive" }, false)]
    [InlineData("caption:über*", new[] { "uber" }, true)]
    [InlineData("caption:don't", new[] { "dont" }, false)]
    [InlineData("caption:red-car", new[] { "red", "car" }, false)]
    [InlineData("caption:\"  Red,   car! \"", new[] { "red", "car" }, false)]
    [InlineData("caption:x2", new[] { "x2" }, false)]
    public void Captions(string query, string[] words, bool prefix)
    {
        var c = Node<CaptionTerm>(query);
        Assert.Equal(words, c.Words);
        Assert.Equal(prefix, c.LastIsPrefix);
    }

    [Fact]
    public void Similar_and_id()
    {
        var s = Node<SimilarTerm>("similar:ABCDEF12");
        Assert.Equal("abcdef12", s.IdPrefix);
        Assert.Equal(8, s.Distance);

        var full = new string('a', 64);
        Assert.Equal(full, Node<SimilarTerm>("similar:" + full).IdPrefix);

        Assert.Equal("3fd6", Node<IdPrefixTerm>("id:3fd6").Prefix);
        Assert.Equal("abc", Node<IdPrefixTerm>("id:ABC").Prefix);
        Assert.Equal(full, Node<IdPrefixTerm>("id:" + full).Prefix);
    }

    // ------------------------------------------------------------------ order

    public static TheoryData<string, SortField, bool, ulong?> Orders() => new()
    {
        { "order:newest", SortField.Created, true, null },
        { "order:", SortField.Created, true, null },
        { "order:oldest", SortField.Created, false, null },
        { "order:newest_asc", SortField.Created, false, null },
        { "order:oldest_desc", SortField.Created, true, null },
        { "order:random", SortField.Random, false, null },
        { "order:random:42", SortField.Random, false, 42UL },
        { "order:random:0", SortField.Random, false, 0UL },
        { "order:random:18446744073709551615", SortField.Random, false, ulong.MaxValue },
        { "order:id", SortField.Id, false, null },
        { "order:id_desc", SortField.Id, true, null },
        { "order:id_asc", SortField.Id, false, null },
        { "order:width", SortField.Width, true, null },
        { "order:width_asc", SortField.Width, false, null },
        { "order:width_desc", SortField.Width, true, null },
        { "order:height", SortField.Height, true, null },
        { "order:height_asc", SortField.Height, false, null },
        { "order:mpixels", SortField.Pixels, true, null },
        { "order:mpixels_asc", SortField.Pixels, false, null },
        { "order:filesize", SortField.FileSize, true, null },
        { "order:filesize_asc", SortField.FileSize, false, null },
        { "order:tagcount", SortField.TagCount, true, null },
        { "order:tagcount_asc", SortField.TagCount, false, null },
        { "ORDER:Oldest", SortField.Created, false, null },
        { "order:RANDOM:7", SortField.Random, false, 7UL },
    };

    [Theory]
    [MemberData(nameof(Orders))]
    public void Order_values(string query, SortField field, bool descending, ulong? seed)
    {
        var parsed = QueryParser.Parse(query);
        Assert.Null(parsed.Root);
        Assert.Equal(new OrderSpec(field, descending, seed), parsed.Order);
        Assert.Equal(new SourceSpan(0, query.Length), parsed.OrderSpan);
    }

    [Fact]
    public void Order_is_lifted_out_of_the_tree()
    {
        var parsed = QueryParser.Parse("cat order:oldest dog");
        Assert.Equal(["cat", "dog"], Names(parsed.Root!));
        Assert.Equal(new OrderSpec(SortField.Created, false), parsed.Order);
        Assert.Equal(new SourceSpan(4, 12), parsed.OrderSpan);

        var single = QueryParser.Parse("order:width cat");
        AssertTag(single.Root!, "cat", 12, 3);
    }

    [Fact]
    public void Order_with_a_group()
    {
        var parsed = QueryParser.Parse("(a or b) order:id");
        Assert.IsType<OrNode>(parsed.Root);
        Assert.Equal(SortField.Id, parsed.Order.Field);
    }

    // ------------------------------------------------------------------ spans

    [Fact]
    public void Spans_and_columns_of_terms()
    {
        var and = Node<AndNode>("  cat   dog");
        AssertTag(and.Children[0], "cat", 2, 3);
        AssertTag(and.Children[1], "dog", 8, 3);
        Assert.Equal(3, and.Children[0].Span.Column);
        Assert.Equal(9, and.Children[1].Span.Column);
        Assert.Equal(new SourceSpan(2, 9), and.Span);
        Assert.Equal(11, and.Span.End);
    }

    [Fact]
    public void Spans_of_metatags_and_negations()
    {
        var and = Node<AndNode>("width:>100 -height:5 caption:\"red car\" x");
        Assert.Equal(new SourceSpan(0, 10), and.Children[0].Span);
        var not = Assert.IsType<NotNode>(and.Children[1]);
        Assert.Equal(new SourceSpan(11, 9), not.Span);
        Assert.Equal(new SourceSpan(12, 8), not.Child.Span);
        Assert.Equal(13, not.Child.Span.Column);
        Assert.Equal(new SourceSpan(21, 17), and.Children[2].Span);
        AssertTag(and.Children[3], "x", 39, 1);
    }

    [Fact]
    public void Spans_inside_groups()
    {
        var or = Node<OrNode>("(  a  or  -b )");
        Assert.Equal(new SourceSpan(0, 14), or.Span);
        AssertTag(or.Children[0], "a", 3, 1);
        var not = Assert.IsType<NotNode>(or.Children[1]);
        Assert.Equal(new SourceSpan(10, 2), not.Span);
        AssertTag(not.Child, "b", 11, 1);
    }

    [Fact]
    public void Span_cover()
    {
        Assert.Equal(new SourceSpan(2, 8), SourceSpan.Cover(new SourceSpan(5, 5), new SourceSpan(2, 1)));
        Assert.Equal(1, new SourceSpan(0, 0).Column);
    }

    // ------------------------------------------------------------------ errors

    private static void AssertInvalid(string query, params string[] fragments)
    {
        var e = Error(query);
        Assert.Equal(QueryErrors.Invalid, e.Code);
        Assert.True(e.IsUsageError);
        foreach (var f in fragments)
        {
            Assert.Contains(f, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Unknown_metatag_with_did_you_mean()
    {
        using var index = new SearchIndex();
        var e = Assert.Throws<TroveUsageException>(() => index.Search("cat widht:3", new SearchRequest(), CancellationToken.None));
        Assert.Equal(QueryErrors.Invalid, e.Code);
        Assert.Contains("Unknown metatag 'widht' at column 5", e.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'width'", e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.Hint);
    }

    [Theory]
    [InlineData("hieght:5", "height", 1)]
    [InlineData("a b tagcout:2", "tagcount", 5)]
    [InlineData("-colection:x", "collection", 2)]
    [InlineData("(x ordr:id)", "order", 4)]
    [InlineData("uploder:ann", "uploader", 1)]
    public void Unknown_metatags_suggest_the_closest(string query, string guess, int column)
    {
        using var index = new SearchIndex();
        var e = Assert.Throws<TroveUsageException>(() => index.Search(query, new SearchRequest(), CancellationToken.None));
        Assert.Contains($"at column {column}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"did you mean '{guess}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_metatag_far_from_every_name_has_no_suggestion()
    {
        using var index = new SearchIndex();
        var e = Assert.Throws<TroveUsageException>(() => index.Search("xyzzyq:3", new SearchRequest(), CancellationToken.None));
        Assert.Contains("Unknown metatag 'xyzzyq' at column 1", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Name_colon_value_that_cannot_be_a_tag_is_an_unknown_metatag_at_parse_time()
    {
        // ',' cannot be in a tag, so this can never be a tag: refused while parsing.
        AssertInvalid("cat foo:a,b", "Unknown metatag 'foo' at column 5");
    }

    [Theory]
    [InlineData("width:abc", "width:abc", 1)]
    [InlineData("cat dog width:abc", "width:abc", 9)]
    [InlineData("a  -width:1..x", "width:1..x", 5)]
    [InlineData("width:>", "width:>", 1)]
    [InlineData("width:>=", "width:>=", 1)]
    [InlineData("width:<=", "width:<=", 1)]
    [InlineData("width:..", "width:..", 1)]
    [InlineData("width:1..2..3", "width:1..2..3", 1)]
    [InlineData("width:-5", "width:-5", 1)]
    [InlineData("width:1.5", "width:1.5", 1)]
    [InlineData("width:+5", "width:+5", 1)]
    [InlineData("width:1e3", "width:1e3", 1)]
    [InlineData("width:99999999999999999999", "width:99999999999999999999", 1)]
    [InlineData("height:>>5", "height:>>5", 1)]
    [InlineData("tagcount:=3", "tagcount:=3", 1)]
    [InlineData("mpixels:abc", "mpixels:abc", 1)]
    [InlineData("mpixels:-1", "mpixels:-1", 1)]
    [InlineData("mpixels:2000000", "mpixels:2000000", 1)]
    [InlineData("ratio:16:0", "ratio:16:0", 1)]
    [InlineData("ratio:a:b", "ratio:a:b", 1)]
    [InlineData("ratio:16:", "ratio:16:", 1)]
    [InlineData("filesize:10xb", "filesize:10xb", 1)]
    [InlineData("filesize:mb", "filesize:mb", 1)]
    [InlineData("filesize:1tb", "filesize:1tb", 1)]
    [InlineData("filesize:-1", "filesize:-1", 1)]
    [InlineData("date:2025-13", "date:2025-13", 1)]
    [InlineData("date:2025-02-30", "date:2025-02-30", 1)]
    [InlineData("date:25", "date:25", 1)]
    [InlineData("date:2025/01/01", "date:2025/01/01", 1)]
    [InlineData("date:yesterday", "date:yesterday", 1)]
    [InlineData("x taken:2025-1-1", "taken:2025-1-1", 3)]
    [InlineData("date:2025-01-01T10:00", "date:2025-01-01T10:00", 1)]
    public void Malformed_ranges(string query, string term, int column)
    {
        AssertInvalid(query, $"Query term '{term}' at column {column}");
    }

    [Theory]
    [InlineData("width:10..5")]
    [InlineData("mpixels:4..1")]
    [InlineData("ratio:16:9..4:3")]
    [InlineData("filesize:2mb..1mb")]
    [InlineData("date:2025..2024")]
    [InlineData("taken:2025-02..2025-01-31")]
    public void Empty_ranges(string query)
    {
        AssertInvalid(query, $"Query term '{query}' at column 1", "the range is empty");
    }

    [Fact]
    public void Range_metatag_errors_explain_the_syntax()
    {
        AssertInvalid("width:abc", "width: takes a whole number or a range");
        AssertInvalid("mpixels:x", "mpixels: takes megapixels");
        AssertInvalid("ratio:x", "ratio: takes width:height or a decimal");
        AssertInvalid("filesize:x", "filesize: takes a size");
        AssertInvalid("taken:x", "taken: takes a date YYYY, YYYY-MM or YYYY-MM-DD (UTC)");
    }

    /// <summary>Regression (Metatags.FileSizeValue / RatioValue, fixed): values that overflow a long throw OverflowException.</summary>
    [Theory]
    [InlineData("filesize:10000000000gb")]
    [InlineData("filesize:>1000000000000gb")]
    [InlineData("ratio:1:0.00000000000000000001")]
    public void Huge_values_are_refused_not_crashing(string query)
    {
        var ex = Record.Exception(() => QueryParser.Parse(query));
        Assert.True(ex is null or TroveUsageException, $"'{query}' threw {ex?.GetType().Name}: {ex?.Message}");
    }

    [Theory]
    [InlineData("width:", "'width:' needs a value")]
    [InlineData("type:", "'type:' needs a value")]
    [InlineData("caption:", "'caption:' needs a value")]
    [InlineData("caption:\"\"", "'caption:' needs a value")]
    public void Metatags_need_a_value(string query, string fragment)
    {
        AssertInvalid(query, $"at column 1", fragment);
    }

    [Theory]
    [InlineData("type:bmpp", "did you mean 'bmp'")]
    [InlineData("type:jpgg", "did you mean 'jpg'")]
    [InlineData("type:pnj", "did you mean 'png'")]
    [InlineData("type:png,webq", "did you mean 'webp'")]
    public void Unknown_type_with_suggestion(string query, string suggestion)
    {
        AssertInvalid(query, $"Query term '{query}' at column 1", "type: takes a file type", suggestion);
    }

    [Theory]
    [InlineData("type:xyzzy")]
    [InlineData("type:png,")]
    [InlineData("type:,png")]
    public void Unknown_type_without_suggestion(string query)
    {
        var e = Error(query);
        Assert.Equal(QueryErrors.Invalid, e.Code);
        Assert.DoesNotContain("did you mean", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kind:video", null)]
    [InlineData("kind:imag", "did you mean 'image'")]
    [InlineData("kind:masks", "did you mean 'mask'")]
    [InlineData("has:foo", null)]
    [InlineData("has:captio", "did you mean 'caption'")]
    [InlineData("has:crp", "did you mean 'crop'")]
    [InlineData("order:foo", null)]
    [InlineData("order:widht", "did you mean 'width'")]
    [InlineData("order:newst", "did you mean 'newest'")]
    [InlineData("order:random_asc", "did you mean 'random'")]
    [InlineData("order:random_desc", "did you mean 'random'")]
    [InlineData("order:random:abc", null)]
    [InlineData("order:random:-1", null)]
    [InlineData("order:random:", null)]
    [InlineData("similar:abc", null)]
    [InlineData("similar:xyz123", null)]
    [InlineData("id:xyz", null)]
    [InlineData("caption:!!!", null)]
    [InlineData("caption:a*b", null)]
    [InlineData("caption:*", null)]
    [InlineData("caption:\"*red\"", null)]
    public void Invalid_metatag_values(string query, string? suggestion)
    {
        var e = Error(query);
        Assert.Equal(QueryErrors.Invalid, e.Code);
        Assert.Contains($"Query term '{query}' at column 1", e.Message, StringComparison.Ordinal);
        if (suggestion is null)
        {
            Assert.DoesNotContain("did you mean", e.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(suggestion, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Id_longer_than_a_media_id_is_refused()
    {
        AssertInvalid("id:" + new string('a', 65), "id: takes hexadecimal characters");
        AssertInvalid("similar:" + new string('a', 5), "at least 6 hex characters");
    }

    [Theory]
    [InlineData("caption:\"red car", "A quote (\") that is never closed at column 9")]
    [InlineData("a \"b", "A quote (\") that is never closed at column 3")]
    [InlineData("\"", "A quote (\") that is never closed at column 1")]
    [InlineData("collection:\"a\\\"", "A quote (\") that is never closed at column 12")]
    public void Unclosed_quote(string query, string message)
    {
        AssertInvalid(query, message);
    }

    [Theory]
    [InlineData("a\"b\"", "quotes must surround the whole value")]
    [InlineData("caption:red\"car\"", "quotes must surround the whole value")]
    [InlineData("caption:\"a\"\"b\"", "quotes must surround the whole value")]
    public void Quotes_in_the_middle_of_a_value(string query, string message)
    {
        AssertInvalid(query, message, "at column 1");
    }

    [Theory]
    [InlineData("(a b", "A '(' that is never closed at column 1")]
    [InlineData("x ((a) b", "A '(' that is never closed at column 3")]
    [InlineData("(", "A '(' that is never closed at column 1")]
    [InlineData("a (", "A '(' that is never closed at column 3")]
    [InlineData("(a or (b c)", "A '(' that is never closed at column 1")]
    public void Unclosed_parenthesis(string query, string message)
    {
        AssertInvalid(query, message);
    }

    [Theory]
    [InlineData("a)", "A ')' that closes no open '(' at column 2")]
    [InlineData(")", "A ')' that closes no open '(' (or an empty group) at column 1")]
    [InlineData("a ) b", "A ')' that closes no open '(' at column 3")]
    [InlineData("(a))", "A ')' that closes no open '(' at column 4")]
    [InlineData("saber_(fate))", "A ')' that closes no open '(' at column 13")]
    public void Stray_closing_parenthesis(string query, string message)
    {
        AssertInvalid(query, message);
    }

    [Theory]
    [InlineData("()", 1)]
    [InlineData("a ( ) b", 3)]
    [InlineData("a (())", 4)]
    [InlineData("-()", 2)]
    public void Empty_group(string query, int column)
    {
        AssertInvalid(query, $"An empty group '()' at column {column}");
    }

    [Theory]
    [InlineData("or a", "'or' needs a term before it at column 1")]
    [InlineData("a or", "'or' needs a term after it at column 3")]
    [InlineData("a or or b", "'or' needs a term after it at column 3")]
    [InlineData("(a or) b", "'or' needs a term after it at column 4")]
    [InlineData("a (or b)", "'or' needs a term before it at column 4")]
    [InlineData("OR", "'or' needs a term before it at column 1")]
    [InlineData("a -or b", "A '-' with nothing to negate at column 3")]
    public void Misplaced_or(string query, string message)
    {
        AssertInvalid(query, message);
    }

    [Theory]
    [InlineData("-", 1)]
    [InlineData("a -", 3)]
    [InlineData("a - b", 3)]
    [InlineData("-)", 1)]
    [InlineData("(a -)", 4)]
    [InlineData("--", 2)]
    public void Lone_minus(string query, int column)
    {
        AssertInvalid(query, $"A '-' with nothing to negate at column {column}");
    }

    [Theory]
    [InlineData("-order:id", 2, "order: cannot be negated")]
    [InlineData("-(cat order:id)", 7, "order: cannot be negated")]
    [InlineData("cat or order:id", 8, "order: cannot be one side of an 'or'")]
    [InlineData("(cat or order:id)", 9, "order: cannot be one side of an 'or'")]
    [InlineData("order:id or cat", 1, "order: cannot be one side of an 'or'")]
    public void Order_cannot_be_negated_or_one_side_of_an_or(string query, int column, string message)
    {
        AssertInvalid(query, $"at column {column}", message);
    }

    [Theory]
    [InlineData("semantic:\"a dog on a beach\" -sketch width:>1000", RankingKind.Text, "a dog on a beach")]
    [InlineData("(cat semantic:red)", RankingKind.Text, "red")]
    [InlineData("like:3FD6E6 collection:trip", RankingKind.Media, "3fd6e6")]
    public void Semantic_and_like_are_lifted_out_of_the_filter_and_rank_by_similarity(string query, RankingKind kind, string value)
    {
        var parsed = QueryParser.Parse(query);
        Assert.Equal(kind, parsed.Ranking!.Kind);
        Assert.Equal(value, parsed.Ranking.Value);
        Assert.True(parsed.RankedBySimilarity);
        Assert.False(QueryParser.Parse(query + " order:oldest").RankedBySimilarity);
        Assert.Equal(0.25f, QueryParser.Parse(query + " min-score:0.25").MinScore);
    }

    [Theory]
    [InlineData("-semantic:red", 2, "semantic: cannot be negated")]
    [InlineData("cat or like:3fd6e6", 8, "like: cannot be one side of an 'or'")]
    [InlineData("(cat semantic:red) or dog", 6, "semantic: cannot be one side of an 'or'")]
    [InlineData("semantic:red like:3fd6e6", 14, "only one semantic: or like: term")]
    [InlineData("cat min-score:0.3", 5, "min-score: needs a semantic:")]
    [InlineData("semantic:red min-score:2", 14, "min-score: takes a similarity between -1 and 1")]
    [InlineData("like:3f", 1, "like: takes a media id or a unique prefix")]
    [InlineData("semantic:\" \"", 1, "semantic: needs words")]
    public void Similarity_terms_are_refused_where_they_cannot_rank(string query, int column, string message)
    {
        AssertInvalid(query, $"at column {column}", message);
    }

    /// <summary>order: applies to the whole query wherever it stands, also inside a group or next to an 'or'.</summary>
    [Theory]
    [InlineData("(order:id)", null)]
    [InlineData("cat (dog order:id)", "AND")]
    [InlineData("cat or dog order:id", "OR")]
    [InlineData("(cat or dog) order:id", "OR")]
    public void Order_is_lifted_from_anywhere_else(string query, string? root)
    {
        var parsed = QueryParser.Parse(query);
        Assert.Equal(SortField.Id, parsed.Order.Field);
        switch (root)
        {
            case null:
                Assert.Null(parsed.Root);
                break;
            case "AND":
                Assert.IsType<AndNode>(parsed.Root);
                break;
            default:
                var or = Assert.IsType<OrNode>(parsed.Root);
                Assert.All(or.Children, c => Assert.IsType<TagTerm>(c));
                break;
        }
    }

    [Fact]
    public void Order_twice()
    {
        AssertInvalid("order:id cat order:newest", "A second order: ('order:newest') at column 14");
        AssertInvalid("order:id order:id", "A second order: ('order:id') at column 10");
    }

    [Theory]
    [InlineData("and", "'and' is a search keyword")]
    [InlineData("x_(y", "parentheses only as a balanced qualifier")]
    [InlineData("a,b", "contains ','")]
    public void Invalid_tags(string query, string message)
    {
        AssertInvalid(query, message, "at column 1");
    }

    [Fact]
    public void Wildcard_longer_than_a_tag_is_refused()
    {
        AssertInvalid(new string('a', 200) + "*", "a wildcard can be at most 200 characters");
    }

    // ------------------------------------------------------------------ limits

    [Fact]
    public void Too_many_terms()
    {
        var ok = string.Join(' ', Enumerable.Repeat("a", 256));
        Assert.IsType<AndNode>(QueryParser.Parse(ok).Root);

        var e = Error(ok + " b");
        Assert.Equal(QueryErrors.TooComplex, e.Code);
        Assert.Contains("more than 256 terms (the first one over the limit is at column 513)", e.Message, StringComparison.Ordinal);

        // or, parentheses and '-' do not count.
        var withOperators = string.Join(" or ", Enumerable.Repeat("-(a)", 256));
        Assert.IsType<OrNode>(QueryParser.Parse(withOperators).Root);
    }

    [Fact]
    public void Ten_thousand_terms_fail_quickly()
    {
        var text = string.Join(' ', Enumerable.Range(0, 10_000).Select(i => "t" + i));
        var watch = Stopwatch.StartNew();
        var e = Error(text);
        Assert.Equal(QueryErrors.TooComplex, e.Code);

        var e2 = Error(text, new QueryLimits { MaxLength = 1_000_000 });
        Assert.Equal(QueryErrors.TooComplex, e2.Code);
        Assert.Contains("more than 256 terms", e2.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Custom_limits()
    {
        var e = Error("a b c", new QueryLimits { MaxTerms = 2 });
        Assert.Contains("(the first one over the limit is at column 5)", e.Message, StringComparison.Ordinal);
        Assert.Equal(QueryErrors.TooComplex, Error("((a))", new QueryLimits { MaxDepth = 1 }).Code);
        Assert.NotNull(QueryParser.Parse("(a)", new QueryLimits { MaxDepth = 1 }).Root);
        Assert.Equal(QueryErrors.TooComplex, Error("abcdef", new QueryLimits { MaxLength = 5 }).Code);
    }

    [Fact]
    public void Nesting_up_to_32_is_allowed()
    {
        AssertTag(Root(new string('(', 32) + "a" + new string(')', 32)), "a", 32, 1);
        var node = Root(new string('-', 32) + "a");
        for (var i = 0; i < 32; i++)
        {
            node = Assert.IsType<NotNode>(node).Child;
        }

        AssertTag(node, "a", 32, 1);
    }

    [Theory]
    [InlineData(33)]
    [InlineData(40)]
    [InlineData(1000)]
    public void Nesting_deeper_than_32_is_too_complex(int depth)
    {
        foreach (var text in new[]
        {
            new string('(', depth) + "a" + new string(')', depth),
            new string('-', depth) + "a",
            string.Concat(Enumerable.Repeat("-(", (depth + 1) / 2)) + "a" + new string(')', (depth + 1) / 2),
        })
        {
            var e = Error(text);
            Assert.Equal(QueryErrors.TooComplex, e.Code);
            Assert.Contains("more than 32 deep", e.Message, StringComparison.Ordinal);
        }

        // With an 'or' at every level (too many terms once the depth is large).
        Assert.Equal(QueryErrors.TooComplex, Error(string.Concat(Enumerable.Repeat("(a or ", depth)) + "a" + new string(')', depth)).Code);
    }

    [Fact]
    public void Overly_long_text()
    {
        var ok = "cat" + new string(' ', 8189);
        Assert.Equal(8192, ok.Length);
        AssertTag(Root(ok), "cat", 0, 3);

        var e = Error(ok + " ");
        Assert.Equal(QueryErrors.TooComplex, e.Code);
        Assert.Contains("8,193 characters long; at most 8,192", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> Pathological() =>
    [
        new string('(', 8192),
        new string(')', 8192),
        new string('-', 8192),
        new string('"', 8191),
        new string('"', 8192),
        new string('*', 8192),
        string.Concat(Enumerable.Repeat("(a or ", 1365)),
        string.Concat(Enumerable.Repeat("a or ", 1638)),
        string.Concat(Enumerable.Repeat("-(", 4096)),
        string.Concat(Enumerable.Repeat("()", 4096)),
        string.Concat(Enumerable.Repeat("a:", 4096)),
        new string('x', 8000) + ":1",
        "width:" + new string('9', 8000),
        "caption:\"" + string.Concat(Enumerable.Repeat("a ", 4000)) + "\"",
        "\"" + string.Concat(Enumerable.Repeat("\\\"", 4000)) + "\"",
        string.Concat(Enumerable.Repeat("a*", 4000)),
        "type:" + string.Join(',', Enumerable.Repeat("png", 2000)),
        "date:" + new string('2', 8000),
        "order:" + new string('x', 8000),
        new string('a', 8192),
        string.Concat(Enumerable.Repeat("(((( ", 1638)),
        string.Concat(Enumerable.Repeat("saber_(fate) ", 600)),
    ];

    [Theory]
    [MemberData(nameof(Pathological))]
    public void Pathological_input_finishes_quickly(string text)
    {
        using var index = new SearchIndex();
        index.Upsert(new SearchDocument { Key = 0, Id = new string('a', 64), Tags = ["a", "saber_(fate)", new string('a', 199)], Captions = ["a a a a"] });
        var watch = Stopwatch.StartNew();
        var ex = Record.Exception(() => index.Search(text, new SearchRequest(), CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.True(ex is null or TroveUsageException, $"threw {ex?.GetType().Name}: {ex?.Message}");
        if (ex is TroveUsageException e)
        {
            Assert.Contains(e.Code, new[] { QueryErrors.Invalid, QueryErrors.TooComplex });
        }
    }

    [Fact]
    public void Every_metatag_name_is_reserved()
    {
        foreach (var name in Metatags.Names)
        {
            Assert.True(Metatags.IsMetatag(name));
        }

        Assert.False(Metatags.IsMetatag("re"));
        Assert.False(Metatags.IsMetatag("Width"));
    }

    [Fact]
    public void Edit_distance()
    {
        Assert.Equal(0, EditDistance.Of("width", "width"));
        Assert.Equal(1, EditDistance.Of("widht", "width"));
        Assert.Equal(3, EditDistance.Of("", "abc"));
        Assert.Equal("width", EditDistance.Closest("widht", Metatags.Names));
        Assert.Null(EditDistance.Closest("zzzzzz", Metatags.Names));
    }

    [Theory]
    [InlineData("Café au lait", new[] { "cafe", "au", "lait" })]
    [InlineData("don't stop", new[] { "dont", "stop" })]
    [InlineData("rock 'n' roll", new[] { "rock", "n", "roll" })]
    [InlineData("It\u2019s", new[] { "its" })]
    [InlineData("a-b_c.d", new[] { "a", "b", "c", "d" })]
    [InlineData("  ", new string[0])]
    [InlineData("ÀÉÎÕÜ ñ", new[] { "aeiou", "n" })]
    [InlineData("東京 タワー", new[] { "東京", "タワー" })]
    public void Caption_tokenizer(string text, string[] words)
    {
        Assert.Equal(words, CaptionTokenizer.Words(text));
    }

    [Fact]
    public void Caption_tokenizer_cuts_long_words()
    {
        var words = CaptionTokenizer.Words(new string('a', 100) + " b");
        Assert.Equal([new string('a', CaptionTokenizer.MaxWordLength), "b"], words);
    }

    // ------------------------------------------------------------------ faces and people

    [Fact]
    public void Person_terms_take_a_name_quoted_or_not_and_face_terms_take_counts()
    {
        var person = Node<PersonTerm>("person:\"Ann Smith\"");
        Assert.Equal(("Ann Smith", false), (person.Name, person.Suggested));
        Assert.Equal(("ann", true), (Node<PersonTerm>("person-suggested:ann").Name, Node<PersonTerm>("person-suggested:ann").Suggested));
        var faces = Node<RangeTerm>("faces:2..3");
        Assert.Equal(RangeField.FaceCount, faces.Field);
        Assert.Equal(HasWhat.Face, Node<HasTerm>("has:face").What);
        Assert.Equal(HasWhat.UnknownFace, Node<HasTerm>("has:unknown-face").What);
        var negated = Node<NotNode>("-person:bob");
        Assert.IsType<PersonTerm>(negated.Child);
    }

    [Theory]
    [InlineData("cat person:", "Query term 'person:' at column 5")]
    [InlineData("faces:many", "faces:many")]
    public void Bad_face_terms_name_the_term(string query, string expected)
    {
        var e = Error(query);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
