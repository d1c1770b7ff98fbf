using System.Text;
using System.Text.RegularExpressions;

namespace Trove.Providers.Http;

/// <summary>Keeps secrets and noise out of what Trove shows: the API key, URL credentials and query strings, over-long bodies.</summary>
internal static partial class Redaction
{
    public const string Mask = "[redacted]";

    /// <summary>
    /// The text with the key removed: every occurrence of it, and every word that carries a recognisable part of it —
    /// services echo a wrong key whole or masked (OpenAI: <c>sk-proj-****abcd</c>).
    /// </summary>
    public static string Redact(string text, string? key)
    {
        if (string.IsNullOrEmpty(text) || string.IsNullOrEmpty(key))
        {
            return text;
        }

        text = text.Replace(key, Mask, StringComparison.Ordinal);
        return key.Length < 8 ? text : Word().Replace(text, m => CarriesPart(m.Value, key) ? Mask : m.Value);
    }

    /// <summary>A URL as Trove shows it: scheme, host, port and path; never user info or the query (either may hold a secret).</summary>
    public static string Display(Uri uri) => uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <summary>A service's text collapsed to one line and cut to <paramref name="max"/> characters, with the key removed.</summary>
    public static string OneLine(string text, string? key, int max = 300)
    {
        var builder = new StringBuilder(Math.Min(text.Length, max * 2));
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                space = builder.Length > 0;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        // Redact before cutting, so a key straddling the cut cannot leave a recognisable prefix.
        var line = Redact(builder.ToString(), key);
        return line.Length <= max ? line : string.Concat(line.AsSpan(0, max), "…");
    }

    private static bool CarriesPart(string word, string key)
    {
        if (word.Contains('*', StringComparison.Ordinal) && word.TrimEnd('.', ',', ';', ':', '"', '\'', ')', ']', '}').EndsWith(key[^4..], StringComparison.Ordinal))
        {
            return true;
        }

        for (var i = 0; i + 8 <= key.Length; i++)
        {
            if (word.AsSpan().IndexOf(key.AsSpan(i, 8), StringComparison.Ordinal) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex(@"\S+", RegexOptions.CultureInvariant)]
    private static partial Regex Word();
}
