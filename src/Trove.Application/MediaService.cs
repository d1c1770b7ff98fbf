using Trove.Domain;
using Trove.Library;

namespace Trove.Application;

public sealed record ImportOptions(IReadOnlyList<string> Tags, string? Collection, bool DryRun, string? MaskOf = null, string? MaskCategory = null);

public sealed record ImportFailure(string Path, string Error);

public sealed record ImportReport(int Imported, int Duplicates, IReadOnlyList<ImportFailure> Failed, IReadOnlyList<string> Media, bool DryRun)
{
    /// <summary>Things worth knowing that did not stop a file (unreadable metadata files, libvips missing…).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

public sealed record MediaView(MediaSidecar Sidecar, bool InTrash, string OriginalPath, IReadOnlyDictionary<string, string> TagCategories);

/// <summary>Import, show, delete, restore and purge media.</summary>
public sealed class MediaService(TroveLibrary library)
{
    /// <summary>
    /// Imports files, folders (recursively) and ZIP archives through the parallel import pipeline: each file is
    /// recognised by content, hashed while copied into the staging area, decoded once (size, thumbnail, perceptual
    /// hashes) and moved into place; metadata files beside it are picked up; exact duplicates merge what is new into
    /// the existing media. A bad file is reported and skipped. Re-running an import is a no-op.
    /// </summary>
    /// <remarks>When new media came in and an active tagger has autoSuggest on, a deferred suggestion job is queued (never failing the import).</remarks>
    public async Task<ImportReport> ImportAsync(IReadOnlyList<string> paths, ImportOptions options, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var report = await new Import.ImportPipeline(library).RunAsync(paths, options, progress, ct).ConfigureAwait(false);
        if (!report.DryRun && report.Imported > 0 && options.MaskOf is null)
        {
            await Tagging.SuggestionJobs.AfterImportAsync(library, report.Media, ct).ConfigureAwait(false);
            await Embeddings.EmbedJobs.AfterImportAsync(library, report.Media, ct).ConfigureAwait(false);
            await Faces.FaceJobs.AfterImportAsync(library, report.Media, ct).ConfigureAwait(false);
        }

        return report;
    }

    public async Task<MediaView> ShowAsync(string idOrPrefix, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        var stored = library.Files.ReadSidecar(id);
        var vocabulary = library.Files.ReadVocabulary(out _);
        var categories = stored.Sidecar.Tags.ToDictionary(t => t.Name, t => vocabulary.CategoryOf(t.Name), StringComparer.Ordinal);
        var path = library.Layout.Relative(library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash));
        return new MediaView(stored.Sidecar, stored.InTrash, path, categories);
    }

    /// <summary>
    /// Like <see cref="ShowAsync"/>, for someone browsing: media in the trash are visible to moderators only; for
    /// anyone else they do not exist (<c>media-not-found</c>), as in search results.
    /// </summary>
    public async Task<MediaView> ShowVisibleAsync(string idOrPrefix, Accounts.Principal viewer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        var view = await ShowAsync(idOrPrefix, ct).ConfigureAwait(false);
        if (view.InTrash && !CanSeeTrash(viewer))
        {
            throw new TroveException("media-not-found", $"No media with id '{idOrPrefix}' in this library.", "It may have been deleted; moderators can see and restore the trash.");
        }

        return view;
    }

    /// <summary>Who may see (and download) media in the trash: moderators and admins.</summary>
    public static bool CanSeeTrash(Accounts.Principal viewer) => viewer?.Role >= Accounts.Role.Moderator;

    /// <summary>Moves media to the trash (restorable). Returns the ids moved.</summary>
    public Task<IReadOnlyList<string>> DeleteAsync(IReadOnlyList<string> ids, CancellationToken ct) => DeleteAsync(ids, DerivedMedia.Ask, ct);

