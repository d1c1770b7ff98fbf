using System.Collections.Concurrent;
using Trove.Domain.Similarity;
using static Trove.Domain.Tests.Similarity.SimilarityOracle;

namespace Trove.Domain.Tests.Similarity;

public class NearDuplicateIndexTests
{
    public static TheoryData<int, int> SeedsAndDistances()
    {
        var data = new TheoryData<int, int>();
        foreach (var seed in new[] { 1, 2, 3 })
        {
            for (var distance = 0; distance <= 12; distance++)
            {
                data.Add(seed, distance);
            }
        }

        return data;
    }

    private static List<(string Id, ulong PHash, ulong DHash)> Live(NearDuplicateIndex index, IEnumerable<(string Id, ulong PHash, ulong DHash)> candidates) =>
        candidates.Where(e => index.Contains(e.Id)).ToList();

    /// <summary>Queries from members, from perturbed members and from random points; Query, BruteForceQuery and the oracle agree.</summary>
    private static void AssertQueriesAgree(NearDuplicateIndex index, List<(string Id, ulong PHash, ulong DHash)> live, NearDuplicateCriteria criteria, int seed, int queries = 150)
    {
        var r = new Random(seed * 7919);
        for (var q = 0; q < queries; q++)
        {
            var e = live[r.Next(live.Count)];
            var (p, d, exclude) = (q % 3) switch
            {
                0 => (e.PHash, e.DHash, e.Id),
                1 => (FlipBits(e.PHash, r.Next(criteria.MaxDistance + 2), r), FlipBits(e.DHash, r.Next(8), r), (string?)null),
                _ => (RandomHash(r), RandomHash(r), null),
            };
            var expected = SimilarityOracle.Query(live, p, d, criteria, excludeId: exclude);
            Assert.Equal(expected, index.Query(p, d, criteria, excludeId: exclude));
            Assert.Equal(expected, index.BruteForceQuery(p, d, criteria, excludeId: exclude));
            Assert.Equal(expected.Take(2), index.Query(p, d, criteria, limit: 2, excludeId: exclude));
        }
    }

    private static void AssertGroupsAgree(NearDuplicateIndex index, List<(string Id, ulong PHash, ulong DHash)> live, NearDuplicateCriteria criteria)
    {
        var expected = Groups(live, criteria);
        var actual = index.FindGroups(criteria, CancellationToken.None);
        Assert.Equal(expected, actual.Select(g => g.ToList()).ToList());
        Assert.Equal(expected, index.BruteForceFindGroups(criteria, CancellationToken.None).Select(g => g.ToList()).ToList());
    }

    // ---- property tests against the brute-force oracle ----

