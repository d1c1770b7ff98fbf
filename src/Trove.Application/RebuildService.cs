using System.Diagnostics;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application;

public sealed record RebuildReport(int Media, int Trash, int Collections, int Tags, double Seconds, IReadOnlyList<Problem> Problems);

/// <summary>Recreates the whole index from the library files, in one transaction (a failed rebuild leaves the old index).</summary>
public static class RebuildService
{
    public static async Task<RebuildReport> RebuildAsync(TroveLibrary library, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var writeLock = await library.AcquireLockAsync(ct).ConfigureAwait(false);
        var problems = new List<Problem>();
        var files = library.Files;
        var layout = library.Layout;

        progress?.Report(new ProgressInfo("Scanning", 0, null));
        var sidecarFiles = files.EnumerateMediaFiles().Where(f => f.IsSidecar && f.MediaId is not null).ToList();
        var total = sidecarFiles.Count;

        await using var tx = await library.Index.BeginAsync(ct).ConfigureAwait(false);
        await tx.ClearAsync(ct).ConfigureAwait(false);

        Vocabulary vocabulary;
        FileStamp? vocabularyStamp;
        try
        {
            vocabulary = files.ReadVocabulary(out vocabularyStamp);
        }
        catch (FileFormatException ex)
        {
            problems.Add(Problem.FromFormat(ex, null, layout.VocabularyPath));
            vocabulary = new Vocabulary();
            vocabularyStamp = null;
        }

        await tx.SetVocabularyAsync(vocabulary, vocabularyStamp, ct).ConfigureAwait(false);

        var collections = 0;
        foreach (var path in files.CollectionFiles())
        {
            try
            {
                var (collection, stamp) = files.ReadCollection(path);
                await tx.UpsertCollectionAsync(collection, stamp, ct).ConfigureAwait(false);
                collections++;
            }
            catch (FileFormatException ex)
            {
                problems.Add(Problem.FromFormat(ex, null, path));
            }
        }

        // Parse in parallel, insert in order. A media in both places (a crash mid-move) keeps its newest revision.
        var chosen = new Dictionary<string, (MediaSidecar Sidecar, bool Trash, FileStamp Stamp)>(StringComparer.Ordinal);
        const int chunk = 2048;
        var done = 0;
        for (var start = 0; start < total; start += chunk)
        {
            ct.ThrowIfCancellationRequested();
            var slice = sidecarFiles.GetRange(start, Math.Min(chunk, total - start));
            var parsed = new (MediaSidecar? Sidecar, FileStamp? Stamp, FileFormatException? Error)[slice.Count];
            Parallel.For(0, slice.Count, new ParallelOptions { CancellationToken = ct }, i =>
            {
                var entry = slice[i];
                try
                {
                    var bytes = File.ReadAllBytes(entry.Path);
                    var sidecar = SidecarSerializer.Deserialize(bytes, layout.Relative(entry.Path), entry.MediaId);
                    parsed[i] = (sidecar, LibraryFiles.StampOf(entry.Path, bytes), null);
                }
                catch (FileFormatException ex)
                {
                    parsed[i] = (null, null, ex);
                }
                catch (IOException ex)
                {
                    parsed[i] = (null, null, new FileFormatException("sidecar-unreadable", layout.Relative(entry.Path), ex.Message, inner: ex));
                }
            });

            for (var i = 0; i < slice.Count; i++)
            {
                var (sidecar, stamp, error) = parsed[i];
                if (error is not null)
                {
                    problems.Add(Problem.FromFormat(error, slice[i].MediaId, slice[i].Path));
                    continue;
                }

                if (chosen.TryGetValue(sidecar!.Id, out var other))
                {
                    problems.Add(new Problem("live-and-trash", sidecar.Id, layout.Relative(slice[i].Path), "the media has a sidecar both in media/ and in trash/ (an interrupted delete or restore)", Repairable: true));
                    if (other.Sidecar.Revision >= sidecar.Revision)
                    {
                        continue;
                    }
                }

                chosen[sidecar.Id] = (sidecar, slice[i].InTrash, stamp!);
            }

            done += slice.Count;
            progress?.Report(new ProgressInfo("Indexing", done, total));
        }

        var trash = 0;
        foreach (var (_, item) in chosen)
        {
            await tx.UpsertMediaAsync(item.Sidecar, item.Trash, item.Stamp, ct).ConfigureAwait(false);
            trash += item.Trash ? 1 : 0;
        }

        await tx.SetMetaAsync(IndexMeta.LibraryId, library.Manifest.Id, ct).ConfigureAwait(false);
        await tx.SetMetaAsync(IndexMeta.RebuiltAt, library.Now.ToString("O"), ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);

        var tags = chosen.Values.SelectMany(v => v.Sidecar.Tags).Select(t => t.Name).Distinct(StringComparer.Ordinal).Count();
        var report = new RebuildReport(chosen.Count - trash, trash, collections, tags, clock.Elapsed.TotalSeconds, problems);
        Log.Rebuilt(library.Logger, report.Media, report.Trash, report.Collections, report.Seconds);
        return report;
    }
}
