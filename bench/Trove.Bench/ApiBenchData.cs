using System.Diagnostics;
using System.Globalization;
using Trove.Application;
using Trove.Application.Thumbnails;
using Trove.Imaging.Vips;
using Trove.Index.Sqlite;
using Trove.Library;
using Trove.Testing;

namespace Trove.Bench;

/// <summary>
/// The library of make bench-api: a real Trove library (sidecars, index, state) with <c>count</c> synthetic media
/// written through the real write path (no originals: enough for search) plus a few hundred real JPEGs imported
/// through <see cref="MediaService"/> with their grid thumbnails made. Generated once into .data/bench-api and reused
/// while its marker (version + sizes) matches.
/// </summary>
internal static class ApiBenchData
{
    /// <summary>Bump when generation changes: a library of another version is regenerated.</summary>
    public const string Version = "api-v1";

    public const int ThumbnailSize = 256;

    /// <summary>The tags the real images carry (batches of 30 share a set): frequent ranks of the synthetic vocabulary.</summary>
    private static string[] RealTags(int batch) =>
        [SearchData.TagName(batch % 20), SearchData.TagName(7 + (100 * (batch % 3))), SearchData.TagName(20 + batch)];

    public sealed record Settings(int Count, int Tags, int PerMedia, int Real)
    {
        public string Marker => $"version={Version}\ncount={Count}\ntags={Tags}\nper-media={PerMedia}\nreal={Real}\n";
    }

