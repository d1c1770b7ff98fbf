using System.Globalization;
using System.Numerics;

namespace Trove.Domain.Similarity;

/// <summary>
/// 64-bit perceptual hashes of small grayscale samples (the caller downsamples the image; this class is pure
/// arithmetic and bit-exact on every IEEE-754 machine).
/// <para>
/// <b>pHash</b> (<see cref="PHash"/>): a 32×32 sample, row-major (<c>sample[y * 32 + x]</c>), goes through a 2-D
/// DCT-II with orthonormal scaling. Only the 8×8 lowest-frequency block is needed, so only that block is
/// computed (separably: rows then columns; the values are those of the full 32×32 transform). The median is taken
/// over the 63 coefficients of that block other than the DC term [0,0]; bit <c>i</c> of the hash is set when
/// coefficient <c>i</c> is strictly greater than that median.
/// </para>
/// <para>
/// <b>Bit order</b> (both hashes): bit <c>i</c> means <c>(hash &gt;&gt; i) &amp; 1</c>, least significant bit first,
/// and <c>i = row * 8 + column</c>. For pHash the row is the vertical frequency v and the column the horizontal
/// frequency u of coefficient [v,u]: bit 0 is the DC term, bit 1 is [0,1] (the lowest horizontal frequency), bit 8
/// is [1,0] (the lowest vertical frequency), bit 63 is [7,7]. For dHash bit <c>row * 8 + column</c> compares
/// <c>sample[row * 9 + column]</c> with its right-hand neighbour.
/// </para>
/// <para>
/// <b>Determinism</b>: the cosine table comes from a fixed-order Taylor series (no platform <c>Math.Cos</c>),
/// every sum runs in a fixed order in <see cref="double"/>, and coefficients are rounded to a 2^-20 grid before
/// the median so that values that are equal in exact arithmetic (zeros of a flat or symmetric image, transposed
/// pairs) compare equal instead of by their rounding noise. A flat sample therefore hashes to <c>0x1</c> (only
/// the DC bit; <c>0x0</c> when black) — see <see cref="NearDuplicateCriteria.FlatBitLimit"/> for why such
/// hashes never match anything.
/// </para>
/// </summary>
public static class PerceptualHash
{
    /// <summary>Width and height of the pHash sample.</summary>
    public const int PHashSampleSize = 32;

    /// <summary>Bytes in a pHash sample (32×32).</summary>
    public const int PHashSampleLength = PHashSampleSize * PHashSampleSize;

    /// <summary>Width of the dHash sample (one more column than compared bits per row).</summary>
    public const int DHashSampleWidth = 9;

    /// <summary>Height of the dHash sample.</summary>
    public const int DHashSampleHeight = 8;

    /// <summary>Bytes in a dHash sample (9 wide × 8 high).</summary>
    public const int DHashSampleLength = DHashSampleWidth * DHashSampleHeight;

    /// <summary>Side of the low-frequency DCT block the pHash is taken from.</summary>
    public const int DctBlockSize = 8;

    /// <summary>Coefficients in the low-frequency block (8×8).</summary>
    public const int DctBlockLength = DctBlockSize * DctBlockSize;

    /// <summary>Characters in <see cref="ToHex"/>'s output.</summary>
    public const int HexLength = 16;

    private const int N = PHashSampleSize;
    private const int B = DctBlockSize;
    private const double SnapScale = 1048576.0; // 2^20: exact power of two, so scaling and unscaling are exact.

    /// <summary>Cos[u * 32 + x] = alpha(u) · cos((2x + 1)·u·π / 64) for u &lt; 8, x &lt; 32 (orthonormal DCT-II basis).</summary>
    private static readonly double[] Cos = BuildCosineTable();

    /// <summary>
    /// The classic 64-bit pHash of a 32×32 grayscale sample (row-major, one byte per pixel). See the class
    /// remarks for the exact definition and the bit order.
    /// </summary>
    /// <exception cref="ArgumentException">The sample is not exactly 1024 bytes.</exception>
    public static ulong PHash(ReadOnlySpan<byte> gray32x32)
    {
        Span<double> coefficients = stackalloc double[DctBlockLength];
        LowFrequencyDct(gray32x32, coefficients);

        Span<double> ac = stackalloc double[DctBlockLength - 1];
        coefficients[1..].CopyTo(ac);
        ac.Sort();
        var median = ac[(ac.Length - 1) / 2]; // 63 values: the 32nd smallest, an actual coefficient.

        var hash = 0UL;
        for (var i = 0; i < DctBlockLength; i++)
        {
            if (coefficients[i] > median)
            {
                hash |= 1UL << i;
            }
        }

        return hash;
    }

