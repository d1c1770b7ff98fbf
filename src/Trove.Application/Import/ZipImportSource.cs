using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;
using Trove.Library;

namespace Trove.Application.Import;

/// <summary>Why an archive entry was not extracted.</summary>
public enum ZipRefusal
{
    None,

    /// <summary>The name has a ".." segment or control characters (zip-slip).</summary>
    UnsafePath,

    /// <summary>The name is absolute ("/etc/x", "C:\x", "\\server\x").</summary>
    AbsolutePath,

    /// <summary>The entry is a symbolic link (Unix mode S_IFLNK in the external attributes).</summary>
    Symlink,

    /// <summary>The entry is encrypted.</summary>
    Encrypted,

    /// <summary>The entry is itself an archive; nested archives are not expanded.</summary>
    NestedArchive,

    /// <summary>The entry is larger than <see cref="ImportLimits.MaxEntrySize"/>.</summary>
    TooLarge,

    /// <summary>The entry compresses better than <see cref="ImportLimits.MaxCompressionRatio"/>: a zip bomb.</summary>
    CompressionRatio,

    /// <summary>Extraction stopped: the archive's entries add up to more than <see cref="ImportLimits.MaxTotalSize"/>.</summary>
    TotalSizeLimit,

    /// <summary>The archive has more entries than <see cref="ImportLimits.MaxArchiveEntries"/>; nothing was extracted.</summary>
    EntryCountLimit,

    /// <summary>The entry's data does not match the size its header declares (a lying header).</summary>
    SizeMismatch,

    /// <summary>The entry cannot be decompressed, uses an unsupported method, or fails its CRC check.</summary>
    Damaged,
}

/// <summary>
/// One image candidate from a ZIP archive: either extracted to a temp file in the staging folder, or refused
/// with a reason. Disposing the item deletes its temp file; the caller must dispose every item it receives
/// (typically right after hashing/moving the file). Read its metadata (<see cref="Siblings"/>) before
/// disposing the <see cref="ZipImportSource"/>.
/// </summary>
public sealed class ZipItem : IDisposable
{
    internal ZipItem(string entryName, string displayPath, DateTimeOffset lastWriteTime, long size, string? tempFilePath, ZipRefusal refusal, string? refusalReason, ISiblingFiles siblings)
    {
        EntryName = entryName;
        DisplayPath = displayPath;
        LastWriteTime = lastWriteTime;
        Size = size;
        TempFilePath = tempFilePath;
        Refusal = refusal;
        RefusalReason = refusalReason;
        Siblings = siblings;
    }

    /// <summary>The entry's path inside the archive, with '/' separators ("dir/name.jpg").</summary>
    public string EntryName { get; }

    /// <summary>"archive.zip!dir/name.jpg" (the archive path as given to <see cref="ZipImportSource.Open"/>).</summary>
    public string DisplayPath { get; }

    /// <summary>The entry's last-write time as recorded in the archive.</summary>
    public DateTimeOffset LastWriteTime { get; }

    /// <summary>Bytes extracted; for a refused entry, the uncompressed size its header declares.</summary>
    public long Size { get; }

    /// <summary>The extracted copy (random name inside the staging folder), or null when refused.</summary>
    public string? TempFilePath { get; private set; }

    public ZipRefusal Refusal { get; }

    /// <summary>Why the entry was refused, for people ("zip-slip: …"); null when extracted.</summary>
    public string? RefusalReason { get; }

    [MemberNotNullWhen(true, nameof(TempFilePath))]
    public bool IsExtracted => TempFilePath is not null;

    /// <summary>The metadata files beside this entry in the archive (read on demand, size-limited).</summary>
    public ISiblingFiles Siblings { get; }

    public override string ToString() => IsExtracted ? DisplayPath : $"{DisplayPath} (refused: {RefusalReason})";

    /// <summary>Deletes the extracted temp file (if any). Safe to call more than once.</summary>
    public void Dispose()
    {
        if (TempFilePath is { } path)
        {
            TempFilePath = null;
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Leftovers in the library's tmp/ are removed by `trove check --repair`.
            }
        }
    }
}

