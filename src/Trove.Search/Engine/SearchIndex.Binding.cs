using System.Globalization;
using Trove.Domain;
using Trove.Domain.Similarity;
using Trove.Search.Query;

namespace Trove.Search.Engine;

public sealed partial class SearchIndex
{
    private string[]? _sortedTags;

    /// <summary>Turns a parsed tree into a plan over this engine's data (aliases, wildcards, collections, ids).</summary>
    private sealed class Binder(SearchIndex index, string text, QueryLimits limits)
    {
        private int _expanded;

        public Plan Bind(QueryNode node) => node switch
        {
            AndNode a => And(a.Children.Select(Bind).ToList()),
            OrNode o => Or(o.Children.Select(Bind).ToList()),
            NotNode n => Not(Bind(n.Child)),
            TagTerm t => Tag(t),
            WildcardTerm w => Wildcard(index._tags, w.Pattern, w.Span),
            RangeTerm r => new RangePlan(r.Field, r.Range, index._count / 2),
            ChoiceTerm c => Choice(c),
            HasTerm h => h.What switch
            {
                HasWhat.Caption => Postings(index._hasCaption),
                HasWhat.Crop => Postings(index._hasCrop),
                HasWhat.Suggestions => Postings(index._hasSuggestions),
                HasWhat.Derived => Postings(index._derived),
                HasWhat.Face => Postings(index._hasFace),
                HasWhat.UnknownFace => Postings(index._unknownFace),
                _ => new MaskHolderPlan(index._maskSources.Count),
            },
            SuggestedTerm s => s.IsWildcard
                ? Wildcard(index._suggested, s.Pattern, s.Span)
                : Postings(index._suggested.Find(index.Resolve(s.Pattern), out _)),
            CaptionTerm c => Caption(c),
            DerivedFromTerm f => Wildcard(index._derivedFrom, f.IdPrefix + "*", f.Span),
            SimilarTerm s => Similar(s),
            PersonTerm p => Person(p),
            IdPrefixTerm i => new IdPrefixPlan(i.Prefix, Math.Max(1, index._count >> Math.Min(60, 4 * i.Prefix.Length))),
            _ => throw new InvalidOperationException($"Unexpected query node {node.GetType().Name}."),
        };

        private static Plan Postings(Postings? p) => p is { Count: > 0 } ? new PostingsPlan([p]) : EmptyPlan.Instance;

        private static Plan And(List<Plan> children)
        {
            if (children.Any(c => c is EmptyPlan))
            {
                return EmptyPlan.Instance;
            }

            children.RemoveAll(c => c is AllPlan);
            return children.Count switch
            {
                0 => new AllPlan(long.MaxValue),
                1 => children[0],
                _ => new AndPlan(children),
            };
        }

        private static Plan Or(List<Plan> children)
        {
            if (children.FirstOrDefault(c => c is AllPlan) is { } all)
            {
                return all;
            }

            children.RemoveAll(c => c is EmptyPlan);
            if (children.Count > 1 && children.All(c => c is PostingsPlan))
            {
                return new PostingsPlan(children.SelectMany(c => ((PostingsPlan)c).Lists).Distinct().ToList());
            }

            return children.Count switch
            {
                0 => EmptyPlan.Instance,
                1 => children[0],
                _ => new OrPlan(children),
            };
        }

        private Plan Not(Plan child) => child switch
        {
            EmptyPlan => new AllPlan(index._count),
            AllPlan => EmptyPlan.Instance,
            _ => new NotPlan(child, index._count),
        };

        private Plan Tag(TagTerm t)
        {
            var name = index.Resolve(t.Name);
            var postings = index._tags.Find(name, out _);
            if (t.MetatagLike is { } metatag && postings is not { Count: > 0 })
            {
                // name:value with an unknown name and no such tag in the library: most likely a misspelt metatag.
                throw QueryErrors.UnknownMetatag(metatag, t.Span);
            }

            return Postings(postings);
        }

