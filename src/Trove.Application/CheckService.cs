using System.Collections.Concurrent;
using System.Security.Cryptography;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application;

public sealed record CheckReport(IReadOnlyList<Problem> Problems, int MediaChecked, bool Repaired)
{
    /// <summary>Facts worth knowing that are not damage (media waiting for their embeddings, space compaction would reclaim).</summary>
    public IReadOnlyList<string> Notices { get; init; } = [];

    public int Unresolved => Problems.Count(p => !p.Repaired);
}

/// <summary>
/// Compares the files with each other and with the index: torn or malformed sidecars (with file and line),
/// missing or altered originals, orphans, hand-edited sidecars the index has not seen, index rows without files,
/// aliases and implications not applied, dangling collection memberships, leftover temporary files.
/// With repair, fixes everything that the files themselves determine.
/// </summary>
public sealed class CheckService(TroveLibrary library)
{
    public async Task<CheckReport> CheckAsync(bool repair, bool verifyHashes, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        var layout = library.Layout;
        await using var session = repair ? await library.BeginWriteAsync(ct).ConfigureAwait(false) : null;
        var problems = new List<Problem>();
        void Add(Problem p) => problems.Add(p);

        // Vocabulary.
        Vocabulary vocabulary;
        var vocabularyOk = true;
        try
        {
            vocabulary = library.Files.ReadVocabulary(out var vocabularyStamp);
            var indexed = await library.Index.GetVocabularyStampAsync(ct).ConfigureAwait(false);
            if (vocabularyStamp?.Digest != indexed?.Digest)
            {
                var p = new Problem("vocabulary-changed", null, LibraryLayout.VocabularyFileName, "the vocabulary file differs from what the index holds (edited outside Trove?)", true);
                if (session is not null)
                {
                    await session.ReindexVocabularyAsync(ct).ConfigureAwait(false);
                    p = p with { Repaired = true };
                }

                Add(p);
            }
        }
        catch (FileFormatException ex)
        {
            Add(Problem.FromFormat(ex, null, LibraryLayout.VocabularyFileName));
            vocabulary = new Vocabulary();
            vocabularyOk = false;
        }

        // Collections.
        var collectionIds = new HashSet<string>(StringComparer.Ordinal);
        var collectionStamps = await library.Index.GetCollectionStampsAsync(ct).ConfigureAwait(false);
        var collectionsOk = true;
        foreach (var path in library.Files.CollectionFiles())
        {
            try
            {
                var (collection, stamp) = library.Files.ReadCollection(path);
                collectionIds.Add(collection.Id);
                if (!collectionStamps.TryGetValue(collection.Id, out var indexed) || indexed.Digest != stamp.Digest)
                {
                    var p = new Problem("collection-changed", null, layout.Relative(path), $"collection '{collection.Name}' differs from what the index holds", true);
                    if (session is not null)
                    {
                        await session.ReindexCollectionAsync(collection, stamp, ct).ConfigureAwait(false);
                        p = p with { Repaired = true };
                    }

                    Add(p);
                }
            }
            catch (FileFormatException ex)
            {
                Add(Problem.FromFormat(ex, null, layout.Relative(path)));
                collectionIds.Add(Path.GetFileNameWithoutExtension(path));
                collectionsOk = false;
            }
        }

        foreach (var id in collectionStamps.Keys.Where(id => !collectionIds.Contains(id)))
        {
            var p = new Problem("index-extra-collection", null, null, $"the index lists collection {id}, which has no file", true);
            if (session is not null)
            {
                await session.UnindexCollectionAsync(id, ct).ConfigureAwait(false);
                p = p with { Repaired = true };
            }

            Add(p);
        }

        // People: every file readable; faces that point at a person without a file are unassigned by --repair.
        var personIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in library.Files.PersonFiles())
        {
            var personId = Path.GetFileNameWithoutExtension(path);
            personIds.Add(personId);
            try
            {
                library.Files.TryReadPerson(personId);
            }
            catch (FileFormatException ex)
            {
                Add(Problem.FromFormat(ex, null, layout.Relative(path)));
            }
        }

