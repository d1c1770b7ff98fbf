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

/// <summary>Reads cards for a page of ids from the sidecars (the truth), in the order given; ids that vanished meanwhile are skipped.</summary>
public sealed class MediaCards(TroveLibrary library)
{
    public Task<IReadOnlyList<MediaCard>> ReadAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var cards = new MediaCard?[ids.Count];
        var options = new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) };
        if (ids.Count <= 8)
        {
            for (var i = 0; i < ids.Count; i++)
            {
                cards[i] = Read(ids[i]);
            }
        }
        else
        {
            Parallel.For(0, ids.Count, options, i => cards[i] = Read(ids[i]));
        }

        return Task.FromResult<IReadOnlyList<MediaCard>>(cards.OfType<MediaCard>().ToList());
    }

    private MediaCard? Read(string id)
    {
        StoredSidecar? stored;
        try
        {
            stored = library.Files.TryReadSidecar(id);
        }
        catch (Exception ex) when (ex is IOException or Library.FileFormatException)
        {
            return null;
        }

        if (stored is null)
        {
            return null;
        }

        var s = stored.Sidecar;
        return new MediaCard(
            s.Id, s.Kind, s.Original.MediaType, s.Original.Ext, s.Original.Width, s.Original.Height, s.Original.Size,
            s.Tags.Select(t => t.Name).Order(StringComparer.Ordinal).ToList(), s.CreatedAt, s.Uploader, stored.InTrash);
    }
}