/// <summary>
/// Reads image candidates out of a ZIP archive, one entry at a time, within <see cref="ImportLimits"/>.
/// The archive is opened with <see cref="ZipArchive"/> in read mode over a seekable <see cref="FileStream"/>:
/// the central directory supplies names and sizes, and each entry is streamed to its own temp file — the
/// archive is never held in memory.
/// </summary>
/// <remarks>
/// <para>Entries come in entry-name order (ordinal). Folders, metadata files (.txt/.caption/.json/.xmp) and
/// operating-system clutter (<c>__MACOSX/</c>, <c>._*</c>, <c>.DS_Store</c>, <c>Thumbs.db</c>, <c>desktop.ini</c>)
/// are not candidates and are not returned; metadata files stay readable through <see cref="ZipItem.Siblings"/>.
/// Every other entry is returned, extracted or refused: whether it is really an image is for the pipeline to
/// decide by its content.</para>
/// <para>Nested archives (.zip, .cbz, .7z, .rar, .tar, .gz…) are not expanded; they are refused with
/// <see cref="ZipRefusal.NestedArchive"/>.</para>
/// <para>Sizes in the headers are claims: each entry is copied with a byte counter and aborted as soon as it
/// delivers more than its header declares (which has already been checked against the limits), and its CRC-32
/// is verified, so a truncated or padded entry is refused rather than imported damaged.</para>
/// <para>Thread safety: one consumer enumerates; <see cref="ZipItem.Siblings"/> may be read from other threads
/// meanwhile (archive access is serialised internally).</para>
/// </remarks>
public sealed class ZipImportSource : IDisposable
{
    private const int UnixFileTypeMask = 0xF000;
    private const int UnixSymlink = 0xA000;