    /// <summary>
    /// Moves media to the trash (restorable). An original with derived media still in the library (upscaled or restored
    /// results) is refused with <c>has-derived</c> unless <paramref name="derived"/> says what becomes of them: moved to
    /// the trash too, or kept (they keep their lineage). Returns the ids moved.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteAsync(IReadOnlyList<string> ids, DerivedMedia derived, CancellationToken ct)
    {
        var resolved = await ResolveAllAsync(ids, ct).ConfigureAwait(false);
        var moved = new List<string>();
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        // First every check (so a refusal leaves everything as it was), then the moves.
        var targets = new List<string>(resolved);
        var asked = new HashSet<string>(resolved, StringComparer.Ordinal);
        for (var i = 0; i < targets.Count; i++)
        {
            var id = targets[i];
            var live = session.Read(id) is { InTrash: false } media
                ? Restoration.LineageView.Of(library, media.Sidecar).LiveDerivatives.Where(d => !asked.Contains(d.Id)).ToList()
                : [];
            if (live.Count > 0 && derived == DerivedMedia.Ask)
            {
                throw new TroveUsageException(
                    "has-derived",
                    $"Media {id[..12]} has {live.Count} derived media in the library ({string.Join(", ", live.Take(5).Select(d => d.Id[..12]))}{(live.Count > 5 ? ", …" : string.Empty)}); nothing was deleted.",
                    "Say what becomes of them: move them to the trash too (CLI --with-derived, API ?derived=trash) or delete only the original, leaving them with their lineage (--keep-derived, ?derived=keep).");
            }

            if (derived == DerivedMedia.WithDerived)
            {
                targets.AddRange(live.Select(d => d.Id).Where(asked.Add));
            }
        }

        foreach (var id in targets)
        {
            var stored = session.Read(id);
            if (stored.InTrash)
            {
                continue;
            }

            stored.Sidecar.Deleted = new DeletionInfo { At = session.Now, By = library.Actor };
            await session.MoveAsync(stored.Sidecar, toTrash: true, ct).ConfigureAwait(false);
            session.Audit("delete", id);
            moved.Add(id);
        }

        return moved;
    }

    public async Task<IReadOnlyList<string>> RestoreAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var resolved = await ResolveAllAsync(ids, ct).ConfigureAwait(false);
        var restored = new List<string>();
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        foreach (var id in resolved)
        {
            var stored = session.Read(id);
            if (!stored.InTrash)
            {
                continue;
            }

            stored.Sidecar.Deleted = null;
            await session.MoveAsync(stored.Sidecar, toTrash: false, ct).ConfigureAwait(false);
            session.Audit("restore", id);
            restored.Add(id);
        }

        return restored;
    }

    /// <summary>Removes trashed media for good (all of the trash, or just the given ids, which must be in the trash).</summary>
    public async Task<IReadOnlyList<string>> PurgeAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var targets = ids.Count == 0
            ? await library.Index.TrashedIdsAsync(ct).ConfigureAwait(false)
            : await ResolveAllAsync(ids, ct).ConfigureAwait(false);
        var purged = new List<string>();
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        foreach (var id in targets)
        {
            var stored = session.TryRead(id);
            if (stored is null)
            {
                continue;
            }

            if (!stored.InTrash)
            {
                throw new TroveException("not-in-trash", $"Media {id} is not in the trash; only trashed media can be purged.", $"Delete it first with 'trove delete {id[..12]}'.");
            }

            await session.PurgeAsync(stored.Sidecar, ct).ConfigureAwait(false);
            session.Audit("purge", id);
            purged.Add(id);
        }

        return purged;
    }

    public async Task<List<string>> ResolveAllAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var result = new List<string>(ids.Count);
        foreach (var raw in ids)
        {
            result.Add(await library.ResolveIdAsync(raw, ct).ConfigureAwait(false));
        }

        return result.Distinct(StringComparer.Ordinal).ToList();
    }
}

/// <summary>What deleting an original does with the media derived from it (<see cref="MediaService.DeleteAsync(IReadOnlyList{string}, DerivedMedia, CancellationToken)"/>).</summary>
public enum DerivedMedia
{
    /// <summary>Refuse (<c>has-derived</c>) when an original has derived media in the library.</summary>
    Ask,

    /// <summary>Move them to the trash too (and theirs, in turn).</summary>
    WithDerived,

    /// <summary>Leave them in the library.</summary>
    KeepDerived,
}

/// <summary>A file that cannot be imported; the message says why.</summary>
public sealed class ImportRejectedException(string message) : Exception(message);
