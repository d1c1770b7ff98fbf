using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>Channel order of the tensor.</summary>
public enum ChannelOrder
{
    Rgb,
    Bgr,
}

/// <summary>Memory layout of one image in the tensor: height × width × channels, or channels × height × width.</summary>
public enum TensorLayout
{
    Nhwc,
    Nchw,
}

/// <summary>Value range of a channel before mean/std: 0–255 (the byte as a float) or 0–1 (byte / 255).</summary>
public enum PixelScale
{
    Byte,
    Unit,
}

/// <summary>
/// How a tagger wants its input. The defaults are WD14's: pad to a square on white, resize to 448×448, BGR, floats
/// 0–255, NHWC, no normalisation. <see cref="Mean"/> and <see cref="Std"/> (three values each, in R, G, B order whatever
/// <see cref="Channels"/> is) are applied after scaling: <c>(value − mean) / std</c>.
/// </summary>
public sealed record TaggerPreprocessing
{
    public static TaggerPreprocessing Wd14 { get; } = new();

    /// <summary>Width and height of the model's input.</summary>
    public int Size { get; init; } = 448;

    /// <summary>Pad to a square on <see cref="Background"/> before resizing (keeps the aspect); false stretches.</summary>
    public bool PadToSquare { get; init; } = true;

    /// <summary>0xRRGGBB used for padding and to flatten transparency.</summary>
    public int Background { get; init; } = 0xFFFFFF;

    public ChannelOrder Channels { get; init; } = ChannelOrder.Bgr;

    /// <summary>The resize filter; bicubic like the WD14 reference preprocessing.</summary>
    public PixelResample Resample { get; init; } = PixelResample.Cubic;

    public TensorLayout Layout { get; init; } = TensorLayout.Nhwc;

    public PixelScale Scale { get; init; } = PixelScale.Byte;

    public IReadOnlyList<float>? Mean { get; init; }

    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>Floats per image.</summary>
    public int TensorLength => 3 * Size * Size;

    /// <summary>The input shape for a batch of <paramref name="batch"/> images.</summary>
    public IReadOnlyList<long> InputShape(int batch) =>
        Layout == TensorLayout.Nhwc ? [batch, Size, Size, 3] : [batch, 3, Size, Size];

    /// <summary>
    /// What to ask the image engine for: the image fitted inside the square (the padding is written straight into the
    /// tensor, see <see cref="TaggerTensors.Write"/>) or stretched to it.
    /// </summary>
    public PixelRequest PixelRequest(ImageLimits limits) =>
        new(PadToSquare ? PixelFit.Contain : PixelFit.Stretch, Size, Size, Background, Gray: false, Rect: null, limits, Resample);

    /// <summary>Problems with these settings (empty when usable).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Size is < 1 or > 8192)
        {
            errors.Add($"size must be between 1 and 8192, found {Size}");
        }

        if (Background is < 0 or > 0xFFFFFF)
        {
            errors.Add($"background must be an RGB value 0x000000–0xFFFFFF, found 0x{Background:X}");
        }

        if (Mean is not null && Mean.Count != 3)
        {
            errors.Add($"mean needs 3 values (R, G, B), found {Mean.Count}");
        }

        if (Std is not null && (Std.Count != 3 || Std.Any(s => !(s > 0) || float.IsInfinity(s))))
        {
            errors.Add("std needs 3 positive values (R, G, B)");
        }

        return errors;
    }

    /// <summary>Throws <see cref="TroveUsageException"/> (preprocessing-invalid) naming every problem.</summary>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new TroveUsageException("preprocessing-invalid", "Tagger preprocessing is not usable: " + string.Join("; ", errors) + ".");
        }
    }
}

/// <summary>Turns images into the float tensors taggers take.</summary>
public static class TaggerTensors
{
    /// <summary>Decodes, pads/resizes (libvips) and converts one image file: <see cref="TaggerPreprocessing.TensorLength"/> floats.</summary>
    public static float[] FromFile(IImageEngine engine, string path, TaggerPreprocessing preprocessing, ImageLimits limits, CancellationToken ct)
    {
        var tensor = new float[preprocessing.TensorLength];
        WriteFromFile(engine, path, preprocessing, limits, tensor, ct);
        return tensor;
    }

    /// <summary>As <see cref="FromFile"/>, into a slice of a batch buffer (image <c>i</c> at <c>i × TensorLength</c>).</summary>
    public static void WriteFromFile(IImageEngine engine, string path, TaggerPreprocessing preprocessing, ImageLimits limits, Span<float> destination, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(preprocessing);
        var pixels = engine.Pixels(path, preprocessing.PixelRequest(limits), ct);
        Write(pixels, preprocessing, destination);
    }

