using System.Numerics;
using System.Runtime.InteropServices;

namespace Trove.Domain.Similarity;

/// <summary>One query result: an indexed id and its distances to the query.</summary>
public readonly record struct Neighbour(string Id, int PHashDistance, int DHashDistance);

/// <summary>
/// In-memory near-duplicate index over (id, pHash, dHash) entries, by multi-index hashing (Norouzi et al.):
/// the pHash is split into 4 chunks of 16 bits; by pigeonhole, a pHash within distance D of the query agrees
/// with it to within ⌊D/4⌋ bits on at least one chunk, so each chunk table is probed with every 16-bit value
/// within that radius of the query's chunk (1, 17, 137, 697 … probes for radius 0, 1, 2, 3 …) and the candidates
/// are verified on the full hashes. A candidate is only taken from the first chunk that could have found it, so
/// nothing is reported twice.
/// <para>
/// <b>Layout</b>: ids, pHashes and dHashes are parallel arrays indexed by an int handle; each chunk table is
/// compressed sparse rows (<c>int offsets[65537]</c> + <c>int postings[n]</c>, built by counting sort), with a
/// parallel <c>uint residues[n]</c> holding the next two chunks of each posting's pHash: a probe streams a bucket's
/// postings and residues sequentially and rejects almost every candidate on the lower bound
/// popcount(probe mask) + distance on those 32 bits, reading the full pHash (a random access) only for the few
/// that survive.
/// <see cref="Add"/> appends to a pending tail that queries scan linearly; when the tail exceeds
/// max(4096, indexed/16) entries the tables are rebuilt. <see cref="Remove"/> leaves a tombstone; tombstones are
/// dropped (handles compacted) at the next rebuild, or when they exceed max(4096, entries/4). A rebuild is O(n)
/// (about 0.3 s for 1M entries on 2 cores) and runs inside the <see cref="Add"/>/<see cref="Remove"/> call that
/// triggers it, under the write lock; amortised over the n/16 adds that trigger it, it is cheap.
/// </para>
/// <para>
/// <b>Large distances</b>: for D &gt; <see cref="MaxIndexedDistance"/> (31) the pigeonhole radius reaches 8 bits, a
/// ball of 39,203 of the 65,536 bucket values, so <see cref="Query"/> and <see cref="FindGroups"/> fall back to
/// the linear scans (<see cref="BruteForceQuery"/>, <see cref="BruteForceFindGroups"/>). Matching follows
/// <see cref="NearDuplicateCriteria"/>, including its flat-image rule.
/// </para>
/// <para>
/// <b>Thread safety</b>: every member is safe to call from any thread. A <see cref="ReaderWriterLockSlim"/> lets
/// queries run concurrently with each other while <see cref="Add"/>, <see cref="AddOrReplace"/>,
/// <see cref="Remove"/> and <see cref="Rebuild"/> run alone. <see cref="FindGroups"/> and
/// <see cref="BruteForceFindGroups"/> copy the live entries under the read lock and do the long work outside it,
/// so writers are not held up and changes made after the copy are not reflected in their answer.
/// </para>
/// </summary>
public sealed class NearDuplicateIndex : IDisposable
{
    /// <summary>Chunks the pHash is split into.</summary>
    public const int ChunkCount = 4;

    /// <summary>Bits per chunk.</summary>
    public const int ChunkBits = 64 / ChunkCount;

    /// <summary>Largest pHash distance served by the chunk tables; beyond it queries scan linearly.</summary>
    public const int MaxIndexedDistance = 31;

    /// <summary>Pending adds always allowed before the tables are rebuilt (otherwise indexed/16).</summary>
    public const int MinPendingLimit = 4096;

    private const int BucketCount = 1 << ChunkBits;
    private const int ChunkMask = BucketCount - 1;
    private const int BucketsPerBlock = 256;

    /// <summary>Balls[r]: every 16-bit mask with at most r bits set, mask 0 first.</summary>
    private static readonly ushort[][] Balls = BuildBalls(MaxIndexedDistance / ChunkCount);

