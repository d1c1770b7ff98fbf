namespace Trove.Library.Recovery;

/// <summary>
/// Names of Trove's temporary files and folders. Each carries its owner (<see cref="ProcessOwner.Token"/>) so that
/// whoever comes next can tell a file in use from one left by a process that died (docs/library-format.md,
/// "Temporary files").
/// </summary>
public static class TempNames
{
    /// <summary>A temporary file beside <paramref name="path"/>, renamed over it when complete.</summary>
    public static string Beside(string path) =>
        Path.Combine(
            Path.GetDirectoryName(path)!,
            "." + Path.GetFileName(path) + AtomicFile.TempMarker + "-" + ProcessOwner.Current.Token + "-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>A staging file in the library's tmp/ folder: <c>PREFIX-OWNER-RANDOM.trove-tmp</c>.</summary>
    public static string StagingFile(LibraryLayout layout, string prefix) => StagingFile(layout.TempDir, prefix);

    /// <summary>A staging file in <paramref name="directory"/>: <c>PREFIX-OWNER-RANDOM.trove-tmp</c>.</summary>
    public static string StagingFile(string directory, string prefix) =>
        Path.Combine(directory, $"{prefix}-{ProcessOwner.Current.Token}-{Guid.NewGuid():N}{AtomicFile.TempMarker}");

    /// <summary>A staging folder in the library's tmp/ folder: <c>PREFIX-OWNER-RANDOM</c>.</summary>
    public static string StagingFolder(LibraryLayout layout, string prefix) =>
        Path.Combine(layout.TempDir, $"{prefix}-{ProcessOwner.Current.Token}-{Guid.NewGuid():N}");
}
