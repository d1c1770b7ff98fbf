using Trove.Application.Search;
using Trove.Domain;
using Trove.Search.Engine;

namespace Trove.Application.Captioning;

/// <summary>One media in the caption review queue, with its captions in the state asked for.</summary>
public sealed record CaptionQueueItem(string MediaId, int? Width, int? Height, IReadOnlyList<CaptionEntry> Captions, CaptionEntry? Primary);

public sealed record CaptionQueuePage(long Total, int Limit, string? Next, IReadOnlyList<CaptionQueueItem> Items);

/// <summary>
/// The caption review queue: media with generated captions in a review state (pending by default), found through the
/// search engine (<c>caption-status:pending</c>, combined with any query), paged by cursor.
/// </summary>
public sealed class CaptionQueries(TroveLibrary library)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 200;

    public async Task<CaptionQueuePage> QueueAsync(string? status, string? query, string? model, int limit, string? cursor, CancellationToken ct)
    {
        var state = string.IsNullOrWhiteSpace(status) ? CaptionStatus.Pending : status.Trim().ToLowerInvariant();
        if (!CaptionStatus.All.Contains(state, StringComparer.Ordinal))
        {
            throw new TroveUsageException("bad-status", $"'{status}' is not a caption status.", "Use pending, approved or rejected.");
        }

        if (limit < 1 || limit > MaxLimit)
        {
            throw new TroveUsageException("bad-limit", $"limit must be between 1 and {MaxLimit}.");
        }

        var text = $"caption-status:{state}" + (string.IsNullOrWhiteSpace(query) ? string.Empty : " " + query);
        var page = await new SearchService(library).SearchAsync(text, new SearchRequest(limit, 0, cursor), ct).ConfigureAwait(false);
        var items = new List<CaptionQueueItem>(page.Ids.Count);
        foreach (var id in page.Ids)
        {
            if (library.Files.TryReadSidecar(id) is not { } stored)
            {
                continue;
            }

            var captions = stored.Sidecar.Captions
                .Where(c => c.EffectiveStatus == state && c.Source == CaptionSources.Model && (model is null || c.Model == model))
                .ToList();
            items.Add(new CaptionQueueItem(id, stored.Sidecar.Original.Width, stored.Sidecar.Original.Height, captions, stored.Sidecar.PrimaryCaption));
        }

        return new CaptionQueuePage(page.Total, limit, page.NextCursor, items);
    }
}
