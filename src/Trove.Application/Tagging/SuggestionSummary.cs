using System.Globalization;

namespace Trove.Application.Tagging;

/// <summary>
/// What became of the labels of a suggestion run (docs/models.md, "Why nothing was suggested"). Every label that reached
/// its threshold is counted once, in <see cref="AboveThreshold"/> and in exactly one of: a new or refreshed suggestion, or
/// one of the reasons it was not — so that <c>AboveThreshold = Suggested + Refreshed − Implied + DroppedByVocabulary +
/// IgnoredByMapping + InvalidName + AlreadyProposed + AlreadyOnMedia + AlreadyPending + RejectedBefore + RemovedBefore</c>.
/// </summary>
public record LabelOutcomes
{
    /// <summary>Labels that reached their category's threshold (of the rating labels, the best one), summed over the media.</summary>
    public int AboveThreshold { get; init; }

    /// <summary>New pending suggestions (including parents suggested through implications, <see cref="Implied"/>).</summary>
    public int Suggested { get; init; }

    /// <summary>Existing suggestions that took the new confidence and became pending again (<c>--force</c>).</summary>
    public int Refreshed { get; init; }

    /// <summary>Of <see cref="Suggested"/> and <see cref="Refreshed"/>: parent tags a suggested tag implies (not labels of the model).</summary>
    public int Implied { get; init; }

    /// <summary>Labels no mapping names that the vocabulary policy drops: <c>existing</c> and the library has no such tag, or <c>ignore</c>.</summary>
    public int DroppedByVocabulary { get; init; }

    /// <summary>Labels the vocabulary's mapping file explicitly ignores.</summary>
    public int IgnoredByMapping { get; init; }

    /// <summary>Labels whose names cannot be Trove tags (map them explicitly).</summary>
    public int InvalidName { get; init; }

    /// <summary>Tags a model earlier in priority order (or a better-scoring label of the same model) already proposed for the media.</summary>
    public int AlreadyProposed { get; init; }

    /// <summary>Tags the media already have.</summary>
    public int AlreadyOnMedia { get; init; }

    /// <summary>Tags already suggested and waiting for review (left as they are).</summary>
    public int AlreadyPending { get; init; }

    /// <summary>Tags a person rejected before (not suggested again unless forced).</summary>
    public int RejectedBefore { get; init; }

    /// <summary>Tags a person approved before and later removed (not suggested again unless forced).</summary>
    public int RemovedBefore { get; init; }
}

/// <summary>What became of one tagger's labels in a run, with the vocabulary policy in force and, when it suggested nothing, why and what to do.</summary>
public sealed record TaggerSummary : LabelOutcomes
{
    /// <summary><c>model@version</c>.</summary>
    public required string Model { get; init; }

    /// <summary>The vocabulary policy in force: create, existing or ignore.</summary>
    public required string Policy { get; init; }

    /// <summary>Where the policy comes from: parameters, default, or the mapping file (<c>mappings/danbooru.json</c>).</summary>
    public required string PolicyFrom { get; init; }

    /// <summary>The model's vocabulary source (its labels go through <c>mappings/&lt;source&gt;.json</c>); null: the library's own tags.</summary>
    public string? Vocabulary { get; init; }

    /// <summary>Media the model scored.</summary>
    public int Media { get; init; }

    /// <summary>When the model suggested nothing: the main reason and the fix, in one sentence.</summary>
    public string? Hint { get; init; }

