namespace Trove.Library;

/// <summary>Recognises image formats by their first bytes (never by extension).</summary>
public static class MediaTypes
{
    public const int SniffLength = 32;

    public sealed record Detected(string Ext, string MediaType);

    public static Detected? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return new("jpg", "image/jpeg");
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return new("png", "image/png");
        }

        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return new("gif", "image/gif");
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return new("webp", "image/webp");
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[(byte)'I', (byte)'I', 42, 0]) || head.StartsWith((ReadOnlySpan<byte>)[(byte)'M', (byte)'M', 0, 42]))
        {
            return new("tiff", "image/tiff");
        }

        if (head.StartsWith("BM"u8) && head.Length >= 14)
        {
            return new("bmp", "image/bmp");
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0x0A]) || head.StartsWith((ReadOnlySpan<byte>)[0, 0, 0, 0x0C, (byte)'J', (byte)'X', (byte)'L', (byte)' ']))
        {
            return new("jxl", "image/jxl");
        }

        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
        {
            var brand = head[8..12];
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8))
            {
                return new("avif", "image/avif");
            }

            if (brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("mif1"u8) || brand.SequenceEqual("msf1"u8))
            {
                return new("heic", "image/heic");
            }
        }

        return null;
    }

    public static string FromExtension(string ext) => ext.ToLowerInvariant() switch
    {
        "jpg" or "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "tif" or "tiff" => "image/tiff",
        "bmp" => "image/bmp",
        "avif" => "image/avif",
        "heic" or "heif" => "image/heic",
        "jxl" => "image/jxl",
        _ => "application/octet-stream",
    };
}
