namespace Trove.Domain.Similarity;

/// <summary>Embeddings as unit vectors: what every embedder's output becomes before it is stored or compared.</summary>
public static class UnitVector
{
    /// <summary>A copy of <paramref name="values"/> scaled to length 1, or null when its length is zero or not finite.</summary>
    public static float[]? TryNormalize(ReadOnlySpan<float> values)
    {
        var sum = 0f;
        foreach (var x in values)
        {
            sum += x * x;
        }

        var norm = MathF.Sqrt(sum);
        if (!(norm > 0) || !float.IsFinite(norm))
        {
            return null;
        }

        var v = values.ToArray();
        for (var k = 0; k < v.Length; k++)
        {
            v[k] /= norm;
        }

        return v;
    }
}
