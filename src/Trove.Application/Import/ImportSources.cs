using Trove.Library;

namespace Trove.Application.Import;

/// <summary>
/// Turns the paths given to an import into units of work: files, folders (recursive, hidden files and metadata files
/// skipped) and ZIP archives (given directly or found in folders; entries extracted one at a time into the staging
/// area by <see cref="ZipImportSource"/>). Archives stay open until the import ends, because workers read metadata
/// entries beside each image on demand.
/// </summary>
internal sealed class ImportSources : IDisposable
{
    private static readonly EnumerationOptions Recursive = new() { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden };
    private readonly List<(string Path, bool IsArchive)> _inputs = [];
    private readonly List<ZipImportSource> _open = [];
    private readonly ImportLimits _limits;

    private ImportSources(ImportLimits limits) => _limits = limits;

    /// <summary>Units to expect (archive entries counted as declared, metadata entries included).</summary>
    public long Total { get; private set; }

    /// <summary>Paths that do not exist.</summary>
    public List<ImportFailure> Missing { get; } = [];

    public static ImportLimits LimitsFrom(ImportSettings settings) => ImportLimits.Default with
    {
        MaxArchiveEntries = (int)Math.Min(int.MaxValue, settings.MaxArchiveEntries),
        MaxEntrySize = settings.MaxEntryBytes,
        MaxTotalSize = settings.MaxArchiveBytes,
        MaxCompressionRatio = settings.MaxCompressionRatio,
    };

    public static ImportSources Plan(IReadOnlyList<string> paths, ImportSettings settings)
    {
        var plan = new ImportSources(LimitsFrom(settings));
        foreach (var path in paths)
        {
            var full = Path.GetFullPath(path);
            if (Directory.Exists(full))
            {
                foreach (var file in Directory.EnumerateFiles(full, "*", Recursive).Where(f => !ImportFileNames.IsMetadataFile(Path.GetFileName(f))).Order(StringComparer.Ordinal))
                {
                    plan.AddFile(file);
                }
            }
            else if (File.Exists(full))
            {
                plan.AddFile(full);
            }
            else
            {
                plan.Missing.Add(new ImportFailure(path, "no such file or folder"));
            }
        }

        return plan;
    }

    private void AddFile(string file)
    {
        var archive = IsArchive(file);
        _inputs.Add((file, archive));
        Total += archive ? EstimateEntries(file) : 1;
    }

    /// <summary>Produces the units in order. ZIP entries are extracted here, one at a time.</summary>
    public IEnumerable<ImportUnit> Enumerate(string stagingDir, CancellationToken ct)
    {
        var index = 0;
        foreach (var (path, isArchive) in _inputs)
        {
            ct.ThrowIfCancellationRequested();
            if (!isArchive)
            {
                yield return FileUnit(index++, path);
                continue;
            }

            ZipImportSource? zip = null;
            string? error = null;
            try
            {
                zip = ZipImportSource.Open(path, stagingDir, _limits);
                _open.Add(zip);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                error = $"not a readable ZIP archive: {ex.Message}";
            }

            if (zip is null)
            {
                yield return new ImportUnit(index++, path, null, error);
                continue;
            }

            var archiveTicks = File.GetLastWriteTimeUtc(path).Ticks;
            foreach (var item in zip.ReadItems(ct))
            {
                yield return item.IsExtracted
                    ? new ImportUnit(index++, item.DisplayPath, item.TempFilePath, null)
                    {
                        Size = item.Size,
                        MtimeTicks = archiveTicks,
                        JournalKey = $"{path}!{item.EntryName}",
                        Siblings = item.Siblings,
                        ZipEntry = item,
                    }
                    : new ImportUnit(index++, item.DisplayPath, null, item.RefusalReason ?? $"refused ({item.Refusal})") { ZipEntry = item };
            }
        }
    }

    private static ImportUnit FileUnit(int index, string path)
    {
        try
        {
            var info = new FileInfo(path);
            return new ImportUnit(index, path, path, null)
            {
                Size = info.Length,
                MtimeTicks = info.LastWriteTimeUtc.Ticks,
                JournalKey = path,
                Siblings = new FolderSiblingFiles(path),
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new ImportUnit(index, path, null, $"cannot read the file: {ex.Message}");
        }
    }

    /// <summary>Metadata files beside the unit, plus (for new media) the embedded EXIF/IPTC/XMP of <paramref name="embedded"/>.</summary>
    public static PickedMetadata ReadMetadata(ImportUnit unit, string? embedded, ImportLimits limits, CancellationToken ct)
    {
        if (unit.Siblings is null)
        {
            return new PickedMetadata([], [], new Dictionary<string, string>(), null, []);
        }

        var reader = new ImportMetadataReader(limits);
        ImportMetadata metadata;
        if (embedded is null)
        {
            metadata = reader.Read(unit.Siblings, null, ct);
        }
        else
        {
            using var image = new FileStream(embedded, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 14, FileOptions.RandomAccess);
            metadata = reader.Read(unit.Siblings, image, ct);
        }

        var values = metadata.ToSidecarMetadata();
        values.Remove("orientation"); // the decoder's orientation is recorded with the original
        return new PickedMetadata(
            metadata.Tags.Select(t => new PickedTag(t.Name, t.Category)).ToList(),
            metadata.Captions.Select(c => c.Text).ToList(),
            values,
            metadata.DateTaken,
            metadata.Warnings);
    }

    private static bool IsArchive(string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".zip" or ".cbz")
        {
            return true;
        }

        // Also by content: "PK\x03\x04" (or an empty archive's "PK\x05\x06").
        Span<byte> head = stackalloc byte[4];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            return stream.Read(head) == 4 && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private long EstimateEntries(string path)
    {
        try
        {
            // Opening reads only the end-of-central-directory record; the entries are listed during Enumerate.
            using var zip = ZipImportSource.Open(path, Path.GetTempPath(), _limits);
            return Math.Max(1, zip.EntryCount);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return 1;
        }
    }

    public void Dispose()
    {
        foreach (var zip in _open)
        {
            zip.Dispose();
        }

        _open.Clear();
    }
}
