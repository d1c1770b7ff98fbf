using System.Text;
using Trove.Domain;
using Trove.Search.Engine;
using Trove.Search.Query;

namespace Trove.Search.Tests;

/// <summary>
/// Random libraries and random query texts: the engine must agree with <see cref="NaiveEvaluator"/> on the total,
/// the ordered ids of pages (offset/limit and cursor), and on which queries fail. Every failure message names the
/// seed, the query and the first differing ids so it can be replayed.
/// </summary>
public class PropertyTests
{
    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= 30; seed++)
        {
            data.Add(seed);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_queries_on_random_libraries_agree_with_the_naive_evaluator(int seed)
    {
        var rng = new Random(seed);
        var gen = new Generators(rng);
        using var index = new SearchIndex();
        var lib = Generators.NewLibrary(index);
        var size = seed % 3 == 0 ? rng.Next(50, 300) : rng.Next(300, 3001);
        if (seed % 4 == 1)
        {
            // Room for many more keys than documents: result bitsets are wide, so rare terms are tested per
            // document, and the numeric columns have slots no document ever used.
            index.Reserve(size * 40);
        }

        gen.Fill(index, lib, size);
        var checker = new Checker(index, lib, rng, $"seed {seed} (library of {size})");

        for (var q = 0; q < 160; q++)
        {
            if (q % 8 == 7)
            {
                for (var m = rng.Next(1, 6); m > 0; m--)
                {
                    checker.Note(gen.Mutate(index, lib));
                }
            }

            checker.Check(gen.Query(lib));
            if (q % 10 == 0)
            {
                checker.CheckCursorAcrossMutations(gen.Query(lib), gen);
            }
        }

        Assert.Equal(lib.Docs.Count, index.Count);
        Assert.True(checker.Succeeded > 120 && checker.NonEmpty > 40, $"seed {seed}: the generated queries exercise too little: {checker}");
    }

    [Fact]
    public void A_large_library_with_dense_postings_and_sorted_views_agrees_with_the_naive_evaluator()
    {
        const int seed = 20_000;
        var rng = new Random(seed);
        var gen = new Generators(rng);
        using var index = new SearchIndex();
        var lib = Generators.NewLibrary(index);
        gen.Fill(index, lib, 20_000);
        var checker = new Checker(index, lib, rng, $"seed {seed} (large library)");

        // Broad queries: thousands of results, so pages walk the sorted views (more than 2,048 results).
        string[] broad =
        [
            "", "-no_such_tag", "cat or -dog", "width:>100", "-has:crop", "date:>=2023", "*", "cat or outdoor or indoor",
            "-(cat dog)", "has:caption or has:suggestions", "type:jpg,png,webp,gif", "-kind:mask", "tagcount:>=2", "kind:image -sky",
        ];

        void Round(int queries)
        {
            foreach (var q in broad)
            {
                checker.Check(WithOrder(q, gen.Order()));
            }

            for (var i = 0; i < queries; i++)
            {
                checker.Check(gen.Query(lib));
            }

            for (var i = 0; i < 6; i++)
            {
                checker.CheckCursorAcrossMutations(WithOrder(broad[rng.Next(broad.Length)], gen.Order()), gen);
            }
        }

        Round(60);

        // A few hundred changes: the views stay and merge the changed documents in.
        for (var i = 0; i < 300; i++)
        {
            checker.Note(gen.Mutate(index, lib));
        }

        Round(40);

        // More than 4,096 changes: the views are dropped and rebuilt.
        for (var i = 0; i < 5_000; i++)
        {
            checker.Note(gen.Mutate(index, lib));
        }

        Round(40);

        // Shift dates and tags of many documents in place (same keys, same ids): keys move inside the views.
        var docs = lib.Docs.Values.ToList();
        for (var i = 0; i < 3_000; i++)
        {
            var d = docs[rng.Next(docs.Count)];
            var moved = Generators.Copy(lib.Docs[d.Key], createdAt: d.CreatedAt + rng.NextInt64(-400L * 86_400_000, 400L * 86_400_000), tags: rng.Next(3) == 0 ? ["cat"] : null);
            index.Upsert(moved);
            lib.Upsert(moved);
        }

        Round(40);
        Assert.Equal(lib.Docs.Count, index.Count);
        Assert.True(checker.Large > 60, $"too few queries with more than 2,048 results: {checker}");
    }

    /// <summary>order: must be in the top-level AND, so a query with a top-level 'or' goes in parentheses.</summary>
    private static string WithOrder(string query, string order) => query.Length == 0 ? order : $"({query}) {order}";

    [Fact]
    public void Unseeded_random_order_reports_its_seed_and_the_seed_reproduces_the_order()
    {
        var rng = new Random(5);
        var gen = new Generators(rng);
        using var index = new SearchIndex();
        var lib = Generators.NewLibrary(index);
        gen.Fill(index, lib, 500);

        var first = index.Search("order:random", new SearchRequest(500), CancellationToken.None);
        Assert.NotNull(first.Order.Seed);
        var again = index.Search($"order:random:{first.Order.Seed}", new SearchRequest(500), CancellationToken.None);
        Assert.Equal(first.Ids, again.Ids);
        var expected = NaiveEvaluator.Evaluate(lib, QueryParser.Parse("order:random"), first.Order.Seed);
        Assert.Equal(expected.Select(d => d.Id), first.Ids);
    }

    /// <summary>Runs a query on both and compares; counts how many ran.</summary>
    private sealed class Checker(SearchIndex index, NaiveLibrary lib, Random rng, string context)
    {
        private readonly List<string> _mutations = [];

        public int Succeeded { get; private set; }

        /// <summary>Queries that failed on both sides with the same code.</summary>
        public int FailedAlike { get; private set; }

        /// <summary>Queries with at least one result.</summary>
        public int NonEmpty { get; private set; }

        /// <summary>Queries with more than 2,048 results (pages then come from the sorted views).</summary>
        public int Large { get; private set; }

        public override string ToString() => $"{Succeeded} ran ({NonEmpty} with results, {Large} with more than 2,048), {FailedAlike} failed alike";

        public void Note(string mutation)
        {
            _mutations.Add(mutation);
        }

        private string Where(string text, string what) =>
            $"{context}, after {_mutations.Count} mutations (last: {(_mutations.Count == 0 ? "none" : _mutations[^1])}), query \"{text}\", {what}";

        public void Check(string text)
        {
            var parsed = Parse(text);
            var limit = rng.Next(1, 60);
            var (first, expected) = Both(text, $"first page (limit {limit})", () => index.Search(parsed, new SearchRequest(limit), CancellationToken.None), seed => NaiveEvaluator.Evaluate(lib, parsed, seed));
            if (first is null)
            {
                return;
            }

            Succeeded++;
            NonEmpty += first.Total > 0 ? 1 : 0;
            Large += first.Total > 2048 ? 1 : 0;
            AssertPage(text, $"first page (limit {limit})", first, expected!, 0, limit);

            // The same order for the other requests (an unseeded random order keeps the engine's seed).
            var fixedOrder = parsed with { Order = first.Order };

            var offset = rng.Next(0, expected!.Count + 2);
            var count = rng.Next(1, 80);
            var page = index.Search(fixedOrder, new SearchRequest(count, offset), CancellationToken.None);
            AssertPage(text, $"offset {offset} limit {count}", page, expected, offset, count);

            // Cursor pages (with the unseeded query: the cursor carries the seed).
            var cursor = first.NextCursor;
            var position = limit;
            for (var p = 0; p < 4 && cursor is not null; p++)
            {
                var skip = rng.Next(4) == 0 ? rng.Next(1, 4) : 0;
                var size = rng.Next(1, 70);
                var next = index.Search(parsed, new SearchRequest(size, skip, cursor), CancellationToken.None);
                AssertPage(text, $"cursor page {p + 2} (skip {skip}, limit {size}, after {position} results)", next, expected, position + skip, size);
                position += skip + next.Ids.Count;
                cursor = next.NextCursor;
            }
        }

        /// <summary>Page 1, then some mutations, then the page after the cursor: what comes after the cursor's position now.</summary>
        public void CheckCursorAcrossMutations(string text, Generators gen)
        {
            var parsed = Parse(text);
            var limit = rng.Next(1, 40);
            var (first, _) = Both(text, "first page before mutations", () => index.Search(parsed, new SearchRequest(limit), CancellationToken.None), seed => NaiveEvaluator.Evaluate(lib, parsed, seed));
            if (first?.NextCursor is not { } cursorText)
            {
                return;
            }

            for (var m = rng.Next(1, 12); m > 0; m--)
            {
                Note(gen.Mutate(index, lib));
            }

            var cursor = SearchCursor.Decode(cursorText);
            var size = rng.Next(1, 60);
            var what = $"page after the cursor ({cursor.Key}, {cursor.Id[..12]}) once mutated (limit {size})";
            var (next, all) = Both(
                text,
                what,
                () => index.Search(parsed, new SearchRequest(size, 0, cursorText), CancellationToken.None),
                _ => NaiveEvaluator.Evaluate(lib, parsed, first.Order.Seed));
            if (next is not null)
            {
                Succeeded++;
                Assert.True(next.Order == first.Order, Where(text, $"{what}: order {next.Order} instead of {first.Order}"));
                var expected = NaiveEvaluator.After(all!, first.Order, cursor.Key, cursor.Id);
                var want = expected.Take(size).Select(d => d.Id).ToList();
                AssertIds(text, what, next.Ids, want, 0, expected);
                Assert.True((next.NextCursor is null) == (expected.Count <= size), Where(text, $"{what}: NextCursor {(next.NextCursor is null ? "null" : "set")} with {expected.Count} results after the cursor"));
            }
        }

        private ParsedQuery Parse(string text)
        {
            try
            {
                return QueryParser.Parse(text);
            }
            catch (TroveException e)
            {
                Assert.Fail(Where(text, $"the generated query does not parse: {e.Code}: {e.Message}"));
                throw;
            }
        }

        /// <summary>Runs both sides; when one fails the other must fail with the same code (then returns nulls).</summary>
        private (SearchResults? Engine, List<SearchDocument>? Naive) Both(string text, string what, Func<SearchResults> engine, Func<ulong?, List<SearchDocument>> naive)
        {
            SearchResults? results = null;
            TroveException? engineError = null;
            try
            {
                results = engine();
            }
            catch (TroveException e)
            {
                engineError = e;
            }

            List<SearchDocument>? expected = null;
            TroveException? naiveError = null;
            try
            {
                expected = naive(results?.Order.Seed ?? 0);
            }
            catch (TroveException e)
            {
                naiveError = e;
            }

            if (engineError is not null || naiveError is not null)
            {
                Assert.True(
                    engineError?.Code == naiveError?.Code,
                    Where(text, $"{what}: engine {(engineError is null ? "succeeded" : $"failed with {engineError.Code}: {engineError.Message}")}, naive {(naiveError is null ? "succeeded" : $"failed with {naiveError.Code}: {naiveError.Message}")}"));
                FailedAlike++;
                return (null, null);
            }

            Assert.True(results!.Total == expected!.Count, Where(text, $"{what}: engine total {results.Total}, naive {expected.Count}") + Diff(results.Ids, expected.Select(d => d.Id).Take(results.Ids.Count).ToList(), expected));
            return (results, expected);
        }

        private void AssertPage(string text, string what, SearchResults page, List<SearchDocument> expected, int offset, int limit)
        {
            Assert.True(page.Total == expected.Count, Where(text, $"{what}: engine total {page.Total}, naive {expected.Count}"));
            var want = expected.Skip(offset).Take(limit).Select(d => d.Id).ToList();
            AssertIds(text, what, page.Ids, want, offset, expected);
            var more = offset + limit < expected.Count;
            Assert.True((page.NextCursor is not null) == more, Where(text, $"{what}: NextCursor is {(page.NextCursor is null ? "null" : "set")} but {(more ? "more" : "no more")} results follow"));
        }

        private void AssertIds(string text, string what, IReadOnlyList<string> actual, List<string> want, int offset, List<SearchDocument> expected)
        {
            if (!actual.SequenceEqual(want))
            {
                Assert.Fail(Where(text, $"{what}: {actual.Count} ids from the engine, {want.Count} from the naive evaluator") + Diff(actual, want, expected, offset));
            }
        }

        private string Diff(IReadOnlyList<string> actual, List<string> want, List<SearchDocument> expected, int offset = 0)
        {
            var sb = new StringBuilder();
            var i = 0;
            while (i < actual.Count && i < want.Count && actual[i] == want[i])
            {
                i++;
            }

            sb.Append($"; first difference at page index {i} (result position {offset + i})");
            sb.Append($"; engine: {Describe(i < actual.Count ? actual[i] : null)}; naive: {Describe(i < want.Count ? want[i] : null)}");
            var missing = want.Except(actual).Take(3).ToList();
            var extra = actual.Except(want).Take(3).ToList();
            if (missing.Count > 0)
            {
                sb.Append($"; missing from the engine: {string.Join(", ", missing.Select(Describe))}");
            }

            if (extra.Count > 0)
            {
                sb.Append($"; not expected: {string.Join(", ", extra.Select(Describe))}");
            }

            sb.Append($"; {expected.Count} results in all");
            return sb.ToString();
        }

        private string Describe(string? id)
        {
            if (id is null)
            {
                return "(none)";
            }

            var doc = lib.Docs.Values.FirstOrDefault(d => d.Id == id);
            return doc is null
                ? $"{id[..12]} (not in the library)"
                : $"{id[..12]} (key {doc.Key}, trash {doc.InTrash}, kind {doc.Kind}, created {doc.CreatedAt}, {doc.Width}x{doc.Height}, size {doc.Size}, tags [{string.Join(' ', doc.Tags)}])";
        }
    }
}
