using Trove.Domain;

namespace Trove.Application;

public sealed record CaptionListing(string Id, IReadOnlyList<CaptionEntry> Captions);

/// <summary>Several captions per media, one primary (used for export).</summary>
public sealed class CaptionService(TroveLibrary library)
{
    /// <summary>Sets the primary caption's text: edits it if it was written by hand, else adds a new manual primary caption.</summary>
    public Task<CaptionListing> SetAsync(string idOrPrefix, string text, CancellationToken ct) =>
        MutateAsync(idOrPrefix, "caption.set", (sidecar, now) =>
        {
            var clean = Clean(text);
            var primary = sidecar.Captions.Find(c => c.Primary);
            if (primary is { Source: CaptionSources.Manual })
            {
                primary.Text = clean;
                primary.UpdatedAt = now;
                return;
            }

            AddCaption(sidecar, clean, primary: true, now);
        }, ct);

    public Task<CaptionListing> AddAsync(string idOrPrefix, string text, bool primary, CancellationToken ct) =>
        MutateAsync(idOrPrefix, "caption.add", (sidecar, now) => AddCaption(sidecar, Clean(text), primary || sidecar.Captions.Count == 0, now), ct);

    public Task<CaptionListing> MarkPrimaryAsync(string idOrPrefix, int captionId, CancellationToken ct) =>
        MutateAsync(idOrPrefix, "caption.primary", (sidecar, _) =>
        {
            var target = Find(sidecar, captionId);
            foreach (var c in sidecar.Captions)
            {
                c.Primary = ReferenceEquals(c, target);
            }
        }, ct);

    public Task<CaptionListing> RemoveAsync(string idOrPrefix, int captionId, CancellationToken ct) =>
        MutateAsync(idOrPrefix, "caption.remove", (sidecar, _) =>
        {
            var target = Find(sidecar, captionId);
            sidecar.Captions.Remove(target);
            if (target.Primary && sidecar.Captions.Count > 0)
            {
                sidecar.Captions[0].Primary = true;
            }
        }, ct);

    public async Task<CaptionListing> ListAsync(string idOrPrefix, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        return new CaptionListing(id, library.Files.ReadSidecar(id).Sidecar.Captions);
    }

    private void AddCaption(MediaSidecar sidecar, string text, bool primary, DateTimeOffset now)
    {
        if (primary)
        {
            sidecar.Captions.ForEach(c => c.Primary = false);
        }

        var next = sidecar.NextCaptionId();
        sidecar.Captions.Add(new CaptionEntry { Id = next, Text = text, Primary = primary, Source = CaptionSources.Manual, CreatedAt = now, CreatedBy = library.Actor });
    }

    private static CaptionEntry Find(MediaSidecar sidecar, int captionId) =>
        sidecar.Captions.Find(c => c.Id == captionId)
        ?? throw new TroveUsageException(
            "caption-not-found",
            $"Media {sidecar.Id[..12]} has no caption #{captionId}" + (sidecar.Captions.Count == 0 ? " (it has no captions)." : $" (it has #{string.Join(", #", sidecar.Captions.Select(c => c.Id))})."),
            $"List them with 'trove caption list {sidecar.Id[..12]}'.");

    private static string Clean(string text)
    {
        var clean = text.Trim();
        if (clean.Length == 0)
        {
            throw new TroveUsageException("empty-caption", "A caption cannot be empty.", "To delete a caption use 'trove caption remove ID N'.");
        }

        return clean;
    }

    private async Task<CaptionListing> MutateAsync(string idOrPrefix, string action, Action<MediaSidecar, DateTimeOffset> change, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = session.Read(id);
        change(stored.Sidecar, session.Now);
        await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
        session.Audit(action, id);
        return new CaptionListing(id, stored.Sidecar.Captions);
    }
}
