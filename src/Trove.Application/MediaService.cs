using System.Security.Cryptography;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application;

public sealed record ImportOptions(IReadOnlyList<string> Tags, string? Collection, bool DryRun, string? MaskOf = null, string? MaskCategory = null);

public sealed record ImportFailure(string Path, string Error);

public sealed record ImportReport(int Imported, int Duplicates, IReadOnlyList<ImportFailure> Failed, IReadOnlyList<string> Media, bool DryRun);

public sealed record MediaView(MediaSidecar Sidecar, bool InTrash, string OriginalPath, IReadOnlyDictionary<string, string> TagCategories);

/// <summary>Import, show, delete, restore and purge media.</summary>
public sealed class MediaService(TroveLibrary library)
{
    private static readonly HashSet<string> MetadataExtensions = new(StringComparer.OrdinalIgnoreCase) { ".txt", ".json", ".xmp", ".caption" };

    /// <summary>
    /// Imports files and folders (recursively). Each file is recognised by content, hashed while copied into the
    /// library's staging area, and moved into place; exact duplicates merge the new tags/collection into the
    /// existing media. A bad file is reported and skipped. Re-running an import is a no-op.
    /// </summary>
    public async Task<ImportReport> ImportAsync(IReadOnlyList<string> paths, ImportOptions options, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        var failed = new List<ImportFailure>();
        var files = new List<string>();
        foreach (var path in paths)
        {
            var full = Path.GetFullPath(path);
            if (Directory.Exists(full))
            {
                files.AddRange(Directory.EnumerateFiles(full, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden })
                    .Where(f => !MetadataExtensions.Contains(Path.GetExtension(f)))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(full))
            {
                files.Add(full);
            }
            else
            {
                failed.Add(new ImportFailure(path, "no such file or folder"));
            }
        }

        var tags = options.Tags.Select(TagNames.Normalize).ToList();
        string? maskSource = options.MaskOf is null ? null : await library.ResolveIdAsync(options.MaskOf, ct).ConfigureAwait(false);
        var imported = 0;
        var duplicates = 0;
        var media = new List<string>();
        Directory.CreateDirectory(library.Layout.TempDir);

        await using var session = options.DryRun ? null : await library.BeginWriteAsync(ct).ConfigureAwait(false);
        CollectionDefinition? collection = null;
        if (options.Collection is not null && session is not null)
        {
            collection = await new CollectionService(library).GetOrCreateAsync(session, options.Collection, ct).ConfigureAwait(false);
        }

        long nextPosition = collection is null ? 0 : await CollectionService.NextPositionAsync(library, collection.Id, ct).ConfigureAwait(false);
        for (var i = 0; i < files.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var file = files[i];
            progress?.Report(new ProgressInfo("Importing", i, files.Count));
            try
            {
                var result = await ImportOneAsync(session, file, tags, collection, nextPosition, maskSource, options, ct).ConfigureAwait(false);
                media.Add(result.Id);
                // Duplicates may join the collection at nextPosition too, so every imported file advances it.
                nextPosition += CollectionService.PositionStep;
                if (result.New)
                {
                    imported++;
                }
                else
                {
                    duplicates++;
                }
            }
            catch (ImportRejectedException ex)
            {
                failed.Add(new ImportFailure(file, ex.Message));
                Log.ImportFailed(library.Logger, file, ex.Message);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && !IsLibraryFault(ex))
            {
                failed.Add(new ImportFailure(file, $"cannot read the file: {ex.Message}"));
                Log.ImportFailed(library.Logger, file, ex.Message);
            }
            catch (IOException ex) when (WriteSession.IsDiskFull(ex))
            {
                // Copying into the staging area is a library write too: report it like the others.
                throw WriteSession.DiskFull(library.Layout, ex);
            }
            catch (IOException ex) when (WriteSession.IsReadOnly(ex))
            {
                throw TroveLibrary.ReadOnly(library.Layout, ex);
            }
        }

        session?.Audit("import", $"{imported} new, {duplicates} duplicates, {failed.Count} failed");
        progress?.Report(new ProgressInfo("Importing", files.Count, files.Count));
        return new ImportReport(imported, duplicates, failed, media, options.DryRun);
    }

    private static bool IsLibraryFault(Exception ex) => ex is IOException io && (WriteSession.IsDiskFull(io) || WriteSession.IsReadOnly(io));

