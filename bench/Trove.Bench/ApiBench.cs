using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Search.Engine;
using Trove.Server;

namespace Trove.Bench;

/// <summary>
/// make bench-api: the real server (in this process, over a real 100k-media library on disk) under wrk on loopback —
/// search pages, thumbnails, and a gallery-like mix — next to a baseline that serves a small embedded static file
/// through the same host and middleware (the ceiling of this host on this machine), in the same run.
/// </summary>
internal static class ApiBench
{
    private const int PageSize = 60;
    private const int ThumbnailsPerSearch = 10;
    private const string Account = "bench-api";

    private sealed record Scenario(string Name, string Description, IReadOnlyList<string> Paths);

    private sealed record Outcome(Scenario Scenario, WrkResult Wrk, IReadOnlyList<MemorySample> Memory, (double Server, double Wrk, double Others) Cpu)
    {
        public MemorySample Start => Memory[0];

        /// <summary>The first sample at least 5 s into the run (the reference for "memory steady").</summary>
        public MemorySample AtFive => Memory.FirstOrDefault(m => m.Seconds >= 5 - 0.05, Memory[^1]);

        public MemorySample End => Memory[^1];

        public long MaxWorkingSet => Memory.Max(m => m.WorkingSet);

        public bool Steady => End.WorkingSet <= 1.25 * AtFive.WorkingSet;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = new ApiBenchData.Settings(
            BenchArgs.Int(args, "--count", 100_000),
            BenchArgs.Int(args, "--tags", 20_000),
            BenchArgs.Int(args, "--per-media", 24),
            BenchArgs.Int(args, "--real", 300));
        var duration = BenchArgs.Int(args, "--duration", 30);
        var connections = BenchArgs.Int(args, "--connections", 32);
        var threads = BenchArgs.Int(args, "--threads", 2);
        var dir = Path.GetFullPath(BenchArgs.String(args, "--dir") ?? Path.Combine(BenchArgs.RepoRoot(), ".data", "bench-api"));
        var ct = CancellationToken.None;

        var wrk = Wrk.Find();
        if (wrk is null)
        {
            Console.Error.WriteLine("install wrk: apt-get install wrk (make bench-api does it)");
            return 2;
        }

        Console.WriteLine($"bench-api: the Trove server in-process over a library of {settings.Count:N0} synthetic media (~{settings.PerMedia} Zipf tags each over {settings.Tags:N0} tags, captions) + {settings.Real} real JPEGs with 256 px thumbnails");
        Console.WriteLine($"load: wrk -t{threads} -c{connections} -d{duration}s --latency on loopback, API token auth on every request (baseline too)");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores SHARED by the server and wrk (both on this machine, over loopback), {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1073741824.0:0} GB, .NET {Environment.Version}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC (as trove serve); data in {dir}");
        Console.WriteLine();

        var env = ApiBenchData.Environment();
        var (library, realIds) = await ApiBenchData.EnsureAsync(dir, settings, env, ct);
        await using var libraryDisposal = library;
        if (realIds.Count == 0)
        {
            Console.Error.WriteLine("the library has no real media to ask thumbnails of");
            return 1;
        }

        // An admin with an API token (no password: token-only account).
        var accounts = new AccountService(library);
        UserAccount user;
        try
        {
            user = await accounts.GetAsync(Account, ct);
        }
        catch (TroveException ex) when (ex.Code == "user-not-found")
        {
            user = await accounts.CreateAsync(Account, Role.Admin, null, ct);
        }

