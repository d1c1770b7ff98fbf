namespace Trove.Application.Jobs;

public static class JobStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinished(string status) => status is Succeeded or Failed or Cancelled;
}

/// <summary>
/// A background job as stored: what it is (<see cref="Kind"/>, its JSON payload <see cref="Parameters"/>), who started
/// it, where it stands, and what came of it (JSON <see cref="Result"/> or <see cref="Error"/> text). The queue fields
/// (priority, when it may run, attempts, the lease of the worker running it, a cancel request) are init-only members.
/// </summary>
public sealed record JobRecord(
    string Id,
    string Kind,
    string Status,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Phase,
    long Done,
    long? Total,
    string Parameters,
    string? Result,
    string? Error)
{
    /// <summary>Higher runs first among due jobs.</summary>
    public int Priority { get; init; }

    /// <summary>Not claimed before this time (a delay at enqueue, or the backoff after a failed attempt).</summary>
    public DateTimeOffset AvailableAt { get; init; } = DateTimeOffset.UnixEpoch;

    /// <summary>Attempts started so far (a claim counts one, also when its worker then died).</summary>
    public int Attempts { get; init; }

    public int MaxAttempts { get; init; } = 1;

    /// <summary>The worker that holds (or last held) the job.</summary>
    public string? LeaseOwner { get; init; }

    /// <summary>While running: the worker must renew before this time, or the job is claimable again.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }

    /// <summary>Someone asked the running job to stop; its worker sees it when it next renews the lease.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>Work only this worker can run (a delegate in its process); no other worker claims it.</summary>
    public string? PinnedTo { get; init; }

    /// <summary>The payload (JSON) the job runs with: the same text as <see cref="Parameters"/>.</summary>
    public string Payload => Parameters;
}

/// <summary>A job to queue: its kind and JSON payload, and how it is scheduled.</summary>
public sealed record NewJob(string Kind, string Payload, string CreatedBy)
{
    /// <summary>Null: a fresh random id.</summary>
    public string? Id { get; init; }

    public TimeSpan Delay { get; init; }

    public int Priority { get; init; }

    public int MaxAttempts { get; init; } = 3;

    /// <summary>Only this worker may claim the job (see <see cref="JobRecord.PinnedTo"/>); it keeps the job's lease alive meanwhile.</summary>
    public string? PinnedTo { get; init; }

    /// <summary>How long a pinned job may wait without its worker renewing before it is failed.</summary>
    public TimeSpan PinLease { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// A worker that has reported in (<see cref="IJobStore.BeatAsync"/>): which kinds of job it runs, since when, and until
/// when it counts as alive without another heartbeat.
/// </summary>
public sealed record WorkerPresence(string Id, IReadOnlyList<string> Kinds, DateTimeOffset StartedAt, DateTimeOffset SeenAt, DateTimeOffset Until)
{
    public bool Runs(string kind) => Kinds.Contains(kind, StringComparer.Ordinal);
}

/// <summary>A running job a worker still holds after renewing its leases, and whether someone asked it to stop.</summary>
public readonly record struct HeldJob(string Id, bool CancelRequested);

/// <summary>
/// Jobs in the state database, so that they survive restarts and several processes can share one queue. Every change
/// of a queued or running job happens in one write transaction (SQLite: <c>BEGIN IMMEDIATE</c>), so two workers never
/// claim the same job and per-kind limits hold across processes. Changes by a worker name it and take effect only while
/// it holds the job's lease (they answer false otherwise: the job was reclaimed, cancelled or finished meanwhile).
/// </summary>
public interface IJobStore
{
    /// <summary>Writes a record as given (no queue rules: imports and tests). A running record without a lease never expires.</summary>
    Task InsertAsync(JobRecord job, CancellationToken ct);

    Task<JobRecord?> GetAsync(string id, CancellationToken ct);

    /// <summary>Newest first; <paramref name="createdBy"/> restricts to one user's jobs.</summary>
    Task<IReadOnlyList<JobRecord>> ListAsync(string? kind, string? createdBy, int limit, CancellationToken ct);

    /// <summary>Queues a job, claimable from <paramref name="now"/> + its delay.</summary>
    Task<JobRecord> EnqueueAsync(NewJob job, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// First returns jobs whose worker stopped renewing (expired leases) to the queue — or fails them when they have
    /// used their attempts (or cancels them when that was asked) — then claims the highest-priority due job of one of
    /// <paramref name="kinds"/> (kind → concurrency limit) whose kind has fewer running jobs with live leases, in any
    /// process, than its limit. The claim counts an attempt and leases the job to <paramref name="workerId"/> until
    /// <paramref name="now"/> + <paramref name="lease"/>. Null when nothing is claimable.
    /// </summary>
    Task<JobRecord?> ClaimAsync(string workerId, IReadOnlyDictionary<string, int> kinds, TimeSpan lease, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Extends the leases of every job the worker runs (and of the queued jobs pinned to it) to <paramref name="now"/> +
    /// <paramref name="lease"/>; answers the running jobs it still holds, with their cancel requests.
    /// </summary>
    Task<IReadOnlyList<HeldJob>> RenewLeasesAsync(string workerId, TimeSpan lease, DateTimeOffset now, CancellationToken ct);

    Task<bool> ReportProgressAsync(string id, string workerId, string? phase, long done, long? total, CancellationToken ct);

    /// <summary>Succeeded with <paramref name="result"/> (JSON).</summary>
    Task<bool> CompleteAsync(string id, string workerId, string? result, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// An attempt failed with <paramref name="error"/>: queued again, claimable from <paramref name="retryAt"/>, while
    /// attempts remain and <paramref name="retryAt"/> is given (and no cancel was asked); otherwise failed for good.
    /// Answers the record after the change, or null when the worker no longer held the job.
    /// </summary>
    Task<JobRecord?> FailAsync(string id, string workerId, string error, DateTimeOffset? retryAt, DateTimeOffset now, CancellationToken ct);

    /// <summary>The worker stopped the job because it was asked to: cancelled.</summary>
    Task<bool> MarkCancelledAsync(string id, string workerId, DateTimeOffset now, CancellationToken ct);

    /// <summary>The worker is shutting down: the job is queued again at once, and the interrupted attempt does not count.</summary>
    Task<bool> ReleaseAsync(string id, string workerId, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// A queued job is cancelled at once; a running one is asked to stop (its worker sees it when it renews), unless its
    /// lease has expired (nobody runs it), then it is cancelled at once too. Finished jobs are left as they are. Answers
    /// the record after the change, or null when there is no such job.
    /// </summary>
    Task<JobRecord?> CancelAsync(string id, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// A worker's heartbeat: records (or refreshes) its presence until <see cref="WorkerPresence.Until"/>, so that other
    /// processes can tell whether anyone will run what they queue, and forgets workers whose presence has expired.
    /// </summary>
    Task BeatAsync(WorkerPresence worker, CancellationToken ct);

    /// <summary>The worker stopped: it is no longer present.</summary>
    Task LeaveAsync(string workerId, CancellationToken ct);

    /// <summary>The workers present at <paramref name="now"/> (their last heartbeat has not expired), oldest first.</summary>
    Task<IReadOnlyList<WorkerPresence>> ListWorkersAsync(DateTimeOffset now, CancellationToken ct);
}
