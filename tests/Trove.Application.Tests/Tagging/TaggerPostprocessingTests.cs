using Trove.Application.Tagging;
using Trove.Domain;

namespace Trove.Application.Tests.Tagging;

public sealed class TaggerPostprocessingTests
{
    private static readonly Lazy<TaggerLabelSet> Wd14 = new(() => TaggerLabelSet.Load(TaggingTestData.Wd14Labels));

    private static float[] Scores(params (string Name, float Score)[] set)
    {
        var labels = Wd14.Value;
        var scores = new float[labels.Count];
        foreach (var (name, score) in set)
        {
            scores[labels.Labels.Single(l => l.Name == name).Index] = score;
        }

        return scores;
    }

    [Fact]
    public void Thresholds_default_to_the_source_material()
    {
        var t = TaggerThresholds.Default;
        Assert.Equal((0.6, 0.6, 0.7, 0.75, 0.0, 0.6), (t.Overall, t.For("general"), t.For("copyright"), t.For("character"), t.For("rating"), t.For("meta")));
        Assert.Empty(t.Validate());
        Assert.Equal(2, (t with { Overall = 1.5, PerCategory = new Dictionary<string, double> { ["x"] = -1 } }).Validate().Count);
    }

    [Fact]
    public void Each_category_has_its_threshold()
    {
        var labels = TaggerLabelSet.FromNames(
            ["g_hi", "g_lo", "char_hi", "char_lo", "copy_hi", "copy_lo", "meta_hi"],
            ["general", "general", "character", "character", "copyright", "copyright", "meta"]);
        float[] scores = [0.6f, 0.5999f, 0.75f, 0.7499f, 0.7f, 0.6999f, 0.65f];

        var selected = TaggerPostprocessor.Select(scores, labels, TaggerThresholds.Default);
        Assert.Equal(["char_hi", "copy_hi", "meta_hi", "g_hi"], selected.Select(s => s.Label.Name));
        Assert.Equal([0.75, 0.7, 0.65, 0.6], selected.Select(s => s.Confidence));

        var strict = TaggerPostprocessor.Select(scores, labels, TaggerThresholds.Default with { Overall = 0.7 });
        Assert.DoesNotContain(strict, s => s.Label.Name == "meta_hi"); // meta has no override: the overall minimum applies
    }

    [Fact]
    public void Only_the_best_rating_label_is_taken_whatever_its_score()
    {
        var scores = Scores(("general", 0.3f), ("sensitive", 0.55f), ("questionable", 0.1f), ("explicit", 0.05f), ("1girl", 0.9f), ("solo", 0.59f));

        var selected = TaggerPostprocessor.Select(scores, Wd14.Value, TaggerThresholds.Default);

        Assert.Equal([("1girl", "general", 0.9), ("sensitive", "rating", 0.55)], selected.Select(s => (s.Label.Name, s.Category, s.Confidence)));

        var withMinimum = TaggerThresholds.Default with { PerCategory = new Dictionary<string, double> { ["rating"] = 0.6 } };
        Assert.DoesNotContain(TaggerPostprocessor.Select(scores, Wd14.Value, withMinimum), s => s.Category == "rating");
    }

    [Fact]
    public void Batches_are_split_per_image_and_a_width_mismatch_is_an_error()
    {
        var labels = TaggerLabelSet.FromNames(["a", "b"]);
        var batch = TaggerPostprocessor.SelectBatch([0.9f, 0.1f, 0.2f, 0.8f], 2, labels, TaggerThresholds.Default);
        Assert.Equal(["a"], batch[0].Select(s => s.Label.Name));
        Assert.Equal(["b"], batch[1].Select(s => s.Label.Name));

        var ex = Assert.Throws<TroveException>(() => TaggerPostprocessor.Select(new float[10], Wd14.Value, TaggerThresholds.Default));
        Assert.Equal("labels-mismatch", ex.Code);
        Assert.Contains("10 scores", ex.Message, StringComparison.Ordinal);
        Assert.Contains("6913 labels", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_without_categories_take_the_vocabulary_category()
    {
        var vocabulary = new Vocabulary();
        vocabulary.SetCategory("alice", "character");
        var labels = TaggerLabelSet.FromNames(["alice", "red"]);

        var candidates = TaggerPipeline.Candidates("custom", "1", [0.74f, 0.74f], labels, TaggerThresholds.Default, TagMappingSet.Identity, new HashSet<string> { "alice", "red" }, vocabulary);

        var only = Assert.Single(candidates.Candidates.Candidates);
        Assert.Equal(("red", "general"), (only.Tag, only.Category)); // alice is a character: 0.74 < 0.75
    }
}
