using System.Globalization;
using System.Text;
using Trove.Search.Engine;

namespace Trove.Search.Tests;

/// <summary>Seeded random libraries and random query texts for the property tests.</summary>
internal sealed class Generators(Random rng)
{
    public static readonly string[] TagVocabulary =
    [
        "cat", "dog", "outdoor", "indoor", "long_hair", "short_hair", "blue_eyes", "red_eyes", "smile", "1girl",
        "2girls", "solo", "sky", "cloud", "tree", "flower", "water", "night", "day", "city",
        "car", "food", "portrait", "landscape", "sunset", "beach", "snow", "rain", "building", "animal",
        "saber_(fate)", "rin_(fate)", "mercy_(overwatch)", "hat", "glasses", "re:zero", "steins;gate", "black_hair", "white_background", "monochrome",
    ];

    /// <summary>Tags on very few media: an AND starting with one tests the other terms per document.</summary>
    public static readonly string[] RareTags = ["rare_a", "rare_b", "rare_c", "rare_d", "rare_e", "rare_(f)"];

    /// <summary>alias → canonical ("kitten" → "kitty" checks that aliases resolve one step, like the engine).</summary>
    public static readonly (string Alias, string Canonical)[] Aliases =
    [
        ("kitty", "cat"), ("puppy", "dog"), ("shades", "glasses"), ("ghost", "no_such_tag"), ("kitten", "kitty"), ("fate_saber", "saber_(fate)"),
    ];

    public static readonly (string Id, string Name)[] CollectionCatalog =
    [
        ("c1", "My Pets"), ("c2", "Red things"), ("c3", "work"), ("c4", "Work stuff"), ("c5", "c1"),
    ];

    /// <summary>Collection ids on documents ("c9" is not in the catalog).</summary>
    private static readonly string[] CollectionIds = ["c1", "c2", "c3", "c4", "c5", "c9"];

    private static readonly string[] Types = ["jpg", "jpeg", "JPG", "png", "PNG", ".webp", "gif", "tif", "tiff", "heic", "heif", "bmp", "jxl", "avif", "xyz", ""];

    private static readonly string[] Uploaders = ["ann", "Ann", "bob", "Carol", "dave", "Zoë"];

    private static readonly string[] CaptionWords =
    [
        "a", "red", "car", "blue", "sky", "the", "cat", "sat", "on", "mat", "sun", "sunset", "sunny", "Café", "cafe", "au", "lait",
        "don't", "big", "small", "house", "RED", "über", "naïve", "x2", "2024",
    ];

    private static readonly string[] Punctuation = [" ", " ", " ", ", ", ". ", " - ", "! ", "; "];

