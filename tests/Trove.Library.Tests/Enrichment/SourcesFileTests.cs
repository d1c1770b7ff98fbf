using Trove.Domain;
using Trove.Domain.Enrichment;
using Trove.Library.Enrichment;

namespace Trove.Library.Tests.Enrichment;

/// <summary>sources.yaml in the source material's shape and defaults, the command line's overrides, and errors that say where.</summary>
public sealed class SourcesFileTests
{
    private const string Sample = """
        global:
          max_faces_per_performer: 15
          default_rate_limit: 120
          quality_filters:
            min_face_size: 100
        stash_boxes:
          stashdb:
            url: https://stashdb.org/graphql
            rate_limit: 240
            max_faces: 5
            priority: 1
            api_key_env: STASHDB_API_KEY
          theporndb:
            url: https://theporndb.net/graphql
            priority: 2
            gender_filter: female
        reference_sites:
          babepedia:
            url: https://www.babepedia.com
            rate_limit: 30
            trust_level: low
          boobpedia:
            enabled: false
            url: https://www.boobpedia.com
        """;

    private static EnrichmentSettings Parse(string yaml) => SourcesFile.Parse(yaml, "/lib/sources.yaml");

    [Fact]
    public void The_file_gives_the_source_materials_defaults_where_it_is_silent()
    {
        var s = Parse(Sample);
        Assert.Equal(15, s.Globals.MaxFacesPerPerson);
        Assert.Equal(120, s.Globals.DefaultRateLimit);
        Assert.Equal(100, s.Globals.Quality.MinFaceSize);
        Assert.Equal(400, s.Globals.Quality.MinImageSize);
        Assert.Equal(0.8f, s.Globals.Quality.MinConfidence);
        Assert.True(s.Globals.PreferSingleFace);

        var stashdb = s.Sources.Single(x => x.Name == "stashdb");
        Assert.Equal((SourceTypes.StashBox, 240, 5, 1, TrustLevels.High, "STASHDB_API_KEY"), (stashdb.Type, stashdb.RateLimit, stashdb.MaxFaces, stashdb.Priority, stashdb.TrustLevel, stashdb.ApiKeyEnv));
        var tpdb = s.Sources.Single(x => x.Name == "theporndb");
        Assert.Equal(120, tpdb.RateLimit); // the global default
        Assert.True(tpdb.ShouldProcess("FEMALE"));
        Assert.False(tpdb.ShouldProcess("male"));
        Assert.True(tpdb.ShouldProcess(null)); // unknown gender: asked anyway
        var babepedia = s.Sources.Single(x => x.Name == "babepedia");
        Assert.Equal((SourceTypes.ReferenceSite, TrustLevels.Low, 10), (babepedia.Type, babepedia.TrustLevel, babepedia.Priority));
        Assert.Equal(TrustLevels.Medium, s.Sources.Single(x => x.Name == "boobpedia").TrustLevel);
        Assert.Equal(EnrichmentSettings.Empty, SourcesFile.Read("/nonexistent/sources.yaml"));
        Assert.Empty(Parse("").Sources);
    }

    [Fact]
    public void Command_line_overrides_work_exactly_as_the_source_materials_flags()
    {
        var s = Parse(Sample);
        Assert.Equal(["stashdb", "theporndb", "babepedia"], new EnrichmentOverrides().Apply(s).Sources.Select(x => x.Name));
        Assert.Equal(["stashdb", "babepedia"], new EnrichmentOverrides(Only: ["stashdb", "babepedia", "boobpedia"]).Apply(s).Sources.Select(x => x.Name));
        Assert.Equal(["stashdb", "babepedia"], new EnrichmentOverrides(Disabled: ["theporndb"]).Apply(s).Sources.Select(x => x.Name));
        var more = new EnrichmentOverrides(MaxFaces: new Dictionary<string, int> { ["stashdb"] = 10 }, MaxFacesTotal: 30).Apply(s);
        Assert.Equal(10, more.Sources[0].MaxFaces);
        Assert.Equal(30, more.Globals.MaxFacesPerPerson);

        var unknown = Assert.Throws<TroveUsageException>(() => new EnrichmentOverrides(Only: ["stashdb", "iafd"]).Apply(s));
        Assert.Equal("unknown-source", unknown.Code);
        Assert.Contains("'iafd'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("babepedia, boobpedia, stashdb, theporndb", unknown.Message, StringComparison.Ordinal);
        Assert.Equal("unknown-source", Assert.Throws<TroveUsageException>(() => new EnrichmentOverrides(MaxFaces: new Dictionary<string, int> { ["x"] = 3 }).Apply(s)).Code);
    }

    [Theory]
    [InlineData("stash_boxes:\n  stashdb:\n    url: https://stashdb.org/graphql\n    rate_limt: 10\n", 4, "'rate_limt' is not a setting of stash_boxes.stashdb")]
    [InlineData("stash_boxes:\n  stashdb:\n    url: https://stashdb.org/graphql\n    api_key: abc123\n", 3, "keys never go in files")]
    [InlineData("stash_boxes:\n  stashdb:\n    rate_limit: 10\n", 3, "has no url")]
    [InlineData("reference_sites:\n  x:\n    trust_level: total\n", 3, "use high, medium or low")]
    [InlineData("global:\n  default_rate_limit: fast\n", 2, "'default_rate_limit' is 'fast'")]
    [InlineData("stash_boxes:\n  stashdb:\n    url: ftp://stashdb.org\n", 3, "not an http(s) address")]
    [InlineData("stash_boxes:\n  StashDB:\n    url: https://stashdb.org/graphql\n", 2, "not a source name")]
    [InlineData("stash_boxes:\n  a:\n    url: https://a/graphql\n    api_key_env: \"my key\"\n", 4, "not an environment variable name")]
    [InlineData("global: [1, 2\n", 2, "not valid YAML")]
    public void A_mistake_names_the_file_the_line_and_the_setting(string yaml, int line, string detail)
    {
        var ex = Assert.Throws<FileFormatException>(() => Parse(yaml));
        Assert.Equal("sources-invalid", ex.Code);
        Assert.Equal(line, ex.Line);
        Assert.Contains(detail, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("/lib/sources.yaml:", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", ex.Message, StringComparison.Ordinal);
    }
}
