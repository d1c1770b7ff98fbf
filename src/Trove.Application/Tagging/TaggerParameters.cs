using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>
/// A tagger's settings, read from the <c>parameters</c> object of its entry in the model registry (docs/models.md):
/// <code>
/// { "vocabulary": "danbooru", "unmapped": "create", "priority": 20, "autoSuggest": true,
///   "preprocessing": { "size": 448, "resize": "pad-square", "resample": "bicubic", "background": "#ffffff", "channels": "bgr",
///                      "layout": "nhwc", "scale": "0-255", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5] },
///   "thresholds": { "overall": 0.6, "general": 0.6, "copyright": 0.7, "character": 0.75, "rating": 0 } }
/// </code>
/// Everything is optional; the defaults are WD14's and the source material's.
/// </summary>
/// <param name="Vocabulary">Mapping source (<c>mappings/&lt;source&gt;.json</c>); null: labels are the library's own tags.</param>
/// <param name="Priority">Models are merged in ascending priority (10 before 20): a tag proposed by an earlier model is not taken from a later one.</param>
/// <param name="AutoSuggest">Whether new uploads and imports get suggestions from this model.</param>
public sealed record TaggerParameters(string? Vocabulary, int Priority, bool AutoSuggest, TaggerPreprocessing Preprocessing, TaggerThresholds Thresholds)
{
    public const int DefaultPriority = 100;

    /// <summary>The parameter that sets this model's vocabulary policy (<c>trove models add --vocabulary-policy</c>).</summary>
    public const string UnmappedParameter = "unmapped";

    public static TaggerParameters Default { get; } = new(null, DefaultPriority, true, TaggerPreprocessing.Wd14, TaggerThresholds.Default);

    /// <summary>
    /// This model's policy for labels no mapping names (parameter <c>unmapped</c>), overriding the vocabulary source's
    /// (<c>mappings/&lt;source&gt;.json</c>); null: the source's, or <see cref="UnmappedPolicy.Existing"/>.
    /// </summary>
    public UnmappedPolicy? Unmapped { get; init; }

    /// <summary>
    /// The mappings to use: the vocabulary source's file, or the identity for models over our own tags — with this
    /// model's <see cref="Unmapped"/> policy when it sets one.
    /// </summary>
    public TagMappingSet Mappings(TagMappingService service)
    {
        if (Vocabulary is null)
        {
            return Unmapped is { } own ? new TagMappingSet(string.Empty, own) : TagMappingSet.Identity;
        }

        var set = (service ?? throw new ArgumentNullException(nameof(service))).Read(Vocabulary);
        if (Unmapped is { } policy)
        {
            set.Unmapped = policy;
        }

        return set;
    }

    /// <summary>Which policy applies to this model's unmapped labels, and where it comes from.</summary>
    public VocabularyPolicy PolicyInForce(TagMappingService service)
    {
        if (Unmapped is { } own)
        {
            return new VocabularyPolicy(own, VocabularyPolicy.FromParameters, Vocabulary);
        }

        if (Vocabulary is { } source && File.Exists((service ?? throw new ArgumentNullException(nameof(service))).PathFor(source)))
        {
            return new VocabularyPolicy(service.Read(source).Unmapped, $"{TagMappingService.FolderName}/{source}.json", source);
        }

        return new VocabularyPolicy(UnmappedPolicy.Existing, VocabularyPolicy.FromDefault, Vocabulary);
    }

