using System.Buffers;
using System.Numerics;
using Trove.Domain;
using Trove.Search.Query;

namespace Trove.Search.Engine;

public sealed partial class SearchIndex
{
    /// <summary>Results at or under this many are sorted directly instead of walking a sorted view.</summary>
    private const int DirectSortLimit = 2048;

    private readonly Dictionary<(SortField, bool), SortedView> _views = [];

    /// <summary>Parses and runs a query.</summary>
    public SearchResults Search(string text, SearchRequest request, CancellationToken ct, QueryLimits? limits = null, VectorQuery? vectors = null) =>
        Search(QueryParser.Parse(text, limits), request, ct, limits, vectors);

    /// <summary>
    /// Runs a parsed query: exact total, one page in order, and the cursor for the next page. A query with a
    /// <c>semantic:</c> or <c>like:</c> term needs <paramref name="vectors"/> (the caller turns the term into a vector).
    /// </summary>
    public SearchResults Search(ParsedQuery query, SearchRequest request, CancellationToken ct, QueryLimits? limits = null, VectorQuery? vectors = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Limit < 0 || request.Offset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(request), "Limit and offset cannot be negative.");
        }

        CheckVectors(query, vectors);
        var cursor = request.Cursor is { Length: > 0 } c ? SearchCursor.Decode(c) : null;
        var order = ResolveOrder(query.RankedBySimilarity ? new OrderSpec(SortField.Score, true) : query.Order, cursor);
        _lock.EnterReadLock();
        try
        {
            var plan = query.Root is null ? new AllPlan(_count) : new Binder(this, query.Text, limits ?? QueryLimits.Default).Bind(query.Root);
            var words = Words;
            var result = ArrayPool<ulong>.Shared.Rent(Math.Max(1, words));
            try
            {
                var bits = result.AsSpan(0, words);
                Eval(plan, bits, ct);
                Bits.And(bits, _live);
                if (query.RankedBySimilarity)
                {
                    return RankedPage(query, vectors!, bits, request, cursor, order, ct);
                }

                var scores = query.Ranking is null ? null : RestrictBySimilarity(query, vectors!, bits);
                var total = Bits.Count(bits);
                var page = request.Limit == 0 || total == 0
                    ? []
                    : Page(bits, total, order, cursor, request.Offset, (int)Math.Min(int.MaxValue, (long)request.Limit + 1), ct);
                string? next = null;
                if (page.Count > request.Limit)
                {
                    page.RemoveAt(page.Count - 1);
                    var last = page[^1];
                    next = new SearchCursor(order.Field, order.Descending, order.Seed ?? 0, KeyOf(last, order), IdAt(last)).Encode();
                }

                return new SearchResults(total, page.ConvertAll(IdAt), next, order) { Scores = scores is null ? null : page.ConvertAll(d => scores[d]) };
            }
            finally
            {
                ArrayPool<ulong>.Shared.Return(result);
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Exact number of matches (no page).</summary>
    public long CountMatches(ParsedQuery query, CancellationToken ct, QueryLimits? limits = null) =>
        Search(query, new SearchRequest(0), ct, limits).Total;

    private static OrderSpec ResolveOrder(OrderSpec order, SearchCursor? cursor)
    {
        if (cursor is not null)
        {
            if (cursor.Field != order.Field || cursor.Descending != order.Descending || (order.Seed is { } s && s != cursor.Seed))
            {
                throw new TroveUsageException(
                    "bad-cursor",
                    "The cursor belongs to a different order: than this query's.",
                    "Use the cursor with the same query it came from, or start again without one.");
            }

            return order with { Seed = order.Field == SortField.Random ? cursor.Seed : null };
        }

        return order.Field == SortField.Random && order.Seed is null
            ? order with { Seed = (ulong)Random.Shared.NextInt64() }
            : order;
    }

    /// <summary>The sort key of a document under an order (ties are broken by id, ascending).</summary>
    private long KeyOf(int d, OrderSpec order)
    {
        var key = order.Field switch
        {
            SortField.Created => _created[d],
            SortField.Id => (long)(_ids[d * 4] ^ 0x8000_0000_0000_0000UL),
            SortField.Width => _width[d],
            SortField.Height => _height[d],
            SortField.Pixels => _pixels[d],
            SortField.FileSize => _size[d],
            SortField.TagCount => _tagCount[d],
            _ => (long)Mix(_ids[d * 4] ^ order.Seed.GetValueOrDefault()),
        };
        return order.Descending ? ~key : key;
    }

    private static ulong Mix(ulong x)
    {
        // SplitMix64 finaliser: a seed-dependent shuffle of the ids.
        x += 0x9E37_79B9_7F4A_7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return x ^ (x >> 31);
    }

    private int Compare(int a, long keyA, int b, long keyB)
    {
        var c = keyA.CompareTo(keyB);
        return c != 0 ? c : CompareIds(a, b);
    }

    /// <summary>Compares a document with the cursor position: &gt; 0 when the document comes after it.</summary>
    private int CompareToCursor(int d, long key, SearchCursor cursor)
    {
        var c = key.CompareTo(cursor.Key);
        if (c != 0)
        {
            return c;
        }

        for (var k = 0; k < 4; k++)
        {
            var w = ulong.Parse(cursor.Id.AsSpan(k * 16, 16), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
            c = _ids[(d * 4) + k].CompareTo(w);
            if (c != 0)
            {
                return c;
            }
        }

        return 0;
    }

    /// <summary>The documents at positions [offset, offset + count) of the result in order.</summary>
    private List<int> Page(ReadOnlySpan<ulong> result, long total, OrderSpec order, SearchCursor? cursor, int offset, int count, CancellationToken ct)
    {
        var want = (long)offset + count;
        var expectedScan = want * Math.Max(1, _count) / Math.Max(1, total);
        if (order.Field == SortField.Random || total <= DirectSortLimit || expectedScan > total * 4)
        {
            return Direct(result, order, cursor, offset, count, ct);
        }

        var view = View(order, ct);
        var output = new List<int>(count);
        var skipped = 0L;

        // Documents changed since the view was built: checked on their current keys and merged in.
        var fresh = new List<(long Key, int Doc)>();
        var stale = view.Stale;
        for (var w = 0; w < stale.Length && w < result.Length; w++)
        {
            var word = stale[w] & result[w];
            while (word != 0)
            {
                var d = (w << 6) + BitOperations.TrailingZeroCount(word);
                word &= word - 1;
                var key = KeyOf(d, order);
                if (cursor is null || CompareToCursor(d, key, cursor) > 0)
                {
                    fresh.Add((key, d));
                }
            }
        }

        fresh.Sort((x, y) => Compare(x.Doc, x.Key, y.Doc, y.Key));
        var f = 0;

        var start = 0;
        if (cursor is not null)
        {
            start = LowerBound(view.Keys, cursor.Key);
        }

        for (var i = start; i < view.Perm.Length && output.Count < count; i++)
        {
            var d = view.Perm[i];
            if (!Bits.Get(result, d) || Bits.Get(stale, d))
            {
                continue;
            }

            var key = view.Keys[i];
            if (cursor is not null && CompareToCursor(d, key, cursor) <= 0)
            {
                continue;
            }

            while (f < fresh.Count && output.Count < count && Compare(fresh[f].Doc, fresh[f].Key, d, key) < 0)
            {
                Emit(fresh[f++].Doc);
            }

            if (output.Count < count)
            {
                Emit(d);
            }

            if ((i & 0xFFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
        }

        while (f < fresh.Count && output.Count < count)
        {
            Emit(fresh[f++].Doc);
        }

        return output;

        void Emit(int d)
        {
            if (skipped < offset)
            {
                skipped++;
            }
            else
            {
                output.Add(d);
            }
        }
    }

    private static int LowerBound(long[] keys, long key)
    {
        int lo = 0, hi = keys.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (keys[mid] < key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Sorts the matches themselves, keeping only the best <c>offset + count</c> (a bounded heap).</summary>
    private List<int> Direct(ReadOnlySpan<ulong> result, OrderSpec order, SearchCursor? cursor, int offset, int count, CancellationToken ct)
    {
        var want = (int)Math.Min(int.MaxValue, (long)offset + count);
        var comparer = Comparer<(long Key, int Doc)>.Create((x, y) => Compare(y.Doc, y.Key, x.Doc, x.Key));
        var heap = new PriorityQueue<int, (long Key, int Doc)>(comparer); // max-heap: the worst kept result on top
        for (var w = 0; w < result.Length; w++)
        {
            var word = result[w];
            while (word != 0)
            {
                var d = (w << 6) + BitOperations.TrailingZeroCount(word);
                word &= word - 1;
                var key = KeyOf(d, order);
                if (cursor is not null && CompareToCursor(d, key, cursor) <= 0)
                {
                    continue;
                }

                if (heap.Count < want)
                {
                    heap.Enqueue(d, (key, d));
                }
                else if (heap.TryPeek(out var worst, out var worstKey) && Compare(d, key, worst, worstKey.Key) < 0)
                {
                    heap.DequeueEnqueue(d, (key, d));
                }
            }

            if ((w & 0x3FFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
        }

        var sorted = new List<int>(heap.Count);
        while (heap.Count > 0)
        {
            sorted.Add(heap.Dequeue());
        }

        sorted.Reverse();
        return offset >= sorted.Count ? [] : sorted.GetRange(offset, Math.Min(count, sorted.Count - offset));
    }

    /// <summary>Every present document sorted by (key, id) under one order, built on first use.</summary>
    private SortedView View(OrderSpec order, CancellationToken ct)
    {
        lock (_views)
        {
            if (_views.TryGetValue((order.Field, order.Descending), out var view))
            {
                return view;
            }

            var docs = new int[_count];
            var n = 0;
            for (var d = 0; d < _capacity; d++)
            {
                if (Bits.Get(_present, d))
                {
                    docs[n++] = d;
                }
            }

            ct.ThrowIfCancellationRequested();
            var keys = new long[n];
            for (var i = 0; i < n; i++)
            {
                keys[i] = KeyOf(docs[i], order);
            }

            Array.Sort(keys, docs);

            // Equal keys: order by id.
            for (var i = 0; i < n;)
            {
                var j = i + 1;
                while (j < n && keys[j] == keys[i])
                {
                    j++;
                }

                if (j - i > 1)
                {
                    Array.Sort(docs, i, j - i, Comparer<int>.Create(CompareIds));
                }

                i = j;
            }

            view = new SortedView(docs, keys, new ulong[Words]);
            _views[(order.Field, order.Descending)] = view;
            return view;
        }
    }

    /// <summary>Marks a changed document in every sorted view; a view with too many changes is dropped and rebuilt later.</summary>
    private void Touch(int d)
    {
        lock (_views)
        {
            List<(SortField, bool)>? drop = null;
            foreach (var (key, view) in _views)
            {
                view.MarkStale(d);
                if (view.StaleCount > Math.Max(4096, _count / 16))
                {
                    (drop ??= []).Add(key);
                }
            }

            if (drop is not null)
            {
                foreach (var key in drop)
                {
                    _views.Remove(key);
                }
            }
        }
    }

    private sealed class SortedView(int[] perm, long[] keys, ulong[] stale)
    {
        public int[] Perm { get; } = perm;

        public long[] Keys { get; } = keys;

        public ulong[] Stale { get; private set; } = stale;

        public int StaleCount { get; private set; }

        public long Bytes => (Perm.Length * 12L) + (Stale.Length * 8L);

        /// <summary>Marks a document as changed since the view was built.</summary>
        public void MarkStale(int d)
        {
            var w = d >> 6;
            if (w >= Stale.Length)
            {
                var grown = Stale;
                Array.Resize(ref grown, Math.Max(w + 1, Stale.Length * 2));
                Stale = grown;
            }

            if (!Bits.Get(Stale, d))
            {
                Bits.Set(Stale, d);
                StaleCount++;
            }
        }
    }
}
