using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Trove.Application.Ports;
using Trove.Imaging.Vips;

namespace Trove.Testing;

/// <summary>
/// Deterministic test images: photo-like pixels from a seed, and real files in every format Trove reads, written
/// through libvips. Shared by the test projects and the benchmark; depends only on Trove.Imaging.Vips and the BCL.
/// </summary>
public static class TestImages
{
    private static readonly double[] White = [255.0];

    /// <summary>
    /// Photo-like sRGB pixels: a smooth two-colour gradient, soft colour blobs, a few hard-edged shapes and mild noise.
    /// The same seed always gives the same pixels; different seeds give perceptually different images.
    /// </summary>
    public static RgbPixels Photo(int seed, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var random = new Random(seed);
        var from = RandomColour(random);
        var to = RandomColour(random);
        var angle = random.NextDouble() * Math.PI * 2;
        double gx = Math.Cos(angle), gy = Math.Sin(angle);

        var blobs = new (double X, double Y, double R2, double[] Colour, double Strength)[3 + random.Next(4)];
        for (var i = 0; i < blobs.Length; i++)
        {
            var radius = (0.15 + random.NextDouble() * 0.35) * Math.Max(width, height);
            blobs[i] = (random.NextDouble() * width, random.NextDouble() * height, radius * radius, RandomColour(random), 0.5 + random.NextDouble() * 0.5);
        }

        var shapes = new (int X0, int Y0, int X1, int Y1, double[] Colour)[1 + random.Next(3)];
        for (var i = 0; i < shapes.Length; i++)
        {
            int x0 = random.Next(width), y0 = random.Next(height);
            int w = 1 + random.Next(Math.Max(1, width / 3)), h = 1 + random.Next(Math.Max(1, height / 3));
            shapes[i] = (x0, y0, Math.Min(width, x0 + w), Math.Min(height, y0 + h), RandomColour(random));
        }

        var data = new byte[width * height * 3];
        var noise = new Random(seed ^ 0x5EED);
        var colour = new double[3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var t = Math.Clamp(0.5 + (((x - width / 2.0) * gx) + ((y - height / 2.0) * gy)) / Math.Max(width, height), 0, 1);
                for (var c = 0; c < 3; c++)
                {
                    colour[c] = from[c] + ((to[c] - from[c]) * t);
                }

                foreach (var blob in blobs)
                {
                    double dx = x - blob.X, dy = y - blob.Y;
                    var falloff = 1 - (((dx * dx) + (dy * dy)) / blob.R2);
                    if (falloff > 0)
                    {
                        var weight = falloff * falloff * blob.Strength;
                        for (var c = 0; c < 3; c++)
                        {
                            colour[c] += (blob.Colour[c] - colour[c]) * weight;
                        }
                    }
                }

                foreach (var shape in shapes)
                {
                    if (x >= shape.X0 && x < shape.X1 && y >= shape.Y0 && y < shape.Y1)
                    {
                        Array.Copy(shape.Colour, colour, 3);
                    }
                }

                var offset = ((y * width) + x) * 3;
                for (var c = 0; c < 3; c++)
                {
                    data[offset + c] = (byte)Math.Clamp((int)Math.Round(colour[c] + noise.Next(-6, 7)), 0, 255);
                }
            }
        }

