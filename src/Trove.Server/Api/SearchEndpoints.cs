using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Trove.Application;
using Trove.Application.Search;
using Trove.Application.Tags;
using Trove.Search.Engine;

namespace Trove.Server.Api;

public sealed record SearchItemResponse(
    string Id, string Kind, string MediaType, string Ext, int? Width, int? Height, long Size, IReadOnlyList<string> Tags, string? Uploader, DateTimeOffset CreatedAt, string Thumbnail)
{
    /// <summary>Cosine similarity to the query's <c>semantic:</c> or <c>like:</c> term (absent for other queries).</summary>
    public float? Score { get; init; }
}

/// <param name="Next">Cursor of the next page (pass it as <c>cursor</c>); absent on the last page.</param>
public sealed record SearchResponse(long Total, int Limit, int Offset, string? Next, IReadOnlyList<SearchItemResponse> Items);

public sealed record TagCompletionResponse(string Name, string Category, long Count, string? Alias);

/// <summary>Search with the query language, and tag completion for search boxes and tag editors.</summary>
public static class SearchEndpoints
{
    public const int DefaultLimit = 60;
    public const int MaxLimit = 500;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/search", SearchAsync)
            .WithTags("Search")
            .WithSummary("Search media with the query language (?q=&limit=60&offset=0&cursor=); a malformed query is 400 naming the term and column");
        api.MapGet("/tags/autocomplete", async (string? q, string? limit, TagAutocomplete autocomplete, CancellationToken ct) =>
        {
            var n = MediaEndpoints.QueryInt(limit, "limit", 10, 1, TagAutocomplete.MaxLimit);
            var found = await autocomplete.CompleteAsync(q, n, ct).ConfigureAwait(false);
            return TypedResults.Ok(found.Select(c => new TagCompletionResponse(c.Name, c.Category, c.Count, c.Alias)).ToList());
        })
            .WithTags("Search")
            .WithSummary("Tags starting with a prefix (?q=PREFIX&limit=10), aliases answered with their canonical tag, most used first");
    }

    private static async Task<Ok<SearchResponse>> SearchAsync(string? q, string? limit, string? offset, string? cursor, SearchService search, MediaCards cards, TroveLibrary library, CancellationToken ct)
    {
        var pageSize = MediaEndpoints.QueryInt(limit, "limit", DefaultLimit, 0, MaxLimit);
        var skip = MediaEndpoints.QueryInt(offset, "offset", 0, 0, int.MaxValue);
        var found = await search.SearchAsync(q ?? string.Empty, new SearchRequest(pageSize, skip, string.IsNullOrWhiteSpace(cursor) ? null : cursor.Trim()), ct).ConfigureAwait(false);
        var size = library.Options.Imaging.ImportThumbnailSize;
        var scores = found.Scores is { } s ? found.Ids.Select((id, i) => (id, s[i])).ToDictionary(x => x.id, x => x.Item2, StringComparer.Ordinal) : null;
        var items = (await cards.ReadAsync(found.Ids, ct).ConfigureAwait(false))
            .Select(c => new SearchItemResponse(c.Id, c.Kind, c.MediaType, c.Ext, c.Width, c.Height, c.Size, c.Tags, c.Uploader, c.CreatedAt, MediaEndpoints.ThumbnailUrl(c.Id, size))
            {
                Score = scores is not null && scores.TryGetValue(c.Id, out var score) ? MathF.Round(score, 4) : null,
            })
            .ToList();
        return TypedResults.Ok(new SearchResponse(found.Total, found.Limit, found.Offset, found.NextCursor, items));
    }
}