    [Theory]
    [MemberData(nameof(SeedsAndDistances))]
    public void Query_and_FindGroups_agree_with_brute_force(int seed, int distance)
    {
        var entries = Entries(seed, random: 5_000, clusters: 150, maxFlips: distance);
        var criteria = new NearDuplicateCriteria(distance);
        using var index = NearDuplicateIndex.Build(entries);
        Assert.Equal(entries.Count, index.Count);
        Assert.Equal(0, index.PendingCount);

        AssertQueriesAgree(index, entries, criteria, seed);
        AssertGroupsAgree(index, entries, criteria);
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 8)]
    [InlineData(3, 12)]
    [InlineData(4, 7)]
    public void Agreement_holds_after_adds_removes_and_replacements_with_pending_entries(int seed, int distance)
    {
        var entries = Entries(seed, random: 5_000, clusters: 150, maxFlips: distance);
        var more = Entries(seed + 100, random: 800, clusters: 60, maxFlips: distance, prefix: "n");
        var criteria = new NearDuplicateCriteria(distance);
        var r = new Random(seed);
        using var index = NearDuplicateIndex.Build(entries);

        // Pending adds, some of them near existing entries so pending×indexed pairs exist.
        foreach (var e in more)
        {
            index.Add(e.Id, e.PHash, e.DHash);
        }

        var echoes = new List<(string Id, ulong PHash, ulong DHash)>();
        for (var i = 0; i < 100; i++)
        {
            var e = entries[r.Next(entries.Count)];
            echoes.Add(($"echo{i:D3}", FlipBits(e.PHash, r.Next(distance + 1), r), FlipBits(e.DHash, r.Next(distance + 1), r)));
            index.Add(echoes[^1].Id, echoes[^1].PHash, echoes[^1].DHash);
        }

        Assert.Equal(more.Count + echoes.Count, index.PendingCount);

        // Removals from both the indexed and the pending part.
        var all = entries.Concat(more).Concat(echoes).ToList();
        foreach (var victim in all.OrderBy(_ => r.Next()).Take(400))
        {
            Assert.True(index.Remove(victim.Id));
            Assert.False(index.Remove(victim.Id));
        }

        // Replacements: the id stays, the hashes change.
        var replaced = new Dictionary<string, (string Id, ulong PHash, ulong DHash)>();
        foreach (var e in Live(index, all).OrderBy(_ => r.Next()).Take(100))
        {
            var other = all[r.Next(all.Count)];
            var moved = (e.Id, FlipBits(other.PHash, r.Next(distance + 1), r), other.DHash);
            index.AddOrReplace(moved.Id, moved.Item2, moved.DHash);
            replaced[e.Id] = moved;
        }

        var live = Live(index, all).Select(e => replaced.TryGetValue(e.Id, out var m) ? m : e).ToList();
        Assert.Equal(live.Count, index.Count);
        Assert.True(index.PendingCount > 0);
        AssertQueriesAgree(index, live, criteria, seed);
        AssertGroupsAgree(index, live, criteria);

        index.Rebuild();
        Assert.Equal(0, index.PendingCount);
        Assert.Equal(live.Count, index.Count);
        AssertQueriesAgree(index, live, criteria, seed + 1);
        AssertGroupsAgree(index, live, criteria);
    }

    [Fact]
    public void Enough_pending_adds_rebuild_the_tables()
    {
        var entries = Entries(5, random: 2_000, clusters: 50, maxFlips: 8);
        var more = Entries(6, random: NearDuplicateIndex.MinPendingLimit + 500, clusters: 100, maxFlips: 8, prefix: "n");
        using var index = NearDuplicateIndex.Build(entries);
        var sawPending = 0;
        foreach (var e in more)
        {
            index.Add(e.Id, e.PHash, e.DHash);
            sawPending = Math.Max(sawPending, index.PendingCount);
        }

        Assert.Equal(NearDuplicateIndex.MinPendingLimit, sawPending);
        Assert.True(index.PendingCount < 1000);
        var live = entries.Concat(more).ToList();
        AssertQueriesAgree(index, live, NearDuplicateCriteria.Default, 5);
        AssertGroupsAgree(index, live, NearDuplicateCriteria.Default);
    }

    [Fact]
    public void Many_removals_compact_and_keep_answers()
    {
        var entries = Entries(8, random: 12_000, clusters: 200, maxFlips: 6);
        using var index = NearDuplicateIndex.Build(entries);
        var r = new Random(8);
        var removed = entries.OrderBy(_ => r.Next()).Take(6_000).Select(e => e.Id).ToHashSet();
        foreach (var id in removed)
        {
            index.Remove(id);
        }

        var live = entries.Where(e => !removed.Contains(e.Id)).ToList();
        Assert.Equal(live.Count, index.Count);
        AssertQueriesAgree(index, live, NearDuplicateCriteria.Default, 8);
        AssertGroupsAgree(index, live, NearDuplicateCriteria.Default);
    }

    [Fact]
    public void An_index_grown_only_by_Add_agrees()
    {
        var entries = Entries(9, random: 3_000, clusters: 80, maxFlips: 8);
        using var index = new NearDuplicateIndex();
        foreach (var e in entries)
        {
            index.Add(e.Id, e.PHash, e.DHash);
        }

        AssertQueriesAgree(index, entries, NearDuplicateCriteria.Default, 9);
        AssertGroupsAgree(index, entries, NearDuplicateCriteria.Default);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(40)]
    [InlineData(64)]
    public void Distances_beyond_31_fall_back_to_scanning(int distance)
    {
        var entries = Entries(10, random: 400, clusters: 20, maxFlips: 20);
        var criteria = new NearDuplicateCriteria(distance);
        using var index = NearDuplicateIndex.Build(entries);
        AssertQueriesAgree(index, entries, criteria, 10, queries: 30);
        AssertGroupsAgree(index, entries, criteria);
    }

    [Fact]
    public void Empty_and_single_entry_indexes()
    {
        using var index = new NearDuplicateIndex();
        Assert.Equal(0, index.Count);
        Assert.Empty(index.Query(0x0f0f0f0f0f0f0f0f, 0, NearDuplicateCriteria.Default));
        Assert.Empty(index.FindGroups(NearDuplicateCriteria.Default, CancellationToken.None));
        index.Add("a", 0x0f0f0f0f0f0f0f0f, 0);
        Assert.Single(index.Query(0x0f0f0f0f0f0f0f0f, 0, NearDuplicateCriteria.Default));
        Assert.Empty(index.FindGroups(NearDuplicateCriteria.Default, CancellationToken.None));
        index.Rebuild();
        Assert.Single(index.Query(0x0f0f0f0f0f0f0f0f, 0, NearDuplicateCriteria.Default));
    }

    // ---- semantics ----

    [Fact]
    public void Groups_are_transitive_through_union_find()
    {
        const ulong a = 0x5555_5555_3333_3333;
        var b = a ^ 0xFFUL;          // 8 bits from a
        var c = b ^ (0xFFUL << 8);   // 8 bits from b, 16 from a
        var d = c ^ (0xFFUL << 16);  // 24 from a
        using var index = NearDuplicateIndex.Build([("a", a, 0), ("b", b, 0), ("c", c, 0), ("d", d, 0), ("z", ~a, 0)]);

        var group = Assert.Single(index.FindGroups(NearDuplicateCriteria.Default, CancellationToken.None));
        Assert.Equal(["a", "b", "c", "d"], group);
        Assert.Equal(["b"], index.Query(a, 0, NearDuplicateCriteria.Default, excludeId: "a").Select(n => n.Id));
        Assert.Equal(["a", "c"], index.Query(b, 0, NearDuplicateCriteria.Default, excludeId: "b").Select(n => n.Id));
    }

    [Fact]
    public void Groups_are_sorted_inside_and_by_first_id()
    {
        const ulong x = 0x1234_5678_9abc_def0;
        const ulong y = 0x0fed_cba9_8765_4321;
        using var index = NearDuplicateIndex.Build([("q", x, 0), ("m", y, 0), ("b", x ^ 1, 0), ("z", y ^ 3, 0), ("c", x ^ 4, 0), ("k", 0x00ff_00ff_00ff_00ff, 0)]);
        var groups = index.FindGroups(NearDuplicateCriteria.Default, CancellationToken.None);
        Assert.Equal(2, groups.Count);
        Assert.Equal(["b", "c", "q"], groups[0]);
        Assert.Equal(["m", "z"], groups[1]);
    }

    [Fact]
    public void Query_results_are_ordered_by_pHash_then_dHash_distance_then_id()
    {
        const ulong p = 0x0123_4567_89ab_cdef;
        const ulong d = 0xf0f0_f0f0_0f0f_0f0f;
        using var index = NearDuplicateIndex.Build(
        [
            ("far", p ^ 0xFF, d),
            ("b-near", p ^ 1, d ^ 1),
            ("a-near", p ^ 2, d ^ 4),
            ("exact-dhash-off", p, d ^ 0x7),
            ("exact", p, d),
            ("c-near", p ^ 1, d),
            ("too-far", p ^ 0x1FF, d),
        ]);
        Neighbour[] expected = [new("exact", 0, 0), new("exact-dhash-off", 0, 3), new("c-near", 1, 0), new("a-near", 1, 1), new("b-near", 1, 1), new("far", 8, 0)];
        Assert.Equal(expected, index.Query(p, d, NearDuplicateCriteria.Default));
        Assert.Equal(["exact-dhash-off", "c-near"], index.Query(p, d, NearDuplicateCriteria.Default, limit: 2, excludeId: "exact").Select(n => n.Id));
        Assert.Empty(index.Query(p, d, NearDuplicateCriteria.Default, limit: 0));
    }

    [Fact]
    public void The_dHash_limit_filters_pairs_and_is_tunable()
    {
        const ulong p = 0x0123_4567_89ab_cdef;
        using var index = NearDuplicateIndex.Build([("a", p, 0), ("b", p, (1UL << 20) - 1), ("c", p, (1UL << 21) - 1)]);
        var criteria = NearDuplicateCriteria.Default;
        Assert.Equal(20, criteria.DHashLimit);
        Assert.Equal(["b"], index.Query(p, 0, criteria, excludeId: "a").Select(n => n.Id));
        Assert.Equal(["a", "b", "c"], Assert.Single(index.FindGroups(criteria, CancellationToken.None))); // a~b, b~c (1 bit)

        var strict = criteria with { DHashLimit = 0 };
        Assert.Empty(index.Query(p, 0, strict, excludeId: "a"));
        Assert.Empty(index.FindGroups(strict, CancellationToken.None));
        Assert.Equal(["b", "c"], index.Query(p, 0, criteria with { DHashLimit = 64 }, excludeId: "a").Select(n => n.Id));
    }

    // ---- the flat-image rule ----

    private static byte[] Constant(int value) => Enumerable.Repeat((byte)value, PerceptualHash.PHashSampleLength).ToArray();

    private static byte[] Ramp(bool horizontal, bool increasing)
    {
        var b = new byte[PerceptualHash.PHashSampleLength];
        for (var i = 0; i < b.Length; i++)
        {
            var t = horizontal ? i % 32 : i / 32;
            b[i] = (byte)(increasing ? 5 + (7 * t) : 250 - (7 * t));
        }

        return b;
    }

    [Fact]
    public void Flat_images_are_never_near_duplicates_of_each_other_or_of_anything()
    {
        var r = new Random(4);
        var entries = new List<(string Id, ulong PHash, ulong DHash)>();
        for (var v = 0; v < 256; v += 5)
        {
            entries.Add(($"flat{v:D3}", PerceptualHash.PHash(Constant(v)), 0)); // 0x1 (or 0x0 for black), dHash 0
        }

        entries.Add(("ramp-h-up", PerceptualHash.PHash(Ramp(true, true)), ulong.MaxValue));
        entries.Add(("ramp-v-up", PerceptualHash.PHash(Ramp(false, true)), 0));
        entries.Add(("ramp-h-down", PerceptualHash.PHash(Ramp(true, false)), 0));
        entries.Add(("all-zero", 0, 0));
        entries.Add(("all-one", ulong.MaxValue, ulong.MaxValue));
        entries.Add(("almost-all-one", ulong.MaxValue ^ 0b101, ulong.MaxValue));
        for (var i = 0; i < 200; i++)
        {
            // Real content that happens to sit near the flat hashes (9 bits set: informative, just).
            var p = FlipBits(0, 9, r);
            entries.Add(($"sparse{i:D3}", p, RandomHash(r)));
        }

        entries.AddRange(Entries(4, random: 2_000, clusters: 40, maxFlips: 8));
        using var index = NearDuplicateIndex.Build(entries);
        var criteria = NearDuplicateCriteria.Default;

        Assert.False(criteria.IsInformative(PerceptualHash.PHash(Constant(128))));
        Assert.False(criteria.IsInformative(PerceptualHash.PHash(Ramp(true, false))));
        var groups = index.FindGroups(criteria, CancellationToken.None);
        Assert.DoesNotContain(groups.SelectMany(g => g), id => id.StartsWith("flat", StringComparison.Ordinal) || id.StartsWith("ramp", StringComparison.Ordinal) || id.StartsWith("all", StringComparison.Ordinal));
        Assert.Empty(index.Query(1, 0, criteria)); // a flat query matches nothing, not even identical hashes
        Assert.Empty(index.Query(ulong.MaxValue, ulong.MaxValue, criteria));
        foreach (var e in entries.Where(e => e.Id.StartsWith("sparse", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain(index.Query(e.PHash, e.DHash, criteria with { MaxDistance = 12 }), n => !n.Id.StartsWith("sparse", StringComparison.Ordinal));
        }

        AssertGroupsAgree(index, entries, criteria);
        AssertQueriesAgree(index, entries, criteria, 4);

        // The rule, not the distances, is what keeps them apart: disabled, every gray lands in one group.
        var noRule = criteria with { FlatBitLimit = -1 };
        var flats = index.FindGroups(noRule, CancellationToken.None).Single(g => g.Contains("flat125"));
        Assert.Contains("flat000", flats);
        Assert.Contains("flat255", flats);
        Assert.Equal(52, index.Query(1, 0, noRule).Count(n => n.Id.StartsWith("flat", StringComparison.Ordinal)));
        AssertGroupsAgree(index, entries, noRule);
    }

    [Fact]
    public void Criteria_defaults_and_validation()
    {
        var c = NearDuplicateCriteria.Default;
        Assert.Equal(8, c.MaxDistance);
        Assert.Equal(20, c.DHashLimit);
        Assert.Equal(8, c.FlatBitLimit);
        Assert.Equal(4, new NearDuplicateCriteria(0).DHashLimit);
        Assert.Equal(28, new NearDuplicateCriteria(12).DHashLimit);
        Assert.Equal(64, new NearDuplicateCriteria(40).DHashLimit);
        Assert.Equal(28, (c with { MaxDistance = 12 }).DHashLimit); // follows the distance unless set
        Assert.Equal(5, (c with { DHashLimit = 5, MaxDistance = 12 }).DHashLimit);
        Assert.Equal(new NearDuplicateCriteria(8), NearDuplicateCriteria.Default);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NearDuplicateCriteria(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NearDuplicateCriteria(65));
        Assert.Throws<ArgumentOutOfRangeException>(() => c with { DHashLimit = 65 });
        Assert.Throws<ArgumentOutOfRangeException>(() => c with { FlatBitLimit = 32 });
        Assert.Throws<ArgumentOutOfRangeException>(() => c with { FlatBitLimit = -2 });

        Assert.False(c.IsInformative(0));
        Assert.False(c.IsInformative(1));
        Assert.False(c.IsInformative(0xFF));
        Assert.True(c.IsInformative(0x1FF));
        Assert.False(c.IsInformative(ulong.MaxValue << 8));
        Assert.True(c.IsInformative(ulong.MaxValue << 9));
        Assert.True((c with { FlatBitLimit = -1 }).IsInformative(0));
        Assert.True(c.Matches(0x0123_4567_89ab_cdef, 0, 0x0123_4567_89ab_cdef ^ 0xFF, 0xFFFFF));
        Assert.False(c.Matches(0x0123_4567_89ab_cdef, 0, 0x0123_4567_89ab_cdef ^ 0x1FF, 0));
        Assert.False(c.Matches(1, 0, 1, 0));
    }

    // ---- bookkeeping ----

    [Fact]
    public void Ids_are_unique_and_can_be_looked_up()
    {
        using var index = NearDuplicateIndex.Build([("a", 1, 2), ("b", 3, 4)]);
        Assert.Throws<ArgumentException>(() => index.Add("a", 5, 6));
        Assert.Throws<ArgumentException>(() => index.Add("", 5, 6));
        Assert.Throws<ArgumentException>(() => NearDuplicateIndex.Build([("x", 1, 2), ("x", 3, 4)]));
        Assert.True(index.Contains("a"));
        Assert.False(index.Contains("c"));
        Assert.True(index.TryGetHashes("b", out var p, out var d));
        Assert.Equal((3UL, 4UL), (p, d));
        Assert.False(index.TryGetHashes("c", out _, out _));

        index.AddOrReplace("a", 7, 8);
        Assert.True(index.TryGetHashes("a", out p, out d));
        Assert.Equal((7UL, 8UL), (p, d));
        Assert.Equal(2, index.Count);
        Assert.True(index.Remove("a"));
        Assert.False(index.Contains("a"));
        Assert.False(index.TryGetHashes("a", out _, out _));
        Assert.Equal(1, index.Count);
        index.Add("a", 9, 10); // an id can come back after removal
        Assert.True(index.TryGetHashes("a", out p, out _));
        Assert.Equal(9UL, p);
    }

    [Fact]
    public void FindGroups_honours_cancellation()
    {
        using var index = NearDuplicateIndex.Build(Entries(11, random: 5_000, clusters: 10, maxFlips: 4));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => index.FindGroups(NearDuplicateCriteria.Default, cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => index.BruteForceFindGroups(NearDuplicateCriteria.Default, cts.Token));
    }

    private sealed class Recorder : IProgress<long>
    {
        public ConcurrentQueue<long> Values { get; } = new();

        public void Report(long value) => Values.Enqueue(value);
    }

    [Fact]
    public void FindGroups_reports_rising_progress_up_to_the_entry_count()
    {
        var entries = Entries(12, random: 20_000, clusters: 10, maxFlips: 4);
        using var index = NearDuplicateIndex.Build(entries);
        foreach (var brute in new[] { false, true })
        {
            var recorder = new Recorder();
            _ = brute
                ? index.BruteForceFindGroups(NearDuplicateCriteria.Default, CancellationToken.None, recorder)
                : index.FindGroups(NearDuplicateCriteria.Default, CancellationToken.None, recorder);
            var values = recorder.Values.ToArray();
            Assert.True(values.Length > 10);
            Assert.Equal(entries.Count, values[^1]);
            Assert.Equal(values.Order(), values);
            Assert.Equal(values.Distinct(), values);
        }
    }

    [Fact]
    public async Task Concurrent_queries_and_writes_are_safe()
    {
        var entries = Entries(13, random: 6_000, clusters: 100, maxFlips: 6);
        var more = Entries(14, random: 6_000, clusters: 50, maxFlips: 6, prefix: "n");
        using var index = NearDuplicateIndex.Build(entries);
        using var done = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 3).Select(k => Task.Run(() =>
        {
            var r = new Random(k);
            var queries = 0;
            while (!done.IsCancellationRequested || queries < 50)
            {
                var e = entries[r.Next(entries.Count)];
                var result = index.Query(e.PHash, e.DHash, NearDuplicateCriteria.Default);
                Assert.Contains(result, n => n.Id == e.Id);
                queries++;
            }
        })).ToArray();

        foreach (var e in more)
        {
            index.Add(e.Id, e.PHash, e.DHash); // crosses the rebuild threshold once
        }

        foreach (var e in more.Take(3_000))
        {
            index.Remove(e.Id);
        }

        done.Cancel();
        await Task.WhenAll(readers);
        var live = entries.Concat(more.Skip(3_000)).ToList();
        AssertQueriesAgree(index, live, NearDuplicateCriteria.Default, 13);
        AssertGroupsAgree(index, live, NearDuplicateCriteria.Default);
    }
}
