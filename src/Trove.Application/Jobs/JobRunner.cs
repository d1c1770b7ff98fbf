namespace Trove.Application.Jobs;

/// <summary>
/// Work that exists only in this process (a delegate), run through the persistent queue by this process's worker:
/// it waits its turn among jobs of its kind (and holds one of the kind's slots while it runs, for every process), is
/// tried once, and is cancelled if this process stops first. Jobs that any worker can run are queued with
/// <see cref="JobQueue.EnqueueAsync"/> and run by the handler of their kind (<see cref="JobCatalog"/>).
/// </summary>
public sealed class JobRunner(TroveLibrary library, JobWorker worker)
{
    /// <summary>Queues <paramref name="work"/> as a job of <paramref name="kind"/> for the current actor; returns the queued record.</summary>
    public Task<JobRecord> StartAsync<TResult>(string kind, object parameters, Func<JobContext, Task<TResult>> work, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(worker);
        return worker.RunHereAsync(kind, parameters, library.Actor, work, ct);
    }

    /// <summary>Waits until a job (of any process) has finished; answers it as it ended.</summary>
    public Task<JobRecord> WhenFinishedAsync(string id) => worker.Queue.WhenFinishedAsync(id, CancellationToken.None);
}
