using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Trove.Domain.Similarity;

namespace Trove.Bench;

/// <summary>
/// make bench-dupes: the multi-index-hashing near-duplicate index on 1M synthetic (pHash, dHash) pairs — build,
/// single queries and all-pairs grouping — next to the linear-scan baselines, in the same run on the same machine.
/// </summary>
internal static class DupesBench
{
    public static int Run(string[] args)
    {
        var count = BenchArgs.Int(args, "--count", 1_000_000);
        var subsetCount = Math.Min(count, BenchArgs.Int(args, "--subset", 50_000));
        var queryCount = BenchArgs.Int(args, "--queries", 1_000);
        var criteria = NearDuplicateCriteria.Default;

        Console.WriteLine($"bench-dupes: {count:N0} synthetic (pHash, dHash) pairs, random plus ~1% in planted clusters of 2-5 members (0-6 flipped bits in each hash)");
        Console.WriteLine($"criteria: pHash distance <= {criteria.MaxDistance}, dHash distance <= {criteria.DHashLimit}, flat-bit limit {criteria.FlatBitLimit}");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        var (entries, clusters) = Generate(count, new Random(42));
        Console.WriteLine($"planted: {clusters.Count:N0} clusters, {clusters.Sum(c => c.Length):N0} members");
        Console.WriteLine();

        // Build (and the managed memory it keeps; the id strings belong to the caller and are not counted).
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var start = Stopwatch.GetTimestamp();
        using var index = NearDuplicateIndex.Build(entries);
        var build = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var memory = GC.GetTotalMemory(forceFullCollection: true) - before;
        Console.WriteLine($"index build: {build:0.000} s, managed memory held by the index: {memory / 1048576.0:0.0} MiB ({(double)memory / count:0.0} bytes/entry, id strings not counted)");
        Console.WriteLine();

        // Single queries: half from planted cluster members (non-empty answers), half from random entries.
        var random = new Random(7);
        var members = clusters.SelectMany(c => c).ToArray();
        var byId = entries.ToDictionary(e => e.Id, StringComparer.Ordinal);
        var queries = new (string Id, ulong PHash, ulong DHash)[queryCount];
        for (var i = 0; i < queryCount; i++)
        {
            queries[i] = i % 2 == 0 && members.Length > 0 ? byId[members[random.Next(members.Length)]] : entries[random.Next(entries.Length)];
        }

        for (var i = 0; i < Math.Min(20, queryCount); i++)
        {
            index.Query(queries[i].PHash, queries[i].DHash, criteria, excludeId: queries[i].Id);
            index.BruteForceQuery(queries[i].PHash, queries[i].DHash, criteria, excludeId: queries[i].Id);
        }

        var indexAnswers = new IReadOnlyList<Neighbour>[queryCount];
        var indexTimes = TimeEach(queryCount, i => indexAnswers[i] = index.Query(queries[i].PHash, queries[i].DHash, criteria, excludeId: queries[i].Id));
        var bruteAnswers = new IReadOnlyList<Neighbour>[queryCount];
        var bruteTimes = TimeEach(queryCount, i => bruteAnswers[i] = index.BruteForceQuery(queries[i].PHash, queries[i].DHash, criteria, excludeId: queries[i].Id));
        var queriesAgree = Enumerable.Range(0, queryCount).All(i => indexAnswers[i].SequenceEqual(bruteAnswers[i]));
        var hits = indexAnswers.Sum(a => a.Count);
        Console.WriteLine($"single query, distance {criteria.MaxDistance} (pigeonhole radius {criteria.MaxDistance / NearDuplicateIndex.ChunkCount}), {queryCount:N0} queries, {hits:N0} neighbours found:");
        Console.WriteLine($"{"",-28} {"p50 ms",10} {"p99 ms",10}");
        Console.WriteLine($"{"index Query",-28} {Percentile(indexTimes, 0.50),10:0.000} {Percentile(indexTimes, 0.99),10:0.000}");
        Console.WriteLine($"{"BruteForceQuery (scan)",-28} {Percentile(bruteTimes, 0.50),10:0.000} {Percentile(bruteTimes, 0.99),10:0.000}");
        Console.WriteLine($"speed-up: {Percentile(bruteTimes, 0.50) / Percentile(indexTimes, 0.50):0}x at p50, {Percentile(bruteTimes, 0.99) / Percentile(indexTimes, 0.99):0}x at p99; answers agree: {YesNo(queriesAgree)}");
        Console.WriteLine();

        // All pairs on the full set.
        start = Stopwatch.GetTimestamp();
        var groups = index.FindGroups(criteria, CancellationToken.None);
        var findGroups = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var found = new HashSet<string>(groups.Select(g => string.Join(',', g)), StringComparer.Ordinal);
        var recovered = clusters.Count(c => found.Contains(string.Join(',', c.Order(StringComparer.Ordinal))));
        Console.WriteLine($"FindGroups, all pairs of {count:N0}: {findGroups:0.00} s, {groups.Count:N0} groups ({groups.Sum(g => g.Count):N0} members); planted clusters recovered exactly: {recovered:N0} / {clusters.Count:N0}");

        // Brute force all pairs is ~n²/2 comparisons: measured on a subset, extrapolated quadratically.
        var subset = entries.Take(subsetCount).ToArray();
        using var small = NearDuplicateIndex.Build(subset);
        start = Stopwatch.GetTimestamp();
        var smallGroups = small.FindGroups(criteria, CancellationToken.None);
        var smallIndexed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        start = Stopwatch.GetTimestamp();
        var smallBrute = small.BruteForceFindGroups(criteria, CancellationToken.None);
        var smallBruteSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var groupsAgree = smallGroups.Count == smallBrute.Count && smallGroups.Zip(smallBrute).All(p => p.First.SequenceEqual(p.Second));
        var factor = (double)count / subsetCount * count / subsetCount;
        Console.WriteLine($"subset of {subsetCount:N0}: FindGroups {smallIndexed:0.000} s, BruteForceFindGroups {smallBruteSeconds:0.00} s (both on {Environment.ProcessorCount} cores), {smallGroups.Count:N0} groups; agree: {YesNo(groupsAgree)}");
        Console.WriteLine($"brute-force all pairs of {count:N0}: {smallBruteSeconds * factor:0} s EXTRAPOLATED (subset time x {factor:0}, quadratic), not measured");
        Console.WriteLine($"FindGroups vs brute force at {count:N0}: {smallBruteSeconds * factor / findGroups:0}x faster (against the extrapolated figure)");
        return queriesAgree && groupsAgree ? 0 : 1;
    }

