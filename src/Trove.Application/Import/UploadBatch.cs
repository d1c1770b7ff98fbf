using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Trove.Domain;

namespace Trove.Application.Import;

public static class UploadStatus
{
    public const string Imported = "imported";
    public const string Duplicate = "duplicate";
    public const string Failed = "failed";
}

/// <summary>What became of one uploaded file: <see cref="UploadStatus"/>, the media id (new or existing), or why it failed.</summary>
public sealed record UploadItem(string Name, string Status, string? Id = null, string? Error = null);

/// <summary>The outcome of one upload request, one item per file in the order they were sent.</summary>
public sealed record UploadReport(int Imported, int Duplicates, int Failed, IReadOnlyList<UploadItem> Items, IReadOnlyList<string> Warnings);

/// <summary>
/// The files of one upload request (HTTP or UI), staged under <c>tmp/upload-staged under <c>tmp/upload-&lt;guid&gt;/</c>lt;ownerstaged under <c>tmp/upload-&lt;guid&gt;/</c>gt;-staged under <c>tmp/upload-&lt;guid&gt;/</c>lt;guidstaged under <c>tmp/upload-&lt;guid&gt;/</c>gt;/</c> and then imported together
/// through the import pipeline (content-based type detection, duplicates, tags, collection; the uploader is the library
/// actor). Each file is streamed to disk while counted and hashed: one over the size limit is refused at once
/// (<c>upload-too-large</c>) and nothing of the request is imported. Each file gets its own folder, so that files of an
/// upload are never picked up as metadata of one another, and two files with the same name do not collide. Client
/// file names are reduced to a plain name (<see cref="SafeFileName"/>). Disposing deletes everything staged.
/// </summary>
public sealed class UploadBatch : IDisposable
{
    /// <summary>Longest stored file name, in UTF-8 bytes (file systems allow 255).</summary>
    public const int MaxNameBytes = 200;

    private readonly TroveLibrary _library;
    private readonly long _maxFileBytes;
    private readonly int _maxFiles;
    private readonly List<Staged> _files = [];

    private UploadBatch(TroveLibrary library, long maxFileBytes, int maxFiles, string folder)
    {
        _library = library;
        _maxFileBytes = maxFileBytes;
        _maxFiles = maxFiles;
        Folder = folder;
    }

    /// <summary>The staging folder of this upload (under the library's tmp/).</summary>
    public string Folder { get; }

    public int Count => _files.Count;

    public static UploadBatch Create(TroveLibrary library, long maxFileBytes, int maxFiles)
    {
        ArgumentNullException.ThrowIfNull(library);
        var folder = Trove.Library.Recovery.TempNames.StagingFolder(library.Layout, "upload");
        Directory.CreateDirectory(folder);
        return new UploadBatch(library, maxFileBytes, maxFiles, folder);
    }

    /// <summary>
    /// Streams one file into the staging folder. Throws <c>too-many-files</c> (usage) beyond the file limit and
    /// <c>upload-too-large</c> as soon as the file passes the size limit (its partial copy is deleted).
    /// </summary>
    public async Task AddAsync(string? clientName, Stream content, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        var name = SafeFileName(clientName);
        if (_files.Count >= _maxFiles)
        {
            throw new TroveUsageException(
                "too-many-files",
                $"An upload may carry at most {_maxFiles} files; '{name}' is one too many.",
                "Send the rest in another request (the limit is TROVE_Server__MaxUploadFiles).");
        }

        var dir = Path.Combine(Folder, _files.Count.ToString("D4", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var head = new byte[4];
        var headLength = 0;
        long size = 0;
        var complete = false;
        try
        {
            var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (target.ConfigureAwait(false))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await content.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    size += read;
                    if (size > _maxFileBytes)
                    {
                        throw new TroveException(
                            "upload-too-large",
                            $"'{name}' is larger than the largest file accepted ({FormatBytes(_maxFileBytes)}); nothing of this upload was imported.",
                            "Upload smaller files, or ask the admin to raise TROVE_Server__MaxUploadFileBytes.");
                    }

                    if (headLength < head.Length)
                    {
                        var n = Math.Min(head.Length - headLength, read);
                        buffer.AsSpan(0, n).CopyTo(head.AsSpan(headLength));
                        headLength += n;
                    }

                    hash.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                }
            }

            complete = true;
        }
        finally
        {
            if (!complete)
            {
                TryDelete(dir);
            }
        }

        var refusal = IsArchive(name, head.AsSpan(0, headLength))
            ? "ZIP archives are not imported from uploads; extract it and upload the images (or import the archive on the server with 'trove import')"
            : null;
        _files.Add(new Staged(name, Path.GetFullPath(path), Convert.ToHexStringLower(hash.GetHashAndReset()), refusal));
    }

