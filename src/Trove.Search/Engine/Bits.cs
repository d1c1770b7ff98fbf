using System.Numerics;
using System.Runtime.Intrinsics;

namespace Trove.Search.Engine;

/// <summary>Operations on bitsets stored as <c>ulong</c> words (bit <c>d</c> is document <c>d</c>).</summary>
internal static class Bits
{
    public static bool Get(ReadOnlySpan<ulong> bits, int doc)
    {
        var w = doc >> 6;
        return (uint)w < (uint)bits.Length && (bits[w] & (1UL << (doc & 63))) != 0;
    }

    public static void Set(Span<ulong> bits, int doc) => bits[doc >> 6] |= 1UL << (doc & 63);

    public static void Clear(Span<ulong> bits, int doc)
    {
        var w = doc >> 6;
        if ((uint)w < (uint)bits.Length)
        {
            bits[w] &= ~(1UL << (doc & 63));
        }
    }

    public static long Count(ReadOnlySpan<ulong> bits)
    {
        long n = 0;
        foreach (var w in bits)
        {
            n += BitOperations.PopCount(w);
        }

        return n;
    }

    /// <summary>dst &amp;= src (src words beyond its length count as zero).</summary>
    public static void And(Span<ulong> dst, ReadOnlySpan<ulong> src)
    {
        var n = Math.Min(dst.Length, src.Length);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4)
            {
                (Vector256.Create<ulong>(dst.Slice(i, 4)) & Vector256.Create<ulong>(src.Slice(i, 4))).CopyTo(dst.Slice(i, 4));
            }
        }

        for (; i < n; i++)
        {
            dst[i] &= src[i];
        }

        dst[n..].Clear();
    }

    /// <summary>dst |= src.</summary>
    public static void Or(Span<ulong> dst, ReadOnlySpan<ulong> src)
    {
        var n = Math.Min(dst.Length, src.Length);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4)
            {
                (Vector256.Create<ulong>(dst.Slice(i, 4)) | Vector256.Create<ulong>(src.Slice(i, 4))).CopyTo(dst.Slice(i, 4));
            }
        }

        for (; i < n; i++)
        {
            dst[i] |= src[i];
        }
    }

    /// <summary>dst &amp;= ~src.</summary>
    public static void AndNot(Span<ulong> dst, ReadOnlySpan<ulong> src)
    {
        var n = Math.Min(dst.Length, src.Length);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4)
            {
                Vector256.AndNot(Vector256.Create<ulong>(dst.Slice(i, 4)), Vector256.Create<ulong>(src.Slice(i, 4))).CopyTo(dst.Slice(i, 4));
            }
        }

        for (; i < n; i++)
        {
            dst[i] &= ~src[i];
        }
    }

    public static bool Any(ReadOnlySpan<ulong> bits) => bits.IndexOfAnyExcept(0UL) >= 0;

    /// <summary>Visits the set bits in increasing order.</summary>
    public static void ForEach(ReadOnlySpan<ulong> bits, Action<int> visit)
    {
        for (var w = 0; w < bits.Length; w++)
        {
            var word = bits[w];
            while (word != 0)
            {
                visit((w << 6) + BitOperations.TrailingZeroCount(word));
                word &= word - 1;
            }
        }
    }

    /// <summary>Sets in <paramref name="dst"/> the bits of documents whose value lies in [lo, hi] (dst is overwritten).</summary>
    public static void Range<T>(ReadOnlySpan<T> column, T lo, T hi, Span<ulong> dst)
        where T : unmanaged, INumber<T>
    {
        dst.Clear();
        var n = Math.Min(column.Length, dst.Length * 64);
        var i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var lanes = Vector256<T>.Count;
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);

            // Whole 64-document words: 64 / lanes vectors each.
            for (; i + 64 <= n; i += 64)
            {
                ulong word = 0;
                for (var k = 0; k < 64; k += lanes)
                {
                    var v = Vector256.Create(column.Slice(i + k, lanes));
                    var inRange = Vector256.GreaterThanOrEqual(v, vlo) & Vector256.LessThanOrEqual(v, vhi);
                    word |= (ulong)inRange.ExtractMostSignificantBits() << k;
                }

                dst[i >> 6] = word;
            }
        }

        for (; i < n; i++)
        {
            var v = column[i];
            if (v >= lo && v <= hi)
            {
                dst[i >> 6] |= 1UL << (i & 63);
            }
        }
    }
}
