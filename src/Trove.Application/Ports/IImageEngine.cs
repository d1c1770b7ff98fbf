namespace Trove.Application.Ports;

/// <summary>
/// Everything Trove does with pixels. Implemented at the edge (libvips); when the native library is missing the
/// host plugs in <see cref="UnavailableImageEngine"/> so that everything that needs no pixels keeps working.
/// Paths are files on disk; all methods are thread-safe and may run in parallel (one image per call).
/// </summary>
public interface IImageEngine
{
    /// <summary>Whether pixels can be processed, the native version, and what to install when they cannot.</summary>
    ImagingStatus Status { get; }

    /// <summary>
    /// Reads the header only (no pixel decode): format, size, bands, alpha, EXIF orientation, frames.
    /// Refuses images whose pixel count exceeds <see cref="ImageLimits.MaxPixels"/> without allocating them.
    /// </summary>
    /// <exception cref="ImageException">unreadable, unsupported, truncated header or too many pixels.</exception>
    ImageInfo Probe(string path, ImageLimits limits, CancellationToken ct);

    /// <summary>
    /// One decode (shrink-on-load, EXIF auto-rotated, converted to sRGB, first frame) that yields the header, an
    /// encoded thumbnail whose longest side is <see cref="AnalyzeRequest.ThumbnailSize"/>, and small grayscale
    /// samples (each resized to exactly the asked size, ignoring aspect, alpha flattened on white) for perceptual hashing.
    /// A truncated or corrupt file fails here with a specific message.
    /// </summary>
    ImageAnalysis Analyze(string path, AnalyzeRequest request, CancellationToken ct);

    /// <summary>Encoded thumbnail (longest side = size, never upscaled), EXIF auto-rotated, sRGB.</summary>
    EncodedImage Thumbnail(string path, int size, ImageFormat format, ImageLimits limits, CancellationToken ct);

    /// <summary>
    /// Renders a rectangle of the original (coordinates are in the auto-rotated image, i.e. as people see it),
    /// optionally resized so its longest side is at most <see cref="RenderRequest.MaxSize"/>, encoded.
    /// A null rectangle renders the whole image.
    /// </summary>
    EncodedImage Render(string path, RenderRequest request, CancellationToken ct);

    /// <summary>Raw 8-bit sRGB pixels (alpha flattened on <see cref="PixelRequest.Background"/>), for hashing and ML.</summary>
    RgbPixels Pixels(string path, PixelRequest request, CancellationToken ct);

    /// <summary>Encodes raw pixels (bands 1 = gray, 3 = RGB, 4 = RGBA).</summary>
    EncodedImage Encode(RgbPixels pixels, ImageFormat format, int quality, CancellationToken ct);

    /// <summary>
    /// An affine warp of the displayed image (EXIF auto-rotated, sRGB, alpha flattened) into an output of
    /// <see cref="WarpRequest.Width"/> × <see cref="WarpRequest.Height"/>: output pixel (u, v) takes the input at the
    /// point the inverse of <see cref="WarpRequest.Transform"/> maps it to (bilinear; black outside). Face alignment.
    /// </summary>
    RgbPixels Warp(string path, WarpRequest request, CancellationToken ct);
}

/// <summary>
/// A 2-D affine map from input to output coordinates: <c>u = A·x + B·y + Tx</c>, <c>v = C·x + D·y + Ty</c> (pixel
/// centres at integer coordinates, as OpenCV's warpAffine).
/// </summary>
public readonly record struct AffineTransform(double A, double B, double C, double D, double Tx, double Ty)
{
    public static AffineTransform Identity => new(1, 0, 0, 1, 0, 0);

    public (double U, double V) Apply(double x, double y) => ((A * x) + (B * y) + Tx, (C * x) + (D * y) + Ty);
}

public sealed record WarpRequest(AffineTransform Transform, int Width, int Height, ImageLimits Limits);

public enum ImageFormat
{
    Jpeg,
    Png,
    WebP,
}

public static class ImageFormats
{
    public static string Extension(ImageFormat format) => format switch { ImageFormat.Jpeg => "jpg", ImageFormat.Png => "png", _ => "webp" };

    public static string MediaType(ImageFormat format) => format switch { ImageFormat.Jpeg => "image/jpeg", ImageFormat.Png => "image/png", _ => "image/webp" };
}

/// <summary>Limits applied to untrusted input.</summary>
/// <param name="MaxPixels">Width × height (of one frame) above which an image is refused (decompression-bomb guard).</param>
public sealed record ImageLimits(long MaxPixels)
{
    /// <summary>Default: 178 megapixels (PIL's default bomb threshold ×2; a 24 MP camera photo is far below).</summary>
    public static ImageLimits Default { get; } = new(178_956_970);
}

public sealed record ImagingStatus(bool Available, string? Version, string? Message, IReadOnlyList<string> Loaders);

