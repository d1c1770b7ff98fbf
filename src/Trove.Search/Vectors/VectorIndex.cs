namespace Trove.Search.Vectors;

/// <summary>A match of a vector query: the slot (the search engine's document number) and its cosine similarity.</summary>
public readonly record struct VectorHit(int Slot, float Score);

/// <summary>A query vector quantised like the stored ones (<see cref="VectorIndex.Prepare"/>).</summary>
public sealed class QueryCode(sbyte[] code, float scale)
{
    internal sbyte[] Code { get; } = code;

    internal float Scale { get; } = scale;
}

/// <summary>How a query was answered: exactly over every candidate, or through the inverted lists (and how many were probed).</summary>
public sealed record VectorSearchInfo(bool Exact, int Probed, long Scanned);

/// <summary>
/// Embeddings in memory for similarity search (docs/semantic-search.md, "Vector index"): L2-normalised vectors quantised to
/// int8 with one scale per vector (a quarter of float32's memory: 512 B per 512-d vector), compared by SIMD int8 dot
/// products (<see cref="Int8Dot"/>). Slots are the search engine's document numbers, so a query's filter is the
/// engine's bitset and restricts candidates during the scan — never after a top-k that could drop matches.
/// <list type="bullet">
/// <item><b>Exact</b>: every candidate is scored; used when a filter leaves few candidates (at most
/// <see cref="ExactLimit"/>), or always before the inverted lists are built.</item>
/// <item><b>Approximate</b> (IVF): the vectors are clustered by k-means into √N lists; a query scores the
/// <c>probes</c> nearest lists' members (the filter still applies to each), which at 1M finds ≥ 95 % of the exact top 20
/// (measured by <c>make bench-vectors</c>, tested against brute force).</item>
/// </list>
/// Not thread-safe for writes; reads may run concurrently with each other. Build the lists after bulk loading
/// (<see cref="BuildLists"/>); vectors added later join their nearest list.
/// </summary>
public sealed class VectorIndex
{
    private readonly int _dims;
    private sbyte[] _codes;
    private float[] _scales;
    private bool[] _present;
    private int _capacity;
    private int _count;
    private sbyte[]? _centroidCodes; // lists × dims, quantised like the vectors
    private float[]? _centroidScales;
    private List<int>[]? _lists;
    private int[] _listOf;

    public VectorIndex(int dimensions, int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        _dims = dimensions;
        _capacity = Math.Max(16, capacity);
        _codes = new sbyte[(long)_capacity * _dims];
        _scales = new float[_capacity];
        _present = new bool[_capacity];
        _listOf = new int[_capacity];
    }

    public int Dimensions => _dims;

    /// <summary>Vectors held.</summary>
    public int Count => _count;

    /// <summary>A filtered query with at most this many candidates is answered exactly.</summary>
    public int ExactLimit { get; set; } = 50_000;

    /// <summary>Inverted lists probed by an approximate query.</summary>
    public int Probes { get; set; } = 20;

    public bool HasLists => _lists is not null;

    /// <summary>Bytes held by vectors, scales and lists (what the benchmark reports beside RSS).</summary>
    public long MemoryBytes => _codes.LongLength + (_scales.LongLength * 4) + _present.LongLength + (_listOf.LongLength * 4)
        + (_centroidCodes?.LongLength ?? 0) + (_lists?.Sum(l => (long)l.Capacity * 4) ?? 0);

    public bool Contains(int slot) => (uint)slot < (uint)_capacity && _present[slot];

    /// <summary>Adds or replaces the vector of <paramref name="slot"/> (normalised here; a zero vector is refused).</summary>
    public void Set(int slot, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (vector.Length != _dims)
        {
            throw new ArgumentException($"The vector has {vector.Length} dimensions; this index holds {_dims}.", nameof(vector));
        }

        Grow(slot + 1);
        if (_present[slot])
        {
            Remove(slot);
        }

        _scales[slot] = Quantize(vector, _codes.AsSpan((int)((long)slot * _dims), _dims));
        _present[slot] = true;
        _count++;
        if (_lists is not null)
        {
            var list = NearestLists(Code(slot), _scales[slot], 1)[0];
            _lists[list].Add(slot);
            _listOf[slot] = list;
        }
    }

    public void Remove(int slot)
    {
        if (!Contains(slot))
        {
            return;
        }

        _present[slot] = false;
        _count--;
        _lists?[_listOf[slot]].Remove(slot);
    }

    /// <summary>The stored (dequantised, normalised) vector of a slot, e.g. for "more like this".</summary>
    public float[] Vector(int slot)
    {
        if (!Contains(slot))
        {
            throw new ArgumentOutOfRangeException(nameof(slot), $"Slot {slot} holds no vector.");
        }

        var code = Code(slot);
        var result = new float[_dims];
        for (var i = 0; i < _dims; i++)
        {
            result[i] = code[i] * _scales[slot];
        }

        return result;
    }

