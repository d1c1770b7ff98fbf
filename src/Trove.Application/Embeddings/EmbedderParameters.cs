using System.Text.Json.Nodes;
using Trove.Application.Tagging;
using Trove.Domain;
using Trove.Domain.Embeddings;

namespace Trove.Application.Embeddings;

/// <summary>How an embedder fits an image into its square input.</summary>
public enum EmbedderResize
{
    /// <summary>Resize the shortest side to the input size, then take the centre square (CLIP's preprocessing).</summary>
    CenterCrop,

    /// <summary>Fit inside the square and pad on black.</summary>
    Pad,

    /// <summary>Stretch to the square, aspect ignored.</summary>
    Stretch,
}

/// <summary>
/// An embedder's settings, from the <c>parameters</c> of its entry in models.json (docs/semantic-search.md, "Embedder
/// settings"). Every field is optional; the defaults are OpenAI CLIP ViT-B/32's:
/// <code>{ "size": 224, "resize": "center-crop", "mean": [0.4815, 0.4578, 0.4082], "std": [0.2686, 0.2613, 0.2758],
///   "contextLength": 77, "padding": "zero", "minScore": 0.2, "duplicateScore": 0.95, "autoEmbed": true, "batchSize": 16 }</code>
/// </summary>
/// <param name="MinScore">The similarity a media needs to match a <c>semantic:</c>/<c>like:</c> term when the query sorts by something else and gives no <c>min-score:</c>.</param>
/// <param name="DuplicateScore">Cosine similarity at and above which two images are near-duplicate candidates by embedding.</param>
/// <param name="AutoEmbed">Whether imports and uploads queue an <c>embed</c> job.</param>
/// <param name="ZeroShot">Zero-shot tag suggestions from the vocabulary's text prompts (off unless configured).</param>
public sealed record EmbedderParameters(
    int Size,
    EmbedderResize Resize,
    IReadOnlyList<float> Mean,
    IReadOnlyList<float> Std,
    int ContextLength,
    ClipPadding Padding,
    float MinScore,
    float DuplicateScore,
    bool AutoEmbed,
    int BatchSize)
{
    /// <summary>Zero-shot tagging settings (docs/semantic-search.md, "Zero-shot tag suggestions").</summary>
    public ZeroShotSettings ZeroShot { get; init; } = ZeroShotSettings.Off;

    public static readonly IReadOnlyList<float> ClipMean = [0.48145466f, 0.4578275f, 0.40821073f];
    public static readonly IReadOnlyList<float> ClipStd = [0.26862954f, 0.26130258f, 0.27577711f];

    public static EmbedderParameters Default { get; } = new(224, EmbedderResize.CenterCrop, ClipMean, ClipStd, ClipTokenizerOptions.DefaultContextLength, ClipPadding.Zero, 0.2f, 0.95f, AutoEmbed: true, BatchSize: 16);

    public static readonly IReadOnlyList<string> Fields = ["size", "resize", "mean", "std", "contextLength", "padding", "minScore", "duplicateScore", "autoEmbed", "batchSize", "zeroShot", "zeroShotPrompt", "zeroShotMinScore", "zeroShotMaxTags", "zeroShotCategories"];

    /// <summary>The image tensor the encoder takes: RGB, 0–1, normalised by mean/std, NCHW.</summary>
    public TaggerPreprocessing Preprocessing => new()
    {
        Size = Size,
        PadToSquare = Resize == EmbedderResize.Pad,
        Background = 0x000000,
        Channels = ChannelOrder.Rgb,
        Resample = Ports.PixelResample.Cubic,
        Layout = TensorLayout.Nchw,
        Scale = PixelScale.Unit,
        Mean = Mean,
        Std = Std,
    };

    public ClipTokenizerOptions TokenizerOptions => new() { ContextLength = ContextLength, Padding = Padding };

    /// <exception cref="TroveUsageException">model-parameters-invalid, naming the field.</exception>
    public static EmbedderParameters Parse(JsonObject? parameters, string model)
    {
        if (parameters is null)
        {
            return Default;
        }

        var reader = new Models.ParameterReader(parameters, model, "Embedder settings");
        reader.OnlyFields(Fields, "an embedder");
        var d = Default;
        var size = reader.Whole("size") ?? d.Size;
        if (size is < 16 or > 1024)
        {
            throw reader.Bad("size", $"is {size}; use the encoder's input side, 16–1024 (CLIP ViT-B/32: 224)");
        }

        var resize = reader.Text("resize") switch
        {
            null or "center-crop" => EmbedderResize.CenterCrop,
            "pad" => EmbedderResize.Pad,
            "stretch" => EmbedderResize.Stretch,
            var other => throw reader.Bad("resize", $"is \"{other}\"; use center-crop, pad or stretch"),
        };
        var context = reader.Whole("contextLength") ?? d.ContextLength;
        if (context is < 3 or > 4096)
        {
            throw reader.Bad("contextLength", $"is {context}; CLIP's text encoders take 77");
        }

        var padding = reader.Text("padding") switch
        {
            null or "zero" => ClipPadding.Zero,
            "end" => ClipPadding.EndToken,
            var other => throw reader.Bad("padding", $"is \"{other}\"; use zero (OpenAI's exports) or end (HuggingFace's)"),
        };
        var minScore = reader.Number("minScore") ?? d.MinScore;
        var duplicate = reader.Number("duplicateScore") ?? d.DuplicateScore;
        foreach (var (name, value) in new[] { ("minScore", minScore), ("duplicateScore", duplicate) })
        {
            if (value is < -1 or > 1)
            {
                throw reader.Bad(name, $"is {value}; a cosine similarity is between -1 and 1");
            }
        }

        var batch = reader.Whole("batchSize") ?? d.BatchSize;
        if (batch is < 1 or > 256)
        {
            throw reader.Bad("batchSize", $"is {batch}; use 1–256");
        }

        var zeroShot = ZeroShotSettings.Parse(reader);
        return new EmbedderParameters(
            (int)size,
            resize,
            Triple(reader, "mean") ?? d.Mean,
            Triple(reader, "std", positive: true) ?? d.Std,
            (int)context,
            padding,
            (float)minScore,
            (float)duplicate,
            reader.Value<bool>(parameters["autoEmbed"], "autoEmbed") ?? d.AutoEmbed,
            (int)batch) { ZeroShot = zeroShot };
    }

    private static float[]? Triple(Models.ParameterReader reader, string name, bool positive = false)
    {
        var node = reader.Parameters[name];
        if (node is null)
        {
            return null;
        }

        if (node is not JsonArray { Count: 3 } array)
        {
            throw reader.Bad(name, $"must be three numbers (R, G, B), found {node.ToJsonString()}");
        }

        var values = array.Select((v, i) => reader.Value<float>(v, $"{name}[{i}]") ?? throw reader.Bad($"{name}[{i}]", "is null")).ToArray();
        if (positive && values.Any(v => !(v > 0)))
        {
            throw reader.Bad(name, "must be positive");
        }

        return values;
    }
}

