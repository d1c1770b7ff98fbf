using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Trove.Application.Search;
using Trove.Index.Sqlite;
using Trove.Search.Engine;
using Trove.Search.Query;

namespace Trove.Bench;

/// <summary>
/// make bench-search: Trove's in-memory search engine on a synthetic 1M-media library (generated straight into an
/// index database and cached), next to an SQLite FTS5 baseline over the same data, with the same query mix run against
/// both. Every count (and every first page) must agree between the two; the targets are reported, not enforced.
/// </summary>
internal static partial class SearchBench
{
    private const int PageSize = 40;

    private static readonly string[] Categories = ["boolean", "ranges", "top1+top2", "rare", "wildcard", "caption"];

    public static async Task<int> RunAsync(string[] args)
    {
        var count = BenchArgs.Int(args, "--count", 1_000_000);
        var tagCount = BenchArgs.Int(args, "--tags", 50_000);
        var perMedia = BenchArgs.Int(args, "--per-media", 30);
        var perCategory = BenchArgs.Int(args, "--queries", 200);
        var batch = BenchArgs.Int(args, "--batch", 20_000);
        var profile = args.Contains("--profile");
        var show = BenchArgs.Int(args, "--show", 2);
        var rounds = Math.Max(1, BenchArgs.Int(args, "--rounds", 3));
        var dir = Path.GetFullPath(BenchArgs.String(args, "--dir") ?? Path.Combine(BenchArgs.RepoRoot(), ".data", "bench-search"));
        Directory.CreateDirectory(dir);

        Console.WriteLine($"bench-search: {count:N0} synthetic media, ~{perMedia} tags each (Zipf s=1 over {tagCount:N0} tags), captions of 5-12 words (Zipf over {SearchData.CaptionVocabulary:N0} words), 3 % in the trash");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1073741824.0:0} GB, .NET {Environment.Version}, workstation GC; data in {dir}");
        string sqliteVersion;
        try
        {
            sqliteVersion = SearchBaseline.CheckFts5();
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine();
            return 3;
        }

        Console.WriteLine($"SQLite {sqliteVersion} (bundled e_sqlite3), FTS5 available");
        Console.WriteLine();

        var name = $"{count}-{tagCount}-{perMedia}-{SearchData.Version}";
        var indexPath = Path.Combine(dir, $"index-{name}.db");
        var baselinePath = Path.Combine(dir, $"fts5-{name}.db");
        await SearchData.EnsureIndexAsync(indexPath, count, tagCount, perMedia, batch);
        SearchBaseline.Ensure(indexPath, baselinePath);
        Console.WriteLine();