    /// <summary>
    /// The <paramref name="k"/> most similar vectors to <paramref name="query"/> with a score of at least
    /// <paramref name="minScore"/>, among the slots set in <paramref name="filter"/> (null: all), best first (ties by slot).
    /// </summary>
    /// <param name="exact">Score every candidate even when the inverted lists would answer (deep pages).</param>
    public (IReadOnlyList<VectorHit> Hits, VectorSearchInfo Info) Search(ReadOnlySpan<float> query, int k, ReadOnlySpan<ulong> filter, bool filtered, float minScore = float.MinValue, bool exact = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var q = new sbyte[_dims];
        var qScale = Quantize(query, q);
        var top = new TopK(k);
        long scanned = 0;
        var candidates = filtered ? CountBits(filter) : _count;
        if (exact || _lists is null || (filtered && candidates <= ExactLimit))
        {
            if (filtered)
            {
                for (var w = 0; w < filter.Length; w++)
                {
                    for (var bits = filter[w]; bits != 0; bits &= bits - 1)
                    {
                        var slot = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                        if (slot < _capacity && _present[slot])
                        {
                            Score(q, qScale, slot, minScore, top);
                            scanned++;
                        }
                    }
                }
            }
            else
            {
                for (var slot = 0; slot < _capacity; slot++)
                {
                    if (_present[slot])
                    {
                        Score(q, qScale, slot, minScore, top);
                        scanned++;
                    }
                }
            }

            return (top.Sorted(), new VectorSearchInfo(true, 0, scanned));
        }

        var probes = Math.Min(_lists.Length, Probes);
        var nearest = NearestLists(q, qScale, probes);

        // The probed lists are scanned in parallel (one part per core, each with its own top k, merged at the end):
        // a query's latency is what a person waits for, and one query rarely has the machine to itself for long.
        var parts = Math.Clamp(Environment.ProcessorCount, 1, Math.Max(1, nearest.Length));
        var tops = new TopK[parts];
        var counts = new long[parts];
        var filterCopy = filtered ? filter.ToArray() : null;
        Parallel.For(0, parts, part =>
        {
            var local = new TopK(k);
            long n = 0;
            for (var p = part; p < nearest.Length; p += parts)
            {
                foreach (var slot in _lists[nearest[p]])
                {
                    if (filterCopy is null || Get(filterCopy, slot))
                    {
                        Score(q, qScale, slot, minScore, local);
                        n++;
                    }
                }
            }

            tops[part] = local;
            counts[part] = n;
        });
        foreach (var (part, local) in tops.Index())
        {
            foreach (var hit in local.Sorted())
            {
                top.Offer(hit.Slot, hit.Score);
            }

            scanned += counts[part];
        }

        return (top.Sorted(), new VectorSearchInfo(false, probes, scanned));
    }

    /// <summary>
    /// Every pair of slots set in <paramref name="filter"/> whose similarity is at least <paramref name="minScore"/>
    /// (near-duplicates by embedding), each pair once with <c>A &lt; B</c>, ordered by A then B. Without inverted lists
    /// every pair is compared (N²/2 dot products, on every core); with them each vector is compared with the other members
    /// of its own list (<paramref name="probes"/> 1: near-identical vectors fall in the same list), or of its
    /// <paramref name="probes"/> nearest lists, at a fraction of the cost. <paramref name="progress"/> gets the number of
    /// vectors done.
    /// </summary>
    public IReadOnlyList<(int A, int B, float Score)> SimilarPairs(ReadOnlySpan<ulong> filter, float minScore, int probes = 1, Action<long>? progress = null, CancellationToken ct = default)
    {
        var slots = new List<int>();
        for (var w = 0; w < filter.Length; w++)
        {
            for (var bits = filter[w]; bits != 0; bits &= bits - 1)
            {
                var slot = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                if (slot < _capacity && _present[slot])
                {
                    slots.Add(slot);
                }
            }
        }

        var member = new bool[_capacity];
        foreach (var slot in slots)
        {
            member[slot] = true;
        }

        var found = new System.Collections.Concurrent.ConcurrentBag<(int A, int B, float Score)>();
        long done = 0;
        var options = new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount };
        var lists = _lists;
        if (lists is not null && probes <= 1)
        {
            // Each vector against the other members of its own list: every list's pairs once, a list at a time (cache-friendly).
            Parallel.For(0, lists.Length, options, l =>
            {
                var members = lists[l].Where(m => member[m]).Order().ToArray();
                for (var i = 0; i < members.Length; i++)
                {
                    var a = members[i];
                    var code = Code(a);
                    var scale = _scales[a];
                    for (var j = i + 1; j < members.Length; j++)
                    {
                        var b = members[j];
                        var score = Int8Dot.Dot(code, Code(b)) * scale * _scales[b];
                        if (score >= minScore)
                        {
                            found.Add((a, b, score));
                        }
                    }
                }

                var n = Interlocked.Add(ref done, members.Length);
                progress?.Invoke(n);
            });
            return [.. found.OrderBy(p => p.A).ThenBy(p => p.B)];
        }

