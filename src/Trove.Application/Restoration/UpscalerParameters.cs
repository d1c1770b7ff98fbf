using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trove.Domain;

namespace Trove.Application.Restoration;

/// <summary>How a model lays out its image tensor.</summary>
public enum TensorLayout
{
    /// <summary><c>[N,3,H,W]</c>: Swin2SR, Real-ESRGAN and most PyTorch exports.</summary>
    Nchw,

    /// <summary><c>[N,H,W,3]</c>: TensorFlow/Keras exports.</summary>
    Nhwc,
}

/// <summary>The value range of the model's pixels.</summary>
public enum PixelRange
{
    /// <summary>0–1 (value / 255): Swin2SR, Real-ESRGAN.</summary>
    ZeroToOne,

    /// <summary>0–255 (the byte value as a float).</summary>
    ZeroTo255,

    /// <summary>−1–1 (value / 127.5 − 1): GAN-style restorers.</summary>
    MinusOneToOne,
}

/// <summary>
/// An upscaler's or restorer's settings, from the <c>parameters</c> of its entry in models.json (docs/models.md,
/// "Upscalers and restorers"):
/// <code>{ "scale": 2, "tileSize": 256, "tileOverlap": 16, "layout": "nchw", "range": "0-1", "channels": "rgb",
///   "maxInputPixels": 40000000, "pad": 8, "prompt": "…" }</code>
/// Everything is optional; the defaults fit a Swin2SR / Real-ESRGAN ONNX export of a 2× model (Swin2SR needs pad 8).
/// </summary>
/// <param name="Scale">Output side ÷ input side: 1 (restorers), 2 or 4.</param>
/// <param name="TileSize">The largest tile side fed to the model, context included (before rounding up to <paramref name="Pad"/>).</param>
/// <param name="TileOverlap">Context on each side of a tile, in input pixels; neighbouring tiles share 2 × overlap and are feathered across it.</param>
/// <param name="Bgr">Whether the model wants its channels blue, green, red.</param>
/// <param name="MaxInputPixels">Width × height above which an image is refused (image-too-large).</param>
/// <param name="Prompt">For prompt-driven remote editors; ignored by the local engine.</param>
/// <param name="Pad">The multiple the model needs tile sides to be (8 for Swin2SR's windows); tiles are reflect-padded up to it.</param>
public sealed record UpscalerParameters(
    int Scale,
    int TileSize,
    int TileOverlap,
    TensorLayout Layout,
    PixelRange Range,
    bool Bgr,
    long MaxInputPixels,
    string? Prompt,
    int Pad)
{
    public const int DefaultScale = 2;
    public const int DefaultTileSize = 256;
    public const int DefaultTileOverlap = 16;
    public const int MinTileSize = 32;
    public const int MaxTileSize = 2048;
    public const long DefaultMaxInputPixels = 40_000_000;
    public const int MaxPad = 64;

    public static UpscalerParameters Default { get; } = new(
        DefaultScale, DefaultTileSize, DefaultTileOverlap, TensorLayout.Nchw, PixelRange.ZeroToOne, Bgr: false, DefaultMaxInputPixels, Prompt: null, Pad: 1);

    /// <summary>The settings Trove itself reads; a remote model may take others, which go to the service as they are.</summary>
    public static readonly IReadOnlyList<string> Fields = ["scale", "tileSize", "tileOverlap", "layout", "range", "channels", "maxInputPixels", "prompt", "pad"];

    /// <param name="parameters">The registry entry's parameters (null = defaults).</param>
    /// <param name="model">The model id, for messages.</param>
    /// <exception cref="TroveUsageException">model-parameters-invalid, naming the field.</exception>
    public static UpscalerParameters Parse(JsonObject? parameters, string model)
    {
        if (parameters is null)
        {
            return Default;
        }

        var reader = new Models.ParameterReader(parameters, model, "Upscalers and restorers");
        reader.OnlyFields(Fields, "an upscaler");

        var scale = reader.Whole("scale") ?? DefaultScale;
        if (scale is not (1 or 2 or 4))
        {
            throw reader.Bad("scale", $"is {scale}; use 1 (restorers), 2 or 4");
        }

        var tileSize = reader.Whole("tileSize") ?? DefaultTileSize;
        if (tileSize is < MinTileSize or > MaxTileSize)
        {
            throw reader.Bad("tileSize", $"is {tileSize}; use {MinTileSize}–{MaxTileSize}");
        }

        var overlap = reader.Whole("tileOverlap") ?? Math.Min(DefaultTileOverlap, (tileSize - 1) / 2);
        if (overlap < 0 || overlap * 2 >= tileSize)
        {
            throw reader.Bad("tileOverlap", $"is {overlap}; use 0 to less than half of tileSize ({tileSize})");
        }

        var layout = (reader.Text("layout")?.Trim().ToLowerInvariant() ?? "nchw") switch
        {
            "nchw" => TensorLayout.Nchw,
            "nhwc" => TensorLayout.Nhwc,
            var other => throw reader.Bad("layout", $"is '{other}'; use nchw ([N,3,H,W]) or nhwc ([N,H,W,3])"),
        };

        var range = (reader.Text("range")?.Trim() ?? "0-1") switch
        {
            "0-1" => PixelRange.ZeroToOne,
            "0-255" => PixelRange.ZeroTo255,
            "-1-1" => PixelRange.MinusOneToOne,
            var other => throw reader.Bad("range", $"is '{other}'; use 0-1, 0-255 or -1-1"),
        };

        var bgr = (reader.Text("channels")?.Trim().ToLowerInvariant() ?? "rgb") switch
        {
            "rgb" => false,
            "bgr" => true,
            var other => throw reader.Bad("channels", $"is '{other}'; use rgb or bgr"),
        };

        var maxPixels = reader.Whole("maxInputPixels") ?? DefaultMaxInputPixels;
        if (maxPixels < 1)
        {
            throw reader.Bad("maxInputPixels", $"is {maxPixels}; use a positive number of pixels (width × height)");
        }

        var prompt = reader.Text("prompt");
        if (prompt is not null && string.IsNullOrWhiteSpace(prompt))
        {
            throw reader.Bad("prompt", "is empty; leave it out");
        }

        var pad = reader.Whole("pad") ?? 1;
        if (pad is < 1 or > MaxPad)
        {
            throw reader.Bad("pad", $"is {pad}; use 1 (any size) to {MaxPad} (e.g. 8 for Swin2SR)");
        }

        return new UpscalerParameters((int)scale, (int)tileSize, (int)overlap, layout, range, bgr, maxPixels, prompt?.Trim(), (int)pad);
    }
}
