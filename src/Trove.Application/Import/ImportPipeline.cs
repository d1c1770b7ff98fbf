using System.Security.Cryptography;
using System.Threading.Channels;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;
using Trove.Library.Recovery;

namespace Trove.Application.Import;

/// <summary>
/// The import pipeline. One producer lists the sources (files, folders, ZIP entries extracted one at a time into the
/// staging area); several workers each take one image at a time and do everything that needs no lock — copy into the
/// staging area while hashing, decode once with libvips (probe, bomb guard, thumbnail, perceptual-hash samples), read
/// the metadata files beside it; one committer, holding the library write lock, moves each original into place and
/// writes its sidecar and index entry. Work already done by an earlier (possibly interrupted) import is recognised
/// from the import journal (source path, size, modification time → media id) and not redone.
/// </summary>
internal sealed class ImportPipeline(TroveLibrary library)
{
    private readonly LibraryLayout _layout = library.Layout;

    public async Task<ImportReport> RunAsync(IReadOnlyList<string> paths, ImportOptions options, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        var tags = options.Tags.Select(TagNames.Normalize).ToList();
        string? maskSource = options.MaskOf is null ? null : await library.ResolveIdAsync(options.MaskOf, ct).ConfigureAwait(false);
        MediaSidecar? maskTarget = maskSource is null ? null : library.Files.ReadSidecar(maskSource).Sidecar;
        using var sources = ImportSources.Plan(paths, library.Options.Import);
        var limits = ImportSources.LimitsFrom(library.Options.Import);
        var run = new Run(options, tags, maskTarget, sources.Total, limits);
        run.Failed.AddRange(sources.Missing);
        if (!library.Imaging.Status.Available)
        {
            run.Warnings.Add($"{library.Imaging.Status.Message} Imported files get no thumbnails, sizes or perceptual hashes until 'trove check --repair' runs with libvips installed.");
        }

        Directory.CreateDirectory(_layout.TempDir);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = linked.Token;
        var parallelism = Math.Max(1, library.Options.Import.EffectiveParallelism);
        var units = Channel.CreateBounded<ImportUnit>(new BoundedChannelOptions(parallelism * 2) { SingleWriter = true });
        var outcomes = Channel.CreateBounded<Outcome>(new BoundedChannelOptions(parallelism * 4) { SingleReader = true });

        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var unit in sources.Enumerate(_layout.TempDir, token))
                {
                    await units.Writer.WriteAsync(unit, token).ConfigureAwait(false);
                }
            }
            finally
            {
                units.Writer.TryComplete();
            }
        }, token);

        var workers = Task.Run(async () =>
        {
            try
            {
                await Parallel.ForEachAsync(
                    units.Reader.ReadAllAsync(token),
                    new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = token },
                    async (unit, t) =>
                    {
                        var outcome = await ProcessAsync(unit, run, t).ConfigureAwait(false);
                        await outcomes.Writer.WriteAsync(outcome, t).ConfigureAwait(false);
                    }).ConfigureAwait(false);
            }
            finally
            {
                outcomes.Writer.TryComplete();
            }
        }, token);

        try
        {
            await CommitAllAsync(outcomes.Reader, run, progress, token).ConfigureAwait(false);
            await Task.WhenAll(producer, workers).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await linked.CancelAsync().ConfigureAwait(false);
            await DrainAsync(outcomes.Reader, units.Reader).ConfigureAwait(false);
            await SwallowAsync(producer).ConfigureAwait(false);
            await SwallowAsync(workers).ConfigureAwait(false);
            if (ex is IOException io && WriteSession.IsDiskFull(io))
            {
                // Staging a copy is a library write too: report it like the others.
                throw WriteSession.DiskFull(_layout, io);
            }

            if (ex is IOException ro && WriteSession.IsReadOnly(ro))
            {
                throw TroveLibrary.ReadOnly(_layout, ro);
            }

            throw;
        }

        progress?.Report(new ProgressInfo("Importing", run.Total, run.Total));
        var media = run.Media.OrderBy(m => m.Index).Select(m => m.Id).ToList(); // one per imported file: duplicates name the existing media
        var failed = run.Failed.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        return new ImportReport(run.Imported, run.Duplicates, failed, media, options.DryRun) { Warnings = run.Warnings };
    }

    /// <summary>Everything for one file that needs no lock: journal lookup, copy+hash, decode, metadata.</summary>
    private async Task<Outcome> ProcessAsync(ImportUnit unit, Run run, CancellationToken ct)
    {
        if (unit.Error is not null)
        {
            return Outcome.Fail(unit, unit.Error);
        }

        string? staged = null;
        try
        {
            if (unit.JournalKey is { } key && !run.Options.DryRun)
            {
                var known = await library.State.FindImportedAsync(key, unit.Size, unit.MtimeTicks, ct).ConfigureAwait(false);
                if (known is not null && (File.Exists(_layout.SidecarPath(known)) || File.Exists(_layout.SidecarPath(known, trash: true))))
                {
                    return new Outcome(unit, known, Known: true, null, null, null, null, ImportSources.ReadMetadata(unit, embedded: null, run.Limits, ct));
                }
            }

            var (id, detected, size) = await CopyAndHashAsync(unit, run.Options.DryRun, s => staged = s, ct).ConfigureAwait(false);
            if (File.Exists(_layout.SidecarPath(id)) || File.Exists(_layout.SidecarPath(id, trash: true)))
            {
                Delete(staged);
                return new Outcome(unit, id, Known: true, null, null, null, null, ImportSources.ReadMetadata(unit, embedded: null, run.Limits, ct));
            }

            var readable = staged ?? unit.FilePath!;
            ImageAnalysis? analysis = null;
            if (library.Imaging.Status.Available)
            {
                analysis = ImageFacts.Analyze(library, readable, ct);
                if (!run.Options.DryRun)
                {
                    ImageFacts.WriteThumbnail(library, id, analysis.Thumbnail);
                }
            }

            var metadata = ImportSources.ReadMetadata(unit, embedded: readable, run.Limits, ct);
            return new Outcome(unit, id, Known: false, null, staged, new StagedFile(detected, size), analysis, metadata);
        }
        catch (ImportRejectedException ex)
        {
            Delete(staged);
            return Outcome.Fail(unit, ex.Message);
        }
        catch (ImageException ex)
        {
            // The decoder names the staged copy; the report already names the source.
            var message = staged is null ? ex.Message : ex.Message.Replace(staged, "the file", StringComparison.Ordinal).Replace(Path.GetFileName(staged), "the file", StringComparison.Ordinal);
            Delete(staged);
            return Outcome.Fail(unit, message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && !IsLibraryFault(ex) && !ct.IsCancellationRequested)
        {
            Delete(staged);
            return Outcome.Fail(unit, $"cannot read the file: {ex.Message}");
        }
        catch
        {
            Delete(staged);
            throw;
        }
        finally
        {
            unit.Dispose();
        }
    }

    private async Task<(string Id, MediaTypes.Detected Detected, long Size)> CopyAndHashAsync(ImportUnit unit, bool dryRun, Action<string> onStaged, CancellationToken ct)
    {
        await using var source = new FileStream(unit.FilePath!, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var size = source.Length;
        if (size == 0)
        {
            throw new ImportRejectedException("empty file (0 bytes)");
        }

        var head = new byte[MediaTypes.SniffLength];
        var headLength = await source.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        var detected = MediaTypes.Sniff(head.AsSpan(0, headLength)) ?? throw new ImportRejectedException(DescribeUnknown(head.AsSpan(0, headLength), unit.DisplayPath));
        source.Position = 0;

        string? temp = null;
        if (!dryRun)
        {
            temp = TempNames.StagingFile(_layout, "import");
            onStaged(temp);
        }

        // An archive entry is already a private copy in the staging area: hash it and take it over instead of copying again.
        var adopt = temp is not null && unit.ZipEntry is { IsExtracted: true } && unit.FilePath == unit.ZipEntry.TempFilePath;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var target = temp is null || adopt ? Stream.Null : new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            var buffer = new byte[1 << 17];
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
        }

        if (adopt)
        {
            await source.DisposeAsync().ConfigureAwait(false);
            File.Move(unit.FilePath!, temp!);
            if (library.Options.Durability == Durability.Durable)
            {
                using var staged = new FileStream(temp!, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                staged.Flush(flushToDisk: true);
            }
        }

        return (Convert.ToHexStringLower(hash.GetHashAndReset()), detected, size);
    }

    /// <summary>The single writer: applies each outcome under the write lock, in the order they finish.</summary>
    private async Task CommitAllAsync(ChannelReader<Outcome> outcomes, Run run, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        await using var session = run.Options.DryRun ? null : await library.BeginWriteAsync(ct).ConfigureAwait(false);
        CollectionDefinition? collection = null;
        long basePosition = 0;
        if (run.Options.Collection is not null && session is not null)
        {
            collection = await new CollectionService(library).GetOrCreateAsync(session, run.Options.Collection, ct).ConfigureAwait(false);
            basePosition = await CollectionService.NextPositionAsync(library, collection.Id, ct).ConfigureAwait(false);
        }

        var journal = new List<ImportJournalEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var vocabularyChanged = false;
        var done = 0L;
        await foreach (var outcome in outcomes.ReadAllAsync(ct).ConfigureAwait(false))
        {
            try
            {
                if (outcome.Error is not null)
                {
                    run.Failed.Add(new ImportFailure(outcome.Unit.DisplayPath, outcome.Error));
                    Log.ImportFailed(library.Logger, outcome.Unit.DisplayPath, outcome.Error);
                    continue;
                }

                var id = outcome.Id!;
                run.Warnings.AddRange(outcome.Metadata?.Warnings ?? []);
                if (session is null)
                {
                    // Dry run: nothing is written; say what would happen.
                    if (outcome.Known || !seen.Add(id))
                    {
                        run.Duplicates++;
                    }
                    else
                    {
                        run.Imported++;
                    }

                    run.Media.Add((outcome.Unit.Index, id));
                    continue;
                }

                var position = basePosition + (outcome.Unit.Index * CollectionService.PositionStep);
                var isNew = await CommitOneAsync(session, outcome, run, collection, position, ct).ConfigureAwait(false);
                vocabularyChanged |= ApplyCategories(session.Vocabulary, outcome.Metadata);
                if (isNew)
                {
                    run.Imported++;
                }
                else
                {
                    run.Duplicates++;
                }

                run.Media.Add((outcome.Unit.Index, id));
                if (outcome.Unit.JournalKey is { } key)
                {
                    journal.Add(new ImportJournalEntry(key, outcome.Unit.Size, outcome.Unit.MtimeTicks, id));
                    if (journal.Count >= 256)
                    {
                        // The journal only ever records media that are already on disk.
                        await session.FlushAsync(ct).ConfigureAwait(false);
                        await library.State.RecordImportedAsync(journal, ct).ConfigureAwait(false);
                        journal.Clear();
                    }
                }
            }
            catch (ImportRejectedException ex)
            {
                run.Failed.Add(new ImportFailure(outcome.Unit.DisplayPath, ex.Message));
            }
            finally
            {
                Delete(outcome.StagedPath);
                progress?.Report(new ProgressInfo("Importing", ++done, run.Total));
            }
        }

        if (session is not null)
        {
            if (vocabularyChanged)
            {
                await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
            }

            session.Audit("import", $"{run.Imported} new, {run.Duplicates} duplicates, {run.Failed.Count} failed");
            await session.FlushAsync(ct).ConfigureAwait(false);
            await library.State.RecordImportedAsync(journal, ct).ConfigureAwait(false);
        }
    }

    private async Task<bool> CommitOneAsync(WriteSession session, Outcome outcome, Run run, CollectionDefinition? collection, long position, CancellationToken ct)
    {
        var id = outcome.Id!;
        var now = session.Now;
        var existing = session.TryRead(id);
        if (existing is not null)
        {
            // A duplicate: merge whatever is new (tags, captions, collection, metadata) into the media already there.
            var sidecar = existing.Sidecar;
            var changed = Merge(sidecar, session, outcome.Metadata, run, collection, position);
            if (sidecar.Original.OriginalName is null && !existing.InTrash)
            {
                // Adopted after a crash (its sidecar was never written): the re-run knows the name it came with.
                sidecar.Original.OriginalName = Path.GetFileName(outcome.Unit.DisplayPath);
                changed = true;
            }
            if (existing.InTrash)
            {
                // Importing a trashed file again brings it back.
                sidecar.Deleted = null;
                await session.MoveAsync(sidecar, toTrash: false, ct).ConfigureAwait(false);
                session.Audit("restore", id, "re-imported");
                return true;
            }

            if (changed)
            {
                await session.SaveAsync(sidecar, inTrash: false, ct).ConfigureAwait(false);
            }

            return false;
        }

        var staged = outcome.Staged ?? throw new InvalidOperationException("A new media has no staged file.");
        var created = new MediaSidecar
        {
            Id = id,
            Kind = run.MaskTarget is null ? MediaKinds.Image : MediaKinds.Mask,
            Mask = run.MaskTarget is null ? null : new MaskInfo { Source = run.MaskTarget.Id, Category = TagNames.Normalize(run.Options.MaskCategory ?? "mask") },
            Original = new OriginalInfo
            {
                Ext = staged.Detected.Ext,
                MediaType = staged.Detected.MediaType,
                Size = staged.Size,
                OriginalName = Path.GetFileName(outcome.Unit.DisplayPath),
            },
            Uploader = library.Actor,
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (outcome.Analysis is { } analysis)
        {
            ImageFacts.Apply(created.Original, analysis);
        }

        if (run.MaskTarget is { } target)
        {
            CheckMaskFits(target, created);
            created.Relations.Add(new RelationEntry { Type = RelationTypes.MaskOf, Target = target.Id, CreatedAt = now, CreatedBy = library.Actor });
        }

        Merge(created, session, outcome.Metadata, run, collection, position);

        // Original first, then the sidecar: a crash in between leaves an orphan original that check --repair adopts.
        var originalPath = _layout.OriginalPath(id, staged.Detected.Ext);
        if (!File.Exists(originalPath))
        {
            File.SetUnixFileMode(outcome.StagedPath!, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            AtomicFile.MoveIntoPlace(outcome.StagedPath!, originalPath, overwrite: false, library.Options.Durability);
        }

        await session.SaveAsync(created, inTrash: false, ct).ConfigureAwait(false);
        session.Audit("import", id, outcome.Unit.DisplayPath);
        return true;
    }

    /// <summary>Merges command-line tags, the collection and picked-up metadata into a sidecar. Never removes anything.</summary>
    private bool Merge(MediaSidecar sidecar, WriteSession session, PickedMetadata? metadata, Run run, CollectionDefinition? collection, long position)
    {
        var now = session.Now;
        var changed = TagApplier.Add(sidecar, session.Vocabulary, run.Tags, TagSources.Import, library.Actor, now).Count > 0;
        if (collection is not null && !sidecar.Collections.Exists(c => c.Collection == collection.Id))
        {
            sidecar.Collections.Add(new CollectionMembership { Collection = collection.Id, Position = position, AddedAt = now, AddedBy = library.Actor });
            changed = true;
        }

        if (metadata is null)
        {
            return changed;
        }

        changed |= TagApplier.Add(sidecar, session.Vocabulary, metadata.Tags.Select(t => t.Name), TagSources.Import, library.Actor, now).Count > 0;
        foreach (var text in metadata.Captions)
        {
            if (!sidecar.Captions.Exists(c => string.Equals(c.Text, text, StringComparison.Ordinal)))
            {
                var nextId = sidecar.NextCaptionId();
                sidecar.Captions.Add(new CaptionEntry { Id = nextId, Text = text, Primary = sidecar.Captions.Count == 0, Source = CaptionSources.Import, CreatedAt = now, CreatedBy = library.Actor });
                changed = true;
            }
        }

        foreach (var (key, value) in metadata.Values)
        {
            // What people or earlier imports recorded wins: only fill in what is missing.
            if (sidecar.Metadata.TryAdd(key, value))
            {
                changed = true;
            }
        }

        if (sidecar.Original.TakenAt is null && metadata.TakenAt is { } taken)
        {
            sidecar.Original.TakenAt = taken;
            changed = true;
        }

        return changed;
    }

    /// <summary>Categories picked up with tags (Hydrus namespaces, booru JSON) apply to tags that have none yet.</summary>
    private static bool ApplyCategories(Vocabulary vocabulary, PickedMetadata? metadata)
    {
        var changed = false;
        foreach (var tag in metadata?.Tags ?? [])
        {
            if (tag.Category is { } category && vocabulary.CategoryExists(category))
            {
                var name = vocabulary.Resolve(TagNames.Normalize(tag.Name));
                if (!vocabulary.Tags.TryGetValue(name, out var info) || info.Category is null)
                {
                    vocabulary.SetCategory(name, category);
                    changed = true;
                }
            }
        }

        return changed;
    }

    /// <summary>A mask must cover its image: same size, or the same shape at another resolution.</summary>
    private static void CheckMaskFits(MediaSidecar image, MediaSidecar mask)
    {
        if (image.Original is { Width: { } iw, Height: { } ih } && mask.Original is { Width: { } mw, Height: { } mh } && (iw != mw || ih != mh))
        {
            var ratio = (double)iw / ih / ((double)mw / mh);
            if (Math.Abs(ratio - 1) > 0.01)
            {
                throw new ImportRejectedException($"the mask is {mw}×{mh} but its image {image.Id[..12]} is {iw}×{ih}; a mask must have the image's size or shape");
            }
        }
    }

    internal static string DescribeUnknown(ReadOnlySpan<byte> head, string file)
    {
        var ext = Path.GetExtension(file).TrimStart('.').ToLowerInvariant();
        var looksText = head.Length > 0 && head.IndexOfAnyInRange((byte)0, (byte)8) < 0;
        var what = looksText ? "text, not an image" : "not a recognised image format (JPEG, PNG, GIF, WebP, TIFF, BMP, AVIF, HEIC, JPEG XL)";
        return ext.Length > 0 && MediaTypes.FromExtension(ext) != "application/octet-stream"
            ? $"named .{ext} but the content is {what}"
            : $"the content is {what}";
    }

    private static bool IsLibraryFault(Exception ex) => ex is IOException io && (WriteSession.IsDiskFull(io) || WriteSession.IsReadOnly(io));

    private static void Delete(string? path)
    {
        if (path is not null && File.Exists(path))
        {
            File.Delete(path);
        }
    }

    private static async Task DrainAsync(ChannelReader<Outcome> outcomes, ChannelReader<ImportUnit> units)
    {
        // Whatever was staged but not committed is removed; whatever was extracted but not processed too.
        await Task.Yield();
        while (outcomes.TryRead(out var o))
        {
            Delete(o.StagedPath);
        }

        while (units.TryRead(out var u))
        {
            u.Dispose();
        }
    }

    private static async Task SwallowAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The first failure is already on its way to the caller.
        }
    }

    private sealed class Run(ImportOptions options, List<string> tags, MediaSidecar? maskTarget, long total, ImportLimits limits)
    {
        public ImportLimits Limits { get; } = limits;

        public ImportOptions Options { get; } = options;

        public List<string> Tags { get; } = tags;

        public MediaSidecar? MaskTarget { get; } = maskTarget;

        public long Total { get; } = total;

        public List<ImportFailure> Failed { get; } = [];

        public List<string> Warnings { get; } = [];

        public List<(int Index, string Id)> Media { get; } = [];

        public int Imported { get; set; }

        public int Duplicates { get; set; }
    }

    private sealed record StagedFile(MediaTypes.Detected Detected, long Size);

    private sealed record Outcome(
        ImportUnit Unit, string? Id, bool Known, string? Error, string? StagedPath, StagedFile? Staged, ImageAnalysis? Analysis, PickedMetadata? Metadata)
    {
        public static Outcome Fail(ImportUnit unit, string error) => new(unit, null, false, error, null, null, null, null);
    }
}