    public static LibraryEnvironment Environment()
    {
        var options = new TroveOptions { Durability = Durability.Fast };
        options.Accounts.PasswordIterations = 1000; // the bench account's password is never used
        return LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), options, actor: "bench") with
        {
            Imaging = VipsImageEngine.Create(new VipsOptions()),
        };
    }

    /// <summary>Opens the cached library, or generates it; returns it with the ids of the real (imported) media.</summary>
    public static async Task<(TroveLibrary Library, IReadOnlyList<string> RealIds)> EnsureAsync(string dir, Settings settings, LibraryEnvironment env, CancellationToken ct)
    {
        var libraryPath = Path.Combine(dir, "library");
        var markerPath = Path.Combine(dir, "marker.txt");
        var idsPath = Path.Combine(dir, "real-ids.txt");
        if (File.Exists(markerPath) && File.ReadAllText(markerPath) == settings.Marker && File.Exists(idsPath) && Directory.Exists(libraryPath))
        {
            var clock = Stopwatch.StartNew();
            var reused = await TroveLibrary.OpenAsync(libraryPath, env, null, ct);
            var ids = File.ReadAllLines(idsPath).Where(l => l.Length > 0).ToArray();
            Console.WriteLine($"library: reusing {libraryPath} ({settings.Count:N0} synthetic + {ids.Length} real media; opened in {clock.Elapsed.TotalSeconds:0.0} s)");
            return (reused, ids);
        }

        if (File.Exists(markerPath))
        {
            File.Delete(markerPath);
        }

        if (Directory.Exists(libraryPath))
        {
            Console.WriteLine($"library: {libraryPath} is from another version or size; regenerating");
            Directory.Delete(libraryPath, recursive: true);
        }

        Directory.CreateDirectory(dir);
        Console.WriteLine($"library: generating {settings.Count:N0} synthetic media + {settings.Real} real JPEGs into {libraryPath}");
        var total = Stopwatch.StartNew();
        TroveLibrary.Init(libraryPath, env, "bench-api");
        var library = await TroveLibrary.OpenAsync(libraryPath, env, null, ct);
        try
        {
            // 1. Synthetic sidecars through the real write path (sidecar file first, then the index, batched).
            var clock = Stopwatch.StartNew();
            var generator = new SearchData.Generator(settings.Count, settings.Tags, settings.PerMedia);
            await using (var session = await library.BeginWriteAsync(ct))
            {
                var lastReport = Stopwatch.GetTimestamp();
                for (var i = 1; i <= settings.Count; i++)
                {
                    var (sidecar, inTrash) = generator.Next();
                    await session.SaveAsync(sidecar, inTrash, ct);
                    if (Stopwatch.GetElapsedTime(lastReport).TotalSeconds >= 10 || i == settings.Count)
                    {
                        lastReport = Stopwatch.GetTimestamp();
                        Console.WriteLine($"  {i,10:N0} sidecars  {clock.Elapsed.TotalSeconds,7:0.0} s  {i / clock.Elapsed.TotalSeconds,8:N0} media/s");
                    }
                }
            }

            var synthetic = clock.Elapsed.TotalSeconds;

            // 2. Real JPEGs, imported like `trove import` does (copy, hash, probe, pHash, sidecar, index, 256 thumbnail).
            clock.Restart();
            var staging = Path.Combine(dir, "staging");
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            Directory.CreateDirectory(staging);
            var paths = new List<string>(settings.Real);
            for (var i = 0; i < settings.Real; i++)
            {
                var path = Path.Combine(staging, $"photo-{i:D4}.jpg");
                TestImages.WriteJpeg(path, TestImages.Photo(1_000 + i, 1600, 1200));
                paths.Add(path);
            }

            var written = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var media = new MediaService(library);
            var ids = new List<string>(settings.Real);
            var batch = 0;
            foreach (var chunk in paths.Chunk(30))
            {
                var report = await media.ImportAsync(chunk, new ImportOptions(RealTags(batch++), null, false), null, ct);
                if (report.Failed.Count > 0 || report.Imported != chunk.Length)
                {
                    throw new InvalidOperationException($"importing the real images failed: {report.Imported} imported, {report.Duplicates} duplicates, failures: "
                        + string.Join("; ", report.Failed.Select(f => f.ToString())));
                }

                ids.AddRange(report.Media);
            }

            var imported = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var thumbnails = new ThumbnailService(library);
            var made = 0;
            foreach (var id in ids)
            {
                if ((await thumbnails.GetAsync(id, ThumbnailSize, ct)).Created)
                {
                    made++;
                }
            }

            Directory.Delete(staging, recursive: true);
            File.WriteAllLines(Path.Combine(dir, "real-ids.txt"), ids);
            File.WriteAllText(markerPath, settings.Marker);
            Console.WriteLine($"library: generated in {total.Elapsed.TotalSeconds:0.0} s — {settings.Count:N0} sidecars in {synthetic:0.0} s ({settings.Count / synthetic:N0}/s), "
                + $"{settings.Real} JPEGs 1600×1200 written in {written:0.0} s and imported in {imported:0.0} s ({settings.Real / imported:0.0}/s), "
                + $"{ThumbnailSize} px thumbnails: {ids.Count - made} made at import, {made} made after ({clock.Elapsed.TotalSeconds:0.0} s)");
            return (library, ids);
        }
        catch
        {
            await library.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// ~200 search requests over the synthetic vocabulary (deterministic): single frequent tags, two-tag ANDs, negations,
    /// ranges, seeded shuffles, and second pages. Returns (category, query, offset).
    /// </summary>
    public static IReadOnlyList<(string Category, string Query, int Offset)> Queries(int tagCount)
    {
        var r = new Random(11);
        var result = new List<(string, string, int)>();

        // Log-uniform over the most frequent `top` ranks (rank 0 is on ~90 % of the media, rank 1,000 on a few hundred).
        string Tag(int top)
        {
            var rank = (int)Math.Floor(Math.Exp(r.NextDouble() * Math.Log(Math.Min(top, tagCount)))) - 1;
            return SearchData.TagName(Math.Clamp(rank, 0, tagCount - 1));
        }

        (string, string) Two(int top)
        {
            var a = Tag(top);
            while (true)
            {
                var b = Tag(top);
                if (b != a)
                {
                    return (a, b);
                }
            }
        }

        for (var i = 0; i < 60; i++)
        {
            result.Add(("tag", Tag(1_000), 0));
        }

        for (var i = 0; i < 50; i++)
        {
            var (a, b) = Two(300);
            result.Add(("and", $"{a} {b}", 0));
        }

        for (var i = 0; i < 20; i++)
        {
            var (a, b) = Two(50);
            result.Add(("not", $"{a} -{b}", 0));
        }

        string[] ranges = ["width:>1000", "height:<=800", "mpixels:>2", "ratio:>1", "filesize:>2mb", "type:png", "width:1000..2000", "date:2024"];
        for (var i = 0; i < 20; i++)
        {
            var range = ranges[i % ranges.Length];
            result.Add(("range", i < ranges.Length ? range : $"{Tag(300)} {range}", 0));
        }

        for (var i = 0; i < 20; i++)
        {
            result.Add(("random", $"{Tag(300)} order:random:{r.Next(1, 100_000).ToString(CultureInfo.InvariantCulture)}", 0));
        }

        // Second pages of queries above.
        var firstPages = result.ToArray();
        for (var i = 0; i < 30; i++)
        {
            var (_, query, _) = firstPages[(i * 37) % firstPages.Length];
            result.Add(("page2", query, 60));
        }

        return result;
    }
}
