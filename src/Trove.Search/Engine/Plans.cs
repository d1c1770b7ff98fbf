using Trove.Domain.Similarity;
using Trove.Search.Query;

namespace Trove.Search.Engine;

/// <summary>A bound query node, ready to evaluate against the engine's structures.</summary>
internal abstract class Plan
{
    /// <summary>Rough number of matching documents (for ordering AND children, most selective first).</summary>
    public abstract long Estimate { get; }
}

internal sealed class EmptyPlan : Plan
{
    public static EmptyPlan Instance { get; } = new();

    public override long Estimate => 0;
}

internal sealed class AllPlan(long count) : Plan
{
    public override long Estimate => count;
}

/// <summary>Documents in any of the postings (one tag, a wildcard's tags, type:png,jpg …).</summary>
internal sealed class PostingsPlan(IReadOnlyList<Postings> lists) : Plan
{
    public IReadOnlyList<Postings> Lists { get; } = lists;

    public override long Estimate { get; } = lists.Sum(l => (long)l.Count);

    public bool Contains(int doc)
    {
        foreach (var l in Lists)
        {
            if (l.Contains(doc))
            {
                return true;
            }
        }

        return false;
    }
}

internal sealed class RangePlan(RangeField field, LongRange range, long estimate) : Plan
{
    public RangeField Field { get; } = field;

    public LongRange Range { get; } = range;

    public override long Estimate => estimate;
}

internal sealed class IdPrefixPlan(string prefix, long estimate) : Plan
{
    public string Prefix { get; } = prefix;

    /// <summary>The prefix as the first id word with its significant bits, and the mask of those bits.</summary>
    public (ulong Value, ulong Mask)[] Words { get; } = ToWords(prefix);

    public override long Estimate => estimate;

    private static (ulong, ulong)[] ToWords(string prefix)
    {
        var words = new List<(ulong, ulong)>();
        for (var k = 0; k * 16 < prefix.Length; k++)
        {
            var part = prefix.Substring(k * 16, Math.Min(16, prefix.Length - (k * 16)));
            var bits = part.Length * 4;
            var value = ulong.Parse(part, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
            var shift = 64 - bits;
            words.Add(shift == 64 ? (0, 0) : (value << shift, ulong.MaxValue << shift));
        }

        return [.. words];
    }
}

/// <summary>Caption words in a row (the last one possibly a prefix with several alternatives).</summary>
internal sealed class PhrasePlan(int[] words, HashSet<int>? lastAlternatives, IReadOnlyList<Postings> required, PostingsPlan? last) : Plan
{
    public int[] Words { get; } = words;

    public HashSet<int>? LastAlternatives { get; } = lastAlternatives;

    /// <summary>Postings every match must be in (one per fixed word).</summary>
    public IReadOnlyList<Postings> Required { get; } = required;

    /// <summary>For a prefix last word: the union its match must be in.</summary>
    public PostingsPlan? Last { get; } = last;

    public override long Estimate { get; } = Math.Min(required.Count == 0 ? long.MaxValue : required.Min(r => (long)r.Count), last?.Estimate ?? long.MaxValue);
}

internal sealed class SimilarPlan(int target, ulong pHash, ulong dHash, NearDuplicateCriteria criteria) : Plan
{
    public int Target { get; } = target;

    public ulong PHash { get; } = pHash;

    public ulong DHash { get; } = dHash;

    public NearDuplicateCriteria Criteria { get; } = criteria;

    public override long Estimate => 16;
}

/// <summary><c>has:mask</c>: images that some mask in the library points at.</summary>
internal sealed class MaskHolderPlan(long estimate) : Plan
{
    public ulong[]? Computed { get; set; }

    public override long Estimate => estimate;
}

internal sealed class AndPlan(List<Plan> children) : Plan
{
    public List<Plan> Children { get; } = children;

    public override long Estimate { get; } = children.Min(c => c.Estimate);
}

internal sealed class OrPlan(List<Plan> children) : Plan
{
    public List<Plan> Children { get; } = children;

    public override long Estimate { get; } = children.Sum(c => c.Estimate);
}

internal sealed class NotPlan(Plan child, long universe) : Plan
{
    public Plan Child { get; } = child;

    public override long Estimate { get; } = Math.Max(0, universe - child.Estimate);
}