        return new RgbPixels(width, height, 3, data);
    }

    /// <summary>One colour everywhere; <paramref name="colour"/> has 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) values.</summary>
    public static RgbPixels Solid(int width, int height, params byte[] colour)
    {
        ArgumentNullException.ThrowIfNull(colour);
        var data = new byte[width * height * colour.Length];
        for (var i = 0; i < data.Length; i += colour.Length)
        {
            colour.CopyTo(data, i);
        }

        return new RgbPixels(width, height, colour.Length, data);
    }

    /// <summary>Four RGB quadrants: top-left red, top-right green, bottom-left blue, bottom-right white.</summary>
    public static RgbPixels Quadrants(int width, int height)
    {
        var data = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var (r, g, b) = (x < width / 2, y < height / 2) switch
                {
                    (true, true) => (255, 0, 0),
                    (false, true) => (0, 255, 0),
                    (true, false) => (0, 0, 255),
                    _ => (255, 255, 255),
                };
                var offset = ((y * width) + x) * 3;
                data[offset] = (byte)r;
                data[offset + 1] = (byte)g;
                data[offset + 2] = (byte)b;
            }
        }

        return new RgbPixels(width, height, 3, data);
    }

    /// <summary>Adds an alpha band with the given value (0 = fully transparent).</summary>
    public static RgbPixels WithAlpha(RgbPixels pixels, byte alpha)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        var bands = pixels.Bands + 1;
        var data = new byte[pixels.Width * pixels.Height * bands];
        for (int i = 0, o = 0; i < pixels.Data.Length; i += pixels.Bands, o += bands)
        {
            Array.Copy(pixels.Data, i, data, o, pixels.Bands);
            data[o + pixels.Bands] = alpha;
        }

        return new RgbPixels(pixels.Width, pixels.Height, bands, data);
    }

    /// <summary>Converts RGB(A) pixels to one gray band (Rec. 601 luma), dropping alpha.</summary>
    public static RgbPixels ToGray(RgbPixels pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        var data = new byte[pixels.Width * pixels.Height];
        for (int i = 0, o = 0; o < data.Length; i += pixels.Bands, o++)
        {
            data[o] = pixels.Bands < 3
                ? pixels.Data[i]
                : (byte)Math.Round((0.299 * pixels.Data[i]) + (0.587 * pixels.Data[i + 1]) + (0.114 * pixels.Data[i + 2]));
        }

        return new RgbPixels(pixels.Width, pixels.Height, 1, data);
    }

    /// <summary>Writes a JPEG (alpha is flattened on white). Optionally progressive, with an EXIF orientation (1–8), or as CMYK.</summary>
    public static void WriteJpeg(string path, RgbPixels pixels, int quality = 90, bool progressive = false, int? orientation = null, bool cmyk = false)
    {
        using var image = VipsImage.FromPixels(pixels);
        using var opaque = image.HasAlpha ? image.Call("flatten", new VipsOption("background", White)) : image.Call("copy");
        using var oriented = orientation is int o ? opaque.WithInt("orientation", o) : opaque.Call("copy");
        using var final = cmyk ? oriented.Colourspace("cmyk") : oriented.Call("copy");
        final.Save(path, new VipsOption("Q", quality), new VipsOption("interlace", progressive));
    }

    /// <summary>Writes a PNG: gray, gray + alpha, RGB or RGBA as given; 16 bits per sample when <paramref name="sixteenBit"/>.</summary>
    public static void WritePng(string path, RgbPixels pixels, bool sixteenBit = false)
    {
        using var image = VipsImage.FromPixels(pixels);
        if (sixteenBit)
        {
            using var deep = image.Colourspace(pixels.Bands <= 2 ? "grey16" : "rgb16");
            deep.Save(path);
        }
        else
        {
            image.Save(path);
        }
    }

    public static void WriteWebp(string path, RgbPixels pixels, int quality = 90, bool lossless = false)
    {
        using var image = VipsImage.FromPixels(pixels);
        image.Save(path, new VipsOption("Q", quality), new VipsOption("lossless", lossless));
    }

    public static void WriteTiff(string path, RgbPixels pixels)
    {
        using var image = VipsImage.FromPixels(pixels);
        image.Save(path);
    }

    /// <summary>Writes an animated GIF, one frame per argument (all frames the same size).</summary>
    public static void WriteGif(string path, params RgbPixels[] frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Length == 0)
        {
            throw new ArgumentException("A GIF needs at least one frame.", nameof(frames));
        }

        var first = frames[0];
        if (frames.Any(f => f.Width != first.Width || f.Height != first.Height || f.Bands != first.Bands))
        {
            throw new ArgumentException("All frames must have the same size and bands.", nameof(frames));
        }

        var strip = new RgbPixels(first.Width, first.Height * frames.Length, first.Bands, [.. frames.SelectMany(f => f.Data)]);
        using var image = VipsImage.FromPixels(strip);
        image.Save(path, new VipsOption("page-height", first.Height));
    }

    /// <summary>Cuts the file down to <paramref name="keepFraction"/> of its bytes (0–1).</summary>
    public static void Truncate(string path, double keepFraction)
    {
        var bytes = File.ReadAllBytes(path);
        var keep = (int)Math.Clamp(Math.Round(bytes.Length * keepFraction), 0, bytes.Length);
        File.WriteAllBytes(path, bytes.AsSpan(0, keep).ToArray());
    }

    /// <summary>
    /// A tiny, hand-made PNG that claims <paramref name="width"/> × <paramref name="height"/> pixels: valid signature, IHDR
    /// with correct CRC, a small IDAT and IEND. A decoder that trusts the header would allocate gigabytes.
    /// </summary>
    public static void WritePngBomb(string path, int width, int height)
    {
        using var file = File.Create(path);
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        WriteChunk(file, "IHDR", header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(new byte[4096]);
        }

        WriteChunk(file, "IDAT", compressed.ToArray());
        WriteChunk(file, "IEND", []);
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        stream.Write(typeBytes);
        stream.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32([.. typeBytes, .. data]));
        stream.Write(word);
    }

    /// <summary>CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as PNG chunks use it.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    private static double[] RandomColour(Random random) => [random.Next(256), random.Next(256), random.Next(256)];
}
