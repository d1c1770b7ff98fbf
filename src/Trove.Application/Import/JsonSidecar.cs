using System.Text.Json;
using Trove.Domain;

namespace Trove.Application.Import;

/// <summary>
/// JSON metadata files ("name.json", "name.jpg.json"). Shapes are recognised by their fields, every field is
/// optional, and a shape that is not recognised contributes nothing without being an error:
/// <list type="bullet">
/// <item>Danbooru post / gallery-dl: "tag_string" (space separated), "tag_string_general|character|copyright|artist|meta",
/// gallery-dl's "tags_&lt;category&gt;" (string or list), "rating" (g/s/q/e), "source", "created_at"/"date",
/// "md5", "score", "id" + gallery-dl's "category" (the site).</item>
/// <item>Gelbooru/Moebooru: "tags" as one space-separated string; e621: "tags" as an object of category → list,
/// "sources", "description".</item>
/// <item>Hydrus: client API file metadata ("metadata": [ { … } ], "tags": { service: { "storage_tags"/"display_tags":
/// { "0": [...] } } }, "known_urls") and the older "service_keys_to_statuses_to_tags"; tags are read as
/// Hydrus tags (namespaces as in <see cref="TagListFile"/>), only current ("0") ones.</item>
/// <item>Caption files: "caption" (string) or "captions" (strings, or objects with "text", the "primary" one first).</item>
/// <item>Image-tagger JSON (seed 002): "tags" as objects {"category", "value"}, "caption", "name", "metadata" {…};
/// photoset JSON (seed 004): "url", "date", "year", "original_filename", "actors" (→ character tags), "tags" (list).</item>
/// <item>Trove's own sidecar: "tags" [{"name"}], "captions" [{"text", "primary"}], "metadata" {…}.</item>
/// <item>exiftool -json output (a one-element array): "Keywords", "Subject", "Title", "Description", "DateTimeOriginal", "Make", "Model".</item>
/// </list>
/// Malformed JSON is reported as a warning with line and column and the file is ignored.
/// </summary>
internal static class JsonSidecar
{
    private static readonly JsonDocumentOptions Options = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
        MaxDepth = 64,
    };

    private static readonly string[] DateFields = ["date_taken", "dateTaken", "taken_at", "date", "created_at", "createdAt", "DateTimeOriginal", "CreateDate"];

    private static readonly string[] SourceFields = ["source", "source_url", "sourceUrl", "url", "post_url", "page_url"];

    private static readonly string[] SourceListFields = ["sources", "known_urls", "urls"];

    public static void Apply(byte[] content, string origin, ImportMetadataBuilder builder)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(TextFiles.Decode(content), Options);
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is { } l ? l + 1 : 0;
            var column = ex.BytePositionInLine is { } c ? c + 1 : 0;
            builder.Warn($"{origin}: invalid JSON at line {line}, column {column}: {FirstSentence(ex.Message)}; the file was ignored");
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() == 1)
            {
                root = root[0];
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            // Hydrus client API: { "metadata": [ { file } ] }.
            if (root.TryGetProperty("metadata", out var files) && files.ValueKind == JsonValueKind.Array && files.GetArrayLength() == 1
                && files[0].ValueKind == JsonValueKind.Object)
            {
                root = files[0];
            }

            ApplyObject(root, origin, builder);
        }
    }

    private static void ApplyObject(JsonElement root, string origin, ImportMetadataBuilder b)
    {
        var danbooru = root.TryGetProperty("tag_string", out _) || root.TryGetProperty("tag_string_general", out _);
        var hydrus = root.TryGetProperty("known_urls", out _) || root.TryGetProperty("service_keys_to_statuses_to_tags", out _)
            || (root.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Object && t.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.Object));

        // Tags.
        foreach (var property in root.EnumerateObject())
        {
            var name = property.Name;
            if (name.StartsWith("tag_string_", StringComparison.Ordinal))
            {
                AddTagValues(property.Value, MapCategory(name["tag_string_".Length..]), origin, b, hydrus: false);
            }
            else if (name.StartsWith("tags_", StringComparison.Ordinal))
            {
                AddTagValues(property.Value, MapCategory(name["tags_".Length..]), origin, b, hydrus: false);
            }
        }

        if (Text(root, "tag_string") is { } tagString)
        {
            AddTagValues(tagString, null, origin, b);
        }

        if (root.TryGetProperty("tags", out var tags))
        {
            ApplyTags(tags, origin, b, hydrus);
        }

        if (root.TryGetProperty("service_keys_to_statuses_to_tags", out var services) && services.ValueKind == JsonValueKind.Object)
        {
            foreach (var service in services.EnumerateObject())
            {
                AddCurrentHydrusTags(service.Value, origin, b);
            }
        }

        foreach (var (field, category) in new[] { ("actors", "character"), ("characters", "character"), ("artists", "artist"), ("artist", "artist"), ("copyrights", "copyright") })
        {
            if (root.TryGetProperty(field, out var value) && value.ValueKind is JsonValueKind.String or JsonValueKind.Array)
            {
                AddTagValues(value, new(category), origin, b, hydrus: false, wholeStrings: true);
            }
        }

        foreach (var field in new[] { "keywords", "Keywords", "Subject" })
        {
            if (root.TryGetProperty(field, out var keywords))
            {
                foreach (var keyword in Strings(keywords, splitCommas: true))
                {
                    b.AddKeyword(keyword, origin);
                }
            }
        }

        // Rating, captions, title, description.
        if (Text(root, "rating") is { } rating)
        {
            b.SetRating(rating, danbooru, origin);
        }

        if (Text(root, "caption") is { } caption)
        {
            b.AddCaption(caption, origin);
        }

        if (root.TryGetProperty("captions", out var captions) && captions.ValueKind == JsonValueKind.Array)
        {
            var items = captions.EnumerateArray().ToList();
            foreach (var item in items.Where(IsPrimary).Concat(items.Where(i => !IsPrimary(i))))
            {
                var text = item.ValueKind == JsonValueKind.String ? item.GetString() : Text(item, "text");
                if (text is not null)
                {
                    b.AddCaption(text, origin);
                }
            }
        }

        b.SetTitle(Text(root, "title") ?? Text(root, "Title") ?? Text(root, "ObjectName"));
        b.SetDescription(Text(root, "description") ?? Text(root, "Description") ?? Text(root, "ImageDescription") ?? Text(root, "Caption-Abstract"), origin);

        // Date.
        foreach (var field in DateFields)
        {
            if (!root.TryGetProperty(field, out var value))
            {
                continue;
            }

            var date = value.ValueKind switch
            {
                JsonValueKind.String => MetadataDates.Parse(value.GetString()),
                JsonValueKind.Number => MetadataDates.FromUnix(value.GetDouble()),
                JsonValueKind.Object when Text(value, "s") is { } s => MetadataDates.Parse(s),
                _ => null,
            };
            if (date is not null)
            {
                b.SetDateTaken(date);
                break;
            }
        }

        // Sources.
        foreach (var field in SourceFields)
        {
            if (Text(root, field) is { } source)
            {
                b.AddSource(source);
            }
        }

        foreach (var field in SourceListFields)
        {
            if (root.TryGetProperty(field, out var list))
            {
                foreach (var source in Strings(list, splitCommas: false))
                {
                    b.AddSource(source);
                }
            }
        }

        // Free-form facts worth keeping.
        if (Text(root, "category") is { } site && root.TryGetProperty("subcategory", out _))
        {
            b.SetExtra("site", site);
        }

        if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number)
        {
            b.SetExtra("post_id", id.GetRawText());
        }

        foreach (var field in new[] { "md5", "score", "original_filename", "year", "name", "Make", "Model" })
        {
            if (Scalar(root, field) is { } value)
            {
                b.SetExtra(field is "Make" or "Model" ? "exif." + field.ToLowerInvariant() : field, value);
            }
        }

        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in metadata.EnumerateObject())
            {
                if (Scalar(property.Value) is { } value)
                {
                    b.SetExtra(property.Name, value);
                }
            }
        }
    }

    private static void ApplyTags(JsonElement tags, string origin, ImportMetadataBuilder b, bool hydrus)
    {
        switch (tags.ValueKind)
        {
            case JsonValueKind.String:
                // Gelbooru/Moebooru: one space-separated string.
                AddTagValues(tags.GetString()!, null, origin, b);
                break;
            case JsonValueKind.Array:
                foreach (var item in tags.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        AddOne(item.GetString()!, null, origin, b, hydrus);
                    }
                    else if (item.ValueKind == JsonValueKind.Object
                        && (Text(item, "name") ?? Text(item, "value") ?? Text(item, "tag") ?? Text(item, "label")) is { } name)
                    {
                        var category = item.TryGetProperty("category", out var c) ? MapCategory(c)
                            : item.TryGetProperty("type", out var ty) ? MapCategory(ty)
                            : new Category(null);
                        if (!category.Drop)
                        {
                            AddOne(name, category.Name, origin, b, hydrus: false);
                        }
                    }
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in tags.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.Array)
                    {
                        // e621: { "general": [...], "artist": [...] }.
                        AddTagValues(property.Value, MapCategory(property.Name), origin, b, hydrus: false);
                    }
                    else if (property.Value.ValueKind == JsonValueKind.Object)
                    {
                        // Hydrus: { service_key: { "storage_tags": { "0": [...] }, "display_tags": {...} } }.
                        var service = property.Value;
                        var found = false;
                        foreach (var kind in new[] { "storage_tags", "display_tags" })
                        {
                            if (service.TryGetProperty(kind, out var statuses))
                            {
                                AddCurrentHydrusTags(statuses, origin, b);
                                found = true;
                            }
                        }

                        if (!found)
                        {
                            AddCurrentHydrusTags(service, origin, b);
                        }
                    }
                }

                break;
        }
    }

    private static void AddCurrentHydrusTags(JsonElement statuses, string origin, ImportMetadataBuilder b)
    {
        if (statuses.ValueKind == JsonValueKind.Object && statuses.TryGetProperty("0", out var current) && current.ValueKind == JsonValueKind.Array)
        {
            foreach (var tag in current.EnumerateArray())
            {
                if (tag.ValueKind == JsonValueKind.String)
                {
                    TagListFile.ApplyHydrusTag(tag.GetString()!, origin, b);
                }
            }
        }
    }

    private static void AddTagValues(string spaceSeparated, string? category, string origin, ImportMetadataBuilder b)
    {
        foreach (var tag in spaceSeparated.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            b.AddTag(tag, category, origin);
        }
    }

    // A string is booru-style (space separated, underscores inside tags) unless wholeStrings; a list holds one tag per item.
    private static void AddTagValues(JsonElement value, Category category, string origin, ImportMetadataBuilder b, bool hydrus, bool wholeStrings = false)
    {
        if (category.Drop)
        {
            return;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            if (wholeStrings)
            {
                AddOne(value.GetString()!, category.Name, origin, b, hydrus);
            }
            else
            {
                AddTagValues(value.GetString()!, category.Name, origin, b);
            }
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String)
                {
                    AddOne(item.GetString()!, category.Name, origin, b, hydrus);
                }
            }
        }
    }

    private static void AddOne(string tag, string? category, string origin, ImportMetadataBuilder b, bool hydrus)
    {
        if (hydrus && category is null)
        {
            TagListFile.ApplyHydrusTag(tag, origin, b);
        }
        else if (category == "rating")
        {
            b.SetRating(tag, danbooruLetters: false, origin);
        }
        else
        {
            b.AddTag(tag, category, origin);
        }
    }

    private readonly record struct Category(string? Name, bool Drop = false);

    private static Category MapCategory(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => MapCategory(value.GetString()!),
        JsonValueKind.Number => MapCategory(value.GetRawText()),
        _ => new Category(null),
    };

    /// <summary>
    /// Booru category names and Danbooru's numbers to Trove categories; "invalid" (e621) drops the tags; other
    /// names (e621 "species", "lore", user categories) are passed on as they are.
    /// </summary>
    private static Category MapCategory(string raw)
    {
        var name = raw.Trim().ToLowerInvariant();
        return name switch
        {
            "" or "general" or "0" or "tag" or "tags" => new(null),
            "artist" or "1" or "creator" => new("artist"),
            "copyright" or "3" or "series" => new("copyright"),
            "character" or "4" or "person" => new("character"),
            "meta" or "5" or "metadata" => new("meta"),
            "rating" or "9" => new("rating"),
            "invalid" => new(null, Drop: true),
            _ => TagNames.TryNormalize(name, out var normalized, out _) ? new(normalized) : new(null),
        };
    }

    private static bool IsPrimary(JsonElement item) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("primary", out var p) && p.ValueKind == JsonValueKind.True;

    private static string? Text(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Scalar(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? Scalar(value) : null;

    private static string? Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    private static IEnumerable<string> Strings(JsonElement value, bool splitCommas) => value.ValueKind switch
    {
        JsonValueKind.String when splitCommas => value.GetString()!.Split([',', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
        JsonValueKind.String => [value.GetString()!],
        JsonValueKind.Array => value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList(),
        JsonValueKind.Number => [value.GetRawText()],
        _ => [],
    };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
