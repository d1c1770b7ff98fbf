using Trove.Domain.Similarity;

namespace Trove.Domain.Tests.Similarity;

public class PerceptualHashTests
{
    private const int N = PerceptualHash.PHashSampleSize;

    // ---- samples ----

    private static byte[] Sample32(Func<int, int, double> f)
    {
        var b = new byte[PerceptualHash.PHashSampleLength];
        for (var y = 0; y < N; y++)
        {
            for (var x = 0; x < N; x++)
            {
                b[(y * N) + x] = (byte)Math.Clamp(Math.Round(f(x, y)), 0, 255);
            }
        }

        return b;
    }

    private static byte[] Sample9x8(Func<int, int, double> f)
    {
        var b = new byte[PerceptualHash.DHashSampleLength];
        for (var y = 0; y < PerceptualHash.DHashSampleHeight; y++)
        {
            for (var x = 0; x < PerceptualHash.DHashSampleWidth; x++)
            {
                b[(y * PerceptualHash.DHashSampleWidth) + x] = (byte)Math.Clamp(Math.Round(f(x, y)), 0, 255);
            }
        }

        return b;
    }

    /// <summary>
    /// A photo-like field: 40 waves of random frequency and phase with a 1/f amplitude spectrum, stretched to
    /// 20…235 (so nothing clips).
    /// </summary>
    private static Func<int, int, double> SmoothField(int seed, int width, int height)
    {
        var r = new Random(seed);
        var waves = Enumerable.Range(0, 40).Select(_ =>
        {
            var fx = r.NextDouble() * 8;
            var fy = r.NextDouble() * 8;
            return (Fx: fx, Fy: fy, Phase: r.NextDouble() * 2 * Math.PI, Amplitude: 1 / (1 + Math.Sqrt((fx * fx) + (fy * fy))));
        }).ToArray();
        var raw = new double[width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                raw[(y * width) + x] = waves.Sum(w => w.Amplitude * Math.Cos((w.Fx * x * Math.PI / width) + (w.Fy * y * Math.PI / height) + w.Phase));
            }
        }

