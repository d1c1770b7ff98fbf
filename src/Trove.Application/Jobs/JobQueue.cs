using System.Runtime.CompilerServices;
using System.Text.Json;
using Trove.Domain;

namespace Trove.Application.Jobs;

/// <summary>
/// The persistent job queue of a library (<see cref="IJobStore"/> in the state database) plus the in-process signals that
/// wake this process's workers at once when a job is queued, cancelled or finished here; workers of other processes
/// notice within their poll interval. One instance per open library: <see cref="Of"/>.
/// </summary>
public sealed class JobQueue
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly ConditionalWeakTable<IJobStore, JobQueue> Shared = new();
    private TaskCompletionSource _changed = NewSignal();

    public JobQueue(IJobStore store, TimeProvider time)
    {
        Store = store ?? throw new ArgumentNullException(nameof(store));
        Time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <summary>The queue of an open library, shared by everything in this process that uses that library.</summary>
    public static JobQueue Of(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        return Shared.GetValue(library.State.Jobs, store => new JobQueue(store, library.Time));
    }

    public IJobStore Store { get; }

    public TimeProvider Time { get; }

    /// <summary>How often <see cref="WhenFinishedAsync"/> looks again when nothing in this process tells it of a change.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Completes at the next change of a job made through this queue (or <see cref="Wake"/>).</summary>
    internal Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>Someone asked through this queue that a running job stop (its id): its worker here stops it at once.</summary>
    internal event Action<string>? CancelAsked;

    public async Task<JobRecord> EnqueueAsync(NewJob job, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (string.IsNullOrWhiteSpace(job.Kind))
        {
            throw new TroveUsageException("bad-job-kind", "A job needs a kind.");
        }

        var record = await Store.EnqueueAsync(job, Time.GetUtcNow(), ct).ConfigureAwait(false);
        Wake();
        return record;
    }

    public Task<JobRecord?> GetAsync(string id, CancellationToken ct) => Store.GetAsync(id, ct);

    /// <summary>Cancels a queued job at once, asks a running one to stop (see <see cref="IJobStore.CancelAsync"/>).</summary>
    public async Task<JobRecord?> CancelAsync(string id, CancellationToken ct)
    {
        var job = await Store.CancelAsync(id, Time.GetUtcNow(), ct).ConfigureAwait(false);
        if (job is { Status: JobStatus.Running, CancelRequested: true })
        {
            CancelAsked?.Invoke(id);
        }

        Wake();
        return job;
    }

    /// <summary>The workers, in any process, whose heartbeat is current (<see cref="IJobStore.ListWorkersAsync"/>).</summary>
    public Task<IReadOnlyList<WorkerPresence>> LiveWorkersAsync(CancellationToken ct) => Store.ListWorkersAsync(Time.GetUtcNow(), ct);

    /// <summary>The job once it has finished (succeeded, failed or cancelled), wherever it runs.</summary>
    public async Task<JobRecord> WhenFinishedAsync(string id, CancellationToken ct)
    {
        while (true)
        {
            var changed = Changed;
            var job = await Store.GetAsync(id, ct).ConfigureAwait(false)
                ?? throw new TroveException("job-not-found", $"There is no job '{id}'.");
            if (JobStatus.IsFinished(job.Status))
            {
                return job;
            }

            try
            {
                await changed.WaitAsync(PollInterval, Time, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>Wakes this process's workers (and waiters) to look at the queue now.</summary>
    public void Wake() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
