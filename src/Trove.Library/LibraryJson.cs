using System.Text.Json;
using System.Text.Json.Serialization;
using Trove.Domain;

namespace Trove.Library;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(MediaSidecar))]
[JsonSerializable(typeof(Vocabulary))]
[JsonSerializable(typeof(CollectionDefinition))]
[JsonSerializable(typeof(LibraryManifest))]
[JsonSerializable(typeof(Trove.Domain.Models.ModelCatalog))]
[JsonSerializable(typeof(Trove.Domain.Models.ProviderCatalog))]
[JsonSerializable(typeof(TagMappingFile))]
[JsonSerializable(typeof(Trove.Domain.Faces.Person))]
internal sealed partial class LibraryJsonContext : JsonSerializerContext;

/// <summary>Reads and writes the library's JSON files, turning any parse error into file:line:column.</summary>
public static class LibraryJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true };

    public static byte[] Serialize(MediaSidecar sidecar) => Bytes(sidecar, LibraryJsonContext.Default.MediaSidecar);

    public static byte[] Serialize(Vocabulary vocabulary) => Bytes(vocabulary, LibraryJsonContext.Default.Vocabulary);

    public static byte[] Serialize(CollectionDefinition collection) => Bytes(collection, LibraryJsonContext.Default.CollectionDefinition);

    public static byte[] Serialize(LibraryManifest manifest) => Bytes(manifest, LibraryJsonContext.Default.LibraryManifest);

    public static byte[] Serialize(Trove.Domain.Models.ModelCatalog catalog) => Bytes(catalog, LibraryJsonContext.Default.ModelCatalog);

    public static byte[] Serialize(Trove.Domain.Models.ProviderCatalog catalog) => Bytes(catalog, LibraryJsonContext.Default.ProviderCatalog);

    public static byte[] Serialize(TagMappingFile mappings) => Bytes(mappings, LibraryJsonContext.Default.TagMappingFile);

    /// <summary>Reads a <c>mappings/&lt;source&gt;.json</c> file: schema checked; its rules are checked by the caller.</summary>
    public static TagMappingFile ReadMappings(byte[] bytes, string path)
    {
        var schema = PeekSchema(bytes, path, "mappings-malformed");
        if (schema > TagMappingFile.CurrentSchema)
        {
            throw NewerSchema(path, schema, TagMappingFile.CurrentSchema, "mappings");
        }

        return Deserialize(bytes, path, LibraryJsonContext.Default.TagMappingFile, "mappings-malformed");
    }

    /// <summary>Reads models.json: schema checked, then every model and version validated (errors name the model).</summary>
    public static Trove.Domain.Models.ModelCatalog ReadModels(byte[] bytes, string path) =>
        ReadValidated(bytes, path, LibraryJsonContext.Default.ModelCatalog, "models", "model registry", Trove.Domain.Models.ModelCatalog.CurrentSchema, c => c.Validate(), "trove models");

    /// <summary>Reads providers.json: schema checked, then every provider validated (errors name the provider).</summary>
    public static Trove.Domain.Models.ProviderCatalog ReadProviders(byte[] bytes, string path) =>
        ReadValidated(bytes, path, LibraryJsonContext.Default.ProviderCatalog, "providers", "provider list", Trove.Domain.Models.ProviderCatalog.CurrentSchema, c => c.Validate(), "trove providers");

    /// <summary>
    /// A registry file: its schema checked (a newer one is refused), read (<c>{code}-malformed</c> with line and column),
    /// then validated as a whole (<c>{code}-invalid</c> listing every problem, with the command that edits it).
    /// </summary>
    private static T ReadValidated<T>(byte[] bytes, string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, string code, string what, int currentSchema, Func<T, IReadOnlyList<string>> validate, string command)
    {
        var schema = PeekSchema(bytes, path, code + "-malformed");
        if (schema > currentSchema)
        {
            throw NewerSchema(path, schema, currentSchema, what);
        }

        var value = Deserialize(bytes, path, info, code + "-malformed");
        var errors = validate(value);
        if (errors.Count > 0)
        {
            throw new FileFormatException(code + "-invalid", path, string.Join("; ", errors), hint: $"Fix {Path.GetFileName(path)} in a text editor, or change it with '{command}'.");
        }

        return value;
    }

    public static LibraryManifest ReadManifest(byte[] bytes, string path) =>
        Deserialize(bytes, path, LibraryJsonContext.Default.LibraryManifest, "manifest-malformed");

    public static Vocabulary ReadVocabulary(byte[] bytes, string path)
    {
        var schema = PeekSchema(bytes, path, "vocabulary-malformed");
        if (schema > Vocabulary.CurrentSchema)
        {
            throw NewerSchema(path, schema, Vocabulary.CurrentSchema, "vocabulary");
        }

        var vocabulary = Deserialize(bytes, path, LibraryJsonContext.Default.Vocabulary, "vocabulary-malformed");
        var errors = vocabulary.Validate();
        if (errors.Count > 0)
        {
            throw new FileFormatException("vocabulary-invalid", path, string.Join("; ", errors));
        }

        return vocabulary;
    }

    public static byte[] Serialize(Trove.Domain.Faces.Person person) => Bytes(person, LibraryJsonContext.Default.Person);

    /// <summary>Reads people/ID.json: schema checked, the person validated, the id matched with the file name.</summary>
    public static Trove.Domain.Faces.Person ReadPerson(byte[] bytes, string path)
    {
        var person = ReadValidated(bytes, path, LibraryJsonContext.Default.Person, "person", "person", Trove.Domain.Faces.Person.CurrentSchema, p => p.Validate(), "trove people");
        if (!string.Equals(person.Id + ".json", Path.GetFileName(path), StringComparison.Ordinal))
        {
            throw new FileFormatException("person-invalid", path, $"\"id\" is '{person.Id}' but the file is named '{Path.GetFileName(path)}'");
        }

        return person;
    }

    public static CollectionDefinition ReadCollection(byte[] bytes, string path)
    {
        var schema = PeekSchema(bytes, path, "collection-malformed");
        if (schema > CollectionDefinition.CurrentSchema)
        {
            throw NewerSchema(path, schema, CollectionDefinition.CurrentSchema, "collection");
        }

        var c = Deserialize(bytes, path, LibraryJsonContext.Default.CollectionDefinition, "collection-malformed");
        if (string.IsNullOrWhiteSpace(c.Id) || string.IsNullOrWhiteSpace(c.Name))
        {
            throw new FileFormatException("collection-invalid", path, "a collection needs an \"id\" and a \"name\"");
        }

        if (!string.Equals(c.Id + ".json", Path.GetFileName(path), StringComparison.Ordinal))
        {
            throw new FileFormatException("collection-invalid", path, $"\"id\" is '{c.Id}' but the file is named '{Path.GetFileName(path)}'");
        }

        return c;
    }

    internal static T Deserialize<T>(byte[] bytes, string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, string code)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, info)
                ?? throw new FileFormatException(code, path, "the file contains 'null' instead of an object");
        }
        catch (JsonException ex)
        {
            throw FromJsonException(ex, path, code);
        }
    }

    internal static FileFormatException FromJsonException(JsonException ex, string path, string code)
    {
        var detail = ex.Message;
        // Strip the serializer's own "Path: ... | LineNumber: ..." suffix; we print position ourselves.
        // Reader (syntax) errors have no "Path:" part, only " LineNumber: ...".
        var cut = detail.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = detail.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        }

        if (cut > 0)
        {
            detail = detail[..cut].TrimEnd();
        }

        if (ex.Path is { Length: > 1 } jsonPath)
        {
            detail += $" (at {jsonPath})";
        }

        return new FileFormatException(code, path, detail, ex.LineNumber + 1, ex.BytePositionInLine + 1, inner: ex);
    }

    /// <summary>Reads the top-level "schema" number (1 when absent) and proves the file is well-formed JSON.</summary>
    internal static int PeekSchema(byte[] bytes, string path, string code)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new FileFormatException(code, path, "expected a JSON object", reader.TokenType == JsonTokenType.None ? null : 1, 1);
            }

            var schema = 1;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    var isSchema = reader.ValueTextEquals("schema"u8);
                    reader.Read();
                    if (isSchema)
                    {
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out schema))
                        {
                            throw new FileFormatException(code, path, "\"schema\" must be a whole number", null, null);
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }

            return schema;
        }
        catch (JsonException ex)
        {
            throw FromJsonException(ex, path, code);
        }
    }

    internal static FileFormatException NewerSchema(string path, int found, int supported, string what) =>
        new(
            "newer-schema",
            path,
            $"this {what} file has schema version {found}, but this Trove reads up to version {supported}",
            hint: "Upgrade Trove to read it; the file has been left untouched.");

    private static byte[] Bytes<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        using var buffer = new MemoryStream(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            JsonSerializer.Serialize(writer, value, info);
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
