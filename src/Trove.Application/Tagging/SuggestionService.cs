using Microsoft.Extensions.Logging;
using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>What <see cref="SuggestionService.ApplyAsync"/> did to one media.</summary>
/// <param name="Written">Whether the sidecar changed (and was written once).</param>
public sealed record SuggestionApplyResult(string Id, IReadOnlyList<SuggestionChange> Changes, bool Written)
{
    public int Added => Changes.Count(c => c.Outcome == SuggestionOutcomes.Added);

    public int Updated => Changes.Count(c => c.Outcome == SuggestionOutcomes.Updated);

    public int Skipped => Changes.Count(c => c.Outcome is not (SuggestionOutcomes.Added or SuggestionOutcomes.Updated or SuggestionOutcomes.Unchanged));
}

/// <summary>
/// A media's suggestions (copies; change them through the service), possibly only those of one status, with the counts
/// of <em>all</em> its suggestions by status (whatever the filter).
/// </summary>
public sealed record SuggestionList(string Id, IReadOnlyList<TagSuggestion> Suggestions, int Pending, int Approved, int Rejected)
{
    /// <summary>All the media's suggestions, of any status.</summary>
    public int Total => Pending + Approved + Rejected;
}

public static class ReviewActions
{
    public const string Approve = "approve";
    public const string Reject = "reject";
}

/// <summary>
/// The outcome of one approve/reject. <see cref="Code"/> names a failure (invalid-tag, suggestion-not-found,
/// already-approved, already-rejected, approve-and-reject) or, on success, a remark (already-tagged: approved, but
/// the media had the tag already).
/// </summary>
public sealed record ReviewItemResult(string Tag, string Action, bool Ok, string? Code = null, string? Message = null);

/// <param name="Items">One per distinct tag asked for, in the order asked.</param>
/// <param name="TagsAdded">Tags added to the media: approved ones and what they imply.</param>
/// <param name="AlsoApproved">Pending suggestions approved because an approved tag implies them.</param>
/// <param name="Tags">The media's tags afterwards.</param>
public sealed record ReviewResult(string Id, IReadOnlyList<ReviewItemResult> Items, IReadOnlyList<string> TagsAdded, IReadOnlyList<string> AlsoApproved, IReadOnlyList<string> Tags)
{
    public int Approved => Items.Count(i => i.Ok && i.Action == ReviewActions.Approve);

    public int Rejected => Items.Count(i => i.Ok && i.Action == ReviewActions.Reject);

    public int Failed => Items.Count(i => !i.Ok);
}

/// <summary>
/// Model suggestions on media and their review. Suggestions live in the sidecar (people's decisions survive a
/// rebuild); every write is one sidecar write under the library lock. Approving adds the tag with source
/// <c>suggestion</c> and via <c>model@version</c>; rejecting records who and when, and the tag is never suggested
/// again for that media unless forced. See docs/models.md, "Suggestions and review".
/// </summary>
public sealed class SuggestionService(TroveLibrary library, SuggestionOptions? options = null)
{
    private readonly SuggestionOptions _options = options ?? new SuggestionOptions();
    private readonly ILogger _logger = library.Environment.LoggerFactory.CreateLogger("Trove.Suggestions");

    /// <summary>How an approved suggestion is named in the tag's <see cref="TagEntry.Via"/>: <c>model@version</c>.</summary>
    public static string Provenance(TagSuggestion s) =>
        s.ModelVersion is { Length: > 0 } v ? $"{s.Model}@{v}" : s.Model ?? "unknown-model";

    /// <summary>
    /// Merges the candidates of several models (highest priority first) into the media's suggestions, in one write.
    /// </summary>
    /// <param name="force">Suggest rejected tags again, and refresh existing suggestions (new confidence, pending again).</param>
    public async Task<SuggestionApplyResult> ApplyAsync(string idOrPrefix, IReadOnlyList<ModelCandidates> byPriority, bool force, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(byPriority);
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        var stored = await SuggestionBatch.ApplyAsync(library, [new SuggestionBatchItem(id, byPriority)], force, _options, ct).ConfigureAwait(false);
        if (stored.Failed is [var failure, ..])
        {
            throw new TroveException(failure.Code, failure.Message);
        }

        return stored.Applied[0];
    }

