using System.Text.Json.Nodes;
using Trove.Application.Tagging;
using Trove.Domain;
using Trove.Library;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Tagging;

public sealed class TagMappingTests
{
    [Fact]
    public void Explicit_mappings_come_first_then_the_unmapped_policy()
    {
        var set = new TagMappingSet("danbooru");
        set.Set("1girl", "Girl");
        set.Set("solo", null);
        var known = new HashSet<string> { "long_hair", "girl" };

        Assert.Equal(new MappingResult("girl", MappingKind.Mapped), set.Resolve("1girl", "general", known.Contains));
        Assert.Equal(new MappingResult(null, MappingKind.Ignored), set.Resolve(" SOLO ", "general", known.Contains));
        Assert.Equal(new MappingResult("long_hair", MappingKind.Existing), set.Resolve("long_hair", "general", known.Contains));
        var unknown = set.Resolve("blue_eyes", "general", known.Contains);
        Assert.Equal((null, MappingKind.Unmapped), (unknown.Tag, unknown.Kind));

        set.Unmapped = UnmappedPolicy.Create;
        Assert.Equal(new MappingResult("blue_eyes", MappingKind.Created), set.Resolve("Blue Eyes", "general", known.Contains));
        Assert.Equal(new MappingResult("rating_explicit", MappingKind.Created), set.Resolve("explicit", "rating", known.Contains));
        Assert.Equal(MappingKind.Invalid, set.Resolve("-_-", "general", known.Contains).Kind);

        set.Unmapped = UnmappedPolicy.Ignore;
        Assert.Equal(MappingKind.Unmapped, set.Resolve("long_hair", "general", known.Contains).Kind);
        Assert.Equal("girl", set.Resolve("1girl", "general", known.Contains).Tag);

        Assert.True(set.Set("solo", "alone"));
        Assert.False(set.Ignored.Contains("solo"));
        Assert.False(set.Set("solo", "alone"));
        Assert.Throws<TroveUsageException>(() => set.Set("x", "-bad"));
    }

