using Trove.Search.Query;

namespace Trove.Search.Engine;

/// <summary>Which page to return: skip <see cref="Offset"/> results (after the <see cref="Cursor"/> if given), then up to <see cref="Limit"/>.</summary>
public sealed record SearchRequest(int Limit = 40, int Offset = 0, string? Cursor = null);

/// <summary>
/// One page: the exact number of matches, the ids of the page in order, and a cursor for the next page (null when
/// this page is the last). <see cref="Order"/> is the order used (with the seed chosen for <c>order:random</c>).
/// </summary>
public sealed record SearchResults(long Total, IReadOnlyList<string> Ids, string? NextCursor, OrderSpec Order)
{
    /// <summary>For queries with a <c>semantic:</c> or <c>like:</c> term: each result's cosine similarity, in page order.</summary>
    public IReadOnlyList<float>? Scores { get; init; }
}
