using Trove.Domain;
using Trove.Library;

namespace Trove.Application;

public sealed record ReconcileReport(int Updated, int Removed, bool VocabularyUpdated, int CollectionsUpdated, IReadOnlyList<Problem> Problems);

/// <summary>
/// Brings the index up to date with files changed behind its back (hand edits, another tool, a crash between
/// a file write and its index commit). Compares size and mtime of every sidecar with what the index saw.
/// </summary>
public static class ReconcileService
{
    public static async Task<ReconcileReport> ReconcileAsync(TroveLibrary library, bool waitForLock, CancellationToken ct)
    {
        var plan = await PlanAsync(library, ct).ConfigureAwait(false);
        if (plan.IsEmpty)
        {
            return new ReconcileReport(0, 0, false, 0, []);
        }

        IDisposable writeLock;
        if (waitForLock)
        {
            writeLock = await library.AcquireLockAsync(ct).ConfigureAwait(false);
        }
        else
        {
            // Opening for a read must not wait behind a long import; that writer keeps the index current itself.
            try
            {
                writeLock = await LibraryWriteLock.AcquireAsync(library.Layout, TimeSpan.FromMilliseconds(200), library.Time, ct).ConfigureAwait(false);
            }
            catch (TroveException ex) when (ex.Code == "library-busy")
            {
                Log.ReconcileSkippedBusy(library.Logger);
                return new ReconcileReport(0, 0, false, 0, []);
            }
        }

        using (writeLock)
        {
            // Re-plan under the lock: another writer may have fixed things meanwhile.
            plan = await PlanAsync(library, ct).ConfigureAwait(false);
            return await ApplyAsync(library, plan, ct).ConfigureAwait(false);
        }
    }

    private sealed record Plan(List<string> Changed, List<string> Missing, bool Vocabulary, List<string> ChangedCollections, List<string> MissingCollections)
    {
        public bool IsEmpty => Changed.Count == 0 && Missing.Count == 0 && !Vocabulary && ChangedCollections.Count == 0 && MissingCollections.Count == 0;
    }

    private static async Task<Plan> PlanAsync(TroveLibrary library, CancellationToken ct)
    {
        var stamps = await library.Index.GetSidecarStampsAsync(ct).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var changed = new List<string>();
        foreach (var entry in library.Files.EnumerateMediaFiles())
        {
            if (!entry.IsSidecar || entry.MediaId is not { } id)
            {
                continue;
            }

            seen.Add(id);
            if (!stamps.TryGetValue(id, out var known) || known.InTrash != entry.InTrash || !known.Stamp.SameStat(entry.Size, entry.MtimeTicks))
            {
                changed.Add(id);
            }
        }

        var missing = stamps.Keys.Where(id => !seen.Contains(id)).ToList();

        var vocabularyStamp = await library.Index.GetVocabularyStampAsync(ct).ConfigureAwait(false);
        var vocabularyFile = new FileInfo(library.Layout.VocabularyPath);
        var vocabularyChanged = vocabularyFile.Exists
            ? vocabularyStamp is null || !vocabularyStamp.SameStat(vocabularyFile.Length, vocabularyFile.LastWriteTimeUtc.Ticks)
            : vocabularyStamp is not null;

        var collectionStamps = await library.Index.GetCollectionStampsAsync(ct).ConfigureAwait(false);
        var changedCollections = new List<string>();
        var seenCollections = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in library.Files.CollectionFiles())
        {
            var id = Path.GetFileNameWithoutExtension(path);
            seenCollections.Add(id);
            var info = new FileInfo(path);
            if (!collectionStamps.TryGetValue(id, out var stamp) || !stamp.SameStat(info.Length, info.LastWriteTimeUtc.Ticks))
            {
                changedCollections.Add(path);
            }
        }

        var missingCollections = collectionStamps.Keys.Where(id => !seenCollections.Contains(id)).ToList();
        return new Plan(changed, missing, vocabularyChanged, changedCollections, missingCollections);
    }

    private static async Task<ReconcileReport> ApplyAsync(TroveLibrary library, Plan plan, CancellationToken ct)
    {
        var problems = new List<Problem>();
        var updated = 0;
        var removed = 0;
        await using var tx = await library.Index.BeginAsync(ct).ConfigureAwait(false);
        foreach (var id in plan.Changed)
        {
            try
            {
                if (library.Files.TryReadSidecar(id) is { } stored)
                {
                    await tx.UpsertMediaAsync(stored.Sidecar, stored.InTrash, stored.Stamp, ct).ConfigureAwait(false);
                    updated++;
                }
            }
            catch (FileFormatException ex)
            {
                // Keep the last good index entry; 'trove check' reports the file with its line.
                problems.Add(Problem.FromFormat(ex, id, ex.FilePath));
                Log.SkippedUnreadable(library.Logger, ex.FilePath, ex.Detail);
            }
        }

        foreach (var id in plan.Missing)
        {
            if (!File.Exists(library.Layout.SidecarPath(id)) && !File.Exists(library.Layout.SidecarPath(id, trash: true)))
            {
                await tx.RemoveMediaAsync(id, ct).ConfigureAwait(false);
                removed++;
            }
        }

        var vocabularyUpdated = false;
        if (plan.Vocabulary)
        {
            try
            {
                var vocabulary = library.Files.ReadVocabulary(out var stamp);
                await tx.SetVocabularyAsync(vocabulary, stamp, ct).ConfigureAwait(false);
                vocabularyUpdated = true;
            }
            catch (FileFormatException ex)
            {
                problems.Add(Problem.FromFormat(ex, null, ex.FilePath));
                Log.SkippedUnreadable(library.Logger, ex.FilePath, ex.Detail);
            }
        }

        var collections = 0;
        foreach (var path in plan.ChangedCollections)
        {
            try
            {
                var (collection, stamp) = library.Files.ReadCollection(path);
                await tx.UpsertCollectionAsync(collection, stamp, ct).ConfigureAwait(false);
                collections++;
            }
            catch (FileFormatException ex)
            {
                problems.Add(Problem.FromFormat(ex, null, ex.FilePath));
            }
        }

        foreach (var id in plan.MissingCollections)
        {
            await tx.RemoveCollectionAsync(id, ct).ConfigureAwait(false);
            collections++;
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        if (updated + removed > 0)
        {
            Log.Reconciled(library.Logger, updated, removed);
        }

        return new ReconcileReport(updated, removed, vocabularyUpdated, collections, problems);
    }
}

/// <summary>One thing wrong with a library, as reported by check, rebuild and reconcile.</summary>
public sealed record Problem(string Type, string? Id, string? Path, string Message, bool Repairable, long? Line = null, long? Column = null)
{
    public bool Repaired { get; init; }

    public static Problem FromFormat(FileFormatException ex, string? id, string path) =>
        new(ex.Code, id, ex.FilePath.Length > 0 ? ex.FilePath : path, ex.Detail, Repairable: false, ex.Line, ex.Column);
}
