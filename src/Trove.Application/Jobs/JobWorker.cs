using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Trove.Domain;

namespace Trove.Application.Jobs;

/// <summary>How a <see cref="JobWorker"/> polls, leases and reports.</summary>
public sealed class JobWorkerOptions
{
    /// <summary>How often the worker looks at the queue when nothing in its process tells it of a new job.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a claim (or renewal) holds a job; a worker that stops renewing loses its jobs after this.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the worker renews its leases (and learns of cancel requests): well inside <see cref="LeaseDuration"/>.</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Progress is written to the queue at most this often.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Overrides every kind's concurrency for this worker (<c>trove worker --concurrency N</c>).</summary>
    public int? Concurrency { get; set; }

    /// <summary>Null: host name, process id and a random suffix.</summary>
    public string? WorkerId { get; set; }
}

public enum JobActivityKind
{
    Claimed,
    Succeeded,
    Retrying,
    Failed,
    Cancelled,
    Released,
    LeaseLost,
}

/// <summary>Something a worker did with a job (for hosts that print it): the job as it stands after, and the error text.</summary>
public sealed record JobActivity(JobActivityKind Kind, JobRecord Job, string? Error = null);

/// <summary>
/// Runs queued jobs of the kinds it has handlers for, in <c>trove serve</c> and in <c>trove worker</c> processes: claims
/// due jobs (highest priority first, within each kind's concurrency counted over all processes), runs each with a token
/// cancelled by shutdown, by a cancel request, by the kind's timeout or by losing the lease, renews its leases every
/// <see cref="JobWorkerOptions.RenewInterval"/>, writes progress, and finishes the job: succeeded with the handler's
/// result, or failed — queued again after an exponential backoff while attempts remain. Stopping the worker hands its
/// running jobs back to the queue. Wakes on jobs queued in its own process at once, and polls for the others. While it
/// runs it records its presence (id, kinds) in the state database with each heartbeat, valid for one lease duration, so
/// that other processes can tell whether anyone will run what they queue (<see cref="JobQueue.LiveWorkersAsync"/>).
/// </summary>
public sealed class JobWorker : IAsyncDisposable
{
    private readonly JobQueue _queue;
    private readonly Dictionary<string, IJobHandler> _handlers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobKind> _kinds = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private readonly JobWorkerOptions _options;
    private readonly Func<string, IDisposable?>? _actAs;
    private readonly ConcurrentDictionary<string, Func<JobContext, Task<object?>>> _local = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Execution> _active = new(StringComparer.Ordinal);
    private readonly HashSet<Execution> _executions = [];
    private readonly Dictionary<string, int> _runningPerKind = new(StringComparer.Ordinal);
    private readonly List<(long After, TaskCompletionSource Done)> _scanWaiters = [];
    private long _scansStarted;
    private DateTimeOffset _startedAt;
    private TaskCompletionSource _beat = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _stopping;
    private CancellationTokenSource? _heartbeatStop;
    private PeriodicTimer? _timer;
    private Task _loop = Task.CompletedTask;
    private Task _heartbeat = Task.CompletedTask;
    private int _state; // 0 new, 1 running, 2 stopped

    public JobWorker(JobQueue queue, IEnumerable<IJobHandler> handlers, ILogger logger, JobWorkerOptions? options = null, Func<string, IDisposable?>? actAs = null)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        _queue = queue ?? throw new ArgumentNullException(nameof(queue));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _options = options ?? new JobWorkerOptions();
        _actAs = actAs;
        if (_options.Concurrency is < 1)
        {
            throw new TroveUsageException("bad-concurrency", $"Concurrency must be at least 1 (got {_options.Concurrency}).");
        }

        if (_options.RenewInterval <= TimeSpan.Zero || _options.RenewInterval >= _options.LeaseDuration)
        {
            throw new ArgumentException($"The renew interval ({_options.RenewInterval}) must be positive and shorter than the lease ({_options.LeaseDuration}).", nameof(options));
        }

        foreach (var handler in handlers)
        {
            var kind = handler.Kind;
            if (!_handlers.TryAdd(kind.Name, handler))
            {
                throw new ArgumentException($"Two handlers for jobs of kind '{kind.Name}'.", nameof(handlers));
            }

            _kinds[kind.Name] = _options.Concurrency is { } n ? kind with { Concurrency = n } : kind;
        }

