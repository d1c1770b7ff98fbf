using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Trove.Application;
using Trove.Domain;
using Trove.Index.Sqlite;
using Trove.Library;

namespace Trove.Bench;

/// <summary>
/// make bench-index: how fast Trove writes sidecars + index and rebuilds the index, next to the raw cost of
/// writing the same sidecar files without any index, in the same run on the same disk.
/// </summary>
internal static class IndexBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = BenchArgs.Int(args, "--count", 100_000);
        var durableCount = BenchArgs.Int(args, "--durable-count", 2_000);
        var root = BenchArgs.String(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "trove-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(root);
        try
        {
            Console.WriteLine($"bench-index: {count:N0} synthetic media (~24 tags from a Zipf vocabulary of 20,000, one caption), in {root}");
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
            var sidecars = Generate(count);
            var bytes = sidecars.Select(SidecarSerializer.Serialize).ToArray();
            Console.WriteLine($"average sidecar: {bytes.Average(b => b.Length):N0} bytes");
            Console.WriteLine();

            var rows = new List<(string Name, int N, double Seconds)>();

            // Baselines: the same bytes to the same sharded layout, no index.
            rows.Add(("raw File.WriteAllBytes (not atomic)", count, Time(() => WriteRaw(Path.Combine(root, "raw-plain"), sidecars, bytes, atomic: false))));
            rows.Add(("raw atomic write, Fast (no fsync)", count, Time(() => WriteRaw(Path.Combine(root, "raw-atomic"), sidecars, bytes, atomic: true, Durability.Fast))));

            // Trove: sidecar + index through the write session, as import and tagging do.
            var (troveFast, library) = await WriteTroveAsync(Path.Combine(root, "lib-fast"), sidecars, Durability.Fast);
            rows.Add(("Trove sidecar+index, Fast", count, troveFast));

            var reconcile = await TimeAsync(() => ReconcileService.ReconcileAsync(library, waitForLock: true, CancellationToken.None));
            var rebuild = await TimeAsync(() => RebuildService.RebuildAsync(library, null, CancellationToken.None));
            await library.DisposeAsync();

            // Cold rebuild: delete the index, open (which rebuilds).
            foreach (var f in Directory.GetFiles(Path.Combine(root, "lib-fast", "index")))
            {
                File.Delete(f);
            }

            var coldOpen = await TimeAsync(async () => await (await OpenAsync(Path.Combine(root, "lib-fast"), Durability.Fast)).DisposeAsync());

            // Durable (fsync per file and folder) on a subset: what a power cut cannot undo.
            var subset = sidecars.Take(durableCount).ToArray();
            rows.Add(("raw atomic write, Durable (fsync)", durableCount, Time(() => WriteRaw(Path.Combine(root, "raw-durable"), subset, bytes, atomic: true, Durability.Durable))));
            var (troveDurable, durableLibrary) = await WriteTroveAsync(Path.Combine(root, "lib-durable"), subset, Durability.Durable);
            await durableLibrary.DisposeAsync();
            rows.Add(("Trove sidecar+index, Durable", durableCount, troveDurable));

            Console.WriteLine($"{"writes",-40} {"media",10} {"seconds",9} {"media/s",10}");
            foreach (var (name, n, s) in rows)
            {
                Console.WriteLine($"{name,-40} {n,10:N0} {s,9:0.00} {n / s,10:N0}");
            }

            var rawFast = rows[1].Seconds;
            Console.WriteLine();
            Console.WriteLine($"Trove Fast vs raw atomic Fast: {troveFast / rawFast:0.00}x the time (index overhead {(troveFast - rawFast) / count * 1e6:0} µs/media)");
            Console.WriteLine($"Trove Durable vs raw atomic Durable: {troveDurable / rows[3].Seconds:0.00}x the time");
            Console.WriteLine();
            Console.WriteLine($"{"index maintenance",-40} {"media",10} {"seconds",9} {"media/s",10}");
            Console.WriteLine($"{"rebuild (warm files)",-40} {count,10:N0} {rebuild,9:0.00} {count / rebuild,10:N0}");
            Console.WriteLine($"{"cold open after deleting the index",-40} {count,10:N0} {coldOpen,9:0.00} {count / coldOpen,10:N0}");
            Console.WriteLine($"{"reconcile on open (nothing changed)",-40} {count,10:N0} {reconcile,9:0.00} {count / reconcile,10:N0}");
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static MediaSidecar[] Generate(int count)
    {
        var random = new Random(42);
        const int vocabulary = 20_000;
        var cumulative = new double[vocabulary];
        var sum = 0.0;
        for (var i = 0; i < vocabulary; i++)
        {
            sum += 1.0 / (i + 1);
            cumulative[i] = sum;
        }

        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var result = new MediaSidecar[count];
        for (var i = 0; i < count; i++)
        {
            var id = Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)));
            var created = start.AddSeconds(i * 37);
            var sidecar = new MediaSidecar
            {
                Id = id,
                Original = new OriginalInfo { Ext = "jpg", MediaType = "image/jpeg", Size = 50_000 + random.Next(5_000_000), OriginalName = $"IMG_{i:D6}.jpg" },
                Uploader = "bench",
                CreatedAt = created,
                UpdatedAt = created,
            };
            var tags = new HashSet<int>();
            while (tags.Count < 24)
            {
                var x = random.NextDouble() * sum;
                var k = Array.BinarySearch(cumulative, x);
                tags.Add(k < 0 ? ~k : k);
            }

            foreach (var t in tags)
            {
                sidecar.Tags.Add(new TagEntry { Name = "tag_" + t.ToString(CultureInfo.InvariantCulture), AddedAt = created, AddedBy = "bench", Source = TagSources.Import });
            }

            var caption = new StringBuilder("a photo of ");
            caption.Append(string.Join(' ', sidecar.Tags.Take(5).Select(t => t.Name)));
            sidecar.Captions.Add(new CaptionEntry { Id = 1, Text = caption.ToString(), Primary = true, CreatedAt = created, CreatedBy = "bench" });
            result[i] = sidecar;
        }

        return result;
    }

    private static void WriteRaw(string dir, MediaSidecar[] sidecars, byte[][] bytes, bool atomic, Durability durability = Durability.Fast)
    {
        var layout = new LibraryLayout(dir);
        for (var i = 0; i < sidecars.Length; i++)
        {
            var path = layout.SidecarPath(sidecars[i].Id);
            if (atomic)
            {
                AtomicFile.WriteAllBytes(path, bytes[i], durability);
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, bytes[i]);
            }
        }
    }

    private static async Task<(double Seconds, TroveLibrary Library)> WriteTroveAsync(string dir, MediaSidecar[] sidecars, Durability durability)
    {
        var env = EnvironmentFor(durability);
        TroveLibrary.Init(dir, env);
        var library = await TroveLibrary.OpenAsync(dir, env, null, CancellationToken.None);
        var clock = Stopwatch.StartNew();
        await using (var session = await library.BeginWriteAsync(CancellationToken.None))
        {
            foreach (var sidecar in sidecars)
            {
                // Serialises the sidecar again, as a real write does.
                await session.SaveAsync(sidecar, inTrash: false, CancellationToken.None);
            }
        }

        return (clock.Elapsed.TotalSeconds, library);
    }

    private static Task<TroveLibrary> OpenAsync(string dir, Durability durability) =>
        TroveLibrary.OpenAsync(dir, EnvironmentFor(durability), null, CancellationToken.None);

    private static LibraryEnvironment EnvironmentFor(Durability durability) =>
        LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), new TroveOptions { Durability = durability }, "bench");

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> TimeAsync<T>(Func<Task<T>> action)
    {
        var clock = Stopwatch.StartNew();
        await action();
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action();
        return clock.Elapsed.TotalSeconds;
    }
}