    /// <summary>One line: "wd14@v3 on 3 media: 0 suggested; 37 labels above threshold: 37 dropped by the vocabulary policy 'existing' (…)".</summary>
    public string Describe()
    {
        var head = Invariant($"{Model} on {Media} media: {Suggested} suggested")
            + (Implied > 0 ? Invariant($" ({Implied} through implications)") : string.Empty)
            + (Refreshed > 0 ? Invariant($", {Refreshed} refreshed") : string.Empty)
            + Invariant($"; {AboveThreshold} label(s) above threshold");
        var source = Vocabulary is { } v ? $"{TagMappingService.FolderName}/{v}.json" : "a mapping";
        var reasons = new List<string>();
        void Add(int count, string text)
        {
            if (count > 0)
            {
                reasons.Add(Invariant($"{count} {text}"));
            }
        }

        Add(DroppedByVocabulary, $"dropped by the vocabulary policy '{Policy}' ({(Policy == "ignore" ? "not mapped" : "no tag of that name in the library")})");
        Add(IgnoredByMapping, $"ignored by {source}");
        Add(InvalidName, "with names that cannot be tags");
        Add(AlreadyProposed, "already proposed by an earlier model");
        Add(AlreadyOnMedia, "already on the media");
        Add(AlreadyPending, "already pending review");
        Add(RejectedBefore, "rejected before");
        Add(RemovedBefore, "approved before and later removed");
        return head + (reasons.Count > 0 ? ": " + string.Join(", ", reasons) : string.Empty) + ".";
    }