        Id = _options.WorkerId ?? $"{Environment.MachineName}:{Environment.ProcessId}:{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
    }

    /// <summary>A worker over a library's queue that runs each job as the account that queued it.</summary>
    public JobWorker(TroveLibrary library, IEnumerable<IJobHandler> handlers, ILogger logger, JobWorkerOptions? options = null)
        : this(JobQueue.Of(library), handlers, logger, options, (library ?? throw new ArgumentNullException(nameof(library))).ActAs)
    {
    }

    /// <summary>Names this worker in leases (<see cref="JobRecord.LeaseOwner"/>).</summary>
    public string Id { get; }

    public IReadOnlyCollection<JobKind> Kinds => _kinds.Values;

    public JobQueue Queue => _queue;

    /// <summary>Told of every job this worker starts and finishes (hosts print it); must not throw or block.</summary>
    public Action<JobActivity>? Observer { get; set; }

    /// <summary>Starts claiming and running jobs in the background.</summary>
    public void Start()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("This job worker has already been started.");
        }

        _startedAt = _queue.Time.GetUtcNow();
        _stopping = new CancellationTokenSource();
        _heartbeatStop = new CancellationTokenSource();
        _timer = new PeriodicTimer(_options.RenewInterval, _queue.Time);
        _queue.CancelAsked += OnCancelAsked;
        _heartbeat = HeartbeatAsync(_timer, _heartbeatStop.Token);
        var stopping = _stopping.Token;
        _loop = Task.Run(() => LoopAsync(stopping), CancellationToken.None);
        var kinds = string.Join(", ", _kinds.Values.Select(k => $"{k.Name} (×{k.Concurrency})"));
        JobLog.Started(_logger, Id, kinds);
    }

    /// <summary>
    /// Stops claiming, cancels the running jobs and hands them back to the queue (the interrupted attempt does not count),
    /// and waits for that (at most until <paramref name="ct"/> is cancelled; jobs still running then are retried once
    /// their leases expire). Jobs queued with <see cref="RunHereAsync"/> that have not started are cancelled.
    /// </summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
        {
            return;
        }

        _queue.CancelAsked -= OnCancelAsked;
        await _stopping!.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.WaitAsync(ct).ConfigureAwait(false);
            Execution[] running;
            lock (_gate)
            {
                running = [.. _executions];
            }

            foreach (var execution in running)
            {
                execution.Stop(StopReason.Shutdown);
            }

            await Task.WhenAll(running.Select(e => e.Task)).WaitAsync(ct).ConfigureAwait(false);
            foreach (var id in _local.Keys)
            {
                if (_local.TryRemove(id, out _))
                {
                    await _queue.CancelAsync(id, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            await _heartbeatStop!.CancelAsync().ConfigureAwait(false);
            await _heartbeat.ConfigureAwait(false);
            _timer!.Dispose();
            try
            {
                await _queue.Store.LeaveAsync(Id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Its presence expires on its own a lease duration after the last heartbeat.
                JobLog.QueueUnavailable(_logger, Id, ex);
            }

            JobLog.Stopped(_logger, Id);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping?.Dispose();
        _heartbeatStop?.Dispose();
    }

    /// <summary>
    /// Queues a job that only this worker runs, with <paramref name="work"/> instead of the kind's handler (work that
    /// exists only in this process). It waits its turn like any job of its kind and is tried once; if this process
    /// stops first it is cancelled (or, after a crash, failed when its lease expires).
    /// </summary>
    public async Task<JobRecord> RunHereAsync<TResult>(string kind, object payload, string createdBy, Func<JobContext, Task<TResult>> work, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!_kinds.TryGetValue(kind, out var definition))
        {
            throw new InvalidOperationException($"Job worker {Id} does not run jobs of kind '{kind}'.");
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        _local[id] = async job => await work(job).ConfigureAwait(false);
        try
        {
            return await _queue.EnqueueAsync(definition.Job(payload, createdBy) with { Id = id, PinnedTo = Id, MaxAttempts = 1, PinLease = _options.LeaseDuration }, ct).ConfigureAwait(false);
        }
        catch
        {
            _local.TryRemove(id, out _);
            throw;
        }
    }

    /// <summary>Completes when the next heartbeat (presence record) has been written or has failed (tests).</summary>
    internal Task NextHeartbeatAsync() => Volatile.Read(ref _beat).Task;

    /// <summary>Completes when a look at the queue that started after this call has ended (tests).</summary>
    internal Task NextScanAsync()
    {
        lock (_gate)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _scanWaiters.Add((_scansStarted, done));
            return done.Task;
        }
    }

    private async Task LoopAsync(CancellationToken stopping)
    {
        // Present before the first look at the queue, so that whoever sees this worker's first scan sees it registered.
        await BeatAsync().ConfigureAwait(false);
        while (!stopping.IsCancellationRequested)
        {
            var changed = _queue.Changed;
            long scan;
            lock (_gate)
            {
                scan = ++_scansStarted;
            }

            try
            {
                while (!stopping.IsCancellationRequested && await ClaimNextAsync(stopping).ConfigureAwait(false))
                {
                }
            }
            catch (Exception ex)
            {
                JobLog.QueueUnavailable(_logger, Id, ex);
            }

            ScanEnded(scan);
            try
            {
                await changed.WaitAsync(_options.PollInterval, _queue.Time, stopping).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
        }
    }

    private void ScanEnded(long scan)
    {
        lock (_gate)
        {
            for (var i = _scanWaiters.Count - 1; i >= 0; i--)
            {
                if (_scanWaiters[i].After < scan)
                {
                    _scanWaiters[i].Done.TrySetResult();
                    _scanWaiters.RemoveAt(i);
                }
            }
        }
    }

    private async Task<bool> ClaimNextAsync(CancellationToken stopping)
    {
        Dictionary<string, int> open;
        lock (_gate)
        {
            open = _kinds.Values.Where(k => _runningPerKind.GetValueOrDefault(k.Name) < k.Concurrency).ToDictionary(k => k.Name, k => k.Concurrency, StringComparer.Ordinal);
        }

        if (open.Count == 0)
        {
            return false;
        }

        // Queue writes are never cancelled half-way: a claim that committed is run (or handed back), not lost.
        var job = await _queue.Store.ClaimAsync(Id, open, _options.LeaseDuration, _queue.Time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        if (job is null)
        {
            return false;
        }

        if (stopping.IsCancellationRequested)
        {
            await _queue.Store.ReleaseAsync(job.Id, Id, _queue.Time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            _queue.Wake();
            return false;
        }

        Start(job);
        return true;
    }

    private void Start(JobRecord job)
    {
        var kind = _kinds[job.Kind];
        Func<JobContext, Task<object?>>? run = _local.TryRemove(job.Id, out var local) ? local
            : job.PinnedTo is null ? _handlers[job.Kind].RunAsync
            : null;
        var execution = new Execution(job);
        lock (_gate)
        {
            if (_active.TryGetValue(job.Id, out var stale))
            {
                // This worker was too slow to renew; the job expired and came back to it. The old run is not its owner.
                stale.Stop(StopReason.LeaseLost);
            }

            _active[job.Id] = execution;
            _executions.Add(execution);
            _runningPerKind[kind.Name] = _runningPerKind.GetValueOrDefault(kind.Name) + 1;
        }

        JobLog.Claimed(_logger, job.Kind, job.Id, job.Attempts, job.MaxAttempts);
        Observe(new JobActivity(JobActivityKind.Claimed, job));
        execution.Timer = _queue.Time.CreateTimer(static s => ((Execution)s!).Stop(StopReason.Timeout), execution, kind.Timeout, Timeout.InfiniteTimeSpan);
        execution.Task = Task.Run(() => ExecuteAsync(execution, kind, run), CancellationToken.None);
    }

    private async Task ExecuteAsync(Execution execution, JobKind kind, Func<JobContext, Task<object?>>? run)
    {
        var job = execution.Job;
        var progress = new ProgressWriter(this, job);
        object? result = null;
        Exception? error = null;
        try
        {
            if (run is null)
            {
                throw new TroveException("job-orphaned", $"Job {job.Id} was queued to run inside a process that no longer has its work.", "Start it again.");
            }

            using (_actAs?.Invoke(job.CreatedBy))
            {
                result = await run(new JobContext(job, progress, execution.Token)).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            execution.Timer?.Dispose();
        }

        try
        {
            await progress.StopAsync().ConfigureAwait(false);
            await FinishAsync(execution, kind, result, error).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The outcome could not be written: the lease expires and the job is tried again.
            JobLog.QueueUnavailable(_logger, Id, ex);
        }
        finally
        {
            lock (_gate)
            {
                if (_active.TryGetValue(job.Id, out var current) && current == execution)
                {
                    _active.Remove(job.Id);
                }

                _executions.Remove(execution);
                _runningPerKind[kind.Name]--;
            }

            execution.Dispose();
            _queue.Wake();
        }
    }

    private async Task FinishAsync(Execution execution, JobKind kind, object? result, Exception? error)
    {
        var job = execution.Job;
        var store = _queue.Store;
        var now = _queue.Time.GetUtcNow();
        if (!IsCurrent(execution))
        {
            Lost(job);
            return;
        }

        if (error is null)
        {
            var json = result is null ? null : JsonSerializer.Serialize(result, result.GetType(), JobQueue.Json);
            if (!await store.CompleteAsync(job.Id, Id, json, now, CancellationToken.None).ConfigureAwait(false))
            {
                Lost(job);
                return;
            }

            JobLog.Succeeded(_logger, job.Kind, job.Id);
            Observe(new JobActivity(JobActivityKind.Succeeded, job with { Status = JobStatus.Succeeded, FinishedAt = now, Result = json }));
            return;
        }

        switch (execution.Reason)
        {
            case StopReason.Shutdown:
                if (await store.ReleaseAsync(job.Id, Id, now, CancellationToken.None).ConfigureAwait(false))
                {
                    JobLog.Released(_logger, job.Kind, job.Id);
                    Observe(new JobActivity(JobActivityKind.Released, await store.GetAsync(job.Id, CancellationToken.None).ConfigureAwait(false) ?? job));
                }
                else
                {
                    Lost(job);
                }

                return;
            case StopReason.Cancel:
                if (await store.MarkCancelledAsync(job.Id, Id, now, CancellationToken.None).ConfigureAwait(false))
                {
                    JobLog.Cancelled(_logger, job.Kind, job.Id);
                    Observe(new JobActivity(JobActivityKind.Cancelled, job with { Status = JobStatus.Cancelled, FinishedAt = now }));
                }
                else
                {
                    Lost(job);
                }

                return;
            case StopReason.LeaseLost:
                Lost(job);
                return;
        }

        string message;
        DateTimeOffset? retryAt;
        if (execution.Reason == StopReason.Timeout)
        {
            JobLog.TimedOut(_logger, job.Kind, job.Id, kind.Timeout);
            message = $"Attempt {job.Attempts} timed out after {Describe(kind.Timeout)}.";
            retryAt = now + kind.Backoff(job.Attempts);
        }
        else
        {
            message = error is TroveException { Hint: { } hint } ? $"{error.Message} {hint}" : error.Message;
            if (error is Providers.ProviderException provider)
            {
                // The code leads, so that people and scripts can tell a wrong key from a flaky network.
                message = $"{provider.Code}: {message}";
            }

            // A usage error or a permanent provider failure (wrong key, unknown model) will fail the same way again.
            retryAt = error is TroveException { IsUsageError: true } or Providers.ProviderException { Permanent: true } ? null : now + kind.Backoff(job.Attempts);
        }

        var after = await store.FailAsync(job.Id, Id, message, retryAt, now, CancellationToken.None).ConfigureAwait(false);
        if (after is null)
        {
            Lost(job);
        }
        else if (after.Status == JobStatus.Queued)
        {
            JobLog.Retrying(_logger, job.Kind, job.Id, job.Attempts, job.MaxAttempts, after.AvailableAt, error);
            Observe(new JobActivity(JobActivityKind.Retrying, after, message));
        }
        else if (after.Status == JobStatus.Cancelled)
        {
            JobLog.Cancelled(_logger, job.Kind, job.Id);
            Observe(new JobActivity(JobActivityKind.Cancelled, after, message));
        }
        else
        {
            JobLog.Failed(_logger, job.Kind, job.Id, after.Attempts, error);
            Observe(new JobActivity(JobActivityKind.Failed, after, message));
        }
    }

    private static string Describe(TimeSpan span) =>
        span.TotalMinutes >= 1 && span.Seconds == 0 ? $"{span.TotalMinutes:0.##} minute(s)" : $"{span.TotalSeconds:0.##} second(s)";

    private void Lost(JobRecord job)
    {
        JobLog.LeaseLost(_logger, job.Kind, job.Id);
        Observe(new JobActivity(JobActivityKind.LeaseLost, job));
    }

    private bool IsCurrent(Execution execution)
    {
        lock (_gate)
        {
            return _active.TryGetValue(execution.Job.Id, out var current) && current == execution;
        }
    }

    private void OnCancelAsked(string id)
    {
        lock (_gate)
        {
            if (_active.TryGetValue(id, out var execution))
            {
                execution.Stop(StopReason.Cancel);
            }
        }
    }

    private async Task HeartbeatAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                await BeatAsync().ConfigureAwait(false);
                await RenewAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Records that this worker is alive (and which kinds it runs) until one lease duration from now: the presence
    /// <c>trove suggest</c> and others look at before telling people their jobs will run.
    /// </summary>
    private async Task BeatAsync()
    {
        var now = _queue.Time.GetUtcNow();
        try
        {
            await _queue.Store.BeatAsync(new WorkerPresence(Id, [.. _kinds.Keys.Order(StringComparer.Ordinal)], _startedAt, now, now + _options.LeaseDuration), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            JobLog.QueueUnavailable(_logger, Id, ex);
        }

        Interlocked.Exchange(ref _beat, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Renews every lease at once; a job no longer held was lost, one with a cancel request is stopped.</summary>
    private async Task RenewAsync()
    {
        Execution[] snapshot;
        lock (_gate)
        {
            snapshot = [.. _active.Values];
        }

        if (snapshot.Length == 0 && _local.IsEmpty)
        {
            return;
        }

        IReadOnlyList<HeldJob> held;
        try
        {
            held = await _queue.Store.RenewLeasesAsync(Id, _options.LeaseDuration, _queue.Time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            JobLog.QueueUnavailable(_logger, Id, ex);
            return;
        }

        var byId = held.ToDictionary(h => h.Id, h => h.CancelRequested, StringComparer.Ordinal);
        foreach (var execution in snapshot)
        {
            if (!byId.TryGetValue(execution.Job.Id, out var cancel))
            {
                execution.Stop(StopReason.LeaseLost);
            }
            else if (cancel)
            {
                execution.Stop(StopReason.Cancel);
            }
        }
    }

    private void Observe(JobActivity activity)
    {
        try
        {
            Observer?.Invoke(activity);
        }
        catch (Exception ex)
        {
            JobLog.ObserverFailed(_logger, ex);
        }
    }

    private enum StopReason
    {
        None,
        Shutdown,
        Cancel,
        Timeout,
        LeaseLost,
    }

    /// <summary>One run of one job here; the first reason to stop it wins.</summary>
    private sealed class Execution(JobRecord job) : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly Lock _lock = new();
        private bool _disposed;
        private StopReason _reason;

        public JobRecord Job { get; } = job;

        public CancellationToken Token => _cts.Token;

        public ITimer? Timer { get; set; }

        public Task Task { get; set; } = Task.CompletedTask;

        public StopReason Reason
        {
            get
            {
                lock (_lock)
                {
                    return _reason;
                }
            }
        }

        public void Stop(StopReason reason)
        {
            lock (_lock)
            {
                if (_reason != StopReason.None || _disposed)
                {
                    return;
                }

                _reason = reason;
                _cts.Cancel();
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
                _cts.Dispose();
            }
        }
    }

    /// <summary>Writes progress to the queue at most every <see cref="JobWorkerOptions.ProgressInterval"/>, in order, and the last report when the job ends.</summary>
    private sealed class ProgressWriter(JobWorker worker, JobRecord job) : IProgress<ProgressInfo>
    {
        private readonly Lock _lock = new();
        private ProgressInfo? _pending;
        private long _lastWrite;
        private bool _written;
        private bool _stopped;
        private Task _writing = Task.CompletedTask;

        public void Report(ProgressInfo value)
        {
            lock (_lock)
            {
                if (_stopped)
                {
                    return;
                }

                var time = worker._queue.Time;
                var now = time.GetTimestamp();
                if (_written && time.GetElapsedTime(_lastWrite, now) < worker._options.ProgressInterval)
                {
                    _pending = value;
                    return;
                }

                _written = true;
                _lastWrite = now;
                _pending = null;
                _writing = WriteAfterAsync(_writing, value);
            }
        }

        /// <summary>Writes what is pending and waits for every write; later reports are ignored.</summary>
        public Task StopAsync()
        {
            lock (_lock)
            {
                _stopped = true;
                if (_pending is { } last)
                {
                    _writing = WriteAfterAsync(_writing, last);
                    _pending = null;
                }

                return _writing;
            }
        }

        private async Task WriteAfterAsync(Task previous, ProgressInfo value)
        {
            await previous.ConfigureAwait(false);
            try
            {
                await worker._queue.Store.ReportProgressAsync(job.Id, worker.Id, value.Phase, value.Done, value.Total, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                JobLog.QueueUnavailable(worker._logger, worker.Id, ex);
            }
        }
    }
}