    private readonly ReaderWriterLockSlim gate = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, int> handles = new(StringComparer.Ordinal);
    private readonly int[][] offsets = new int[ChunkCount][];
    private readonly int[][] postings = new int[ChunkCount][];
    private readonly uint[][] residues = new uint[ChunkCount][];
    private string?[] ids = [];
    private ulong[] pHashes = [];
    private ulong[] dHashes = [];
    private int used;     // handles [0, used) are allocated (live or tombstoned)
    private int indexed;  // handles [0, indexed) are in the chunk tables; [indexed, used) are pending
    private int removed;  // tombstones among [0, used)

    /// <summary>An empty index.</summary>
    public NearDuplicateIndex()
    {
        for (var c = 0; c < ChunkCount; c++)
        {
            offsets[c] = new int[BucketCount + 1];
            postings[c] = [];
            residues[c] = [];
        }
    }

    /// <summary>Live entries.</summary>
    public int Count
    {
        get
        {
            gate.EnterReadLock();
            try
            {
                return handles.Count;
            }
            finally
            {
                gate.ExitReadLock();
            }
        }
    }

    /// <summary>Entries added since the last table rebuild (scanned linearly by queries), tombstoned ones included.</summary>
    public int PendingCount
    {
        get
        {
            gate.EnterReadLock();
            try
            {
                return used - indexed;
            }
            finally
            {
                gate.ExitReadLock();
            }
        }
    }

