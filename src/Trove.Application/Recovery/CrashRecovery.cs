using Microsoft.Extensions.Logging;
using Trove.Domain;
using Trove.Library;
using Trove.Library.Recovery;

namespace Trove.Application.Recovery;

/// <summary>What a sweep removed or adopted.</summary>
public sealed record SweepReport(int TempFiles, int TempFolders, int AdoptedOriginals, IReadOnlyList<int> DeadProcesses)
{
    public static readonly SweepReport Empty = new(0, 0, 0, []);

    public bool IsEmpty => TempFiles + TempFolders + AdoptedOriginals == 0;
}

/// <summary>
/// Whoever comes after a process that died mid-write cleans up after it, so that <c>trove check</c> after a crash
/// and a re-run is clean without <c>--repair</c> (docs/architecture.md, "Crash recovery"):
/// <list type="bullet">
/// <item>On open (any host that keeps the library current): staging files and folders in <c>tmp/</c> whose owner is
/// dead are removed. No lock is needed: only their owner would ever use them.</item>
/// <item>In the first write session after a dead process's marker is seen (under the write lock): its temporary files
/// anywhere in the library are removed and originals whose sidecar was never written are adopted (given a fresh
/// sidecar, never deleted), then its marker is forgotten.</item>
/// </list>
/// Files whose owner is alive are never touched: they are in use.
/// </summary>
public static class CrashRecovery
{
    /// <summary>Owner-less staging folders (made by a Trove before owners were named) are debris after this long.</summary>
    public static readonly TimeSpan OwnerlessStagingAge = TimeSpan.FromHours(1);

    // Folders with no Trove temporary files of their own (SQLite keeps its own journals there) or handled apart.
    private static readonly string[] SkippedFolders = ["index", "state", "locks", "tmp"];

    /// <summary>Removes what dead processes left in <c>tmp/</c>. Safe at any time, without the write lock.</summary>
    public static SweepReport SweepStaging(TroveLibrary library)
    {
        var tmp = library.Layout.TempDir;
        if (!Directory.Exists(tmp))
        {
            return SweepReport.Empty;
        }

        var now = library.Now;
        int files = 0, folders = 0;
        var owners = new SortedSet<int>();
        foreach (var path in SafeEnumerate(() => Directory.EnumerateFiles(tmp)))
        {
            if (IsDebris(path, File.GetLastWriteTimeUtc(path), now) && TryDelete(path, owners))
            {
                files++;
            }
        }

        foreach (var dir in SafeEnumerate(() => Directory.EnumerateDirectories(tmp)))
        {
            if (IsDebris(dir, Directory.GetLastWriteTimeUtc(dir), now) && TryDeleteFolder(dir, owners))
            {
                folders++;
            }
        }

        var report = new SweepReport(files, folders, 0, [.. owners]);
        if (!report.IsEmpty)
        {
            var pids = string.Join(", ", owners);
            RecoveryLog.StagingSwept(library.Logger, files, folders, pids);
        }

        return report;
    }

    /// <summary>
    /// Whether a Trove temporary file or folder is left over (its owner is dead, or it has no owner and is old): what
    /// check reports as stale and what the sweeps remove.
    /// </summary>
    public static bool IsDebris(string path, DateTime lastWriteUtc, DateTimeOffset now) =>
        ProcessOwner.IsDebris(Path.GetFileName(path), new DateTimeOffset(lastWriteUtc, TimeSpan.Zero), now, OwnerlessStagingAge);

