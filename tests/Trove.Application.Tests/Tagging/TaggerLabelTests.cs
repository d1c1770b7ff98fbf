using Trove.Application.Tagging;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application.Tests.Tagging;

public sealed class TaggerLabelTests
{
    [Fact]
    public void The_real_wd14_file_loads_with_its_crlf_and_junk_row()
    {
        var path = TaggingTestData.Wd14Labels;
        var bytes = File.ReadAllBytes(path);
        Assert.Contains("\r\n", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal); // the file really is CRLF

        var set = TaggerLabelSet.Load(path);

        Assert.Equal(6913, set.Count);
        Assert.True(set.HasCategories);
        Assert.Equal(4, set.Labels.Count(l => l.Category == "rating"));
        Assert.Equal(6909, set.Labels.Count(l => l.Category == "general"));
        Assert.Equal(["general", "sensitive", "questionable", "explicit"], set.Labels.Where(l => l.Category == "rating").Select(l => l.Name));
        Assert.Equal(Enumerable.Range(0, 6913), set.Labels.Select(l => l.Index));

        // No carriage return survives; names, ids and counts are read.
        Assert.DoesNotContain(set.Labels, l => l.Name.Contains('\r', StringComparison.Ordinal));
        var girl = set.Labels[4];
        Assert.Equal(("1girl", "general", 4225150L, "470575", 6), (girl.Name, girl.Category, girl.Count!.Value, girl.TagId, girl.Line));
        Assert.Equal(1048, set.Labels.Single(l => l.Name == "don't_say_\"lazy\"").Count);
        Assert.Equal("qingxin_flower", set.Labels[^1].Name);

        // The ",,," row on line 4997 is skipped and reported; the labels around it stay contiguous.
        var warning = Assert.Single(set.Warnings);
        Assert.Equal($"{path}:4997: empty row ',,,' skipped", warning);
        Assert.Equal(4995, set.Labels.Single(l => l.Line == 4998).Index);
    }

    [Fact]
    public void Unknown_category_numbers_are_general_with_a_warning_and_danbooru_numbers_are_mapped()
    {
        var csv = "tag_id,name,category,count\n1,a,0,5\n2,b,7,5\n3,c,4,5\n4,d,3,5\n5,e,1,5\n6,f,5,5\n7,g,9,5\n8,h,,5\n9,i,character,x\n";
        var set = TaggerLabelSet.Parse(new StringReader(csv), "labels.csv");
        Assert.Equal(["general", "general", "character", "copyright", "artist", "meta", "rating", "general", "character"], set.Labels.Select(l => l.Category));
        Assert.Equal(
            [
                "labels.csv:3: 'b' has unknown category 7; read as general",
                "labels.csv:9: 'h' has no category; read as general",
                "labels.csv:10: 'i' has a count that is not a number ('x'); ignored",
            ],
            set.Warnings);
        Assert.Null(set.Labels[8].Count);
    }

    [Fact]
    public void Quoted_names_and_a_bom_are_read()
    {
        var csv = "\uFEFFtag_id,name,category,count\r\n1,\"a,b\",0,5\r\n2,\"say \"\"hi\"\"\",0,5\r\n3,plain,0,5\r\n";
        var set = TaggerLabelSet.Parse(new StringReader(csv), "labels.csv");
        Assert.Equal(["a,b", "say \"hi\"", "plain"], set.Labels.Select(l => l.Name));
    }

    [Fact]
    public void A_file_without_categories_is_a_list_of_general_labels()
    {
        var set = TaggerLabelSet.Parse(new StringReader("name\nred\nblue\n"), "custom.csv");
        Assert.False(set.HasCategories);
        Assert.Equal([("red", "general"), ("blue", "general")], set.Labels.Select(l => (l.Name, l.Category)));
    }

    [Theory]
    [InlineData("tag_id,name,category,count\n1,a,0,5\n2,b,c,d,0,5\n", 3, 9, "6 fields but the header has 4")]
    [InlineData("tag_id,name,category,count\n1,a,0,5\n2,,0,5\n", 3, 3, "the name is empty")]
    [InlineData("tag_id,name,category,count\n1,a,zero,5\n", 2, 5, "category 'zero' is neither a number")]
    [InlineData("tag_id,name,category,count\n1,\"a,0,5\n", 2, 1, "the quoted field is not closed")]
    [InlineData("1,a,0,5\n", 1, 1, "expected a header row")]
    [InlineData("tag_id,name,category,count\n\n", 2, 1, "has a header but no labels")]
    [InlineData("", 1, 1, "the file is empty")]
    public void Rows_that_cannot_be_skipped_fail_with_file_line_and_column(string csv, int line, int column, string detail)
    {
        var ex = Assert.Throws<FileFormatException>(() => TaggerLabelSet.Parse(new StringReader(csv), "model/selected_tags.csv"));
        Assert.Equal("labels-invalid", ex.Code);
        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Column);
        Assert.Contains(detail, ex.Detail, StringComparison.Ordinal);
        Assert.StartsWith($"model/selected_tags.csv:{line}:{column}: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_label_file_says_so()
    {
        var ex = Assert.Throws<TroveException>(() => TaggerLabelSet.Load("/nonexistent/selected_tags.csv"));
        Assert.Equal("labels-not-found", ex.Code);
        Assert.Contains("/nonexistent/selected_tags.csv", ex.Message, StringComparison.Ordinal);
    }
}
