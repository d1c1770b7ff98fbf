using System.Text.RegularExpressions;

namespace Trove.Application.Import;

/// <summary>
/// booru/Hydrus-style tag lists ("name.jpg.txt"): one tag per line, or comma-separated when the file is a
/// single line. Hydrus namespaces are understood:
/// <list type="table">
/// <item><term>creator:, artist:</term><description>tag in category artist</description></item>
/// <item><term>series:, copyright:</term><description>tag in category copyright</description></item>
/// <item><term>character:, person:</term><description>tag in category character</description></item>
/// <item><term>meta:</term><description>tag in category meta</description></item>
/// <item><term>general:</term><description>plain tag</description></item>
/// <item><term>rating:</term><description>the rating (and a tag in category rating)</description></item>
/// <item><term>title:</term><description>the title</description></item>
/// <item><term>source:, url:</term><description>a source URL</description></item>
/// <item><term>anything else</term><description>
/// a plain tag "namespace_value" ("page:3" → page_3, "re:zero" → re_zero): keeping the colon could collide with
/// the query language's metatags ("width:…", "date:…"), which TagNames refuses; the underscore form is always
/// valid.</description></item>
/// </list>
/// A line that is itself a URL ("https://…") is a source. A leading colon (":d", ":3") is no namespace.
/// </summary>
internal static partial class TagListFile
{
    public static void Apply(string text, string origin, ImportMetadataBuilder builder)
    {
        var lines = TextFiles.NormalizeText(text).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        IEnumerable<string> tags = lines.Length == 1
            ? lines[0].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : lines;
        foreach (var tag in tags)
        {
            ApplyHydrusTag(tag, origin, builder);
        }
    }

    /// <summary>Interprets one Hydrus tag ("creator:someone", "long hair", "page:3").</summary>
    public static void ApplyHydrusTag(string raw, string origin, ImportMetadataBuilder builder)
    {
        var tag = raw.Trim();
        if (tag.Length == 0)
        {
            return;
        }

        if (LooksLikeUrl().IsMatch(tag))
        {
            builder.AddSource(tag);
            return;
        }

        var match = Namespaced().Match(tag);
        if (!match.Success)
        {
            builder.AddTag(tag, null, origin);
            return;
        }

        var ns = match.Groups[1].Value.Trim().ToLowerInvariant();
        var value = match.Groups[2].Value.Trim();
        switch (ns)
        {
            case "creator" or "artist":
                builder.AddTag(value, "artist", origin);
                break;
            case "series" or "copyright":
                builder.AddTag(value, "copyright", origin);
                break;
            case "character" or "person":
                builder.AddTag(value, "character", origin);
                break;
            case "meta":
                builder.AddTag(value, "meta", origin);
                break;
            case "general":
                builder.AddTag(value, null, origin);
                break;
            case "rating":
                builder.SetRating(value, danbooruLetters: false, origin);
                break;
            case "title":
                builder.SetTitle(value);
                break;
            case "source" or "url":
                builder.AddSource(value);
                break;
            default:
                builder.AddTag($"{ns}_{value}", null, origin);
                break;
        }
    }

    // A namespace is a short word (letters, digits, space, '_', '-') before the first colon.
    [GeneratedRegex(@"^([\p{L}\p{N}][\p{L}\p{N} _\-]{0,31}):(.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex Namespaced();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.\-]*://\S+$", RegexOptions.CultureInvariant)]
    private static partial Regex LooksLikeUrl();
}