        // Media files, grouped by id.
        progress?.Report(new ProgressInfo("Scanning", 0, null));
        var groups = new SortedDictionary<string, List<MediaFileEntry>>(StringComparer.Ordinal);
        foreach (var entry in library.Files.EnumerateMediaFiles())
        {
            if (entry.IsTemp)
            {
                await StaleTempAsync(entry.Path).ConfigureAwait(false);
                continue;
            }

            if (entry.MediaId is not { } id)
            {
                Add(new Problem("unknown-file", null, layout.Relative(entry.Path), "a file in the media store that is not named for a media id; Trove ignores it", false));
                continue;
            }

            if (!groups.TryGetValue(id, out var list))
            {
                groups[id] = list = [];
            }

            list.Add(entry);
        }

        if (Directory.Exists(layout.TempDir))
        {
            foreach (var path in Directory.EnumerateFiles(layout.TempDir))
            {
                await StaleTempAsync(path).ConfigureAwait(false);
            }

            // Staging folders of uploads (tmp/upload-OWNER-…): removed when their request ends; one whose process is
            // gone was left by a server that stopped mid-request. Those of running processes are in use.
            foreach (var dir in Directory.EnumerateDirectories(layout.TempDir))
            {
                if (Recovery.CrashRecovery.IsDebris(dir, Directory.GetLastWriteTimeUtc(dir), library.Now))
                {
                    var p = new Problem("stale-temp-folder", null, layout.Relative(dir), "a staging folder left by an upload whose server stopped", true);
                    if (session is not null)
                    {
                        Directory.Delete(dir, recursive: true);
                        p = p with { Repaired = true };
                    }

                    Add(p);
                }
            }
        }

