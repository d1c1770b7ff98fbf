using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;
using Trove.Domain;
using Trove.Domain.Similarity;
using Trove.Search.Engine;
using Trove.Search.Query;

namespace Trove.Search.Tests;

/// <summary>
/// The library as the naive evaluator sees it: plain documents by key, the alias table and the collection catalog.
/// Kept in step with a <see cref="SearchIndex"/> by the tests (every mutation is applied to both).
/// </summary>
internal sealed class NaiveLibrary
{
    private readonly Dictionary<SearchDocument, string[][]> _captionWords = new(ReferenceEqualityComparer.Instance);

    public Dictionary<int, SearchDocument> Docs { get; } = [];

    public Dictionary<string, string> Aliases { get; } = new(StringComparer.Ordinal);

    public List<(string Id, string Name)> Collections { get; } = [];

    public void Upsert(SearchDocument doc)
    {
        if (Docs.TryGetValue(doc.Key, out var old))
        {
            _captionWords.Remove(old);
        }

        Docs[doc.Key] = doc;
    }

    public void Remove(int key)
    {
        if (Docs.Remove(key, out var old))
        {
            _captionWords.Remove(old);
        }
    }

    public void Clear()
    {
        Docs.Clear();
        _captionWords.Clear();
    }

    /// <summary>Each caption of the document as its word list (cached: tokenising is the slow part).</summary>
    public string[][] CaptionWords(SearchDocument doc)
    {
        if (!_captionWords.TryGetValue(doc, out var words))
        {
            words = [.. doc.Captions.Select(c => CaptionTokenizer.Words(c).ToArray())];
            _captionWords[doc] = words;
        }

        return words;
    }
}

/// <summary>
/// A deliberately simple, independent implementation of the query semantics: walks the parsed tree over every
/// document with LINQ, then sorts with a plain comparison. The engine must agree with it on totals and order.
/// </summary>
internal static class NaiveEvaluator
{
    private static readonly Dictionary<string, Regex> Globs = [];

    /// <summary>
    /// The live documents matching the query, in result order. Binding errors are thrown like the engine throws
    /// them (same codes). <paramref name="seed"/> is the random seed to use for an unseeded <c>order:random</c>.
    /// </summary>
    public static List<SearchDocument> Evaluate(NaiveLibrary lib, ParsedQuery query, ulong? seed = null, QueryLimits? limits = null)
    {
        var ctx = new Context(lib, query.Text, limits ?? QueryLimits.Default);
        var live = lib.Docs.Values.Where(d => !d.InTrash).ToList();
        List<SearchDocument> matches;
        if (query.Root is null)
        {
            matches = live;
        }
        else
        {
            ctx.Bind(query.Root);
            matches = live.Where(d => ctx.Matches(query.Root, d)).ToList();
        }

        var order = query.Order;
        if (order.Field == SortField.Random && order.Seed is null)
        {
            order = order with { Seed = seed ?? throw new ArgumentException("An unseeded random order needs the seed the engine chose.", nameof(seed)) };
        }

        return Sort(matches, order);
    }

    /// <summary>Sorts by (key, id): the key per the order (negated for descending), ties by id ascending.</summary>
    public static List<SearchDocument> Sort(IEnumerable<SearchDocument> docs, OrderSpec order) =>
        docs.Select(d => (Key: SortKey(d, order), Doc: d))
            .OrderBy(x => x.Key)
            .ThenBy(x => x.Doc.Id, StringComparer.Ordinal)
            .Select(x => x.Doc)
            .ToList();

    /// <summary>The documents of an ordered list that come strictly after the position (key, id).</summary>
    public static List<SearchDocument> After(List<SearchDocument> ordered, OrderSpec order, long key, string id) =>
        ordered.Where(d =>
        {
            var k = SortKey(d, order);
            return k > key || (k == key && string.CompareOrdinal(d.Id, id) > 0);
        }).ToList();

