using Trove.Application.Search;
using Trove.Domain;
using Trove.Search.Engine;

namespace Trove.Application.Captioning;

/// <summary>One media in the caption review queue, with its captions in the state asked for.</summary>
public sealed record CaptionQueueItem(string MediaId, int? Width, int? Height, IReadOnlyList<CaptionEntry> Captions, CaptionEntry? Primary);

public sealed record CaptionQueuePage(long Total, int Limit, string? Next, IReadOnlyList<CaptionQueueItem> Items);

/// <summary>How many captions (and media holding them) the queue has; <see cref="Capped"/> when only the first media were counted.</summary>
public sealed record CaptionQueueCounts(long Media, long Captions, bool Capped);

/// <summary>
/// The caption review queue: media with generated captions in a review state (pending by default), found through the
/// search engine (<c>caption-status:pending</c>, combined with any query), paged by cursor. <c>model</c> is a model id
/// or <c>id@version</c>; it selects the captions listed (media without such a caption are left out of the page).
/// </summary>
public sealed class CaptionQueries(TroveLibrary library)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 200;

    /// <summary>Counting reads the sidecars of the queue's media; past this many media it stops (and says so).</summary>
    public const int CountCap = 5_000;

    public async Task<CaptionQueuePage> QueueAsync(string? status, string? query, string? model, int limit, string? cursor, CancellationToken ct)
    {
        var state = State(status);
        if (limit < 1 || limit > MaxLimit)
        {
            throw new TroveUsageException("bad-limit", $"limit must be between 1 and {MaxLimit}.");
        }

        // With a model filter some media of a search page have no caption to list: read on (up to CountCap media) to fill the page.
        var search = new SearchService(library);
        var items = new List<CaptionQueueItem>(limit);
        long total = 0;
        var scanned = 0;
        var first = true;
        while (first || (cursor is not null && items.Count < limit && scanned < CountCap))
        {
            var page = await search.SearchAsync(Query(state, query), new SearchRequest(limit - items.Count, 0, cursor), ct).ConfigureAwait(false);
            if (first)
            {
                total = page.Total;
                first = false;
            }

            foreach (var id in page.Ids)
            {
                scanned++;
                if (library.Files.TryReadSidecar(id) is not { } stored)
                {
                    continue;
                }

                var captions = Matching(stored.Sidecar, state, model).ToList();
                if (captions.Count > 0)
                {
                    items.Add(new CaptionQueueItem(id, stored.Sidecar.Original.Width, stored.Sidecar.Original.Height, captions, stored.Sidecar.PrimaryCaption));
                }
            }

            cursor = page.NextCursor;
        }

        return new CaptionQueuePage(total, limit, cursor, items);
    }

    /// <summary>The generated captions in <paramref name="status"/> (and their media) that match the query and model, for the queue's summary.</summary>
    public async Task<CaptionQueueCounts> CountAsync(string? status, string? query, string? model, CancellationToken ct)
    {
        var state = State(status);
        var search = new SearchService(library);
        long media = 0, captions = 0;
        var seen = 0;
        string? cursor = null;
        do
        {
            var page = await search.SearchAsync(Query(state, query), new SearchRequest(Math.Min(SearchService.MaxLimit, CountCap), 0, cursor), ct).ConfigureAwait(false);
            foreach (var id in page.Ids)
            {
                if (++seen > CountCap)
                {
                    return new CaptionQueueCounts(media, captions, Capped: true);
                }

                if (library.Files.TryReadSidecar(id) is { } stored && Matching(stored.Sidecar, state, model).Count() is > 0 and var n)
                {
                    media++;
                    captions += n;
                }
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return new CaptionQueueCounts(media, captions, Capped: false);
    }

    private static string State(string? status)
    {
        var state = string.IsNullOrWhiteSpace(status) ? CaptionStatus.Pending : status.Trim().ToLowerInvariant();
        if (!CaptionStatus.All.Contains(state, StringComparer.Ordinal))
        {
            throw new TroveUsageException("bad-status", $"'{status}' is not a caption status.", "Use pending, approved or rejected.");
        }

        return state;
    }

    private static string Query(string state, string? query) =>
        $"caption-status:{state}" + (string.IsNullOrWhiteSpace(query) ? string.Empty : " (" + query + ")");

    private static IEnumerable<CaptionEntry> Matching(MediaSidecar sidecar, string state, string? model)
    {
        var (id, version) = SplitModel(model);
        return sidecar.Captions.Where(c =>
            c.EffectiveStatus == state
            && c.Source == CaptionSources.Model
            && (id is null || string.Equals(c.Model, id, StringComparison.Ordinal))
            && (version is null || string.Equals(c.ModelVersion, version, StringComparison.Ordinal)));
    }

    private static (string? Id, string? Version) SplitModel(string? model)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return (null, null);
        }

        var text = model.Trim();
        var at = text.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? (text, null) : (text[..at], text[(at + 1)..] is { Length: > 0 } v ? v : null);
    }
}
