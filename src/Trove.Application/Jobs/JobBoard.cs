using Trove.Application.Accounts;
using Trove.Domain;

namespace Trove.Application.Jobs;

/// <summary>
/// The jobs people may see: their own, and every job for admins. A job someone may not see does not exist for them
/// (<c>job-not-found</c>), so job ids reveal nothing about other people's work.
/// </summary>
public sealed class JobBoard(TroveLibrary library)
{
    public const int MaxLimit = 500;

    public static bool CanSee(Principal viewer, JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        ArgumentNullException.ThrowIfNull(job);
        return viewer.Role >= Role.Admin || (viewer.UserId >= 0 && string.Equals(job.CreatedBy, viewer.Name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Newest first: the viewer's own jobs (admins: everyone's), optionally of one kind.</summary>
    public Task<IReadOnlyList<JobRecord>> ListAsync(Principal viewer, string? kind, int limit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        if (limit is < 1 or > MaxLimit)
        {
            throw new TroveUsageException("bad-limit", $"limit must be between 1 and {MaxLimit}.");
        }

        return library.State.Jobs.ListAsync(string.IsNullOrWhiteSpace(kind) ? null : kind.Trim(), viewer.Role >= Role.Admin ? null : viewer.Name, limit, ct);
    }

    public async Task<JobRecord> GetAsync(Principal viewer, string id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        var job = id is { Length: > 0 and <= 64 } && MediaId.IsLowerHex(id) ? await library.State.Jobs.GetAsync(id, ct).ConfigureAwait(false) : null;
        return job is not null && CanSee(viewer, job) ? job : throw NotFound(id);
    }

    /// <summary>
    /// Cancels a queued job at once and asks a running one to stop (its worker, in whichever process, stops it when it
    /// next renews its lease; one in this process at once); answers its record as it stands. A finished job is a conflict.
    /// </summary>
    public async Task<JobRecord> CancelAsync(Principal viewer, string id, CancellationToken ct)
    {
        var job = await GetAsync(viewer, id, ct).ConfigureAwait(false);
        if (!JobStatus.IsFinished(job.Status))
        {
            job = await JobQueue.Of(library).CancelAsync(job.Id, ct).ConfigureAwait(false) ?? job;
            if (job.Status is not (JobStatus.Succeeded or JobStatus.Failed))
            {
                return job;
            }
        }

        throw new TroveException("conflict", $"Job {job.Id} has finished ({job.Status}); there is nothing to cancel.");
    }

    public static TroveException NotFound(string id) =>
        new("job-not-found", $"There is no job '{(id.Length > 64 ? id[..64] + "…" : id)}' (or it is someone else's).", "List your jobs with GET /api/jobs.");
}