    private static readonly long Start2023 = new DateTimeOffset(2023, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly long End2026 = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>Hash "clusters": documents near the same centre are near-duplicates.</summary>
    private readonly ulong[] _pCentres = [.. Enumerable.Range(0, 6).Select(_ => RandomInformative(rng)), 0UL, 0xFFUL];
    private readonly ulong[] _dCentres = [.. Enumerable.Range(0, 8).Select(_ => (ulong)rng.NextInt64())];

    private bool _topLevelOr;

    public Random Rng => rng;

    public static NaiveLibrary NewLibrary(SearchIndex index)
    {
        var lib = new NaiveLibrary();
        foreach (var (alias, canonical) in Aliases)
        {
            lib.Aliases[alias] = canonical;
        }

        lib.Collections.AddRange(CollectionCatalog);
        index.SetAliases(lib.Aliases);
        index.SetCollections(lib.Collections);
        return lib;
    }

    public static string RandomId(Random rng)
    {
        var bytes = new byte[32];
        rng.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    private static ulong RandomInformative(Random rng)
    {
        while (true)
        {
            var v = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
            if (ulong.PopCount(v) is > 12 and < 52)
            {
                return v;
            }
        }
    }

    /// <summary>A Zipf-ish pick: rank r with weight 1/(r+1).</summary>
    public string ZipfTag()
    {
        var total = 0.0;
        for (var i = 0; i < TagVocabulary.Length; i++)
        {
            total += 1.0 / (i + 1);
        }

        var x = rng.NextDouble() * total;
        for (var i = 0; i < TagVocabulary.Length; i++)
        {
            x -= 1.0 / (i + 1);
            if (x <= 0)
            {
                return TagVocabulary[i];
            }
        }

        return TagVocabulary[^1];
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    private bool Chance(double p) => rng.NextDouble() < p;

    /// <summary>A random document; <paramref name="existing"/> supplies mask sources and ids for duplicates.</summary>
    public SearchDocument Document(int key, IReadOnlyList<SearchDocument> existing, string? id = null)
    {
        var kind = Chance(0.1) ? "mask" : "image";
        string? maskSource = null;
        if (kind == "mask")
        {
            var images = existing.Count == 0 ? null : existing[rng.Next(existing.Count)];
            maskSource = images is not null && Chance(0.85) ? images.Id : RandomId(rng);
        }

        int? width = Chance(0.08) ? null : Dimension();
        int? height = Chance(0.08) ? null : Dimension();
        if (width is not null && height is not null && Chance(0.2))
        {
            (width, height) = Pick(new (int, int)[] { (1920, 1080), (1080, 1920), (4000, 3000), (1000, 1000), (1024, 768), (1600, 1200), (3, 2), (16, 9) });
        }

        var created = Chance(0.05)
            ? Pick(new[] { "2025-01-01T00:00:00.000", "2024-12-31T23:59:59.999", "2025-02-01T00:00:00.000", "2024-02-29T12:00:00.000", "2025-06-30T23:59:59.999" })
                .Let(s => DateTimeOffset.Parse(s + "Z", CultureInfo.InvariantCulture).ToUnixTimeMilliseconds())
            : Start2023 + rng.NextInt64(End2026 - Start2023);
        long? taken = Chance(0.4)
            ? new DateTimeOffset(2015, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() + rng.NextInt64(12L * 365 * 24 * 3600 * 1000)
            : null;

        var tags = new HashSet<string>(StringComparer.Ordinal);
        var tagCount = Chance(0.08) ? 0 : rng.Next(1, 9);
        while (tags.Count < tagCount)
        {
            tags.Add(ZipfTag());
        }

        if (Chance(0.004))
        {
            tags.Add(Pick(RareTags));
        }

        var captions = new List<string>();
        var captionCount = Chance(0.45) ? 0 : rng.Next(1, 3);
        for (var i = 0; i < captionCount; i++)
        {
            captions.Add(Chance(0.05) ? Pick(new[] { "", "   ", "!!!" }) : Caption());
        }

        ulong? pHash = null;
        ulong? dHash = null;
        if (kind == "image" || Chance(0.3))
        {
            if (Chance(0.75))
            {
                var cluster = rng.Next(_pCentres.Length);
                pHash = Flip(_pCentres[cluster], rng.Next(0, 12));
                dHash = Flip(_dCentres[cluster], rng.Next(0, 26));
            }
            else if (Chance(0.2))
            {
                pHash = RandomInformative(rng); // a pHash without a dHash: not hashed
            }
        }

        return new SearchDocument
        {
            Key = key,
            Id = id ?? RandomId(rng),
            InTrash = Chance(0.07),
            Kind = kind,
            Type = Pick(Types),
            Size = Chance(0.1) ? Pick(new long[] { 0, 1024, 2 * 1024 * 1024, 1024 * 1024 * 1024, 100 * 1024 }) : (long)Math.Exp(rng.NextDouble() * 17.5),
            Width = width,
            Height = height,
            CreatedAt = created,
            TakenAt = taken,
            Uploader = Chance(0.2) ? null : Pick(Uploaders),
            MaskSource = maskSource,
            PHash = pHash,
            DHash = dHash,
            Tags = [.. tags],
            Captions = captions,
            Collections = [.. Enumerable.Range(0, Chance(0.6) ? 0 : rng.Next(1, 3)).Select(_ => Pick(CollectionIds)).Distinct()],
            CropCount = Chance(0.8) ? 0 : rng.Next(1, 4),
            PendingSuggestions = [.. Enumerable.Range(0, Chance(0.7) ? 0 : rng.Next(1, 3)).Select(_ => ZipfTag()).Distinct()],
        };
    }

    private ulong Flip(ulong value, int bits)
    {
        for (var i = 0; i < bits; i++)
        {
            value ^= 1UL << rng.Next(64);
        }

        return value;
    }

    private int Dimension() => rng.Next(4) switch
    {
        0 => rng.Next(1, 500),
        1 => rng.Next(500, 2000),
        2 => Pick(new[] { 1024, 1080, 1920, 2048, 3000, 4000, 800, 600 }),
        _ => rng.Next(2000, 9000),
    };

    private string Caption()
    {
        var sb = new StringBuilder();
        var n = rng.Next(1, 9);
        for (var i = 0; i < n; i++)
        {
            if (i > 0)
            {
                sb.Append(Pick(Punctuation));
            }

            sb.Append(Pick(CaptionWords));
        }

        return sb.ToString();
    }

    /// <summary>Builds a library of <paramref name="count"/> documents in both the engine and the naive model.</summary>
    public void Fill(SearchIndex index, NaiveLibrary lib, int count)
    {
        var docs = new List<SearchDocument>(count);
        var key = 0;
        for (var i = 0; i < count; i++)
        {
            key += Chance(0.03) ? rng.Next(2, 5) : 1; // a few gaps in the keys
            var id = docs.Count > 0 && Chance(0.003)
                ? docs[rng.Next(docs.Count)].Id[..16] + RandomId(rng)[16..] // same first id word as another document
                : null;
            var doc = Document(key, docs, id);
            docs.Add(doc);
            index.Upsert(doc);
            lib.Upsert(doc);
        }
    }

    /// <summary>One random mutation, applied to both; returns a description.</summary>
    public string Mutate(SearchIndex index, NaiveLibrary lib)
    {
        var docs = lib.Docs.Values.ToList();
        var maxKey = docs.Count == 0 ? 0 : lib.Docs.Keys.Max();
        var existing = docs.Count == 0 ? null : docs[rng.Next(docs.Count)];
        var r = rng.Next(100);
        if (existing is null || r < 25)
        {
            var key = existing is not null && Chance(0.3) ? FreeKeyBelow(lib, maxKey) : maxKey + rng.Next(1, 3);
            var doc = Document(key, docs);
            index.Upsert(doc);
            lib.Upsert(doc);
            return $"insert {key}";
        }

        if (r < 55)
        {
            var doc = Document(existing.Key, docs, Chance(0.5) ? existing.Id : null);
            index.Upsert(doc);
            lib.Upsert(doc);
            return $"replace {existing.Key}";
        }

        if (r < 70)
        {
            index.Remove(existing.Key);
            lib.Remove(existing.Key);
            return $"remove {existing.Key}";
        }

        var toggled = Copy(existing, inTrash: !existing.InTrash);
        index.Upsert(toggled);
        lib.Upsert(toggled);
        return $"{(toggled.InTrash ? "trash" : "untrash")} {existing.Key}";
    }

    private int FreeKeyBelow(NaiveLibrary lib, int maxKey)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var k = rng.Next(0, maxKey + 1);
            if (!lib.Docs.ContainsKey(k))
            {
                return k;
            }
        }

        return maxKey + 1;
    }

    public static SearchDocument Copy(SearchDocument d, bool? inTrash = null, long? createdAt = null, IReadOnlyList<string>? tags = null) => new()
    {
        Key = d.Key,
        Id = d.Id,
        InTrash = inTrash ?? d.InTrash,
        Kind = d.Kind,
        Type = d.Type,
        Size = d.Size,
        Width = d.Width,
        Height = d.Height,
        CreatedAt = createdAt ?? d.CreatedAt,
        TakenAt = d.TakenAt,
        Uploader = d.Uploader,
        MaskSource = d.MaskSource,
        PHash = d.PHash,
        DHash = d.DHash,
        Tags = tags ?? d.Tags,
        Captions = d.Captions,
        Collections = d.Collections,
        CropCount = d.CropCount,
        PendingSuggestions = d.PendingSuggestions,
    };

    // ---------------------------------------------------------------- queries

    /// <summary>A random query text over the library (a tree of terms, maybe an order:).</summary>
    public string Query(NaiveLibrary lib)
    {
        var docs = lib.Docs.Values.ToList();
        _topLevelOr = false;
        var text = rng.Next(20) == 0 ? string.Empty : Expr(0, docs);
        if (Chance(0.45))
        {
            // order: belongs to the top-level AND: a top-level 'or' goes in parentheses first.
            if (_topLevelOr)
            {
                text = "(" + text + ")";
            }

            var order = Order();
            text = text.Length == 0 ? order : Chance(0.5) ? text + " " + order : order + " " + text;
        }

        return text;
    }

    private string Expr(int depth, List<SearchDocument> docs)
    {
        var groups = Chance(0.3) ? rng.Next(2, 4) : 1;
        if (depth == 0)
        {
            _topLevelOr = groups > 1;
        }

        var parts = new List<string>();
        for (var g = 0; g < groups; g++)
        {
            parts.Add(AndGroup(depth, docs));
        }

        return string.Join(Pick(new[] { " or ", " OR ", " Or " }), parts);
    }

    private string AndGroup(int depth, List<SearchDocument> docs)
    {
        var n = rng.Next(1, depth == 0 ? 4 : 3);
        var items = new List<string>();
        for (var i = 0; i < n; i++)
        {
            var r = rng.NextDouble();
            items.Add(r switch
            {
                < 0.55 => Term(docs),
                < 0.72 => "-" + Term(docs),
                < 0.88 when depth < 3 => "(" + Expr(depth + 1, docs) + ")",
                _ when depth < 3 => "-(" + Expr(depth + 1, docs) + ")",
                _ => Term(docs),
            });
        }

        return string.Join(" ", items);
    }

    public string Term(List<SearchDocument> docs)
    {
        var r = rng.Next(100);
        return r switch
        {
            < 28 => Tag(),
            < 35 => Wildcard(),
            < 43 => IntRange(Pick(new[] { "width", "height", "tagcount", "Width" })),
            < 47 => "mpixels:" + RangeOf("mpixels", () => Pick(new[] { "0.5", "1", "2", "2.1", "2.25", "8", "12", "0.1", "3.6" })),
            < 51 => "ratio:" + RangeOf("ratio", () => Pick(new[] { "16:9", "4:3", "1", "1:1", "1.5", "3:2", "9:16", "0.75", "2", "1.78" })),
            < 55 => "filesize:" + RangeOf("filesize", () => Pick(new[] { "100", "1kb", "100kb", "500KB", "1mb", "2mb", "1.5mb", "10mb", "1gb", "0", "1024b", "20k" })),
            < 61 => Pick(new[] { "date", "taken" }).Let(name => name + ":" + RangeOf(name, Date)),
            < 65 => "type:" + string.Join(Pick(new[] { ",", "|" }), Enumerable.Range(0, rng.Next(1, 3)).Select(_ => Pick(new[] { "jpg", "jpeg", "png", "webp", "gif", "tif", "tiff", "heic", "heif", "bmp", "avif", "jxl", "PNG" }))),
            < 67 => "kind:" + Pick(new[] { "image", "mask", "image,mask", "MASK" }),
            < 70 => "uploader:" + Pick(new[] { "ann", "ANN", "bob", "carol", "dave", "zoë", "nobody", "\"Ann\"" }),
            < 73 => "collection:" + Pick(new[] { "\"My Pets\"", "\"my pets\"", "\"Red things\"", "work", "WORK", "\"Work stuff\"", "c1", "c2", "c9", "nothing", "c5" }),
            < 77 => "has:" + Pick(new[] { "caption", "captions", "crop", "crops", "mask", "masks", "suggestion", "suggestions" }),
            < 80 => "suggested:" + (Chance(0.3) ? Wildcard() : Chance(0.2) ? Pick(Aliases).Alias : ZipfTag()),
            < 89 => CaptionTerm(docs),
            < 91 => Similar(docs),
            _ => Id(docs),
        };
    }

    private string Tag()
    {
        var r = rng.Next(100);
        var tag = r switch
        {
            < 62 => ZipfTag(),
            < 72 => Pick(RareTags),
            < 82 => Pick(Aliases).Alias,
            < 88 => "no_such_tag",
            _ => Pick(new[] { "saber_(fate)", "rin_(fate)", "mercy_(overwatch)", "steins;gate", "re:zero", "Re:Zero" }),
        };
        if (Chance(0.1))
        {
            tag = tag.ToUpperInvariant();
        }

        if (Chance(0.05) && !tag.Contains('"', StringComparison.Ordinal) && !tag.Contains(':', StringComparison.Ordinal))
        {
            tag = "\"" + tag.Replace('_', ' ') + "\"";
        }

        return tag;
    }

    private string Wildcard()
    {
        // Cut pieces of tags without parentheses (a cut 'saber_(fa' would be unbalanced); the list has some with them.
        var tag = Pick(TagVocabulary.Where(t => !t.Contains('(', StringComparison.Ordinal)).ToList()).Replace(":", string.Empty, StringComparison.Ordinal);
        var cut = rng.Next(1, Math.Max(2, tag.Length));
        return rng.Next(6) switch
        {
            0 => tag[..cut] + "*",
            1 => "*" + tag[cut..],
            2 => "*" + tag[Math.Min(cut, tag.Length - 1)..Math.Min(tag.Length, cut + 2)] + "*",
            3 => tag[..cut] + "*" + tag[Math.Min(tag.Length, cut + 1)..],
            4 => Pick(new[] { "*", "*_hair", "*_(fate)", "*e*", "s*", "*_*_*", "saber_(*)" }),
            _ => tag[..cut].ToUpperInvariant() + "**",
        };
    }

    private string IntRange(string name)
    {
        string Number() => name.StartsWith("tag", StringComparison.Ordinal)
            ? rng.Next(0, 10).ToString(CultureInfo.InvariantCulture)
            : Pick(new[] { 0, 100, 499, 500, 600, 1000, 1024, 1080, 1920, 2000, 3000, 4000, 8000, rng.Next(1, 9000) }).ToString(CultureInfo.InvariantCulture);
        return name + ":" + RangeOf(name, Number);
    }

    /// <summary>One of: v, &gt;v, &gt;=v, &lt;v, &lt;=v, a..b, a.., ..b.</summary>
    private string RangeOf(string name, Func<string> value)
    {
        switch (rng.Next(8))
        {
            case 0: return value();
            case 1: return ">" + value();
            case 2: return ">=" + value();
            case 3: return "<" + value();
            case 4: return "<=" + value();
            case 5: return value() + "..";
            case 6: return ".." + value();
            default:
                // a..b with a <= b: draw until ordered (the parser rejects empty ranges).
                for (var attempt = 0; attempt < 20; attempt++)
                {
                    var a = value();
                    var b = value();
                    if (IsRange(name, a, b))
                    {
                        return a + ".." + b;
                    }
                }

                return value();
        }
    }

    /// <summary>Whether name:a..b is a non-empty range (asks the parser, which rejects empty ones).</summary>
    private static bool IsRange(string name, string a, string b)
    {
        try
        {
            Trove.Search.Query.QueryParser.Parse(name + ":" + a + ".." + b);
            return true;
        }
        catch (Trove.Domain.TroveException)
        {
            return false;
        }
    }

    private string Date() => rng.Next(4) switch
    {
        0 => rng.Next(2014, 2028).ToString(CultureInfo.InvariantCulture),
        1 => $"{rng.Next(2022, 2028)}-{rng.Next(1, 13):00}",
        2 => $"{rng.Next(2022, 2028)}-{rng.Next(1, 13):00}-{rng.Next(1, 29):00}",
        _ => Pick(new[] { "2025-01-01", "2024-12-31", "2025-01", "2024-02-29", "2024-02", "2025", "2025-06-30" }),
    };

    private string CaptionTerm(List<SearchDocument> docs)
    {
        // Often a word run taken from a real caption, so that phrases hit.
        var withCaption = docs.Count == 0 ? null : docs[rng.Next(docs.Count)];
        var words = withCaption?.Captions.SelectMany(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList() ?? [];
        if (words.Count > 0 && Chance(0.6))
        {
            var start = rng.Next(words.Count);
            var len = Math.Min(words.Count - start, rng.Next(1, 4));
            var phrase = string.Join(' ', words.Skip(start).Take(len)).Replace("\"", string.Empty, StringComparison.Ordinal);
            if (Chance(0.3) && phrase.Length > 2)
            {
                phrase = phrase[..^1] + "*";
            }

            if (phrase.TrimEnd('*').Any(char.IsLetterOrDigit) && phrase.Count(c => c == '*') <= 1 && (phrase.IndexOf('*', StringComparison.Ordinal) is -1 || phrase.EndsWith('*')))
            {
                return len > 1 || phrase.Contains(' ', StringComparison.Ordinal) ? $"caption:\"{phrase}\"" : $"caption:{phrase}";
            }
        }

        return "caption:" + Pick(new[] { "red", "sun*", "s*", "\"red car\"", "\"the cat\"", "cafe", "CAFÉ", "\"cafe au*\"", "uber", "naive", "dont", "don't", "x2", "2024", "nothing", "\"sky blue\"", "ca*", "\"a red\"" });
    }

    private string Similar(List<SearchDocument> docs)
    {
        if (docs.Count == 0)
        {
            return "similar:abcdef";
        }

        var hashed = docs.Where(d => d.PHash is not null && d.DHash is not null).ToList();
        var target = hashed.Count > 0 && Chance(0.9) ? hashed[rng.Next(hashed.Count)] : docs[rng.Next(docs.Count)];
        var length = Chance(0.8) ? rng.Next(10, 65) : rng.Next(6, 10);
        return "similar:" + (Chance(0.2) ? target.Id[..length].ToUpperInvariant() : target.Id[..length]);
    }

    private string Id(List<SearchDocument> docs)
    {
        var id = docs.Count == 0 || Chance(0.1) ? RandomId(rng) : docs[rng.Next(docs.Count)].Id;
        return "id:" + id[..rng.Next(1, Chance(0.1) ? 65 : 5)];
    }

    public string Order() => rng.Next(16) switch
    {
        0 => "order:newest",
        1 => "order:oldest",
        2 => "order:id",
        3 => "order:id_desc",
        4 => "order:width",
        5 => "order:width_asc",
        6 => "order:height",
        7 => "order:height_asc",
        8 => "order:mpixels",
        9 => "order:mpixels_asc",
        10 => "order:filesize",
        11 => "order:filesize_asc",
        12 => "order:tagcount",
        13 => "order:tagcount_asc",
        14 => "order:random:" + rng.Next(0, 1000).ToString(CultureInfo.InvariantCulture),
        _ => Pick(new[] { "order:random", "order:newest_asc", "order:oldest_desc", "ORDER:Oldest" }),
    };
}

internal static class FunctionalExtensions
{
    public static TResult Let<T, TResult>(this T value, Func<T, TResult> f) => f(value);
}
