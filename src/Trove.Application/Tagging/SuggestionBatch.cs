using Microsoft.Extensions.Logging;
using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>One media's merged candidates, ready to be stored.</summary>
/// <param name="Id">A full media id.</param>
/// <param name="ByPriority">Each model's candidates, highest priority first.</param>
public sealed record SuggestionBatchItem(string Id, IReadOnlyList<ModelCandidates> ByPriority);

/// <summary>What <see cref="SuggestionBatch.ApplyAsync"/> stored, and the media it could not (gone since they were read).</summary>
public sealed record SuggestionBatchResult(IReadOnlyList<SuggestionApplyResult> Applied, IReadOnlyList<TaggingFailure> Failed);

/// <summary>
/// Stores the suggestions of many media in one write session: each changed sidecar is written (atomically, as always),
/// and the index takes them in one transaction, so a batch of N media costs one commit instead of N. A media deleted
/// meanwhile is reported and the others are stored.
/// </summary>
public static class SuggestionBatch
{
    public static async Task<SuggestionBatchResult> ApplyAsync(TroveLibrary library, IReadOnlyList<SuggestionBatchItem> items, bool force, SuggestionOptions? options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(items);
        var applied = new List<SuggestionApplyResult>(items.Count);
        var failed = new List<TaggingFailure>();
        if (items.Count == 0)
        {
            return new SuggestionBatchResult(applied, failed);
        }

        var logger = library.Environment.LoggerFactory.CreateLogger("Trove.Suggestions");
        options ??= new SuggestionOptions();
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        foreach (var item in items)
        {
            var stored = session.TryRead(item.Id);
            if (stored is null)
            {
                failed.Add(new TaggingFailure(item.Id, "media-not-found", $"Media {item.Id} no longer exists; its suggestions were not stored."));
                continue;
            }

            var changes = SuggestionMerger.Apply(stored.Sidecar, session.Vocabulary, item.ByPriority, force, session.Now, options);
            var added = changes.Count(c => c.Outcome == SuggestionOutcomes.Added);
            var updated = changes.Count(c => c.Outcome == SuggestionOutcomes.Updated);
            var written = added + updated > 0;
            if (written)
            {
                await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
                var models = string.Join(' ', item.ByPriority.Select(m => $"{m.Model}@{m.ModelVersion}"));
                session.Audit(force ? "suggest.force" : "suggest.apply", item.Id, $"{added} added, {updated} updated by {models}");
            }

            var result = new SuggestionApplyResult(item.Id, changes, written);
            TaggingLog.SuggestionsApplied(logger, item.Id[..Math.Min(12, item.Id.Length)], added, updated, result.Skipped);
            applied.Add(result);
        }

        return new SuggestionBatchResult(applied, failed);
    }
}