        var issued = await accounts.IssueTokenAsync(user.Id, "bench " + DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture), ct);
        try
        {
            return await ServeAndMeasureAsync(library, settings, realIds, issued.Secret, wrk, dir, (duration, connections, threads), ct);
        }
        finally
        {
            await accounts.RevokeTokenAsync(issued.Token.Id, null, ct);
        }
    }

    private static async Task<int> ServeAndMeasureAsync(
        TroveLibrary library, ApiBenchData.Settings settings, IReadOnlyList<string> realIds, string token, string wrk, string dir, (int Duration, int Connections, int Threads) load, CancellationToken ct)
    {
        var (duration, connections, threads) = load;
        var app = TroveServer.Build(library, new ServerSettings { Urls = "http://127.0.0.1:0" });
        await using var appDisposal = app;
        await app.StartAsync(ct);
        try
        {
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            Console.WriteLine($"server: listening on {address}");

            var queries = ApiBenchData.Queries(settings.Tags);
            var searchPaths = queries.Select(q => SearchPath(q.Query, q.Offset)).ToArray();
            var thumbPaths = realIds.Select(id => $"/api/media/{id}/thumbnail?size={ApiBenchData.ThumbnailSize}").ToArray();
            var mixed = new List<string>();
            for (var i = 0; i < searchPaths.Length; i++)
            {
                mixed.Add(searchPaths[i]);
                for (var k = 0; k < ThumbnailsPerSearch; k++)
                {
                    mixed.Add(thumbPaths[((i * ThumbnailsPerSearch) + k) % thumbPaths.Length]);
                }
            }

            var scenarios = new[]
            {
                new Scenario("baseline", "GET /static/app.css: an embedded file through the same host and middleware", ["/static/app.css"]),
                new Scenario("search page", $"GET /api/search?q=…&limit={PageSize} over {searchPaths.Length} queries", searchPaths),
                new Scenario("thumbnail", $"GET /api/media/ID/thumbnail?size=256 over {thumbPaths.Length} media", thumbPaths),
                new Scenario("mixed 1:10", $"1 search page : {ThumbnailsPerSearch} thumbnails (a gallery page)", mixed),
            };

            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (!await VerifyAsync(client, queries, searchPaths, thumbPaths, ct))
            {
                return 1;
            }

            await BreakdownAsync(app.Services, client, queries, searchPaths, ct);
            Console.WriteLine();
            var scripts = Path.Combine(dir, "wrk");
            Directory.CreateDirectory(scripts);
            var outcomes = new List<Outcome>();
            foreach (var scenario in scenarios)
            {
                var script = Path.Combine(scripts, scenario.Name.Replace(' ', '-').Replace(':', '-') + ".lua");
                await File.WriteAllTextAsync(script, Wrk.Script(scenario.Paths, token), ct);
                Console.WriteLine($"running {scenario.Name,-12} {scenario.Description} ({duration} s)…");
                WrkResult result;
                IReadOnlyList<MemorySample> memory;
                var sampler = new MemorySampler();
                var cpu = CpuReading.Take();
                await using (sampler)
                {
                    result = await Wrk.RunAsync(wrk, script, address, threads, connections, duration, ct);
                }

                var cores = CpuReading.Take().CoresSince(cpu);
                memory = sampler.Samples;
                outcomes.Add(new Outcome(scenario, result, memory, cores));
                if (result.Errors > 0)
                {
                    Console.WriteLine($"  errors: {result.Non2xx:N0} non-2xx/3xx responses; {(result.SocketErrors > 0 ? result.SocketErrorDetail : "no socket errors")}");
                }
            }

            Report(outcomes);
            return Targets(outcomes) ? 0 : 1;
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    private static string SearchPath(string query, int offset) =>
        $"/api/search?q={Uri.EscapeDataString(query)}&limit={PageSize}" + (offset > 0 ? $"&offset={offset.ToString(CultureInfo.InvariantCulture)}" : string.Empty);

    /// <summary>Every request of every scenario once, checked (status, content type, JSON shape), before any load. Also warms the search engine.</summary>
    private static async Task<bool> VerifyAsync(HttpClient client, IReadOnlyList<(string Category, string Query, int Offset)> queries, string[] searchPaths, string[] thumbPaths, CancellationToken ct)
    {
        using (var css = await client.GetAsync(new Uri("/static/app.css", UriKind.Relative), ct))
        {
            var type = css.Content.Headers.ContentType?.MediaType;
            if (css.StatusCode != HttpStatusCode.OK || type != "text/css")
            {
                return Fail($"GET /static/app.css answered {(int)css.StatusCode} {type}; expected 200 text/css");
            }
        }

        // The first search loads the search engine from the index.
        var clock = Stopwatch.StartNew();
        using (var first = await client.GetAsync(new Uri($"/api/search?q=&limit={PageSize}", UriKind.Relative), ct))
        {
            if (first.StatusCode == HttpStatusCode.NotFound && !(await first.Content.ReadAsStringAsync(ct)).Contains("\"total\"", StringComparison.Ordinal))
            {
                return Fail("GET /api/search answered 404: the search endpoint is not there (yet)");
            }

            var page = await ReadSearchAsync(first, ct);
            if (page is null)
            {
                return false;
            }

            Console.WriteLine($"warm-up: first search (loads the search engine) {clock.Elapsed.TotalSeconds:0.00} s, {page.Value.Total:N0} media in the library outside the trash");
        }

        clock.Restart();
        var totals = new List<long>();
        for (var i = 0; i < searchPaths.Length; i++)
        {
            using var response = await client.GetAsync(new Uri(searchPaths[i], UriKind.Relative), ct);
            var page = await ReadSearchAsync(response, ct);
            if (page is null)
            {
                return Fail($"  for {queries[i].Category} query '{queries[i].Query}' ({searchPaths[i]})");
            }

            var expected = (int)Math.Clamp(page.Value.Total - queries[i].Offset, 0, PageSize);
            if (page.Value.Items != expected)
            {
                return Fail($"GET {searchPaths[i]}: {page.Value.Items} items for a total of {page.Value.Total} at offset {queries[i].Offset}; expected {expected}");
            }

            if (queries[i].Category == "tag" && page.Value.Total == 0)
            {
                return Fail($"GET {searchPaths[i]}: no media with the frequent tag '{queries[i].Query}'");
            }

            totals.Add(page.Value.Total);
        }

        var sorted = totals.Order().ToArray();
        Console.WriteLine($"verified: {searchPaths.Length} search requests answer 200 application/json {{total, limit, offset, items[≤{PageSize}]}} "
            + $"(matches per query: min {sorted[0]:N0}, median {sorted[sorted.Length / 2]:N0}, max {sorted[^1]:N0}; {clock.Elapsed.TotalMilliseconds / searchPaths.Length:0.0} ms each, one at a time)");
        foreach (var category in queries.Select(q => q.Category).Distinct())
        {
            var q = queries.First(q => q.Category == category);
            Console.WriteLine($"  {category,-7} {queries.Count(x => x.Category == category),3}  e.g. q={q.Query}{(q.Offset > 0 ? $" offset={q.Offset}" : string.Empty)}");
        }

        clock.Restart();
        long bytes = 0;
        var types = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in thumbPaths)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), ct);
            var type = response.Content.Headers.ContentType?.MediaType ?? "(none)";
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if (response.StatusCode != HttpStatusCode.OK || !type.StartsWith("image/", StringComparison.Ordinal) || body.Length == 0)
            {
                return Fail($"GET {path} answered {(int)response.StatusCode} {type}, {body.Length} bytes; expected 200 image/*: {Shorten(System.Text.Encoding.UTF8.GetString(body))}");
            }

            bytes += body.Length;
            types.Add(type);
        }

        Console.WriteLine($"verified: {thumbPaths.Length} thumbnails answer 200 {string.Join(", ", types)} (average {bytes / thumbPaths.Length / 1024.0:0.0} KiB; {clock.Elapsed.TotalMilliseconds / thumbPaths.Length:0.0} ms each, one at a time)");
        return true;
    }

    /// <summary>
    /// Where a search page's time goes, one request at a time (no load): the search engine alone, reading the page's
    /// cards (its sidecars), and the whole HTTP request. Each is the median over the query mix, after one warm pass.
    /// </summary>
    private static async Task BreakdownAsync(IServiceProvider services, HttpClient client, IReadOnlyList<(string Category, string Query, int Offset)> queries, string[] searchPaths, CancellationToken ct)
    {
        var search = services.GetRequiredService<SearchService>();
        var cards = services.GetRequiredService<MediaCards>();
        var engine = new double[queries.Count];
        var read = new double[queries.Count];
        var http = new double[queries.Count];
        long bytes = 0;
        for (var i = 0; i < queries.Count; i++)
        {
            var clock = Stopwatch.StartNew();
            var found = await search.SearchAsync(queries[i].Query, new SearchRequest(PageSize, queries[i].Offset), ct);
            engine[i] = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            await cards.ReadAsync(found.Ids, ct);
            read[i] = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            using var response = await client.GetAsync(new Uri(searchPaths[i], UriKind.Relative), ct);
            bytes += (await response.Content.ReadAsByteArrayAsync(ct)).Length;
            http[i] = clock.Elapsed.TotalMilliseconds;
        }

        static double Median(double[] x) => x.Order().ElementAt(x.Length / 2);
        Console.WriteLine($"search page, one at a time (median over the {queries.Count} requests): search engine {Median(engine):0.00} ms, reading the page's {PageSize} cards (sidecars) {Median(read):0.00} ms, whole HTTP request {Median(http):0.00} ms (answers of {bytes / queries.Count / 1024.0:0.0} KiB on average)");
    }

    private static async Task<(long Total, int Items)?> ReadSearchAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        var path = response.RequestMessage?.RequestUri?.PathAndQuery;
        var type = response.Content.Headers.ContentType?.MediaType;
        if (response.StatusCode != HttpStatusCode.OK || type != "application/json")
        {
            Fail($"GET {path} answered {(int)response.StatusCode} {type}; expected 200 application/json: {Shorten(text)}");
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(text);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("total", out var total) || total.ValueKind != JsonValueKind.Number
                || !root.TryGetProperty("limit", out var limit) || limit.ValueKind != JsonValueKind.Number
                || !root.TryGetProperty("offset", out var offset) || offset.ValueKind != JsonValueKind.Number
                || !root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
            {
                Fail($"GET {path}: the answer lacks total/limit/offset/items: {Shorten(text)}");
                return null;
            }

            foreach (var item in items.EnumerateArray())
            {
                if (!item.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                    || !item.TryGetProperty("thumbnail", out _) || !item.TryGetProperty("tags", out var tags) || tags.ValueKind != JsonValueKind.Array)
                {
                    Fail($"GET {path}: an item lacks id/thumbnail/tags: {Shorten(item.GetRawText())}");
                    return null;
                }
            }

            return (total.GetInt64(), items.GetArrayLength());
        }
        catch (JsonException ex)
        {
            Fail($"GET {path}: not JSON ({ex.Message}): {Shorten(text)}");
            return null;
        }
    }

    private static void Report(List<Outcome> outcomes)
    {
        Console.WriteLine();
        Console.WriteLine($"{"scenario",-12} | {"requests",9} | {"requests/s",10} | {"p50 ms",7} | {"p90 ms",7} | {"p99 ms",7} | {"errors",6} | {"working set MiB: start → 5 s → end (max)",-42} | {"heap MiB end",12} | {"GCs 0/1/2",9} | {"pool threads",12} | cores: server / wrk / other processes");
        Console.WriteLine(new string('-', 205));
        foreach (var o in outcomes)
        {
            var w = o.Wrk;
            var first = o.Memory[0];
            var memory = $"{Mib(o.Start.WorkingSet),5:N0} → {Mib(o.AtFive.WorkingSet),5:N0} → {Mib(o.End.WorkingSet),5:N0} ({Mib(o.MaxWorkingSet):N0})";
            var gcs = $"{o.End.Gen0 - first.Gen0}/{o.End.Gen1 - first.Gen1}/{o.End.Gen2 - first.Gen2}";
            Console.WriteLine($"{o.Scenario.Name,-12} | {w.Requests,9:N0} | {w.RequestsPerSecond,10:N0} | {w.P50,7:0.00} | {w.P90,7:0.00} | {w.P99,7:0.00} | {w.Errors,6:N0} | {memory,-42} | {Mib(o.End.Heap),12:N0} | {gcs,9} | {o.Memory.Max(m => m.PoolThreads),12} | {o.Cpu.Server:0.00} / {o.Cpu.Wrk:0.00} / {o.Cpu.Others:0.00}");
        }

        var noisy = outcomes.Where(o => o.Cpu.Others > 0.2).ToArray();
        if (noisy.Length > 0)
        {
            Console.WriteLine($"NOTE: other processes used {string.Join(", ", noisy.Select(o => $"{o.Cpu.Others:0.00} cores during '{o.Scenario.Name}'"))} of the {Environment.ProcessorCount}: those figures are lower (and tails longer) than on a quiet machine.");
        }

        Console.WriteLine();
        var baseline = outcomes.First(o => o.Scenario.Name == "baseline").Wrk.RequestsPerSecond;
        foreach (var o in outcomes.Where(o => o.Scenario.Name != "baseline"))
        {
            Console.WriteLine($"{o.Scenario.Name} at {100 * o.Wrk.RequestsPerSecond / baseline:0.0} % of the baseline's requests/s ({o.Wrk.RequestsPerSecond:N0} vs {baseline:N0})");
        }

        Console.WriteLine();
    }

    private static bool Targets(List<Outcome> outcomes)
    {
        var search = outcomes.First(o => o.Scenario.Name == "search page");
        var thumbs = outcomes.First(o => o.Scenario.Name == "thumbnail");
        Console.WriteLine("targets:");
        var ok = true;
        foreach (var o in outcomes)
        {
            ok &= Target($"{o.Scenario.Name}: no errors ({o.Wrk.Non2xx:N0} non-2xx/3xx, {o.Wrk.SocketErrors:N0} socket errors{(o.Wrk.SocketErrors > 0 ? ": " + o.Wrk.SocketErrorDetail : string.Empty)})", o.Wrk.Errors == 0);
        }

        ok &= Target($"search page p99 {search.Wrk.P99:0.00} ms (≤ 50 ms)", search.Wrk.P99 <= 50);
        ok &= Target($"thumbnail p99 {thumbs.Wrk.P99:0.00} ms (≤ 20 ms)", thumbs.Wrk.P99 <= 20);
        foreach (var o in outcomes)
        {
            ok &= Target($"{o.Scenario.Name}: memory steady, working set at the end {Mib(o.End.WorkingSet):N0} MiB ≤ 1.25 × {Mib(o.AtFive.WorkingSet):N0} MiB at 5 s ({o.End.WorkingSet / (double)o.AtFive.WorkingSet:0.00}×)", o.Steady);
        }

        var all = outcomes.SelectMany(o => o.Memory).ToArray();
        Console.WriteLine($"  working set over the whole load: {Mib(outcomes[0].Start.WorkingSet):N0} MiB before the first run, {Mib(outcomes[^1].End.WorkingSet):N0} MiB after the last, max {Mib(all.Max(m => m.WorkingSet)):N0} MiB");
        return ok;
    }

    private static bool Target(string text, bool pass)
    {
        Console.WriteLine($"  {(pass ? "PASS" : "FAIL")}  {text}");
        return pass;
    }

    private static bool Fail(string message)
    {
        Console.Error.WriteLine("FAILED: " + message);
        return false;
    }

    private static string Shorten(string s) => s.Length <= 300 ? s : s[..300] + "…";

    private static double Mib(long bytes) => bytes / 1048576.0;
}