    /// <summary>Converts pixels already sized <see cref="TaggerPreprocessing.Size"/>² into a new tensor.</summary>
    public static float[] FromPixels(RgbPixels pixels, TaggerPreprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        var tensor = new float[preprocessing.TensorLength];
        Write(pixels, preprocessing, tensor);
        return tensor;
    }

    /// <summary>
    /// Converts interleaved 8-bit pixels (1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA bands; alpha ignored) into
    /// <paramref name="destination"/> in the requested layout, channel order and scale. Pixels are either
    /// <see cref="TaggerPreprocessing.Size"/>² or, when padding to a square, at most that on each side: they are then
    /// centred (as libvips' gravity centre does) on the background colour. A pure function.
    /// </summary>
    public static void Write(RgbPixels pixels, TaggerPreprocessing preprocessing, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(preprocessing);
        var size = preprocessing.Size;
        var (width, height) = (pixels.Width, pixels.Height);
        var exact = width == size && height == size;
        if (!exact && !(preprocessing.PadToSquare && width is >= 1 && height is >= 1 && width <= size && height <= size))
        {
            throw new TroveException("preprocessing-size", $"The tagger needs {size}×{size} pixels but got {width}×{height}.");
        }

        var bands = pixels.Bands;
        if (bands is < 1 or > 4)
        {
            throw new TroveException("preprocessing-bands", $"Pixels with {bands} bands cannot be fed to a tagger (1–4 expected).");
        }

        if (pixels.Data.Length < width * height * bands)
        {
            throw new TroveException("preprocessing-size", $"{width}×{height}×{bands} pixels need {width * height * bands} bytes, got {pixels.Data.Length}.");
        }

        var count = size * size;
        if (destination.Length < 3 * count)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats; {3 * count} are needed.", nameof(destination));
        }

        // Output channel k reads source band src[k] through its own lookup table (scale, mean and std folded in).
        Span<int> src = stackalloc int[3];
        Span<float> fill = stackalloc float[3];
        var luts = new float[3][];
        for (var k = 0; k < 3; k++)
        {
            var rgb = preprocessing.Channels == ChannelOrder.Rgb ? k : 2 - k;
            src[k] = bands >= 3 ? rgb : 0;
            luts[k] = Table(preprocessing, rgb);
            fill[k] = luts[k][(preprocessing.Background >> (8 * (2 - rgb))) & 0xFF];
        }

        var (l0, l1, l2) = (luts[0], luts[1], luts[2]);
        var (s0, s1, s2) = (src[0], src[1], src[2]);
        var (x0, y0) = ((size - width) / 2, (size - height) / 2);
        var rowBytes = width * bands;
        if (preprocessing.Layout == TensorLayout.Nhwc)
        {
            if (!exact)
            {
                for (var o = 0; o < 3 * count; o += 3)
                {
                    destination[o] = fill[0];
                    destination[o + 1] = fill[1];
                    destination[o + 2] = fill[2];
                }
            }

            for (var y = 0; y < height; y++)
            {
                var row = pixels.Data.AsSpan(y * rowBytes, rowBytes);
                var o = (((y + y0) * size) + x0) * 3;
                for (var p = 0; p < row.Length; p += bands)
                {
                    destination[o] = l0[row[p + s0]];
                    destination[o + 1] = l1[row[p + s1]];
                    destination[o + 2] = l2[row[p + s2]];
                    o += 3;
                }
            }
        }
        else
        {
            var c0 = destination[..count];
            var c1 = destination.Slice(count, count);
            var c2 = destination.Slice(2 * count, count);
            if (!exact)
            {
                c0.Fill(fill[0]);
                c1.Fill(fill[1]);
                c2.Fill(fill[2]);
            }

            for (var y = 0; y < height; y++)
            {
                var row = pixels.Data.AsSpan(y * rowBytes, rowBytes);
                var i = ((y + y0) * size) + x0;
                for (var p = 0; p < row.Length; p += bands, i++)
                {
                    c0[i] = l0[row[p + s0]];
                    c1[i] = l1[row[p + s1]];
                    c2[i] = l2[row[p + s2]];
                }
            }
        }
    }

    /// <summary>The float each byte value becomes in channel <paramref name="rgb"/> (0 = R, 1 = G, 2 = B).</summary>
    internal static float[] Table(TaggerPreprocessing p, int rgb)
    {
        var table = new float[256];
        var mean = p.Mean is { Count: 3 } m ? m[rgb] : 0.0;
        var std = p.Std is { Count: 3 } s ? s[rgb] : 1.0;
        for (var b = 0; b < 256; b++)
        {
            var scaled = p.Scale == PixelScale.Unit ? b / 255.0 : b;
            table[b] = (float)((scaled - mean) / std);
        }

        return table;
    }
}
