using Trove.Domain;
using Trove.Search.Query;
using Trove.Search.Vectors;

namespace Trove.Search.Engine;

/// <summary>
/// What a query's <c>semantic:</c> or <c>like:</c> term is compared with: the embeddings (<paramref name="Index"/>,
/// slots = this engine's document keys), the query's vector, the media the query is "like" (left out of its own
/// results; -1 for none), and the similarity a media needs when the query has its own <c>order:</c> and no
/// <c>min-score:</c> (<paramref name="DefaultMinScore"/>: the embedder's threshold).
/// </summary>
public sealed record VectorQuery(VectorIndex Index, float[] Vector, int ExcludeKey = -1, float DefaultMinScore = 0.2f);

public sealed partial class SearchIndex
{
    /// <summary>Deeper than this many results, a ranked page is computed exactly rather than from the inverted lists.</summary>
    private const int ApproximateDepth = 1000;

    /// <summary>The document key of a media id, or -1 when the engine does not hold it.</summary>
    public int KeyOf(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        _lock.EnterReadLock();
        try
        {
            return FindId(id);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The media id of a document key, or null when the key holds no document.</summary>
    public string? IdOf(int key)
    {
        _lock.EnterReadLock();
        try
        {
            return key >= 0 && key < _capacity && Bits.Get(_present, key) ? IdAt(key) : null;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Total order of scores as longs (higher score, higher key), for cursors.</summary>
    private static long ScoreKey(float score)
    {
        var bits = BitConverter.SingleToInt32Bits(score);
        return bits >= 0 ? bits : bits ^ 0x7FFF_FFFF;
    }

    /// <summary>
    /// A query with a ranking term and its own <c>order:</c>: only media with an embedding at least
    /// <c>min-score</c> similar stay in <paramref name="bits"/>; returns their scores by key.
    /// </summary>
    private static Dictionary<int, float> RestrictBySimilarity(ParsedQuery query, VectorQuery vectors, Span<ulong> bits)
    {
        var min = query.MinScore ?? vectors.DefaultMinScore;
        var code = vectors.Index.Prepare(vectors.Vector);
        var scores = new Dictionary<int, float>();
        for (var w = 0; w < bits.Length; w++)
        {
            var word = bits[w];
            while (word != 0)
            {
                var d = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                word &= word - 1;
                float score;
                if (d == vectors.ExcludeKey || !vectors.Index.Contains(d) || (score = vectors.Index.Score(code, d)) < min)
                {
                    bits[w] &= ~(1UL << (d & 63));
                }
                else
                {
                    scores[d] = score;
                }
            }
        }

        return scores;
    }

    /// <summary>
    /// A page of a query ranked by similarity: the candidates are the filter's matches that have an embedding (and at
    /// least <c>min-score</c>); the vector index ranks them with the filter applied during its scan. The cursor holds
    /// the last result's score and id, and how many results came before it (the scan depth for the next page).
    /// </summary>
    private SearchResults RankedPage(ParsedQuery query, VectorQuery vectors, Span<ulong> bits, SearchRequest request, SearchCursor? cursor, OrderSpec order, CancellationToken ct)
    {
        var index = vectors.Index;
        if (vectors.ExcludeKey >= 0 && vectors.ExcludeKey < _capacity)
        {
            Bits.Clear(bits, vectors.ExcludeKey);
        }

        var min = query.MinScore ?? float.MinValue;
        var code = query.MinScore is null ? null : index.Prepare(vectors.Vector);
        long total = 0;
        for (var w = 0; w < bits.Length; w++)
        {
            var word = bits[w];
            while (word != 0)
            {
                var d = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                word &= word - 1;
                if (index.Contains(d) && (code is null || index.Score(code, d) >= min))
                {
                    total++;
                }
            }

            if ((w & 0x3FFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
        }

        var before = cursor is null ? 0L : (long)cursor.Seed;
        var cursorKey = cursor?.Key ?? long.MaxValue;
        var cursorSlot = cursor is null ? -1 : FindId(cursor.Id) is var s and >= 0 ? s : int.MaxValue;
        var want = (long)request.Offset + request.Limit + 1;
        List<VectorHit> page = [];
        if (request.Limit > 0 && total > 0)
        {
            var k = (int)Math.Min(int.MaxValue, before + want);
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var (hits, _) = index.Search(vectors.Vector, k, bits, filtered: true, min, exact: k > ApproximateDepth);
                var after = cursor is null
                    ? hits
                    : [.. hits.Where(h => ScoreKey(h.Score) < cursorKey || (ScoreKey(h.Score) == cursorKey && h.Slot > cursorSlot))];
                page = [.. after.Skip(request.Offset).Take(request.Limit + 1)];

                // Results ranked above the cursor since the last page push later ones out of a scan of this depth: go deeper.
                if (page.Count >= request.Limit + 1 || hits.Count < k || k >= total + before)
                {
                    break;
                }

                k = (int)Math.Min(int.MaxValue, (long)k * 2);
            }
        }

        string? next = null;
        if (page.Count > request.Limit)
        {
            page.RemoveAt(page.Count - 1);
            var last = page[^1];
            next = new SearchCursor(SortField.Score, true, (ulong)(before + request.Offset + page.Count), ScoreKey(last.Score), IdAt(last.Slot)).Encode();
        }

        return new SearchResults(total, page.ConvertAll(h => IdAt(h.Slot)), next, order) { Scores = page.ConvertAll(h => h.Score) };
    }

    private static void CheckVectors(ParsedQuery query, VectorQuery? vectors)
    {
        if (query.Ranking is not null && vectors is null)
        {
            throw new TroveUsageException("no-embedder", $"'{query.Ranking.Value}' needs the library's embeddings, which this search was not given.");
        }
    }
}
