using Trove.Application.Ports;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Search.Engine;
using static Trove.Index.Sqlite.Tests.TestData;

namespace Trove.Index.Sqlite.Tests;

/// <summary>
/// One index instance used by many callers at once, as the HTTP server does: pooled parallel reads, one write
/// transaction at a time (a second BeginAsync waits), committed-only change tracking.
/// </summary>
public sealed class SqliteIndexConcurrencyTests : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TempDirectory _temp = new();

    public SqliteIndexConcurrencyTests() => Directory.CreateDirectory(_temp.Combine("index"));

    private string DbPath => _temp.Combine("index", "index.db");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Many_parallel_readers_and_a_committing_writer_see_consistent_committed_data()
    {
        const int seeds = 40;
        const int readers = 16;
        const int readsPerReader = 200;
        const int transactions = 60;
        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        await UpsertAsync(index, [.. Enumerable.Range(0, seeds).Select(n => Sidecar(n, "seed", "s" + n))]);
        var epoch = (await index.GetChangeStateAsync(Ct)).Epoch;

        // Every transaction writes a pair of media, first as "pending", then final; every fifth also removes the pair
        // written before it. Committed state therefore never has a "pending" tag and always has both media of a pair.
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var removed = new HashSet<int>();
        var writer = Task.Run(async () =>
        {
            await start.Task;
            for (var k = 0; k < transactions; k++)
            {
                await using var tx = await index.BeginAsync(Ct);
                var (a, b) = (1000 + (2 * k), 1001 + (2 * k));
                await tx.UpsertMediaAsync(Sidecar(a, "pending"), false, Stamp(Sidecar(a)), Ct);
                await Task.Yield();

                // Reads made while the transaction is open see its writes.
                Assert.Equal(["pending"], (await index.GetMediaAsync(IdOf(a), Ct))!.Tags);
                await tx.UpsertMediaAsync(Sidecar(b, "pending"), false, Stamp(Sidecar(b)), Ct);
                await Task.Yield();
                foreach (var n in new[] { a, b })
                {
                    var final = Sidecar(n, "pair", "p" + k);
                    final.Revision = 2;
                    await tx.UpsertMediaAsync(final, false, Stamp(final), Ct);
                    await Task.Yield();
                }

                if (k % 5 == 4)
                {
                    await tx.RemoveMediaAsync(IdOf(a - 2), Ct);
                    await Task.Yield();
                    await tx.RemoveMediaAsync(IdOf(b - 2), Ct);
                    removed.UnionWith([a - 2, b - 2]);
                }

                await tx.CommitAsync(Ct);
            }
        });

        var tasks = Enumerable.Range(0, readers).Select(r => Task.Run(async () =>
        {
            await start.Task;
            var random = new Random(r);
            long lastSeq = 0;
            var done = 0;

            // At least readsPerReader reads each, and on until the writer is done, so reads span every transaction.
            for (var i = 0; i < readsPerReader || !writer.IsCompleted; i++)
            {
                var seed = random.Next(seeds);
                switch ((r + i) % 6)
                {
                    case 0:
                        var media = await index.GetMediaAsync(IdOf(seed), Ct);
                        Assert.NotNull(media);
                        Assert.Equal(Sorted(["seed", "s" + seed]), media.Tags);
                        break;
                    case 1:
                        Assert.Contains(IdOf(seed), await index.FindIdsByPrefixAsync(IdOf(seed)[..8], 10, Ct));
                        break;
                    case 2:
                        var state = await index.GetChangeStateAsync(Ct);
                        Assert.Equal(epoch, state.Epoch);
                        Assert.True(state.ChangeSeq >= lastSeq, $"change {state.ChangeSeq} after {lastSeq}");
                        lastSeq = state.ChangeSeq;
                        break;
                    case 3:
                        var tags = (await index.ListTagsAsync(Ct)).ToDictionary(t => t.Name, StringComparer.Ordinal);
                        Assert.Equal(seeds, tags["seed"].Count);
                        Assert.Equal(1, tags["s" + seed].Count);
                        break;
                    case 4:
                        AssertCommittedDocuments(await ReadDocumentsAsync(index, 0), seeds);
                        break;
                    default:
                        // Pairs are removed in one transaction: committed state never has half of one removed.
                        Assert.Equal(0, (await index.RemovedSinceAsync(0, Ct)).Count % 2);
                        Assert.True(await index.CountMediaAsync(inTrash: false, Ct) >= seeds);
                        break;
                }

                done++;
            }

            return done;
        })).ToList();

        // A search engine kept in step while all this goes on.
        var searcher = Task.Run(async () =>
        {
            await start.Task;
            using var search = new LibrarySearch(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            for (var i = 0; i < 50 || !writer.IsCompleted; i++)
            {
                var engine = await search.ReadyAsync(index, Ct);
                Assert.Equal(0, engine.Search("pending", new SearchRequest(10), Ct).Total);
                Assert.Equal(seeds, engine.Search("seed", new SearchRequest(10), Ct).Total);
                Assert.Equal(0, engine.Search("pair", new SearchRequest(10), Ct).Total % 2);
            }
        });

        start.SetResult();
        await Task.WhenAll([writer, searcher, .. tasks]);
        Assert.All(tasks, t => Assert.True(t.Result >= readsPerReader));

        // The final state: every pair written and not removed, nothing pending.
        var expected = Enumerable.Range(0, seeds).Concat(Enumerable.Range(1000, 2 * transactions).Except(removed)).Select(IdOf);
        var docs = await ReadDocumentsAsync(index, 0);
        AssertCommittedDocuments(docs, seeds);
        Assert.Equal(Sorted(expected), Sorted(docs.Select(d => d.Id)));
        Assert.Equal(seeds + (2 * transactions) - removed.Count, await index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(removed.Count, (await index.RemovedSinceAsync(0, Ct)).Count);
        await using var second = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        Assert.Equal(await second.GetChangeStateAsync(Ct), await index.GetChangeStateAsync(Ct));
        Assert.Equal(Sorted(expected), Sorted((await ReadDocumentsAsync(second, 0)).Select(d => d.Id)));
    }

    [Fact]
    public async Task A_second_BeginAsync_waits_until_the_first_transaction_is_committed()
    {
        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        var first = await index.BeginAsync(Ct);
        await first.UpsertMediaAsync(Sidecar(1, "a"), false, Stamp(Sidecar(1)), Ct);

        var waiting = index.BeginAsync(Ct);
        Assert.False(waiting.IsCompleted);

        // Reads go on meanwhile: through the open transaction, and committed-only ones beside it.
        Assert.NotNull(await index.GetMediaAsync(IdOf(1), Ct));
        Assert.Empty(await ReadDocumentsAsync(index, 0));
        Assert.Equal(0, (await index.GetChangeStateAsync(Ct)).ChangeSeq);
        Assert.False(waiting.IsCompleted);

        await first.CommitAsync(Ct);
        await using (var second = await waiting)
        {
            // The second transaction starts from the first one's commit (disposed late, harmlessly).
            Assert.NotNull(await index.GetMediaAsync(IdOf(1), Ct));
            await first.DisposeAsync();
            await second.UpsertMediaAsync(Sidecar(2, "b"), false, Stamp(Sidecar(2)), Ct);
            await second.CommitAsync(Ct);
        }

        Assert.Equal(2, await index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(Sorted([IdOf(1), IdOf(2)]), Sorted((await ReadDocumentsAsync(index, 0)).Select(d => d.Id)));
    }

    [Fact]
    public async Task A_second_BeginAsync_waits_until_the_first_transaction_is_disposed()
    {
        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        var first = await index.BeginAsync(Ct);
        await first.UpsertMediaAsync(Sidecar(1, "a"), false, Stamp(Sidecar(1)), Ct);

        var waiting = index.BeginAsync(Ct);
        Assert.False(waiting.IsCompleted);
        await first.DisposeAsync();

        await using (var second = await waiting)
        {
            Assert.Null(await index.GetMediaAsync(IdOf(1), Ct));
            await second.UpsertMediaAsync(Sidecar(2, "b"), false, Stamp(Sidecar(2)), Ct);
            await second.CommitAsync(Ct);
        }

        Assert.Equal([IdOf(2)], (await ReadDocumentsAsync(index, 0)).Select(d => d.Id));
    }

    [Fact]
    public async Task Cancelling_a_waiting_BeginAsync_throws_and_leaves_the_index_usable()
    {
        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        var first = await index.BeginAsync(Ct);

        using var cts = new CancellationTokenSource();
        var waiting = index.BeginAsync(cts.Token);
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        // An already cancelled token fails at once, too.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => index.BeginAsync(cts.Token));

        // The open transaction is untouched, and the next BeginAsync gets in as soon as it ends.
        await first.UpsertMediaAsync(Sidecar(1, "a"), false, Stamp(Sidecar(1)), Ct);
        var next = index.BeginAsync(Ct);
        Assert.False(next.IsCompleted);
        await first.CommitAsync(Ct);
        await using (var tx = await next)
        {
            await tx.UpsertMediaAsync(Sidecar(2, "b"), false, Stamp(Sidecar(2)), Ct);
            await tx.CommitAsync(Ct);
        }

        await first.DisposeAsync();
        Assert.Equal(2, await index.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task Writers_on_many_tasks_take_turns()
    {
        const int writers = 8;
        const int each = 20;
        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var open = 0;
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            await start.Task;
            for (var i = 0; i < each; i++)
            {
                await using var tx = await index.BeginAsync(Ct);
                Assert.Equal(1, Interlocked.Increment(ref open));
                var sidecar = Sidecar((w * 1000) + i, "w" + w);
                await tx.UpsertMediaAsync(sidecar, false, Stamp(sidecar), Ct);
                await Task.Yield();
                Assert.NotNull(await index.GetMediaAsync(sidecar.Id, Ct));
                Interlocked.Decrement(ref open);
                await tx.CommitAsync(Ct);
            }
        })).ToList();

        start.SetResult();
        await Task.WhenAll(tasks);

        Assert.Equal(writers * each, await index.CountMediaAsync(inTrash: false, Ct));
        Assert.All(await index.ListTagsAsync(Ct), t => Assert.Equal(each, t.Count));
        Assert.Equal(writers * each, (await index.GetChangeStateAsync(Ct)).ChangeSeq);
    }

    [Fact]
    public async Task An_enumeration_keeps_its_snapshot_while_other_reads_and_commits_go_on()
    {
        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        await UpsertAsync(index, Sidecar(1, "a"), Sidecar(2, "a"), Sidecar(3, "a"));

        await using (var documents = index.ReadSearchDocumentsAsync(0, Ct).GetAsyncEnumerator(Ct))
        {
            Assert.True(await documents.MoveNextAsync());
            var seen = new List<string> { documents.Current.Id };

            // The enumeration holds one read connection; other reads and a commit happen beside it.
            await UpsertAsync(index, Sidecar(4, "b"));
            await using (var tx = await index.BeginAsync(Ct))
            {
                await tx.RemoveMediaAsync(IdOf(1), Ct);
                await tx.RemoveMediaAsync(IdOf(2), Ct);
                await tx.RemoveMediaAsync(IdOf(3), Ct);
                await tx.CommitAsync(Ct);
            }

            Assert.Equal([IdOf(4)], (await ReadDocumentsAsync(index, 0)).Select(d => d.Id));
            Assert.Equal(1, await index.CountMediaAsync(inTrash: false, Ct));

            while (await documents.MoveNextAsync())
            {
                seen.Add(documents.Current.Id);
            }

            Assert.Equal(Sorted([IdOf(1), IdOf(2), IdOf(3)]), Sorted(seen));
        }

        Assert.Equal([IdOf(4)], (await ReadDocumentsAsync(index, 0)).Select(d => d.Id));
    }

    [Fact]
    public async Task Disposing_the_index_closes_every_connection_and_fails_a_waiting_BeginAsync()
    {
        var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        await UpsertAsync(index, Sidecar(1, "a"));

        // Many reads at once open several read connections.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var enumerations = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            await using var documents = index.ReadSearchDocumentsAsync(0, Ct).GetAsyncEnumerator(Ct);
            Assert.True(await documents.MoveNextAsync());
            await release.Task;
            Assert.False(await documents.MoveNextAsync());
        })).ToList();
        release.SetResult();
        await Task.WhenAll(enumerations);
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => index.GetChangeStateAsync(Ct))));
        Assert.True(File.Exists(DbPath + "-wal"));

        var tx = await index.BeginAsync(Ct);
        await tx.UpsertMediaAsync(Sidecar(2, "b"), false, Stamp(Sidecar(2)), Ct);
        var waiting = index.BeginAsync(Ct);
        Assert.False(waiting.IsCompleted);

        await index.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => index.GetMediaAsync(IdOf(1), Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => index.BeginAsync(Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => tx.CommitAsync(Ct));
        await tx.DisposeAsync();

        // The last connection to close checkpoints the WAL and removes it: none is left open.
        Assert.False(File.Exists(DbPath + "-wal"));
        Assert.False(File.Exists(DbPath + "-shm"));

        await using var reopened = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        Assert.Equal([IdOf(1)], (await ReadDocumentsAsync(reopened, 0)).Select(d => d.Id));
    }

    private static void AssertCommittedDocuments(List<SearchDocument> docs, int seeds)
    {
        var ids = docs.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(docs, d => d.Tags.Contains("pending"));
        Assert.Equal(seeds, docs.Count(d => d.Tags.Contains("seed")));
        foreach (var doc in docs.Where(d => d.Tags.Contains("pair")))
        {
            // Pairs are (1000 + 2k, 1001 + 2k), tagged p{k}: both media of a pair or neither.
            var k = int.Parse(doc.Tags.Single(t => t.StartsWith('p') && t != "pair")[1..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains(IdOf(1000 + (2 * k)), ids);
            Assert.Contains(IdOf(1001 + (2 * k)), ids);
        }
    }

    private static async Task<List<SearchDocument>> ReadDocumentsAsync(ILibraryIndex index, long afterSeq)
    {
        var result = new List<SearchDocument>();
        await foreach (var doc in index.ReadSearchDocumentsAsync(afterSeq, Ct))
        {
            result.Add(doc);
        }

        return result;
    }

    private static string[] Sorted(IEnumerable<string> values) => [.. values.Order(StringComparer.Ordinal)];
}