        // Cold build through LibrarySearch itself (what trove search and the server run), with the database file
        // dropped from the OS cache first.
        var evicted = DropFromPageCache(indexPath);
        var index = await SqliteIndexFactory.OpenPathAsync(indexPath, CancellationToken.None);
        await using var indexDisposal = index;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
        using var search = new LibrarySearch(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var engine = await search.ReadyAsync(index, CancellationToken.None);
        var loaded = engine.Count;
        var coldBuild = clock.Elapsed.TotalSeconds;
        var heapBuilt = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        var estimateBuilt = engine.EstimateBytes();
        Console.WriteLine($"cold build: {loaded:N0} documents from the index database in {coldBuild:0.00} s ({loaded / coldBuild:N0} docs/s); "
            + $"database {(evicted ? "dropped from" : "NOT dropped from (posix_fadvise failed)")} the OS cache first");
        Console.WriteLine($"engine memory after build: managed heap +{Mib(heapBuilt):N0} MiB, EstimateBytes {Mib(estimateBuilt):N0} MiB");
        Console.WriteLine();

        var queries = MakeQueries(engine, indexPath, perCategory);
        using var baseline = new SearchBaseline(baselinePath);
        var translated = queries.Select(q => baseline.Translate(q.Text)).ToArray();
        try
        {
            Console.WriteLine($"query mix: {queries.Count:N0} queries ({string.Join(", ", Categories.Select(c => $"{queries.Count(q => q.Category == c)} {c}"))}); examples:");
            foreach (var c in Categories)
            {
                foreach (var q in queries.Where(q => q.Category == c).Take(show))
                {
                    Console.WriteLine($"  {c,-10} {Shorten(q.Text, 110)}");
                }
            }

            Console.WriteLine();

            // Warm-up: every query once on both sides (builds Trove's sorted view, prepares the SQL, pages the data in).
            clock.Restart();
            for (var i = 0; i < queries.Count; i++)
            {
                engine.Search(queries[i].Text, new SearchRequest(PageSize), CancellationToken.None);
                engine.Search(queries[i].Text, new SearchRequest(0), CancellationToken.None);
            }

            var troveWarm = clock.Elapsed.TotalSeconds;
            clock.Restart();
            foreach (var t in translated)
            {
                t.Page();
                t.Count();
            }

            Console.WriteLine($"warm-up: Trove {troveWarm:0.0} s, FTS5 {clock.Elapsed.TotalSeconds:0.0} s");
            var heapWarm = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
            var estimateWarm = engine.EstimateBytes();
            Console.WriteLine($"engine memory after warm-up (with the sorted view for newest-first): managed heap +{Mib(heapWarm):N0} MiB, EstimateBytes {Mib(estimateWarm):N0} MiB, process working set {Mib(Environment.WorkingSet):N0} MiB");
            Console.WriteLine();

            // Timed passes, one system and one operation at a time, each repeated `rounds` times; a query's time is the
            // median of its rounds (on this shared 2-core machine a single run is easily stretched by another process).
            Console.WriteLine($"timed: {rounds} rounds of every query per system and operation; a query's time is the median of its rounds");
            var n = queries.Count;
            var trovePages = new SearchResults[n];
            var troveCounts = new long[n];
            var basePages = new List<string>[n];
            var baseCounts = new long[n];
            var gcBefore = (Gen0: GC.CollectionCount(0), Gen1: GC.CollectionCount(1), Gen2: GC.CollectionCount(2), Pause: GC.GetTotalPauseDuration());
            var trovePage = Time(n, rounds, i => trovePages[i] = engine.Search(queries[i].Text, new SearchRequest(PageSize), CancellationToken.None));
            var troveCount = Time(n, rounds, i => troveCounts[i] = engine.Search(queries[i].Text, new SearchRequest(0), CancellationToken.None).Total);
            Console.WriteLine($"GC during the timed Trove passes: {GC.CollectionCount(0) - gcBefore.Gen0} gen0, {GC.CollectionCount(1) - gcBefore.Gen1} gen1, {GC.CollectionCount(2) - gcBefore.Gen2} gen2 collections, {(GC.GetTotalPauseDuration() - gcBefore.Pause).TotalMilliseconds:0.0} ms paused in total");
            var basePage = Time(n, rounds, i => basePages[i] = translated[i].Page());
            var baseCount = Time(n, rounds, i => baseCounts[i] = translated[i].Count());

            // Cross-check: the two implementations must agree on every count and every first page.
            var countMismatches = 0;
            var pageMismatches = 0;
            for (var i = 0; i < n; i++)
            {
                if (troveCounts[i] != baseCounts[i] || trovePages[i].Total != troveCounts[i])
                {
                    if (++countMismatches <= 20)
                    {
                        Console.WriteLine($"COUNT MISMATCH [{queries[i].Category}] {queries[i].Text}: Trove {troveCounts[i]:N0} (page total {trovePages[i].Total:N0}), FTS5 {baseCounts[i]:N0}");
                        Console.WriteLine($"  SQL: {Shorten(translated[i].CountSql, 400)}");
                    }
                }
                else if (!trovePages[i].Ids.SequenceEqual(basePages[i]))
                {
                    if (++pageMismatches <= 20)
                    {
                        var at = trovePages[i].Ids.Zip(basePages[i]).TakeWhile(p => p.First == p.Second).Count();
                        Console.WriteLine($"PAGE MISMATCH [{queries[i].Category}] {queries[i].Text}: Trove {trovePages[i].Ids.Count} ids, FTS5 {basePages[i].Count}, first difference at position {at}");
                        Console.WriteLine($"  SQL: {Shorten(translated[i].PageSql, 400)}");
                    }
                }
            }

            Console.WriteLine($"cross-check: {n - countMismatches:N0} / {n:N0} counts agree, {n - countMismatches - pageMismatches:N0} / {n:N0} first pages agree (newest first; creation times are unique)");
            Console.WriteLine($"matches per query: median {Percentile([.. troveCounts.Select(c => (double)c)], 0.5):N0}, max {troveCounts.Max():N0}");
            Console.WriteLine();

            Report(queries, trovePage, troveCount, basePage, baseCount, troveCounts);
            Slowest(queries, trovePage, troveCount, troveCounts);
            if (profile)
            {
                Profile(engine, queries, trovePage, troveCounts);
                await ProfileBuildAsync(index, indexPath);
            }

            // Targets.
            var all = Enumerable.Range(0, n).ToArray();
            var top = all.Where(i => queries[i].Category == "top1+top2").ToArray();
            var pageP50 = Percentile(trovePage, all, 0.50);
            var pageP99 = Percentile(trovePage, all, 0.99);
            var topP50 = Percentile(troveCount, top, 0.50);
            var topP99 = Percentile(troveCount, top, 0.99);
            var countRatio = Percentile(baseCount, all, 0.50) / Percentile(troveCount, all, 0.50);
            var countRatio99 = Percentile(baseCount, all, 0.99) / Percentile(troveCount, all, 0.99);
            var countRatioTotal = baseCount.Sum() / troveCount.Sum();
            Console.WriteLine("targets:");
            Target($"first page p50 {pageP50:0.000} ms (target ≤ 1 ms)", pageP50 <= 1);
            Target($"first page p99 {pageP99:0.000} ms (target ≤ 10 ms)", pageP99 <= 10);
            Target($"count({queries[top[0]].Text}) p50 {topP50:0.000} ms, p99 {topP99:0.000} ms (≤ 20 ms)", topP99 <= 20);
            Target($"counts vs FTS5: {countRatio:0.0}× faster at p50 ({countRatio99:0.0}× at p99, {countRatioTotal:0.0}× in total time: {baseCount.Sum() / 1000:0.0} s vs {troveCount.Sum() / 1000:0.000} s for the {n:N0} counts) (≥ 3×)", countRatio >= 3);
            Target($"engine memory {Mib(heapWarm):N0} MB managed heap growth, EstimateBytes {Mib(estimateWarm):N0} MB (≤ 1536 MB)", Mib(heapWarm) <= 1536);
            Target($"cold build {coldBuild:0.0} s (≤ 30 s)", coldBuild <= 30);
            GC.KeepAlive(engine);

            if (countMismatches + pageMismatches > 0)
            {
                Console.WriteLine();
                Console.WriteLine($"FAILED: {countMismatches} count mismatches, {pageMismatches} first-page mismatches between Trove and the FTS5 baseline");
                return 1;
            }

            return 0;
        }
        finally
        {
            foreach (var t in translated)
            {
                t.Dispose();
            }

            engine.Dispose();
        }
    }

