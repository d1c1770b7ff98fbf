using System.Text;

namespace Trove.Domain;

/// <summary>
/// Tag name rules: case-insensitive, stored lowercase with underscores for spaces. Names that would be
/// ambiguous in the query language (leading '-', '*', parentheses, the word 'or', a metatag prefix) are refused.
/// </summary>
public static class TagNames
{
    public const int MaxLength = 200;

    /// <summary>Query-language metatag names; a tag may not start with one of these followed by ':'.</summary>
    public static readonly IReadOnlySet<string> ReservedPrefixes = new HashSet<string>(StringComparer.Ordinal)
    {
        "width", "height", "mpixels", "ratio", "filesize", "date", "taken", "type", "kind", "tagcount", "collection",
        "has", "suggested", "caption", "similar", "id", "uploader", "order",
    };

    public static string Normalize(string raw)
    {
        if (TryNormalize(raw, out var name, out var error))
        {
            return name;
        }

        throw new TroveUsageException("invalid-tag", error, "Tags are words joined by underscores, e.g. long_hair.");
    }

    public static bool TryNormalize(string? raw, out string name, out string error)
    {
        name = string.Empty;
        if (string.IsNullOrWhiteSpace(raw))
        {
            error = "A tag name cannot be empty.";
            return false;
        }

        var sb = new StringBuilder(raw.Length);
        var pendingUnderscore = false;
        foreach (var ch in raw.Trim())
        {
            if (char.IsWhiteSpace(ch) || ch == '_')
            {
                pendingUnderscore = sb.Length > 0;
                continue;
            }

            if (char.IsControl(ch))
            {
                error = $"Tag '{raw}' contains a control character.";
                return false;
            }

            if (pendingUnderscore)
            {
                sb.Append('_');
                pendingUnderscore = false;
            }

            sb.Append(char.ToLowerInvariant(ch));
        }

        var result = sb.ToString();
        if (result.Length == 0)
        {
            error = $"Tag '{raw}' has no letters or digits.";
            return false;
        }

        if (result.Length > MaxLength)
        {
            error = $"Tag '{Shorten(raw)}' is longer than {MaxLength} characters.";
            return false;
        }

        if (result[0] is '-' or '~')
        {
            error = $"Tag '{raw}' cannot start with '{result[0]}' (it means negation in searches).";
            return false;
        }

        var bad = result.IndexOfAny(['*', ',', '"']);
        if (bad >= 0)
        {
            error = $"Tag '{raw}' contains '{result[bad]}', which has a meaning in searches or tag lists.";
            return false;
        }

        // Booru tags qualify names with parentheses (saber_(fate)). They are allowed inside a name when balanced and
        // not first, so that in a query '(' opening a term and an unbalanced ')' closing one still mean grouping.
        if (result[0] == '(' || !BalancedParentheses(result))
        {
            error = $"Tag '{raw}' may contain parentheses only as a balanced qualifier after the name, e.g. saber_(fate).";
            return false;
        }

        if (result is "or" or "and")
        {
            error = $"'{result}' is a search keyword and cannot be a tag.";
            return false;
        }

        var colon = result.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && ReservedPrefixes.Contains(result[..colon]))
        {
            error = $"Tag '{raw}' starts with the search metatag '{result[..colon]}:'.";
            return false;
        }

        name = result;
        error = string.Empty;
        return true;
    }

    private static bool BalancedParentheses(string s)
    {
        var depth = 0;
        foreach (var c in s)
        {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (depth < 0)
            {
                return false;
            }
        }

        return depth == 0;
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