    private async Task<(string Id, bool New)> ImportOneAsync(
        WriteSession? session, string file, List<string> tags, CollectionDefinition? collection, long position, string? maskSource, ImportOptions options, CancellationToken ct)
    {
        var temp = Path.Combine(library.Layout.TempDir, $"import-{Environment.ProcessId}-{Guid.NewGuid():N}{AtomicFile.TempMarker}");
        string id;
        MediaTypes.Detected detected;
        long size;
        try
        {
            await using (var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                size = source.Length;
                if (size == 0)
                {
                    throw new ImportRejectedException("empty file (0 bytes)");
                }

                var head = new byte[MediaTypes.SniffLength];
                var headLength = await source.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
                detected = MediaTypes.Sniff(head.AsSpan(0, headLength))
                    ?? throw new ImportRejectedException(DescribeUnknown(head.AsSpan(0, headLength), file));
                source.Position = 0;

                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                await using var target = session is null ? Stream.Null : new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                }

                if (target is FileStream fs)
                {
                    fs.Flush(flushToDisk: library.Options.Durability == Durability.Durable);
                }

                id = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            if (session is null)
            {
                var exists = (await library.Index.FindIdsByPrefixAsync(id, 1, ct).ConfigureAwait(false)).Count > 0;
                return (id, !exists);
            }

            var existing = session.TryRead(id);
            if (existing is not null)
            {
                var sidecar = existing.Sidecar;
                var changed = TagApplier.Add(sidecar, session.Vocabulary, tags, TagSources.Import, library.Actor, session.Now).Count > 0;
                if (collection is not null && !sidecar.Collections.Exists(c => c.Collection == collection.Id))
                {
                    sidecar.Collections.Add(new CollectionMembership { Collection = collection.Id, Position = position, AddedAt = session.Now, AddedBy = library.Actor });
                    changed = true;
                }

                if (existing.InTrash)
                {
                    // Importing a trashed file again brings it back.
                    sidecar.Deleted = null;
                    await session.MoveAsync(sidecar, toTrash: false, ct).ConfigureAwait(false);
                    session.Audit("restore", id, "re-imported");
                    return (id, true);
                }

                if (changed)
                {
                    await session.SaveAsync(sidecar, inTrash: false, ct).ConfigureAwait(false);
                }

                return (id, false);
            }

            var now = session.Now;
            var created = new MediaSidecar
            {
                Id = id,
                Kind = maskSource is null ? MediaKinds.Image : MediaKinds.Mask,
                Mask = maskSource is null ? null : new MaskInfo { Source = maskSource, Category = TagNames.Normalize(options.MaskCategory ?? "mask") },
                Original = new OriginalInfo { Ext = detected.Ext, MediaType = detected.MediaType, Size = size, OriginalName = Path.GetFileName(file) },
                Uploader = library.Actor,
                CreatedAt = now,
                UpdatedAt = now,
            };
            if (maskSource is not null)
            {
                created.Relations.Add(new RelationEntry { Type = RelationTypes.MaskOf, Target = maskSource, CreatedAt = now, CreatedBy = library.Actor });
            }

            TagApplier.Add(created, session.Vocabulary, tags, TagSources.Import, library.Actor, now);
            if (collection is not null)
            {
                created.Collections.Add(new CollectionMembership { Collection = collection.Id, Position = position, AddedAt = now, AddedBy = library.Actor });
            }

            // Original first, then the sidecar: a crash in between leaves an orphan original that check --repair adopts.
            var originalPath = library.Layout.OriginalPath(id, detected.Ext);
            if (!File.Exists(originalPath))
            {
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                AtomicFile.MoveIntoPlace(temp, originalPath, overwrite: false, library.Options.Durability);
            }

            await session.SaveAsync(created, inTrash: false, ct).ConfigureAwait(false);
            session.Audit("import", id, file);
            return (id, true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private static string DescribeUnknown(ReadOnlySpan<byte> head, string file)
    {
        var ext = Path.GetExtension(file).TrimStart('.').ToLowerInvariant();
        var looksText = head.Length > 0 && head.IndexOfAnyInRange((byte)0, (byte)8) < 0;
        var what = looksText ? "text, not an image" : "not a recognised image format (JPEG, PNG, GIF, WebP, TIFF, BMP, AVIF, HEIC, JPEG XL)";
        return ext.Length > 0 && MediaTypes.FromExtension(ext) != "application/octet-stream"
            ? $"named .{ext} but the content is {what}"
            : $"the content is {what}";
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

    /// <summary>Moves media to the trash (restorable). Returns the ids moved.</summary>
    public async Task<IReadOnlyList<string>> DeleteAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var resolved = await ResolveAllAsync(ids, ct).ConfigureAwait(false);
        var moved = new List<string>();
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        foreach (var id in resolved)
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

/// <summary>A file that cannot be imported; the message says why.</summary>
public sealed class ImportRejectedException(string message) : Exception(message);
