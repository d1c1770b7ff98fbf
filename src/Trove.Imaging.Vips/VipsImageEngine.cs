using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Trove.Application.Ports;

namespace Trove.Imaging.Vips;

/// <summary>
/// <see cref="IImageEngine"/> on libvips. Every call works on its own images, so calls run in parallel; libvips itself
/// uses <see cref="VipsOptions.Concurrency"/> threads per image. Create it with <see cref="Create(VipsOptions, ILogger?)"/>,
/// which returns an <see cref="UnavailableImageEngine"/> when libvips cannot be loaded.
/// </summary>
public sealed class VipsImageEngine : IImageEngine
{
    /// <summary>libvips' largest coordinate: "no limit" for the thumbnail operation.</summary>
    private const int Unbounded = 10_000_000;

    private const int DefaultQuality = 80;

    private static readonly double[] White = [255];

    private VipsImageEngine(ImagingStatus status) => Status = status;

    private enum Phase
    {
        /// <summary>Finding the loader and reading the header.</summary>
        Open,

        /// <summary>Decoding pixels (nothing else in the pipeline).</summary>
        Decode,

        /// <summary>A pipeline that both decodes and processes.</summary>
        Process,

        /// <summary>Processing pixels already in memory.</summary>
        Encode,
    }

    public ImagingStatus Status { get; }

    /// <summary>Starts libvips (once per process) and returns the engine, or the stand-in that says what to install.</summary>
    public static IImageEngine Create(IOptions<VipsOptions> options, ILogger<VipsImageEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Create(options.Value, logger);
    }

    /// <summary>Starts libvips (once per process) and returns the engine, or the stand-in that says what to install.</summary>
    public static IImageEngine Create(VipsOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var started = VipsRuntime.TryStart(options, logger, out var failure);
        if (started is null)
        {
            var message = failure ?? VipsRuntime.NotFoundMessage;
            Log.VipsUnavailable(logger, message);
            return new UnavailableImageEngine(message);
        }

        DecodeMemoryGate.Budget = options.DecodeMemoryBudgetBytes;
        return new VipsImageEngine(new ImagingStatus(true, started.Version, null, started.Loaders));
    }

    public ImageInfo Probe(string path, ImageLimits limits, CancellationToken ct) => ReadHeader(path, limits, ct).Info;

