using System.Text.Json;
using Trove.Domain;

namespace Trove.Application.Jobs;

/// <summary>
/// A kind of background job and how it runs: at most <see cref="Concurrency"/> at once — counted over every process that
/// shares the state database —, each attempt cancelled after <see cref="Timeout"/>, failed attempts retried after
/// <see cref="BackoffBase"/> × 2^(attempt − 1) (at most <see cref="BackoffCap"/>) until <see cref="MaxAttempts"/>.
/// </summary>
public sealed record JobKind(string Name)
{
    public int Concurrency { get; init; } = 1;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);

    public int MaxAttempts { get; init; } = 3;

    /// <summary>Priority of jobs of this kind unless the one who queues them says otherwise (higher runs first).</summary>
    public int Priority { get; init; }

    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan BackoffCap { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long to wait before attempt <paramref name="attempt"/> + 1 after attempt <paramref name="attempt"/> (1-based) failed.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var ticks = BackoffBase.Ticks * Math.Pow(2, exponent);
        return ticks >= BackoffCap.Ticks ? BackoffCap : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>
    /// A job of this kind to queue, with this kind's priority and attempts: <paramref name="payload"/> serialized as JSON
    /// (web defaults: camelCase), or taken as it is when it is a string (JSON text already).
    /// </summary>
    public NewJob Job(object payload, string createdBy)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return new NewJob(Name, payload as string ?? JsonSerializer.Serialize(payload, payload.GetType(), JobQueue.Json), createdBy)
        {
            Priority = Priority,
            MaxAttempts = MaxAttempts,
        };
    }
}

/// <summary>Runs jobs of one kind. The answer becomes the job's result (JSON).</summary>
public interface IJobHandler
{
    JobKind Kind { get; }

    Task<object?> RunAsync(JobContext job);
}

public static class JobHandler
{
    public static IJobHandler Create<TResult>(JobKind kind, Func<JobContext, Task<TResult>> run)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(run);
        return new DelegateHandler(kind, async job => await run(job).ConfigureAwait(false));
    }

    private sealed class DelegateHandler(JobKind kind, Func<JobContext, Task<object?>> run) : IJobHandler
    {
        public JobKind Kind { get; } = kind;

        public Task<object?> RunAsync(JobContext job) => run(job);
    }
}

/// <summary>What a running job can see and do: its record (payload, attempt), report progress, see cancellation.</summary>
public sealed class JobContext(JobRecord job, IProgress<ProgressInfo> progress, CancellationToken ct)
{
    public JobRecord Job { get; } = job ?? throw new ArgumentNullException(nameof(job));

    public string Id => Job.Id;

    public string Kind => Job.Kind;

    /// <summary>The payload as queued (JSON).</summary>
    public string Payload => Job.Parameters;

    /// <summary>1 for the first attempt.</summary>
    public int Attempt => Job.Attempts;

    public IProgress<ProgressInfo> Progress { get; } = progress;

    /// <summary>Cancelled when the job is cancelled, times out, loses its lease, or its worker shuts down.</summary>
    public CancellationToken CancellationToken { get; } = ct;

    /// <summary>The payload as <typeparamref name="T"/> (web JSON: camelCase). A payload that does not fit is a usage error, never retried.</summary>
    public T ReadPayload<T>()
    {
        try
        {
            return JsonSerializer.Deserialize<T>(Payload, JobQueue.Json)
                ?? throw new TroveUsageException("bad-job-payload", $"Job {Id} ({Kind}) has an empty payload.");
        }
        catch (JsonException ex)
        {
            throw new TroveUsageException("bad-job-payload", $"The payload of job {Id} ({Kind}) is not what a {Kind} job takes: {ex.Message}", "Queue the job again with a valid payload.");
        }
    }
}
