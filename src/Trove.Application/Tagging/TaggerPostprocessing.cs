using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>
/// Minimum confidence for a label to become a suggestion: <see cref="PerCategory"/> where a category has its own value,
/// else <see cref="Overall"/>. Defaults (from the source material): overall 0.6; general 0.6, copyright 0.7,
/// character 0.75; rating 0, because rating labels are exclusive: only the best one is taken, whatever its score, so
/// every image gets one rating for a person to confirm.
/// </summary>
public sealed record TaggerThresholds
{
    public static TaggerThresholds Default { get; } = new();

    public double Overall { get; init; } = 0.6;

    public IReadOnlyDictionary<string, double> PerCategory { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["general"] = 0.6,
        ["copyright"] = 0.7,
        ["character"] = 0.75,
        ["rating"] = 0.0,
    };

    public double For(string category) => PerCategory.TryGetValue(category, out var t) ? t : Overall;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(Overall is >= 0 and <= 1))
        {
            errors.Add($"the overall threshold must be between 0 and 1, found {Overall}");
        }

        foreach (var (category, value) in PerCategory)
        {
            if (!(value is >= 0 and <= 1))
            {
                errors.Add($"the threshold for '{category}' must be between 0 and 1, found {value}");
            }
        }

        return errors;
    }
}

/// <summary>A label the model scored at or above its threshold.</summary>
public sealed record LabelScore(TaggerLabel Label, string Category, double Confidence);

/// <summary>From a model's score vector to the labels worth suggesting.</summary>
public static class TaggerPostprocessor
{
    /// <summary>Confidences are kept to 4 decimals (sidecars stay readable; 0.71 × 0.9 is 0.639, not 0.6389999…).</summary>
    public static double Round(double confidence) => Math.Round(confidence, 4, MidpointRounding.AwayFromZero);

    /// <summary>
    /// Picks the labels of one image: every non-rating label whose confidence reaches its category's threshold, and of
    /// the rating labels only the best one (when it reaches the rating threshold). Sorted by confidence, best first.
    /// </summary>
    /// <param name="scores">One score per label (sigmoid outputs, 0–1), in label order.</param>
    /// <param name="labels">The model's labels.</param>
    /// <param name="thresholds">Minimums per category.</param>
    /// <param name="categoryOf">The category of a label when the label file has none (custom models: the vocabulary's).</param>
    public static IReadOnlyList<LabelScore> Select(ReadOnlySpan<float> scores, TaggerLabelSet labels, TaggerThresholds thresholds, Func<TaggerLabel, string>? categoryOf = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(thresholds);
        if (scores.Length != labels.Count)
        {
            throw new TroveException(
                "labels-mismatch",
                $"The model gave {scores.Length} scores but {labels.Path} has {labels.Count} labels.",
                "Use the label file that belongs to this model version.");
        }

        var selected = new List<LabelScore>();
        LabelScore? rating = null;
        for (var i = 0; i < scores.Length; i++)
        {
            var score = scores[i];
            if (float.IsNaN(score))
            {
                continue;
            }

            var label = labels.Labels[i];
            var category = !labels.HasCategories && categoryOf is not null ? categoryOf(label) : label.Category;
            var confidence = Round(Math.Clamp(score, 0f, 1f));
            if (category == "rating")
            {
                if (rating is null || confidence > rating.Confidence)
                {
                    rating = new LabelScore(label, category, confidence);
                }

                continue;
            }

            if (confidence >= thresholds.For(category))
            {
                selected.Add(new LabelScore(label, category, confidence));
            }
        }

        if (rating is not null && rating.Confidence >= thresholds.For("rating"))
        {
            selected.Add(rating);
        }

        selected.Sort((a, b) => b.Confidence != a.Confidence ? b.Confidence.CompareTo(a.Confidence) : a.Label.Index.CompareTo(b.Label.Index));
        return selected;
    }

    /// <summary><see cref="Select"/> for each image of a batch output of shape [N, labels].</summary>
    public static IReadOnlyList<IReadOnlyList<LabelScore>> SelectBatch(ReadOnlySpan<float> output, int batch, TaggerLabelSet labels, TaggerThresholds thresholds, Func<TaggerLabel, string>? categoryOf = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (batch < 1 || output.Length != batch * labels.Count)
        {
            throw new TroveException(
                "labels-mismatch",
                $"The model gave {output.Length} scores for {batch} images but {labels.Path} has {labels.Count} labels.",
                "Use the label file that belongs to this model version.");
        }

        var result = new IReadOnlyList<LabelScore>[batch];
        for (var n = 0; n < batch; n++)
        {
            result[n] = Select(output.Slice(n * labels.Count, labels.Count), labels, thresholds, categoryOf);
        }

        return result;
    }
}
