namespace Trove.Library;

/// <summary>How hard a write tries to survive power loss (a process crash is always survived).</summary>
public enum Durability
{
    /// <summary>fsync the file and its directory before reporting success (default).</summary>
    Durable,

    /// <summary>Rename without fsync: survives a killed process, not a power cut. For bulk loads and tests.</summary>
    Fast,
}

/// <summary>
/// Replaces files so that any reader, and any crash, sees either the old or the new content:
/// write a temporary file in the same folder, flush it, rename it over the target, flush the folder.
/// </summary>
public static class AtomicFile
{
    public const string TempMarker = ".trove-tmp";

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> data, Durability durability)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Recovery.TempNames.Beside(path);
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                fs.Write(data);
                fs.Flush(flushToDisk: durability == Durability.Durable);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        if (durability == Durability.Durable)
        {
            NativeFileSystem.FsyncDirectory(dir);
        }
    }

    /// <summary>Moves a finished file into place (same filesystem: atomic) and makes the rename durable.</summary>
    public static void MoveIntoPlace(string source, string target, bool overwrite, Durability durability)
    {
        var dir = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(dir);
        File.Move(source, target, overwrite);
        if (durability == Durability.Durable)
        {
            NativeFileSystem.FsyncDirectory(dir);
            var sourceDir = Path.GetDirectoryName(source)!;
            if (!string.Equals(sourceDir, dir, StringComparison.Ordinal))
            {
                NativeFileSystem.FsyncDirectory(sourceDir);
            }
        }
    }

    /// <summary>Deletes a file and makes the deletion durable.</summary>
    public static void Delete(string path, Durability durability)
    {
        File.Delete(path);
        if (durability == Durability.Durable)
        {
            NativeFileSystem.FsyncDirectory(Path.GetDirectoryName(path)!);
        }
    }

    public static bool IsTempFile(string path) => Path.GetFileName(path).Contains(TempMarker, StringComparison.Ordinal);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
