using System.Globalization;
using Trove.Domain;
using Trove.Domain.Similarity;

namespace Trove.Search.Query;

/// <summary>The metatags of the query language and how their values are read.</summary>
public static class Metatags
{
    /// <summary>Every metatag name (a term <c>name:value</c> with one of these is never a tag).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "width", "height", "mpixels", "ratio", "filesize", "date", "taken", "type", "kind", "tagcount", "collection",
        "has", "suggested", "caption", "caption-status", "similar", "id", "uploader", "order",
        "derived", "derivedfrom", "model", "semantic", "like", "min-score", "person", "person-suggested", "faces",
    ];

    /// <summary>File types <c>type:</c> knows, with the spellings people also use.</summary>
    public static IReadOnlyDictionary<string, string> Types { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["jpg"] = "jpg", ["jpeg"] = "jpg", ["png"] = "png", ["gif"] = "gif", ["webp"] = "webp", ["tiff"] = "tiff", ["tif"] = "tiff",
        ["bmp"] = "bmp", ["avif"] = "avif", ["heic"] = "heic", ["heif"] = "heic", ["jxl"] = "jxl",
    };

    public static IReadOnlyList<string> Orders { get; } =
        ["newest", "oldest", "random", "id", "width", "height", "mpixels", "filesize", "tagcount"];

    private static readonly string[] HasValues = ["caption", "crop", "mask", "suggestions", "face", "unknown-face"];

    public static bool IsMetatag(string name) => Names.Contains(name, StringComparer.Ordinal);

    /// <summary>Reads one <c>name:value</c> term (name lowercase, value unquoted) into its node.</summary>
    internal static QueryNode Parse(string name, string value, string text, SourceSpan span)
    {
        if (value.Length == 0 && name != "order")
        {
            throw QueryErrors.Term(text, span, $"'{name}:' needs a value");
        }

        return name switch
        {
            "width" => Range(RangeField.Width, value, text, span, IntValue),
            "height" => Range(RangeField.Height, value, text, span, IntValue),
            "tagcount" => Range(RangeField.TagCount, value, text, span, IntValue),
            "faces" => Range(RangeField.FaceCount, value, text, span, IntValue),
            "person" or "person-suggested" => value.Trim() is { Length: > 0 } person
                ? new PersonTerm(person, name == "person-suggested", span)
                : throw QueryErrors.Term(text, span, $"{name}: needs a name: {name}:\"Ann Smith\""),
            "mpixels" => Range(RangeField.Pixels, value, text, span, MegapixelValue),
            "ratio" => Range(RangeField.Ratio, value, text, span, RatioValue),
            "filesize" => Range(RangeField.FileSize, value, text, span, FileSizeValue),
            "date" => Range(RangeField.Date, value, text, span, DateValue),
            "taken" => Range(RangeField.Taken, value, text, span, DateValue),
            "kind" => new ChoiceTerm(ChoiceField.Kind, Choices(value, text, span, v => MediaKinds.IsKnown(v) ? v : null, "kind: takes image or mask", [MediaKinds.Image, MediaKinds.Mask]), span),
            "type" => new ChoiceTerm(ChoiceField.Type, Choices(value, text, span, v => Types.TryGetValue(v, out var t) ? t : null, "type: takes a file type such as png, jpg, webp, gif", Types.Keys), span),
            "uploader" => new ChoiceTerm(ChoiceField.Uploader, [value.Trim().ToLowerInvariant()], span),
            "collection" => new ChoiceTerm(ChoiceField.Collection, [value.Trim()], span),
            "caption-status" => new ChoiceTerm(ChoiceField.CaptionStatus, Choices(value, text, span, v => CaptionStatus.All.Contains(v, StringComparer.Ordinal) ? v : null, "caption-status: takes pending, approved or rejected", CaptionStatus.All), span),
            "has" => Has(value, text, span),
            "suggested" => Suggested(value, text, span),
            "caption" => Caption(value, text, span),
            "similar" => Similar(value, text, span),
            "id" => IdPrefix(value, text, span),
            "derived" => value.ToLowerInvariant() switch
            {
                "yes" or "true" => new HasTerm(HasWhat.Derived, span),
                "no" or "false" => new NotNode(new HasTerm(HasWhat.Derived, span), span),
                _ => throw QueryErrors.Term(text, span, "derived: takes yes or no"),
            },
            "derivedfrom" => value.ToLowerInvariant() is var prefix && prefix.Length is >= 6 and <= 64 && MediaId.IsLowerHex(prefix)
                ? new DerivedFromTerm(prefix, span)
                : throw QueryErrors.Term(text, span, "derivedfrom: takes a media id or its first 6 or more hexadecimal characters"),
            "model" => new ChoiceTerm(ChoiceField.DerivedModel, [value.Trim().ToLowerInvariant()], span),
            "order" => new OrderTerm(Order(value, text, span), span),
            "semantic" => value.Trim() is { Length: > 0 } sentence
                ? new RankingTerm(RankingKind.Text, sentence, span)
                : throw QueryErrors.Term(text, span, "semantic: needs words: semantic:\"a dog on a beach\""),
            "like" => value.ToLowerInvariant() is var like && like.Length is >= MediaId.MinPrefixLength and <= 64 && MediaId.IsLowerHex(like)
                ? new RankingTerm(RankingKind.Media, like, span)
                : throw QueryErrors.Term(text, span, $"like: takes a media id or a unique prefix of at least {MediaId.MinPrefixLength} hex characters"),
            "min-score" => float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var min) && min is >= -1 and <= 1
                ? new MinScoreTerm(min, span)
                : throw QueryErrors.Term(text, span, "min-score: takes a similarity between -1 and 1, e.g. min-score:0.25"),
            _ => throw QueryErrors.UnknownMetatag(name, span),
        };
    }

    internal static OrderSpec Order(string value, string text, SourceSpan span)
    {
        var v = value.ToLowerInvariant();
        ulong? seed = null;
        if (v.StartsWith("random:", StringComparison.Ordinal))
        {
            if (!ulong.TryParse(v["random:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var s))
            {
                throw QueryErrors.Term(text, span, "order:random:SEED takes a whole number as the seed");
            }

            seed = s;
            v = "random";
        }

        var direction = (bool?)null;
        if (v.EndsWith("_asc", StringComparison.Ordinal))
        {
            direction = false;
            v = v[..^4];
        }
        else if (v.EndsWith("_desc", StringComparison.Ordinal))
        {
            direction = true;
            v = v[..^5];
        }

        OrderSpec? spec = v switch
        {
            "" or "newest" => new OrderSpec(SortField.Created, direction ?? true),
            "oldest" => new OrderSpec(SortField.Created, direction ?? false),
            "random" when direction is null => new OrderSpec(SortField.Random, false, seed),
            "id" => new OrderSpec(SortField.Id, direction ?? false),
            "width" => new OrderSpec(SortField.Width, direction ?? true),
            "height" => new OrderSpec(SortField.Height, direction ?? true),
            "mpixels" => new OrderSpec(SortField.Pixels, direction ?? true),
            "filesize" => new OrderSpec(SortField.FileSize, direction ?? true),
            "tagcount" => new OrderSpec(SortField.TagCount, direction ?? true),
            _ => null,
        };

        if (spec is null)
        {
            var guess = EditDistance.Closest(v, Orders);
            throw QueryErrors.Term(text, span, $"order: takes {string.Join(", ", Orders)} (add _asc or _desc to flip)" + (guess is null ? string.Empty : $" — did you mean '{guess}'?"));
        }

        return spec;
    }

    private static HasTerm Has(string value, string text, SourceSpan span)
    {
        var v = value.ToLowerInvariant();
        HasWhat? what = v switch
        {
            "caption" or "captions" => HasWhat.Caption,
            "crop" or "crops" => HasWhat.Crop,
            "mask" or "masks" => HasWhat.Mask,
            "suggestion" or "suggestions" => HasWhat.Suggestions,
            "face" or "faces" => HasWhat.Face,
            "unknown-face" or "unknown-faces" => HasWhat.UnknownFace,
            _ => null,
        };
        if (what is null)
        {
            var guess = EditDistance.Closest(v, HasValues);
            throw QueryErrors.Term(text, span, "has: takes caption, crop, mask, suggestions, face or unknown-face" + (guess is null ? string.Empty : $" — did you mean '{guess}'?"));
        }

        return new HasTerm(what.Value, span);
    }

    private static SuggestedTerm Suggested(string value, string text, SourceSpan span)
    {
        if (value.Contains('*', StringComparison.Ordinal))
        {
            return new SuggestedTerm(WildcardPattern(value), span);
        }

        return TagNames.TryNormalize(value, out var tag, out var error)
            ? new SuggestedTerm(tag, span)
            : throw QueryErrors.Term(text, span, error.TrimEnd('.'));
    }

    private static CaptionTerm Caption(string value, string text, SourceSpan span)
    {
        var prefix = value.EndsWith('*');
        var words = CaptionTokenizer.Words(prefix ? value[..^1] : value);
        if (words.Count == 0)
        {
            throw QueryErrors.Term(text, span, "caption: needs at least one word (letters or digits)");
        }

        if (value.AsSpan(0, value.Length - (prefix ? 1 : 0)).Contains('*'))
        {
            throw QueryErrors.Term(text, span, "caption: allows '*' only at the end, for a prefix (caption:sun*)");
        }

        return new CaptionTerm(words, prefix, span);
    }

    private static SimilarTerm Similar(string value, string text, SourceSpan span)
    {
        var v = value.ToLowerInvariant();
        return v.Length >= MediaId.MinPrefixLength && MediaId.IsLowerHex(v)
            ? new SimilarTerm(v, NearDuplicateCriteria.DefaultMaxDistance, span)
            : throw QueryErrors.Term(text, span, $"similar: takes a media id or a unique prefix of at least {MediaId.MinPrefixLength} hex characters");
    }

    private static IdPrefixTerm IdPrefix(string value, string text, SourceSpan span)
    {
        var v = value.ToLowerInvariant();
        return v.Length is > 0 and <= 64 && MediaId.IsLowerHex(v)
            ? new IdPrefixTerm(v, span)
            : throw QueryErrors.Term(text, span, "id: takes hexadecimal characters (the start of a media id)");
    }

    internal static string WildcardPattern(string raw)
    {
        var lowered = raw.Trim().ToLowerInvariant().Replace(' ', '_');
        while (lowered.Contains("**", StringComparison.Ordinal))
        {
            lowered = lowered.Replace("**", "*", StringComparison.Ordinal);
        }

        return lowered;
    }

    private static string[] Choices(string value, string text, SourceSpan span, Func<string, string?> map, string help, IEnumerable<string> known)
    {
        var result = new List<string>();
        foreach (var part in value.Split([',', '|'], StringSplitOptions.TrimEntries))
        {
            var v = part.ToLowerInvariant();
            var mapped = v.Length == 0 ? null : map(v);
            if (mapped is null)
            {
                var guess = EditDistance.Closest(v, known);
                throw QueryErrors.Term(text, span, help + (guess is null ? string.Empty : $" — did you mean '{guess}'?"));
            }

            if (!result.Contains(mapped))
            {
                result.Add(mapped);
            }
        }

        return [.. result];
    }

    /// <summary>
    /// One value of a range metatag. <see cref="Lo"/>..<see cref="Hi"/> is what the value stands for when compared
    /// (a day is its whole day, a number is itself); <see cref="ExactLo"/>..<see cref="ExactHi"/> is what it matches
    /// on its own (filesize:2mb matches ±5%, mpixels:2 matches what rounds to 2.0).
    /// </summary>
    private readonly record struct Point(long Lo, long Hi, long ExactLo, long ExactHi)
    {
        public static Point Of(long v) => new(v, v, v, v);
    }

    private delegate Point? PointParser(string value);

    private static RangeTerm Range(RangeField field, string value, string text, SourceSpan span, PointParser parse)
    {
        var name = text.Substring(span.Start, span.Length).TrimStart('-', '(').Split(':')[0].ToLowerInvariant();
        var help = field switch
        {
            RangeField.Width or RangeField.Height or RangeField.TagCount => $"{name}: takes a whole number or a range: {name}:1024, {name}:>=1000, {name}:800..1200",
            RangeField.Pixels => "mpixels: takes megapixels: mpixels:2, mpixels:>=1.5, mpixels:1..4",
            RangeField.Ratio => "ratio: takes width:height or a decimal: ratio:16:9, ratio:>1, ratio:1.3..1.8",
            RangeField.FileSize => "filesize: takes a size with b, kb, mb or gb: filesize:>2mb, filesize:100kb..1mb",
            _ => $"{name}: takes a date YYYY, YYYY-MM or YYYY-MM-DD (UTC) or a range: {name}:2025-01-01..2025-06-30, {name}:>=2024",
        };

        LongRange range;
        var dots = value.IndexOf("..", StringComparison.Ordinal);
        if (dots >= 0)
        {
            var left = value[..dots];
            var right = value[(dots + 2)..];
            if (left.Length == 0 && right.Length == 0)
            {
                throw QueryErrors.Term(text, span, help);
            }

            var lo = left.Length == 0 ? long.MinValue : (parse(left) ?? throw QueryErrors.Term(text, span, help)).Lo;
            var hi = right.Length == 0 ? long.MaxValue : (parse(right) ?? throw QueryErrors.Term(text, span, help)).Hi;
            range = new LongRange(lo, hi);
        }
        else if (value.StartsWith(">=", StringComparison.Ordinal))
        {
            range = new LongRange(Required(value[2..]).Lo, long.MaxValue);
        }
        else if (value.StartsWith("<=", StringComparison.Ordinal))
        {
            range = new LongRange(long.MinValue, Required(value[2..]).Hi);
        }
        else if (value.StartsWith('>'))
        {
            range = new LongRange(Saturate(Required(value[1..]).Hi, 1), long.MaxValue);
        }
        else if (value.StartsWith('<'))
        {
            range = new LongRange(long.MinValue, Saturate(Required(value[1..]).Lo, -1));
        }
        else
        {
            var p = Required(value);
            range = new LongRange(p.ExactLo, p.ExactHi);
        }

        if (range.IsEmpty)
        {
            throw QueryErrors.Term(text, span, "the range is empty (its lower end is above its upper end)");
        }

        return new RangeTerm(field, range, span);

        Point Required(string v) => (v.Length == 0 ? null : parse(v)) ?? throw QueryErrors.Term(text, span, help);
    }

    private static long Saturate(long v, long delta) =>
        (delta > 0 && v == long.MaxValue) || (delta < 0 && v == long.MinValue) ? v : v + delta;

    private static Point? IntValue(string v) =>
        long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? Point.Of(n) : null;

    private static Point? MegapixelValue(string v)
    {
        if (!decimal.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var mp) || mp > 1_000_000)
        {
            return null;
        }

        var pixels = (long)Math.Round(mp * 1_000_000m);
        var decimals = Math.Max(1, v.Contains('.', StringComparison.Ordinal) ? v.Length - v.IndexOf('.', StringComparison.Ordinal) - 1 : 0);
        var half = 1_000_000m / (2 * Pow10(decimals));
        return new Point(pixels, pixels, (long)Math.Ceiling((mp * 1_000_000m) - half), (long)Math.Ceiling((mp * 1_000_000m) + half) - 1);
    }

    private static decimal Pow10(int n)
    {
        var r = 1m;
        for (var i = 0; i < n; i++)
        {
            r *= 10;
        }

        return r;
    }

    /// <summary>Ratios are width/height rounded to two decimals and compared ×100: 16:9 is 178.</summary>
    private static Point? RatioValue(string v)
    {
        decimal ratio;
        var colon = v.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
        {
            if (!decimal.TryParse(v[..colon], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var w)
                || !decimal.TryParse(v[(colon + 1)..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var h)
                || w <= 0 || h <= 0 || w > 1_000_000 || h > 1_000_000)
            {
                return null;
            }

            ratio = w / h;
            if (ratio > 1_000_000)
            {
                return null;
            }
        }
        else if (!decimal.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out ratio) || ratio < 0 || ratio > 1_000_000)
        {
            return null;
        }

        return Point.Of(RatioHundredths(ratio));
    }

    /// <summary>The ratio column's value for an image: width/height × 100, rounded half away from zero.</summary>
    public static long RatioHundredths(decimal ratio) => (long)Math.Round(ratio * 100, MidpointRounding.AwayFromZero);

    private static Point? FileSizeValue(string v)
    {
        var lower = v.ToLowerInvariant();
        var unitStart = lower.Length;
        while (unitStart > 0 && char.IsAsciiLetter(lower[unitStart - 1]))
        {
            unitStart--;
        }

        var unit = lower[unitStart..];
        long multiplier = unit switch
        {
            "" or "b" => 1,
            "k" or "kb" or "kib" => 1024,
            "m" or "mb" or "mib" => 1024 * 1024,
            "g" or "gb" or "gib" => 1024L * 1024 * 1024,
            _ => 0,
        };
        if (multiplier == 0 || !decimal.TryParse(lower[..unitStart], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || n * multiplier > long.MaxValue / 2)
        {
            return null;
        }

        var bytes = (long)Math.Round(n * multiplier);
        if (unit is "" or "b")
        {
            return Point.Of(bytes);
        }

        // A size with a unit is never exact to the byte: on its own it matches within 5% either way.
        var slack = (long)Math.Round(n * multiplier * 0.05m);
        return new Point(bytes, bytes, bytes - slack, bytes + slack);
    }

    private static Point? DateValue(string v)
    {
        string[] formats = ["yyyy", "yyyy-MM", "yyyy-MM-dd"];
        for (var i = 0; i < formats.Length; i++)
        {
            if (DateTime.TryParseExact(v, formats[i], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var start))
            {
                if (start.Year >= 9999)
                {
                    return null; // the period's end would be past the last representable instant
                }

                var end = i switch
                {
                    0 => start.AddYears(1),
                    1 => start.AddMonths(1),
                    _ => start.AddDays(1),
                };
                var lo = new DateTimeOffset(start, TimeSpan.Zero).ToUnixTimeMilliseconds();
                var hi = new DateTimeOffset(end, TimeSpan.Zero).ToUnixTimeMilliseconds() - 1;
                return new Point(lo, hi, lo, hi);
            }
        }

        return null;
    }
}

/// <summary><c>order:…</c> while parsing; lifted out of the tree into <see cref="ParsedQuery.Order"/>.</summary>
internal sealed record OrderTerm(OrderSpec Order, SourceSpan Span) : QueryNode(Span);

/// <summary><c>min-score:0.25</c> while parsing; lifted into <see cref="ParsedQuery.MinScore"/>.</summary>
internal sealed record MinScoreTerm(float Value, SourceSpan Span) : QueryNode(Span);