/// <summary>
/// Zero-shot tag suggestions: each tag of the vocabulary becomes a text prompt (<see cref="Prompt"/> with the tag's words
/// for <c>{tag}</c>), embedded once by the text encoder; an image's embedding is compared with every prompt and the tags
/// scoring at least <see cref="MinScore"/> (at most <see cref="MaxTags"/>, best first) become pending suggestions with
/// the embedder as their model (<c>embedder@version</c>).
/// </summary>
/// <param name="Categories">Only tags of these categories are prompted (empty: every category but <c>meta</c>).</param>
public sealed record ZeroShotSettings(bool Enabled, string Prompt, float MinScore, int MaxTags, IReadOnlyList<string> Categories)
{
    public const string DefaultPrompt = "a photo of {tag}";

    public static ZeroShotSettings Off { get; } = new(false, DefaultPrompt, 0.25f, 5, []);

    /// <summary>The prompt for a tag: its underscores become spaces (<c>long_hair</c> → "a photo of long hair").</summary>
    public string PromptFor(string tag) => Prompt.Replace("{tag}", tag.Replace('_', ' '), StringComparison.Ordinal);

    /// <summary>Whether the tags of <paramref name="category"/> are prompted.</summary>
    public bool Includes(string category) => Categories.Count == 0 ? category != "meta" : Categories.Contains(category, StringComparer.Ordinal);

    internal static ZeroShotSettings Parse(Models.ParameterReader reader)
    {
        var d = Off;
        var enabled = reader.Value<bool>(reader.Parameters["zeroShot"], "zeroShot") ?? d.Enabled;
        var prompt = reader.Text("zeroShotPrompt") ?? d.Prompt;
        if (!prompt.Contains("{tag}", StringComparison.Ordinal))
        {
            throw reader.Bad("zeroShotPrompt", $"is \"{prompt}\"; it needs {{tag}} where the tag's words go, e.g. \"{DefaultPrompt}\"");
        }

        var min = reader.Number("zeroShotMinScore") ?? d.MinScore;
        if (min is < -1 or > 1)
        {
            throw reader.Bad("zeroShotMinScore", $"is {min}; a cosine similarity is between -1 and 1 (CLIP image–text matches score about 0.25–0.35)");
        }

        var max = reader.Whole("zeroShotMaxTags") ?? d.MaxTags;
        if (max is < 1 or > 100)
        {
            throw reader.Bad("zeroShotMaxTags", $"is {max}; use 1–100");
        }

        var categories = new List<string>();
        if (reader.Parameters["zeroShotCategories"] is { } node)
        {
            if (node is not JsonArray array)
            {
                throw reader.Bad("zeroShotCategories", $"must be a list of category names, found {node.ToJsonString()}");
            }

            foreach (var (i, item) in array.Index())
            {
                categories.Add(reader.Text(item, $"zeroShotCategories[{i}]") ?? throw reader.Bad($"zeroShotCategories[{i}]", "is null"));
            }
        }

        return new ZeroShotSettings(enabled, prompt, (float)min, (int)max, categories);
    }
}
