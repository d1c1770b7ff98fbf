using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Trove.Domain;

namespace Trove.Application.Jobs;

/// <summary>What a running job can do: report progress and see cancellation.</summary>
public sealed class JobContext(string id, IProgress<ProgressInfo> progress, CancellationToken ct)
{
    public string Id { get; } = id;

    public IProgress<ProgressInfo> Progress { get; } = progress;

    public CancellationToken CancellationToken { get; } = ct;
}

/// <summary>
/// Runs slow work (export now) in the background of a long-lived host, one job per kind at a time, recording state,
/// progress, result and error in the state database so that clients can poll <c>GET /api/jobs/{id}</c>. Jobs found
/// unfinished at start-up (the process stopped under them) are marked failed. Retries, leases and separate worker
/// processes come with the persistent queue of the ML issue; this runner keeps the same records.
/// </summary>
public sealed class JobRunner : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly TroveLibrary _library;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _perKind = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Cts, Task Task)> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    public JobRunner(TroveLibrary library, ILogger logger)
    {
        _library = library;
        _logger = logger;
    }

    private IJobStore Store => _library.State.Jobs;

    public Task<int> RecoverAsync(CancellationToken ct) =>
        Store.FailUnfinishedAsync("Trove stopped while this job was waiting or running; start it again.", _library.Now, ct);

    /// <summary>Queues a job and starts it as soon as no other job of its kind runs. Returns the queued record.</summary>
    public async Task<JobRecord> StartAsync<TResult>(string kind, object parameters, Func<JobContext, Task<TResult>> work, CancellationToken ct)
    {
        var job = new JobRecord(
            NewId(), kind, JobStatus.Queued, _library.Actor, _library.Now, null, null, null, 0, null,
            JsonSerializer.Serialize(parameters, parameters.GetType(), Json), null, null);
        await Store.InsertAsync(job, ct).ConfigureAwait(false);
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var actor = _library.Actor;
        var gate = _perKind.GetOrAdd(kind, _ => new SemaphoreSlim(1, 1));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = Task.Run(async () =>
        {
            await started.Task.ConfigureAwait(false);
            using (_library.ActAs(actor))
            {
                await RunAsync(job, gate, work, cts.Token).ConfigureAwait(false);
            }
        }, CancellationToken.None);
        _running[job.Id] = (cts, task);
        started.SetResult();
        return job;
    }

    /// <summary>Asks a job to stop. Returns false when it is not running in this process (finished or unknown).</summary>
    public bool Cancel(string id)
    {
        if (_running.TryGetValue(id, out var entry))
        {
            entry.Cts.Cancel();
            return true;
        }

        return false;
    }

    /// <summary>Waits for a job of this process to finish (tests, shutdown).</summary>
    public Task WhenFinishedAsync(string id) => _running.TryGetValue(id, out var entry) ? entry.Task : Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_running.Values.Select(v => v.Task)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task RunAsync<TResult>(JobRecord job, SemaphoreSlim gate, Func<JobContext, Task<TResult>> work, CancellationToken ct)
    {
        try
        {
            try
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await FinishAsync(job with { Status = JobStatus.Cancelled, FinishedAt = _library.Now }).ConfigureAwait(false);
                return;
            }

            try
            {
                job = job with { Status = JobStatus.Running, StartedAt = _library.Now };
                await Store.UpdateAsync(job, CancellationToken.None).ConfigureAwait(false);
                var progress = new ThrottledProgress(this, job);
                try
                {
                    var result = await work(new JobContext(job.Id, progress, ct)).ConfigureAwait(false);
                    progress.Stop();
                    job = progress.Latest with { Status = JobStatus.Succeeded, FinishedAt = _library.Now, Result = JsonSerializer.Serialize(result, Json) };
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    progress.Stop();
                    job = progress.Latest with { Status = JobStatus.Cancelled, FinishedAt = _library.Now };
                }
                catch (Exception ex)
                {
                    progress.Stop();
                    Log.JobFailed(_logger, job.Kind, job.Id, ex);
                    var message = ex is TroveException te && te.Hint is { } hint ? $"{ex.Message} {hint}" : ex.Message;
                    job = progress.Latest with { Status = JobStatus.Failed, FinishedAt = _library.Now, Error = message };
                }

                await FinishAsync(job).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
        finally
        {
            if (_running.TryRemove(job.Id, out var entry))
            {
                entry.Cts.Dispose();
            }
        }
    }

    private Task FinishAsync(JobRecord job) => Store.UpdateAsync(job, CancellationToken.None);

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>Writes progress to the store at most every half second.</summary>
    private sealed class ThrottledProgress(JobRunner runner, JobRecord job) : IProgress<ProgressInfo>
    {
        private readonly Lock _gate = new();
        private long _lastWrite;
        private bool _stopped;

        public JobRecord Latest { get; private set; } = job;

        public void Report(ProgressInfo value)
        {
            JobRecord snapshot;
            lock (_gate)
            {
                if (_stopped)
                {
                    return;
                }

                Latest = Latest with { Phase = value.Phase, Done = value.Done, Total = value.Total };
                var now = runner._library.Time.GetTimestamp();
                if (_lastWrite != 0 && runner._library.Time.GetElapsedTime(_lastWrite, now) < TimeSpan.FromMilliseconds(500))
                {
                    return;
                }

                _lastWrite = now;
                snapshot = Latest;
            }

            _ = runner.Store.UpdateAsync(snapshot, CancellationToken.None);
        }

        public void Stop()
        {
            lock (_gate)
            {
                _stopped = true;
            }
        }
    }
}
