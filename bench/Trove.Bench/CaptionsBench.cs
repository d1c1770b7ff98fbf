using System.Diagnostics;
using Trove.Application;
using Trove.Application.Captioning;
using Trove.Application.Models;
using Trove.Application.Providers;
using Trove.Domain.Models;
using Trove.Imaging.Vips;
using Trove.Index.Sqlite;
using Trove.Library;
using Trove.Providers.Http;
using Trove.Testing;

namespace Trove.Bench;

/// <summary>
/// make bench-captions: caption generation against a local server speaking the OpenAI protocol that answers after a
/// fixed delay. (1) Throughput with concurrency C: Trove end to end (libvips downscale, HTTP through the shared
/// limiter and retry pipeline, sidecar and index writes) next to the ideal C / delay and to bare HttpClient loops in
/// the same run; target ≥ 0.9 × ideal. (2) With a requests-per-minute limit R: the rate the server observes over the
/// window; target within R (+0, −10 %).
/// </summary>
internal static class CaptionsBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = BenchArgs.Int(args, "--count", 400);
        var concurrency = BenchArgs.Int(args, "--concurrency", 8);
        var delayMs = BenchArgs.Int(args, "--delay", 200);
        var rpm = BenchArgs.Int(args, "--rpm", 120);
        var window = BenchArgs.Int(args, "--duration", 60);
        var dir = BenchArgs.String(args, "--dir") ?? Path.Combine(BenchArgs.RepoRoot(), ".data", "bench-captions");
        var delay = TimeSpan.FromMilliseconds(delayMs);
        var ideal = concurrency / delay.TotalSeconds;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var ct = timeout.Token;

        Console.WriteLine($"bench-captions: a local OpenAI-protocol server answering after {delayMs} ms; {count} real 1024×768 JPEGs; concurrency {concurrency}; rate test {rpm}/min over {window} s");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; data in {dir}");
        Console.WriteLine();

        await using var fake = await FakeProviderServer.StartAsync(ct: ct);
        fake.Latency = delay;
        fake.Default = Behaviour.Caption("a photograph of colourful shapes on a gradient");
        using var remote = HttpRemoteModels.Create();

        // Baseline: C loops of bare HttpClient posts of the same body (no limiter, no retries, no images to prepare).
        var baseline = await BareHttpAsync(fake, concurrency, Math.Min(count, 200), ct);

        // Trove end to end.
        var (library, ids) = await LibraryAsync(dir, count, remote, ct);
        await using (library)
        {
            var provider = new ProviderDefinition { Name = "bench", Kind = ProviderKinds.OpenAi, Url = fake.OpenAiUrl, Model = "bench-vlm", MaxConcurrency = concurrency, TimeoutSeconds = 30 };
            await new ProviderRegistry(library).AddAsync(provider, replace: true, ct);
            var models = library.Files.ReadModels();
            var version = $"run-{DateTime.UtcNow:yyyyMMddHHmmss}";
            if (models.Find("bench-cap") is null || models.Find("bench-cap")!.Versions.All(v => v.Version != version))
            {
                await new ModelRegistry(library).AddAsync(new ModelAddRequest("bench-cap", ModelKinds.Captioner, string.Empty, version, Provider: "bench"), ct);
            }

            var generator = new CaptionGenerator(library);
            var captioner = generator.Resolve("bench-cap@" + version);
            var before = fake.Requests.Count;
            var clock = Stopwatch.StartNew();
            var result = await generator.RunAsync(captioner, ids, overwrite: false, progress: null, ct);
            var seconds = clock.Elapsed.TotalSeconds;
            var rate = result.Generated / seconds;
            Console.WriteLine($"{"throughput (captions/s)",-44} {"measured",10} {"vs ideal",9}");
            Console.WriteLine($"{"ideal: C / delay",-44} {ideal,10:0.0} {1.0,9:P0}");
            Console.WriteLine($"{"baseline: bare HttpClient, C loops",-44} {baseline,10:0.0} {baseline / ideal,9:P0}");
            Console.WriteLine($"{"Trove: CaptionGenerator end to end",-44} {rate,10:0.0} {rate / ideal,9:P0}   ({result.Generated} captions in {seconds:0.0} s, {fake.Requests.Count - before} requests, at most {fake.MaxInFlight} in flight, {result.Failed.Count} failed)");
            var throughputOk = result.Generated == ids.Count && rate >= 0.9 * ideal && fake.MaxInFlight <= concurrency;
            Console.WriteLine($"target: ≥ 90 % of ideal, never more than {concurrency} in flight — {(throughputOk ? "PASS" : "FAIL")}");
            Console.WriteLine();

            // Rate limit: many callers, far more concurrency than needed; the limiter alone decides the rate.
            var limited = new ProviderDefinition { Name = "bench-rpm", Kind = ProviderKinds.OpenAi, Url = fake.OpenAiUrl, Model = "bench-vlm", MaxConcurrency = 64, RequestsPerMinute = rpm, TimeoutSeconds = 30 };
            var image = new RemoteImage(await File.ReadAllBytesAsync(Path.Combine(dir, "probe.jpg"), ct), "image/jpeg", 64, 48);
            fake.Latency = TimeSpan.FromMilliseconds(20);
            var start = fake.Requests.Count;
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(window));
            var started = DateTimeOffset.UtcNow;
            var callers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await remote.CaptionAsync(limited, new CaptionRequest(image, "bench", 16, 0), stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }, CancellationToken.None)).ToArray();
            await Task.WhenAll(callers);
            var inWindow = fake.Requests.Skip(start).Count(r => r.At - started < TimeSpan.FromSeconds(window));
            var allowed = rpm * window / 60.0;
            var rateOk = inWindow <= allowed && inWindow >= 0.9 * allowed;
            Console.WriteLine($"{"requests per minute",-44} {"observed",10} {"allowed",9}");
            Console.WriteLine($"{$"limit {rpm}/min, 16 callers, {window} s",-44} {inWindow * 60.0 / window,10:0.0} {rpm,9}   ({inWindow} requests in {window} s, {allowed:0} allowed)");
            Console.WriteLine($"target: within the limit (+0, −10 %) — {(rateOk ? "PASS" : "FAIL")}");
            return throughputOk && rateOk ? 0 : 1;
        }
    }

    /// <summary>Captions per second that C bare HttpClient loops get from the same server (the protocol's floor cost).</summary>
    private static async Task<double> BareHttpAsync(FakeProviderServer fake, int concurrency, int requests, CancellationToken ct)
    {
        using var http = new HttpClient();
        var body = """{"model":"bench-vlm","messages":[{"role":"user","content":[{"type":"text","text":"bench"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}}]}],"max_tokens":16}""";
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < requests)
            {
                using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(new Uri(fake.OpenAiUrl + "/chat/completions"), content, ct);
                await response.Content.ReadAsByteArrayAsync(ct);
            }
        }, ct)));
        return requests / clock.Elapsed.TotalSeconds;
    }

    /// <summary>A library of <paramref name="count"/> real JPEGs (generated and imported once, then reused).</summary>
    private static async Task<(TroveLibrary Library, IReadOnlyList<string> Ids)> LibraryAsync(string dir, int count, IRemoteModels remote, CancellationToken ct)
    {
        var vips = VipsImageEngine.Create(new VipsOptions());
        var env = LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), new TroveOptions()) with { Imaging = vips, Remote = remote };
        var libraryPath = Path.Combine(dir, "library");
        var marker = Path.Combine(dir, "marker.txt");
        var expected = $"v1 count={count}";
        if (!File.Exists(marker) || File.ReadAllText(marker).Trim() != expected)
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }

            var images = Path.Combine(dir, "images");
            Directory.CreateDirectory(images);
            var files = Enumerable.Range(0, count).Select(i => Path.Combine(images, $"photo-{i:D4}.jpg")).ToArray();
            Parallel.For(0, count, i => TestImages.WriteJpeg(files[i], TestImages.Photo(5000 + i, 1024, 768)));
            TestImages.WriteJpeg(Path.Combine(dir, "probe.jpg"), TestImages.Photo(1, 64, 48));
            TroveLibrary.Init(libraryPath, env);
            var fresh = await TroveLibrary.OpenAsync(libraryPath, env, null, ct);
            await using (fresh)
            {
                var report = await new MediaService(fresh).ImportAsync(files, new ImportOptions([], null, DryRun: false), null, ct);
                await File.WriteAllLinesAsync(Path.Combine(dir, "ids.txt"), report.Media, ct);
            }

            File.WriteAllText(marker, expected);
            Console.WriteLine($"data: {count} JPEGs generated and imported into {libraryPath}");
        }

        var library = await TroveLibrary.OpenAsync(libraryPath, env, null, ct);
        var ids = File.ReadAllLines(Path.Combine(dir, "ids.txt")).Where(l => l.Length > 0).ToList();
        return (library, ids);
    }
}
