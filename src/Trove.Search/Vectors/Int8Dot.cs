using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Trove.Search.Vectors;

/// <summary>
/// Dot products of int8 vectors with int32 accumulation: AVX2 (widen to int16, multiply-add adjacent pairs) where the
/// CPU has it, else the portable 128-bit path, else scalar. Exact (no saturation): 127² × 2 per int16 pair fits an int32
/// lane for any dimension up to 2²⁰.
/// </summary>
public static class Int8Dot
{
    public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"The vectors have {a.Length} and {b.Length} dimensions.", nameof(b));
        }

        var i = 0;
        var sum = 0;
        if (Avx2.IsSupported && a.Length >= 32)
        {
            var acc = Vector256<int>.Zero;
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            for (; i <= a.Length - 32; i += 32)
            {
                var va = Vector256.LoadUnsafe(ref ra, (nuint)i);
                var vb = Vector256.LoadUnsafe(ref rb, (nuint)i);
                var (aLo, aHi) = Vector256.Widen(va);
                var (bLo, bHi) = Vector256.Widen(vb);
                acc = Avx2.Add(acc, Avx2.MultiplyAddAdjacent(aLo, bLo));
                acc = Avx2.Add(acc, Avx2.MultiplyAddAdjacent(aHi, bHi));
            }

            sum = Vector256.Sum(acc);
        }
        else if (Vector128.IsHardwareAccelerated && a.Length >= 16)
        {
            var acc = Vector128<int>.Zero;
            for (; i <= a.Length - 16; i += 16)
            {
                var (aLo, aHi) = Vector128.Widen(Vector128.Create(a.Slice(i, 16)));
                var (bLo, bHi) = Vector128.Widen(Vector128.Create(b.Slice(i, 16)));
                acc += Products(aLo, bLo) + Products(aHi, bHi);
            }

            sum = Vector128.Sum(acc);
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static Vector128<int> Products(Vector128<short> x, Vector128<short> y)
    {
        var (x0, x1) = Vector128.Widen(x);
        var (y0, y1) = Vector128.Widen(y);
        return (x0 * y0) + (x1 * y1);
    }
}