    /// <summary>When a model suggested nothing on some media: the reason that took most labels, and what to do about it.</summary>
    internal static string? HintFor(TaggerSummary s, string modelId, VocabularyPolicy policy)
    {
        if (s.Media == 0 || s.Suggested + s.Refreshed > 0)
        {
            return null;
        }

        if (s.AboveThreshold == 0)
        {
            return $"No label of {s.Model} reached its threshold on these media: lower \"thresholds\" in its parameters in models.json to see less certain tags (docs/models.md).";
        }

        var file = policy.Source is { } source ? $"{TagMappingService.FolderName}/{source}.json" : null;
        var fix = $"trove models set {modelId} --vocabulary-policy create";
        (int Count, string Text)[] reasons =
        [
            (s.DroppedByVocabulary, policy.Policy == UnmappedPolicy.Ignore
                ? $"{s.Model} has the vocabulary policy 'ignore' ({policy.Origin}): only labels mapped in {file} are suggested. Map them there, or run '{fix}' to suggest them under their own names."
                : $"{s.Model} has the vocabulary policy 'existing' ({policy.Origin}) and the library has no tag named like its labels yet. Run '{fix}' to suggest them as new tags (approving one creates it), then suggest again."),
            (s.IgnoredByMapping, $"{file} ignores these labels of {s.Model}: take them out of its \"ignore\" list to have them suggested."),
            (s.InvalidName, file is null
                ? $"The names of these labels of {s.Model} cannot be Trove tags: give the model a \"vocabulary\" and map them in mappings/<vocabulary>.json."
                : $"The names of these labels of {s.Model} cannot be Trove tags: map them to tags in {file}."),
            (s.RejectedBefore + s.RemovedBefore, "These tags were rejected (or approved and later removed) before: 'trove suggest QUERY --force' suggests them again."),
            (s.AlreadyPending, "These tags are already waiting for review: see the review queue (/review) or 'trove suggestions list ID'."),
            (s.AlreadyOnMedia, "The media already have these tags; there was nothing new to suggest."),
            (s.AlreadyProposed, $"Models earlier in priority order already proposed these tags; {s.Model} only adds what they lack."),
        ];
        return reasons.MaxBy(r => r.Count).Text;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The labels of all taggers of a run: the totals, each tagger's summary, one line to show and the hints.</summary>
public sealed record SuggestionSummary : LabelOutcomes
{
    public static SuggestionSummary Empty { get; } = new() { Text = "No tagger ran." };

    /// <summary>One per tagger, in priority order.</summary>
    public IReadOnlyList<TaggerSummary> ByModel { get; init; } = [];

    /// <summary>Each tagger's <see cref="TaggerSummary.Describe"/>, one after the other.</summary>
    public required string Text { get; init; }

    /// <summary>The hints of the taggers that suggested nothing (null when every tagger suggested something, or no media were tagged).</summary>
    public string? Hint { get; init; }

    public static SuggestionSummary Of(IReadOnlyList<TaggerSummary> byModel)
    {
        ArgumentNullException.ThrowIfNull(byModel);
        if (byModel.Count == 0)
        {
            return Empty;
        }

        var hints = byModel.Select(m => m.Hint).OfType<string>().ToList();
        return new SuggestionSummary
        {
            ByModel = byModel,
            Text = string.Join(" ", byModel.Select(m => m.Describe())),
            Hint = hints.Count > 0 ? string.Join(" ", hints) : null,
            AboveThreshold = byModel.Sum(m => m.AboveThreshold),
            Suggested = byModel.Sum(m => m.Suggested),
            Refreshed = byModel.Sum(m => m.Refreshed),
            Implied = byModel.Sum(m => m.Implied),
            DroppedByVocabulary = byModel.Sum(m => m.DroppedByVocabulary),
            IgnoredByMapping = byModel.Sum(m => m.IgnoredByMapping),
            InvalidName = byModel.Sum(m => m.InvalidName),
            AlreadyProposed = byModel.Sum(m => m.AlreadyProposed),
            AlreadyOnMedia = byModel.Sum(m => m.AlreadyOnMedia),
            AlreadyPending = byModel.Sum(m => m.AlreadyPending),
            RejectedBefore = byModel.Sum(m => m.RejectedBefore),
            RemovedBefore = byModel.Sum(m => m.RemovedBefore),
        };
    }
}

/// <summary>Counts one tagger's labels over a run (the runner's store stage adds each stored media).</summary>
internal sealed class TaggerTally(string model, string version, VocabularyPolicy policy)
{
    private int _media, _above, _suggested, _refreshed, _implied, _vocabulary, _ignored, _invalid, _proposed, _onMedia, _pending, _rejected, _removed;

    /// <summary>Adds one media: what mapping made of the model's selected labels, and what merging did with its candidates.</summary>
    public void Add(CandidateSet mapped, IReadOnlyList<SuggestionChange> changes)
    {
        _media++;
        var candidates = mapped.Candidates.Candidates.Count;
        _above += candidates + mapped.Dropped.Count;
        foreach (var d in mapped.Dropped)
        {
            switch (d.Kind)
            {
                case MappingKind.Ignored:
                    _ignored++;
                    break;
                case MappingKind.Invalid:
                    _invalid++;
                    break;
                default:
                    _vocabulary++;
                    break;
            }
        }

        var direct = 0;
        foreach (var c in changes)
        {
            if (c.Model != model || c.ModelVersion != version)
            {
                continue;
            }

            var implied = c.ImpliedBy is not null;
            if (!implied)
            {
                direct++;
            }

            switch (c.Outcome)
            {
                case SuggestionOutcomes.Added:
                    _suggested++;
                    _implied += implied ? 1 : 0;
                    break;
                case SuggestionOutcomes.Updated:
                    _refreshed++;
                    _implied += implied ? 1 : 0;
                    break;
                case SuggestionOutcomes.Unchanged when !implied:
                    _pending++;
                    break;
                case SuggestionOutcomes.HasTag when !implied:
                    _onMedia++;
                    break;
                case SuggestionOutcomes.Rejected when !implied:
                    _rejected++;
                    break;
                case SuggestionOutcomes.Approved when !implied:
                    _removed++;
                    break;
                case SuggestionOutcomes.Invalid when !implied:
                    _invalid++;
                    break;
                default:
                    break;
            }
        }

        // Every candidate of this model gets one change unless an earlier model (or a better label) had its tag.
        _proposed += Math.Max(0, candidates - direct);
    }

    public TaggerSummary ToSummary()
    {
        var summary = new TaggerSummary
        {
            Model = $"{model}@{version}",
            Policy = policy.Name,
            PolicyFrom = policy.From,
            Vocabulary = policy.Source,
            Media = _media,
            AboveThreshold = _above,
            Suggested = _suggested,
            Refreshed = _refreshed,
            Implied = _implied,
            DroppedByVocabulary = _vocabulary,
            IgnoredByMapping = _ignored,
            InvalidName = _invalid,
            AlreadyProposed = _proposed,
            AlreadyOnMedia = _onMedia,
            AlreadyPending = _pending,
            RejectedBefore = _rejected,
            RemovedBefore = _removed,
        };
        return summary with { Hint = TaggerSummary.HintFor(summary, model, policy) };
    }
}