    /// <summary>Random hashes, ~1% of them in clusters: a random base and 1–4 variants of it with 0–6 bits flipped in each hash.</summary>
    private static ((string Id, ulong PHash, ulong DHash)[] Entries, List<string[]> Clusters) Generate(int count, Random random)
    {
        var hashes = new List<(ulong PHash, ulong DHash, int Cluster)>(count);
        var clusterCount = 0;
        while (hashes.Count < count / 100)
        {
            var size = Math.Min(random.Next(2, 6), count - hashes.Count);
            var p = NextHash(random);
            var d = NextHash(random);
            hashes.Add((p, d, clusterCount));
            for (var k = 1; k < size; k++)
            {
                hashes.Add((Flip(p, random.Next(7), random), Flip(d, random.Next(7), random), clusterCount));
            }

            clusterCount++;
        }

        while (hashes.Count < count)
        {
            hashes.Add((NextHash(random), NextHash(random), -1));
        }

        // Shuffle, so any prefix (the brute-force subset) is a fair sample; ids are SHA-256 hex like real media ids.
        var order = hashes.ToArray();
        random.Shuffle(order);
        var entries = new (string Id, ulong PHash, ulong DHash)[count];
        var clusters = new List<string>[clusterCount];
        for (var i = 0; i < count; i++)
        {
            var id = Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)));
            entries[i] = (id, order[i].PHash, order[i].DHash);
            if (order[i].Cluster >= 0)
            {
                (clusters[order[i].Cluster] ??= []).Add(id);
            }
        }

        return (entries, clusters.Select(c => c.ToArray()).ToList());
    }

    private static ulong NextHash(Random random) => (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);

    private static ulong Flip(ulong hash, int bits, Random random)
    {
        var flipped = 0UL;
        while (ulong.PopCount(flipped) < (ulong)bits)
        {
            flipped |= 1UL << random.Next(64);
        }

        return hash ^ flipped;
    }

    private static double[] TimeEach(int count, Action<int> action)
    {
        var times = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            action(i);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return times;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static string YesNo(bool value) => value ? "yes" : "no";
}