    /// <summary>
    /// Imports everything staged (with the tags and collection given) and reports each file: imported (a new media, or
    /// one brought back from the trash), duplicate (the media already in the library, or sent twice in this upload) or
    /// failed (with the import's reason).
    /// </summary>
    public async Task<UploadReport> ImportAsync(IReadOnlyList<string> tags, string? collection, CancellationToken ct)
    {
        var importable = _files.Where(f => f.Refusal is null).ToList();

        // A media id is the SHA-256 of the content, known from staging: whether it was in the library (not the trash)
        // before this import decides "duplicate", so each file's outcome is exact even though the pipeline reports totals.
        var existed = importable.Select(f => f.Id).Distinct(StringComparer.Ordinal)
            .Where(id => File.Exists(_library.Layout.SidecarPath(id)))
            .ToHashSet(StringComparer.Ordinal);
        var report = importable.Count == 0
            ? new ImportReport(0, 0, [], [], DryRun: false)
            : await new MediaService(_library).ImportAsync(importable.Select(f => f.Path).ToList(), new ImportOptions(tags, collection, DryRun: false), null, ct).ConfigureAwait(false);

        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var failure in report.Failed)
        {
            failures.TryAdd(failure.Path, failure.Error);
        }

        var imported = new HashSet<string>(report.Media, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var items = new List<UploadItem>(_files.Count);
        foreach (var file in _files)
        {
            if (file.Refusal is not null)
            {
                items.Add(new UploadItem(file.Name, UploadStatus.Failed, Error: file.Refusal));
            }
            else if (failures.TryGetValue(file.Path, out var error))
            {
                items.Add(new UploadItem(file.Name, UploadStatus.Failed, Error: Scrub(error)));
            }
            else if (!imported.Contains(file.Id))
            {
                items.Add(new UploadItem(file.Name, UploadStatus.Failed, Error: "the import did not take this file"));
            }
            else
            {
                var isNew = seen.Add(file.Id) && !existed.Contains(file.Id);
                items.Add(new UploadItem(file.Name, isNew ? UploadStatus.Imported : UploadStatus.Duplicate, file.Id));
            }
        }

        return new UploadReport(
            items.Count(i => i.Status == UploadStatus.Imported),
            items.Count(i => i.Status == UploadStatus.Duplicate),
            items.Count(i => i.Status == UploadStatus.Failed),
            items,
            report.Warnings.Select(Scrub).Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// A client's file name reduced to a plain name: the last path segment (either slash), without control characters
    /// or "..", at most <see cref="MaxNameBytes"/> UTF-8 bytes (the extension kept). Nothing left, or only dots, gives "upload".
    /// </summary>
    public static string SafeFileName(string? raw)
    {
        var text = raw ?? string.Empty;
        var slash = text.LastIndexOfAny(['/', '\\']);
        if (slash >= 0)
        {
            text = text[(slash + 1)..];
        }

        var clean = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            // Invalid UTF-16 comes out as the replacement character: dropped with control characters and ':'.
            if (!Rune.IsControl(rune) && rune != Rune.ReplacementChar && rune.Value != ':')
            {
                clean.Append(rune.ToString());
            }
        }

        var name = clean.ToString();
        while (name.Contains("..", StringComparison.Ordinal))
        {
            name = name.Replace("..", ".", StringComparison.Ordinal);
        }

        name = name.Trim().TrimStart('.').Trim();
        if (name.Length == 0)
        {
            return "upload";
        }

        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
        {
            var ext = Path.GetExtension(name);
            ext = ext.Length > 16 ? string.Empty : ext;
            var budget = MaxNameBytes - Encoding.UTF8.GetByteCount(ext);
            var stem = new StringBuilder();
            var used = 0;
            foreach (var rune in name[..^ext.Length].EnumerateRunes())
            {
                used += rune.Utf8SequenceLength;
                if (used > budget)
                {
                    break;
                }

                stem.Append(rune.ToString());
            }

            name = stem.ToString().TrimEnd() + ext;
        }

        return name;
    }

    public void Dispose() => TryDelete(Folder);

    private static bool IsArchive(string name, ReadOnlySpan<byte> head)
    {
        // The import pipeline expands archives (by extension or content); an upload takes images only.
        var ext = Path.GetExtension(name);
        return ext.Equals(".zip", StringComparison.OrdinalIgnoreCase) || ext.Equals(".cbz", StringComparison.OrdinalIgnoreCase)
            || (head.Length == 4 && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)));
    }

    /// <summary>Messages name the uploaded file, never where it was staged on the server.</summary>
    private string Scrub(string message)
    {
        var result = message;
        foreach (var file in _files)
        {
            result = result.Replace(file.Path, file.Name, StringComparison.Ordinal);
        }

        return result.Replace(Folder, "upload", StringComparison.Ordinal).Replace(_library.Layout.Root, "library", StringComparison.Ordinal);
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 30} GB"),
        >= 1L << 20 when bytes % (1L << 20) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 20} MB"),
        >= 1L << 10 when bytes % (1L << 10) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 10} KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes"),
    };

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Whatever is left in tmp/ is harmless (never read again); 'trove check --repair' clears stale temp files.
        }
    }

    private sealed record Staged(string Name, string Path, string Id, string? Refusal);
}
