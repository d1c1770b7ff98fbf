using System.Text.Json;
using System.Text.Json.Nodes;
using Trove.Domain;

namespace Trove.Library;

/// <summary>
/// Reads sidecars of any known schema (upgrading older ones in memory) and validates them; writes the current schema.
/// Schema history: 1 = pre-release draft (tags as plain strings, a single "caption" string, "file"/"size"/"created");
/// 2 = current (tag and caption provenance, collections, crops, relations, reviews).
/// </summary>
public static class SidecarSerializer
{
    public static byte[] Serialize(MediaSidecar sidecar) => LibraryJson.Serialize(sidecar);

    /// <param name="bytes">File content.</param>
    /// <param name="path">Path for messages.</param>
    /// <param name="expectedId">The id the file name implies; null to skip that check.</param>
    public static MediaSidecar Deserialize(byte[] bytes, string path, string? expectedId)
    {
        var schema = LibraryJson.PeekSchema(bytes, path, "sidecar-malformed");
        if (schema > MediaSidecar.CurrentSchema)
        {
            throw LibraryJson.NewerSchema(path, schema, MediaSidecar.CurrentSchema, "sidecar");
        }

        MediaSidecar sidecar;
        if (schema == MediaSidecar.CurrentSchema)
        {
            sidecar = LibraryJson.Deserialize(bytes, path, LibraryJsonContext.Default.MediaSidecar, "sidecar-malformed");
        }
        else if (schema == 1)
        {
            sidecar = UpgradeFromV1(bytes, path);
        }
        else
        {
            throw new FileFormatException("sidecar-invalid", path, $"unknown schema version {schema}");
        }

        Validate(sidecar, path, expectedId);
        return sidecar;
    }

    private static MediaSidecar UpgradeFromV1(byte[] bytes, string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        }
        catch (JsonException ex)
        {
            throw LibraryJson.FromJsonException(ex, path, "sidecar-malformed");
        }