        Parallel.For(0, slots.Count, options, i =>
        {
            var a = slots[i];
            var code = Code(a);
            var scale = _scales[a];
            if (lists is null)
            {
                for (var j = i + 1; j < slots.Count; j++)
                {
                    var b = slots[j];
                    var score = Int8Dot.Dot(code, Code(b)) * scale * _scales[b];
                    if (score >= minScore)
                    {
                        found.Add((a, b, score));
                    }
                }
            }
            else
            {
                foreach (var list in NearestLists(code, scale, Math.Clamp(probes, 1, lists.Length)))
                {
                    foreach (var b in lists[list])
                    {
                        if (b != a && member[b])
                        {
                            var score = Int8Dot.Dot(code, Code(b)) * scale * _scales[b];
                            if (score >= minScore)
                            {
                                found.Add((Math.Min(a, b), Math.Max(a, b), score));
                            }
                        }
                    }
                }
            }

            var n = Interlocked.Increment(ref done);
            if (progress is not null && (n & 1023) == 0)
            {
                progress(n);
            }
        });
        progress?.Invoke(slots.Count);
        return [.. found.DistinctBy(p => (p.A, p.B)).OrderBy(p => p.A).ThenBy(p => p.B)];
    }

    /// <summary>A query vector quantised once, to score single slots with <see cref="Score(QueryCode, int)"/>.</summary>
    public QueryCode Prepare(ReadOnlySpan<float> query)
    {
        var code = new sbyte[_dims];
        var scale = Quantize(query, code);
        return new QueryCode(code, scale);
    }

    /// <summary>The cosine similarity of a prepared query with the vector of <paramref name="slot"/> (which must hold one).</summary>
    public float Score(QueryCode query, int slot)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Int8Dot.Dot(query.Code, Code(slot)) * query.Scale * _scales[slot];
    }

    /// <summary>
    /// Clusters the vectors into about √N inverted lists by k-means (a sample of at most 32 per list for training,
    /// <paramref name="iterations"/> rounds), then assigns every vector to its nearest list. Deterministic for a seed.
    /// </summary>
    public void BuildLists(int? lists = null, int iterations = 8, int seed = 1, CancellationToken ct = default)
    {
        var slots = Enumerable.Range(0, _capacity).Where(s => _present[s]).ToArray();
        var n = lists ?? Math.Max(1, (int)Math.Sqrt(slots.Length));
        n = Math.Clamp(n, 1, Math.Max(1, slots.Length));
        var random = new Random(seed);
        var sample = slots.Length <= n * 32 ? slots : [.. slots.OrderBy(_ => random.Next()).Take(n * 32)];
        var centroids = new float[n * _dims];
        for (var c = 0; c < n; c++)
        {
            var v = Vector(sample[random.Next(sample.Length)]);
            v.CopyTo(centroids, c * _dims);
        }

        var assignment = new int[sample.Length];
        for (var round = 0; round < iterations; round++)
        {
            ct.ThrowIfCancellationRequested();
            var sums = new float[n * _dims];
            var counts = new int[n];
            Parallel.For(0, sample.Length, new ParallelOptions { CancellationToken = ct }, i => assignment[i] = Nearest(centroids, n, Vector(sample[i])));
            for (var i = 0; i < sample.Length; i++)
            {
                var v = Vector(sample[i]);
                counts[assignment[i]]++;
                var at = assignment[i] * _dims;
                for (var d = 0; d < _dims; d++)
                {
                    sums[at + d] += v[d];
                }
            }

            for (var c = 0; c < n; c++)
            {
                var span = sums.AsSpan(c * _dims, _dims);
                if (counts[c] == 0)
                {
                    Vector(sample[random.Next(sample.Length)]).CopyTo(span); // an empty cluster restarts on a random point
                }

                Normalize(span);
                span.CopyTo(centroids.AsSpan(c * _dims, _dims));
            }
        }

        _centroidCodes = new sbyte[n * _dims];
        _centroidScales = new float[n];
        for (var c = 0; c < n; c++)
        {
            _centroidScales[c] = Quantize(centroids.AsSpan(c * _dims, _dims), _centroidCodes.AsSpan(c * _dims, _dims));
        }

        // Assigning every vector is the expensive part (N × lists int8 dot products): in parallel.
        var assigned = new int[slots.Length];
        Parallel.For(0, slots.Length, new ParallelOptions { CancellationToken = ct }, i => assigned[i] = NearestLists(Code(slots[i]), _scales[slots[i]], 1)[0]);
        _lists = new List<int>[n];
        for (var c = 0; c < n; c++)
        {
            _lists[c] = [];
        }

        for (var i = 0; i < slots.Length; i++)
        {
            _lists[assigned[i]].Add(slots[i]);
            _listOf[slots[i]] = assigned[i];
        }

        // Slots ascend within each list (they were added in slot order): a scan reads the codes front to back.
    }

    private ReadOnlySpan<sbyte> Code(int slot) => _codes.AsSpan((int)((long)slot * _dims), _dims);

    private void Score(ReadOnlySpan<sbyte> q, float qScale, int slot, float minScore, TopK top)
    {
        var score = Int8Dot.Dot(q, Code(slot)) * qScale * _scales[slot];
        if (score >= minScore)
        {
            top.Offer(slot, score);
        }
    }

    private int[] NearestLists(ReadOnlySpan<sbyte> code, float scale, int count)
    {
        var codes = _centroidCodes!;
        var scales = _centroidScales!;
        var top = new TopK(count);
        for (var c = 0; c < scales.Length; c++)
        {
            top.Offer(c, Int8Dot.Dot(code, codes.AsSpan(c * _dims, _dims)) * scale * scales[c]);
        }

        return [.. top.Sorted().Select(h => h.Slot)];
    }

    private int Nearest(float[] centroids, int n, float[] v)
    {
        var best = 0;
        var bestDot = float.MinValue;
        for (var c = 0; c < n; c++)
        {
            var dot = FloatDot(centroids.AsSpan(c * _dims, _dims), v);
            if (dot > bestDot)
            {
                (best, bestDot) = (c, dot);
            }
        }

        return best;
    }

    private static float Quantize(ReadOnlySpan<float> vector, Span<sbyte> code)
    {
        var norm = 0f;
        var max = 0f;
        foreach (var x in vector)
        {
            norm += x * x;
            max = Math.Max(max, Math.Abs(x));
        }

        if (norm <= 0 || !float.IsFinite(norm))
        {
            throw new ArgumentException("A zero or non-finite vector cannot be compared.", nameof(vector));
        }

        norm = MathF.Sqrt(norm);
        var scale = max / norm / 127f;
        for (var i = 0; i < vector.Length; i++)
        {
            code[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] / norm / scale), -127, 127);
        }

        return scale;
    }

    private static float FloatDot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc = System.Numerics.Vector<float>.Zero;
        var i = 0;
        var width = System.Numerics.Vector<float>.Count;
        for (; i <= a.Length - width; i += width)
        {
            acc += new System.Numerics.Vector<float>(a[i..]) * new System.Numerics.Vector<float>(b[i..]);
        }

        var sum = System.Numerics.Vector.Sum(acc);
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static void Normalize(Span<float> v)
    {
        var norm = MathF.Sqrt(FloatDot(v, v));
        if (norm > 0)
        {
            for (var i = 0; i < v.Length; i++)
            {
                v[i] /= norm;
            }
        }
    }

    private static bool Get(ReadOnlySpan<ulong> bits, int slot)
    {
        var w = slot >> 6;
        return (uint)w < (uint)bits.Length && (bits[w] & (1UL << (slot & 63))) != 0;
    }

    private static long CountBits(ReadOnlySpan<ulong> bits)
    {
        long n = 0;
        foreach (var w in bits)
        {
            n += System.Numerics.BitOperations.PopCount(w);
        }

        return n;
    }

    private void Grow(int needed)
    {
        if (needed <= _capacity)
        {
            return;
        }

        var capacity = Math.Max(needed, _capacity * 2);
        Array.Resize(ref _codes, checked(capacity * _dims));
        Array.Resize(ref _scales, capacity);
        Array.Resize(ref _present, capacity);
        Array.Resize(ref _listOf, capacity);
        _capacity = capacity;
    }

    /// <summary>The best k by score (ties: lower slot first), kept in a min-heap.</summary>
    private sealed class TopK(int k)
    {
        private readonly PriorityQueue<int, (float Score, int NegSlot)> _heap = new();

        public void Offer(int slot, float score)
        {
            if (_heap.Count < k)
            {
                _heap.Enqueue(slot, (score, -slot));
            }
            else if (_heap.TryPeek(out _, out var worst) && (score > worst.Score || (score == worst.Score && -slot > worst.NegSlot)))
            {
                _heap.EnqueueDequeue(slot, (score, -slot));
            }
        }

        public List<VectorHit> Sorted()
        {
            var hits = new List<VectorHit>(_heap.Count);
            while (_heap.TryDequeue(out var slot, out var priority))
            {
                hits.Add(new VectorHit(slot, priority.Score));
            }

            hits.Reverse();
            return hits;
        }
    }
}
