using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Application;

public sealed record SearchResult(long Total, IReadOnlyList<string> Ids, int Limit, int Offset);

/// <summary>
/// Searches the index. This first version understands tags, '-tag', '*' wildcards, aliases and the metatags
/// kind:, id:, collection: and order:; the full query language (or, parentheses, ranges, full text) arrives with
/// the search engine. Anything else is refused with the term and its column.
/// </summary>
public sealed class SearchService(TroveLibrary library)
{
    public const int MaxLimit = 10_000;
    private const int MaxTerms = 256;
    private const int MaxWildcardExpansion = 5_000;
    private const int MaxSimilar = 1_000;

    public async Task<SearchResult> SearchAsync(string text, int limit, int offset, CancellationToken ct)
    {
        if (limit < 0 || limit > MaxLimit)
        {
            throw new TroveUsageException("bad-limit", $"--limit must be between 0 and {MaxLimit}.");
        }

        if (offset < 0)
        {
            throw new TroveUsageException("bad-offset", "--offset cannot be negative.");
        }

        var query = await ParseAsync(text, ct).ConfigureAwait(false) with { Limit = limit, Offset = offset };
        var page = await library.Index.SearchAsync(query, ct).ConfigureAwait(false);
        return new SearchResult(page.Total, page.Ids, limit, offset);
    }

    internal async Task<MediaQuery> ParseAsync(string text, CancellationToken ct)
    {
        var vocabulary = library.Files.ReadVocabulary(out _);
        var allOf = new List<IReadOnlyList<string>>();
        var noneOf = new List<string>();
        var query = new MediaQuery();
        var terms = Tokenize(text);
        if (terms.Count > MaxTerms)
        {
            throw new TroveUsageException("query-too-long", $"The query has {terms.Count} terms; at most {MaxTerms} are allowed.");
        }

        foreach (var (term, column) in terms)
        {
            var negated = term.StartsWith('-') && term.Length > 1;
            var body = negated ? term[1..] : term;
            if (body is "or" or "(" or ")" || body.StartsWith('(') || (body.EndsWith(')') && body.Count(c => c == ')') > body.Count(c => c == '(')))
            {
                throw Unsupported(term, column, "'or' and parentheses are not supported yet in this version");
            }

            var colon = body.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && TagNames.ReservedPrefixes.Contains(body[..colon].ToLowerInvariant()))
            {
                var name = body[..colon].ToLowerInvariant();
                var value = body[(colon + 1)..].Trim('"');
                if (negated)
                {
                    throw Unsupported(term, column, $"negating '{name}:' is not supported yet");
                }

                query = name switch
                {
                    "order" => query with { Order = ParseOrder(value, term, column) },
                    "kind" when value is MediaKinds.Image or MediaKinds.Mask => query with { Kind = value },
                    "kind" => throw Bad(term, column, "kind: takes 'image' or 'mask'"),
                    "id" => query with { IdPrefix = MediaId.IsLowerHex(value.ToLowerInvariant()) && value.Length > 0 ? value.ToLowerInvariant() : throw Bad(term, column, "id: takes hexadecimal characters") },
                    "similar" => query with { IdsIn = Intersect(query.IdsIn, await SimilarIdsAsync(value, term, column, ct).ConfigureAwait(false)) },
                    "collection" => query with { CollectionId = (await new CollectionService(library).FindAsync(value, ct).ConfigureAwait(false))?.Id ?? "\0none" },
                    _ => throw Unsupported(term, column, $"the metatag '{name}:' is not supported yet in this version"),
                };
                continue;
            }

            if (body.Contains('*', StringComparison.Ordinal))
            {
                var pattern = body.ToLowerInvariant();
                var expanded = await library.Index.ExpandWildcardAsync(pattern, MaxWildcardExpansion + 1, ct).ConfigureAwait(false);
                if (expanded.Count > MaxWildcardExpansion)
                {
                    throw Bad(term, column, $"the wildcard matches more than {MaxWildcardExpansion} tags; make it more specific");
                }

                if (negated)
                {
                    noneOf.AddRange(expanded);
                }
                else
                {
                    allOf.Add(expanded);
                }

                continue;
            }

            if (colon > 0 && (await library.Index.ExpandWildcardAsync(body.ToLowerInvariant(), 1, ct).ConfigureAwait(false)).Count == 0)
            {
                // Not a tag anyone uses and not a metatag: most likely a misspelt metatag.
                var name = body[..colon].ToLowerInvariant();
                var guess = TagNames.ReservedPrefixes.MinBy(m => Distance(m, name))!;
                var hint = Distance(guess, name) <= 2 ? $" — did you mean '{guess}'?" : string.Empty;
                throw new TroveUsageException("query-invalid", $"Unknown metatag '{name}' at column {column}{hint}", "See docs/query-language.md for the metatags.");
            }

            if (!TagNames.TryNormalize(body, out var tag, out var error))
            {
                throw Bad(term, column, error);
            }

            tag = vocabulary.Resolve(tag);
            if (negated)
            {
                noneOf.Add(tag);
            }
            else
            {
                allOf.Add([tag]);
            }
        }

        return query with { AllOf = allOf, NoneOf = noneOf };
    }

    /// <summary>similar:ID — images within perceptual distance 8 of ID (at most <see cref="MaxSimilar"/>).</summary>
    private async Task<IReadOnlyCollection<string>> SimilarIdsAsync(string value, string term, int column, CancellationToken ct)
    {
        if (value.Length < MediaId.MinPrefixLength || !MediaId.IsLowerHex(value.ToLowerInvariant()))
        {
            throw Bad(term, column, $"similar: takes a media id or a unique prefix of at least {MediaId.MinPrefixLength} hex characters");
        }

        var similar = await new Similarity.NearDuplicateService(library)
            .SimilarAsync(value.ToLowerInvariant(), Domain.Similarity.NearDuplicateCriteria.DefaultMaxDistance, MaxSimilar, ct).ConfigureAwait(false);
        return similar.Select(s => s.Id).ToList();
    }

    /// <summary>Several similar: terms are all conditions: only media near every one of them match.</summary>
    private static IReadOnlyCollection<string> Intersect(IReadOnlyCollection<string>? current, IReadOnlyCollection<string> found) =>
        current is null ? found : current.Intersect(found, StringComparer.Ordinal).ToList();

    private static MediaOrder ParseOrder(string value, string term, int column) => value.ToLowerInvariant() switch
    {
        "newest" or "" => MediaOrder.Newest,
        "oldest" => MediaOrder.Oldest,
        "id" => MediaOrder.Id,
        "filesize" => MediaOrder.FileSize,
        "tagcount" => MediaOrder.TagCount,
        _ => throw Bad(term, column, "order: takes newest, oldest, id, filesize or tagcount in this version"),
    };

    private static int Distance(string a, string b)
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

    private static List<(string Term, int Column)> Tokenize(string text)
    {
        var result = new List<(string, int)>();
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }

            var start = i;
            var quoted = false;
            while (i < text.Length && (quoted || !char.IsWhiteSpace(text[i])))
            {
                if (text[i] == '"')
                {
                    quoted = !quoted;
                }

                i++;
            }

            result.Add((text[start..i], start + 1));
        }

        return result;
    }

    private static TroveUsageException Bad(string term, int column, string why) =>
        new("query-invalid", $"Query term '{term}' at column {column}: {why}.", "See docs/query-language.md.");

    private static TroveUsageException Unsupported(string term, int column, string why) =>
        new("query-unsupported", $"Query term '{term}' at column {column}: {why}.", "Use tags, -tag, tag* wildcards, kind:, id:, collection: and order: for now.");
}
