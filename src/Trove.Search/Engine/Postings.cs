namespace Trove.Search.Engine;

/// <summary>
/// The documents that have one term (a tag, a type, a caption word…): a sorted array while the term is rare, a bitset
/// once it covers more than 1/32 of the documents (the bitset is then no larger than the array), and back to an array
/// when it falls under 1/64.
/// </summary>
internal sealed class Postings
{
    private const int MinDense = 256;
    private int[] _list = [];
    private ulong[]? _bits;

    public int Count { get; private set; }

    public bool IsDense => _bits is not null;

    /// <summary>The documents, ascending (only while sparse).</summary>
    public ReadOnlySpan<int> List => _list.AsSpan(0, _bits is null ? Count : 0);

    public ReadOnlySpan<ulong> Dense => _bits;

    public bool Contains(int doc)
    {
        if (_bits is not null)
        {
            return Bits.Get(_bits, doc);
        }

        return _list.AsSpan(0, Count).BinarySearch(doc) >= 0;
    }

    /// <summary>Adds a document; <paramref name="universe"/> is the number of document slots (for choosing the form).</summary>
    public void Add(int doc, int universe)
    {
        if (_bits is not null)
        {
            var w = doc >> 6;
            if (w >= _bits.Length)
            {
                Array.Resize(ref _bits, Math.Max(w + 1, Math.Max(_bits.Length * 2, (universe + 63) >> 6)));
            }

            var mask = 1UL << (doc & 63);
            if ((_bits[w] & mask) == 0)
            {
                _bits[w] |= mask;
                Count++;
            }

            return;
        }

        int at;
        if (Count == 0 || _list[Count - 1] < doc)
        {
            at = Count;
        }
        else
        {
            at = _list.AsSpan(0, Count).BinarySearch(doc);
            if (at >= 0)
            {
                return;
            }

            at = ~at;
        }

        if (Count == _list.Length)
        {
            Array.Resize(ref _list, Math.Max(4, _list.Length * 2));
        }

        if (at < Count)
        {
            Array.Copy(_list, at, _list, at + 1, Count - at);
        }

        _list[at] = doc;
        Count++;
        if (Count > MinDense && Count > universe / 32)
        {
            ToDense(universe);
        }
    }

    public void Remove(int doc, int universe)
    {
        if (_bits is not null)
        {
            var w = doc >> 6;
            var mask = 1UL << (doc & 63);
            if (w < _bits.Length && (_bits[w] & mask) != 0)
            {
                _bits[w] &= ~mask;
                Count--;
                if (Count < universe / 64)
                {
                    ToSparse();
                }
            }

            return;
        }

        var at = _list.AsSpan(0, Count).BinarySearch(doc);
        if (at >= 0)
        {
            Array.Copy(_list, at + 1, _list, at, Count - at - 1);
            Count--;
        }
    }

    /// <summary>dst |= this.</summary>
    public void OrInto(Span<ulong> dst)
    {
        if (_bits is not null)
        {
            Bits.Or(dst, _bits);
            return;
        }

        foreach (var d in List)
        {
            dst[d >> 6] |= 1UL << (d & 63);
        }
    }

    /// <summary>dst &amp;= this.</summary>
    public void AndInto(Span<ulong> dst, Span<ulong> scratch)
    {
        if (_bits is not null)
        {
            Bits.And(dst, _bits);
            return;
        }

        scratch.Clear();
        foreach (var d in List)
        {
            var w = d >> 6;
            scratch[w] |= dst[w] & (1UL << (d & 63));
        }

        scratch.CopyTo(dst);
    }

    /// <summary>dst &amp;= ~this.</summary>
    public void AndNotInto(Span<ulong> dst)
    {
        if (_bits is not null)
        {
            Bits.AndNot(dst, _bits);
            return;
        }

        foreach (var d in List)
        {
            dst[d >> 6] &= ~(1UL << (d & 63));
        }
    }

    /// <summary>Approximate bytes held.</summary>
    public long Bytes => 32 + (_bits is not null ? _bits.Length * 8L : _list.Length * 4L);

    private void ToDense(int universe)
    {
        var bits = new ulong[Math.Max((universe + 63) >> 6, (_list[Count - 1] >> 6) + 1)];
        foreach (var d in List)
        {
            bits[d >> 6] |= 1UL << (d & 63);
        }

        _bits = bits;
        _list = [];
    }

    private void ToSparse()
    {
        var list = new int[Math.Max(4, Count + (Count / 4))];
        var n = 0;
        for (var w = 0; w < _bits!.Length; w++)
        {
            var word = _bits[w];
            while (word != 0)
            {
                list[n++] = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                word &= word - 1;
            }
        }

        _list = list;
        _bits = null;
    }
}
