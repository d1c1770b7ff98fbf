using Trove.Domain;

namespace Trove.Search.Query;

/// <summary>Errors about a query, each naming the offending term and its column.</summary>
public static class QueryErrors
{
    public const string Invalid = "query-invalid";
    public const string TooComplex = "query-too-complex";
    private const string Hint = "See docs/query-language.md for the syntax and the metatags.";

    public static TroveUsageException Term(string text, SourceSpan span, string why) =>
        new(Invalid, $"Query term '{Slice(text, span)}' at column {span.Column}: {why}{(why.EndsWith('?') || why.EndsWith('.') ? string.Empty : ".")}", Hint);

    public static TroveUsageException At(SourceSpan span, string what) =>
        new(Invalid, $"{what} at column {span.Column}.", Hint);

    public static TroveUsageException UnknownMetatag(string name, SourceSpan span)
    {
        var guess = EditDistance.Closest(name, Metatags.Names);
        var hint = guess is null ? string.Empty : $" — did you mean '{guess}'?";
        return new TroveUsageException(Invalid, $"Unknown metatag '{name}' at column {span.Column}{hint}", Hint);
    }

    public static TroveUsageException Complex(string what) =>
        new(TooComplex, what, "Simplify the query: fewer terms, less nesting, more specific wildcards.");

    internal static string Slice(string text, SourceSpan span)
    {
        var s = text.Substring(span.Start, Math.Min(span.Length, text.Length - span.Start));
        return s.Length > 60 ? s[..57] + "…" : s;
    }
}

/// <summary>Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), for "did you mean".</summary>
public static class EditDistance
{
    public static int Of(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    /// <summary>The closest candidate within <paramref name="max"/> edits, if any.</summary>
    public static string? Closest(string value, IEnumerable<string> candidates, int max = 2)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            var d = Of(c, value);
            if (d < bestDistance)
            {
                best = c;
                bestDistance = d;
            }
        }

        return bestDistance <= max ? best : null;
    }
}