    /// <summary>The sort key of a document (already flipped for descending orders).</summary>
    public static long SortKey(SearchDocument d, OrderSpec order)
    {
        var first = ulong.Parse(d.Id.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        long key = order.Field switch
        {
            SortField.Created => d.CreatedAt,
            SortField.Id => (long)(first ^ 0x8000_0000_0000_0000UL), // unsigned order as signed
            SortField.Width => d.Width ?? -1,
            SortField.Height => d.Height ?? -1,
            SortField.Pixels => d.Width is { } w && d.Height is { } h ? (long)w * h : -1,
            SortField.FileSize => d.Size,
            SortField.TagCount => d.Tags.Count,
            SortField.Random => (long)SplitMix(first ^ (order.Seed ?? 0)),
            _ => throw new ArgumentOutOfRangeException(nameof(order)),
        };
        return order.Descending ? ~key : key;
    }

    /// <summary>The SplitMix64 finaliser (the documented shuffle of <c>order:random</c>).</summary>
    public static ulong SplitMix(ulong x)
    {
        x += 0x9E37_79B9_7F4A_7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>'*' matches any run of characters; everything else literally (ordinal).</summary>
    public static bool Glob(string pattern, string name)
    {
        Regex? regex;
        lock (Globs)
        {
            if (!Globs.TryGetValue(pattern, out regex))
            {
                regex = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.Singleline | RegexOptions.CultureInvariant);
                Globs[pattern] = regex;
            }
        }

        return regex.IsMatch(name);
    }

    /// <summary>A range field's value for a document, or null when the document has none.</summary>
    public static long? Value(RangeField field, SearchDocument d) => field switch
    {
        RangeField.Width => d.Width,
        RangeField.Height => d.Height,
        RangeField.Pixels => d.Width is { } w && d.Height is { } h ? (long)w * h : null,
        RangeField.Ratio => d.Width is { } w && d.Height is { } h && h > 0
            ? (long)Math.Round((decimal)w / h * 100, MidpointRounding.AwayFromZero)
            : null,
        RangeField.FileSize => d.Size,
        RangeField.Date => d.CreatedAt,
        RangeField.Taken => d.TakenAt,
        RangeField.TagCount => d.Tags.Count,
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    public static string NormalizeType(string type)
    {
        var t = type.TrimStart('.').ToLowerInvariant();
        return Metatags.Types.TryGetValue(t, out var canonical) ? canonical : t;
    }

    private sealed class Context(NaiveLibrary lib, string text, QueryLimits limits)
    {
        private readonly Dictionary<SimilarTerm, SearchDocument?> _similarTargets = new(ReferenceEqualityComparer.Instance);
        private HashSet<string>? _maskHolders;
        private int _expanded;

        private string Resolve(string tag) => lib.Aliases.TryGetValue(tag, out var to) ? to : tag;

        /// <summary>Checks the tree the way the engine's binder does (pre-order, every node), throwing its errors.</summary>
        public void Bind(QueryNode node)
        {
            switch (node)
            {
                case AndNode a:
                    a.Children.ToList().ForEach(Bind);
                    break;
                case OrNode o:
                    o.Children.ToList().ForEach(Bind);
                    break;
                case NotNode n:
                    Bind(n.Child);
                    break;
                case TagTerm t when t.MetatagLike is not null:
                    var name = Resolve(t.Name);
                    if (!lib.Docs.Values.Any(d => d.Tags.Contains(name)))
                    {
                        throw new TroveUsageException(QueryErrors.Invalid, $"Unknown metatag '{t.MetatagLike}' (naive)");
                    }

                    break;
                case WildcardTerm w:
                    CountExpansion(lib.Docs.Values.SelectMany(d => d.Tags).Distinct().Count(t => Glob(w.Pattern, t)));
                    break;
                case SuggestedTerm { IsWildcard: true } s:
                    CountExpansion(lib.Docs.Values.SelectMany(d => d.PendingSuggestions).Distinct().Count(t => Glob(s.Pattern, t)));
                    break;
                case CaptionTerm c when c.LastIsPrefix:
                    var words = lib.Docs.Values.SelectMany(d => lib.CaptionWords(d).SelectMany(x => x)).ToHashSet();
                    if (c.Words.Take(c.Words.Count - 1).All(words.Contains)
                        && words.Count(w => w.StartsWith(c.Words[^1], StringComparison.Ordinal)) > limits.MaxPrefixWords)
                    {
                        throw new TroveUsageException(QueryErrors.TooComplex, "Too many prefix words (naive)");
                    }

                    break;
                case SimilarTerm s:
                    var candidates = lib.Docs.Values.Where(d => d.Id.StartsWith(s.IdPrefix, StringComparison.Ordinal)).Take(2).ToList();
                    if (candidates.Count != 1)
                    {
                        throw new TroveUsageException(QueryErrors.Invalid, $"similar: {candidates.Count} candidates (naive)");
                    }

                    if (candidates[0] is not { PHash: not null, DHash: not null })
                    {
                        throw new TroveException("no-perceptual-hash", "No perceptual hash (naive)");
                    }

                    _similarTargets[s] = candidates[0];
                    break;
            }
        }

        private void CountExpansion(int count)
        {
            if (count > limits.MaxWildcardTags)
            {
                throw new TroveUsageException(QueryErrors.TooComplex, "Wildcard matches too many tags (naive)");
            }

            _expanded += count;
            if (_expanded > limits.MaxExpandedTags)
            {
                throw new TroveUsageException(QueryErrors.TooComplex, "Wildcards expand to too many tags (naive)");
            }
        }

        public bool Matches(QueryNode node, SearchDocument d) => node switch
        {
            AndNode a => a.Children.All(c => Matches(c, d)),
            OrNode o => o.Children.Any(c => Matches(c, d)),
            NotNode n => !Matches(n.Child, d),
            TagTerm t => d.Tags.Contains(Resolve(t.Name)),
            WildcardTerm w => d.Tags.Any(t => Glob(w.Pattern, t)),
            RangeTerm r => Value(r.Field, d) is { } v && r.Range.Contains(v),
            ChoiceTerm c => Choice(c, d),
            HasTerm h => h.What switch
            {
                HasWhat.Caption => d.Captions.Any(c => !string.IsNullOrWhiteSpace(c)),
                HasWhat.Crop => d.CropCount > 0,
                HasWhat.Suggestions => d.PendingSuggestions.Count > 0,
                _ => MaskHolders().Contains(d.Id),
            },
            SuggestedTerm s => s.IsWildcard
                ? d.PendingSuggestions.Any(p => Glob(s.Pattern, p))
                : d.PendingSuggestions.Contains(Resolve(s.Pattern)),
            CaptionTerm c => lib.CaptionWords(d).Any(words => ContainsPhrase(words, c.Words, c.LastIsPrefix)),
            SimilarTerm s => Similar(s, d),
            IdPrefixTerm i => d.Id.StartsWith(i.Prefix, StringComparison.Ordinal),
            _ => throw new InvalidOperationException($"Unexpected node {node.GetType().Name} in '{text}'."),
        };

        private bool Choice(ChoiceTerm c, SearchDocument d)
        {
            switch (c.Field)
            {
                case ChoiceField.Kind:
                    return c.Values.Contains(d.Kind);
                case ChoiceField.Type:
                    return d.Type.Length > 0 && c.Values.Contains(NormalizeType(d.Type));
                case ChoiceField.Uploader:
                    return !string.IsNullOrEmpty(d.Uploader) && c.Values.Contains(d.Uploader.ToLowerInvariant());
                default:
                    foreach (var value in c.Values)
                    {
                        var byName = lib.Collections.Where(x => string.Equals(x.Name, value, StringComparison.OrdinalIgnoreCase)).Select(x => x.Id).FirstOrDefault();
                        var id = byName ?? lib.Collections.Where(x => x.Id == value).Select(x => x.Id).FirstOrDefault();
                        if (id is not null && d.Collections.Contains(id))
                        {
                            return true;
                        }
                    }

                    return false;
            }
        }

        private static bool ContainsPhrase(string[] words, IReadOnlyList<string> phrase, bool lastIsPrefix)
        {
            for (var start = 0; start + phrase.Count <= words.Length; start++)
            {
                var ok = true;
                for (var k = 0; k < phrase.Count && ok; k++)
                {
                    ok = lastIsPrefix && k == phrase.Count - 1
                        ? words[start + k].StartsWith(phrase[k], StringComparison.Ordinal)
                        : words[start + k] == phrase[k];
                }

                if (ok)
                {
                    return true;
                }
            }

            return false;
        }

        private HashSet<string> MaskHolders() =>
            _maskHolders ??= lib.Docs.Values.Where(m => !m.InTrash && m.MaskSource is not null).Select(m => m.MaskSource!).ToHashSet(StringComparer.Ordinal);

        private bool Similar(SimilarTerm s, SearchDocument d)
        {
            var target = _similarTargets[s]!;
            var criteria = new NearDuplicateCriteria(s.Distance);
            return !ReferenceEquals(target, d)
                && d.Kind == MediaKinds.Image
                && d is { PHash: { } p, DHash: { } dh }
                && BitOperations.PopCount(target.PHash!.Value ^ p) <= criteria.MaxDistance
                && BitOperations.PopCount(target.DHash!.Value ^ dh) <= criteria.DHashLimit
                && Informative(target.PHash.Value)
                && Informative(p);
        }

        /// <summary>Between 9 and 55 bits set (the flat-image rule).</summary>
        private static bool Informative(ulong hash) => BitOperations.PopCount(hash) is > 8 and < 56;
    }
}
