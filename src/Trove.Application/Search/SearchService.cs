using Trove.Application.Embeddings;
using Trove.Domain;
using Trove.Search.Engine;
using Trove.Search.Query;

namespace Trove.Application.Search;

/// <summary>
/// One page of search results: the exact total, the ids in order, and the cursor for the next page; for a query with a
/// <c>semantic:</c> or <c>like:</c> term, each result's similarity (<see cref="Scores"/>, in page order).
/// </summary>
public sealed record SearchResult(long Total, IReadOnlyList<string> Ids, int Limit, int Offset, string? NextCursor = null)
{
    public IReadOnlyList<float>? Scores { get; init; }
}

/// <summary>
/// Runs queries of the query language (docs/query-language.md) against the library's in-memory engine, which is
/// brought up to date with the index first. The same service serves the CLI, the API and exports.
/// </summary>
public sealed class SearchService(TroveLibrary library)
{
    public const int MaxLimit = 10_000;

    public Task<SearchResult> SearchAsync(string text, int limit, int offset, CancellationToken ct) =>
        SearchAsync(text, new SearchRequest(limit, offset), ct);

    public async Task<SearchResult> SearchAsync(string text, SearchRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Limit < 0 || request.Limit > MaxLimit)
        {
            throw new TroveUsageException("bad-limit", $"--limit must be between 0 and {MaxLimit}.");
        }

        if (request.Offset < 0)
        {
            throw new TroveUsageException("bad-offset", "--offset cannot be negative.");
        }

        // Parse first: a malformed query is refused without touching the index.
        var parsed = QueryParser.Parse(text);
        var engine = await library.Search.ReadyAsync(library.Index, ct).ConfigureAwait(false);
        if (parsed.Ranking is not { } ranking)
        {
            var found = engine.Search(parsed, request, ct);
            return new SearchResult(found.Total, found.Ids, request.Limit, request.Offset, found.NextCursor);
        }

        var active = ActiveEmbedder.Of(library) ?? throw Term(parsed, ranking, "no-embedder", "the library has no embedder to compare with", "Register a CLIP-style embedder (trove models add ID --kind embedder …, docs/semantic-search.md) and embed the library with 'trove embed \"\"'.");
        var embedder = library.Embeddings.Get(active);
        var path = library.Embeddings.PathOf(active);
        float[]? vector = null;
        var exclude = -1;
        if (ranking.Kind == RankingKind.Text)
        {
            vector = embedder.EmbedText(ranking.Value, ct);
        }
        else
        {
            var id = await library.ResolveIdAsync(ranking.Value, ct).ConfigureAwait(false);
            exclude = engine.KeyOf(id);
            vector = library.Search.Vectors.Read(engine, active.Reference, embedder.Dimensions, path, v => v.Contains(exclude) ? v.Vector(exclude) : null);
            if (vector is null)
            {
                var pending = await PendingEmbedsAsync(ct).ConfigureAwait(false);
                throw Term(parsed, ranking, "not-embedded", $"media {id[..12]} has no embedding from {active.Reference} yet{(pending > 0 ? $" ({pending} media wait in queued embed jobs)" : string.Empty)}", $"Embed it with 'trove embed id:{id[..12]} --now', or wait for the embed job.");
            }
        }

        var results = library.Search.Vectors.Read(engine, active.Reference, embedder.Dimensions, path, index =>
            engine.Search(parsed, request, ct, vectors: new VectorQuery(index, vector, exclude, active.Parameters.MinScore)));
        return new SearchResult(results.Total, results.Ids, request.Limit, request.Offset, results.NextCursor) { Scores = results.Scores };
    }

    private static readonly System.Text.Json.JsonSerializerOptions Web = new(System.Text.Json.JsonSerializerDefaults.Web);

    private static TroveUsageException Term(ParsedQuery parsed, RankingTerm term, string code, string what, string hint) =>
        new(code, $"'{parsed.Text.Substring(term.Span.Start, term.Span.Length)}' (column {term.Span.Column}): {what}.", hint);

    // Media waiting in queued or running embed jobs.
    private async Task<long> PendingEmbedsAsync(CancellationToken ct)
    {
        try
        {
            return (await Jobs.JobQueue.Of(library).Store.ListAsync(EmbedJobs.Kind, null, 1000, ct).ConfigureAwait(false))
                .Where(j => !Jobs.JobStatus.IsFinished(j.Status))
                .Sum(j => (long)(System.Text.Json.JsonSerializer.Deserialize<EmbedPayload>(j.Parameters, Web)?.Ids?.Count ?? 0));
        }
        catch (Exception ex) when (ex is TroveException or System.Text.Json.JsonException)
        {
            return 0;
        }
    }

    /// <summary>Every id matching the query, in the query's order (paged internally with cursors).</summary>
    public async Task<IReadOnlyList<string>> AllIdsAsync(string text, CancellationToken ct)
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var page = await SearchAsync(text, new SearchRequest(MaxLimit, 0, cursor), ct).ConfigureAwait(false);
            ids.AddRange(page.Ids);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return ids;
    }
}
