using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>Rules for turning candidates into suggestions (defaults from the source material).</summary>
public sealed class SuggestionOptions
{
    /// <summary>An implied parent is suggested with the child's confidence times this…</summary>
    public double HierarchyFactor { get; set; } = 0.9;

    /// <summary>…when the child's confidence is strictly above this.</summary>
    public double HierarchyMinChildConfidence { get; set; } = 0.7;
}

/// <summary>What happened to one proposed tag.</summary>
public static class SuggestionOutcomes
{
    /// <summary>A new pending suggestion.</summary>
    public const string Added = "added";

    /// <summary>Forced: an existing suggestion took the new confidence/model and is pending again.</summary>
    public const string Updated = "updated";

    /// <summary>Already pending; left as it was (use force to refresh it).</summary>
    public const string Unchanged = "unchanged";

    /// <summary>The media already has the tag.</summary>
    public const string HasTag = "has-tag";

    /// <summary>A person rejected it before; not suggested again unless forced.</summary>
    public const string Rejected = "rejected";

    /// <summary>A person approved it before and the tag was later removed; not suggested again unless forced.</summary>
    public const string Approved = "approved";

    /// <summary>The candidate's name or confidence is not usable.</summary>
    public const string Invalid = "invalid";
}

/// <param name="Tag">The canonical tag.</param>
/// <param name="Outcome">One of <see cref="SuggestionOutcomes"/>.</param>
public sealed record SuggestionChange(string Tag, string Outcome, double Confidence, string Model, string ModelVersion, string? ResolvedFrom, string? ImpliedBy, string? Detail = null);

/// <summary>
/// Merges the candidates of several models into a sidecar's suggestions: models in priority order (a tag proposed by
/// an earlier model is not taken from a later one); aliases resolved to their canonical tag (marked
/// <see cref="TagSuggestion.ResolvedFrom"/>); implied parents of a live suggestion whose confidence is above
/// <see cref="SuggestionOptions.HierarchyMinChildConfidence"/> suggested with confidence × <see cref="SuggestionOptions.HierarchyFactor"/>
/// (marked <see cref="TagSuggestion.ImpliedBy"/>, transitively, best path wins; a tag a model proposed itself keeps the
/// model's confidence); tags the media has are skipped; one suggestion per tag; a rejected (or approved-then-removed)
/// tag is not suggested again unless forced; forcing refreshes confidence and provenance and makes it pending again.
/// </summary>
internal static class SuggestionMerger
{
    private sealed record Proposal(string Tag, double Confidence, string Model, string Version, string Category, string? External, string? ResolvedFrom, string? ImpliedBy);

    public static List<SuggestionChange> Apply(
        MediaSidecar sidecar,
        Vocabulary vocabulary,
        IReadOnlyList<ModelCandidates> byPriority,
        bool force,
        DateTimeOffset now,
        SuggestionOptions options)
    {
        var changes = new List<SuggestionChange>();
        var direct = new List<Proposal>();
        var settled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in byPriority)
        {
            if (string.IsNullOrWhiteSpace(model.Model) || string.IsNullOrWhiteSpace(model.ModelVersion))
            {
                throw new TroveUsageException("invalid-model", "Every suggestion needs a model id and version (they are recorded with it).");
            }

            foreach (var c in model.Candidates.OrderByDescending(c => c.Confidence))
            {
                if (!TagNames.TryNormalize(c.Tag, out var raw, out var error) || double.IsNaN(c.Confidence) || c.Confidence is < 0 or > 1)
                {
                    var detail = error.Length > 0 ? error : $"confidence {c.Confidence} is not between 0 and 1";
                    changes.Add(new SuggestionChange(c.Tag, SuggestionOutcomes.Invalid, c.Confidence, model.Model, model.ModelVersion, null, null, detail));
                    continue;
                }

                var canonical = vocabulary.Resolve(raw);
                if (!settled.Add(canonical))
                {
                    continue; // an earlier (higher-priority) model, or a better label of this one, has it
                }

                var category = vocabulary.Tags.TryGetValue(canonical, out var info) && info.Category is { } known ? known : NormalizeCategory(c.Category);
                var external = c.External is { } e && e != canonical ? e : null;
                direct.Add(new Proposal(canonical, TaggerPostprocessor.Round(c.Confidence), model.Model, model.ModelVersion, category, external, canonical != raw ? raw : null, null));
            }
        }

        var legacyRejected = LegacyRejections(sidecar, vocabulary);
        var parentsOf = vocabulary.ParentsByChild();
        var queue = new PriorityQueue<Proposal, double>();