        var stamps = await library.Index.GetSidecarStampsAsync(ct).ConfigureAwait(false);
        var allIds = new HashSet<string>(groups.Keys, StringComparer.Ordinal);
        var toHash = new List<(string Id, string Path, long ExpectedSize)>();
        var done = 0;
        foreach (var (id, files) in groups)
        {
            ct.ThrowIfCancellationRequested();
            progress?.Report(new ProgressInfo("Checking", ++done, groups.Count));
            var sidecars = files.Where(f => f.IsSidecar).ToList();
            var originals = files.Where(f => !f.IsSidecar).ToList();
            if (sidecars.Count == 0)
            {
                foreach (var orphan in originals)
                {
                    var p = new Problem("orphan-original", id, layout.Relative(orphan.Path), "an original without a sidecar (an import interrupted before its sidecar was written)", true);
                    if (session is not null)
                    {
                        p = p with { Repaired = await Recovery.OrphanAdoption.AdoptAsync(session, id, orphan, ct).ConfigureAwait(false) };
                    }

                    Add(p);
                }

                if (stamps.ContainsKey(id))
                {
                    Add(await UnindexedAsync(id).ConfigureAwait(false));
                }

                continue;
            }

            if (sidecars.Count > 1)
            {
                var p = new Problem("live-and-trash", id, layout.Relative(sidecars[0].Path), "the media has a sidecar both in media/ and in trash/ (an interrupted delete or restore)", true);
                if (session is not null)
                {
                    p = p with { Repaired = await ResolveLiveAndTrashAsync(session, id, ct).ConfigureAwait(false) };
                }

                Add(p);
                continue;
            }

            var sidecarFile = sidecars[0];
            StoredSidecar stored;
            try
            {
                var bytes = await File.ReadAllBytesAsync(sidecarFile.Path, ct).ConfigureAwait(false);
                var sidecar = SidecarSerializer.Deserialize(bytes, layout.Relative(sidecarFile.Path), id);
                stored = new StoredSidecar(sidecar, sidecarFile.InTrash, LibraryFiles.StampOf(sidecarFile.Path, bytes));
            }
            catch (FileFormatException ex)
            {
                Add(Problem.FromFormat(ex, id, layout.Relative(sidecarFile.Path)));
                continue;
            }

            var s = stored.Sidecar;
            var originalPath = layout.OriginalPath(id, s.Original.Ext, stored.InTrash);
            if (!File.Exists(originalPath))
            {
                var elsewhere = layout.OriginalPath(id, s.Original.Ext, !stored.InTrash);
                if (File.Exists(elsewhere))
                {
                    var p = new Problem("original-misplaced", id, layout.Relative(elsewhere), $"the original is in {(stored.InTrash ? "media/" : "trash/")} but its sidecar is in {(stored.InTrash ? "trash/" : "media/")}", true);
                    if (session is not null)
                    {
                        AtomicFile.MoveIntoPlace(elsewhere, originalPath, overwrite: false, library.Options.Durability);
                        p = p with { Repaired = true };
                    }

                    Add(p);
                }
                else
                {
                    Add(new Problem("missing-original", id, layout.Relative(originalPath), "the sidecar's original file is missing", false));
                }
            }
            else if (verifyHashes)
            {
                toHash.Add((id, originalPath, s.Original.Size));
            }
            else if (new FileInfo(originalPath).Length != s.Original.Size)
            {
                Add(new Problem("original-changed", id, layout.Relative(originalPath), $"the original is {new FileInfo(originalPath).Length} bytes but was {s.Original.Size} when imported", false));
            }

            var needsSave = false;
            if (vocabularyOk)
            {
                var (aliasNames, missingParents) = TagApplier.Violations(s, vocabulary);
                if (aliasNames.Count > 0)
                {
                    Add(new Problem("alias-not-applied", id, layout.Relative(sidecarFile.Path), $"has alias tag(s) {string.Join(", ", aliasNames)} instead of their targets", true) { Repaired = session is not null });
                    needsSave = true;
                }

                if (missingParents.Count > 0)
                {
                    Add(new Problem("implication-missing", id, layout.Relative(sidecarFile.Path), $"lacks implied tag(s) {string.Join(", ", missingParents)}", true) { Repaired = session is not null });
                    needsSave = true;
                }
            }

            if (collectionsOk)
            {
                var dangling = s.Collections.Where(c => !collectionIds.Contains(c.Collection)).Select(c => c.Collection).ToList();
                if (dangling.Count > 0)
                {
                    Add(new Problem("dangling-collection", id, layout.Relative(sidecarFile.Path), $"member of collection(s) {string.Join(", ", dangling)} that no longer exist", true) { Repaired = session is not null });
                    needsSave = true;
                }
            }

            // Only reported where it can be fixed: without libvips, media simply have no pixel facts yet.
            if (library.Imaging.Status.Available && File.Exists(originalPath) && Import.ImageFacts.Missing(s))
            {
                var p = new Problem("missing-image-facts", id, layout.Relative(sidecarFile.Path), "size and perceptual hashes were never computed (imported without libvips?)", true);
                if (session is not null)
                {
                    try
                    {
                        var analysis = Import.ImageFacts.Analyze(library, originalPath, ct);
                        Import.ImageFacts.Apply(s.Original, analysis);
                        Import.ImageFacts.WriteThumbnail(library, id, analysis.Thumbnail);
                        needsSave = true;
                        p = p with { Repaired = true };
                    }
                    catch (Ports.ImageException ex)
                    {
                        p = p with { Message = $"the original cannot be decoded: {ex.Message}", Repairable = false };
                    }
                }

                Add(p);
            }

            var lostFaces = s.Faces.Where(f => f.Person is not null && !personIds.Contains(f.Person)).ToList();
            if (lostFaces.Count > 0)
            {
                var who = string.Join(", ", lostFaces.Select(f => f.Person).Distinct(StringComparer.Ordinal));
                Add(new Problem("face-person-missing", id, layout.Relative(sidecarFile.Path), $"face(s) {string.Join(", ", lostFaces.Select(f => f.Id))} belong to person(s) {who}, whose file is missing from people/; repair makes them unassigned", true) { Repaired = session is not null });
                lostFaces.ForEach(f => f.Unassign());
                needsSave = true;
            }

            if (s.Mask is { } mask && !allIds.Contains(mask.Source))
            {
                Add(new Problem("mask-source-missing", id, layout.Relative(sidecarFile.Path), $"mask of {mask.Source}, which is not in the library", false));
            }

            if (needsSave && session is not null)
            {
                TagApplier.ApplyVocabulary(s, vocabulary, library.Actor, session.Now);
                s.Collections.RemoveAll(c => !collectionIds.Contains(c.Collection));
                await session.SaveAsync(s, stored.InTrash, ct).ConfigureAwait(false);
                continue;
            }

            if (!stamps.TryGetValue(id, out var known))
            {
                var p = new Problem("not-indexed", id, layout.Relative(sidecarFile.Path), "the sidecar is not in the index", true);
                Add(await ReindexedAsync(p, stored).ConfigureAwait(false));
            }
            else if (known.Stamp.Digest != stored.Stamp.Digest || known.InTrash != stored.InTrash)
            {
                var p = new Problem("sidecar-changed", id, layout.Relative(sidecarFile.Path), "the sidecar changed on disk since the index saw it (edited outside Trove?)", true);
                Add(await ReindexedAsync(p, stored).ConfigureAwait(false));
            }
        }

