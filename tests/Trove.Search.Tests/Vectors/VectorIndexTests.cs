using Trove.Search.Vectors;

namespace Trove.Search.Tests.Vectors;

/// <summary>The int8 vector index: exact dot products, filtered scans that never drop matches, and IVF recall against brute force.</summary>
public sealed class VectorIndexTests
{
    /// <summary>Clustered unit vectors (like real embeddings: not uniform), reproducible for a seed.</summary>
    private static float[][] Clustered(int count, int dims, int clusters, int seed, float spread = 0.35f)
    {
        var random = new Random(seed);
        float Gauss() => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        var centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, dims).Select(_ => Gauss()).ToArray()).ToArray();
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var c = centres[random.Next(clusters)];
            var v = c.Select(x => x + (spread * Gauss() * 1.5f)).ToArray();
            var norm = MathF.Sqrt(v.Sum(x => x * x));
            return v.Select(x => x / norm).ToArray();
        })];
    }

    private static float Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return (float)(dot / Math.Sqrt(na * nb));
    }

    private static VectorIndex Index(float[][] vectors)
    {
        var index = new VectorIndex(vectors[0].Length);
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Set(i, vectors[i]);
        }

        return index;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(512)]
    [InlineData(1000)]
    public void Int8_dot_products_are_exact_at_every_length_and_at_the_extremes(int length)
    {
        var random = new Random(length);
        var a = Enumerable.Range(0, length).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        var b = Enumerable.Range(0, length).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        Assert.Equal(a.Zip(b, (x, y) => x * y).Sum(), Int8Dot.Dot(a, b));
        var max = Enumerable.Repeat((sbyte)-127, length).ToArray();
        Assert.Equal(length * 127 * 127, Int8Dot.Dot(max, max));
        Assert.Equal(-length * 127 * 127, Int8Dot.Dot(max, Enumerable.Repeat((sbyte)127, length).ToArray()));
    }

    [Fact]
    public void Exact_search_ranks_by_cosine_within_the_quantisation_error()
    {
        var vectors = Clustered(3000, 64, 12, seed: 1);
        var index = Index(vectors);
        var query = vectors[17];
        var (hits, info) = index.Search(query, 20, default, filtered: false);
        Assert.True(info.Exact);
        Assert.Equal(3000, info.Scanned);
        Assert.Equal(17, hits[0].Slot);
        Assert.Equal(1f, hits[0].Score, 0.02f);

        var truth = vectors.Select((v, i) => (Slot: i, Score: Cosine(query, v))).OrderByDescending(x => x.Score).Take(20).ToList();
        foreach (var hit in hits)
        {
            Assert.Equal(Cosine(query, vectors[hit.Slot]), hit.Score, 0.02f);
            Assert.True(Cosine(query, vectors[hit.Slot]) >= truth[^1].Score - 0.02f, $"slot {hit.Slot} is not among the best 20");
        }

        Assert.True(hits.Select(h => h.Slot).Intersect(truth.Select(t => t.Slot)).Count() >= 18);
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score));
    }

    [Fact]
    public void A_filter_restricts_candidates_during_the_scan_and_never_drops_matches()
    {
        var vectors = Clustered(5000, 32, 8, seed: 2);
        var index = Index(vectors);
        index.BuildLists();
        var filter = new ulong[(5000 + 63) / 64];
        var wanted = Enumerable.Range(0, 5000).Where(i => i % 97 == 3).ToList();
        foreach (var slot in wanted)
        {
            filter[slot >> 6] |= 1UL << (slot & 63);
        }

        // Selective: exact over the candidates, whatever the lists say — asking for all of them returns all of them.
        var (hits, info) = index.Search(vectors[0], wanted.Count + 10, filter, filtered: true);
        Assert.True(info.Exact);
        Assert.Equal(wanted, hits.Select(h => h.Slot).Order());

        // min-score cuts by similarity, not by position.
        var (close, _) = index.Search(vectors[wanted[0]], 100, filter, filtered: true, minScore: 0.8f);
        Assert.All(close, h => Assert.True(h.Score >= 0.8f));
        Assert.Contains(close, h => h.Slot == wanted[0]);

        // Broad filters go through the lists but still only return filtered slots.
        index.ExactLimit = 10;
        var (broad, broadInfo) = index.Search(vectors[0], 20, filter, filtered: true);
        Assert.False(broadInfo.Exact);
        Assert.All(broad, h => Assert.Contains(h.Slot, wanted));
    }

    [Fact]
    public void Inverted_lists_find_at_least_95_percent_of_the_exact_top_20()
    {
        var vectors = Clustered(20_000, 64, 40, seed: 3);
        var index = Index(vectors);
        index.BuildLists();
        Assert.Equal(141, (int)Math.Sqrt(20_000));
        var queries = Clustered(50, 64, 40, seed: 3).Zip(Enumerable.Range(0, 50)).Select(p => vectors[(p.Second * 397) % vectors.Length]).ToList();
        double found = 0;
        long scanned = 0;
        foreach (var q in queries)
        {
            var exact = index.Search(q, 20, default, filtered: false);
            Assert.False(exact.Info.Exact);
            var truth = new HashSet<int>(vectors.Select((v, i) => (i, Cosine(q, v))).OrderByDescending(x => x.Item2).Take(20).Select(x => x.i));
            found += exact.Hits.Count(h => truth.Contains(h.Slot));
            scanned += exact.Info.Scanned;
        }

        var recall = found / (20.0 * queries.Count);
        Assert.True(recall >= 0.95, $"recall@20 {recall:0.000}");
        Assert.True(scanned / queries.Count < vectors.Length / 2, $"scanned {scanned / queries.Count} per query: the lists do not prune");
    }

    [Fact]
    public void Vectors_can_be_replaced_removed_and_added_after_the_lists_are_built()
    {
        var vectors = Clustered(2000, 16, 6, seed: 4);
        var index = Index(vectors);
        index.BuildLists(lists: 20);
        Assert.Equal(2000, index.Count);

        index.Remove(5);
        Assert.False(index.Contains(5));
        Assert.DoesNotContain(index.Search(vectors[5], 10, default, filtered: false).Hits, h => h.Slot == 5);

        index.Set(5000, vectors[5]); // a new media after the build joins its nearest list
        Assert.Equal(5000, index.Search(vectors[5], 1, default, filtered: false).Hits[0].Slot);
        index.Set(6, vectors[7]); // replaced
        Assert.Equal(2000, index.Count);
        Assert.Equal(1f, Cosine(index.Vector(6), vectors[7]), 0.01f);

        Assert.Throws<ArgumentException>(() => index.Set(1, new float[16]));
        Assert.Throws<ArgumentException>(() => index.Set(1, new float[8]));
        Assert.True(index.MemoryBytes >= 2000 * 16);
    }

    [Fact]
    public void Similar_pairs_find_every_planted_near_duplicate_within_the_filter_with_and_without_lists()
    {
        const int dims = 64;
        var vectors = Clustered(3000, dims, 30, seed: 11).ToList();
        var random = new Random(5);
        var planted = new List<(int A, int B)>();
        for (var i = 0; i < 40; i++)
        {
            // A copy of an existing vector nudged a little: cosine ≈ 0.99, while cluster neighbours stay below 0.95.
            var of = random.Next(3000);
            var copy = vectors[of].Select(x => x + (0.01f * (float)(random.NextDouble() - 0.5))).ToArray();
            planted.Add((of, vectors.Count));
            vectors.Add(copy);
        }

        var all = vectors.ToArray();
        var filter = new ulong[(all.Length / 64) + 1];
        var excluded = planted[0].B;
        for (var i = 0; i < all.Length; i++)
        {
            if (i != excluded)
            {
                filter[i >> 6] |= 1UL << (i & 63);
            }
        }

        // Brute force in float: the pairs the index must find.
        var expected = new HashSet<(int, int)>();
        for (var a = 0; a < all.Length; a++)
        {
            for (var b = a + 1; b < all.Length; b++)
            {
                if (a != excluded && b != excluded && Cosine(all[a], all[b]) >= 0.97f)
                {
                    expected.Add((a, b));
                }
            }
        }

        Assert.Equal(planted.Count - 1, planted.Count(p => expected.Contains((Math.Min(p.A, p.B), Math.Max(p.A, p.B)))));
        var index = Index(all);
        long reported = 0;
        var exact = index.SimilarPairs(filter, 0.97f, progress: n => reported = n);
        Assert.Equal(all.Length - 1, reported);
        Assert.Equal(expected.Order(), exact.Select(p => (p.A, p.B)));
        Assert.All(exact, p => Assert.InRange(p.Score, 0.96f, 1.01f));

        index.BuildLists();
        var approximate = index.SimilarPairs(filter, 0.97f).Select(p => (p.A, p.B)).ToHashSet();
        Assert.True(approximate.IsSubsetOf(expected));
        Assert.True(approximate.Count >= expected.Count * 0.95, $"{approximate.Count} of {expected.Count} near-duplicate pairs through the lists");
    }
}