    private sealed record Query(string Category, string Text);

    /// <summary>The query mix: perCategory queries of each category, deterministic for a given library.</summary>
    private static List<Query> MakeQueries(SearchIndex engine, string indexPath, int perCategory)
    {
        var r = new Random(7);
        var byCount = engine.TagCounts().OrderByDescending(t => t.Count).ThenBy(t => t.Tag, StringComparer.Ordinal).ToArray();
        var docs = engine.Count;
        var rareMax = Math.Max(3, docs / 5_000);
        var rare = byCount.Where(t => t.Count <= rareMax).Select(t => t.Tag).ToArray();
        var captions = SampleCaptions(indexPath, Math.Max(500, perCategory * 4), r);
        var queries = new List<Query>();

        // Tags people search for: log-uniform over the 2,000 most frequent.
        string Common()
        {
            var rank = (int)Math.Floor(Math.Exp(r.NextDouble() * Math.Log(2_000))) - 1;
            return byCount[Math.Clamp(rank, 0, byCount.Length - 1)].Tag;
        }

        string Distinct(HashSet<string> used)
        {
            while (true)
            {
                var t = Common();
                if (used.Add(t))
                {
                    return t;
                }
            }
        }

        string Rare() => rare.Length > 0 ? rare[r.Next(rare.Length)] : byCount[^1].Tag;

        for (var i = 0; i < perCategory; i++)
        {
            // (1) 2-6 tags with negation, 'or' and parentheses.
            var used = new HashSet<string>(StringComparer.Ordinal);
            if (r.NextDouble() < 0.15)
            {
                queries.Add(new("boolean", $"{Distinct(used)} {Distinct(used)} or {Distinct(used)} -{Distinct(used)}"));
            }
            else
            {
                var k = r.Next(2, 7);
                var parts = new List<string> { Distinct(used) };
                var placed = 1;
                while (placed < k)
                {
                    var roll = r.NextDouble();
                    if (roll < 0.3)
                    {
                        parts.Add("-" + Distinct(used));
                        placed++;
                    }
                    else if (roll < 0.55 && k - placed >= 2)
                    {
                        var m = Math.Min(k - placed, r.Next(2, 4));
                        var group = "(" + string.Join(" or ", Enumerable.Range(0, m).Select(_ => Distinct(used))) + ")";
                        parts.Add(r.NextDouble() < 0.2 ? "-" + group : group);
                        placed += m;
                    }
                    else
                    {
                        parts.Add(Distinct(used));
                        placed++;
                    }
                }

                r.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(parts));
                queries.Add(new("boolean", string.Join(' ', parts)));
            }

            // (2) Metatag ranges with a tag.
            var metas = Enumerable.Range(0, r.Next(1, 3)).Select(_ => RangeMetatag(r));
            queries.Add(new("ranges", Common() + " " + string.Join(' ', metas)));

            // (3) The two most frequent tags together.
            queries.Add(new("top1+top2", $"{byCount[0].Tag} {byCount[1].Tag}"));

            // (4) Rare tags, alone, together or with a common tag.
            var roll4 = r.NextDouble();
            queries.Add(new("rare", roll4 switch
            {
                < 0.35 => Rare(),
                < 0.55 => $"{Rare()} or {Rare()}",
                < 0.80 => $"{Rare()} {Common()}",
                < 0.90 => $"{Rare()} -{Common()}",
                _ => $"({Rare()} or {Rare()}) {Common()}",
            }));

            // (5) Wildcards with a tag.
            string[] patterns = ["*_hair", "*_eyes", "long_*", "blue_*", "*_background", $"tag_{r.Next(10, 100)}*"];
            var wildcard = patterns[r.Next(patterns.Length)];
            var roll5 = r.NextDouble();
            queries.Add(new("wildcard", roll5 switch
            {
                < 0.50 => $"{wildcard} {Common()}",
                < 0.70 => $"{wildcard} -{Common()}",
                < 0.85 => $"{Common()} ({wildcard} or {Common()})",
                _ => $"{wildcard} {Common()} {Common()}",
            }));

            // (6) Caption phrases that occur (2-3 consecutive words of a real caption) and single words.
            var words = captions[r.Next(captions.Count)];
            var roll6 = r.NextDouble();
            var start = r.Next(words.Count - 2);
            queries.Add(new("caption", roll6 switch
            {
                < 0.50 => $"caption:\"{words[start]} {words[start + 1]}\"",
                < 0.65 => $"caption:\"{words[start]} {words[start + 1]} {words[start + 2]}\"",
                < 0.85 => $"caption:{words[start]}",
                _ => $"caption:\"{words[start]} {words[start + 1]}\" {Common()}",
            }));
        }

