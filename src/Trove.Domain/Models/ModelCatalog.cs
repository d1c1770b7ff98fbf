using System.Text.Json.Nodes;

namespace Trove.Domain.Models;

/// <summary>What a model does. Taggers run now; the other kinds are registered and listed for the issues that use them.</summary>
public static class ModelKinds
{
    public const string Tagger = "tagger";
    public const string Captioner = "captioner";
    public const string Embedder = "embedder";
    public const string FaceDetector = "face-detector";
    public const string FaceEmbedder = "face-embedder";
    public const string Upscaler = "upscaler";

    /// <summary>Image-to-image restoration at the same size (denoise, deblur, JPEG artefacts); scale 1 upscalers.</summary>
    public const string Restorer = "restorer";

    public static IReadOnlyList<string> All { get; } = [Tagger, Captioner, Embedder, FaceDetector, FaceEmbedder, Upscaler, Restorer];
}

/// <summary>
/// Where a model runs: <c>onnx</c> (a local file through ONNX Runtime), or the name of a remote provider in
/// providers.json (<see cref="ProviderCatalog"/>).
/// </summary>
public static class ModelProviders
{
    public const string Onnx = ProviderKinds.Onnx;

    public static bool IsLocal(string provider) => string.Equals(provider, Onnx, StringComparison.Ordinal);

    public static bool IsValid(string? provider) => IsLocal(provider ?? string.Empty) || ProviderDefinition.IsValidName(provider);
}

/// <summary>
/// The library's model registry, <c>models.json</c> at the library root: every model with its versions, exactly one of
/// them active. It is a library file (backed up with the library), edited by <c>trove models</c> and read by the server.
/// </summary>
public sealed class ModelCatalog
{
    public const int CurrentSchema = 1;

    public int Schema { get; set; } = CurrentSchema;

    public List<ModelDefinition> Models { get; set; } = [];

    public ModelDefinition? Find(string id) => Models.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal));

    /// <summary>Problems that make the file unusable, each naming the model (and version) it concerns.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in Models)
        {
            var where = $"model '{model.Id}'";
            if (!ModelDefinition.IsValidId(model.Id))
            {
                errors.Add($"{where}: ids are 1–64 lowercase letters, digits, '-', '_' or '.'");
            }
            else if (!seen.Add(model.Id))
            {
                errors.Add($"{where} is listed twice");
            }

            if (string.IsNullOrWhiteSpace(model.Name))
            {
                errors.Add($"{where} has no name");
            }

            if (!ModelKinds.All.Contains(model.Kind, StringComparer.Ordinal))
            {
                errors.Add($"{where}: unknown kind '{model.Kind}' (use one of {string.Join(", ", ModelKinds.All)})");
            }

            if (!ModelProviders.IsValid(model.Provider))
            {
                errors.Add($"{where}: provider '{model.Provider}' is neither 'onnx' nor a provider name (see 'trove providers list')");
            }

            var versions = new HashSet<string>(StringComparer.Ordinal);
            foreach (var version in model.Versions)
            {
                if (string.IsNullOrWhiteSpace(version.Version) || !versions.Add(version.Version))
                {
                    errors.Add($"{where}: version '{version.Version}' is empty or listed twice");
                }

                if (string.IsNullOrWhiteSpace(version.File) && ModelProviders.IsLocal(model.Provider))
                {
                    errors.Add($"{where} version '{version.Version}' names no model file");
                }
            }

            var active = model.Versions.Count(v => v.Active);
            if (model.Versions.Count > 0 && active != 1)
            {
                errors.Add($"{where} has {active} active versions; exactly one must be active");
            }
        }

        return errors;
    }
}

/// <summary>One model: what it is, how it runs (parameters), and its versions.</summary>
public sealed class ModelDefinition
{
    public string Id { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public string Kind { get; set; } = ModelKinds.Tagger;

    public string? Description { get; set; }

    /// <summary>Free grouping, e.g. "danbooru" or "custom".</summary>
    public string? Category { get; set; }

    public List<string> Tags { get; set; } = [];

    /// <summary><c>onnx</c> (local), or the name of a provider in providers.json that runs the model remotely.</summary>
    public string Provider { get; set; } = ModelProviders.Onnx;

    /// <summary>Kind-specific settings (taggers: preprocessing, thresholds, vocabulary source, priority, auto-suggest).</summary>
    public JsonObject? Parameters { get; set; }

    public List<ModelVersionEntry> Versions { get; set; } = [];

    public ModelVersionEntry? ActiveVersion => Versions.FirstOrDefault(v => v.Active);

    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= 64 } && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.');
}

/// <summary>
/// A version of a model: its file (relative to the library, or absolute; empty for a remote model), labels, metrics,
/// and whether it is the active one.
/// </summary>
public sealed class ModelVersionEntry
{
    public string Version { get; set; } = string.Empty;

    public string File { get; set; } = string.Empty;

    /// <summary>Label file (taggers: WD14 selected_tags.csv), relative to the library or absolute.</summary>
    public string? Labels { get; set; }

    /// <summary>
    /// Further files a kind needs, by role, relative to the library or absolute. Embedders: <c>text</c> (the text
    /// encoder ONNX; <see cref="File"/> is the image encoder), <c>vocab</c> (vocab.json) and <c>merges</c> (merges.txt),
    /// or <c>bpe</c> (CLIP's bpe_simple_vocab_16e6.txt.gz) instead of the last two.
    /// </summary>
    public Dictionary<string, string>? Files { get; set; }

    public JsonObject? Metrics { get; set; }

    public DateTimeOffset? DeployedAt { get; set; }

    public bool Active { get; set; }
}
