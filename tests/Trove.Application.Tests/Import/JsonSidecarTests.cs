using Trove.Application.Import;

namespace Trove.Application.Tests.Import;

public sealed class JsonSidecarTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private ImportMetadata Read(string json, string sidecarName = "pic.json")
    {
        var image = _temp.Combine("pic.png");
        File.WriteAllBytes(image, TestImages.Png(1));
        File.WriteAllText(_temp.Combine(sidecarName), json);
        return new ImportMetadataReader().ReadFile(image);
    }

    private static List<(string Name, string? Category)> TagsOf(ImportMetadata meta) => meta.Tags.Select(t => (t.Name, t.Category)).ToList();

    [Fact]
    public void A_danbooru_post_gives_categorised_tags_rating_source_date_and_ids()
    {
        var meta = Read("""
            {
              "id": 123456,
              "created_at": "2023-04-05T06:07:08.123-04:00",
              "rating": "s",
              "source": "https://twitter.com/someone/status/1",
              "md5": "d41d8cd98f00b204e9800998ecf8427e",
              "score": 42,
              "tag_string": "1girl blue_eyes hatsune_miku vocaloid someone_(artist) highres",
              "tag_string_general": "1girl blue_eyes",
              "tag_string_character": "hatsune_miku",
              "tag_string_copyright": "vocaloid",
              "tag_string_artist": "someone_(artist) kantoku",
              "tag_string_meta": "highres",
              "file_url": "https://cdn.example/x.png"
            }
            """, "pic.png.json");

        Assert.Equal(
            [("1girl", null), ("blue_eyes", null), ("hatsune_miku", "character"), ("vocaloid", "copyright"), ("someone_(artist)", "artist"), ("kantoku", "artist"), ("highres", "meta"), ("sensitive", "rating")],
            TagsOf(meta));
        Assert.Equal("sensitive", meta.Rating);
        Assert.Equal(["https://twitter.com/someone/status/1"], meta.SourceUrls);
        Assert.Equal(new DateTimeOffset(2023, 4, 5, 6, 7, 8, 123, TimeSpan.FromHours(-4)), meta.DateTaken);
        Assert.Equal("123456", meta.Extra["post_id"]);
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", meta.Extra["md5"]);
        Assert.Equal("42", meta.Extra["score"]);
        Assert.Equal([_temp.Combine("pic.png.json")], meta.Files);
    }

    [Fact]
    public void Gallery_dl_metadata_with_tags_per_category_as_strings_or_lists()
    {
        var meta = Read("""
            {
              "category": "gelbooru",
              "subcategory": "post",
              "id": 99,
              "date": "2021-01-01 12:00:00",
              "rating": "explicit",
              "tags": "1girl solo smile",
              "tags_artist": "some_artist",
              "tags_character": ["alice_(wonderland)", "rem"],
              "tags_copyright": "re:zero_kara_hajimeru_isekai_seikatsu",
              "tags_metadata": ["absurdres"],
              "source": ""
            }
            """);

        Assert.Equal(
            [("some_artist", "artist"), ("alice_(wonderland)", "character"), ("rem", "character"), ("re:zero_kara_hajimeru_isekai_seikatsu", "copyright"), ("absurdres", "meta"), ("1girl", null), ("solo", null), ("smile", null), ("explicit", "rating")],
            TagsOf(meta));
        Assert.Equal("gelbooru", meta.Extra["site"]);
        Assert.Equal("99", meta.Extra["post_id"]);
        Assert.Equal(new DateTimeOffset(2021, 1, 1, 12, 0, 0, TimeSpan.Zero), meta.DateTaken);
        Assert.Empty(meta.SourceUrls);
    }

    [Fact]
    public void An_e621_post_with_a_tag_object_per_category()
    {
        var meta = Read("""
            {
              "id": 7,
              "created_at": "2020-02-03T04:05:06.000-05:00",
              "rating": "s",
              "tags": {
                "general": ["outside", "tree"],
                "species": ["wolf"],
                "character": ["some_wolf"],
                "copyright": [],
                "artist": ["painter"],
                "invalid": ["bad_tag"],
                "lore": [],
                "meta": ["hi_res"]
              },
              "sources": ["https://example.com/a", "not a url"],
              "description": "Commission for a friend"
            }
            """);

        Assert.Equal(
            [("outside", null), ("tree", null), ("wolf", "species"), ("some_wolf", "character"), ("painter", "artist"), ("hi_res", "meta"), ("safe", "rating")],
            TagsOf(meta));
        Assert.Equal(["https://example.com/a"], meta.SourceUrls);
        Assert.Equal("not a url", meta.Extra["source_note"]);
        Assert.Equal("Commission for a friend", meta.Description);
        Assert.Equal("Commission for a friend", Assert.Single(meta.Captions).Text);
    }

    [Fact]
    public void A_hydrus_client_api_export_reads_current_tags_with_namespaces_and_known_urls()
    {
        var meta = Read("""
            {
              "metadata": [
                {
                  "hash": "abc",
                  "known_urls": ["https://example.com/file/1"],
                  "tags": {
                    "6c6f63616c2074616773": {
                      "name": "my tags",
                      "storage_tags": { "0": ["creator:someone", "blue sky", "page:2"], "2": ["deleted tag"] },
                      "display_tags": { "0": ["creator:someone", "blue sky", "page:2", "sky"] }
                    }
                  }
                }
              ]
            }
            """);

        Assert.Equal([("someone", "artist"), ("blue_sky", null), ("page_2", null), ("sky", null)], TagsOf(meta));
        Assert.Equal(["https://example.com/file/1"], meta.SourceUrls);
    }

    [Fact]
    public void An_older_hydrus_export_with_service_keys_to_statuses_to_tags()
    {
        var meta = Read("""
            { "service_keys_to_statuses_to_tags": { "abc": { "0": ["series:some show", "title:hello"], "1": ["pending"] } } }
            """);

        Assert.Equal([("some_show", "copyright")], TagsOf(meta));
        Assert.Equal("hello", meta.Title);
    }

    [Fact]
    public void Caption_json_with_one_caption_or_several()
    {
        Assert.Equal(["A cat asleep on a windowsill."], Read("""{"caption": "A cat asleep on a windowsill."}""").Captions.Select(c => c.Text));
        Assert.Equal(["second is primary", "first"], Read("""
            {"captions": [ {"text": "first"}, {"text": "second is primary", "primary": true}, "first" ]}
            """).Captions.Select(c => c.Text));
    }

    [Fact]
    public void Image_tagger_json_from_the_seed_library()
    {
        var meta = Read("""
            {
              "name": "mountain_sunset",
              "caption": "mountains, sunset, natural lighting",
              "tags": [
                {"category": "class", "value": "landscape", "position": 0},
                {"category": "details", "value": "sunset", "position": 1}
              ],
              "related": { "similar": ["xyz789"] },
              "metadata": { "created": "2025-01-15T10:30:00Z", "width": 1920, "height": 1080 }
            }
            """);

        Assert.Equal([("landscape", "class"), ("sunset", "details")], TagsOf(meta));
        Assert.Equal("mountains, sunset, natural lighting", Assert.Single(meta.Captions).Text);
        Assert.Equal("mountain_sunset", meta.Extra["name"]);
        Assert.Equal("2025-01-15T10:30:00Z", meta.Extra["created"]);
        Assert.Equal("1920", meta.Extra["width"]);
    }

    [Fact]
    public void Photoset_json_from_the_seed_gallery()
    {
        var meta = Read("""
            {
              "url": "https://example.com/photoset",
              "date": "2024-01-15",
              "year": 2024,
              "original_filename": "photoset_archive.zip",
              "actors": ["Actor Name"],
              "tags": ["tag1", "Tag Two"]
            }
            """);

        Assert.Equal([("tag1", null), ("tag_two", null), ("actor_name", "character")], TagsOf(meta));
        Assert.Equal(["https://example.com/photoset"], meta.SourceUrls);
        Assert.Equal(new DateTimeOffset(2024, 1, 15, 0, 0, 0, TimeSpan.Zero), meta.DateTaken);
        Assert.Equal("2024", meta.Extra["year"]);
        Assert.Equal("photoset_archive.zip", meta.Extra["original_filename"]);
    }

    [Fact]
    public void A_trove_sidecar_gives_its_tags_captions_and_metadata()
    {
        var meta = Read("""
            {
              "schema": 2,
              "id": "3fd6e6be00000000000000000000000000000000000000000000000000000000",
              "kind": "image",
              "tags": [ { "name": "cat", "source": "manual" }, { "name": "animal", "source": "implication", "via": "cat" } ],
              "captions": [ { "id": 1, "text": "a red square", "primary": true, "source": "manual" } ],
              "metadata": { "title": "Red", "source": "https://example.com/r" },
            }
            """);

        Assert.Equal([("cat", null), ("animal", null)], TagsOf(meta));
        Assert.Equal("a red square", Assert.Single(meta.Captions).Text);
        Assert.Equal("Red", meta.Extra["title"]);
        Assert.False(meta.Extra.ContainsKey("post_id"));
    }

    [Fact]
    public void Exiftool_json_output()
    {
        var meta = Read("""
            [{ "SourceFile": "pic.png", "Keywords": ["Beach", "Summer Holiday"], "Title": "Shore", "DateTimeOriginal": "2019:08:01 10:00:00", "Make": "Canon" }]
            """);

        Assert.Equal([("beach", null), ("summer_holiday", null)], TagsOf(meta));
        Assert.Equal(["Beach", "Summer Holiday"], meta.Keywords);
        Assert.Equal("Shore", meta.Title);
        Assert.Equal(new DateTimeOffset(2019, 8, 1, 10, 0, 0, TimeSpan.Zero), meta.DateTaken);
        Assert.Equal("Canon", meta.Extra["exif.make"]);
    }

    [Theory]
    [InlineData("""{"unrelated": {"deeply": [1, 2, 3]}}""")]
    [InlineData("""[1, 2, 3]""")]
    [InlineData("42")]
    [InlineData("""{"tags": 5, "rating": 3, "caption": null}""")]
    public void Unknown_json_shapes_give_nothing_and_no_warning(string json)
    {
        var meta = Read(json);
        Assert.True(meta.IsEmpty);
        Assert.Empty(meta.Warnings);
        Assert.Empty(meta.Files);
    }

    [Fact]
    public void Malformed_json_is_a_warning_with_file_line_and_column_and_the_rest_still_counts()
    {
        var image = _temp.Combine("pic.png");
        File.WriteAllBytes(image, TestImages.Png(1));
        File.WriteAllText(_temp.Combine("pic.txt"), "1girl, solo");
        File.WriteAllText(_temp.Combine("pic.json"), "{\n  \"tags\": [\"a\", \"b\"\n  \"rating\": \"s\"\n}\n");

        var meta = new ImportMetadataReader().ReadFile(image);

        Assert.Equal(["1girl", "solo"], meta.Tags.Select(t => t.Name));
        var warning = Assert.Single(meta.Warnings);
        Assert.StartsWith(_temp.Combine("pic.json") + ": invalid JSON at line 3, column 3", warning, StringComparison.Ordinal);
        Assert.Equal([_temp.Combine("pic.txt")], meta.Files);
    }

    [Fact]
    public void Metadata_files_win_over_embedded_metadata_for_single_values()
    {
        var image = _temp.Combine("pic.jpg");
        File.WriteAllBytes(image, TestJpegs.With(TestJpegs.Iptc((2, 5, "Embedded title"), (2, 25, "embedded"))));
        File.WriteAllText(_temp.Combine("pic.jpg.json"), """{"title": "Sidecar title", "tags": ["sidecar"]}""");

        var meta = new ImportMetadataReader().ReadFile(image);

        Assert.Equal("Sidecar title", meta.Title);
        Assert.Equal(["sidecar", "embedded"], meta.Tags.Select(t => t.Name));
        Assert.Equal("Sidecar title", meta.ToSidecarMetadata()["title"]);
    }
}