        return [.. queries.OrderBy(q => Array.IndexOf(Categories, q.Category))];
    }

    private static string RangeMetatag(Random r)
    {
        string Pick(params string[] options) => options[r.Next(options.Length)];
        var year = 2023 + r.Next(3);
        var month = 1 + r.Next(12);
        return r.Next(6) switch
        {
            0 => Pick($"width:>={Pick("800", "1024", "1280", "1920", "2560", "3840")}", $"width:{500 + r.Next(1500)}..{2000 + r.Next(3000)}", $"width:<{Pick("640", "1000", "1600")}"),
            1 => Pick($"height:>={Pick("720", "1080", "1440", "2160")}", $"height:<={Pick("600", "1000", "1500")}", $"height:{400 + r.Next(1000)}..{1500 + r.Next(2500)}"),
            2 => Pick($"filesize:>{Pick("1", "2", "5", "10")}mb", Pick("filesize:100kb..1mb", "filesize:500kb..2mb", "filesize:1mb..4mb"), $"filesize:<{Pick("300", "500", "800")}kb"),
            3 => Pick(
                $"date:{year}",
                $"date:{year}-{month:D2}..{year}-{Math.Min(12, month + r.Next(1, 6)):D2}",
                $"date:>=2025-{month:D2}-01",
                $"date:{year}-{month:D2}-{1 + r.Next(28):D2}",
                $"date:<2023-{month:D2}"),
            4 => Pick("mpixels:>=2", "mpixels:1..4", "mpixels:<1", "mpixels:>8", "mpixels:2.5..6"),
            _ => Pick("ratio:16:9", "ratio:>1", "ratio:<1", "ratio:1", "ratio:4:3", "ratio:1.3..1.8"),
        };
    }

    /// <summary>Captions of random library media (as word lists of at least three words), for phrase queries that occur.</summary>
    private static List<List<string>> SampleCaptions(string indexPath, int want, Random r)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = indexPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var max = connection.CreateCommand();
        max.CommandText = "SELECT max(rid) FROM media";
        var maxRid = (long)max.ExecuteScalar()!;
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT c.text FROM captions c JOIN media m ON m.rid = c.rid WHERE c.rid = $r AND m.in_trash = 0";
        var rid = cmd.Parameters.Add("$r", SqliteType.Integer);
        var result = new List<List<string>>();
        for (var attempts = 0; result.Count < want && attempts < want * 20; attempts++)
        {
            rid.Value = 1 + r.NextInt64(maxRid);
            if (cmd.ExecuteScalar() is string text && CaptionTokenizer.Words(text) is { Count: >= 3 } words)
            {
                result.Add(words);
            }
        }

        return result;
    }

    private static void Report(List<Query> queries, double[] trovePage, double[] troveCount, double[] basePage, double[] baseCount, long[] matches)
    {
        Console.WriteLine("milliseconds per query (Trove: in-memory engine; FTS5: SQLite baseline; × = FTS5 time / Trove time):");
        Console.WriteLine($"{"",-11} {"",5} {"",9} | {"first page (40, newest first)",-55} | {"exact count",-55}");
        Console.WriteLine($"{"category",-11} {"n",5} {"matches",9} | {"Trove p50",9} {"p99",8} {"FTS5 p50",9} {"p99",8} {"×p50",8} {"×p99",8} | {"Trove p50",9} {"p99",8} {"FTS5 p50",9} {"p99",8} {"×p50",8} {"×p99",8}");
        foreach (var category in Categories.Append("overall"))
        {
            var idx = Enumerable.Range(0, queries.Count).Where(i => category == "overall" || queries[i].Category == category).ToArray();
            var medianMatches = Percentile([.. idx.Select(i => (double)matches[i])], 0.5);
            Console.WriteLine(
                $"{category,-11} {idx.Length,5} {medianMatches,9:N0} | "
                + Cells(trovePage, basePage, idx) + " | " + Cells(troveCount, baseCount, idx));
        }

        Console.WriteLine("(matches: median number of results per query. Trove's first page also computes the exact total; the FTS5 page query");
        Console.WriteLine(" stops after 40 rows and has no total — a UI showing the total would pay the FTS5 count on top)");
        Console.WriteLine();

        static string Cells(double[] trove, double[] fts, int[] idx)
        {
            var (t50, t99, f50, f99) = (Percentile(trove, idx, 0.5), Percentile(trove, idx, 0.99), Percentile(fts, idx, 0.5), Percentile(fts, idx, 0.99));
            return $"{t50,9:0.000} {t99,8:0.000} {f50,9:0.000} {f99,8:0.000} {Ratio(f50, t50),8} {Ratio(f99, t99),8}";
        }
    }

    private static string Ratio(double baseline, double trove) => trove <= 0 ? "-" : (baseline / trove) switch
    {
        >= 100 => $"{baseline / trove:0}×",
        >= 10 => $"{baseline / trove:0.0}×",
        var x => $"{x:0.00}×",
    };

    private static void Slowest(List<Query> queries, double[] trovePage, double[] troveCount, long[] matches)
    {
        Console.WriteLine("slowest Trove queries (first page / count, ms):");
        foreach (var i in Enumerable.Range(0, queries.Count).OrderByDescending(i => Math.Max(trovePage[i], troveCount[i])).Take(8))
        {
            Console.WriteLine($"  {trovePage[i],8:0.000} {troveCount[i],8:0.000}  [{queries[i].Category}] {Shorten(queries[i].Text, 90)} ({matches[i]:N0} matches)");
        }

        Console.WriteLine();
    }

    /// <summary>--profile: where Trove's time goes per category (parsing vs evaluation+paging), best of 5 runs per query.</summary>
    private static void Profile(SearchIndex engine, List<Query> queries, double[] trovePage, long[] matches)
    {
        Console.WriteLine("profile (best of 5 runs per query, ms): parse = QueryParser.Parse; count = Search(parsed, limit 0); page = Search(parsed, limit 40)");
        Console.WriteLine($"{"category",-11} {"parse p50",10} {"count p50",10} {"count p99",10} {"page p50",10} {"page p99",10}");
        var n = queries.Count;
        var parse = new double[queries.Count];
        var count = new double[queries.Count];
        var page = new double[queries.Count];
        for (var i = 0; i < queries.Count; i++)
        {
            var text = queries[i].Text;
            parse[i] = Best(() => QueryParser.Parse(text));
            var parsed = QueryParser.Parse(text);
            count[i] = Best(() => engine.Search(parsed, new SearchRequest(0), CancellationToken.None));
            page[i] = Best(() => engine.Search(parsed, new SearchRequest(PageSize), CancellationToken.None));
        }

        foreach (var category in Categories)
        {
            var idx = Enumerable.Range(0, queries.Count).Where(i => queries[i].Category == category).ToArray();
            Console.WriteLine($"{category,-11} {Percentile(parse, idx, 0.5),10:0.000} {Percentile(count, idx, 0.5),10:0.000} {Percentile(count, idx, 0.99),10:0.000} {Percentile(page, idx, 0.5),10:0.000} {Percentile(page, idx, 0.99),10:0.000}");
        }

        Console.WriteLine();
        Console.WriteLine("slowest first pages in the timed pass, re-run in isolation (best of 5: parse / count / page, ms):");
        foreach (var i in Enumerable.Range(0, n).OrderByDescending(i => trovePage[i]).Take(15))
        {
            Console.WriteLine($"  timed {trovePage[i],8:0.000}  isolated {parse[i],6:0.000} / {count[i],7:0.000} / {page[i],7:0.000}  [{queries[i].Category}] {Shorten(queries[i].Text, 80)} ({matches[i]:N0})");
        }

        // Phrases: every document having all the words is a candidate whose caption is scanned for the words in a row.
        var phrases = Enumerable.Range(0, n).Where(i => queries[i].Text.Contains("caption:\"", StringComparison.Ordinal)).OrderByDescending(i => count[i]).Take(8).ToList();
        if (phrases.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("slowest caption phrases: candidates (documents with all the words, each verified against its word sequence) vs matches:");
            foreach (var i in phrases)
            {
                var text = queries[i].Text;
                var quoteStart = text.IndexOf('"', StringComparison.Ordinal);
                var quoteEnd = text.IndexOf('"', quoteStart + 1);
                var words = text[(quoteStart + 1)..quoteEnd].Split(' ');
                var unordered = text[..text.IndexOf("caption:", StringComparison.Ordinal)] + string.Join(' ', words.Select(w => "caption:" + w)) + text[(quoteEnd + 1)..];
                var candidates = engine.Search(unordered, new SearchRequest(0), CancellationToken.None).Total;
                var wordCounts = string.Join(", ", words.Select(w => $"{w} {engine.Search("caption:" + w, new SearchRequest(0), CancellationToken.None).Total:N0}"));
                Console.WriteLine($"  {count[i],7:0.000} ms  {Shorten(text, 50),-50} candidates {candidates,9:N0}  matches {matches[i],8:N0}  ({wordCounts})");
            }
        }

        Console.WriteLine();

        static double Best(Action action)
        {
            var best = double.MaxValue;
            for (var k = 0; k < 5; k++)
            {
                var start = Stopwatch.GetTimestamp();
                action();
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            return best;
        }
    }

    /// <summary>--profile: the cold build split into reading the documents from the index and upserting them (file cache warm now).</summary>
    private static async Task ProfileBuildAsync(SqliteLibraryIndex index, string indexPath)
    {
        var clock = Stopwatch.StartNew();
        var docs = new List<SearchDocument>();
        await foreach (var doc in index.ReadSearchDocumentsAsync(0, CancellationToken.None))
        {
            docs.Add(doc);
        }

        var read = clock.Elapsed.TotalSeconds;
        var state = await index.GetChangeStateAsync(CancellationToken.None);
        clock.Restart();
        using var engine = new SearchIndex();
        engine.Reserve((int)Math.Min(int.MaxValue, state.MaxKey + 1));
        foreach (var doc in docs)
        {
            engine.Upsert(doc);
        }

        var upsert = clock.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"cold build split (the index file is in the OS cache now): ReadSearchDocumentsAsync alone {read:0.00} s, "
            + $"SearchIndex.Upsert of the {docs.Count:N0} read documents {upsert:0.00} s ({upsert * 1e6 / Math.Max(1, docs.Count):0.0} µs per document)");

        // The reads ReadSearchDocumentsAsync makes, as bare Microsoft.Data.Sqlite loops (two columns per row).
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = indexPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        foreach (var (what, sql) in new[]
        {
            ("media rows", "SELECT rid, id FROM media WHERE seq > 0 ORDER BY rid"),
            ("media_tags rows", "SELECT x.rid, x.tid FROM media_tags x ORDER BY x.rid"),
            ("captions rows", "SELECT x.rid, x.text FROM captions x ORDER BY x.rid, x.caption_id"),
        })
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            clock.Restart();
            var rows = 0L;
            using (var reader = cmd.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows += reader.GetInt64(0) > 0 && reader.GetValue(1) is not null ? 1 : 0;
                }
            }

            Console.WriteLine($"  bare scan of {what}: {rows,12:N0} rows in {clock.Elapsed.TotalSeconds:0.00} s ({clock.Elapsed.TotalMilliseconds * 1e6 / Math.Max(1, rows):0} ns per row)");
        }

        Console.WriteLine();
    }

    private static void Target(string text, bool pass) => Console.WriteLine($"  {text} {(pass ? "PASS" : "FAIL")}");

    /// <summary>Milliseconds per query: the median of its runs over all rounds (each round runs every query once, in order).</summary>
    private static double[] Time(int count, int rounds, Action<int> action)
    {
        var times = new double[count, rounds];
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                action(i);
                times[i, round] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        return [.. Enumerable.Range(0, count).Select(i => Percentile([.. Enumerable.Range(0, rounds).Select(r => times[i, r])], 0.5))];
    }

    private static double Percentile(double[] times, int[] idx, double p) => Percentile([.. idx.Select(i => times[i])], p);

    /// <summary>Nearest-rank percentile.</summary>
    private static double Percentile(double[] values, double p)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static double Mib(long bytes) => bytes / 1048576.0;

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    /// <summary>Asks the kernel to drop the file's cached pages (so the build reads from disk); false if it refused.</summary>
    private static bool DropFromPageCache(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Flush(flushToDisk: true);
        const int dontNeed = 4;
        return PosixFadvise((int)file.SafeFileHandle.DangerousGetHandle(), 0, 0, dontNeed) == 0;
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int PosixFadvise(int fd, long offset, long length, int advice);
}
