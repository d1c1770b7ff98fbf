using System.Globalization;
using Trove.Domain;
using Trove.Domain.Enrichment;
using Trove.Domain.Faces;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Trove.Library.Enrichment;

/// <summary>
/// Reads <c>sources.yaml</c> (docs/enrichment.md) in the source material's shape: <c>global</c> (max_faces_per_performer
/// or max_faces_per_person, default_rate_limit, quality_filters), <c>stash_boxes</c> and <c>reference_sites</c>, each a
/// map of source name → settings. Every mistake is a <see cref="FileFormatException"/> with the file, line and column
/// and the setting's name; keys are refused outright (only the name of an environment variable is accepted).
/// </summary>
public static class SourcesFile
{
    public const string FileName = "sources.yaml";

    private static readonly string[] TopKeys = ["global", "stash_boxes", "reference_sites"];
    private static readonly string[] GlobalKeys = ["max_faces_per_performer", "max_faces_per_person", "default_rate_limit", "quality_filters"];
    private static readonly string[] QualityKeys = ["min_face_size", "min_image_size", "min_detection_confidence", "max_face_angle", "prefer_single_face"];
    private static readonly string[] SourceKeys = ["enabled", "url", "rate_limit", "max_faces", "priority", "trust_level", "gender_filter", "api_key_env", "needs_flaresolverr"];