    /// <summary>
    /// The 8×8 low-frequency block of the orthonormal 2-D DCT-II of a 32×32 sample, row-major by vertical
    /// frequency (<c>destination[v * 8 + u]</c>), each coefficient rounded to a multiple of 2^-20 — the values
    /// <see cref="PHash"/> thresholds.
    /// </summary>
    /// <exception cref="ArgumentException">The sample is not 1024 bytes or the destination holds fewer than 64 values.</exception>
    public static void LowFrequencyDct(ReadOnlySpan<byte> gray32x32, Span<double> destination)
    {
        if (gray32x32.Length != PHashSampleLength)
        {
            throw new ArgumentException($"A pHash sample is {PHashSampleSize}×{PHashSampleSize} = {PHashSampleLength} bytes, not {gray32x32.Length}.", nameof(gray32x32));
        }

        if (destination.Length < DctBlockLength)
        {
            throw new ArgumentException($"The destination must hold {DctBlockLength} coefficients.", nameof(destination));
        }

        var cos = Cos;

        // Rows: rows[y * 8 + u] = Σx Cos[u][x] · p[y][x]   (32 rows × 8 frequencies × 32 pixels)
        Span<double> rows = stackalloc double[N * B];
        for (var y = 0; y < N; y++)
        {
            var row = gray32x32.Slice(y * N, N);
            for (var u = 0; u < B; u++)
            {
                var basis = cos.AsSpan(u * N, N);
                var sum = 0.0;
                for (var x = 0; x < N; x++)
                {
                    sum += basis[x] * row[x];
                }

                rows[(y * B) + u] = sum;
            }
        }

        // Columns: F[v][u] = Σy Cos[v][y] · rows[y][u]   (8 × 8 coefficients × 32 rows)
        for (var v = 0; v < B; v++)
        {
            var basis = cos.AsSpan(v * N, N);
            for (var u = 0; u < B; u++)
            {
                var sum = 0.0;
                for (var y = 0; y < N; y++)
                {
                    sum += basis[y] * rows[(y * B) + u];
                }

                destination[(v * B) + u] = Math.Round(sum * SnapScale) / SnapScale;
            }
        }
    }

    /// <summary>
    /// The 64-bit difference hash of a 9-wide × 8-high grayscale sample (row-major, <c>sample[row * 9 + column]</c>):
    /// bit <c>row * 8 + column</c> is set when the pixel is strictly darker than its right-hand neighbour.
    /// </summary>
    /// <exception cref="ArgumentException">The sample is not exactly 72 bytes.</exception>
    public static ulong DHash(ReadOnlySpan<byte> gray9x8)
    {
        if (gray9x8.Length != DHashSampleLength)
        {
            throw new ArgumentException($"A dHash sample is {DHashSampleWidth}×{DHashSampleHeight} = {DHashSampleLength} bytes, not {gray9x8.Length}.", nameof(gray9x8));
        }

        var hash = 0UL;
        for (var row = 0; row < DHashSampleHeight; row++)
        {
            var pixels = gray9x8.Slice(row * DHashSampleWidth, DHashSampleWidth);
            for (var column = 0; column < DHashSampleWidth - 1; column++)
            {
                if (pixels[column] < pixels[column + 1])
                {
                    hash |= 1UL << ((row * 8) + column);
                }
            }
        }

        return hash;
    }

    /// <summary>Hamming distance: the number of differing bits (0–64).</summary>
    public static int Distance(ulong a, ulong b) => BitOperations.PopCount(a ^ b);

    /// <summary>16 lowercase hexadecimal digits, most significant first (bit 63 is the first digit's top bit).</summary>
    public static string ToHex(ulong hash) => hash.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Parses exactly 16 hexadecimal digits (either case, no prefix, no whitespace), as written by <see cref="ToHex"/>.</summary>
    public static bool TryParseHex(string? text, out ulong hash)
    {
        hash = 0;
        if (text is null || text.Length != HexLength)
        {
            return false;
        }

        foreach (var ch in text)
        {
            if (!char.IsAsciiHexDigit(ch))
            {
                return false;
            }
        }

        return ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out hash);
    }

    private static double[] BuildCosineTable()
    {
        // cos(mπ/64) for m = 0..32 (first quadrant), from a Taylor series evaluated in a fixed order.
        var quarter = new double[33];
        for (var m = 0; m <= 32; m++)
        {
            quarter[m] = TaylorCos(m * Math.PI / 64);
        }

        quarter[32] = 0; // cos(π/2), exactly.

        var table = new double[B * N];
        var alpha0 = Math.Sqrt(1.0 / N);
        var alpha = Math.Sqrt(2.0 / N);
        for (var u = 0; u < B; u++)
        {
            for (var x = 0; x < N; x++)
            {
                var m = ((2 * x) + 1) * u % 128; // angle in units of π/64, reduced mod 2π
                if (m > 64)
                {
                    m = 128 - m; // cos(2π − θ) = cos θ
                }

                var c = m > 32 ? -quarter[64 - m] : quarter[m]; // cos(π − θ) = −cos θ
                table[(u * N) + x] = (u == 0 ? alpha0 : alpha) * c;
            }
        }

        return table;
    }

    private static double TaylorCos(double x)
    {
        // |x| ≤ π/2: 1 − x²/2! + x⁴/4! − …; 20 terms are far past double precision.
        var x2 = x * x;
        var term = 1.0;
        var sum = 1.0;
        for (var k = 1; k <= 20; k++)
        {
            term *= -x2 / ((2 * k - 1) * (2 * k));
            sum += term;
        }

        return sum;
    }
}
