namespace Trove.Search.Engine;

/// <summary>Distinct terms (tag names, caption words…), each with an ordinal and the <see cref="Postings"/> of its documents.</summary>
internal sealed class TermTable(StringComparer comparer)
{
    private readonly Dictionary<string, int> _ordinals = new(comparer);
    private readonly List<string> _names = [];
    private readonly List<Postings> _postings = [];

    public int Count => _names.Count;

    public string Name(int ordinal) => _names[ordinal];

    public Postings Postings(int ordinal) => _postings[ordinal];

    public int Find(string name) => _ordinals.TryGetValue(name, out var o) ? o : -1;

    public int GetOrAdd(string name) => GetOrAdd(name, out _);

    public int GetOrAdd(string name, out bool added)
    {
        added = !_ordinals.TryGetValue(name, out var o);
        if (added)
        {
            o = _names.Count;
            _ordinals[name] = o;
            _names.Add(name);
            _postings.Add(new Postings());
        }

        return o;
    }

    public IEnumerable<(string Name, int Ordinal)> All => _ordinals.Select(kv => (kv.Key, kv.Value));

    public long Bytes
    {
        get
        {
            long bytes = 0;
            foreach (var p in _postings)
            {
                bytes += p.Bytes;
            }

            foreach (var name in _names)
            {
                bytes += 24 + (name.Length * 2L) + 32;
            }

            return bytes;
        }
    }
}

/// <summary>Per-document arrays of ordinals (a jagged array that grows with the documents).</summary>
internal static class DocSlots
{
    public static long Bytes(int[]?[] slots)
    {
        long bytes = slots.Length * 8L;
        foreach (var d in slots)
        {
            bytes += d is null ? 0 : 24 + (d.Length * 4L);
        }

        return bytes;
    }

    public static void Ensure(ref int[][] slots, int doc)
    {
        if (doc >= slots.Length)
        {
            Array.Resize(ref slots, Math.Max(doc + 1, slots.Length * 2));
        }
    }
}

/// <summary>
/// A named dimension of documents (tags, types, uploaders, collections…): each distinct value gets an ordinal and a
/// <see cref="Postings"/>; each document remembers its ordinals so that replacing or removing it is exact.
/// </summary>
internal sealed class Facet(StringComparer comparer)
{
    private readonly TermTable _terms = new(comparer);
    private int[][] _docs = [];

    public int ValueCount => _terms.Count;

    public string Name(int ordinal) => _terms.Name(ordinal);

    public Postings Postings(int ordinal) => _terms.Postings(ordinal);

    public int Find(string name) => _terms.Find(name);

    public Postings? Find(string name, out int ordinal)
    {
        ordinal = _terms.Find(name);
        return ordinal >= 0 ? _terms.Postings(ordinal) : null;
    }

    /// <summary>Replaces the values of a document.</summary>
    public void Set(int doc, IReadOnlyList<string> values, int universe)
    {
        Clear(doc, universe);
        if (values.Count == 0)
        {
            return;
        }

        var ords = new int[values.Count];
        var n = 0;
        foreach (var v in values)
        {
            var o = _terms.GetOrAdd(v);
            if (Array.IndexOf(ords, o, 0, n) < 0)
            {
                ords[n++] = o;
                _terms.Postings(o).Add(doc, universe);
            }
        }

        if (n < ords.Length)
        {
            Array.Resize(ref ords, n);
        }

        DocSlots.Ensure(ref _docs, doc);
        _docs[doc] = ords;
    }

    public void Clear(int doc, int universe)
    {
        if (doc >= _docs.Length || _docs[doc] is not { } ords)
        {
            return;
        }

        foreach (var o in ords)
        {
            _terms.Postings(o).Remove(doc, universe);
        }

        _docs[doc] = null!;
    }

    /// <summary>Ordinals of values matching a '*' pattern that at least one document has.</summary>
    public List<int> Matching(string pattern)
    {
        var result = new List<int>();
        for (var o = 0; o < _terms.Count; o++)
        {
            if (_terms.Postings(o).Count > 0 && Glob.Matches(pattern, _terms.Name(o)))
            {
                result.Add(o);
            }
        }

        return result;
    }

    public long Bytes => DocSlots.Bytes(_docs) + _terms.Bytes;

    internal void Reserve(int capacity)
    {
        if (capacity > _docs.Length)
        {
            Array.Resize(ref _docs, capacity);
        }
    }
}

/// <summary>Matches names against patterns where '*' stands for any run of characters (ordinal comparison).</summary>
internal static class Glob
{
    public static bool Matches(string pattern, string name)
    {
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && pattern[p] == name[n])
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>The literal text before the first '*' (to narrow a scan).</summary>
    public static string LiteralPrefix(string pattern)
    {
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        return star < 0 ? pattern : pattern[..star];
    }
}
