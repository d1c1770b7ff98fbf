using Trove.Domain.Similarity;

namespace Trove.Domain.Tests.Similarity;

/// <summary>Independent, obviously-correct reference implementations and synthetic data for the index tests.</summary>
internal static class SimilarityOracle
{
    public static int Popcount(ulong x) => System.Numerics.BitOperations.PopCount(x);

    public static bool Flat(ulong pHash, NearDuplicateCriteria c)
    {
        var bits = Popcount(pHash);
        return bits <= c.FlatBitLimit || 64 - bits <= c.FlatBitLimit;
    }

    public static bool Match((string Id, ulong PHash, ulong DHash) a, (string Id, ulong PHash, ulong DHash) b, NearDuplicateCriteria c) =>
        Popcount(a.PHash ^ b.PHash) <= c.MaxDistance && Popcount(a.DHash ^ b.DHash) <= c.DHashLimit && !Flat(a.PHash, c) && !Flat(b.PHash, c);

    public static List<Neighbour> Query(IEnumerable<(string Id, ulong PHash, ulong DHash)> entries, ulong p, ulong d, NearDuplicateCriteria c, int limit = int.MaxValue, string? excludeId = null) =>
        entries
            .Where(e => e.Id != excludeId && Match(e, ("?", p, d), c))
            .Select(e => new Neighbour(e.Id, Popcount(e.PHash ^ p), Popcount(e.DHash ^ d)))
            .OrderBy(n => n.PHashDistance)
            .ThenBy(n => n.DHashDistance)
            .ThenBy(n => n.Id, StringComparer.Ordinal)
            .Take(limit)
            .ToList();

    /// <summary>Connected components of the match graph by depth-first search over an explicit adjacency list.</summary>
    public static List<List<string>> Groups(IReadOnlyList<(string Id, ulong PHash, ulong DHash)> entries, NearDuplicateCriteria c)
    {
        var adjacency = new List<int>[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            adjacency[i] = [];
        }

        for (var i = 0; i < entries.Count; i++)
        {
            for (var j = i + 1; j < entries.Count; j++)
            {
                if (Match(entries[i], entries[j], c))
                {
                    adjacency[i].Add(j);
                    adjacency[j].Add(i);
                }
            }
        }

        var seen = new bool[entries.Count];
        var groups = new List<List<string>>();
        for (var i = 0; i < entries.Count; i++)
        {
            if (seen[i] || adjacency[i].Count == 0)
            {
                continue;
            }

            var group = new List<string>();
            var stack = new Stack<int>([i]);
            seen[i] = true;
            while (stack.Count > 0)
            {
                var k = stack.Pop();
                group.Add(entries[k].Id);
                foreach (var n in adjacency[k].Where(n => !seen[n]))
                {
                    seen[n] = true;
                    stack.Push(n);
                }
            }

            group.Sort(StringComparer.Ordinal);
            groups.Add(group);
        }

        groups.Sort((a, b) => string.CompareOrdinal(a[0], b[0]));
        return groups;
    }

    public static ulong RandomHash(Random r) => (ulong)r.NextInt64() ^ ((ulong)r.Next(2) << 63);

    public static ulong FlipBits(ulong hash, int bits, Random r)
    {
        var mask = 0UL;
        while (Popcount(mask) < bits)
        {
            mask |= 1UL << r.Next(64);
        }

        return hash ^ mask;
    }

    /// <summary>
    /// <paramref name="random"/> random entries plus clusters of 2–5 around a random base, each member with 0…<paramref name="maxFlips"/>
    /// bits flipped in the pHash and 0…2·maxFlips in the dHash; ids are shuffled so clusters are not contiguous.
    /// </summary>
    public static List<(string Id, ulong PHash, ulong DHash)> Entries(int seed, int random, int clusters, int maxFlips, string prefix = "e")
    {
        var r = new Random(seed);
        var hashes = new List<(ulong, ulong)>();
        for (var i = 0; i < clusters; i++)
        {
            var p = RandomHash(r);
            var d = RandomHash(r);
            var size = r.Next(2, 6);
            for (var k = 0; k < size; k++)
            {
                hashes.Add((FlipBits(p, r.Next(maxFlips + 1), r), FlipBits(d, r.Next((2 * maxFlips) + 1), r)));
            }
        }

        for (var i = 0; i < random; i++)
        {
            hashes.Add((RandomHash(r), RandomHash(r)));
        }

        var shuffled = hashes.ToArray();
        r.Shuffle(shuffled);
        return shuffled.Select((h, i) => ($"{prefix}{i:D6}", h.Item1, h.Item2)).ToList();
    }
}
