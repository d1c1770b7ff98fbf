using System.Collections.Concurrent;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application.Search;

/// <summary>What a grid or a result list shows of one media: type, size, tags (in name order).</summary>
public sealed record MediaCard(
    string Id,
    string Kind,
    string MediaType,
    string Ext,
    int? Width,
    int? Height,
    long Size,
    IReadOnlyList<string> Tags,
    DateTimeOffset CreatedAt,
    string? Uploader,
    bool InTrash);

/// <summary>
/// Reads cards for a page of ids from the sidecars (the truth), in the order given; ids that vanished meanwhile are
/// skipped. Cards are remembered with the size and modification time of the sidecar they came from: a page whose
/// sidecars did not change costs one stat per media instead of a read and a parse (sidecars are replaced by rename
/// on every change, so a changed one always shows a new stat).
/// </summary>
public sealed class MediaCards(TroveLibrary library)
{
    /// <summary>How many cards are remembered (about 300 bytes each) before the memory is emptied and refilled.</summary>
    public const int MaxRemembered = 200_000;

    private readonly ConcurrentDictionary<string, Remembered> _cards = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<MediaCard>> ReadAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var cards = new List<MediaCard>(ids.Count);
        foreach (var id in ids)
        {
            ct.ThrowIfCancellationRequested();
            if (Read(id) is { } card)
            {
                cards.Add(card);
            }
        }

        return Task.FromResult<IReadOnlyList<MediaCard>>(cards);
    }

    private MediaCard? Read(string id)
    {
        foreach (var trash in (ReadOnlySpan<bool>)[false, true])
        {
            var path = library.Layout.SidecarPath(id, trash);
            var before = Stat(path);
            if (before is null)
            {
                continue;
            }

            if (_cards.TryGetValue(id, out var known) && known.Stat == before && known.Card.InTrash == trash)
            {
                return known.Card;
            }

            StoredSidecar? stored;
            try
            {
                stored = library.Files.TryReadSidecar(id);
            }
            catch (Exception ex) when (ex is IOException or FileFormatException)
            {
                return null;
            }

            if (stored is null)
            {
                return null;
            }

            var card = ToCard(stored);
            if (stored.InTrash == trash && Stat(path) == before)
            {
                if (_cards.Count >= MaxRemembered)
                {
                    _cards.Clear();
                }

                _cards[id] = new Remembered(before.Value, card);
            }

            return card;
        }

        return null;
    }

    private static (long Length, long Ticks)? Stat(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc.Ticks) : null;
    }

    private static MediaCard ToCard(StoredSidecar stored)
    {
        var s = stored.Sidecar;
        return new MediaCard(
            s.Id, s.Kind, s.Original.MediaType, s.Original.Ext, s.Original.Width, s.Original.Height, s.Original.Size,
            s.Tags.Select(t => t.Name).Order(StringComparer.Ordinal).ToList(), s.CreatedAt, s.Uploader, stored.InTrash);
    }

    private sealed record Remembered((long Length, long Ticks) Stat, MediaCard Card);
}