        foreach (var id in stamps.Keys.Where(id => !groups.ContainsKey(id)))
        {
            Add(await UnindexedAsync(id).ConfigureAwait(false));
        }

        // Verify originals' content against their names, in parallel.
        var mismatches = new ConcurrentBag<Problem>();
        var hashed = 0;
        await Parallel.ForEachAsync(toHash, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount }, async (item, token) =>
        {
            await using var stream = new FileStream(item.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, token).ConfigureAwait(false));
            if (hash != item.Id)
            {
                mismatches.Add(new Problem("original-hash-mismatch", item.Id, layout.Relative(item.Path), $"the original's SHA-256 is now {hash[..16]}…: the file was modified after import", false));
            }

            progress?.Report(new ProgressInfo("Verifying", Interlocked.Increment(ref hashed), toHash.Count));
        }).ConfigureAwait(false);
        problems.AddRange(mismatches.OrderBy(p => p.Id, StringComparer.Ordinal));

        var notices = new List<string>();
        CheckEmbeddings(allIds, session, problems, notices);
        session?.Audit("check", repair ? "repair" : "check", $"{problems.Count} problems");
        return new CheckReport(problems, groups.Count, repair) { Notices = notices };

        async Task StaleTempAsync(string path)
        {
            // A temporary file of a running process is in use (an import or upload right now), not a problem.
            if (!Recovery.CrashRecovery.IsDebris(path, File.GetLastWriteTimeUtc(path), library.Now))
            {
                return;
            }

            var p = new Problem("stale-temp-file", null, layout.Relative(path), "a temporary file left by a process that stopped mid-write", true);
            if (session is not null)
            {
                File.Delete(path);
                p = p with { Repaired = true };
            }

            Add(p);
            await Task.CompletedTask.ConfigureAwait(false);
        }

        async Task<Problem> UnindexedAsync(string id)
        {
            var p = new Problem("index-extra", id, null, "the index lists a media that has no sidecar", true);
            if (session is not null)
            {
                await session.UnindexAsync(id, ct).ConfigureAwait(false);
                p = p with { Repaired = true };
            }

            return p;
        }

        async Task<Problem> ReindexedAsync(Problem p, StoredSidecar stored)
        {
            if (session is null)
            {
                return p;
            }

            await session.ReindexAsync(stored, ct).ConfigureAwait(false);
            return p with { Repaired = true };
        }
    }

    /// <summary>Finishes an interrupted move: the newer sidecar wins, the original follows it, the other sidecar goes.</summary>
    private async Task<bool> ResolveLiveAndTrashAsync(WriteSession session, string id, CancellationToken ct)
    {
        var layout = library.Layout;
        MediaSidecar Read(bool trash) => SidecarSerializer.Deserialize(File.ReadAllBytes(layout.SidecarPath(id, trash)), layout.Relative(layout.SidecarPath(id, trash)), id);
        MediaSidecar live, trashed;
        try
        {
            live = Read(false);
            trashed = Read(true);
        }
        catch (FileFormatException)
        {
            return false;
        }

        var toTrash = trashed.Revision >= live.Revision;
        var winner = toTrash ? trashed : live;
        await session.MoveAsync(winner, toTrash, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// The embeddings of every registered embedder version: damaged records are problems (repaired by compacting the
    /// file, which recomputation then fills); media without an embedding from the active version, and records of media
    /// that left the library, are notices (filled by <c>trove embed</c>; dropped by <c>--repair</c>).
    /// </summary>
    private void CheckEmbeddings(HashSet<string> allIds, WriteSession? session, List<Problem> problems, List<string> notices)
    {
        Embeddings.ActiveEmbedder? active;
        Domain.Models.ModelCatalog catalog;
        try
        {
            catalog = library.Files.ReadModels();
            active = Embeddings.ActiveEmbedder.Of(library);
        }
        catch (TroveException)
        {
            return; // models.json itself is reported by 'trove models check'
        }

        foreach (var model in catalog.Models.Where(m => m.Kind == Domain.Models.ModelKinds.Embedder))
        {
            foreach (var version in model.Versions)
            {
                var path = library.Layout.EmbeddingPath(model.Id, version.Version);
                if (!File.Exists(path))
                {
                    continue;
                }

                var reference = $"{model.Id}@{version.Version}";
                var relative = library.Layout.Relative(path);
                Trove.Library.Embeddings.EmbeddingSet set;
                try
                {
                    set = Trove.Library.Embeddings.EmbeddingFile.Read(path, reference, Trove.Library.Embeddings.EmbeddingFile.ReadDimensions(path));
                }
                catch (TroveException ex)
                {
                    problems.Add(new Problem(ex.Code, null, relative, ex.Message, false));
                    continue;
                }

                var gone = set.Vectors.Keys.Count(id => !allIds.Contains(id));
                var damaged = set.Problems.Where(p => p.Type == "embeddings-bad-record").ToList();
                foreach (var d in damaged)
                {
                    problems.Add(new Problem(d.Type, null, relative, d.Message, true) { Repaired = session is not null });
                }

                if (session is not null && (damaged.Count > 0 || gone > 0 || set.Superseded > 0))
                {
                    Trove.Library.Embeddings.EmbeddingFile.Compact(path, reference, set.Dimensions, allIds.Contains, library.Options.Durability);
                }
                else if (gone > 0 || set.Superseded > 0)
                {
                    notices.Add($"{relative}: {gone} embedding(s) of media no longer in the library and {set.Superseded} superseded record(s); 'trove check --repair' compacts the file.");
                }

                if (active is not null && active.Reference == reference)
                {
                    var missing = allIds.Count(id => !set.Vectors.ContainsKey(id));
                    if (missing > 0)
                    {
                        notices.Add($"{missing} of {allIds.Count} media have no embedding from {reference} yet; semantic search leaves them out until 'trove embed \"\"' (or the queued embed jobs) fills them.");
                    }
                }
            }
        }

        if (active is not null && !File.Exists(library.Layout.EmbeddingPath(active.Model.Id, active.Version.Version)) && allIds.Count > 0)
        {
            notices.Add($"No media has an embedding from {active.Reference} yet; run 'trove embed \"\"' to embed the library.");
        }
    }
}
