using Microsoft.Data.Sqlite;
using Trove.Application.Jobs;
using Trove.Index.Sqlite;

namespace Trove.Application.Tests.Jobs;

/// <summary>
/// The queue in the state database: two <see cref="SqliteStateStore"/> instances over one real file stand for two
/// processes. Time is given explicitly (claims, leases and backoff take "now").
/// </summary>
public sealed class JobQueueTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _temp = new();
    private SqliteStateStore _a = null!;
    private SqliteStateStore _b = null!;

    private static CancellationToken Ct => CancellationToken.None;

    private string DbPath => _temp.Combine("state", "state.db");

    public async Task InitializeAsync()
    {
        _a = await SqliteStateStore.OpenAsync(DbPath, Ct);
        _b = await SqliteStateStore.OpenAsync(DbPath, Ct);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    private static Dictionary<string, int> Kinds(params (string Kind, int Limit)[] kinds) => kinds.ToDictionary(k => k.Kind, k => k.Limit);

    private static Task<JobRecord> EnqueueAsync(SqliteStateStore store, string kind, string payload = "{}", int priority = 0, TimeSpan delay = default, int maxAttempts = 3, DateTimeOffset? now = null) =>
        store.Jobs.EnqueueAsync(new NewJob(kind, payload, "alice") { Priority = priority, Delay = delay, MaxAttempts = maxAttempts }, now ?? T0, Ct);

    [Fact]
    public async Task Jobs_are_claimed_by_priority_then_in_queue_order()
    {
        var low = await EnqueueAsync(_a, "k", "{\"n\":1}", priority: 0, now: T0);
        var high = await EnqueueAsync(_a, "k", "{\"n\":2}", priority: 10, now: T0.AddSeconds(1));
        var mid1 = await EnqueueAsync(_a, "k", "{\"n\":3}", priority: 5, now: T0.AddSeconds(2));
        var mid2 = await EnqueueAsync(_a, "k", "{\"n\":4}", priority: 5, now: T0.AddSeconds(3));
        Assert.Equal(JobStatus.Queued, low.Status);
        Assert.Equal("{\"n\":1}", low.Payload);

        var order = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var job = await _b.Jobs.ClaimAsync("w", Kinds(("k", 10)), Lease, T0.AddSeconds(10), Ct);
            order.Add(job!.Id);
            Assert.Equal(JobStatus.Running, job.Status);
            Assert.Equal(1, job.Attempts);
            Assert.Equal("w", job.LeaseOwner);
            Assert.Equal(T0.AddSeconds(10) + Lease, job.LeaseUntil);
        }

        Assert.Equal([high.Id, mid1.Id, mid2.Id, low.Id], order);
        Assert.Null(await _b.Jobs.ClaimAsync("w", Kinds(("k", 10)), Lease, T0.AddSeconds(10), Ct));
    }

    [Fact]
    public async Task A_delayed_job_is_not_claimed_before_its_time()
    {
        var job = await EnqueueAsync(_a, "k", delay: TimeSpan.FromSeconds(30));
        Assert.Equal(T0.AddSeconds(30), job.AvailableAt);
        Assert.Null(await _a.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0.AddSeconds(29.999), Ct));
        Assert.Equal(job.Id, (await _b.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0.AddSeconds(30), Ct))?.Id);
    }

    [Fact]
    public async Task Only_the_asked_kinds_are_claimed()
    {
        await EnqueueAsync(_a, "other");
        Assert.Null(await _a.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0, Ct));
        Assert.NotNull(await _a.Jobs.ClaimAsync("w", Kinds(("k", 1), ("other", 1)), Lease, T0, Ct));
    }

    [Fact]
    public async Task Per_kind_concurrency_counts_running_jobs_of_every_process()
    {
        for (var i = 0; i < 3; i++)
        {
            await EnqueueAsync(_a, "export");
        }

        var other = await EnqueueAsync(_a, "suggest");

        var first = await _a.Jobs.ClaimAsync("worker-a", Kinds(("export", 1)), Lease, T0, Ct);
        Assert.NotNull(first);

        // "Process" b may run one export at a time too: one is running (in a), so it gets none — but other kinds still run.
        Assert.Null(await _b.Jobs.ClaimAsync("worker-b", Kinds(("export", 1)), Lease, T0, Ct));
        Assert.Equal(other.Id, (await _b.Jobs.ClaimAsync("worker-b", Kinds(("export", 1), ("suggest", 1)), Lease, T0, Ct))?.Id);

        // With a limit of 2, b may run a second export beside a's.
        var second = await _b.Jobs.ClaimAsync("worker-b", Kinds(("export", 2)), Lease, T0, Ct);
        Assert.NotNull(second);
        Assert.Null(await _b.Jobs.ClaimAsync("worker-b", Kinds(("export", 2)), Lease, T0, Ct));

        // When a's export ends, a slot is free again.
        Assert.True(await _a.Jobs.CompleteAsync(first.Id, "worker-a", "{\"ok\":true}", T0.AddSeconds(5), Ct));
        Assert.NotNull(await _b.Jobs.ClaimAsync("worker-b", Kinds(("export", 2)), Lease, T0.AddSeconds(5), Ct));
    }

    [Fact]
    public async Task An_expired_lease_makes_the_job_claimable_again_and_counts_the_attempt()
    {
        var job = await EnqueueAsync(_a, "k", maxAttempts: 3);
        var crashed = await _a.Jobs.ClaimAsync("crashed", Kinds(("k", 1)), Lease, T0, Ct);
        Assert.Equal(1, crashed!.Attempts);

        // The lease is live: nobody else gets the job, and the kind's slot is taken.
        Assert.Null(await _b.Jobs.ClaimAsync("survivor", Kinds(("k", 1)), Lease, T0 + Lease - TimeSpan.FromMilliseconds(1), Ct));

        // "crashed" never renews: once the lease has run out, another process takes the job over as attempt 2.
        var retried = await _b.Jobs.ClaimAsync("survivor", Kinds(("k", 1)), Lease, T0 + Lease, Ct);
        Assert.Equal(job.Id, retried?.Id);
        Assert.Equal(2, retried!.Attempts);
        Assert.Equal("survivor", retried.LeaseOwner);
        Assert.Contains("crashed stopped renewing its lease during attempt 1 of 3", retried.Error, StringComparison.Ordinal);

        // The crashed worker's late writes are refused: it no longer holds the job.
        Assert.False(await _a.Jobs.CompleteAsync(job.Id, "crashed", "{}", T0 + Lease, Ct));
        Assert.False(await _a.Jobs.ReportProgressAsync(job.Id, "crashed", "late", 1, 2, Ct));
        Assert.Empty(await _a.Jobs.RenewLeasesAsync("crashed", Lease, T0 + Lease, Ct));
        Assert.Equal([new HeldJob(job.Id, false)], await _b.Jobs.RenewLeasesAsync("survivor", Lease, T0 + Lease, Ct));
    }

    [Fact]
    public async Task A_job_whose_worker_keeps_dying_fails_after_its_last_attempt()
    {
        var job = await EnqueueAsync(_a, "k", maxAttempts: 2);
        var now = T0;
        Assert.NotNull(await _a.Jobs.ClaimAsync("w1", Kinds(("k", 1)), Lease, now, Ct));
        now += Lease;
        Assert.Equal(2, (await _a.Jobs.ClaimAsync("w2", Kinds(("k", 1)), Lease, now, Ct))?.Attempts);
        now += Lease;
        Assert.Null(await _a.Jobs.ClaimAsync("w3", Kinds(("k", 1)), Lease, now, Ct));
        var failed = await _b.Jobs.GetAsync(job.Id, Ct);
        Assert.Equal(JobStatus.Failed, failed!.Status);
        Assert.Equal(now, failed.FinishedAt);
        Assert.Contains("w2 stopped renewing its lease during attempt 2 of 2", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Renewing_keeps_the_lease_alive()
    {
        var job = await EnqueueAsync(_a, "k");
        await _a.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0, Ct);
        var now = T0;
        for (var i = 0; i < 5; i++)
        {
            now += Lease / 2;
            Assert.Equal([new HeldJob(job.Id, false)], await _a.Jobs.RenewLeasesAsync("w", Lease, now, Ct));
            Assert.Null(await _b.Jobs.ClaimAsync("other", Kinds(("k", 5)), Lease, now, Ct));
        }

        Assert.Equal(now + Lease, (await _b.Jobs.GetAsync(job.Id, Ct))!.LeaseUntil);
    }

    [Fact]
    public async Task A_failed_attempt_is_queued_again_until_the_last_which_fails_with_its_error()
    {
        var job = await EnqueueAsync(_a, "k", maxAttempts: 2);
        await _a.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0, Ct);
        var retry = await _a.Jobs.FailAsync(job.Id, "w", "first error", T0.AddSeconds(40), T0.AddSeconds(1), Ct);
        Assert.Equal(JobStatus.Queued, retry!.Status);
        Assert.Equal(T0.AddSeconds(40), retry.AvailableAt);
        Assert.Equal("first error", retry.Error);
        Assert.Null(retry.LeaseUntil);
        Assert.Null(await _b.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0.AddSeconds(39), Ct));

        Assert.Equal(2, (await _b.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0.AddSeconds(40), Ct))?.Attempts);
        var failed = await _b.Jobs.FailAsync(job.Id, "w", "second error", T0.AddSeconds(100), T0.AddSeconds(41), Ct);
        Assert.Equal(JobStatus.Failed, failed!.Status);
        Assert.Equal("second error", failed.Error);
        Assert.Equal(T0.AddSeconds(41), failed.FinishedAt);

        // Only the holder can fail it, and only once.
        Assert.Null(await _b.Jobs.FailAsync(job.Id, "w", "again", null, T0.AddSeconds(42), Ct));
    }

    [Fact]
    public async Task A_failure_without_retry_fails_at_once()
    {
        var job = await EnqueueAsync(_a, "k", maxAttempts: 5);
        await _a.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0, Ct);
        var failed = await _a.Jobs.FailAsync(job.Id, "w", "bad input", retryAt: null, T0, Ct);
        Assert.Equal(JobStatus.Failed, failed!.Status);
        Assert.Equal(1, failed.Attempts);
    }

    [Fact]
    public async Task Cancelling_a_queued_job_cancels_it_at_once_and_a_running_one_asks_its_worker()
    {
        var queued = await EnqueueAsync(_a, "k");
        var cancelled = await _b.Jobs.CancelAsync(queued.Id, T0.AddSeconds(1), Ct);
        Assert.Equal(JobStatus.Cancelled, cancelled!.Status);
        Assert.Equal(T0.AddSeconds(1), cancelled.FinishedAt);
        Assert.Null(await _a.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0.AddSeconds(2), Ct));

        var running = await EnqueueAsync(_a, "k");
        await _a.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0, Ct);
        var asked = await _b.Jobs.CancelAsync(running.Id, T0.AddSeconds(1), Ct);
        Assert.Equal(JobStatus.Running, asked!.Status);
        Assert.True(asked.CancelRequested);

        // The worker learns it when it renews, and reports the job cancelled.
        Assert.Equal([new HeldJob(running.Id, true)], await _a.Jobs.RenewLeasesAsync("w", Lease, T0.AddSeconds(2), Ct));
        Assert.True(await _a.Jobs.MarkCancelledAsync(running.Id, "w", T0.AddSeconds(3), Ct));
        Assert.Equal(JobStatus.Cancelled, (await _b.Jobs.GetAsync(running.Id, Ct))!.Status);

        // Finished jobs stay as they are.
        var again = await _b.Jobs.CancelAsync(running.Id, T0.AddSeconds(4), Ct);
        Assert.Equal(T0.AddSeconds(3), again!.FinishedAt);
        Assert.Null(await _b.Jobs.CancelAsync("000000000000000000000000", T0, Ct));
    }

    [Fact]
    public async Task A_cancel_request_is_final_even_if_the_worker_then_dies_or_fails()
    {
        var dies = await EnqueueAsync(_a, "k");
        await _a.Jobs.ClaimAsync("w", Kinds(("k", 2)), Lease, T0, Ct);
        await _b.Jobs.CancelAsync(dies.Id, T0, Ct);
        Assert.Null(await _b.Jobs.ClaimAsync("w2", Kinds(("k", 2)), Lease, T0 + Lease, Ct));
        Assert.Equal(JobStatus.Cancelled, (await _b.Jobs.GetAsync(dies.Id, Ct))!.Status);

        var fails = await EnqueueAsync(_a, "k");
        await _a.Jobs.ClaimAsync("w", Kinds(("k", 2)), Lease, T0 + Lease, Ct);
        await _b.Jobs.CancelAsync(fails.Id, T0 + Lease, Ct);
        var after = await _a.Jobs.FailAsync(fails.Id, "w", "boom", T0 + (Lease * 2), T0 + Lease, Ct);
        Assert.Equal(JobStatus.Cancelled, after!.Status);
        Assert.Equal("boom", after.Error);
    }

    [Fact]
    public async Task Releasing_at_shutdown_queues_the_job_again_without_counting_the_attempt()
    {
        var job = await EnqueueAsync(_a, "k");
        await _a.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0, Ct);
        Assert.True(await _a.Jobs.ReleaseAsync(job.Id, "w", T0.AddSeconds(5), Ct));
        var released = await _b.Jobs.GetAsync(job.Id, Ct);
        Assert.Equal(JobStatus.Queued, released!.Status);
        Assert.Equal(0, released.Attempts);
        var next = await _b.Jobs.ClaimAsync("w2", Kinds(("k", 1)), Lease, T0.AddSeconds(5), Ct);
        Assert.Equal(1, next!.Attempts);
    }

    [Fact]
    public async Task Progress_and_result_are_stored()
    {
        var job = await EnqueueAsync(_a, "k");
        await _a.Jobs.ClaimAsync("w", Kinds(("k", 1)), Lease, T0, Ct);
        Assert.True(await _a.Jobs.ReportProgressAsync(job.Id, "w", "Exporting", 3, 10, Ct));
        var mid = await _b.Jobs.GetAsync(job.Id, Ct);
        Assert.Equal(("Exporting", 3L, (long?)10), (mid!.Phase, mid.Done, mid.Total));

        Assert.True(await _a.Jobs.CompleteAsync(job.Id, "w", "{\"media\":10}", T0.AddSeconds(9), Ct));
        var done = await _b.Jobs.GetAsync(job.Id, Ct);
        Assert.Equal(JobStatus.Succeeded, done!.Status);
        Assert.Equal("{\"media\":10}", done.Result);
        Assert.Equal(T0.AddSeconds(9), done.FinishedAt);
        Assert.Equal(("Exporting", 3L), (done.Phase, done.Done));
        Assert.Null(done.LeaseUntil);
        Assert.False(await _a.Jobs.CompleteAsync(job.Id, "w", "{}", T0.AddSeconds(10), Ct));
    }

    [Fact]
    public async Task Pinned_jobs_are_claimed_only_by_their_worker_and_fail_when_it_stops_renewing()
    {
        var pinned = await _a.Jobs.EnqueueAsync(new NewJob("k", "{}", "alice") { PinnedTo = "home", PinLease = Lease }, T0, Ct);
        Assert.Null(await _b.Jobs.ClaimAsync("stranger", Kinds(("k", 5)), Lease, T0, Ct));
        Assert.Equal(pinned.Id, (await _a.Jobs.ClaimAsync("home", Kinds(("k", 5)), Lease, T0, Ct))?.Id);

        var orphan = await _a.Jobs.EnqueueAsync(new NewJob("k", "{}", "alice") { PinnedTo = "gone", PinLease = Lease }, T0, Ct);
        await _a.Jobs.RenewLeasesAsync("gone", Lease, T0 + (Lease / 2), Ct);
        Assert.Null(await _b.Jobs.ClaimAsync("stranger", Kinds(("k", 5)), Lease, T0 + Lease, Ct));
        Assert.Equal(JobStatus.Queued, (await _b.Jobs.GetAsync(orphan.Id, Ct))!.Status);
        Assert.Null(await _b.Jobs.ClaimAsync("stranger", Kinds(("k", 5)), Lease, T0 + (Lease * 1.5), Ct));
        var failed = await _b.Jobs.GetAsync(orphan.Id, Ct);
        Assert.Equal(JobStatus.Failed, failed!.Status);
        Assert.Contains("stopped before it could run it", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_claims_from_two_processes_never_hand_out_a_job_twice()
    {
        const int Count = 200;
        for (var i = 0; i < Count; i++)
        {
            await EnqueueAsync(_a, "k", $"{{\"n\":{i}}}");
        }

        async Task<List<string>> DrainAsync(SqliteStateStore store, string worker)
        {
            var mine = new List<string>();
            while (await store.Jobs.ClaimAsync(worker, Kinds(("k", Count)), Lease, T0, Ct) is { } job)
            {
                mine.Add(job.Id);
            }

            return mine;
        }

        var results = await Task.WhenAll(Task.Run(() => DrainAsync(_a, "a")), Task.Run(() => DrainAsync(_b, "b")));
        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(Count, all.Count);
        Assert.Equal(Count, all.Distinct().Count());
    }

    [Fact]
    public async Task A_schema_2_database_is_migrated_and_its_interrupted_job_is_retried()
    {
        var path = _temp.Combine("old", "state.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await old.OpenAsync();
            await using var cmd = old.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                INSERT INTO meta VALUES('schema_version', '2');
                CREATE TABLE jobs(
                    id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,
                    started_at INTEGER, finished_at INTEGER, phase TEXT, done INTEGER NOT NULL DEFAULT 0, total INTEGER,
                    parameters TEXT NOT NULL, result TEXT, error TEXT) WITHOUT ROWID;
                INSERT INTO jobs VALUES('aaaa00000000000000000001', 'export', 'running', 'alice', 1000, 1000, NULL, 'Exporting', 3, 10, '{"query":"a"}', NULL, NULL);
                INSERT INTO jobs VALUES('aaaa00000000000000000002', 'export', 'succeeded', 'bob', 900, 900, 950, NULL, 4, 4, '{"query":"b"}', '{"media":4}', NULL);
                """;
            await cmd.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
        await using (var first = await SqliteStateStore.OpenAsync(path, Ct))
        await using (var second = await SqliteStateStore.OpenAsync(path, Ct))
        {
            var done = await second.Jobs.GetAsync("aaaa00000000000000000002", Ct);
            Assert.Equal((JobStatus.Succeeded, "{\"media\":4}"), (done!.Status, done.Result));

            var interrupted = await first.Jobs.ClaimAsync("w", Kinds(("export", 1)), Lease, T0, Ct);
            Assert.Equal("aaaa00000000000000000001", interrupted?.Id);
            Assert.Equal((2, 3), (interrupted!.Attempts, interrupted.MaxAttempts));
            Assert.Equal("{\"query\":\"a\"}", interrupted.Payload);
        }

        await using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        await check.OpenAsync();
        await using var version = check.CreateCommand();
        version.CommandText = "SELECT value FROM meta WHERE key='schema_version'";
        Assert.Equal("4", await version.ExecuteScalarAsync());
    }
}
