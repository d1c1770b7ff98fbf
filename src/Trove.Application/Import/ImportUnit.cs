namespace Trove.Application.Import;

/// <summary>One file to import: a file on disk, or a ZIP entry already extracted into the staging area.</summary>
internal sealed class ImportUnit(int index, string displayPath, string? filePath, string? error) : IDisposable
{
    /// <summary>Position in the import (orders the report and collection positions).</summary>
    public int Index { get; } = index;

    /// <summary>What users see: the file path, or "archive.zip!dir/name.jpg".</summary>
    public string DisplayPath { get; } = displayPath;

    /// <summary>A readable file with the content (null when <see cref="Error"/> is set).</summary>
    public string? FilePath { get; } = filePath;

    /// <summary>Why this unit cannot be imported (refused archive entry, unreadable file…).</summary>
    public string? Error { get; } = error;

    public long Size { get; init; }

    public long MtimeTicks { get; init; }

    /// <summary>Key in the import journal (absolute path, or "archive!entry"); null when it cannot be remembered.</summary>
    public string? JournalKey { get; init; }

    /// <summary>The metadata files beside it (in its folder or its archive).</summary>
    public ISiblingFiles? Siblings { get; init; }

    /// <summary>The archive entry it came from (owns the extracted temp file, deleted on dispose).</summary>
    public ZipItem? ZipEntry { get; init; }

    public void Dispose() => ZipEntry?.Dispose();
}

/// <summary>Tags, captions and values picked up from metadata files and embedded EXIF/IPTC/XMP.</summary>
internal sealed record PickedMetadata(
    IReadOnlyList<PickedTag> Tags,
    IReadOnlyList<string> Captions,
    IReadOnlyDictionary<string, string> Values,
    DateTimeOffset? TakenAt,
    IReadOnlyList<string> Warnings);

internal readonly record struct PickedTag(string Name, string? Category);