    private static readonly HashSet<string> ArchiveExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".zip", ".cbz", ".7z", ".cb7", ".rar", ".cbr", ".tar", ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".lz", ".lzma",
    };

    private static readonly HashSet<string> ClutterNames = new(StringComparer.OrdinalIgnoreCase) { ".DS_Store", "Thumbs.db", "desktop.ini" };

    private readonly FileStream _file;
    private readonly ZipArchive? _archive;
    private readonly List<EntryInfo> _entries;
    private readonly Dictionary<string, ZipArchiveEntry> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ZipArchiveEntry> _byNameIgnoreCase = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string? _archiveRefusal;
    private bool _disposed;

    private ZipImportSource(string archivePath, string stagingDirectory, ImportLimits limits, FileStream file, ZipArchive? archive, List<EntryInfo> entries, int entryCount, string? archiveRefusal)
    {
        ArchivePath = archivePath;
        StagingDirectory = stagingDirectory;
        Limits = limits;
        _file = file;
        _archive = archive;
        _entries = entries;
        EntryCount = entryCount;
        _archiveRefusal = archiveRefusal;
        foreach (var info in entries)
        {
            if (info.SafeName is { } name && !info.IsDirectory)
            {
                _byName.TryAdd(name, info.Entry);
                _byNameIgnoreCase.TryAdd(name, info.Entry);
            }
        }
    }

    public string ArchivePath { get; }

    public string StagingDirectory { get; }

    public ImportLimits Limits { get; }

    /// <summary>Entries in the archive (folders and metadata files included), as its central directory declares.</summary>
    public int EntryCount { get; }

    /// <summary>
    /// Opens <paramref name="archivePath"/>. Temp files go to <paramref name="stagingDirectory"/> (created if
    /// missing; use the library's tmp/ so leftovers are cleaned by <c>check --repair</c>). Throws
    /// <see cref="InvalidDataException"/> when the file is not a readable ZIP archive and <see cref="IOException"/>
    /// when it cannot be opened.
    /// </summary>
    public static ZipImportSource Open(string archivePath, string stagingDirectory, ImportLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        ArgumentException.ThrowIfNullOrEmpty(stagingDirectory);
        limits ??= ImportLimits.Default;
        Directory.CreateDirectory(stagingDirectory);
        var file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        try
        {
            var declared = DeclaredEntryCount(file);
            if (declared > limits.MaxArchiveEntries)
            {
                var count = (int)Math.Min(declared.Value, int.MaxValue);
                return new ZipImportSource(archivePath, stagingDirectory, limits, file, null, [], count, EntryCountMessage(declared.Value, limits));
            }

            ZipArchive archive;
            List<ZipArchiveEntry> entries;
            try
            {
                archive = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
                entries = [.. archive.Entries];
            }
            catch (Exception ex) when (ex is InvalidDataException or ArgumentException or NotSupportedException)
            {
                throw new InvalidDataException($"{archivePath} is not a ZIP archive or its directory is damaged: {ex.Message}", ex);
            }

            if (entries.Count > limits.MaxArchiveEntries)
            {
                archive.Dispose();
                return new ZipImportSource(archivePath, stagingDirectory, limits, file, null, [], entries.Count, EntryCountMessage(entries.Count, limits));
            }

            var infos = entries.Select(Describe).OrderBy(i => i.SortKey, StringComparer.Ordinal).ToList();
            return new ZipImportSource(archivePath, stagingDirectory, limits, file, archive, infos, entries.Count, null);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The image candidates in entry-name order, each extracted or refused. Extraction happens as the sequence is enumerated.</summary>
    public IEnumerable<ZipItem> ReadItems(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_archiveRefusal is not null)
        {
            yield return ArchiveRefused();
            yield break;
        }

        var state = new ExtractionState();
        foreach (var info in _entries)
        {
            ct.ThrowIfCancellationRequested();
            var (step, refused) = Plan(info, state);
            if (step == Step.Skip)
            {
                continue;
            }

            yield return refused ?? Extract(info, state, ct);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _gate.Wait();
        try
        {
            _archive?.Dispose();
            _file.Dispose();
        }
        finally
        {
            _gate.Release();
        }

        _gate.Dispose();
    }

    /// <summary>Number of entries the end-of-central-directory record (or its ZIP64 form) declares; null when there is none.</summary>
    internal static long? DeclaredEntryCount(Stream stream)
    {
        const int EocdSize = 22;
        const int Zip64LocatorSize = 20;
        var length = stream.Length;
        if (length < EocdSize)
        {
            return null;
        }

        var tailLength = (int)Math.Min(length, EocdSize + ushort.MaxValue + Zip64LocatorSize);
        var tail = new byte[tailLength];
        stream.Seek(length - tailLength, SeekOrigin.Begin);
        stream.ReadExactly(tail);
        for (var i = tailLength - EocdSize; i >= 0; i--)
        {
            if (tail[i] != 0x50 || tail[i + 1] != 0x4B || tail[i + 2] != 0x05 || tail[i + 3] != 0x06)
            {
                continue;
            }

            long count = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 10));
            if (count == ushort.MaxValue && i >= Zip64LocatorSize
                && BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i - Zip64LocatorSize)) == 0x07064B50)
            {
                var zip64Offset = BinaryPrimitives.ReadInt64LittleEndian(tail.AsSpan(i - Zip64LocatorSize + 8));
                if (zip64Offset >= 0 && zip64Offset + 40 <= length)
                {
                    var record = new byte[40];
                    stream.Seek(zip64Offset, SeekOrigin.Begin);
                    stream.ReadExactly(record);
                    if (BinaryPrimitives.ReadUInt32LittleEndian(record) == 0x06064B50)
                    {
                        var count64 = BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(32));
                        count = count64 > long.MaxValue ? long.MaxValue : (long)count64;
                    }
                }
            }

            stream.Seek(0, SeekOrigin.Begin);
            return count;
        }

        stream.Seek(0, SeekOrigin.Begin);
        return null;
    }

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= ImportLimits.GiB when bytes % ImportLimits.GiB == 0 => $"{bytes / ImportLimits.GiB} GiB",
        >= ImportLimits.MiB when bytes % ImportLimits.MiB == 0 => $"{bytes / ImportLimits.MiB} MiB",
        _ => $"{bytes:N0} bytes",
    };

    private static string EntryCountMessage(long count, ImportLimits limits) =>
        $"the archive has {count:N0} entries, more than the {limits.MaxArchiveEntries:N0} allowed (ImportLimits.MaxArchiveEntries); nothing was extracted from it — split the archive or raise the limit";

    private static EntryInfo Describe(ZipArchiveEntry entry)
    {
        var raw = entry.FullName;
        var normalized = raw.Replace('\\', '/');
        var isDirectory = normalized.Length == 0 || normalized.EndsWith('/');
        if (normalized.StartsWith('/') || (normalized.Length >= 2 && char.IsAsciiLetter(normalized[0]) && normalized[1] == ':'))
        {
            return new EntryInfo(entry, normalized, null, isDirectory, ZipRefusal.AbsolutePath,
                "absolute path: archive entries must be relative to the archive");
        }

        if (normalized.Any(char.IsControl))
        {
            return new EntryInfo(entry, normalized, null, isDirectory, ZipRefusal.UnsafePath,
                "unsafe path: the entry name contains control characters");
        }

        var segments = normalized.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToList();
        if (segments.Contains(".."))
        {
            return new EntryInfo(entry, normalized, null, isDirectory, ZipRefusal.UnsafePath,
                "zip-slip: the entry name has a '..' segment that would point outside the archive");
        }

        var safe = string.Join('/', segments);
        return new EntryInfo(entry, normalized, safe, isDirectory || safe.Length == 0, ZipRefusal.None, null);
    }

    private static bool IsClutter(string name)
    {
        var fileName = name[(name.LastIndexOf('/') + 1)..];
        return name.StartsWith("__MACOSX/", StringComparison.Ordinal)
            || name.Contains("/__MACOSX/", StringComparison.Ordinal)
            || fileName.StartsWith("._", StringComparison.Ordinal)
            || ClutterNames.Contains(fileName);
    }

    private static bool IsSymlink(ZipArchiveEntry entry) => ((entry.ExternalAttributes >> 16) & UnixFileTypeMask) == UnixSymlink;

    private ZipItem ArchiveRefused() =>
        new(string.Empty, ArchivePath, default, _file.Length, null, ZipRefusal.EntryCountLimit, _archiveRefusal, EmptySiblings.Instance);

    private (Step Step, ZipItem? Refused) Plan(EntryInfo info, ExtractionState state)
    {
        var entry = info.Entry;
        var name = info.SafeName ?? info.NormalizedName;
        if (info.IsDirectory || ImportFileNames.IsMetadataFile(name) || IsClutter(name))
        {
            return (Step.Skip, null);
        }

        if (info.PathRefusal != ZipRefusal.None)
        {
            return (Step.Refuse, Refused(info, info.PathRefusal, info.PathReason!));
        }

        if (IsSymlink(entry))
        {
            return (Step.Refuse, Refused(info, ZipRefusal.Symlink, "symbolic link: links in archives are not followed"));
        }

        if (entry.IsEncrypted)
        {
            return (Step.Refuse, Refused(info, ZipRefusal.Encrypted, "encrypted: password-protected entries cannot be imported"));
        }

        if (ArchiveExtensions.Contains(Path.GetExtension(name)))
        {
            return (Step.Refuse, Refused(info, ZipRefusal.NestedArchive, "nested archive: archives inside archives are not expanded — extract it and import it separately"));
        }

        if (entry.Length > Limits.MaxEntrySize)
        {
            return (Step.Refuse, Refused(info, ZipRefusal.TooLarge,
                $"too large: {FormatBytes(entry.Length)} uncompressed, more than the {FormatBytes(Limits.MaxEntrySize)} allowed per file (ImportLimits.MaxEntrySize)"));
        }

        if (entry.Length > 0)
        {
            var ratio = entry.CompressedLength > 0 ? (double)entry.Length / entry.CompressedLength : double.PositiveInfinity;
            if (ratio > Limits.MaxCompressionRatio)
            {
                return (Step.Refuse, Refused(info, ZipRefusal.CompressionRatio,
                    $"zip bomb: {FormatBytes(entry.CompressedLength)} would expand to {FormatBytes(entry.Length)} (ratio {ratio:0} : 1, more than the {Limits.MaxCompressionRatio:0.##} allowed by ImportLimits.MaxCompressionRatio)"));
            }
        }

        if (state.StopReason is null && state.Total + entry.Length > Limits.MaxTotalSize)
        {
            state.StopReason =
                $"not extracted: the archive's files add up to more than the {FormatBytes(Limits.MaxTotalSize)} allowed (ImportLimits.MaxTotalSize); extraction stopped at '{name}'";
        }

        if (state.StopReason is not null)
        {
            return (Step.Refuse, Refused(info, ZipRefusal.TotalSizeLimit, state.StopReason));
        }

        return (Step.Extract, null);
    }

    private ZipItem Refused(EntryInfo info, ZipRefusal refusal, string reason)
    {
        var name = info.SafeName ?? info.NormalizedName;
        var siblings = info.SafeName is null ? EmptySiblings.Instance : (ISiblingFiles)new ZipSiblingFiles(this, info.SafeName);
        return new ZipItem(name, $"{ArchivePath}!{name}", SafeLastWriteTime(info.Entry), info.Entry.Length, null, refusal, reason, siblings);
    }

    private ZipItem Extract(EntryInfo info, ExtractionState state, CancellationToken ct)
    {
        _gate.Wait(ct);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var temp = NewTempPath();
            var crc = new Crc32();
            long copied;
            var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
            try
            {
                try
                {
                    using var input = info.Entry.Open();
                    copied = LimitedCopy.Copy(input, output, info.Entry.Length, crc, ct);
                }
                catch (Exception ex) when (IsEntryFault(ex))
                {
                    output.Dispose();
                    DeleteQuietly(temp);
                    return RefusedForFault(info, ex);
                }

                output.Dispose();
            }
            catch
            {
                output.Dispose();
                DeleteQuietly(temp);
                throw;
            }

            return Finish(info, state, temp, copied, crc);
        }
        finally
        {
            _gate.Release();
        }
    }

    // What is the entry's fault becomes a refusal; cancellation and a failing staging folder (disk full)
    // are not, and propagate.
    private static bool IsEntryFault(Exception ex) =>
        ex is InvalidDataException or NotSupportedException || (ex is IOException && ex is not StagingWriteException);

    private ZipItem RefusedForFault(EntryInfo info, Exception ex) => ex switch
    {
        SizeLimitExceededException => Refused(info, ZipRefusal.SizeMismatch,
            $"damaged or hostile: the entry holds more data than the {FormatBytes(info.Entry.Length)} its header declares; extraction was aborted"),
        IOException => Refused(info, ZipRefusal.Damaged, $"cannot be read from the archive: {ex.Message}"),
        _ => Refused(info, ZipRefusal.Damaged, $"cannot be extracted: {ex.Message}"),
    };

    private ZipItem Finish(EntryInfo info, ExtractionState state, string temp, long copied, Crc32 crc)
    {
        var entry = info.Entry;
        if (copied != entry.Length)
        {
            DeleteQuietly(temp);
            return Refused(info, ZipRefusal.SizeMismatch,
                $"damaged: the entry holds {copied:N0} bytes but its header declares {entry.Length:N0}");
        }

        if (crc.Value != entry.Crc32)
        {
            DeleteQuietly(temp);
            return Refused(info, ZipRefusal.Damaged, $"damaged: CRC-32 mismatch (computed {crc.Value:x8}, header says {entry.Crc32:x8})");
        }

        state.Total += copied;
        var name = info.SafeName!;
        return new ZipItem(name, $"{ArchivePath}!{name}", SafeLastWriteTime(entry), copied, temp, ZipRefusal.None, null, new ZipSiblingFiles(this, name));
    }

    private string NewTempPath() =>
        Trove.Library.Recovery.TempNames.StagingFile(StagingDirectory, "zip");

    private static void DeleteQuietly(string path)
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

    private static DateTimeOffset SafeLastWriteTime(ZipArchiveEntry entry)
    {
        try
        {
            return entry.LastWriteTime;
        }
        catch (ArgumentOutOfRangeException)
        {
            return default;
        }
    }

    private SiblingFile? ReadSibling(string entryName, string fileName, long maxBytes, CancellationToken ct)
    {
        SiblingNames.EnsurePlainName(fileName);
        var slash = entryName.LastIndexOf('/');
        var name = slash < 0 ? fileName : entryName[..(slash + 1)] + fileName;
        if (!_byName.TryGetValue(name, out var entry) && !_byNameIgnoreCase.TryGetValue(name, out entry))
        {
            return null;
        }

        var display = $"{ArchivePath}!{entry.FullName.Replace('\\', '/')}";
        if (IsSymlink(entry))
        {
            throw new InvalidDataException($"{display} is a symbolic link; it was not followed");
        }

        if (entry.IsEncrypted)
        {
            throw new InvalidDataException($"{display} is encrypted");
        }

        if (entry.Length > maxBytes)
        {
            throw new InvalidDataException($"{display} is {entry.Length:N0} bytes, more than the {maxBytes:N0} bytes allowed for a metadata file");
        }

        _gate.Wait(ct);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var stream = entry.Open();
            return new SiblingFile(display, LimitedCopy.ReadAll(stream, maxBytes, display));
        }
        finally
        {
            _gate.Release();
        }
    }

    private enum Step
    {
        Skip,
        Refuse,
        Extract,
    }

    private sealed class ExtractionState
    {
        public long Total { get; set; }

        public string? StopReason { get; set; }
    }

    private sealed record EntryInfo(ZipArchiveEntry Entry, string NormalizedName, string? SafeName, bool IsDirectory, ZipRefusal PathRefusal, string? PathReason)
    {
        public string SortKey => SafeName ?? NormalizedName;
    }

    private sealed class ZipSiblingFiles(ZipImportSource source, string entryName) : ISiblingFiles
    {
        public string ImageName => entryName[(entryName.LastIndexOf('/') + 1)..];

        public string ImageDisplayPath => $"{source.ArchivePath}!{entryName}";

        public SiblingFile? TryRead(string fileName, long maxBytes, CancellationToken ct) => source.ReadSibling(entryName, fileName, maxBytes, ct);
    }

    private sealed class EmptySiblings : ISiblingFiles
    {
        public static readonly EmptySiblings Instance = new();

        public string ImageName => string.Empty;

        public string ImageDisplayPath => string.Empty;

        public SiblingFile? TryRead(string fileName, long maxBytes, CancellationToken ct) => null;
    }
}