        void Expand(Proposal child)
        {
            if (child.Confidence <= options.HierarchyMinChildConfidence || !parentsOf.TryGetValue(child.Tag, out var parents))
            {
                return;
            }

            foreach (var parent in parents.Where(p => !settled.Contains(p)))
            {
                var confidence = TaggerPostprocessor.Round(child.Confidence * options.HierarchyFactor);
                queue.Enqueue(new Proposal(parent, confidence, child.Model, child.Version, vocabulary.CategoryOf(parent), null, null, child.Tag), -confidence);
            }
        }

        foreach (var p in direct)
        {
            if (Place(sidecar, vocabulary, p, force, now, legacyRejected, changes))
            {
                Expand(p);
            }
        }

        // Best confidence first, so the first time a parent comes out of the queue it has its best path.
        while (queue.TryDequeue(out var p, out _))
        {
            if (settled.Add(p.Tag) && Place(sidecar, vocabulary, p, force, now, legacyRejected, changes))
            {
                Expand(p);
            }
        }

        return changes;
    }

    /// <summary>Tags rejected in the older <see cref="MediaSidecar.Reviews"/> list (read, never written).</summary>
    internal static HashSet<string> LegacyRejections(MediaSidecar sidecar, Vocabulary vocabulary)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in sidecar.Reviews)
        {
            if (r.Decision == SuggestionStatus.Rejected && TagNames.TryNormalize(r.Tag, out var name, out _))
            {
                result.Add(vocabulary.Resolve(name));
            }
        }

        return result;
    }

    /// <summary>Records one proposal; returns whether it is live (pending now), so its parents may follow.</summary>
    private static bool Place(MediaSidecar sidecar, Vocabulary vocabulary, Proposal p, bool force, DateTimeOffset now, HashSet<string> legacyRejected, List<SuggestionChange> changes)
    {
        void Report(string outcome) => changes.Add(new SuggestionChange(p.Tag, outcome, p.Confidence, p.Model, p.Version, p.ResolvedFrom, p.ImpliedBy));

        if (sidecar.HasTag(p.Tag))
        {
            Report(SuggestionOutcomes.HasTag);
            return false;
        }

        var existing = sidecar.Suggestions.Find(s => s.Tag == p.Tag);
        if (existing is null && sidecar.Suggestions.Find(s => vocabulary.Resolve(s.Tag) == p.Tag) is { } stale)
        {
            // Suggested before its name became an alias: it is the same (media, tag).
            stale.ResolvedFrom ??= stale.Tag;
            stale.Tag = p.Tag;
            existing = stale;
        }

        if (existing is null)
        {
            if (!force && legacyRejected.Contains(p.Tag))
            {
                Report(SuggestionOutcomes.Rejected);
                return false;
            }

            var suggestion = new TagSuggestion { Tag = p.Tag, CreatedAt = now };
            Fill(suggestion, p);
            sidecar.Suggestions.Add(suggestion);
            Report(SuggestionOutcomes.Added);
            return true;
        }

        if (!force)
        {
            switch (existing.Status)
            {
                case SuggestionStatus.Rejected:
                    Report(SuggestionOutcomes.Rejected);
                    return false;
                case SuggestionStatus.Approved:
                    Report(SuggestionOutcomes.Approved);
                    return false;
                default:
                    Report(SuggestionOutcomes.Unchanged);
                    return true;
            }
        }

        if (existing.Status == SuggestionStatus.Pending && Same(existing, p))
        {
            Report(SuggestionOutcomes.Unchanged);
            return true;
        }

        Fill(existing, p);
        existing.Status = SuggestionStatus.Pending;
        existing.ReviewedBy = null;
        existing.ReviewedAt = null;
        existing.CreatedAt = now;
        Report(SuggestionOutcomes.Updated);
        return true;
    }

    private static void Fill(TagSuggestion s, Proposal p)
    {
        s.Confidence = p.Confidence;
        s.Model = p.Model;
        s.ModelVersion = p.Version;
        s.Category = p.Category == Vocabulary.DefaultCategory ? null : p.Category;
        s.External = p.External;
        s.ResolvedFrom = p.ResolvedFrom;
        s.ImpliedBy = p.ImpliedBy;
        s.Status = SuggestionStatus.Pending;
    }

    private static bool Same(TagSuggestion s, Proposal p) =>
        s.Confidence == p.Confidence && s.Model == p.Model && s.ModelVersion == p.Version && s.External == p.External
        && s.ResolvedFrom == p.ResolvedFrom && s.ImpliedBy == p.ImpliedBy;

    private static string NormalizeCategory(string? category) =>
        TagNames.TryNormalize(category, out var name, out _) ? name : Vocabulary.DefaultCategory;
}