    /// <summary>The file's settings, or <see cref="EnrichmentSettings.Empty"/> when there is no file.</summary>
    public static EnrichmentSettings Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return File.Exists(path) ? Parse(File.ReadAllText(path), path) : EnrichmentSettings.Empty;
    }

    public static EnrichmentSettings Parse(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new FileFormatException("sources-invalid", path, $"not valid YAML: {ex.Message}", ex.Start.Line, ex.Start.Column, inner: ex);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return EnrichmentSettings.Empty;
        }

        var reader = new Reader(path);
        var root = reader.Map(stream.Documents[0].RootNode, "the file");
        reader.OnlyKeys(root, TopKeys, "the top level");
        var globals = EnrichmentGlobals.Default;
        if (Reader.Child(root, "global") is { } globalNode)
        {
            var g = reader.Map(globalNode, "global");
            reader.OnlyKeys(g, GlobalKeys, "global");
            var q = globals.Quality;
            var quality = q;
            var prefer = globals.PreferSingleFace;
            if (Reader.Child(g, "quality_filters") is { } qualityNode)
            {
                var qm = reader.Map(qualityNode, "global.quality_filters");
                reader.OnlyKeys(qm, QualityKeys, "global.quality_filters");
                quality = new FaceQualityRules(
                    reader.Int(qm, "min_face_size", q.MinFaceSize, 1, 10_000),
                    reader.Int(qm, "min_image_size", q.MinImageSize, 1, 100_000),
                    (float)reader.Number(qm, "min_detection_confidence", q.MinConfidence, 0, 1),
                    reader.Number(qm, "max_face_angle", q.MaxAngle, 0, 90));
                prefer = reader.Bool(qm, "prefer_single_face", prefer);
            }

            var perPerson = Reader.Child(g, "max_faces_per_person") is not null ? "max_faces_per_person" : "max_faces_per_performer";
            globals = new EnrichmentGlobals(
                reader.Int(g, perPerson, globals.MaxFacesPerPerson, 1, 10_000),
                reader.Int(g, "default_rate_limit", globals.DefaultRateLimit, 1, 100_000),
                quality,
                prefer);
        }

        var sources = new List<EnrichmentSource>();
        foreach (var (section, type, trust) in new[] { ("stash_boxes", SourceTypes.StashBox, TrustLevels.High), ("reference_sites", SourceTypes.ReferenceSite, TrustLevels.Medium) })
        {
            if (Reader.Child(root, section) is not { } sectionNode || sectionNode is YamlScalarNode { Value: null or "" })
            {
                continue;
            }

            foreach (var (key, value) in reader.Map(sectionNode, section).Children)
            {
                var name = ((YamlScalarNode)key).Value ?? string.Empty;
                if (name.Length is 0 or > 64 || name.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.')))
                {
                    throw reader.Error(key, $"'{name}' is not a source name: lowercase letters, digits, '-', '_' and '.', at most 64");
                }

                if (sources.Any(s => s.Name == name))
                {
                    throw reader.Error(key, $"source '{name}' is defined twice");
                }

                var where = $"{section}.{name}";
                var m = value is YamlScalarNode { Value: null or "" } ? new YamlMappingNode() : reader.Map(value, where);
                if (Reader.Child(m, "api_key") is not null || Reader.Child(m, "apikey") is not null || Reader.Child(m, "key") is not null)
                {
                    throw reader.Error(m, $"{where} holds a key; keys never go in files. Put it in an environment variable and name it: api_key_env: STASHDB_API_KEY");
                }

                reader.OnlyKeys(m, SourceKeys, where);
                var url = reader.Text(m, "url");
                Uri? uri = null;
                if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out uri) || uri.Scheme is not ("http" or "https")))
                {
                    throw reader.Error(Reader.Child(m, "url")!, $"{where}.url '{url}' is not an http(s) address");
                }

                if (type == SourceTypes.StashBox && uri is null)
                {
                    throw reader.Error(m, $"{where} has no url (a stash-box's GraphQL endpoint, e.g. https://stashdb.org/graphql)");
                }

                var trustLevel = reader.Text(m, "trust_level") ?? trust;
                if (!TrustLevels.All.Contains(trustLevel))
                {
                    throw reader.Error(Reader.Child(m, "trust_level")!, $"{where}.trust_level is '{trustLevel}'; use high, medium or low");
                }

                var gender = reader.Text(m, "gender_filter");
                var env = reader.Text(m, "api_key_env");
                if (env is not null && (env.Length == 0 || env.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')) || char.IsAsciiDigit(env[0])))
                {
                    throw reader.Error(Reader.Child(m, "api_key_env")!, $"{where}.api_key_env '{env}' is not an environment variable name (letters, digits, '_'); it names the variable that holds the key, never the key");
                }

                sources.Add(new EnrichmentSource(
                    name,
                    type,
                    reader.Bool(m, "enabled", true),
                    uri,
                    reader.Int(m, "rate_limit", globals.DefaultRateLimit, 1, 100_000),
                    reader.Int(m, "max_faces", 5, 1, 10_000),
                    reader.Int(m, "priority", 10, int.MinValue, int.MaxValue),
                    trustLevel,
                    string.IsNullOrWhiteSpace(gender) ? null : gender.Trim(),
                    env));
            }
        }

        return new EnrichmentSettings(globals, sources);
    }

    private sealed class Reader(string path)
    {
        public FileFormatException Error(YamlNode node, string detail) =>
            new("sources-invalid", path, detail, node.Start.Line, node.Start.Column, "Fix sources.yaml (docs/enrichment.md), then run the command again.");

        public YamlMappingNode Map(YamlNode node, string where) =>
            node as YamlMappingNode ?? throw Error(node, $"{where} must be a map of settings (key: value lines)");

        public static YamlNode? Child(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        public void OnlyKeys(YamlMappingNode map, string[] allowed, string where)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? key.ToString();
                if (!allowed.Contains(name))
                {
                    throw Error(key, $"'{name}' is not a setting of {where}; known: {string.Join(", ", allowed)}");
                }
            }
        }

        public string? Text(YamlMappingNode map, string key) => Child(map, key) switch
        {
            null => null,
            YamlScalarNode s => s.Value,
            var other => throw Error(other, $"'{key}' must be a single value"),
        };

        public int Int(YamlMappingNode map, string key, int fallback, int min, int max)
        {
            if (Text(map, key) is not { } text)
            {
                return fallback;
            }

            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                ? v
                : throw Error(Child(map, key)!, $"'{key}' is '{text}'; a whole number from {min} to {max} is expected");
        }

        public double Number(YamlMappingNode map, string key, double fallback, double min, double max)
        {
            if (Text(map, key) is not { } text)
            {
                return fallback;
            }

            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                ? v
                : throw Error(Child(map, key)!, $"'{key}' is '{text}'; a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)} is expected");
        }

        public bool Bool(YamlMappingNode map, string key, bool fallback) => Text(map, key)?.ToLowerInvariant() switch
        {
            null => fallback,
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            var other => throw Error(Child(map, key)!, $"'{key}' is '{other}'; use true or false"),
        };
    }
}
