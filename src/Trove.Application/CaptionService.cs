using Trove.Domain;

namespace Trove.Application;

public sealed record CaptionListing(string Id, IReadOnlyList<CaptionEntry> Captions);

/// <summary>What a reviewer does with a generated caption.</summary>
public enum CaptionReviewAction
{
    /// <summary>Keep it (with the reviewer's edited text, if given); it becomes primary when the media has no approved primary caption.</summary>
    Approve,

    /// <summary>Keep it out of search and export; it stays in the sidecar so the model does not write it again.</summary>
    Reject,

    /// <summary>Approve it and make it the media's primary caption.</summary>
    Primary,
}

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
        MutateAsync(idOrPrefix, "caption.add", (sidecar, now) => AddCaption(sidecar, Clean(text), primary || !sidecar.Captions.Exists(c => c.IsApproved), now), ct);

    public Task<CaptionListing> MarkPrimaryAsync(string idOrPrefix, int captionId, CancellationToken ct) =>
        ReviewAsync(idOrPrefix, captionId, CaptionReviewAction.Primary, null, ct);

    /// <summary>
    /// Approves (optionally with edited text), rejects or makes primary a caption. For a generated caption the reviewer
    /// and time are recorded and the model's own words kept in <c>generatedText</c> when edited; people's captions can be
    /// made primary (approving them is a no-op, rejecting them is refused: remove them instead).
    /// </summary>
    public Task<CaptionListing> ReviewAsync(string idOrPrefix, int captionId, CaptionReviewAction action, string? text, CancellationToken ct) =>
        MutateAsync(idOrPrefix, "caption." + action.ToString().ToLowerInvariant(), (sidecar, now) =>
        {
            var target = Find(sidecar, captionId);
            var generated = target.Source == CaptionSources.Model;
            if (!generated && action == CaptionReviewAction.Reject)
            {
                throw new TroveUsageException(
                    "caption-not-generated",
                    $"Caption #{captionId} of {sidecar.Id[..12]} was written by {target.CreatedBy ?? "a person"}, not a model; only generated captions are reviewed.",
                    $"Remove it with 'trove caption remove {sidecar.Id[..12]} {captionId}'.");
            }

            if (text is not null)
            {
                var clean = Clean(text);
                if (generated && !string.Equals(clean, target.Text, StringComparison.Ordinal))
                {
                    target.GeneratedText ??= target.Text;
                }

                if (!string.Equals(clean, target.Text, StringComparison.Ordinal))
                {
                    target.Text = clean;
                    target.UpdatedAt = now;
                }
            }

            if (generated)
            {
                target.Status = action == CaptionReviewAction.Reject ? CaptionStatus.Rejected : CaptionStatus.Approved;
                target.ReviewedBy = library.Actor;
                target.ReviewedAt = now;
            }

            if (action == CaptionReviewAction.Reject)
            {
                target.Primary = false;
                return;
            }

            var hasPrimary = sidecar.Captions.Exists(c => c.Primary && c.IsApproved && !ReferenceEquals(c, target));
            if (action == CaptionReviewAction.Primary || !hasPrimary)
            {
                foreach (var c in sidecar.Captions)
                {
                    c.Primary = ReferenceEquals(c, target);
                }
            }
        }, ct);

    public Task<CaptionListing> RemoveAsync(string idOrPrefix, int captionId, CancellationToken ct) =>
        MutateAsync(idOrPrefix, "caption.remove", (sidecar, _) =>
        {
            var target = Find(sidecar, captionId);
            sidecar.Captions.Remove(target);
            if (target.Primary && sidecar.Captions.Find(c => c.IsApproved) is { } next)
            {
                next.Primary = true;
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
