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

/// <summary>A background job as stored: what it is, who started it, where it stands, and what came of it (JSON).</summary>
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
    string? Error);

/// <summary>Jobs in the state database, so their outcome survives restarts.</summary>
public interface IJobStore
{
    Task InsertAsync(JobRecord job, CancellationToken ct);

    Task UpdateAsync(JobRecord job, CancellationToken ct);

    Task<JobRecord?> GetAsync(string id, CancellationToken ct);

    /// <summary>Newest first; <paramref name="createdBy"/> restricts to one user's jobs.</summary>
    Task<IReadOnlyList<JobRecord>> ListAsync(string? kind, string? createdBy, int limit, CancellationToken ct);

    /// <summary>Marks jobs left queued or running by a process that stopped as failed, with <paramref name="error"/>.</summary>
    Task<int> FailUnfinishedAsync(string error, DateTimeOffset at, CancellationToken ct);
}
