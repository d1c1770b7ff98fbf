using System.Text;
using Trove.Application.Import;

namespace Trove.Application.Tests.Import;

public sealed class TextSidecarTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Image(string relative, byte[]? content = null)
    {
        var path = _temp.Combine(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content ?? TestImages.Png(1));
        return path;
    }

    private void Write(string relative, string text) => File.WriteAllText(_temp.Combine(relative), text);

    private void WriteBytes(string relative, byte[] bytes) => File.WriteAllBytes(_temp.Combine(relative), bytes);

    [Theory]
    [InlineData("1girl, solo, long hair, blue eyes", KohyaTextKind.Tags)]
    [InlineData("1girl, solo, long hair, blue eyes,", KohyaTextKind.Tags)]
    [InlineData("1girl,, solo ,long_hair, ,blue_eyes,,", KohyaTextKind.Tags)]
    [InlineData("masterpiece, best quality, 1girl, looking at viewer, hair between eyes, out of frame", KohyaTextKind.Tags)]
    [InlineData("1girl, solo, smile, open mouth, long hair, blue eyes, skirt, the legend of zelda, outdoors", KohyaTextKind.Tags)]
    [InlineData("long hair\nblue eyes\nsmile", KohyaTextKind.Tags)]
    [InlineData("1girl", KohyaTextKind.Tags)]
    [InlineData("sks dog", KohyaTextKind.Tags)]
    [InlineData(":d, ^_^, ..., !?", KohyaTextKind.Tags)]
    [InlineData("A woman with long hair standing in a field.", KohyaTextKind.Caption)]
    [InlineData("a photo of sks dog", KohyaTextKind.Caption)]
    [InlineData("a dog", KohyaTextKind.Caption)]
    [InlineData("a woman sitting on a bench, park, autumn leaves", KohyaTextKind.Caption)]
    [InlineData("1girl, solo, a girl standing in the rain", KohyaTextKind.Caption)]
    [InlineData("The image shows a cat. It is sleeping on a sofa, next to a window.", KohyaTextKind.Caption)]
    [InlineData("Portrait of an old fisherman, weathered face, dramatic side lighting, shallow depth of field, shot on 35mm film", KohyaTextKind.Caption)]
    [InlineData("", KohyaTextKind.Empty)]
    [InlineData(" ,\r\n , ", KohyaTextKind.Empty)]
    public void Kohya_text_is_told_apart_as_a_tag_line_or_a_caption(string text, KohyaTextKind expected) =>
        Assert.Equal(expected, KohyaText.Classify(text));

    [Fact]
    public void A_kohya_tag_line_becomes_tags_tolerating_bom_crlf_and_stray_commas()
    {
        var image = Image("set/pic.jpg", TestJpegs.Plain);
        WriteBytes("set/pic.txt", [.. Encoding.UTF8.GetPreamble(), .. "1girl, solo,, Long Hair ,blue eyes,\r\nsolo, star \\(symbol\\),\r\n"u8]);

        var meta = new ImportMetadataReader().ReadFile(image);

        // kohya escapes parentheses ("star \(symbol\)"); unescaped, the booru qualifier is a valid Trove tag.
        Assert.Equal(["1girl", "solo", "long_hair", "blue_eyes", "star_(symbol)"], meta.Tags.Select(t => t.Name));
        Assert.All(meta.Tags, t => Assert.Null(t.Category));
        Assert.Empty(meta.Captions);
        Assert.Equal([Path.Combine(_temp.Path, "set", "pic.txt")], meta.Files);
        Assert.Empty(meta.Warnings);
    }

    [Fact]
    public void A_kohya_caption_and_a_caption_file_become_captions_in_that_order()
    {
        var image = Image("pic.png");
        Write("pic.txt", "A red square on a white background.\r\n");
        Write("pic.caption", "red square, minimal");

        var meta = new ImportMetadataReader().ReadFile(image);

        Assert.Equal(["A red square on a white background.", "red square, minimal"], meta.Captions.Select(c => c.Text));
        Assert.Equal(_temp.Combine("pic.txt"), meta.Captions[0].Origin);
        Assert.Empty(meta.Tags);
    }

    [Fact]
    public void Hydrus_namespaces_map_to_categories_title_and_sources_and_unknown_ones_become_valid_tags()
    {
        var image = Image("pic.png");
        Write("pic.png.txt", string.Join("\n",
            "creator:Some Artist",
            "series:Some Show",
            "character:hero name",
            "person:jane doe",
            "meta:highres",
            "rating:explicit",
            "title:The Title",
            "source:https://example.com/post/1",
            "url:https://example.com/page",
            "https://example.org/direct",
            "page:3",
            "width:100",
            "re:zero",
            ":d",
            "long hair",
            "general:smile",
            "-_-",
            ""));

        var meta = new ImportMetadataReader().ReadFile(image);

        Assert.Equal(
            [
                new("some_artist", "artist"), new("some_show", "copyright"), new("hero_name", "character"), new("jane_doe", "character"),
                new("highres", "meta"), new("explicit", "rating"), new("page_3", null), new("width_100", null), new("re_zero", null),
                new(":d", null), new("long_hair", null), new("smile", null),
            ],
            meta.Tags);
        Assert.Equal("explicit", meta.Rating);
        Assert.Equal("The Title", meta.Title);
        Assert.Equal(["https://example.com/post/1", "https://example.com/page", "https://example.org/direct"], meta.SourceUrls);
        Assert.Contains(meta.Warnings, w => w.Contains("'-_-' dropped", StringComparison.Ordinal));
        Assert.All(meta.Tags, t => Assert.True(Domain.TagNames.TryNormalize(t.Name, out var n, out _) && n == t.Name));
    }

    [Fact]
    public void A_single_line_tag_list_is_comma_separated()
    {
        var image = Image("pic.png");
        Write("pic.png.txt", "creator:someone, blue sky, clouds\n");

        var meta = new ImportMetadataReader().ReadFile(image);

        Assert.Equal([new("someone", "artist"), new("blue_sky", null), new("clouds", null)], meta.Tags);
    }

    [Fact]
    public void A_utf16_text_file_with_bom_is_read()
    {
        var image = Image("pic.png");
        WriteBytes("pic.txt", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("café, naïve")]);

        var meta = new ImportMetadataReader().ReadFile(image);

        Assert.Equal(["café", "naïve"], meta.Tags.Select(t => t.Name));
    }

    [Fact]
    public void A_metadata_file_over_the_size_limit_is_ignored_with_a_warning()
    {
        var image = Image("pic.png");
        Write("pic.txt", string.Join(", ", Enumerable.Range(0, 500).Select(i => $"tag{i}")));

        var meta = new ImportMetadataReader(new ImportLimits { MaxSidecarSize = 100 }).ReadFile(image);

        Assert.Empty(meta.Tags);
        Assert.Empty(meta.Files);
        Assert.Contains(meta.Warnings, w => w.Contains("more than the 100 bytes allowed for a metadata file", StringComparison.Ordinal));
    }

    [Fact]
    public void An_image_without_metadata_yields_empty_metadata()
    {
        var meta = new ImportMetadataReader().ReadFile(Image("lonely.png"));
        Assert.True(meta.IsEmpty);
        Assert.Empty(meta.Warnings);
        Assert.Empty(meta.Files);
    }

    [Fact]
    public void Metadata_file_names_derive_from_the_image_name()
    {
        Assert.Equal(
            ["a.txt", "a.caption", "a.jpg.txt", "a.json", "a.jpg.json", "a.xmp", "a.jpg.xmp"],
            ImportFileNames.CandidatesFor("a.jpg").Select(c => c.FileName));
        Assert.Equal(["noext.txt", "noext.caption", "noext.json", "noext.xmp"], ImportFileNames.CandidatesFor("noext").Select(c => c.FileName));
        Assert.True(ImportFileNames.IsMetadataFile("x.JSON"));
        Assert.False(ImportFileNames.IsMetadataFile("x.png"));
    }
}