    /// <summary>
    /// Called at the start of every write session, under the lock: if a process that had the library open died,
    /// sweeps everything it may have left and adopts orphan originals through <paramref name="session"/>.
    /// </summary>
    internal static async Task<SweepReport> RecoverAsync(WriteSession session, CancellationToken ct)
    {
        var library = session.Library;
        var dead = WriterMarkers.Dead(library.Layout);
        if (dead.Count == 0)
        {
            return SweepReport.Empty;
        }

        var pids = string.Join(", ", dead.Select(d => d.Owner.Pid).Distinct());
        RecoveryLog.Recovering(library.Logger, dead.Count, pids);
        var staging = SweepStaging(library);
        var owners = new SortedSet<int>(staging.DeadProcesses);
        var now = library.Now;
        var files = staging.TempFiles;

        // Temporary files next to their targets: sidecars (media/, trash/), vocabulary, models.json, collections, mappings, cache.
        var groups = new Dictionary<string, List<MediaFileEntry>>(StringComparer.Ordinal);
        foreach (var entry in library.Files.EnumerateMediaFiles())
        {
            ct.ThrowIfCancellationRequested();
            if (entry.IsTemp)
            {
                if (IsDebris(entry.Path, new DateTime(entry.MtimeTicks, DateTimeKind.Utc), now) && TryDelete(entry.Path, owners))
                {
                    files++;
                }

                continue;
            }

            if (entry.MediaId is { } id)
            {
                if (!groups.TryGetValue(id, out var list))
                {
                    groups[id] = list = [];
                }

                list.Add(entry);
            }
        }

        foreach (var path in OtherTempFiles(library.Layout))
        {
            ct.ThrowIfCancellationRequested();
            if (IsDebris(path, File.GetLastWriteTimeUtc(path), now) && TryDelete(path, owners))
            {
                files++;
            }
        }

        // An original moved into place whose sidecar was never written (the writer died between the two): adopt it.
        // The write lock is held, so no live writer is between those two steps right now.
        var adopted = 0;
        foreach (var (id, entries) in groups)
        {
            if (entries.Exists(e => e.IsSidecar))
            {
                continue;
            }

            // One original per id (a copy in both media/ and trash/ would make two sidecars): the live one first.
            foreach (var orphan in entries.OrderBy(e => e.InTrash).Take(1))
            {
                try
                {
                    if (await OrphanAdoption.AdoptAsync(session, id, orphan, ct).ConfigureAwait(false))
                    {
                        adopted++;
                        session.Audit("recover", id, "adopted an original whose sidecar was never written");
                    }
                }
                catch (IOException ex)
                {
                    RecoveryLog.AdoptFailed(library.Logger, library.Layout.Relative(orphan.Path), ex.Message);
                }
            }
        }

        WriterMarkers.Forget(dead);
        var report = new SweepReport(files, staging.TempFolders, adopted, [.. owners.Union(dead.Select(d => d.Owner.Pid))]);
        session.Audit("recover", "library", $"after pid {pids}: {files} temporary files and {staging.TempFolders} staging folders removed, {adopted} originals adopted");
        RecoveryLog.Recovered(library.Logger, pids, files, staging.TempFolders, adopted);
        return report;
    }

    private static IEnumerable<string> OtherTempFiles(LibraryLayout layout)
    {
        foreach (var path in SafeEnumerate(() => Directory.EnumerateFiles(layout.Root, "*" + AtomicFile.TempMarker + "*")))
        {
            yield return path;
        }

        var media = new[] { layout.MediaDir, layout.TrashDir };
        foreach (var dir in SafeEnumerate(() => Directory.EnumerateDirectories(layout.Root)))
        {
            if (Array.IndexOf(SkippedFolders, Path.GetFileName(dir)) >= 0 || Array.IndexOf(media, dir) >= 0)
            {
                continue;
            }

            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
            foreach (var path in SafeEnumerate(() => Directory.EnumerateFiles(dir, "*" + AtomicFile.TempMarker + "*", options)))
            {
                yield return path;
            }
        }
    }

    private static List<string> SafeEnumerate(Func<IEnumerable<string>> list)
    {
        try
        {
            return [.. list()];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static bool TryDelete(string path, SortedSet<int> owners)
    {
        try
        {
            File.Delete(path);
            NoteOwner(path, owners);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool TryDeleteFolder(string path, SortedSet<int> owners)
    {
        try
        {
            Directory.Delete(path, recursive: true);
            NoteOwner(path, owners);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void NoteOwner(string path, SortedSet<int> owners)
    {
        if (ProcessOwner.FromTempName(Path.GetFileName(path)) is { } owner)
        {
            owners.Add(owner.Pid);
        }
    }
}

internal static partial class RecoveryLog
{
    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Removed {Files} staging files and {Folders} staging folders left in tmp/ by stopped processes ({Pids})")]
    public static partial void StagingSwept(ILogger logger, int files, int folders, string pids);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "{Count} Trove process(es) that had this library open stopped without closing it (pid {Pids}); sweeping what they left")]
    public static partial void Recovering(ILogger logger, int count, string pids);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information, Message = "Recovered after pid {Pids}: {Files} temporary files and {Folders} staging folders removed, {Adopted} originals adopted")]
    public static partial void Recovered(ILogger logger, string pids, int files, int folders, int adopted);

    [LoggerMessage(EventId = 43, Level = LogLevel.Warning, Message = "Could not adopt the orphan original {Path}: {Reason}; 'trove check --repair' tries again")]
    public static partial void AdoptFailed(ILogger logger, string path, string reason);
}
