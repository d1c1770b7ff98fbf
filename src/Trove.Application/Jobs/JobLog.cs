using Microsoft.Extensions.Logging;

namespace Trove.Application.Jobs;

internal static partial class JobLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Job worker {Worker} started for {Kinds}")]
    public static partial void Started(ILogger logger, string worker, string kinds);

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Job worker {Worker} stopped")]
    public static partial void Stopped(ILogger logger, string worker);

    [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "Job {Kind} {Id}: attempt {Attempt} of {MaxAttempts} started")]
    public static partial void Claimed(ILogger logger, string kind, string id, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 603, Level = LogLevel.Information, Message = "Job {Kind} {Id} succeeded")]
    public static partial void Succeeded(ILogger logger, string kind, string id);

    [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "Job {Kind} {Id}: attempt {Attempt} of {MaxAttempts} failed; retrying at {RetryAt:u}")]
    public static partial void Retrying(ILogger logger, string kind, string id, int attempt, int maxAttempts, DateTimeOffset retryAt, Exception exception);

    [LoggerMessage(EventId = 605, Level = LogLevel.Error, Message = "Job {Kind} {Id} failed after {Attempts} attempt(s)")]
    public static partial void Failed(ILogger logger, string kind, string id, int attempts, Exception exception);

    [LoggerMessage(EventId = 606, Level = LogLevel.Information, Message = "Job {Kind} {Id} cancelled")]
    public static partial void Cancelled(ILogger logger, string kind, string id);

    [LoggerMessage(EventId = 607, Level = LogLevel.Information, Message = "Job {Kind} {Id} interrupted by shutdown; queued again")]
    public static partial void Released(ILogger logger, string kind, string id);

    [LoggerMessage(EventId = 608, Level = LogLevel.Warning, Message = "Job {Kind} {Id}: this worker lost its lease (it was reclaimed, cancelled or finished elsewhere); its outcome here is dropped")]
    public static partial void LeaseLost(ILogger logger, string kind, string id);

    [LoggerMessage(EventId = 609, Level = LogLevel.Warning, Message = "Job worker {Worker} could not reach the job queue; trying again")]
    public static partial void QueueUnavailable(ILogger logger, string worker, Exception exception);

    [LoggerMessage(EventId = 610, Level = LogLevel.Warning, Message = "Job {Kind} {Id} timed out after {Timeout}")]
    public static partial void TimedOut(ILogger logger, string kind, string id, TimeSpan timeout);

    [LoggerMessage(EventId = 611, Level = LogLevel.Warning, Message = "Job activity observer failed")]
    public static partial void ObserverFailed(ILogger logger, Exception exception);
}