    /// <summary>The media's suggestions, optionally only one status, best confidence first; the counts cover all of them.</summary>
    public async Task<SuggestionList> ListAsync(string idOrPrefix, string? status, CancellationToken ct)
    {
        var wanted = status?.Trim().ToLowerInvariant();
        if (wanted is { Length: 0 })
        {
            wanted = null;
        }

        if (wanted is not null && !SuggestionStatus.IsKnown(wanted))
        {
            throw new TroveUsageException("invalid-status", $"'{status}' is not a suggestion status.", "Use pending, approved or rejected.");
        }

        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        var sidecar = library.Files.ReadSidecar(id).Sidecar;
        var list = sidecar.Suggestions
            .Where(s => wanted is null || s.Status == wanted)
            .OrderByDescending(s => s.Confidence)
            .ThenBy(s => s.Tag, StringComparer.Ordinal)
            .ToList();
        return new SuggestionList(
            id,
            list,
            sidecar.Suggestions.Count(s => s.Status == SuggestionStatus.Pending),
            sidecar.Suggestions.Count(s => s.Status == SuggestionStatus.Approved),
            sidecar.Suggestions.Count(s => s.Status == SuggestionStatus.Rejected));
    }

    /// <summary>
    /// Approves and rejects pending suggestions of one media in one write, with a result per tag (a failing item does not
    /// stop the others). Tags may be given by alias. Approving adds the tag (source suggestion, via model@version) and
    /// what it implies; a pending suggestion for an implied tag is approved with it. A tag new to the library takes the
    /// suggestion's category (e.g. rating_explicit → rating) when the vocabulary has none for it.
    /// </summary>
    public async Task<ReviewResult> ReviewAsync(string idOrPrefix, IReadOnlyList<string> approve, IReadOnlyList<string> reject, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(approve);
        ArgumentNullException.ThrowIfNull(reject);
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = session.Read(id);
        var sidecar = stored.Sidecar;
        var vocabulary = session.Vocabulary;
        var actor = library.Actor;
        var now = session.Now;

        // Resolve every requested name first, so a tag named in both lists fails in both.
        var requests = new List<(string Raw, string Action, string? Tag, string? Error)>();
        var seen = new HashSet<(string, string)>();
        foreach (var (names, action) in new[] { (approve, ReviewActions.Approve), (reject, ReviewActions.Reject) })
        {
            foreach (var raw in names)
            {
                if (!TagNames.TryNormalize(raw, out var name, out var error))
                {
                    requests.Add((raw, action, null, error));
                    continue;
                }

                var tag = vocabulary.Resolve(name);
                if (seen.Add((tag, action)))
                {
                    requests.Add((raw, action, tag, null));
                }
            }
        }

        var both = requests.Where(r => r.Tag is not null).GroupBy(r => r.Tag!).Where(g => g.Select(r => r.Action).Distinct().Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var items = new List<ReviewItemResult>();
        var approved = new List<TagSuggestion>();
        var rejectedNames = new List<string>();
        foreach (var (raw, action, tag, error) in requests)
        {
            if (tag is null)
            {
                items.Add(new ReviewItemResult(raw, action, false, "invalid-tag", error));
                continue;
            }

            if (both.Contains(tag))
            {
                items.Add(new ReviewItemResult(tag, action, false, "approve-and-reject", $"'{tag}' is both approved and rejected; name it in one list only."));
                continue;
            }

            var suggestion = sidecar.Suggestions.Find(s => s.Tag == tag);
            if (suggestion is null && sidecar.Suggestions.Find(s => vocabulary.Resolve(s.Tag) == tag) is { } stale)
            {
                // Suggested before its name became an alias: it is decided (and stored) under the canonical tag.
                stale.ResolvedFrom ??= stale.Tag;
                stale.Tag = tag;
                suggestion = stale;
            }

            if (suggestion is null)
            {
                items.Add(new ReviewItemResult(tag, action, false, "suggestion-not-found", $"{id[..12]} has no suggestion '{tag}'."));
                continue;
            }

            if (suggestion.Status != SuggestionStatus.Pending)
            {
                var by = suggestion.ReviewedBy is { } who ? $" by {who}" : string.Empty;
                var at = suggestion.ReviewedAt is { } when ? $" on {when:yyyy-MM-dd HH:mm}" : string.Empty;
                items.Add(new ReviewItemResult(tag, action, false, "already-" + suggestion.Status, $"'{tag}' was already {suggestion.Status}{by}{at}."));
                continue;
            }

            suggestion.ReviewedBy = actor;
            suggestion.ReviewedAt = now;
            if (action == ReviewActions.Reject)
            {
                suggestion.Status = SuggestionStatus.Rejected;
                rejectedNames.Add(tag);
                items.Add(new ReviewItemResult(tag, action, true));
                continue;
            }

            suggestion.Status = SuggestionStatus.Approved;
            approved.Add(suggestion);
            items.Add(sidecar.HasTag(tag)
                ? new ReviewItemResult(tag, action, true, "already-tagged", $"{id[..12]} already had '{tag}'; the suggestion is marked approved.")
                : new ReviewItemResult(tag, action, true));
        }

        var added = new List<string>();
        foreach (var s in approved.Where(s => !sidecar.HasTag(s.Tag)))
        {
            sidecar.Tags.Add(new TagEntry { Name = s.Tag, AddedAt = now, AddedBy = actor, Source = TagSources.Suggestion, Via = Provenance(s) });
            added.Add(s.Tag);
        }

        added.AddRange(TagApplier.ApplyVocabulary(sidecar, vocabulary, actor, now));

        // Implied tags that were pending suggestions have been decided by this approval.
        var alsoApproved = new List<string>();
        foreach (var s in sidecar.Suggestions.Where(s => s.Status == SuggestionStatus.Pending && added.Contains(s.Tag)))
        {
            s.Status = SuggestionStatus.Approved;
            s.ReviewedBy = actor;
            s.ReviewedAt = now;
            alsoApproved.Add(s.Tag);
        }

        if (approved.Count + rejectedNames.Count > 0)
        {
            var categorised = await CategoriseNewTagsAsync(session, approved, added, ct).ConfigureAwait(false);
            await session.SaveAsync(sidecar, stored.InTrash, ct).ConfigureAwait(false);
            if (approved.Count > 0)
            {
                session.Audit("suggest.approve", id, string.Join(' ', approved.Select(s => $"{s.Tag}({Provenance(s)})")));
            }

            if (rejectedNames.Count > 0)
            {
                session.Audit("suggest.reject", id, string.Join(' ', rejectedNames));
            }

            if (categorised.Count > 0)
            {
                session.Audit("tags.category", string.Join(' ', categorised), "from approved suggestions");
            }
        }

        var failed = items.Count(i => !i.Ok);
        TaggingLog.SuggestionsReviewed(_logger, id[..12], approved.Count, rejectedNames.Count, failed);
        return new ReviewResult(id, items, added, alsoApproved, sidecar.Tags.Select(t => t.Name).ToList());
    }

    /// <summary>
    /// Gives tags that are new to the library (no media carries them, the vocabulary says nothing about them) the category
    /// the model gave them, so that an approved rating_explicit or character tag lands in its category.
    /// </summary>
    private static async Task<List<string>> CategoriseNewTagsAsync(WriteSession session, List<TagSuggestion> approved, List<string> added, CancellationToken ct)
    {
        var vocabulary = session.Vocabulary;
        var result = new List<string>();
        foreach (var s in approved)
        {
            if (s.Category is not { } category || category == Vocabulary.DefaultCategory || !added.Contains(s.Tag)
                || vocabulary.Tags.ContainsKey(s.Tag) || !vocabulary.CategoryExists(category))
            {
                continue;
            }

            var carriers = await session.Library.Index.MediaWithAnyTagAsync([s.Tag], ct).ConfigureAwait(false);
            if (carriers.Count == 0)
            {
                vocabulary.SetCategory(s.Tag, category);
                result.Add(s.Tag);
            }
        }

        if (result.Count > 0)
        {
            await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
        }

        return result;
    }
}
