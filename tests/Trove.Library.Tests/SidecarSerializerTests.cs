using System.Text;
using Trove.Domain;

namespace Trove.Library.Tests;

public class SidecarSerializerTests
{
    private const string Path = "media/ab/cd/x.json";
    private static readonly string Id = TestIds.WithPrefix("abcd");
    private static readonly string OtherId = TestIds.Of('e');

    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly DateTimeOffset T1 = new(2025, 6, 7, 8, 9, 10, TimeSpan.FromHours(2));

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static MediaSidecar FullSidecar() => new()
    {
        Id = Id,
        Revision = 42,
        Kind = MediaKinds.Mask,
        Original = new OriginalInfo { Ext = "png", MediaType = "image/png", Size = 12345, OriginalName = "Mask Ä.png", Width = 640, Height = 480 },
        Mask = new MaskInfo { Source = OtherId, Category = "hair" },
        Uploader = "alice",
        CreatedAt = T0,
        UpdatedAt = T1,
        Deleted = new DeletionInfo { At = T1, By = "bob" },
        Tags =
        [
            new TagEntry { Name = "long_hair", AddedAt = T0, AddedBy = "alice", Source = TagSources.Manual },
            new TagEntry { Name = "hair", AddedAt = T1, Source = TagSources.Implication, Via = "long_hair" },
        ],
        Captions =
        [
            new CaptionEntry { Id = 1, Text = "A mask.", Primary = true, Source = CaptionSources.Manual, CreatedAt = T0, CreatedBy = "alice", UpdatedAt = T1 },
            new CaptionEntry { Id = 2, Text = "generated \"quoted\" text\nwith newline", Source = "model", Model = "blip@2", CreatedAt = T1 },
        ],
        Collections = [new CollectionMembership { Collection = "0123456789ab", Position = 1000, AddedAt = T0, AddedBy = "carol" }],
        Crops = [new CropEntry { Name = "face", X = 1, Y = 2, W = 30, H = 40, CreatedAt = T0, CreatedBy = "dave" }],
        Relations = [new RelationEntry { Type = RelationTypes.MaskOf, Target = OtherId, CreatedAt = T0, CreatedBy = "eve" }],
        Reviews = [new ReviewDecision { Tag = "blue_eyes", Decision = "rejected", Model = "tagger@1", By = "frank", At = T1 }],
        Metadata = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["source"] = "https://example.com/x", ["title"] = "Ttl" },
    };

    private static string V2(string extraFields = "") =>
        $$"""
        {
          "schema": 2,
          "id": "{{Id}}",
          "kind": "image",
          "original": { "ext": "jpg", "mediaType": "image/jpeg", "size": 10 }{{extraFields}}
        }
        """;

    [Fact]
    public void Round_trip_of_a_fully_populated_sidecar_keeps_every_field()
    {
        var original = FullSidecar();
        var bytes = SidecarSerializer.Serialize(original);
        var read = SidecarSerializer.Deserialize(bytes, Path, Id);

        Assert.Equal(MediaSidecar.CurrentSchema, read.Schema);
        Assert.Equal(Id, read.Id);
        Assert.Equal(42, read.Revision);
        Assert.Equal(MediaKinds.Mask, read.Kind);
        Assert.Equal("png", read.Original.Ext);
        Assert.Equal("image/png", read.Original.MediaType);
        Assert.Equal(12345, read.Original.Size);
        Assert.Equal("Mask Ä.png", read.Original.OriginalName);
        Assert.Equal(640, read.Original.Width);
        Assert.Equal(480, read.Original.Height);
        Assert.NotNull(read.Mask);
        Assert.Equal(OtherId, read.Mask.Source);
        Assert.Equal("hair", read.Mask.Category);
        Assert.Equal("alice", read.Uploader);
        Assert.Equal(T0, read.CreatedAt);
        Assert.Equal(T1, read.UpdatedAt);
        Assert.Equal(T1.Offset, read.UpdatedAt.Offset);
        Assert.NotNull(read.Deleted);
        Assert.Equal(T1, read.Deleted.At);
        Assert.Equal("bob", read.Deleted.By);

        Assert.Collection(
            read.Tags,
            t =>
            {
                Assert.Equal("long_hair", t.Name);
                Assert.Equal(T0, t.AddedAt);
                Assert.Equal("alice", t.AddedBy);
                Assert.Equal(TagSources.Manual, t.Source);
                Assert.Null(t.Via);
            },
            t =>
            {
                Assert.Equal("hair", t.Name);
                Assert.Equal(TagSources.Implication, t.Source);
                Assert.Equal("long_hair", t.Via);
                Assert.Null(t.AddedBy);
            });
        Assert.Collection(
            read.Captions,
            c =>
            {
                Assert.Equal(1, c.Id);
                Assert.Equal("A mask.", c.Text);
                Assert.True(c.Primary);
                Assert.Equal("alice", c.CreatedBy);
                Assert.Equal(T1, c.UpdatedAt);
            },
            c =>
            {
                Assert.Equal(2, c.Id);
                Assert.Equal("generated \"quoted\" text\nwith newline", c.Text);
                Assert.False(c.Primary);
                Assert.Equal("model", c.Source);
                Assert.Equal("blip@2", c.Model);
                Assert.Null(c.UpdatedAt);
            });
        var coll = Assert.Single(read.Collections);
        Assert.Equal(("0123456789ab", 1000L, T0, "carol"), (coll.Collection, coll.Position, coll.AddedAt, coll.AddedBy));
        var crop = Assert.Single(read.Crops);
        Assert.Equal(("face", 1, 2, 30, 40, "dave"), (crop.Name, crop.X, crop.Y, crop.W, crop.H, crop.CreatedBy));
        var rel = Assert.Single(read.Relations);
        Assert.Equal((RelationTypes.MaskOf, OtherId, "eve"), (rel.Type, rel.Target, rel.CreatedBy));
        var review = Assert.Single(read.Reviews);
        Assert.Equal(("blue_eyes", "rejected", "tagger@1", "frank", T1), (review.Tag, review.Decision, review.Model, review.By, review.At));
        Assert.Equal(["source", "title"], read.Metadata.Keys);
        Assert.Equal("https://example.com/x", read.Metadata["source"]);

        // Writing what was read gives the same bytes.
        Assert.Equal(bytes, SidecarSerializer.Serialize(read));
    }

    [Fact]
    public void Serialize_writes_indented_camel_case_json_without_nulls_and_ends_with_a_newline()
    {
        var s = new MediaSidecar { Id = Id, Original = new OriginalInfo { Ext = "jpg" } };
        var text = Encoding.UTF8.GetString(SidecarSerializer.Serialize(s));

        Assert.StartsWith("{\n  \"schema\": 2,", text, StringComparison.Ordinal);
        Assert.Contains("\"mediaType\": \"application/octet-stream\"", text);
        Assert.DoesNotContain("null", text);
        Assert.DoesNotContain("\"uploader\"", text);
        Assert.DoesNotContain("\"mask\"", text);
        Assert.EndsWith("}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_accepts_comments_trailing_commas_and_unknown_fields()
    {
        var json = $$"""
            {
              // hand-edited
              "schema": 2,
              "id": "{{Id}}",
              "futureField": { "nested": [1, 2, 3] },
              "tags": [ { "name": "a" }, ],
            }
            """;
        var s = SidecarSerializer.Deserialize(Utf8(json), Path, Id);
        Assert.Equal("a", Assert.Single(s.Tags).Name);
    }

    [Fact]
    public void Malformed_json_reports_one_based_line_and_column()
    {
        // Line 4 is missing the comma after the id; the reader notices at the quote opening "kind" on line 5, column 3.
        var json = "{\n  \"schema\": 2,\n  \"revision\": 1,\n  \"id\": \"" + Id + "\"\n  \"kind\": \"image\"\n}\n";

        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-malformed", ex.Code);
        Assert.Equal(Path, ex.FilePath);
        Assert.Equal(5, ex.Line);
        Assert.Equal(3, ex.Column);
        Assert.StartsWith($"{Path}:5:3: ", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", ex.Message);
        Assert.DoesNotContain("BytePositionInLine", ex.Message);
        Assert.Contains("invalid after a value", ex.Detail);
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(ex.InnerException);
        Assert.NotNull(ex.Hint);
    }

    [Fact]
    public void Malformed_json_on_the_first_line_has_column_counted_from_one()
    {
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8("{\"schema\": 2,,}"), Path, Id));
        Assert.Equal(1, ex.Line);
        Assert.Equal(14, ex.Column);
    }

    [Fact]
    public void Truncated_json_is_malformed_with_a_position()
    {
        var json = "{\n  \"schema\": 2,\n  \"id\": \"" + Id + "\",\n  \"tags\": [\n";
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-malformed", ex.Code);
        Assert.NotNull(ex.Line);
        Assert.NotNull(ex.Column);
    }

    [Fact]
    public void Wrong_typed_field_reports_its_line_and_json_path()
    {
        var json = "{\n  \"schema\": 2,\n  \"id\": \"" + Id + "\",\n  \"kind\": \"image\",\n  \"revision\": \"many\"\n}\n";

        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-malformed", ex.Code);
        Assert.Equal(5, ex.Line);
        Assert.NotNull(ex.Column);
        Assert.Contains("(at $.revision)", ex.Detail);
        Assert.StartsWith($"{Path}:5:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_typed_nested_field_reports_its_line()
    {
        var json = V2(",\n  \"crops\": [\n    { \"name\": \"a\", \"x\": 1, \"y\": 1, \"w\": true, \"h\": 1 }\n  ]");
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-malformed", ex.Code);
        Assert.Equal(7, ex.Line);
        Assert.Contains("$.crops[0].w", ex.Detail);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(99)]
    public void Newer_schema_is_refused_without_parsing_the_rest(int schema)
    {
        // The rest of the file uses fields this version cannot know about; it must not be read at all.
        var json = $$"""{ "schema": {{schema}}, "id": 5, "tags": "whatever" }""";
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("newer-schema", ex.Code);
        Assert.Contains($"schema version {schema}", ex.Message);
        Assert.Contains($"up to version {MediaSidecar.CurrentSchema}", ex.Message);
        Assert.Null(ex.Line);
        Assert.Contains("Upgrade Trove", ex.Hint);
    }

    [Fact]
    public void Schema_that_is_not_a_whole_number_is_malformed()
    {
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8("""{ "schema": "2" }"""), Path, Id));
        Assert.Equal("sidecar-malformed", ex.Code);
        Assert.Contains("\"schema\" must be a whole number", ex.Message);

        var fractional = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8("""{ "schema": 2.5 }"""), Path, Id));
        Assert.Equal("sidecar-malformed", fractional.Code);
    }

    [Fact]
    public void Unknown_old_schema_is_invalid()
    {
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8("""{ "schema": 0 }"""), Path, Id));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains("unknown schema version 0", ex.Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    public void Top_level_value_that_is_not_an_object_is_malformed(string json)
    {
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-malformed", ex.Code);
        Assert.Contains("expected a JSON object", ex.Message);
        Assert.Equal(1, ex.Line);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n")]
    public void Empty_file_is_malformed(string json)
    {
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-malformed", ex.Code);
    }

    [Fact]
    public void Schema_1_sidecar_is_upgraded()
    {
        var json = $$"""
            {
              "schema": 1,
              "id": "{{Id}}",
              "kind": "image",
              "file": "x.jpg",
              "size": 2048,
              "tags": ["Long Hair", "b"],
              "caption": "text",
              "created": "2025-01-01T00:00:00Z"
            }
            """;
        var s = SidecarSerializer.Deserialize(Utf8(json), Path, Id);
        var created = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.Equal(MediaSidecar.CurrentSchema, s.Schema);
        Assert.Equal(Id, s.Id);
        Assert.Equal(MediaKinds.Image, s.Kind);
        Assert.Equal(0, s.Revision);
        Assert.Equal(created, s.CreatedAt);
        Assert.Equal(created, s.UpdatedAt);
        Assert.Equal("jpg", s.Original.Ext);
        Assert.Equal("image/jpeg", s.Original.MediaType);
        Assert.Equal(2048, s.Original.Size);
        Assert.Equal(["long_hair", "b"], s.Tags.Select(t => t.Name));
        Assert.All(s.Tags, t =>
        {
            Assert.Equal(TagSources.Import, t.Source);
            Assert.Equal(created, t.AddedAt);
        });
        var caption = Assert.Single(s.Captions);
        Assert.Equal("text", caption.Text);
        Assert.True(caption.Primary);
        Assert.Equal(1, caption.Id);
        Assert.Same(caption, s.PrimaryCaption);

        // The upgraded sidecar is written as the current schema and reads back the same.
        var again = SidecarSerializer.Deserialize(SidecarSerializer.Serialize(s), Path, Id);
        Assert.Equal(MediaSidecar.CurrentSchema, again.Schema);
        Assert.Equal(["long_hair", "b"], again.Tags.Select(t => t.Name));
    }

    [Fact]
    public void Sidecar_without_schema_is_read_as_schema_1()
    {
        var json = $$"""{ "id": "{{Id}}", "file": "Photo.JPEG", "tags": ["a", "A"] }""";
        var s = SidecarSerializer.Deserialize(Utf8(json), Path, Id);

        Assert.Equal("jpeg", s.Original.Ext);
        Assert.Equal("image/jpeg", s.Original.MediaType);
        Assert.Equal(MediaKinds.Image, s.Kind);
        Assert.Equal(DateTimeOffset.UnixEpoch, s.CreatedAt);
        Assert.Equal(["a"], s.Tags.Select(t => t.Name));
        Assert.Empty(s.Captions);
    }

    [Fact]
    public void Schema_1_with_a_wrong_typed_field_is_invalid()
    {
        var json = $$"""{ "schema": 1, "id": "{{Id}}", "size": "big" }""";
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains("wrong type", ex.Message);
    }

    [Fact]
    public void Schema_1_with_malformed_json_reports_position()
    {
        var json = "{\n  \"schema\": 1,\n  \"id\": \"" + Id + "\",\n  \"tags\": [\"a\" \"b\"]\n}";
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-malformed", ex.Code);
        Assert.Equal(4, ex.Line);
        Assert.Equal(16, ex.Column);
    }

    [Fact]
    public void Id_that_does_not_match_the_file_name_is_invalid()
    {
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(V2()), Path, OtherId));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains($"\"id\" is '{Id}' but the file is named for '{OtherId}'", ex.Message);
        Assert.StartsWith(Path + ": ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_expected_id_skips_the_name_check()
    {
        Assert.Equal(Id, SidecarSerializer.Deserialize(Utf8(V2()), Path, expectedId: null).Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("ABCD000000000000000000000000000000000000000000000000000000000000")]
    public void Id_that_is_not_a_sha256_is_invalid(string id)
    {
        var json = V2().Replace(Id, id, StringComparison.Ordinal);
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, null));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains("64-character lowercase SHA-256", ex.Message);
    }

    [Fact]
    public void Unknown_kind_is_invalid()
    {
        var json = V2().Replace("\"kind\": \"image\"", "\"kind\": \"video\"", StringComparison.Ordinal);
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains("found 'video'", ex.Message);
    }

    [Fact]
    public void Mask_without_mask_info_is_invalid()
    {
        var json = V2().Replace("\"kind\": \"image\"", "\"kind\": \"mask\"", StringComparison.Ordinal);
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains("a mask needs \"mask\"", ex.Message);
    }

    [Theory]
    [InlineData("\"source\": \"nothex\", \"category\": \"hair\"")]
    [InlineData("\"source\": \"SOURCE\", \"category\": \" \"")]
    public void Mask_with_incomplete_mask_info_is_invalid(string maskFields)
    {
        var json = V2(",\n  \"mask\": { " + maskFields.Replace("SOURCE", OtherId, StringComparison.Ordinal) + " }")
            .Replace("\"kind\": \"image\"", "\"kind\": \"mask\"", StringComparison.Ordinal);
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-invalid", ex.Code);
    }

    [Fact]
    public void Mask_with_mask_info_is_valid()
    {
        var json = V2(",\n  \"mask\": { \"source\": \"" + OtherId + "\", \"category\": \"hair\" }")
            .Replace("\"kind\": \"image\"", "\"kind\": \"mask\"", StringComparison.Ordinal);
        var s = SidecarSerializer.Deserialize(Utf8(json), Path, Id);
        Assert.Equal(MediaKinds.Mask, s.Kind);
        Assert.Equal(OtherId, s.Mask!.Source);
    }

    [Fact]
    public void Extension_with_non_alphanumeric_characters_is_invalid()
    {
        var json = V2().Replace("\"ext\": \"jpg\"", "\"ext\": \"../x\"", StringComparison.Ordinal);
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains("\"original.ext\"", ex.Message);
    }

    [Fact]
    public void Tag_names_from_hand_edits_are_normalised_and_deduplicated()
    {
        var json = V2(",\n  \"tags\": [ { \"name\": \"Long Hair\" }, { \"name\": \"b\" }, { \"name\": \"long_hair\", \"source\": \"import\" } ]");
        var s = SidecarSerializer.Deserialize(Utf8(json), Path, Id);
        Assert.Equal(["long_hair", "b"], s.Tags.Select(t => t.Name));
        Assert.Equal(TagSources.Manual, s.Tags[0].Source);
        Assert.True(s.HasTag("long_hair"));
    }

    [Fact]
    public void Invalid_tag_name_is_reported_with_its_index()
    {
        var json = V2(",\n  \"tags\": [ { \"name\": \"ok\" }, { \"name\": \"width:5\" } ]");
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains("$.tags[1]:", ex.Message);
        Assert.Contains("width:", ex.Message);
    }

    [Fact]
    public void Unknown_relation_type_is_invalid()
    {
        var json = V2(",\n  \"relations\": [ { \"type\": \"sibling\", \"target\": \"" + OtherId + "\" } ]");
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains("$.relations[0].type", ex.Message);
        Assert.Contains("'sibling'", ex.Message);
    }

    [Theory]
    [InlineData(0, 0, 0, 10)]
    [InlineData(0, 0, 10, 0)]
    [InlineData(-1, 0, 10, 10)]
    [InlineData(0, -1, 10, 10)]
    public void Crop_with_empty_or_negative_rectangle_is_invalid(int x, int y, int w, int h)
    {
        var json = V2($",\n  \"crops\": [ {{ \"name\": \"c\", \"x\": {x}, \"y\": {y}, \"w\": {w}, \"h\": {h} }} ]");
        var ex = Assert.Throws<FileFormatException>(() => SidecarSerializer.Deserialize(Utf8(json), Path, Id));
        Assert.Equal("sidecar-invalid", ex.Code);
        Assert.Contains("$.crops[0]", ex.Message);
    }

    [Fact]
    public void Only_the_first_primary_caption_stays_primary()
    {
        var json = V2(",\n  \"captions\": [ { \"id\": 1, \"text\": \"a\" }, { \"id\": 2, \"text\": \"b\", \"primary\": true }, { \"id\": 3, \"text\": \"c\", \"primary\": true } ]");
        var s = SidecarSerializer.Deserialize(Utf8(json), Path, Id);
        Assert.Equal([false, true, false], s.Captions.Select(c => c.Primary));
        Assert.Equal("b", s.PrimaryCaption!.Text);
    }
}
