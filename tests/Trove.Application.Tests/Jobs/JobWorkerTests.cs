using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Trove.Application.Jobs;
using Trove.Domain;
using Trove.Index.Sqlite;
using ManualClock = Trove.Testing.ManualClock;

namespace Trove.Application.Tests.Jobs;

/// <summary>
/// Workers over a real state database, on a <see cref="ManualClock"/>: time (leases, backoff, timeouts, renewals) moves
/// only when a test advances it; tests wait on the workers' reports and on signals from the handlers, never on sleeps.
/// Separate <see cref="SqliteStateStore"/> instances over one file stand for separate processes.
/// </summary>
public sealed class JobWorkerTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _temp = new();
    private readonly ManualClock _clock = new();
    private readonly List<SqliteStateStore> _stores = [];
    private readonly List<JobWorker> _workers = [];

    private static CancellationToken Ct => CancellationToken.None;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    /// <summary>The queue of one "process": its own connection to the shared state database.</summary>
    private async Task<JobQueue> ProcessAsync()
    {
        var store = await SqliteStateStore.OpenAsync(_temp.Combine("state", "state.db"), Ct);
        _stores.Add(store);
        return new JobQueue(store.Jobs, _clock);
    }

    private JobWorker Worker(JobQueue queue, Activities activities, JobWorkerOptions? options, params IJobHandler[] handlers)
    {
        var worker = new JobWorker(queue, handlers, NullLogger.Instance, options, name =>
        {
            activities.Actors.Enqueue(name);
            return null;
        })
        {
            Observer = activities.Add,
        };
        _workers.Add(worker);
        return worker;
    }

    private static JobKind Kind(string name = "k") => new(name) { BackoffBase = TimeSpan.FromSeconds(10), BackoffCap = TimeSpan.FromSeconds(25) };

    [Fact]
    public async Task A_job_runs_as_its_creator_and_its_progress_and_result_are_stored()
    {
        var queue = await ProcessAsync();
        var activities = new Activities();
        var worker = Worker(queue, activities, null, JobHandler.Create(Kind(), async job =>
        {
            var payload = job.ReadPayload<Payload>();
            for (var i = 1; i <= 10; i++)
            {
                job.Progress.Report(new ProgressInfo("Counting", i, 10));
            }

            await Task.Yield();
            return new { answer = payload.N * 2 };
        }));
        worker.Start();

        // Queued in the same process after the worker started: it is woken at once, no clock needs to move.
        var job = await queue.EnqueueAsync(Kind().Job(new Payload(21), "alice"), Ct);
        var done = await queue.WhenFinishedAsync(job.Id, Ct).WaitAsync(Patience);

        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.Equal("{\"answer\":42}", done.Result);
        Assert.Equal(("Counting", 10L, (long?)10), (done.Phase, done.Done, done.Total));
        Assert.Equal(1, done.Attempts);
        Assert.Equal(worker.Id, done.LeaseOwner);
        Assert.Equal(["alice"], activities.Actors);
        Assert.Equal([JobActivityKind.Claimed, JobActivityKind.Succeeded], activities.All.Select(a => a.Kind));
    }

    [Fact]
    public async Task Failed_attempts_are_retried_with_exponential_backoff_until_the_last_fails_with_its_error()
    {
        var queue = await ProcessAsync();
        var activities = new Activities();
        var kind = Kind() with { MaxAttempts = 4 };
        var worker = Worker(queue, activities, null, JobHandler.Create<int>(kind, job => throw new InvalidOperationException($"boom {job.Attempt}")));
        var start = _clock.GetUtcNow();
        var job = await queue.EnqueueAsync(kind.Job(new Payload(1), "alice"), Ct);
        worker.Start();

        var retryAt = new List<TimeSpan>();
        var now = start;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var retry = await activities.NextAsync(JobActivityKind.Retrying);
            Assert.Equal($"boom {attempt}", retry.Error);
            Assert.Equal((JobStatus.Queued, attempt), (retry.Job.Status, retry.Job.Attempts));
            var wait = retry.Job.AvailableAt - now;
            retryAt.Add(wait);

            // Not a moment before its time: a full look at the queue just before leaves it waiting.
            _clock.Advance(wait - TimeSpan.FromMilliseconds(1));
            var scan = worker.NextScanAsync();
            queue.Wake();
            await scan.WaitAsync(Patience);
            Assert.Equal(JobStatus.Queued, (await queue.GetAsync(job.Id, Ct))!.Status);

            _clock.Advance(TimeSpan.FromMilliseconds(1));
            now = _clock.GetUtcNow();
            queue.Wake();
        }

        var failed = await activities.NextAsync(JobActivityKind.Failed);
        Assert.Equal([TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(25)], retryAt); // 10 × 2^(n−1), capped at 25
        var stored = await queue.GetAsync(job.Id, Ct);
        Assert.Equal((JobStatus.Failed, 4, "boom 4"), (stored!.Status, stored.Attempts, stored.Error));
        Assert.Equal(now, stored.FinishedAt);
    }

    [Fact]
    public async Task Usage_errors_are_not_retried()
    {
        var queue = await ProcessAsync();
        var activities = new Activities();
        var worker = Worker(queue, activities, null, JobHandler.Create<int>(Kind(), _ => throw new TroveUsageException("bad-thing", "The thing is bad.", "Use a good one.")));
        worker.Start();
        var job = await queue.EnqueueAsync(Kind().Job(new Payload(1), "alice"), Ct);
        var done = await queue.WhenFinishedAsync(job.Id, Ct).WaitAsync(Patience);
        Assert.Equal((JobStatus.Failed, 1, "The thing is bad. Use a good one."), (done.Status, done.Attempts, done.Error));
    }

    [Fact]
    public async Task A_job_whose_worker_died_is_retried_by_another_once_the_lease_expires()
    {
        var dead = await ProcessAsync();
        var alive = await ProcessAsync();
        var lease = TimeSpan.FromMinutes(1);
        var job = await dead.EnqueueAsync(Kind().Job(new Payload(5), "alice"), Ct);
        Assert.NotNull(await dead.Store.ClaimAsync("dead-worker", new Dictionary<string, int> { ["k"] = 1 }, lease, _clock.GetUtcNow(), Ct)); // …and never renews

        var activities = new Activities();
        var worker = Worker(alive, activities, new JobWorkerOptions { LeaseDuration = lease }, JobHandler.Create(Kind(), job => Task.FromResult(job.Attempt)));
        worker.Start();
        var scan = worker.NextScanAsync();
        alive.Wake();
        await scan.WaitAsync(Patience);
        Assert.Equal("dead-worker", (await alive.GetAsync(job.Id, Ct))!.LeaseOwner);

        _clock.Advance(lease);
        alive.Wake();
        var done = await alive.WhenFinishedAsync(job.Id, Ct).WaitAsync(Patience);
        Assert.Equal((JobStatus.Succeeded, 2, "2"), (done.Status, done.Attempts, done.Result));
        Assert.Equal(worker.Id, done.LeaseOwner);
    }

    [Fact]
    public async Task Per_kind_concurrency_holds_across_two_workers_in_two_processes()
    {
        var p1 = await ProcessAsync();
        var p2 = await ProcessAsync();
        var started = Channel.CreateUnbounded<string>();
        var gates = new ConcurrentDictionary<string, TaskCompletionSource>();
        var running = 0;
        var maxRunning = 0;
        var kind = Kind() with { Concurrency = 1 };
        IJobHandler Handler() => JobHandler.Create(kind, async job =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            var gate = gates.GetOrAdd(job.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            await started.Writer.WriteAsync(job.Id);
            try
            {
                await gate.Task.WaitAsync(job.CancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }

            return 0;
        });

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await p1.EnqueueAsync(kind.Job(new Payload(i), "alice"), Ct)).Id);
        }

        var activities = new Activities();
        var w1 = Worker(p1, activities, null, Handler());
        var w2 = Worker(p2, activities, null, Handler());
        w1.Start();
        w2.Start();

        var ran = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = await started.Reader.ReadAsync().AsTask().WaitAsync(Patience);
            ran.Add(id);

            // Both workers look at the queue again while the job runs: neither starts a second one.
            var scans = Task.WhenAll(w1.NextScanAsync(), w2.NextScanAsync());
            p1.Wake();
            p2.Wake();
            await scans.WaitAsync(Patience);
            Assert.Equal(1, Volatile.Read(ref running));
            Assert.False(started.Reader.TryPeek(out _));

            // Released, it finishes; its worker then looks again and starts the next one.
            gates.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
            Assert.Equal(id, (await activities.NextAsync(JobActivityKind.Succeeded)).Job.Id);
        }

        Assert.Equal(1, maxRunning);
        Assert.Equal(ids.Order(), ran.Order());
        foreach (var id in ids)
        {
            Assert.Equal(JobStatus.Succeeded, (await p2.GetAsync(id, Ct))!.Status);
        }
    }

    [Fact]
    public async Task Two_workers_run_each_of_many_jobs_exactly_once()
    {
        const int Count = 120;
        var p1 = await ProcessAsync();
        var p2 = await ProcessAsync();
        var kind = Kind() with { Concurrency = 4 };
        var runs = new ConcurrentDictionary<string, int>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IJobHandler Handler(string name) => JobHandler.Create(kind, async job =>
        {
            runs.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
            await Task.Yield();
            if (runs.Count == Count)
            {
                all.TrySetResult();
            }

            return name;
        });

        var ids = new List<string>();
        for (var i = 0; i < Count; i++)
        {
            ids.Add((await p1.EnqueueAsync(kind.Job(new Payload(i), "alice"), Ct)).Id);
        }

        var w1 = Worker(p1, new Activities(), null, Handler("one"));
        var w2 = Worker(p2, new Activities(), null, Handler("two"));
        w1.Start();
        w2.Start();
        await all.Task.WaitAsync(Patience);
        await w1.StopAsync(Ct);
        await w2.StopAsync(Ct);

        Assert.Equal(Count, runs.Count);
        Assert.All(runs.Values, n => Assert.Equal(1, n));
        foreach (var id in ids)
        {
            var job = await p2.GetAsync(id, Ct);
            Assert.Equal((JobStatus.Succeeded, 1), (job!.Status, job.Attempts));
        }
    }

    [Fact]
    public async Task Cancelling_a_queued_job_means_it_never_runs()
    {
        var queue = await ProcessAsync();
        var ran = 0;
        var kind = Kind();
        var job = await queue.EnqueueAsync(kind.Job(new Payload(1), "alice") with { Delay = TimeSpan.FromSeconds(30) }, Ct);
        var worker = Worker(queue, new Activities(), null, JobHandler.Create(kind, _ => Task.FromResult(Interlocked.Increment(ref ran))));
        worker.Start();

        var cancelled = await queue.CancelAsync(job.Id, Ct);
        Assert.Equal(JobStatus.Cancelled, cancelled!.Status);
        _clock.Advance(TimeSpan.FromSeconds(30));
        var scan = worker.NextScanAsync();
        queue.Wake();
        await scan.WaitAsync(Patience);
        Assert.Equal(0, ran);
        Assert.Equal(JobStatus.Cancelled, (await queue.GetAsync(job.Id, Ct))!.Status);
    }

    [Fact]
    public async Task A_running_job_cancelled_from_another_process_stops_when_its_worker_renews()
    {
        var here = await ProcessAsync();
        var elsewhere = await ProcessAsync();
        var activities = new Activities();
        var options = new JobWorkerOptions { LeaseDuration = TimeSpan.FromMinutes(1), RenewInterval = TimeSpan.FromSeconds(20) };
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = Worker(here, activities, options, JobHandler.Create(Kind(), async job =>
        {
            started.SetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, job.CancellationToken);
            return 0;
        }));
        worker.Start();
        var job = await here.EnqueueAsync(Kind().Job(new Payload(1), "alice"), Ct);
        await started.Task.WaitAsync(Patience);

        var asked = await elsewhere.CancelAsync(job.Id, Ct);
        Assert.Equal((JobStatus.Running, true), (asked!.Status, asked.CancelRequested));

        _clock.Advance(options.RenewInterval);
        var cancelled = await activities.NextAsync(JobActivityKind.Cancelled);
        Assert.Equal(job.Id, cancelled.Job.Id);
        Assert.Equal(JobStatus.Cancelled, (await elsewhere.GetAsync(job.Id, Ct))!.Status);
    }

    [Fact]
    public async Task A_running_job_cancelled_in_its_own_process_stops_at_once()
    {
        var queue = await ProcessAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = Worker(queue, new Activities(), null, JobHandler.Create(Kind(), async job =>
        {
            started.SetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, job.CancellationToken);
            return 0;
        }));
        worker.Start();
        var job = await queue.EnqueueAsync(Kind().Job(new Payload(1), "alice"), Ct);
        await started.Task.WaitAsync(Patience);

        await queue.CancelAsync(job.Id, Ct);
        var done = await queue.WhenFinishedAsync(job.Id, Ct).WaitAsync(Patience);
        Assert.Equal(JobStatus.Cancelled, done.Status);
    }

    [Fact]
    public async Task An_attempt_that_runs_past_the_kinds_timeout_is_cancelled_and_retried()
    {
        var queue = await ProcessAsync();
        var activities = new Activities();
        var kind = Kind() with { Timeout = TimeSpan.FromMinutes(5), MaxAttempts = 2 };
        var options = new JobWorkerOptions { LeaseDuration = TimeSpan.FromHours(1), RenewInterval = TimeSpan.FromMinutes(20) };
        var started = Channel.CreateUnbounded<int>();
        var worker = Worker(queue, activities, options, JobHandler.Create(kind, async job =>
        {
            await started.Writer.WriteAsync(job.Attempt);
            await Task.Delay(Timeout.InfiniteTimeSpan, job.CancellationToken);
            return 0;
        }));
        worker.Start();
        var job = await queue.EnqueueAsync(kind.Job(new Payload(1), "alice"), Ct);

        Assert.Equal(1, await started.Reader.ReadAsync().AsTask().WaitAsync(Patience));
        _clock.Advance(kind.Timeout);
        var retry = await activities.NextAsync(JobActivityKind.Retrying);
        Assert.Equal("Attempt 1 timed out after 5 minute(s).", retry.Error);
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromSeconds(10), retry.Job.AvailableAt);

        _clock.Advance(TimeSpan.FromSeconds(10));
        queue.Wake();
        Assert.Equal(2, await started.Reader.ReadAsync().AsTask().WaitAsync(Patience));
        _clock.Advance(kind.Timeout);
        await activities.NextAsync(JobActivityKind.Failed);
        Assert.Equal((JobStatus.Failed, "Attempt 2 timed out after 5 minute(s)."), ((await queue.GetAsync(job.Id, Ct))!.Status, (await queue.GetAsync(job.Id, Ct))!.Error));
    }

    [Fact]
    public async Task Stopping_a_worker_hands_its_running_job_back_for_another_worker()
    {
        var p1 = await ProcessAsync();
        var p2 = await ProcessAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Worker(p1, new Activities(), null, JobHandler.Create(Kind(), async job =>
        {
            started.SetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, job.CancellationToken);
            return "first";
        }));
        first.Start();
        var job = await p1.EnqueueAsync(Kind().Job(new Payload(1), "alice"), Ct);
        await started.Task.WaitAsync(Patience);

        await first.StopAsync(Ct);
        var handedBack = await p2.GetAsync(job.Id, Ct);
        Assert.Equal((JobStatus.Queued, 0), (handedBack!.Status, handedBack.Attempts));

        var second = Worker(p2, new Activities(), null, JobHandler.Create(Kind(), _ => Task.FromResult("second")));
        second.Start();
        var done = await p2.WhenFinishedAsync(job.Id, Ct).WaitAsync(Patience);
        Assert.Equal((JobStatus.Succeeded, "\"second\"", 1), (done.Status, done.Result, done.Attempts));
    }

    [Fact]
    public async Task Work_run_here_is_run_by_this_worker_only_and_cancelled_when_it_stops_first()
    {
        var p1 = await ProcessAsync();
        var p2 = await ProcessAsync();
        var kind = Kind();
        var here = Worker(p1, new Activities(), null, JobHandler.Create(kind, _ => Task.FromResult("handler")));
        var other = Worker(p2, new Activities(), null, JobHandler.Create(kind, _ => Task.FromResult("other")));
        other.Start();

        var pinned = await here.RunHereAsync("k", new Payload(3), "bob", job => Task.FromResult(job.ReadPayload<Payload>().N + 1), Ct);
        var scan = other.NextScanAsync();
        p2.Wake();
        await scan.WaitAsync(Patience);
        Assert.Equal(JobStatus.Queued, (await p2.GetAsync(pinned.Id, Ct))!.Status);

        here.Start();
        var done = await p1.WhenFinishedAsync(pinned.Id, Ct).WaitAsync(Patience);
        Assert.Equal((JobStatus.Succeeded, "4", "bob"), (done.Status, done.Result, done.CreatedBy));

        // Queued behind a running job of its kind when the worker stops: cancelled, since no other process could run it.
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await here.RunHereAsync("k", new Payload(0), "bob", async job =>
        {
            started.SetResult();
            return await release.Task.WaitAsync(job.CancellationToken);
        }, Ct);
        await started.Task.WaitAsync(Patience);
        var waiting = await here.RunHereAsync("k", new Payload(0), "bob", _ => Task.FromResult(0), Ct);
        await here.StopAsync(Ct);
        Assert.Equal(JobStatus.Cancelled, (await p2.GetAsync(waiting.Id, Ct))!.Status);
    }

    [Fact]
    public async Task A_worker_is_present_to_other_processes_while_it_runs_its_heartbeat_keeps_it_so_and_it_leaves_when_it_stops()
    {
        var p1 = await ProcessAsync();
        var p2 = await ProcessAsync();
        var start = _clock.GetUtcNow();
        Assert.Empty(await p2.LiveWorkersAsync(Ct));
        var worker = Worker(p1, new Activities(), null, JobHandler.Create(Kind("suggest"), _ => Task.FromResult(0)), JobHandler.Create(Kind("export"), _ => Task.FromResult(0)));

        // Registered before its first look at the queue, with the kinds it runs, for one lease duration.
        var scan = worker.NextScanAsync();
        worker.Start();
        await scan.WaitAsync(Patience);
        var present = Assert.Single(await p2.LiveWorkersAsync(Ct));
        Assert.Equal((worker.Id, start, start + TimeSpan.FromMinutes(1)), (present.Id, present.StartedAt, present.Until));
        Assert.Equal(["export", "suggest"], present.Kinds);
        Assert.True(present.Runs("suggest"));

        // Each renewal tick is a heartbeat: an idle worker stays present well past its first minute.
        for (var tick = 1; tick <= 4; tick++)
        {
            var beat = worker.NextHeartbeatAsync();
            _clock.Advance(TimeSpan.FromSeconds(20));
            await beat.WaitAsync(Patience);
        }

        present = Assert.Single(await p2.LiveWorkersAsync(Ct));
        Assert.Equal((start, start + TimeSpan.FromSeconds(80), start + TimeSpan.FromSeconds(140)), (present.StartedAt, present.SeenAt, present.Until));

        // A worker that stopped renewing (its process died) is not present once its time is up; a stopped one at once.
        var now = _clock.GetUtcNow();
        await p2.Store.BeatAsync(new WorkerPresence("crashed", ["suggest"], now, now, now + TimeSpan.FromSeconds(30)), Ct);
        Assert.Equal(2, (await p2.LiveWorkersAsync(Ct)).Count);
        Assert.Equal([worker.Id], (await p2.Store.ListWorkersAsync(now + TimeSpan.FromSeconds(30), Ct)).Select(w => w.Id));
        await worker.StopAsync(Ct);
        Assert.Equal(["crashed"], (await p2.LiveWorkersAsync(Ct)).Select(w => w.Id));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed record Payload(int N);

    /// <summary>What a worker reported, in order, and whom it ran jobs as.</summary>
    private sealed class Activities
    {
        private readonly Channel<JobActivity> _channel = Channel.CreateUnbounded<JobActivity>();
        private readonly ConcurrentQueue<JobActivity> _all = new();

        public ConcurrentQueue<string> Actors { get; } = new();

        public IReadOnlyList<JobActivity> All => [.. _all];

        public void Add(JobActivity activity)
        {
            _all.Enqueue(activity);
            _channel.Writer.TryWrite(activity);
        }

        /// <summary>The next report of this kind (earlier ones of other kinds are passed over).</summary>
        public async Task<JobActivity> NextAsync(JobActivityKind kind)
        {
            while (true)
            {
                var next = await _channel.Reader.ReadAsync().AsTask().WaitAsync(Patience);
                if (next.Kind == kind)
                {
                    return next;
                }
            }
        }
    }
}
