namespace Trove.Application.Import;

/// <summary>A metadata file read from beside an image: where it came from (for messages) and its bytes.</summary>
public sealed record SiblingFile(string DisplayPath, byte[] Content);

/// <summary>
/// Gives the metadata reader access to the files beside one image, wherever the image lives (a folder, a
/// ZIP archive). Only plain file names in the image's own folder can be read.
/// </summary>
public interface ISiblingFiles
{
    /// <summary>The image's own file name ("name.jpg"); metadata file names are derived from it.</summary>
    string ImageName { get; }

    /// <summary>How the image is named in messages ("/photos/a/name.jpg", "set.zip!a/name.jpg").</summary>
    string ImageDisplayPath { get; }

    /// <summary>
    /// Reads the file <paramref name="fileName"/> in the image's folder. Returns null when there is no such
    /// file. Throws <see cref="InvalidDataException"/> when it is larger than <paramref name="maxBytes"/> or
    /// not a regular file, and <see cref="IOException"/> when it cannot be read.
    /// </summary>
    SiblingFile? TryRead(string fileName, long maxBytes, CancellationToken ct);
}

/// <summary>The files beside an image in a folder on disk. Names are matched exactly (file systems here are case-sensitive).</summary>
public sealed class FolderSiblingFiles : ISiblingFiles
{
    private readonly string _directory;

    public FolderSiblingFiles(string imagePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        var full = Path.GetFullPath(imagePath);
        _directory = Path.GetDirectoryName(full) ?? full;
        ImageName = Path.GetFileName(full);
        ImageDisplayPath = imagePath;
    }

    public string ImageName { get; }

    public string ImageDisplayPath { get; }

    public SiblingFile? TryRead(string fileName, long maxBytes, CancellationToken ct)
    {
        SiblingNames.EnsurePlainName(fileName);
        ct.ThrowIfCancellationRequested();
        var path = Path.Combine(_directory, fileName);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        var display = Path.Combine(Path.GetDirectoryName(ImageDisplayPath) ?? string.Empty, fileName);
        if (info.Length > maxBytes)
        {
            throw new InvalidDataException($"{display} is {info.Length:N0} bytes, more than the {maxBytes:N0} bytes allowed for a metadata file");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.SequentialScan);
        return new SiblingFile(display, LimitedCopy.ReadAll(stream, maxBytes, display));
    }
}

internal static class SiblingNames
{
    public static void EnsurePlainName(string fileName)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        if (fileName.Contains('/', StringComparison.Ordinal) || fileName.Contains('\\', StringComparison.Ordinal) || fileName is "." or "..")
        {
            throw new ArgumentException($"'{fileName}' is not a plain file name.", nameof(fileName));
        }
    }
}
