using System.Numerics;

namespace Trove.Domain.Similarity;

/// <summary>
/// When two images count as near-duplicates. A pair (p1, d1) ~ (p2, d2) matches when
/// <list type="number">
/// <item>the pHash distance is ≤ <see cref="MaxDistance"/> (<c>similar:ID</c> uses the default, 8), and</item>
/// <item>the dHash distance is ≤ <see cref="DHashLimit"/> (default 2·MaxDistance + 4, capped at 64): a sanity
/// filter so that two unrelated images whose low-frequency DCT signs happen to agree are not paired, and</item>
/// <item>both pHashes are <em>informative</em> (<see cref="IsInformative"/>).</item>
/// </list>
/// <para>
/// <b>Flat-image rule</b>: a pHash with at most <see cref="FlatBitLimit"/> bits set, or at most that many bits
/// clear, is treated as carrying no information and <b>never matches anything — not even an identical hash</b>.
/// Such hashes come from samples whose low-frequency DCT coefficients are almost all equal to their median (exactly
/// zero): solid colours (pHash <c>0x1</c>, or <c>0x0</c> for black), perfect linear ramps and other exactly
/// symmetric synthetic images, and the all-zero / all-one hashes other tools write for flat images. Every flat
/// image of any colour shares one hash, so "identical hashes" says nothing about them; they are left to exact
/// (content hash) duplicate detection instead. Real photographs have about 32 of 64 bits set (the median splits
/// the 63 AC coefficients in half), and a random 64-bit value has ≤ 8 bits set with probability ≈ 3·10⁻¹⁰.
/// Set <see cref="FlatBitLimit"/> to −1 to disable the rule.
/// </para>
/// </summary>
public sealed record NearDuplicateCriteria
{
    /// <summary>The pHash distance <c>similar:ID</c> uses.</summary>
    public const int DefaultMaxDistance = 8;

    /// <summary>Default for <see cref="FlatBitLimit"/>.</summary>
    public const int DefaultFlatBitLimit = 8;

    private readonly int maxDistance = DefaultMaxDistance;
    private readonly int? dHashLimit;
    private readonly int flatBitLimit = DefaultFlatBitLimit;

    public NearDuplicateCriteria()
    {
    }

    public NearDuplicateCriteria(int maxDistance)
    {
        MaxDistance = maxDistance;
    }

    /// <summary>Distance 8, dHash limit 20, flat-bit limit 8.</summary>
    public static NearDuplicateCriteria Default { get; } = new();

    /// <summary>Largest pHash Hamming distance that still matches (0–64).</summary>
    public int MaxDistance
    {
        get => maxDistance;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 64);
            maxDistance = value;
        }
    }

    /// <summary>Largest dHash Hamming distance that still matches (0–64); unless set, 2·<see cref="MaxDistance"/> + 4, capped at 64.</summary>
    public int DHashLimit
    {
        get => dHashLimit ?? Math.Min(64, (2 * maxDistance) + 4);
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 64);
            dHashLimit = value;
        }
    }

    /// <summary>
    /// A pHash with ≤ this many bits set, or ≤ this many bits clear, is flat (uninformative) and never matches;
    /// −1 disables the rule, the maximum is 31. Default 8.
    /// </summary>
    public int FlatBitLimit
    {
        get => flatBitLimit;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, -1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 31);
            flatBitLimit = value;
        }
    }

    /// <summary>Whether a pHash carries enough information to match anything (see the flat-image rule).</summary>
    public bool IsInformative(ulong pHash)
    {
        var bits = BitOperations.PopCount(pHash);
        return bits > flatBitLimit && bits < 64 - flatBitLimit;
    }

    /// <summary>Whether two (pHash, dHash) pairs are near-duplicates under these criteria.</summary>
    public bool Matches(ulong pHashA, ulong dHashA, ulong pHashB, ulong dHashB) =>
        BitOperations.PopCount(pHashA ^ pHashB) <= maxDistance
        && BitOperations.PopCount(dHashA ^ dHashB) <= DHashLimit
        && IsInformative(pHashA)
        && IsInformative(pHashB);
}
