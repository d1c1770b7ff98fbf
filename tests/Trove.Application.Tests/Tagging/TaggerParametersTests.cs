using System.Text.Json.Nodes;
using Trove.Application.Tagging;
using Trove.Domain;

namespace Trove.Application.Tests.Tagging;

public sealed class TaggerParametersTests
{
    [Fact]
    public void No_parameters_mean_wd14_and_the_default_thresholds()
    {
        var p = TaggerParameters.Parse(null, "wd14");
        Assert.Equal((null, 100, true), (p.Vocabulary, p.Priority, p.AutoSuggest));
        Assert.Same(TaggerPreprocessing.Wd14, p.Preprocessing);
        Assert.Same(TaggerThresholds.Default, p.Thresholds);
        Assert.Same(TagMappingSet.Identity, p.Mappings(null!));
    }

    [Fact]
    public void Every_setting_is_read()
    {
        var json = JsonNode.Parse("""
            { "vocabulary": "Danbooru", "priority": 20, "autoSuggest": false,
              "preprocessing": { "size": 384, "resize": "stretch", "background": "#000000", "channels": "RGB", "layout": "nchw",
                                 "scale": "0-1", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25] },
              "thresholds": { "overall": 0.5, "character": 0.9, "Pose": 0.4 } }
            """)!.AsObject();

        var p = TaggerParameters.Parse(json, "custom");

        Assert.Equal(("danbooru", 20, false), (p.Vocabulary, p.Priority, p.AutoSuggest));
        var pre = p.Preprocessing;
        Assert.Equal((384, false, 0, ChannelOrder.Rgb, TensorLayout.Nchw, PixelScale.Unit), (pre.Size, pre.PadToSquare, pre.Background, pre.Channels, pre.Layout, pre.Scale));
        Assert.Equal([0.5f, 0.5f, 0.5f], pre.Mean!);
        Assert.Equal([0.25f, 0.25f, 0.25f], pre.Std!);
        Assert.Equal((0.5, 0.9, 0.4, 0.7, 0.5), (p.Thresholds.Overall, p.Thresholds.For("character"), p.Thresholds.For("pose"), p.Thresholds.For("copyright"), p.Thresholds.For("meta")));
    }

    [Fact]
    public void The_model_s_own_vocabulary_policy_overrides_the_mapping_file_s_and_says_where_it_comes_from()
    {
        var service = new TagMappingService(null!);
        var own = TaggerParameters.Parse(JsonNode.Parse("""{ "unmapped": "create" }""")!.AsObject(), "custom");
        Assert.Equal(UnmappedPolicy.Create, own.Unmapped);
        Assert.Equal(UnmappedPolicy.Create, own.Mappings(service).Unmapped);
        Assert.Equal(UnmappedPolicy.Existing, TagMappingSet.Identity.Unmapped);
        Assert.Equal(new VocabularyPolicy(UnmappedPolicy.Create, VocabularyPolicy.FromParameters, null), own.PolicyInForce(service));

        // Without it (files of before): the default, existing.
        var before = TaggerParameters.Parse(JsonNode.Parse("""{ "priority": 5 }""")!.AsObject(), "custom");
        Assert.Null(before.Unmapped);
        Assert.Equal(new VocabularyPolicy(UnmappedPolicy.Existing, VocabularyPolicy.FromDefault, null), before.PolicyInForce(service));
    }

    [Theory]
    [InlineData("""{ "preprocessing": { "channels": "bgra" } }""", "parameters.preprocessing.channels must be \"rgb\" or \"bgr\"")]
    [InlineData("""{ "preprocessing": { "layout": "hwc" } }""", "parameters.preprocessing.layout")]
    [InlineData("""{ "preprocessing": { "size": 0 } }""", "size must be between 1 and 8192")]
    [InlineData("""{ "preprocessing": { "background": "white" } }""", "parameters.preprocessing.background")]
    [InlineData("""{ "thresholds": { "general": 2 } }""", "the threshold for 'general' must be between 0 and 1")]
    [InlineData("""{ "vocabulary": "../x" }""", "parameters.vocabulary is not usable")]
    [InlineData("""{ "priority": "high" }""", "parameters.priority must be a number")]
    [InlineData("""{ "vocabulary": "danbooru", "unmapped": "everything" }""", "parameters.unmapped must be \"create\", \"existing\" or \"ignore\"")]
    [InlineData("""{ "unmapped": "ignore" }""", "the model has no \"vocabulary\"")]
    public void Bad_settings_name_the_model_and_the_field(string json, string expected)
    {
        var ex = Assert.Throws<TroveUsageException>(() => TaggerParameters.Parse(JsonNode.Parse(json)!.AsObject(), "wd14"));
        Assert.Equal("model-parameters-invalid", ex.Code);
        Assert.StartsWith("Model 'wd14': ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
