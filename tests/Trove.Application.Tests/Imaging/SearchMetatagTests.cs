using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Imaging;

using TestImages = Trove.Testing.TestImages;

/// <summary>Metatags that need real image facts (sizes, hashes, EXIF dates) on images decoded by libvips.</summary>
public sealed class SearchMetatagTests
{
    [Fact]
    public async Task Size_ratio_type_and_similar_metatags_use_the_decoded_facts()
    {
        await using var lib = await CreateWithImagingAsync();
        var wide = await lib.ImportFileAsync("wide.jpg", p => TestImages.WriteJpeg(p, TestImages.Photo(1, 640, 360)));
        var square = await lib.ImportFileAsync("square.png", p => TestImages.WritePng(p, TestImages.Photo(2, 300, 300)));
        var tall = await lib.ImportFileAsync("tall.webp", p => TestImages.WriteWebp(p, TestImages.Photo(3, 200, 400)));
        var wideCopy = await lib.ImportFileAsync("wide-copy.png", p => TestImages.WritePng(p, TestImages.Photo(1, 640, 360)));
        var rotated = await lib.ImportFileAsync("rotated.jpg", p => TestImages.WriteJpeg(p, TestImages.Photo(4, 300, 100), orientation: 6));

        async Task<List<string>> Ids(string q) => [.. (await lib.Search.SearchAsync(q, 100, 0, Ct)).Ids.Order(StringComparer.Ordinal)];
        List<string> Set(params string[] ids) => [.. ids.Order(StringComparer.Ordinal)];

        Assert.Equal(Set(wide, wideCopy), await Ids("width:640"));
        Assert.Equal(Set(wide, wideCopy), await Ids("ratio:16:9"));
        Assert.Equal(Set(square), await Ids("ratio:1"));
        Assert.Equal(Set(tall, rotated), await Ids("ratio:<1"));
        Assert.Equal(Set(rotated), await Ids("width:100 height:300")); // displayed (EXIF-rotated) size
        Assert.Equal(Set(wide, wideCopy), await Ids("mpixels:>0.2"));
        Assert.Equal(Set(wide, square, wideCopy), await Ids("width:>=300 -height:>=400 -rotated"));
        Assert.Equal(Set(tall), await Ids("type:webp"));
        Assert.Equal(Set(wide, rotated), await Ids("type:jpeg"));
        Assert.Equal(Set(wideCopy), await Ids($"similar:{wide[..8]}"));
        Assert.Equal(Set(wide), await Ids($"similar:{wideCopy}"));
        var size = lib.ReadSidecar(square).Original.Size;
        Assert.Equal(Set(square), await Ids($"filesize:{size}"));
        Assert.Contains(square, await Ids($"filesize:{size / 1024.0:0.0}kb"));

        var noHash = await Assert.ThrowsAsync<TroveUsageException>(() => Ids("similar:zzzzzz"));
        Assert.Equal("query-invalid", noHash.Code);
        var unknown = await Assert.ThrowsAsync<TroveUsageException>(() => Ids("similar:000000"));
        Assert.Contains("no media", unknown.Message, StringComparison.Ordinal);
    }
}