    /// <summary>Builds an index over the entries in one pass (the tables are built once, nothing is pending).</summary>
    /// <exception cref="ArgumentException">An id is null, empty or appears twice.</exception>
    public static NearDuplicateIndex Build(IEnumerable<(string Id, ulong PHash, ulong DHash)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var index = new NearDuplicateIndex();
        try
        {
            if (entries.TryGetNonEnumeratedCount(out var count))
            {
                index.EnsureCapacity(count);
            }

            foreach (var (id, pHash, dHash) in entries)
            {
                index.AppendNew(id, pHash, dHash);
            }

            index.RebuildCore();
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>Adds an entry.</summary>
    /// <exception cref="ArgumentException">The id is null, empty or already present.</exception>
    public void Add(string id, ulong pHash, ulong dHash)
    {
        gate.EnterWriteLock();
        try
        {
            AppendNew(id, pHash, dHash);
            RebuildIfDue();
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>Adds an entry, replacing the hashes of an existing one with the same id.</summary>
    public void AddOrReplace(string id, ulong pHash, ulong dHash)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        gate.EnterWriteLock();
        try
        {
            if (handles.Remove(id, out var old))
            {
                ids[old] = null;
                removed++;
            }

            AppendNew(id, pHash, dHash);
            RebuildIfDue();
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>Removes an entry (a tombstone until the next rebuild); false when the id is not present.</summary>
    public bool Remove(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        gate.EnterWriteLock();
        try
        {
            if (!handles.Remove(id, out var handle))
            {
                return false;
            }

            ids[handle] = null;
            removed++;
            RebuildIfDue();
            return true;
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>Whether the id is present.</summary>
    public bool Contains(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        gate.EnterReadLock();
        try
        {
            return handles.ContainsKey(id);
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    /// <summary>The hashes stored for an id (what <c>similar:ID</c> queries with, excluding the id itself).</summary>
    public bool TryGetHashes(string id, out ulong pHash, out ulong dHash)
    {
        ArgumentNullException.ThrowIfNull(id);
        gate.EnterReadLock();
        try
        {
            if (handles.TryGetValue(id, out var handle))
            {
                pHash = pHashes[handle];
                dHash = dHashes[handle];
                return true;
            }

            pHash = 0;
            dHash = 0;
            return false;
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    /// <summary>Folds pending adds into the chunk tables and drops tombstones now.</summary>
    public void Rebuild()
    {
        gate.EnterWriteLock();
        try
        {
            RebuildCore();
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>
    /// The entries matching (pHash, dHash) under the criteria, nearest first: sorted by pHash distance, then dHash
    /// distance, then id (ordinal); at most <paramref name="limit"/> of them, without <paramref name="excludeId"/>.
    /// A flat query hash (see <see cref="NearDuplicateCriteria"/>) matches nothing.
    /// </summary>
    public IReadOnlyList<Neighbour> Query(ulong pHash, ulong dHash, NearDuplicateCriteria criteria, int limit = int.MaxValue, string? excludeId = null)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var found = new List<Neighbour>();
        if (limit == 0 || !criteria.IsInformative(pHash))
        {
            return found;
        }

        gate.EnterReadLock();
        try
        {
            if (criteria.MaxDistance > MaxIndexedDistance)
            {
                Scan(0, used, pHash, dHash, criteria, excludeId, found);
            }
            else
            {
                Probe(pHash, dHash, criteria, excludeId, found);
                Scan(indexed, used, pHash, dHash, criteria, excludeId, found);
            }
        }
        finally
        {
            gate.ExitReadLock();
        }

        return Finish(found, limit);
    }

    /// <summary>The same answer as <see cref="Query"/>, by a linear scan of every entry (the baseline and test oracle).</summary>
    public IReadOnlyList<Neighbour> BruteForceQuery(ulong pHash, ulong dHash, NearDuplicateCriteria criteria, int limit = int.MaxValue, string? excludeId = null)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var found = new List<Neighbour>();
        if (limit == 0 || !criteria.IsInformative(pHash))
        {
            return found;
        }

        gate.EnterReadLock();
        try
        {
            Scan(0, used, pHash, dHash, criteria, excludeId, found);
        }
        finally
        {
            gate.ExitReadLock();
        }

        return Finish(found, limit);
    }

    /// <summary>
    /// Every group of near-duplicates: the connected components (union-find with path compression and union by
    /// size) of the graph whose edges are the pairs matching the criteria — so membership is transitive: A~B and
    /// B~C put A, B and C in one group even when A and C are far apart. Only groups of two or more; each group's
    /// ids sorted (ordinal), groups sorted by their first id.
    /// <para>
    /// All pairs are found by a bucket join per chunk: the live, informative entries are counting-sorted by the
    /// chunk (their pHashes copied next to each other, so the inner loop streams memory), and every bucket is
    /// compared with itself and with each bucket whose value is within the pigeonhole radius, each unordered bucket
    /// pair once. Buckets are processed in parallel blocks; pairs go to per-thread buffers that are merged into the
    /// union-find under a lock. For D &gt; 31 this is <see cref="BruteForceFindGroups"/>.
    /// </para>
    /// <para>
    /// <paramref name="progress"/> receives a rising estimate of the entries processed, from 0 to <see cref="Count"/>
    /// (reported on completion).
    /// </para>
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public IReadOnlyList<IReadOnlyList<string>> FindGroups(NearDuplicateCriteria criteria, CancellationToken ct, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        if (criteria.MaxDistance > MaxIndexedDistance)
        {
            return BruteForceFindGroups(criteria, ct, progress);
        }

        var snapshot = TakeSnapshot(criteria);
        var m = snapshot.Ids.Length;
        var meter = new ProgressMeter(progress, 4L * m, snapshot.Count);
        var unionFind = new UnionFind(m);
        if (m >= 2)
        {
            var radius = criteria.MaxDistance / ChunkCount;
            var join = new BucketJoin(snapshot, criteria.MaxDistance, criteria.DHashLimit, radius, Balls[radius]);
            var options = new ParallelOptions { CancellationToken = ct };
            for (var c = 0; c < ChunkCount; c++)
            {
                ct.ThrowIfCancellationRequested();
                join.SortByChunk(c);
                Parallel.For(
                    0,
                    BucketCount / BucketsPerBlock,
                    options,
                    () => new PairBuffer(unionFind),
                    (block, _, pairs) =>
                    {
                        var entries = join.JoinBuckets(block * BucketsPerBlock, (block + 1) * BucketsPerBlock, pairs);
                        meter.Add(entries);
                        return pairs;
                    },
                    pairs => pairs.Flush());
            }
        }

        meter.Complete();
        return Groups(snapshot.Ids, unionFind);
    }

    /// <summary>
    /// The same answer as <see cref="FindGroups"/>, comparing every pair of live informative entries (n²/2
    /// comparisons; rows run in parallel like the indexed join, so the two differ only in the algorithm).
    /// <paramref name="progress"/> as for <see cref="FindGroups"/>.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> BruteForceFindGroups(NearDuplicateCriteria criteria, CancellationToken ct, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        var snapshot = TakeSnapshot(criteria);
        var m = snapshot.Ids.Length;
        var meter = new ProgressMeter(progress, (long)m * (m - 1) / 2, snapshot.Count);
        var unionFind = new UnionFind(m);
        var p = snapshot.PHashes;
        var d = snapshot.DHashes;
        var maxDistance = criteria.MaxDistance;
        var dHashLimit = criteria.DHashLimit;
        Parallel.For(
            0,
            m,
            new ParallelOptions { CancellationToken = ct },
            () => new PairBuffer(unionFind),
            (i, _, pairs) =>
            {
                var a = p[i];
                var da = d[i];
                for (var j = i + 1; j < p.Length; j++)
                {
                    if (BitOperations.PopCount(a ^ p[j]) <= maxDistance && BitOperations.PopCount(da ^ d[j]) <= dHashLimit)
                    {
                        pairs.Add(i, j);
                    }
                }

                meter.Add(m - 1 - i);
                return pairs;
            },
            pairs => pairs.Flush());
        meter.Complete();
        return Groups(snapshot.Ids, unionFind);
    }

    public void Dispose() => gate.Dispose();

    private static int PendingLimit(int indexedCount) => Math.Max(MinPendingLimit, indexedCount / 16);

    private static bool FoundInEarlierChunk(ulong difference, int chunk, int radius)
    {
        for (var c = 0; c < chunk; c++)
        {
            if (BitOperations.PopCount((difference >> (c * ChunkBits)) & ChunkMask) <= radius)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Chunks c+1 and c+2 (mod 4) of a pHash: 32 bits a chunk-c posting can be pre-checked on.</summary>
    private static uint Residue(ulong pHash, int chunk) => (uint)BitOperations.RotateRight(pHash, (chunk + 1) * ChunkBits);

    private static List<Neighbour> Finish(List<Neighbour> found, int limit)
    {
        found.Sort(static (a, b) =>
        {
            var c = a.PHashDistance.CompareTo(b.PHashDistance);
            if (c == 0)
            {
                c = a.DHashDistance.CompareTo(b.DHashDistance);
            }

            return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
        });
        if (found.Count > limit)
        {
            found.RemoveRange(limit, found.Count - limit);
        }

        return found;
    }

    private static List<IReadOnlyList<string>> Groups(string[] snapshotIds, UnionFind unionFind)
    {
        var byRoot = new Dictionary<int, List<string>>();
        for (var i = 0; i < snapshotIds.Length; i++)
        {
            var root = unionFind.Find(i);
            if (unionFind.SizeOfRoot(root) < 2)
            {
                continue;
            }

            if (!byRoot.TryGetValue(root, out var members))
            {
                members = [];
                byRoot.Add(root, members);
            }

            members.Add(snapshotIds[i]);
        }

        var groups = new List<string[]>(byRoot.Count);
        foreach (var members in byRoot.Values)
        {
            var group = members.ToArray();
            Array.Sort(group, StringComparer.Ordinal);
            groups.Add(group);
        }

        groups.Sort(static (a, b) => string.CompareOrdinal(a[0], b[0]));
        return groups.ConvertAll(static g => (IReadOnlyList<string>)g);
    }

    private static ushort[][] BuildBalls(int maxRadius)
    {
        var balls = new List<ushort>[maxRadius + 1];
        for (var r = 0; r <= maxRadius; r++)
        {
            balls[r] = [];
        }

        for (var v = 0; v < BucketCount; v++)
        {
            for (var r = BitOperations.PopCount((uint)v); r <= maxRadius; r++)
            {
                balls[r].Add((ushort)v);
            }
        }

        return Array.ConvertAll(balls, static b => b.ToArray());
    }

    private void Probe(ulong pHash, ulong dHash, NearDuplicateCriteria criteria, string? excludeId, List<Neighbour> found)
    {
        var maxDistance = criteria.MaxDistance;
        var radius = maxDistance / ChunkCount;
        var ball = Balls[radius];
        var hashes = pHashes;
        for (var c = 0; c < ChunkCount; c++)
        {
            var off = offsets[c];
            var post = postings[c];
            var rest = residues[c];
            var key = (int)(pHash >> (c * ChunkBits)) & ChunkMask;
            var queryResidue = Residue(pHash, c);
            foreach (var mask in ball)
            {
                var bucket = key ^ mask;
                var budget = maxDistance - BitOperations.PopCount((uint)mask);
                for (var k = off[bucket]; k < off[bucket + 1]; k++)
                {
                    if (BitOperations.PopCount(rest[k] ^ queryResidue) > budget)
                    {
                        continue;
                    }

                    var handle = post[k];
                    var difference = hashes[handle] ^ pHash;
                    var distance = BitOperations.PopCount(difference);
                    if (distance <= maxDistance && !FoundInEarlierChunk(difference, c, radius))
                    {
                        Accept(handle, distance, dHash, criteria, excludeId, found);
                    }
                }
            }
        }
    }

    private void Scan(int from, int to, ulong pHash, ulong dHash, NearDuplicateCriteria criteria, string? excludeId, List<Neighbour> found)
    {
        var maxDistance = criteria.MaxDistance;
        var hashes = pHashes.AsSpan(0, to);
        for (var handle = from; handle < hashes.Length; handle++)
        {
            var distance = BitOperations.PopCount(hashes[handle] ^ pHash);
            if (distance <= maxDistance)
            {
                Accept(handle, distance, dHash, criteria, excludeId, found);
            }
        }
    }

    private void Accept(int handle, int distance, ulong dHash, NearDuplicateCriteria criteria, string? excludeId, List<Neighbour> found)
    {
        var id = ids[handle];
        if (id is null || (excludeId is not null && string.Equals(id, excludeId, StringComparison.Ordinal)))
        {
            return;
        }

        var dDistance = BitOperations.PopCount(dHashes[handle] ^ dHash);
        if (dDistance <= criteria.DHashLimit && criteria.IsInformative(pHashes[handle]))
        {
            found.Add(new Neighbour(id, distance, dDistance));
        }
    }

    private void AppendNew(string id, ulong pHash, ulong dHash)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (!handles.TryAdd(id, used))
        {
            throw new ArgumentException($"'{id}' is already in the near-duplicate index.", nameof(id));
        }

        if (used == ids.Length)
        {
            EnsureCapacity(used == 0 ? 16 : (int)Math.Min(Array.MaxLength, 2L * used));
        }

        ids[used] = id;
        pHashes[used] = pHash;
        dHashes[used] = dHash;
        used++;
    }

    private void EnsureCapacity(int capacity)
    {
        if (capacity > ids.Length)
        {
            Array.Resize(ref ids, capacity);
            Array.Resize(ref pHashes, capacity);
            Array.Resize(ref dHashes, capacity);
        }
    }

    private void RebuildIfDue()
    {
        if (used - indexed > PendingLimit(indexed) || removed > Math.Max(MinPendingLimit, used / 4))
        {
            RebuildCore();
        }
    }

    private void RebuildCore()
    {
        // Compact: drop tombstones, keeping insertion order; moved entries get their new handle.
        var live = 0;
        for (var h = 0; h < used; h++)
        {
            var id = ids[h];
            if (id is null)
            {
                continue;
            }

            if (h != live)
            {
                ids[live] = id;
                pHashes[live] = pHashes[h];
                dHashes[live] = dHashes[h];
                CollectionsMarshal.GetValueRefOrNullRef(handles, id) = live;
            }

            live++;
        }

        Array.Clear(ids, live, used - live);
        used = live;
        indexed = live;
        removed = 0;
        if (ids.Length > 1024 && ids.Length > 2 * live)
        {
            var capacity = Math.Max(live, 16);
            Array.Resize(ref ids, capacity);
            Array.Resize(ref pHashes, capacity);
            Array.Resize(ref dHashes, capacity);
        }

        var hashes = pHashes;
        Parallel.For(0, ChunkCount, c =>
        {
            var off = offsets[c];
            Array.Clear(off);
            var shift = c * ChunkBits;
            for (var h = 0; h < live; h++)
            {
                off[((int)(hashes[h] >> shift) & ChunkMask) + 1]++;
            }

            for (var b = 0; b < BucketCount; b++)
            {
                off[b + 1] += off[b];
            }

            var post = postings[c].Length == live ? postings[c] : new int[live];
            var rest = residues[c].Length == live ? residues[c] : new uint[live];
            var next = off.AsSpan(0, BucketCount).ToArray();
            for (var h = 0; h < live; h++)
            {
                var slot = next[(int)(hashes[h] >> shift) & ChunkMask]++;
                post[slot] = h;
                rest[slot] = Residue(hashes[h], c);
            }

            postings[c] = post;
            residues[c] = rest;
        });
    }

    private Snapshot TakeSnapshot(NearDuplicateCriteria criteria)
    {
        gate.EnterReadLock();
        try
        {
            var count = handles.Count;
            var snapshotIds = new string[count];
            var p = new ulong[count];
            var d = new ulong[count];
            var m = 0;
            for (var h = 0; h < used; h++)
            {
                var id = ids[h];
                if (id is not null && criteria.IsInformative(pHashes[h]))
                {
                    snapshotIds[m] = id;
                    p[m] = pHashes[h];
                    d[m] = dHashes[h];
                    m++;
                }
            }

            if (m < count)
            {
                Array.Resize(ref snapshotIds, m);
                Array.Resize(ref p, m);
                Array.Resize(ref d, m);
            }

            return new Snapshot(snapshotIds, p, d, count);
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    /// <summary>The live, informative entries at one moment; <see cref="Count"/> is all live entries (for progress).</summary>
    private sealed record Snapshot(string[] Ids, ulong[] PHashes, ulong[] DHashes, int Count);

    /// <summary>All-pairs join of one chunk's buckets; one instance per FindGroups call, one chunk at a time.</summary>
    private sealed class BucketJoin(Snapshot snapshot, int maxDistance, int dHashLimit, int radius, ushort[] ball)
    {
        private readonly int[] offsets = new int[BucketCount + 1];
        private readonly ulong[] sorted = new ulong[snapshot.Ids.Length];
        private readonly int[] sortedEntry = new int[snapshot.Ids.Length];
        private int chunk;

        public void SortByChunk(int c)
        {
            chunk = c;
            var shift = c * ChunkBits;
            var p = snapshot.PHashes;
            Array.Clear(offsets);
            foreach (var hash in p)
            {
                offsets[((int)(hash >> shift) & ChunkMask) + 1]++;
            }

            for (var b = 0; b < BucketCount; b++)
            {
                offsets[b + 1] += offsets[b];
            }

            var next = offsets.AsSpan(0, BucketCount).ToArray();
            for (var i = 0; i < p.Length; i++)
            {
                var slot = next[(int)(p[i] >> shift) & ChunkMask]++;
                sorted[slot] = p[i];
                sortedEntry[slot] = i;
            }
        }

        /// <summary>Joins buckets [first, end) with themselves and with every higher bucket in the radius ball; returns the entries covered.</summary>
        public int JoinBuckets(int first, int end, PairBuffer pairs)
        {
            var off = offsets;
            var all = sorted;
            for (var b = first; b < end; b++)
            {
                var start = off[b];
                var stop = off[b + 1];
                if (start == stop)
                {
                    continue;
                }

                // Within the bucket: each pair once.
                for (var i = start; i < stop; i++)
                {
                    var a = all[i];
                    var rest = new ReadOnlySpan<ulong>(all, i + 1, stop - i - 1);
                    for (var j = 0; j < rest.Length; j++)
                    {
                        if (BitOperations.PopCount(a ^ rest[j]) <= maxDistance)
                        {
                            Candidate(i, i + 1 + j, pairs);
                        }
                    }
                }

                // With each higher bucket in the ball (mask 0, the bucket itself, is ball[0]).
                for (var k = 1; k < ball.Length; k++)
                {
                    var other = b ^ ball[k];
                    if (other < b)
                    {
                        continue;
                    }

                    var otherStart = off[other];
                    var otherStop = off[other + 1];
                    if (otherStart == otherStop)
                    {
                        continue;
                    }

                    var others = new ReadOnlySpan<ulong>(all, otherStart, otherStop - otherStart);
                    for (var i = start; i < stop; i++)
                    {
                        var a = all[i];
                        for (var j = 0; j < others.Length; j++)
                        {
                            if (BitOperations.PopCount(a ^ others[j]) <= maxDistance)
                            {
                                Candidate(i, otherStart + j, pairs);
                            }
                        }
                    }
                }
            }

            return off[end] - off[first];
        }

        private void Candidate(int slotA, int slotB, PairBuffer pairs)
        {
            if (FoundInEarlierChunk(sorted[slotA] ^ sorted[slotB], chunk, radius))
            {
                return;
            }

            var a = sortedEntry[slotA];
            var b = sortedEntry[slotB];
            if (BitOperations.PopCount(snapshot.DHashes[a] ^ snapshot.DHashes[b]) <= dHashLimit)
            {
                pairs.Add(a, b);
            }
        }
    }

    /// <summary>A worker's pairs, merged into the shared union-find under its lock when full and at the end.</summary>
    private sealed class PairBuffer(UnionFind unionFind)
    {
        private const int Capacity = 1 << 14;
        private readonly long[] pairs = new long[Capacity];
        private int count;

        public void Add(int a, int b)
        {
            pairs[count++] = ((long)a << 32) | (uint)b;
            if (count == Capacity)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (count == 0)
            {
                return;
            }

            lock (unionFind)
            {
                for (var i = 0; i < count; i++)
                {
                    unionFind.Union((int)(pairs[i] >> 32), (int)pairs[i]);
                }
            }

            count = 0;
        }
    }

    /// <summary>Turns work units into a rising 0…scale estimate, reported at most ~1000 times.</summary>
    private sealed class ProgressMeter(IProgress<long>? sink, long totalUnits, long scale)
    {
        private readonly Lock reportLock = new();
        private readonly long step = Math.Max(1, scale / 1000);
        private long done;
        private long reported = -1;

        public void Add(long units)
        {
            if (sink is null)
            {
                return;
            }

            var now = Interlocked.Add(ref done, units);
            var value = totalUnits <= 0 ? scale : Math.Min(scale, (long)((double)now / totalUnits * scale));
            if (value < Volatile.Read(ref reported) + step)
            {
                return;
            }

            Report(value);
        }

        public void Complete()
        {
            if (sink is not null)
            {
                Report(scale);
            }
        }

        private void Report(long value)
        {
            lock (reportLock)
            {
                if (value > reported)
                {
                    reported = value;
                    sink!.Report(value);
                }
            }
        }
    }
}