        try
        {
            var created = root["created"]?.GetValue<DateTimeOffset>() ?? DateTimeOffset.UnixEpoch;
            var file = root["file"]?.GetValue<string>() ?? string.Empty;
            var sidecar = new MediaSidecar
            {
                Id = root["id"]?.GetValue<string>() ?? string.Empty,
                Kind = root["kind"]?.GetValue<string>() ?? MediaKinds.Image,
                Revision = 0,
                CreatedAt = created,
                UpdatedAt = created,
                Original = new OriginalInfo
                {
                    Ext = Path.GetExtension(file).TrimStart('.').ToLowerInvariant(),
                    Size = root["size"]?.GetValue<long>() ?? 0,
                    MediaType = MediaTypes.FromExtension(Path.GetExtension(file).TrimStart('.')),
                },
            };
            if (root["tags"] is JsonArray tags)
            {
                foreach (var t in tags)
                {
                    sidecar.Tags.Add(new TagEntry { Name = t?.GetValue<string>() ?? throw new FormatException("a tag is null"), AddedAt = created, Source = TagSources.Import });
                }
            }

            if (root["caption"]?.GetValue<string>() is { Length: > 0 } caption)
            {
                sidecar.Captions.Add(new CaptionEntry { Id = 1, Text = caption, Primary = true, Source = CaptionSources.Manual, CreatedAt = created });
            }

            return sidecar;
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new FileFormatException("sidecar-invalid", path, "schema 1 sidecar has a field of the wrong type: " + ex.Message, inner: ex);
        }
    }

    /// <summary>Checks what JSON cannot: ids, kinds, tag names; normalises tag spelling from hand edits.</summary>
    private static void Validate(MediaSidecar s, string path, string? expectedId)
    {
        void Fail(string detail) => throw new FileFormatException("sidecar-invalid", path, detail);

        // Hand edits can put null inside lists; the serializer only guards the properties themselves.
        foreach (var (name, list) in new (string, System.Collections.IList)[]
                 { ("tags", s.Tags), ("captions", s.Captions), ("collections", s.Collections), ("crops", s.Crops), ("relations", s.Relations), ("reviews", s.Reviews), ("suggestions", s.Suggestions) })
        {
            var nullAt = list.Cast<object?>().ToList().IndexOf(null);
            if (nullAt >= 0)
            {
                Fail($"$.{name}[{nullAt}] is null; remove it or give it a value");
            }
        }

        if (!MediaId.IsValid(s.Id))
        {
            Fail($"\"id\" must be the 64-character lowercase SHA-256 of the original, found '{s.Id}'");
        }

        if (expectedId is not null && s.Id != expectedId)
        {
            Fail($"\"id\" is '{s.Id}' but the file is named for '{expectedId}'");
        }

        if (!MediaKinds.IsKnown(s.Kind))
        {
            Fail($"\"kind\" must be \"image\" or \"mask\", found '{s.Kind}'");
        }

        if (s.Kind == MediaKinds.Mask && (s.Mask is null || !MediaId.IsValid(s.Mask.Source) || string.IsNullOrWhiteSpace(s.Mask.Category)))
        {
            Fail("a mask needs \"mask\": {\"source\": <image id>, \"category\": <name>}");
        }

        if (s.Original.Ext.Any(c => !char.IsAsciiLetterOrDigit(c)))
        {
            Fail($"\"original.ext\" must be letters and digits, found '{s.Original.Ext}'");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < s.Tags.Count; i++)
        {
            if (!TagNames.TryNormalize(s.Tags[i].Name, out var name, out var error))
            {
                Fail($"$.tags[{i}]: {error}");
            }

            s.Tags[i].Name = name;
            if (!seen.Add(name))
            {
                s.Tags.RemoveAt(i--);
            }
        }

        for (var i = 0; i < s.Relations.Count; i++)
        {
            if (!RelationTypes.IsKnown(s.Relations[i].Type))
            {
                Fail($"$.relations[{i}].type: unknown relation '{s.Relations[i].Type}' (similar, duplicate-of, mask-of, derived-from)");
            }
        }

        for (var i = 0; i < s.Crops.Count; i++)
        {
            var c = s.Crops[i];
            if (c.W <= 0 || c.H <= 0 || c.X < 0 || c.Y < 0)
            {
                Fail($"$.crops[{i}]: a crop needs x,y >= 0 and w,h > 0");
            }
        }

        for (var i = 0; i < s.Suggestions.Count; i++)
        {
            var g = s.Suggestions[i];
            if (!TagNames.TryNormalize(g.Tag, out var name, out var error))
            {
                Fail($"$.suggestions[{i}].tag: {error}");
            }

            g.Tag = name;
            if (!SuggestionStatus.IsKnown(g.Status))
            {
                Fail($"$.suggestions[{i}].status: must be pending, approved or rejected, found '{g.Status}'");
            }

            if (double.IsNaN(g.Confidence) || g.Confidence < 0 || g.Confidence > 1)
            {
                Fail($"$.suggestions[{i}].confidence: must be between 0 and 1, found {g.Confidence}");
            }

            // Optional provenance marks (added with the review workflow; absent in older sidecars).
            g.ResolvedFrom = OptionalTag(g.ResolvedFrom, $"$.suggestions[{i}].resolvedFrom");
            g.ImpliedBy = OptionalTag(g.ImpliedBy, $"$.suggestions[{i}].impliedBy");
            g.Category = OptionalTag(g.Category, $"$.suggestions[{i}].category");
            if (g.External is { } external && (external.Trim().Length == 0 || external.Any(char.IsControl)))
            {
                Fail($"$.suggestions[{i}].external: must be the model's label (non-empty, no control characters), found '{external}'");
            }
        }

        string? OptionalTag(string? value, string where)
        {
            if (value is null)
            {
                return null;
            }

            if (!TagNames.TryNormalize(value, out var normalized, out var error))
            {
                Fail($"{where}: {error}");
            }

            return normalized;
        }

        var primaries = s.Captions.FindAll(c => c.Primary);
        for (var i = 1; i < primaries.Count; i++)
        {
            primaries[i].Primary = false;
        }
    }
}
