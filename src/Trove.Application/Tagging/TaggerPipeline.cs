using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>A tag one model proposes for one media: an internal tag name (alias or canonical), with the model's label.</summary>
/// <param name="Tag">Our tag (aliases are resolved when the suggestion is stored).</param>
/// <param name="Confidence">0–1.</param>
/// <param name="Category">The category the model gave it.</param>
/// <param name="External">The model's own label when it differs from <paramref name="Tag"/>.</param>
public sealed record TagCandidate(string Tag, double Confidence, string Category = Vocabulary.DefaultCategory, string? External = null);

/// <summary>Everything one model version proposes for one media.</summary>
public sealed record ModelCandidates(string Model, string ModelVersion, IReadOnlyList<TagCandidate> Candidates);

/// <summary>A label that did not become a candidate, and why (for logs and the job's result).</summary>
public sealed record DroppedLabel(string Label, double Confidence, MappingKind Kind, string? Reason);

public sealed record CandidateSet(ModelCandidates Candidates, IReadOnlyList<DroppedLabel> Dropped);

/// <summary>
/// The pure part of tagging after inference: score vector → thresholds → external vocabulary mapping → candidates.
/// A job runs, per image: <see cref="TaggerTensors.FromFile"/> → the model → <see cref="Candidates"/> for each model →
/// <see cref="SuggestionService.ApplyAsync"/> with the models in priority order.
/// </summary>
public static class TaggerPipeline
{
    /// <param name="model">Model id (recorded on every suggestion).</param>
    /// <param name="version">Model version (recorded on every suggestion).</param>
    /// <param name="scores">One score per label.</param>
    /// <param name="labels">The model's labels.</param>
    /// <param name="thresholds">Minimums per category.</param>
    /// <param name="mapping">The external vocabulary's mappings (<see cref="TagMappingSet.Identity"/> for custom models).</param>
    /// <param name="knownTags">Tag and alias names the library knows (<see cref="TagMappingService.KnownTagsAsync"/>).</param>
    /// <param name="vocabulary">For the category of labels when the label file has none.</param>
    public static CandidateSet Candidates(
        string model,
        string version,
        ReadOnlySpan<float> scores,
        TaggerLabelSet labels,
        TaggerThresholds thresholds,
        TagMappingSet mapping,
        IReadOnlySet<string> knownTags,
        Vocabulary? vocabulary = null)
    {
        ArgumentNullException.ThrowIfNull(knownTags);
        Func<TaggerLabel, string>? categoryOf = vocabulary is null
            ? null
            : label => TagNames.TryNormalize(label.Name, out var n, out _) ? vocabulary.CategoryOf(vocabulary.Resolve(n)) : Vocabulary.DefaultCategory;
        var selected = TaggerPostprocessor.Select(scores, labels, thresholds, categoryOf);
        return Map(model, version, selected, mapping, knownTags.Contains);
    }

    /// <summary>Maps selected labels to our tags (explicit mappings, then the unmapped policy).</summary>
    public static CandidateSet Map(string model, string version, IReadOnlyList<LabelScore> selected, TagMappingSet mapping, Func<string, bool> isKnown)
    {
        ArgumentNullException.ThrowIfNull(selected);
        ArgumentNullException.ThrowIfNull(mapping);
        var candidates = new List<TagCandidate>(selected.Count);
        var dropped = new List<DroppedLabel>();
        foreach (var s in selected)
        {
            var result = mapping.Resolve(s.Label.Name, s.Category, isKnown);
            if (result.Tag is null)
            {
                dropped.Add(new DroppedLabel(s.Label.Name, s.Confidence, result.Kind, result.Reason));
                continue;
            }

            candidates.Add(new TagCandidate(result.Tag, s.Confidence, s.Category, result.Tag == s.Label.Name ? null : s.Label.Name));
        }

        return new CandidateSet(new ModelCandidates(model, version, candidates), dropped);
    }
}