        var (min, max) = (raw.Min(), raw.Max());
        return (x, y) => 20 + (215 * (raw[(y * width) + x] - min) / (max - min));
    }

    private static Func<int, int, double> SmoothField(int seed, int size) => SmoothField(seed, size, size);

    private static byte[] WithNoise(byte[] sample, int amplitude, Random r) =>
        sample.Select(v => (byte)Math.Clamp(v + r.Next(-amplitude, amplitude + 1), 0, 255)).ToArray();

    private static byte[] MirrorHorizontally(byte[] sample, int width)
    {
        var height = sample.Length / width;
        var m = new byte[sample.Length];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                m[(y * width) + x] = sample[(y * width) + (width - 1 - x)];
            }
        }

        return m;
    }

    private static byte[] MirrorVertically(byte[] sample)
    {
        var m = new byte[sample.Length];
        for (var y = 0; y < N; y++)
        {
            Array.Copy(sample, (N - 1 - y) * N, m, y * N, N);
        }

        return m;
    }

    private static byte[] Transpose(byte[] sample)
    {
        var t = new byte[sample.Length];
        for (var y = 0; y < N; y++)
        {
            for (var x = 0; x < N; x++)
            {
                t[(x * N) + y] = sample[(y * N) + x];
            }
        }

        return t;
    }

    private static ulong Bits(params int[] indices) => indices.Aggregate(0UL, (h, i) => h | (1UL << i));

    private static ulong TransposeBits(ulong hash)
    {
        var t = 0UL;
        for (var v = 0; v < 8; v++)
        {
            for (var u = 0; u < 8; u++)
            {
                if ((hash >> ((v * 8) + u) & 1) != 0)
                {
                    t |= 1UL << ((u * 8) + v);
                }
            }
        }

        return t;
    }

    // ---- sizes and validation ----

    [Fact]
    public void Sample_size_constants()
    {
        Assert.Equal(32, PerceptualHash.PHashSampleSize);
        Assert.Equal(1024, PerceptualHash.PHashSampleLength);
        Assert.Equal(9, PerceptualHash.DHashSampleWidth);
        Assert.Equal(8, PerceptualHash.DHashSampleHeight);
        Assert.Equal(72, PerceptualHash.DHashSampleLength);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1023)]
    [InlineData(1025)]
    [InlineData(72)]
    public void PHash_refuses_a_sample_of_the_wrong_size(int length) =>
        Assert.Throws<ArgumentException>(() => PerceptualHash.PHash(new byte[length]));

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    [InlineData(71)]
    [InlineData(73)]
    [InlineData(81)]
    public void DHash_refuses_a_sample_of_the_wrong_size(int length) =>
        Assert.Throws<ArgumentException>(() => PerceptualHash.DHash(new byte[length]));

    [Fact]
    public void LowFrequencyDct_refuses_a_short_destination() =>
        Assert.Throws<ArgumentException>(() => PerceptualHash.LowFrequencyDct(new byte[1024], new double[63]));

    // ---- the transform ----

    [Fact]
    public void LowFrequencyDct_equals_the_direct_orthonormal_2D_DCT_II()
    {
        var sample = Sample32(SmoothField(3, N));
        var noisy = WithNoise(sample, 20, new Random(5));
        var actual = new double[64];
        PerceptualHash.LowFrequencyDct(noisy, actual);
        for (var v = 0; v < 8; v++)
        {
            for (var u = 0; u < 8; u++)
            {
                var sum = 0.0;
                for (var y = 0; y < N; y++)
                {
                    for (var x = 0; x < N; x++)
                    {
                        sum += noisy[(y * N) + x] * Math.Cos((2 * x + 1) * u * Math.PI / 64) * Math.Cos((2 * y + 1) * v * Math.PI / 64);
                    }
                }

                var expected = sum * (u == 0 ? Math.Sqrt(1.0 / N) : Math.Sqrt(2.0 / N)) * (v == 0 ? Math.Sqrt(1.0 / N) : Math.Sqrt(2.0 / N));
                Assert.Equal(expected, actual[(v * 8) + u], 1e-5); // results are rounded to 2^-20
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(77)]
    [InlineData(255)]
    public void A_constant_sample_has_only_a_DC_coefficient_exactly(int value)
    {
        var c = new double[64];
        PerceptualHash.LowFrequencyDct(Sample32((_, _) => value), c);
        Assert.Equal(32.0 * value, c[0]);
        Assert.All(c.Skip(1), v => Assert.Equal(0.0, v));
    }

    // ---- pHash ----

    [Theory]
    [InlineData(1)]
    [InlineData(128)]
    [InlineData(255)]
    public void A_constant_sample_hashes_to_the_DC_bit_only(int value)
    {
        Assert.Equal(1UL, PerceptualHash.PHash(Sample32((_, _) => value)));
        Assert.Equal(0UL, PerceptualHash.DHash(Sample9x8((_, _) => value)));
    }

    [Fact]
    public void A_black_sample_hashes_to_zero() => Assert.Equal(0UL, PerceptualHash.PHash(new byte[1024]));

    [Fact]
    public void Bit_order_is_row_major_by_vertical_frequency_lsb_first()
    {
        // A ramp has only odd frequencies along its axis (even ones cancel by antisymmetry); all other
        // coefficients are 0 = the median. A decreasing ramp makes those odd coefficients positive.
        var leftToRightDarker = PerceptualHash.PHash(Sample32((x, _) => 250 - (7 * x)));
        Assert.Equal(Bits(0, 1, 3, 5, 7), leftToRightDarker); // [0,u]: bit u
        Assert.Equal(0xabUL, leftToRightDarker);

        var topToBottomDarker = PerceptualHash.PHash(Sample32((_, y) => 250 - (7 * y)));
        Assert.Equal(Bits(0, 8, 24, 40, 56), topToBottomDarker); // [v,0]: bit 8v
        Assert.Equal(0x0100010001000101UL, topToBottomDarker);

        // Increasing ramps make them negative: nothing but DC is above the median.
        Assert.Equal(1UL, PerceptualHash.PHash(Sample32((x, _) => 5 + (7 * x))));
        Assert.Equal(1UL, PerceptualHash.PHash(Sample32((_, y) => 5 + (7 * y))));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Transposing_the_sample_transposes_the_hash_bits(int seed)
    {
        var sample = WithNoise(Sample32(SmoothField(seed, N)), 10, new Random(seed));
        var hash = PerceptualHash.PHash(sample);
        Assert.Equal(TransposeBits(hash), PerceptualHash.PHash(Transpose(sample)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Flipping_the_image_changes_the_hash_a_lot(int seed)
    {
        var sample = Sample32(SmoothField(seed, N));
        var hash = PerceptualHash.PHash(sample);
        Assert.True(PerceptualHash.Distance(hash, PerceptualHash.PHash(MirrorHorizontally(sample, N))) > 12);
        Assert.True(PerceptualHash.Distance(hash, PerceptualHash.PHash(MirrorVertically(sample))) > 12);
    }

    [Fact]
    public void Small_noise_changes_few_bits()
    {
        var distances = new List<int>();
        for (var seed = 0; seed < 10; seed++)
        {
            var sample = Sample32(SmoothField(seed, N));
            var hash = PerceptualHash.PHash(sample);
            var r = new Random(1000 + seed);
            for (var t = 0; t < 10; t++)
            {
                distances.Add(PerceptualHash.Distance(hash, PerceptualHash.PHash(WithNoise(sample, 2, r))));
            }
        }

        Assert.True(distances.Average() <= 2, $"average {distances.Average()}");
        Assert.True(distances.Max() <= 4, $"max {distances.Max()}");
    }

    [Fact]
    public void A_photo_like_hash_has_about_half_its_bits_set_and_is_informative()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var hash = PerceptualHash.PHash(Sample32(SmoothField(seed, N)));
            Assert.InRange(ulong.PopCount(hash), 28UL, 32UL); // at most 31 AC coefficients are above the median, + DC
            Assert.True(NearDuplicateCriteria.Default.IsInformative(hash));
        }
    }

    [Fact]
    public void Brightness_and_contrast_changes_keep_the_hash()
    {
        var f = SmoothField(11, N);
        var hash = PerceptualHash.PHash(Sample32(f));
        Assert.True(PerceptualHash.Distance(hash, PerceptualHash.PHash(Sample32((x, y) => (0.7 * f(x, y)) + 30))) <= 4);
        Assert.True(PerceptualHash.Distance(hash, PerceptualHash.PHash(Sample32((x, y) => (1.05 * f(x, y)) - 6))) <= 4);
    }

    // ---- dHash ----

    [Fact]
    public void DHash_bit_order_is_row_times_8_plus_column()
    {
        var sample = new byte[72];
        sample[(2 * 9) + 5] = 200; // row 2: pixel 4 (0) < pixel 5 (200); pixel 5 > pixel 6
        Assert.Equal(1UL << ((2 * 8) + 4), PerceptualHash.DHash(sample));

        sample = new byte[72];
        sample[(7 * 9) + 8] = 1; // last pixel of the last row: bit 63
        Assert.Equal(1UL << 63, PerceptualHash.DHash(sample));
    }

    [Fact]
    public void DHash_of_gradients()
    {
        Assert.Equal(ulong.MaxValue, PerceptualHash.DHash(Sample9x8((x, _) => 10 + (20 * x))));
        Assert.Equal(0UL, PerceptualHash.DHash(Sample9x8((x, _) => 250 - (20 * x))));
        Assert.Equal(0UL, PerceptualHash.DHash(Sample9x8((_, y) => 10 + (20 * y))));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Mirroring_reverses_and_inverts_each_dHash_row(int seed)
    {
        var r = new Random(seed);
        var sample = new byte[72];
        for (var i = 0; i < sample.Length; i++)
        {
            do
            {
                sample[i] = (byte)r.Next(256);
            }
            while (i % 9 != 0 && sample[i] == sample[i - 1]); // no ties between neighbours
        }

        var hash = PerceptualHash.DHash(sample);
        var expected = 0UL;
        for (var row = 0; row < 8; row++)
        {
            for (var column = 0; column < 8; column++)
            {
                if ((hash >> ((row * 8) + column) & 1) == 0)
                {
                    expected |= 1UL << ((row * 8) + (7 - column));
                }
            }
        }

        Assert.Equal(expected, PerceptualHash.DHash(MirrorHorizontally(sample, 9)));
    }

    [Fact]
    public void DHash_small_noise_changes_few_bits()
    {
        var distances = new List<int>();
        for (var seed = 0; seed < 10; seed++)
        {
            var sample = Sample9x8(SmoothField(seed, 9, 8));
            var hash = PerceptualHash.DHash(sample);
            var r = new Random(2000 + seed);
            for (var t = 0; t < 10; t++)
            {
                distances.Add(PerceptualHash.Distance(hash, PerceptualHash.DHash(WithNoise(sample, 1, r))));
            }
        }

        Assert.True(distances.Average() <= 4, $"average {distances.Average()}");
        Assert.True(distances.Max() <= NearDuplicateCriteria.Default.DHashLimit, $"max {distances.Max()}");
    }

    // ---- determinism ----

    [Fact]
    public void Golden_values_for_a_fixed_synthetic_input()
    {
        var p = Sample32((x, y) => ((x * 7) + (y * 13) + (x * y)) % 256);
        var d = Sample9x8((x, y) => ((x * 37) + (y * 11) + (x * x * y)) % 256);
        Assert.Equal("cd1d3df9c0a0d1e1", PerceptualHash.ToHex(PerceptualHash.PHash(p)));
        Assert.Equal("57b7b7776fefdfbf", PerceptualHash.ToHex(PerceptualHash.DHash(d)));
    }

    [Fact]
    public void Hashing_is_repeatable_and_independent_of_where_the_sample_lives()
    {
        var sample = WithNoise(Sample32(SmoothField(9, N)), 30, new Random(9));
        var hash = PerceptualHash.PHash(sample);
        var padded = new byte[sample.Length + 13];
        sample.CopyTo(padded, 7);
        var results = new ulong[64];
        Parallel.For(0, results.Length, i => results[i] = PerceptualHash.PHash(padded.AsSpan(7, sample.Length)));
        Assert.All(results, r => Assert.Equal(hash, r));
    }

    // ---- distance and hex ----

    [Fact]
    public void Distance_counts_differing_bits()
    {
        Assert.Equal(0, PerceptualHash.Distance(0x1234, 0x1234));
        Assert.Equal(64, PerceptualHash.Distance(0, ulong.MaxValue));
        Assert.Equal(2, PerceptualHash.Distance(0b1010, 0b0110));
        Assert.Equal(1, PerceptualHash.Distance(1UL << 63, 0));
    }

    [Theory]
    [InlineData(0UL, "0000000000000000")]
    [InlineData(1UL, "0000000000000001")]
    [InlineData(0x0123456789abcdefUL, "0123456789abcdef")]
    [InlineData(ulong.MaxValue, "ffffffffffffffff")]
    [InlineData(0x8000000000000000UL, "8000000000000000")]
    public void Hex_is_16_lowercase_digits_most_significant_first(ulong value, string hex)
    {
        Assert.Equal(hex, PerceptualHash.ToHex(value));
        Assert.True(PerceptualHash.TryParseHex(hex, out var parsed));
        Assert.Equal(value, parsed);
    }

    [Fact]
    public void Hex_round_trips_random_values()
    {
        var r = new Random(1);
        for (var i = 0; i < 1000; i++)
        {
            var value = (ulong)r.NextInt64() ^ ((ulong)r.Next(2) << 63);
            Assert.True(PerceptualHash.TryParseHex(PerceptualHash.ToHex(value), out var parsed));
            Assert.Equal(value, parsed);
        }
    }

    [Fact]
    public void TryParseHex_accepts_uppercase()
    {
        Assert.True(PerceptualHash.TryParseHex("0123456789ABCDEF", out var parsed));
        Assert.Equal(0x0123456789abcdefUL, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("123")]
    [InlineData("0123456789abcde")]
    [InlineData("0123456789abcdef0")]
    [InlineData("0x0123456789abcd")]
    [InlineData(" 123456789abcdef")]
    [InlineData("123456789abcdef ")]
    [InlineData("0123456789abcdeg")]
    [InlineData("+123456789abcdef")]
    [InlineData("-123456789abcdef")]
    [InlineData("０123456789abcdef")]
    public void TryParseHex_refuses_anything_else(string? text)
    {
        Assert.False(PerceptualHash.TryParseHex(text, out var parsed));
        Assert.Equal(0UL, parsed);
    }
}
