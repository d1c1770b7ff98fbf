using System.Text.RegularExpressions;

namespace Trove.Application.Import;

/// <summary>What a kohya-style "name.txt" holds.</summary>
public enum KohyaTextKind
{
    Empty,

    /// <summary>A tag line: "1girl, solo, long hair, blue eyes".</summary>
    Tags,

    /// <summary>Natural language: "A woman with long hair standing in a field."</summary>
    Caption,
}

/// <summary>
/// Tells a kohya tag line from a natural-language caption. The text is split into pieces at commas and line
/// breaks (empty pieces from trailing or doubled commas are ignored); a piece's words are separated by spaces
/// or underscores. A piece reads as <em>prose</em> when it has 7 or more words, or 3 or more words and either
/// ends in '.', '!' or '?' or contains an article, copula or subject pronoun (a, an, the, is, are, was, were,
/// this, these, those, there, it, its, it's, they, she, he). Booru tags almost never do: "looking at viewer",
/// "hair between eyes" and "out of frame" stay tags.
/// <list type="bullet">
/// <item>One piece (no commas, one line): a caption when it has 4 or more words, ends in sentence punctuation,
/// or starts with an article ("a dog"); otherwise a single tag ("sks dog", "1girl").</item>
/// <item>Several pieces: a caption when there is a sentence break inside ("cat. It"), when the first piece reads
/// as prose ("Portrait of an old fisherman, weathered face, …"), or when at least a third of the pieces read as
/// prose; otherwise a tag line. So one long copyright tag such as "the legend of zelda" in the middle of
/// thirty tags does not turn the line into a caption, while "a woman sitting on a bench, park, autumn" and
/// "1girl, solo, a girl standing in the rain" are captions.</item>
/// </list>
/// A caption is kept verbatim, so a misjudged mixed line loses nothing.
/// </summary>
public static partial class KohyaText
{
    private static readonly HashSet<string> ProseWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "an", "the", "is", "are", "was", "were", "this", "these", "those", "there", "it", "its", "it's", "they", "she", "he",
    };

    private static readonly HashSet<string> Articles = new(StringComparer.OrdinalIgnoreCase) { "a", "an", "the" };

    public static KohyaTextKind Classify(string text)
    {
        var normalized = TextFiles.NormalizeText(text);
        var pieces = Pieces(normalized);
        if (pieces.Count == 0)
        {
            return KohyaTextKind.Empty;
        }

        if (pieces.Count == 1)
        {
            var words = Words(pieces[0]);
            return words.Length >= 4 || EndsSentence(pieces[0]) || (words.Length >= 2 && Articles.Contains(words[0]))
                ? KohyaTextKind.Caption
                : KohyaTextKind.Tags;
        }

        if (SentenceBreak().IsMatch(normalized))
        {
            return KohyaTextKind.Caption;
        }

        if (IsProse(pieces[0]))
        {
            return KohyaTextKind.Caption;
        }

        var prose = pieces.Count(IsProse);
        var threshold = Math.Max(1, (int)Math.Ceiling(pieces.Count / 3.0));
        return prose >= threshold ? KohyaTextKind.Caption : KohyaTextKind.Tags;
    }

    /// <summary>
    /// The tags of a tag line, as written (not yet normalised): split at commas and line breaks, trimmed, empty
    /// pieces dropped, kohya's escaped parentheses ("\(" and "\)") unescaped.
    /// </summary>
    public static IReadOnlyList<string> SplitTags(string text) =>
        Pieces(TextFiles.NormalizeText(text))
            .Select(p => p.Replace(@"\(", "(", StringComparison.Ordinal).Replace(@"\)", ")", StringComparison.Ordinal))
            .ToList();

    private static List<string> Pieces(string text) =>
        text.Split([',', '\n'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();

    private static string[] Words(string piece) => piece.Split([' ', '\t', '_'], StringSplitOptions.RemoveEmptyEntries);

    private static bool EndsSentence(string piece) => piece[^1] is '.' or '!' or '?' && Words(piece).Length >= 2;

    private static bool IsProse(string piece)
    {
        var words = Words(piece);
        return words.Length >= 7
            || (words.Length >= 3 && (EndsSentence(piece) || words.Any(w => ProseWords.Contains(w.Trim('.', '!', '?', ';', ':', '"')))));
    }

    // "cat. It", "done! Then": sentence punctuation followed by a capitalised word.
    [GeneratedRegex(@"\p{Ll}[.!?]\s+\p{Lu}\p{Ll}", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceBreak();
}
