using Trove.Domain;
using Trove.Search.Engine;
using Trove.Search.Query;

namespace Trove.Application.Search;

/// <summary>One page of search results: the exact total, the ids in order, and the cursor for the next page.</summary>
public sealed record SearchResult(long Total, IReadOnlyList<string> Ids, int Limit, int Offset, string? NextCursor = null);

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
        var found = engine.Search(parsed, request, ct);
        return new SearchResult(found.Total, found.Ids, request.Limit, request.Offset, found.NextCursor);
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