        private Plan Wildcard(Facet facet, string pattern, SourceSpan span)
        {
            var ords = facet == index._tags ? index.MatchTags(pattern) : facet.Matching(pattern);
            if (ords.Count > limits.MaxWildcardTags)
            {
                throw QueryErrors.Complex(
                    $"The wildcard '{QueryErrors.Slice(text, span)}' at column {span.Column} matches {ords.Count:N0} tags; at most {limits.MaxWildcardTags:N0} are allowed — make it more specific.");
            }

            _expanded += ords.Count;
            if (_expanded > limits.MaxExpandedTags)
            {
                throw QueryErrors.Complex(
                    $"The wildcards of this query stand for more than {limits.MaxExpandedTags:N0} tags together (the last at column {span.Column}); make them more specific.");
            }

            return ords.Count == 0 ? EmptyPlan.Instance : new PostingsPlan(ords.Select(facet.Postings).ToList());
        }

        private Plan Choice(ChoiceTerm c)
        {
            var lists = new List<Postings>();
            foreach (var v in c.Values)
            {
                var postings = c.Field switch
                {
                    ChoiceField.Kind => index._kinds.Find(v, out _),
                    ChoiceField.Type => index._types.Find(v, out _),
                    ChoiceField.Uploader => index._uploaders.Find(v, out _),
                    ChoiceField.CaptionStatus => index._captionStatuses.Find(v, out _),
                    ChoiceField.DerivedModel => index._derivedModel.Find(v, out _),
                    _ => index.FindCollection(v) is { } id ? index._collections.Find(id, out _) : null,
                };
                if (postings is { Count: > 0 })
                {
                    lists.Add(postings);
                }
            }

            return lists.Count == 0 ? EmptyPlan.Instance : new PostingsPlan(lists);
        }

        private Plan Person(PersonTerm p)
        {
            var ids = index.FindPeople(p.Name);
            if (ids.Count == 0)
            {
                var names = index._personNames.SelectMany(x => x.Names).ToList();
                var guess = EditDistance.Closest(p.Name.ToLowerInvariant(), names.Select(n => n.ToLowerInvariant()).ToList());
                throw QueryErrors.Term(text, p.Span, $"no person is named '{p.Name}'" + (guess is null ? " (see the People page or 'trove people list')" : $" — did you mean '{names.First(n => n.Equals(guess, StringComparison.OrdinalIgnoreCase))}'?"));
            }

            var facet = p.Suggested ? index._suggestedPeople : index._people;
            var lists = ids.Select(id => facet.Find(id, out _)).OfType<Postings>().Where(l => l.Count > 0).ToList();
            return lists.Count == 0 ? EmptyPlan.Instance : new PostingsPlan(lists);
        }

        private Plan Caption(CaptionTerm c)
        {
            var fixedWords = c.LastIsPrefix ? c.Words.Take(c.Words.Count - 1).ToList() : c.Words.ToList();
            var ords = new int[fixedWords.Count];
            var required = new List<Postings>();
            for (var i = 0; i < fixedWords.Count; i++)
            {
                ords[i] = index._captions.Ordinal(fixedWords[i]);
                if (ords[i] < 0 || index._captions.Postings(ords[i]).Count == 0)
                {
                    return EmptyPlan.Instance;
                }

                required.Add(index._captions.Postings(ords[i]));
            }

            HashSet<int>? alternatives = null;
            PostingsPlan? last = null;
            if (c.LastIsPrefix)
            {
                var found = index._captions.WithPrefix(c.Words[^1], limits.MaxPrefixWords, out var truncated);
                if (truncated)
                {
                    throw QueryErrors.Complex(
                        $"'{QueryErrors.Slice(text, c.Span)}' at column {c.Span.Column} starts more than {limits.MaxPrefixWords:N0} different caption words; give more letters.");
                }

                if (found.Count == 0)
                {
                    return EmptyPlan.Instance;
                }

                alternatives = [.. found];
                last = new PostingsPlan(found.Select(index._captions.Postings).ToList());
            }

            if (ords.Length == 1 && last is null)
            {
                return new PostingsPlan(required);
            }

            if (ords.Length == 0)
            {
                return last!;
            }

            return new PhrasePlan(ords, alternatives, required.Distinct().ToList(), last);
        }