    [Fact]
    public async Task Csv_import_writes_one_file_per_source_and_reports_changes()
    {
        await using var t = await CreateAsync();
        var mappings = new TagMappingService(t.Library);
        var csv = t.WriteSource("map.csv", System.Text.Encoding.UTF8.GetBytes(
            "source,external,internal\r\n# a comment\r\ndanbooru,1girl,girl\r\ndanbooru,solo,\r\ndanbooru,looking at viewer,ignore\r\ncustom,red,Red_Thing\r\n\r\ndanbooru,1girl,girl\r\n"));

        var report = await mappings.ImportCsvAsync(csv, Ct);

        Assert.Equal(4, report.Rows);
        Assert.Equal([new MappingSourceReport("custom", 1, 0, 0, 1), new MappingSourceReport("danbooru", 3, 0, 0, 3)], report.Sources);
        Assert.Equal(["custom", "danbooru"], mappings.Sources());
        var danbooru = mappings.Read("danbooru");
        Assert.Equal(new Dictionary<string, string> { ["1girl"] = "girl" }, danbooru.Map);
        Assert.Equal(["looking_at_viewer", "solo"], danbooru.Ignored.Order(StringComparer.Ordinal));
        Assert.Equal(UnmappedPolicy.Existing, danbooru.Unmapped);

        // The file is plain JSON in the library.
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(t.Root, "mappings", "danbooru.json")))!;
        Assert.Equal(1, (int)json["schema"]!);
        Assert.Equal("girl", (string)json["map"]!["1girl"]!);

        // A second import overrides and adds; the policy is kept.
        await mappings.SetPolicyAsync("danbooru", UnmappedPolicy.Create, Ct);
        var again = await mappings.ImportCsvAsync(new StringReader("danbooru,1girl,woman\ndanbooru,solo,\ndanbooru,smile,smile\n"), "more.csv", Ct);
        Assert.Equal([new MappingSourceReport("danbooru", 1, 1, 1, 4)], again.Sources);
        danbooru = mappings.Read("danbooru");
        Assert.Equal("woman", danbooru.Map["1girl"]);
        Assert.Equal(UnmappedPolicy.Create, danbooru.Unmapped);
    }

    [Fact]
    public async Task A_csv_with_bad_rows_imports_nothing_and_names_every_bad_line()
    {
        await using var t = await CreateAsync();
        var mappings = new TagMappingService(t.Library);
        var csv = "danbooru,1girl,girl\n"
            + "danbooru,solo\n"                 // line 2: two fields
            + "Bad Source!,x,y\n"               // line 3: source name
            + "danbooru,tail,-tail\n"           // line 4: internal is not a tag
            + "danbooru,1girl,woman\n"          // line 5: conflicts with line 1
            + "danbooru,,x\n";                  // line 6: empty external

        var ex = await Assert.ThrowsAsync<TroveUsageException>(() => mappings.ImportCsvAsync(new StringReader(csv), "map.csv", Ct));

        Assert.Equal("mappings-invalid", ex.Code);
        Assert.Contains("5 bad row(s) in map.csv; nothing was imported", ex.Message, StringComparison.Ordinal);
        Assert.Contains("map.csv:2:1: expected 3 fields", ex.Message, StringComparison.Ordinal);
        Assert.Contains("map.csv:3:1: 'Bad Source!' is not a vocabulary source name", ex.Message, StringComparison.Ordinal);
        Assert.Contains("map.csv:4:15: Tag '-tail' cannot start with '-'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("map.csv:5:10: '1girl' of 'danbooru' is already mapped to girl on line 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("map.csv:6:10: the external tag is empty", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(t.Root, "mappings")));
        Assert.Empty(mappings.Sources());
    }

    [Fact]
    public async Task A_hand_edited_mapping_file_with_mistakes_is_refused_with_its_position()
    {
        await using var t = await CreateAsync();
        var mappings = new TagMappingService(t.Library);
        Directory.CreateDirectory(mappings.Folder);
        var path = mappings.PathFor("danbooru");

        File.WriteAllText(path, "{\n  \"schema\": 1,\n  \"source\": \"danbooru\",\n  \"map\": { \"a\": 5 }\n}\n");
        var malformed = Assert.Throws<FileFormatException>(() => mappings.Read("danbooru"));
        Assert.Equal(("mappings-malformed", 4L), (malformed.Code, malformed.Line));

        File.WriteAllText(path, "{ \"schema\": 1, \"source\": \"danbooru\", \"unmapped\": \"sometimes\" }");
        Assert.Contains("\"unmapped\" must be", Assert.Throws<FileFormatException>(() => mappings.Read("danbooru")).Message, StringComparison.Ordinal);

        File.WriteAllText(path, "{ \"schema\": 1, \"source\": \"danbooru\", \"map\": { \"a\": \"b\" }, \"ignore\": [\"A\"] }");
        Assert.Contains("'a' is both mapped", Assert.Throws<FileFormatException>(() => mappings.Read("danbooru")).Message, StringComparison.Ordinal);

        File.WriteAllText(path, "{ \"schema\": 2, \"source\": \"danbooru\" }");
        Assert.Equal("newer-schema", Assert.Throws<FileFormatException>(() => mappings.Read("danbooru")).Code);

        Assert.Equal("invalid-source", Assert.Throws<TroveUsageException>(() => mappings.Read("../etc")).Code);
        Assert.Empty(mappings.Read("nothing-yet").Map);
    }

    [Fact]
    public async Task The_real_wd14_labels_become_candidates_through_the_mappings()
    {
        await using var t = await CreateAsync();
        await t.ImportPngsAsync([1], "long_hair");
        var mappings = new TagMappingService(t.Library);
        await mappings.ImportCsvAsync(new StringReader("wd14,1girl,girl\nwd14,solo,ignore\n"), "m.csv", Ct);
        var labels = TaggerLabelSet.Load(TaggingTestData.Wd14Labels);
        var scores = new float[labels.Count];
        foreach (var (name, score) in new[] { ("1girl", 0.95f), ("solo", 0.9f), ("long_hair", 0.8f), ("smile", 0.7f), ("don't_say_\"lazy\"", 0.99f), ("explicit", 0.4f), ("general", 0.3f) })
        {
            scores[labels.Labels.Single(l => l.Name == name).Index] = score;
        }

        var known = await mappings.KnownTagsAsync(Ct);
        var existing = TaggerPipeline.Candidates("wd14", "v3", scores, labels, TaggerThresholds.Default, mappings.Read("wd14"), known);
        Assert.Equal([("girl", 0.95, "1girl"), ("long_hair", 0.8, null)], existing.Candidates.Candidates.Select(c => (c.Tag, c.Confidence, c.External)));
        Assert.Equal(
            [("don't_say_\"lazy\"", MappingKind.Invalid), ("solo", MappingKind.Ignored), ("smile", MappingKind.Unmapped), ("explicit", MappingKind.Unmapped)],
            existing.Dropped.Select(d => (d.Label, d.Kind)));

        await mappings.SetPolicyAsync("wd14", UnmappedPolicy.Create, Ct);
        var created = TaggerPipeline.Candidates("wd14", "v3", scores, labels, TaggerThresholds.Default, mappings.Read("wd14"), known);
        Assert.Equal(
            [("girl", "general"), ("long_hair", "general"), ("smile", "general"), ("rating_explicit", "rating")],
            created.Candidates.Candidates.Select(c => (c.Tag, c.Category)));
        Assert.Equal([("don't_say_\"lazy\"", MappingKind.Invalid), ("solo", MappingKind.Ignored)], created.Dropped.Select(d => (d.Label, d.Kind)));
    }
}