    /// <param name="parameters">The registry entry's parameters (null = defaults).</param>
    /// <param name="model">The model id, for messages.</param>
    /// <exception cref="TroveUsageException">model-parameters-invalid, naming the field.</exception>
    public static TaggerParameters Parse(JsonObject? parameters, string model)
    {
        if (parameters is null)
        {
            return Default;
        }

        var reader = new Models.ParameterReader(parameters, model, string.Empty);

        try
        {
            string? vocabulary = null;
            if (parameters["vocabulary"] is { } v)
            {
                var text = reader.Text(v, "vocabulary")!;
                if (!TagMappingService.TryNormalizeSource(text, out var source, out var error))
                {
                    throw reader.Bad("vocabulary", "is not usable: " + error);
                }

                vocabulary = source;
            }

            UnmappedPolicy? unmapped = null;
            if (parameters[UnmappedParameter] is { } u)
            {
                var text = reader.Text(u, UnmappedParameter)!;
                if (!TagMappingSet.TryParsePolicy(text, out var policy))
                {
                    throw reader.Bad(UnmappedParameter, $"must be \"create\", \"existing\" or \"ignore\", found \"{text}\"");
                }

                if (policy == UnmappedPolicy.Ignore && vocabulary is null)
                {
                    throw reader.Bad(
                        UnmappedParameter,
                        "is \"ignore\", which drops every label no mapping names, but the model has no \"vocabulary\" whose mappings could name one, so it would never suggest anything; set \"vocabulary\" or use \"existing\" or \"create\"");
                }

                unmapped = policy;
            }

            var priority = reader.Value<int>(parameters["priority"], "priority") ?? DefaultPriority;
            var autoSuggest = reader.Value<bool>(parameters["autoSuggest"], "autoSuggest") ?? true;

            var p = TaggerPreprocessing.Wd14;
            if (parameters["preprocessing"] is JsonObject pre)
            {
                p = p with
                {
                    Size = reader.Value<int>(pre["size"], "preprocessing.size") ?? p.Size,
                    PadToSquare = reader.Text(pre["resize"], "preprocessing.resize") switch
                    {
                        null => p.PadToSquare,
                        "pad-square" => true,
                        "stretch" => false,
                        var other => throw reader.Bad("preprocessing.resize", $"must be \"pad-square\" or \"stretch\", found \"{other}\""),
                    },
                    Resample = reader.Text(pre["resample"], "preprocessing.resample")?.ToLowerInvariant() switch
                    {
                        null => p.Resample,
                        "bicubic" or "cubic" => PixelResample.Cubic,
                        "bilinear" or "linear" => PixelResample.Linear,
                        "lanczos3" or "lanczos" => PixelResample.Lanczos3,
                        var other => throw reader.Bad("preprocessing.resample", $"must be \"bicubic\", \"bilinear\" or \"lanczos3\", found \"{other}\""),
                    },
                    Background = pre["background"] is { } bg ? ParseColour(reader.Text(bg, "preprocessing.background")!) ?? throw reader.Bad("preprocessing.background", "must be a colour like \"#ffffff\"") : p.Background,
                    Channels = reader.Text(pre["channels"], "preprocessing.channels")?.ToLowerInvariant() switch
                    {
                        null => p.Channels,
                        "bgr" => ChannelOrder.Bgr,
                        "rgb" => ChannelOrder.Rgb,
                        var other => throw reader.Bad("preprocessing.channels", $"must be \"rgb\" or \"bgr\", found \"{other}\""),
                    },
                    Layout = reader.Text(pre["layout"], "preprocessing.layout")?.ToLowerInvariant() switch
                    {
                        null => p.Layout,
                        "nhwc" => TensorLayout.Nhwc,
                        "nchw" => TensorLayout.Nchw,
                        var other => throw reader.Bad("preprocessing.layout", $"must be \"nhwc\" or \"nchw\", found \"{other}\""),
                    },
                    Scale = reader.Text(pre["scale"], "preprocessing.scale") switch
                    {
                        null => p.Scale,
                        "0-255" => PixelScale.Byte,
                        "0-1" => PixelScale.Unit,
                        var other => throw reader.Bad("preprocessing.scale", $"must be \"0-255\" or \"0-1\", found \"{other}\""),
                    },
                    Mean = pre["mean"] is JsonArray mean ? mean.Select(x => reader.Value<float>(x, "preprocessing.mean") ?? throw reader.Bad("preprocessing.mean", "must be numbers")).ToList() : p.Mean,
                    Std = pre["std"] is JsonArray std ? std.Select(x => reader.Value<float>(x, "preprocessing.std") ?? throw reader.Bad("preprocessing.std", "must be numbers")).ToList() : p.Std,
                };
            }

            if (p.Validate() is { Count: > 0 } preErrors)
            {
                throw reader.Bad("preprocessing", "is not usable: " + string.Join("; ", preErrors));
            }

            var thresholds = TaggerThresholds.Default;
            if (parameters["thresholds"] is JsonObject th)
            {
                var per = new Dictionary<string, double>(thresholds.PerCategory, StringComparer.Ordinal);
                var overall = thresholds.Overall;
                foreach (var (key, value) in th)
                {
                    var number = reader.Value<double>(value, $"thresholds.{key}") ?? throw reader.Bad($"thresholds.{key}", "must be a number");
                    if (key == "overall")
                    {
                        overall = number;
                    }
                    else
                    {
                        per[TagNames.Normalize(key)] = number;
                    }
                }

                thresholds = new TaggerThresholds { Overall = overall, PerCategory = per };
            }

            if (thresholds.Validate() is { Count: > 0 } thErrors)
            {
                throw reader.Bad("thresholds", "are not usable: " + string.Join("; ", thErrors));
            }

            return new TaggerParameters(vocabulary, priority, autoSuggest, p, thresholds) { Unmapped = unmapped };
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or JsonException)
        {
            throw new TroveUsageException(
                "model-parameters-invalid",
                $"Model '{model}': a tagger parameter has the wrong type ({ex.Message}).",
                "Fix the model's parameters in models.json (see docs/models.md).");
        }
    }

    private static int? ParseColour(string text)
    {
        var hex = text.Trim().TrimStart('#');
        return hex.Length == 6 && int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