        private Plan Similar(SimilarTerm s)
        {
            var matches = index.DocsWithIdPrefix(s.IdPrefix, 2);
            if (matches.Count == 0)
            {
                throw QueryErrors.Term(text, s.Span, $"no media has an id starting with '{s.IdPrefix}'");
            }

            if (matches.Count > 1)
            {
                throw QueryErrors.Term(text, s.Span, $"several media have ids starting with '{s.IdPrefix}'; give more characters");
            }

            var d = matches[0];
            if (!Bits.Get(index._hashed, d))
            {
                throw new TroveException(
                    "no-perceptual-hash",
                    $"Media {index.IdAt(d)[..12]} (similar: at column {s.Span.Column}) has no perceptual hash yet, so similar images cannot be looked up.",
                    "Run 'trove check --repair' with libvips installed to compute missing hashes.");
            }

            var criteria = s.Distance == NearDuplicateCriteria.DefaultMaxDistance ? NearDuplicateCriteria.Default : new NearDuplicateCriteria(s.Distance);
            return criteria.IsInformative(index._phash[d])
                ? new SimilarPlan(d, index._phash[d], index._dhash[d], criteria)
                : EmptyPlan.Instance;
        }
    }

    private string Resolve(string tag) => _aliases.TryGetValue(tag, out var to) ? to : tag;

    /// <summary>The people a name, alias or id stands for (case-insensitive; several people may share a name).</summary>
    private List<string> FindPeople(string nameOrId)
    {
        var result = new List<string>();
        foreach (var (id, names) in _personNames)
        {
            if (string.Equals(id, nameOrId, StringComparison.Ordinal) || names.Any(n => string.Equals(n, nameOrId, StringComparison.OrdinalIgnoreCase)))
            {
                result.Add(id);
            }
        }

        return result;
    }

    private string? FindCollection(string nameOrId)
    {
        foreach (var (id, name) in _collectionNames)
        {
            if (string.Equals(name, nameOrId, StringComparison.OrdinalIgnoreCase))
            {
                return id;
            }
        }

        foreach (var (id, _) in _collectionNames)
        {
            if (id == nameOrId)
            {
                return id;
            }
        }

        return null;
    }

    /// <summary>Tags in use matching a pattern; a literal prefix narrows the scan to a sorted range.</summary>
    private List<int> MatchTags(string pattern)
    {
        var sorted = _sortedTags;
        if (sorted is null || sorted.Length != _tags.ValueCount)
        {
            sorted = new string[_tags.ValueCount];
            for (var o = 0; o < sorted.Length; o++)
            {
                sorted[o] = _tags.Name(o);
            }

            Array.Sort(sorted, StringComparer.Ordinal);
            _sortedTags = sorted;
        }

        var prefix = Glob.LiteralPrefix(pattern);
        var lo = 0;
        if (prefix.Length > 0)
        {
            var at = Array.BinarySearch(sorted, prefix, StringComparer.Ordinal);
            lo = at >= 0 ? at : ~at;
        }

        var suffix = pattern.LastIndexOf('*') is var star and >= 0 ? pattern[(star + 1)..] : string.Empty;
        var simple = pattern.IndexOf('*', StringComparison.Ordinal) == pattern.LastIndexOf('*');
        var result = new List<int>();
        for (var i = lo; i < sorted.Length; i++)
        {
            var name = sorted[i];
            if (prefix.Length > 0 && !name.StartsWith(prefix, StringComparison.Ordinal))
            {
                break;
            }

            var match = simple
                ? name.Length >= prefix.Length + suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal)
                : Glob.Matches(pattern, name);
            if (match)
            {
                var o = _tags.Find(name);
                if (_tags.Postings(o).Count > 0)
                {
                    result.Add(o);
                }
            }
        }

        return result;
    }

    /// <summary>Present documents whose id starts with the prefix (at most <paramref name="limit"/>).</summary>
    private List<int> DocsWithIdPrefix(string prefix, int limit)
    {
        var plan = new IdPrefixPlan(prefix, 0);
        var result = new List<int>();
        for (var d = 0; d < _capacity && result.Count < limit; d++)
        {
            if (Bits.Get(_present, d) && MatchesId(plan, d))
            {
                result.Add(d);
            }
        }

        return result;
    }

    private bool MatchesId(IdPrefixPlan plan, int d)
    {
        var words = plan.Words;
        for (var k = 0; k < words.Length; k++)
        {
            if ((_ids[(d * 4) + k] & words[k].Mask) != words[k].Value)
            {
                return false;
            }
        }

        return true;
    }

    internal static string Hex(ulong v) => v.ToString("x16", CultureInfo.InvariantCulture);
}