    public ImageAnalysis Analyze(string path, AnalyzeRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.ThumbnailSize, 1);
        foreach (var sample in request.Samples)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(sample.Width, 1, nameof(request));
            ArgumentOutOfRangeException.ThrowIfLessThan(sample.Height, 1, nameof(request));
        }

        var header = ReadHeader(path, request.Limits, ct);
        using var gate = DecodeMemoryGate.Enter(header.DecodeBytes, ct);
        using var thumbnail = DecodeThumbnail(path, header, request.ThumbnailSize, ct);
        var encoded = EncodeImage(thumbnail, request.ThumbnailFormat, request.ThumbnailQuality, path, Phase.Encode, ct);
        var samples = new GraySample[request.Samples.Count];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = GraySampleOf(thumbnail, request.Samples[i], path, ct);
        }

        return new ImageAnalysis(header.Info, encoded, samples);
    }

    public EncodedImage Thumbnail(string path, int size, ImageFormat format, ImageLimits limits, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var header = ReadHeader(path, limits, ct);
        using var gate = DecodeMemoryGate.Enter(header.DecodeBytes, ct);
        using var thumbnail = DecodeThumbnail(path, header, size, ct);
        return EncodeImage(thumbnail, format, DefaultQuality, path, Phase.Encode, ct);
    }

    public EncodedImage Render(string path, RenderRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MaxSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(request), "MaxSize must be at least 1.");
        }

        var header = ReadHeader(path, request.Limits, ct);
        using var gate = DecodeMemoryGate.Enter(header.DecodeBytes, ct);
        using var scope = new ImageScope();
        VipsImage image;
        if (request.Rect is null)
        {
            // Whole image: the thumbnail operation shrinks on load, rotates and converts to sRGB in one pass.
            var size = request.MaxSize ?? Unbounded;
            image = scope.Add(OpenThumbnail(path, header, size, size, "down"));
            image = scope.Add(ToSrgb8(image, keepGray: true, path, colourManaged: true));
        }
        else
        {
            image = scope.Add(OpenRegion(path, header, request.Rect.Value));
            image = scope.Add(ToSrgb8(image, keepGray: true, path));
            var longest = Math.Max(image.Width, image.Height);
            if (request.MaxSize is int max && longest > max)
            {
                var scale = (double)max / longest;
                var width = Math.Clamp((int)Math.Round(image.Width * scale), 1, max);
                var height = Math.Clamp((int)Math.Round(image.Height * scale), 1, max);
                image = scope.Add(Run(path, () => ResizeKeepingAlpha(image, width, height), Phase.Process));
            }
        }

        return EncodeImage(image, request.Format, request.Quality, path, Phase.Process, ct);
    }

    public RgbPixels Pixels(string path, PixelRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Fit != PixelFit.None)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(request.Width, 1, nameof(request));
        }

        if (request.Fit == PixelFit.Stretch)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(request.Height, 1, nameof(request));
        }

        var header = ReadHeader(path, request.Limits, ct);
        using var gate = DecodeMemoryGate.Enter(header.DecodeBytes, ct);
        var background = new double[] { (request.Background >> 16) & 0xFF, (request.Background >> 8) & 0xFF, request.Background & 0xFF };
        using var scope = new ImageScope();
        VipsImage image;
        if (request.Rect is null)
        {
            var (width, height, size) = request.Fit switch
            {
                PixelFit.Contain or PixelFit.PadSquare => (request.Width, request.Width, "both"),
                PixelFit.Stretch => (request.Width, request.Height, "force"),
                _ => (Unbounded, Unbounded, "down"),
            };
            if (DirectTarget(header, request) is { } target)
            {
                // One decode at the smallest size the format offers, then one resize with the requested filter.
                image = scope.Add(Run(path, () => VipsImage.Load(path, header.Loader, "sequential", failOnTruncated: true, ShrinkOnLoad(header, target)), Phase.Open));
                image = scope.Add(ToSrgb8(image, keepGray: false, path));
                image = scope.Add(Run(path, () => Flatten(image, background), Phase.Process));
                image = scope.Add(Run(path, () => ResizeExact(image, target.Width, target.Height, KernelOf(request.Resample)), Phase.Process));
            }
            else
            {
                image = scope.Add(OpenThumbnail(path, header, width, height, size));
                image = scope.Add(ToSrgb8(image, keepGray: false, path, colourManaged: true));
                image = scope.Add(Run(path, () => Flatten(image, background), Phase.Process));
                if (request.Fit == PixelFit.Stretch)
                {
                    image = scope.Add(Run(path, () => ResizeExact(image, request.Width, request.Height), Phase.Process));
                }
            }

            if (request.Fit == PixelFit.PadSquare)
            {
                image = scope.Add(Run(path, () => PadCentred(image, request.Width, background), Phase.Process));
            }
        }
        else
        {
            image = scope.Add(OpenRegion(path, header, request.Rect.Value));
            image = scope.Add(ToSrgb8(image, keepGray: false, path));
            image = scope.Add(Run(path, () => Flatten(image, background), Phase.Process));
            image = request.Fit switch
            {
                PixelFit.Contain => scope.Add(Run(path, () => ResizeLongest(image, request.Width), Phase.Process)),
                PixelFit.Stretch => scope.Add(Run(path, () => ResizeExact(image, request.Width, request.Height), Phase.Process)),
                PixelFit.PadSquare => scope.Add(Run(path, () => PadSquareThenResize(image, request.Width, background), Phase.Process)),
                _ => image,
            };
        }

        if (request.Gray)
        {
            image = scope.Add(Run(path, () => image.Colourspace("b-w"), Phase.Process));
        }

        var bytes = Run(path, () => image.WriteToMemory(ct), Phase.Process);
        return new RgbPixels(image.Width, image.Height, image.Bands, bytes);
    }

    public RgbPixels Warp(string path, WarpRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Width, 1, nameof(request));
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Height, 1, nameof(request));
        var t = request.Transform;
        if (Math.Abs((t.A * t.D) - (t.B * t.C)) < 1e-12)
        {
            throw new ArgumentException("The transform is singular (it maps the image onto a line).", nameof(request));
        }

        var header = ReadHeader(path, request.Limits, ct);
        using var gate = DecodeMemoryGate.Enter(header.DecodeBytes, ct);
        using var scope = new ImageScope();
        var image = scope.Add(Run(path, () => VipsImage.Load(path, header.Loader, "random", failOnTruncated: true), Phase.Open));
        image = scope.Add(Run(path, () => image.Call("autorot"), Phase.Process));
        image = scope.Add(ToSrgb8(image, keepGray: false, path));
        image = scope.Add(Run(path, () => Flatten(image, [0, 0, 0]), Phase.Process));

        // libvips maps input to output as [a b; c d]·(x + idx, y + idy) + (odx, ody) and samples pixel centres at +0.5;
        // oarea picks the output window, so (0, 0) of the window is output pixel (0, 0).
        image = scope.Add(Run(path, () => image.Call(
            "affine",
            new VipsOption("matrix", new[] { t.A, t.B, t.C, t.D }),
            new VipsOption("odx", t.Tx),
            new VipsOption("ody", t.Ty),
            new VipsOption("oarea", new[] { 0, 0, request.Width, request.Height }),
            new VipsOption("extend", "black")), Phase.Process));
        if (image.Width != request.Width || image.Height != request.Height)
        {
            throw new ImageException("warp-failed", $"the warp of {Path.GetFileName(path)} gave {image.Width}×{image.Height}, not {request.Width}×{request.Height}");
        }

        if (image.Bands > 3)
        {
            image = scope.Add(Run(path, () => image.Call("extract_band", new VipsOption("band", 0), new VipsOption("n", 3)), Phase.Process));
        }

        var bytes = Run(path, () => image.WriteToMemory(ct), Phase.Process);
        return new RgbPixels(image.Width, image.Height, image.Bands, bytes);
    }

    public EncodedImage Encode(RgbPixels pixels, ImageFormat format, int quality, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Bands is not (1 or 3 or 4))
        {
            throw new ArgumentException($"Encode takes 1, 3 or 4 bands, not {pixels.Bands}.", nameof(pixels));
        }

        ct.ThrowIfCancellationRequested();
        using var image = Run(null, () => VipsImage.FromPixels(pixels), Phase.Encode);
        return EncodeImage(image, format, quality, null, Phase.Encode, ct);
    }

    // ---- reading ----

    /// <param name="DecodeBytes">Memory a full decode needs beyond streaming (progressive JPEG coefficients, interlaced PNG, HEIF…).</param>
    private sealed record Header(ImageInfo Info, string Loader, bool HasRgbProfile, long DecodeBytes);

    /// <summary>Finds the loader, reads the header (no pixels) and applies the decompression-bomb guard.</summary>
    private static Header ReadHeader(string path, ImageLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(limits);
        ct.ThrowIfCancellationRequested();
        var loader = FindLoader(path);
        using var image = Run(path, () => VipsImage.Load(path, loader, "sequential", failOnTruncated: false), Phase.Open);
        var orientation = image.GetInt("orientation") ?? 1;
        var interpretation = image.Interpretation;
        var info = new ImageInfo(
            FormatOf(loader),
            image.Width,
            image.Height,
            image.Bands,
            image.HasAlpha,
            orientation is >= 1 and <= 8 ? orientation : 1,
            Math.Max(1, image.PageCount),
            interpretation);

        var pixels = (long)image.Width * image.PageHeight;
        if (pixels > limits.MaxPixels)
        {
            throw new ImageException(
                "too-large",
                $"{Path.GetFileName(path)}: image claims {image.Width}×{image.PageHeight} = {Megapixels(pixels)} megapixels; " +
                $"the limit is {Megapixels(limits.MaxPixels)} megapixels (Trove:Imaging:MaxPixels)");
        }

        return new Header(info, loader, interpretation != "cmyk" && image.HasField("icc-profile-data"), DecodeBytesOf(info, image.GetInt("interlaced") == 1));
    }

    /// <summary>
    /// What decoding holds in memory at once. Baseline JPEG, WebP, TIFF strips and plain PNG stream (shrink-on-load), so
    /// they need little; progressive JPEG keeps every DCT coefficient plus libjpeg's work buffers (measured: about 6 bytes
    /// per sample at peak with libvips 8.14 / libjpeg-turbo 2.1), interlaced PNG and the HEIF/JPEG XL/JPEG 2000 decoders
    /// keep the whole image.
    /// </summary>
    private static long DecodeBytesOf(ImageInfo info, bool interlaced)
    {
        var samples = (long)info.Width * info.Height * Math.Max(1, info.Bands);
        return info.Format switch
        {
            "jpeg" when interlaced => samples * 6,
            "png" when interlaced => samples,
            "heif" or "jxl" or "jp2k" => samples,
            _ => 0,
        };
    }

    private static string FindLoader(string path)
    {
        var name = Path.GetFileName(path);
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new ImageException("unreadable", $"{name}: file not found ({path})");
        }

        if (file.Length == 0)
        {
            throw new ImageException("unsupported", $"{name} is empty (0 bytes): not an image");
        }

        var loader = VipsImage.FindLoader(path);
        if (loader is not null)
        {
            return loader;
        }

        var error = VipsException.FromErrorBuffer($"find loader for {name}");
        try
        {
            using var stream = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageException("unreadable", $"{name} cannot be opened: {e.Message}", e);
        }

        throw new ImageException(
            "unsupported",
            $"{name} is not in an image format Trove can read (JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF, JPEG XL); libvips says: {error.VipsMessage}",
            error);
    }

    /// <summary>The one decode for thumbnails and analysis, materialised so it is computed once.</summary>
    private static VipsImage DecodeThumbnail(string path, Header header, int size, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var scope = new ImageScope();
        var image = scope.Add(OpenThumbnail(path, header, size, size, "down"));
        image = scope.Add(ToSrgb8(image, keepGray: true, path, colourManaged: true));
        return Run(path, () => image.CopyMemory(ct), Phase.Decode);
    }

    /// <summary>
    /// The thumbnail operation: shrink-on-load, EXIF auto-rotation, first frame, and a transform to real sRGB (from CMYK
    /// or an embedded ICC profile). Truncated files fail instead of coming out grey at the bottom.
    /// </summary>
    private static VipsImage OpenThumbnail(string path, Header header, int width, int height, string size) => Run(path, () =>
    {
        using var operation = VipsOperation.New("thumbnail");
        operation.Set("filename", path);
        operation.Set("width", width);
        operation.Set("height", height);
        operation.Set("size", size);
        operation.Set("fail-on", "truncated");
        if (header.HasRgbProfile)
        {
            // An embedded profile (Adobe RGB, Display P3…): transform to real sRGB. CMYK needs nothing: libvips 8.14's
            // thumbnail already imports it (embedded or built-in CMYK profile) and exports sRGB, and asking for an
            // export profile there only makes it warn "profile incompatible with image".
            operation.Set("export-profile", "srgb");
        }

        operation.Build($"thumbnail {Path.GetFileName(path)}");
        return operation.GetImage("out");
    }, Phase.Open);

    /// <summary>Random-access load, auto-rotated, cut to <paramref name="rect"/> (validated against the rotated size).</summary>
    private static VipsImage OpenRegion(string path, Header header, PixelRect rect)
    {
        using var scope = new ImageScope();
        var image = scope.Add(Run(path, () => VipsImage.Load(path, header.Loader, "random", failOnTruncated: true), Phase.Open));
        image = scope.Add(Run(path, () => image.Call("autorot"), Phase.Process));
        int width = image.Width, height = image.Height;
        if (rect.W < 1 || rect.H < 1 || rect.X < 0 || rect.Y < 0 || (long)rect.X + rect.W > width || (long)rect.Y + rect.H > height)
        {
            throw new ImageException(
                "invalid-rect",
                $"rectangle {rect.X},{rect.Y} {rect.W}×{rect.H} does not fit {Path.GetFileName(path)}, which is {width}×{height} as displayed " +
                $"(x 0–{width - 1}, y 0–{height - 1}; width and height at least 1)");
        }

        return Run(path, () => VipsOperation.Run(
            "extract_area",
            "input",
            image,
            new VipsOption("left", rect.X),
            new VipsOption("top", rect.Y),
            new VipsOption("width", rect.W),
            new VipsOption("height", rect.H)), Phase.Process);
    }

    /// <summary>
    /// The size a whole-image pixel request resizes to, when it can be decoded directly instead of through the thumbnail
    /// operation: JPEG and PNG files of one frame, upright, without an embedded profile (the thumbnail operation does
    /// rotation and colour management for the rest).
    /// </summary>
    private static (int Width, int Height)? DirectTarget(Header header, PixelRequest request)
    {
        var info = header.Info;
        if (request.Fit == PixelFit.None || info.Format is not ("jpeg" or "png") || info.Orientation != 1 || info.Frames != 1 || header.HasRgbProfile || info.Interpretation == "cmyk")
        {
            return null;
        }

        if (request.Fit == PixelFit.Stretch)
        {
            return (request.Width, request.Height);
        }

        var scale = (double)request.Width / Math.Max(info.Width, info.Height);
        return (Math.Clamp((int)Math.Round(info.Width * scale), 1, request.Width), Math.Clamp((int)Math.Round(info.Height * scale), 1, request.Width));
    }

    /// <summary>The largest JPEG DCT shrink (1, 2, 4 or 8) that still decodes at least the target size.</summary>
    private static int ShrinkOnLoad(Header header, (int Width, int Height) target)
    {
        if (header.Info.Format != "jpeg")
        {
            return 1;
        }

        var shrink = 8;
        while (shrink > 1 && (CeilDiv(header.Info.Width, shrink) < target.Width || CeilDiv(header.Info.Height, shrink) < target.Height))
        {
            shrink /= 2;
        }

        return shrink;

        static int CeilDiv(int a, int b) => (a + b - 1) / b;
    }

    private static string KernelOf(PixelResample resample) => resample switch
    {
        PixelResample.Cubic => "cubic",
        PixelResample.Linear => "linear",
        _ => "lanczos3",
    };

    // ---- pixel steps (each returns a new image the caller owns) ----

    /// <summary>
    /// 8-bit sRGB (or 8-bit gray when <paramref name="keepGray"/>), alpha kept; CMYK and ICC profiles honoured unless
    /// <paramref name="colourManaged"/> says the thumbnail operation already did that.
    /// </summary>
    private static VipsImage ToSrgb8(VipsImage input, bool keepGray, string path, bool colourManaged = false) => Run(path, () =>
    {
        using var scope = new ImageScope();
        var image = input;
        var interpretation = image.Interpretation;
        if (!colourManaged && (interpretation == "cmyk" || image.HasField("icc-profile-data")))
        {
            try
            {
                image = scope.Add(image.Call(
                    "icc_transform",
                    new VipsOption("output-profile", "srgb"),
                    new VipsOption("embedded", true),
                    new VipsOption("input-profile", interpretation == "cmyk" ? "cmyk" : "srgb"),
                    new VipsOption("depth", 8)));
            }
            catch (VipsException)
            {
                // A broken embedded profile: fall back to libvips' plain colourspace conversion below.
            }
        }

        var colourBands = image.HasAlpha ? image.Bands - 1 : image.Bands;
        var target = keepGray && colourBands == 1 ? "b-w" : "srgb";
        if (image.Interpretation != target)
        {
            image = scope.Add(image.Colourspace(target));
        }

        var format = image.BandFormat;
        if (format != "uchar")
        {
            image = scope.Add(image.Call("cast", new VipsOption("format", "uchar"), new VipsOption("shift", format == "ushort")));
        }

        return image == input ? input.Call("copy") : scope.Release(image);
    }, Phase.Process);

    private static VipsImage Flatten(VipsImage image, double[] background) => image.HasAlpha
        ? image.Call("flatten", new VipsOption("background", image.Bands - 1 == 1 ? [background[0]] : background))
        : image.Call("copy");

    /// <summary>Exactly <paramref name="width"/> × <paramref name="height"/> (aspect ignored), Lanczos3 unless told.</summary>
    private static VipsImage ResizeExact(VipsImage image, int width, int height, string kernel = "lanczos3")
    {
        if (image.Width == width && image.Height == height)
        {
            return image.Call("copy");
        }

        var resized = image.Call(
            "resize",
            new VipsOption("scale", (double)width / image.Width),
            new VipsOption("vscale", (double)height / image.Height),
            new VipsOption("kernel", kernel));
        if (resized.Width == width && resized.Height == height)
        {
            return resized;
        }

        // Rounding left a pixel too many or too few: crop or repeat the edge.
        using (resized)
        {
            return resized.Call(
                "embed",
                new VipsOption("x", 0),
                new VipsOption("y", 0),
                new VipsOption("width", width),
                new VipsOption("height", height),
                new VipsOption("extend", "copy"));
        }
    }

    private static VipsImage ResizeLongest(VipsImage image, int longest)
    {
        var scale = (double)longest / Math.Max(image.Width, image.Height);
        return ResizeExact(
            image,
            Math.Clamp((int)Math.Round(image.Width * scale), 1, longest),
            Math.Clamp((int)Math.Round(image.Height * scale), 1, longest));
    }

    /// <summary>Resizes with premultiplied alpha so transparent pixels do not bleed dark fringes.</summary>
    private static VipsImage ResizeKeepingAlpha(VipsImage image, int width, int height)
    {
        if (!image.HasAlpha)
        {
            return ResizeExact(image, width, height);
        }

        using var premultiplied = image.Call("premultiply");
        using var resized = ResizeExact(premultiplied, width, height);
        using var unpremultiplied = resized.Call("unpremultiply");
        return unpremultiplied.Call("cast", new VipsOption("format", "uchar"));
    }

    /// <summary>Centres the image on a <paramref name="side"/>² canvas of <paramref name="background"/>.</summary>
    private static VipsImage PadCentred(VipsImage image, int side, double[] background) => image.Call(
        "gravity",
        new VipsOption("direction", "centre"),
        new VipsOption("width", side),
        new VipsOption("height", side),
        new VipsOption("extend", "background"),
        new VipsOption("background", background));

    private static VipsImage PadSquareThenResize(VipsImage image, int side, double[] background)
    {
        using var square = PadCentred(image, Math.Max(image.Width, image.Height), background);
        return ResizeExact(square, side, side);
    }

    private static GraySample GraySampleOf(VipsImage thumbnail, SampleSize size, string path, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var scope = new ImageScope();
        var image = scope.Add(Run(path, () => thumbnail.HasAlpha ? thumbnail.Call("flatten", new VipsOption("background", White)) : thumbnail.Call("copy"), Phase.Encode));
        if (image.Interpretation != "b-w")
        {
            image = scope.Add(Run(path, () => image.Colourspace("b-w"), Phase.Encode));
        }

        image = scope.Add(Run(path, () => ResizeExact(image, size.Width, size.Height), Phase.Encode));
        if (image.BandFormat != "uchar")
        {
            image = scope.Add(Run(path, () => image.Call("cast", new VipsOption("format", "uchar")), Phase.Encode));
        }

        var bytes = Run(path, () => image.WriteToMemory(ct), Phase.Encode);
        if (bytes.Length != size.Width * size.Height)
        {
            throw new ImageException("failed", $"{Path.GetFileName(path)}: gray sample came out {bytes.Length} bytes, expected {size.Width}×{size.Height}");
        }

        return new GraySample(size.Width, size.Height, bytes);
    }

    private static EncodedImage EncodeImage(VipsImage image, ImageFormat format, int quality, string? path, Phase phase, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var scope = new ImageScope();
        var source = image;
        if (format == ImageFormat.Jpeg && source.HasAlpha)
        {
            source = scope.Add(Run(path, () => image.Call("flatten", new VipsOption("background", White)), Phase.Encode));
        }

        var q = Math.Clamp(quality, 1, 100);
        var strip = new VipsOption("strip", true);
        var bytes = Run(path, () => format switch
        {
            ImageFormat.Jpeg => source.SaveToBuffer("jpegsave_buffer", ct, new VipsOption("Q", q), new VipsOption("optimize-coding", true), strip),
            ImageFormat.Png => source.SaveToBuffer("pngsave_buffer", ct, strip),
            ImageFormat.WebP => source.SaveToBuffer("webpsave_buffer", ct, new VipsOption("Q", q), strip),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown image format."),
        }, phase);
        return new EncodedImage(format, source.Width, source.Height, bytes);
    }

    // ---- errors ----

    /// <summary>Runs a libvips step and turns its failure into the port's <see cref="ImageException"/>.</summary>
    private static T Run<T>(string? path, Func<T> step, Phase phase)
    {
        try
        {
            return step();
        }
        catch (VipsException e)
        {
            throw Map(e, path, phase);
        }
    }

    private static ImageException Map(VipsException e, string? path, Phase phase)
    {
        var what = path is null ? "image" : Path.GetFileName(path);
        var text = e.VipsMessage;
        if (Mentions(text, "blocked"))
        {
            return new ImageException("unsupported", $"{what} is not in a photo format Trove accepts: {text} (see VipsOptions.BlockUntrusted)", e);
        }

        if (phase != Phase.Encode && IsTruncation(text))
        {
            return new ImageException("truncated", $"{what} is truncated or incomplete: {text}", e);
        }

        return phase switch
        {
            Phase.Open or Phase.Decode => new ImageException("unreadable", $"{what} could not be read: {text}", e),
            Phase.Process when IsLoaderError(text) => new ImageException("unreadable", $"{what} could not be read: {text}", e),
            _ => new ImageException("failed", $"{what}: {e.Message}", e),
        };
    }

    private static bool IsTruncation(string text) =>
        Mentions(text, "premature end") || Mentions(text, "truncated") || Mentions(text, "unexpected end") ||
        Mentions(text, "end of file") || Mentions(text, "out of data") || Mentions(text, "not enough data") ||
        Mentions(text, "short read") || Mentions(text, "incomplete") || Mentions(text, "eof") || Mentions(text, "read error");

    private static bool IsLoaderError(string text) =>
        Mentions(text, "load") || Mentions(text, "jpeg") || Mentions(text, "png") || Mentions(text, "gif") || Mentions(text, "webp") ||
        Mentions(text, "tiff") || Mentions(text, "heif") || Mentions(text, "corrupt") || Mentions(text, "not a ");

    private static bool Mentions(string text, string fragment) => text.Contains(fragment, StringComparison.OrdinalIgnoreCase);

    /// <summary>Loader nickname to format family: jpegload → jpeg, pngload_source → png, heifload_buffer → heif.</summary>
    internal static string FormatOf(string loader)
    {
        var name = loader;
        foreach (var suffix in new[] { "_source", "_buffer", "_file" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                name = name[..^suffix.Length];
            }
        }

        if (name.EndsWith("load", StringComparison.Ordinal))
        {
            name = name[..^"load".Length];
        }

        return name.ToLowerInvariant();
    }

    private static string Megapixels(long pixels)
    {
        var mp = pixels / 1_000_000.0;
        return mp >= 10 ? Math.Round(mp).ToString("0", CultureInfo.InvariantCulture) : mp.ToString("0.##", CultureInfo.InvariantCulture);
    }

    /// <summary>Disposes the intermediate images of one call.</summary>
    private sealed class ImageScope : IDisposable
    {
        private readonly List<VipsImage> _images = [];

        public VipsImage Add(VipsImage image)
        {
            _images.Add(image);
            return image;
        }

        public VipsImage Release(VipsImage image)
        {
            _images.Remove(image);
            return image;
        }

        public void Dispose()
        {
            foreach (var image in _images)
            {
                image.Dispose();
            }
        }
    }
}
