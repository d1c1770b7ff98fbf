using System.Text;

namespace Trove.Library.Tests;

public class MediaTypesTests
{
    private static byte[] Head(params byte[] start)
    {
        var head = new byte[MediaTypes.SniffLength];
        start.CopyTo(head, 0);
        return head;
    }

    private static byte[] Concat(params byte[][] parts) => Head(parts.SelectMany(p => p).ToArray());

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    public static TheoryData<byte[], string, string> Images => new()
    {
        { Head(0xFF, 0xD8, 0xFF, 0xE0), "jpg", "image/jpeg" },
        { Head(0xFF, 0xD8, 0xFF, 0xE1), "jpg", "image/jpeg" },
        { Head(0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A), "png", "image/png" },
        { Concat(Ascii("GIF87a")), "gif", "image/gif" },
        { Concat(Ascii("GIF89a")), "gif", "image/gif" },
        { Concat(Ascii("RIFF"), [0x24, 0x00, 0x00, 0x00], Ascii("WEBPVP8 ")), "webp", "image/webp" },
        { Head((byte)'I', (byte)'I', 42, 0), "tiff", "image/tiff" },
        { Head((byte)'M', (byte)'M', 0, 42), "tiff", "image/tiff" },
        { Concat(Ascii("BM")), "bmp", "image/bmp" },
        { Concat([0, 0, 0, 0x1C], Ascii("ftypavif")), "avif", "image/avif" },
        { Concat([0, 0, 0, 0x20], Ascii("ftypavis")), "avif", "image/avif" },
        { Concat([0, 0, 0, 0x18], Ascii("ftypheic")), "heic", "image/heic" },
        { Concat([0, 0, 0, 0x18], Ascii("ftypmif1")), "heic", "image/heic" },
        { Head(0xFF, 0x0A), "jxl", "image/jxl" },
        { Concat([0, 0, 0, 0x0C], Ascii("JXL ")), "jxl", "image/jxl" },
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void Sniff_recognises_image_signatures(byte[] head, string ext, string mediaType)
    {
        var detected = MediaTypes.Sniff(head);
        Assert.NotNull(detected);
        Assert.Equal(ext, detected.Ext);
        Assert.Equal(mediaType, detected.MediaType);
    }

    [Theory]
    [InlineData("hello, world\nthis is plain text, long enough to sniff")]
    [InlineData("{\"schema\": 2, \"id\": \"abc\"}")]
    [InlineData("<svg xmlns='http://www.w3.org/2000/svg'/>")]
    [InlineData("RIFF\0\0\0\0WAVEfmt ")]
    [InlineData("GIF90a")]
    [InlineData("")]
    public void Sniff_returns_null_for_text_and_other_formats(string content)
    {
        Assert.Null(MediaTypes.Sniff(Encoding.UTF8.GetBytes(content)));
    }

    [Fact]
    public void Sniff_returns_null_for_an_mp4_container_and_for_too_short_heads()
    {
        Assert.Null(MediaTypes.Sniff(Concat([0, 0, 0, 0x18], Ascii("ftypisom"))));
        Assert.Null(MediaTypes.Sniff("BM"u8));
        Assert.Null(MediaTypes.Sniff("RIFF\0\0\0\0WEB"u8));
        Assert.Null(MediaTypes.Sniff([0xFF, 0xD8]));
    }

    [Theory]
    [InlineData("jpg", "image/jpeg")]
    [InlineData("JPEG", "image/jpeg")]
    [InlineData("png", "image/png")]
    [InlineData("tif", "image/tiff")]
    [InlineData("heif", "image/heic")]
    [InlineData("avif", "image/avif")]
    [InlineData("txt", "application/octet-stream")]
    [InlineData("", "application/octet-stream")]
    public void FromExtension_maps_known_extensions(string ext, string expected)
    {
        Assert.Equal(expected, MediaTypes.FromExtension(ext));
    }
}