/// <summary>Header facts about an image.</summary>
/// <param name="Format">Loader family: jpeg, png, webp, gif, tiff, heif, jxl, svg… (lowercase).</param>
/// <param name="Width">Stored width (before EXIF orientation is applied).</param>
/// <param name="Height">Stored height.</param>
/// <param name="Orientation">EXIF orientation 1–8 (1 when absent).</param>
/// <param name="Frames">Number of pages/frames (animated GIF/WebP, multi-page TIFF); 1 otherwise.</param>
/// <param name="Interpretation">libvips interpretation name (srgb, b-w, cmyk, rgb16, grey16…).</param>
public sealed record ImageInfo(string Format, int Width, int Height, int Bands, bool HasAlpha, int Orientation, int Frames, string Interpretation)
{
    /// <summary>Orientations 5–8 swap width and height when displayed.</summary>
    public bool SwapsAxes => Orientation is >= 5 and <= 8;

    public int DisplayWidth => SwapsAxes ? Height : Width;

    public int DisplayHeight => SwapsAxes ? Width : Height;
}

public sealed record AnalyzeRequest(int ThumbnailSize, ImageFormat ThumbnailFormat, int ThumbnailQuality, IReadOnlyList<SampleSize> Samples, ImageLimits Limits);

public readonly record struct SampleSize(int Width, int Height);

/// <summary>A grayscale sample: Width × Height bytes, row-major.</summary>
public sealed record GraySample(int Width, int Height, byte[] Pixels);

public sealed record ImageAnalysis(ImageInfo Info, EncodedImage Thumbnail, IReadOnlyList<GraySample> Samples);

public sealed record EncodedImage(ImageFormat Format, int Width, int Height, byte[] Data)
{
    public string Extension => ImageFormats.Extension(Format);

    public string MediaType => ImageFormats.MediaType(Format);
}

public readonly record struct PixelRect(int X, int Y, int W, int H);

/// <param name="Rect">Region of the auto-rotated image; null = whole image.</param>
/// <param name="MaxSize">Longest side of the result; null = no resize. Never upscales.</param>
public sealed record RenderRequest(PixelRect? Rect, int? MaxSize, ImageFormat Format, int Quality, ImageLimits Limits);

/// <summary>How to size raw pixels.</summary>
public enum PixelFit
{
    /// <summary>Keep the image's size (after the rectangle, if any).</summary>
    None,

    /// <summary>Longest side = Width (aspect kept).</summary>
    Contain,

    /// <summary>Exactly Width × Height, aspect ignored.</summary>
    Stretch,

    /// <summary>Pad to a square on <see cref="PixelRequest.Background"/>, then resize to Width × Width (WD14 taggers).</summary>
    PadSquare,
}

/// <summary>The filter used when pixels are resized.</summary>
public enum PixelResample
{
    /// <summary>Sharpest; what thumbnails use.</summary>
    Lanczos3,

    /// <summary>Bicubic (Catmull-Rom), what WD14 taggers' reference preprocessing uses; cheaper than Lanczos3.</summary>
    Cubic,

    /// <summary>Bilinear; cheapest.</summary>
    Linear,
}

/// <param name="Background">RGB used to flatten alpha and to pad (0xRRGGBB).</param>
/// <param name="Resample">
/// The resize filter. Engines decode as small as the format allows first (JPEG shrink-on-load), then resize with it;
/// inputs that need rotation, colour management or several frames may be resized with the engine's thumbnail filter.
/// </param>
public sealed record PixelRequest(PixelFit Fit, int Width, int Height, int Background, bool Gray, PixelRect? Rect, ImageLimits Limits, PixelResample Resample = PixelResample.Lanczos3);

/// <summary>8-bit pixels, row-major, interleaved bands (1 = gray, 3 = RGB, 4 = RGBA).</summary>
public sealed record RgbPixels(int Width, int Height, int Bands, byte[] Data);

/// <summary>An image could not be read or processed. <see cref="TroveException"/>-compatible message for users.</summary>
public sealed class ImageException(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>unreadable, unsupported, truncated, too-large, invalid-rect, unavailable, failed.</summary>
    public string Code { get; } = code;
}

/// <summary>Stand-in when libvips cannot be loaded: every pixel operation fails with what to install.</summary>
public sealed class UnavailableImageEngine(string message) : IImageEngine
{
    public ImagingStatus Status { get; } = new(false, null, message, []);

    public ImageInfo Probe(string path, ImageLimits limits, CancellationToken ct) => throw Fail();

    public ImageAnalysis Analyze(string path, AnalyzeRequest request, CancellationToken ct) => throw Fail();

    public EncodedImage Thumbnail(string path, int size, ImageFormat format, ImageLimits limits, CancellationToken ct) => throw Fail();

    public EncodedImage Render(string path, RenderRequest request, CancellationToken ct) => throw Fail();

    public RgbPixels Pixels(string path, PixelRequest request, CancellationToken ct) => throw Fail();

    public EncodedImage Encode(RgbPixels pixels, ImageFormat format, int quality, CancellationToken ct) => throw Fail();

    public RgbPixels Warp(string path, WarpRequest request, CancellationToken ct) => throw Fail();

    private ImageException Fail() => new("unavailable", Status.Message ?? "Image processing is unavailable.");
}
