using Microsoft.Extensions.Logging;

namespace Trove.Providers.Http;

/// <summary>What the HTTP edge logs: provider, outcome, status, attempts, time. Never a key, a header, a body or an image.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1401, Level = LogLevel.Debug, Message = "Provider {Provider} {Operation}: answered {Status} after {Attempts} attempt(s) in {ElapsedMs} ms")]
    public static partial void Succeeded(ILogger logger, string provider, string operation, int? status, int attempts, long elapsedMs);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Information, Message = "Provider {Provider} {Operation} failed: {Code} (status {Status}) after {Attempts} attempt(s) in {ElapsedMs} ms")]
    public static partial void Failed(ILogger logger, string provider, string operation, string code, int? status, int attempts, long elapsedMs);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Debug, Message = "Provider {Provider} {Operation}: attempt {Attempt} got {Outcome}; trying again in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string provider, string operation, int attempt, string outcome, long delayMs);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Information, Message = "Provider {Provider} asked Trove to wait ({Status}): every call to it in this process pauses for {WaitMs} ms")]
    public static partial void Paused(ILogger logger, string provider, int status, long waitMs);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Debug, Message = "Provider {Provider} {Operation} cancelled after {Attempts} attempt(s) in {ElapsedMs} ms")]
    public static partial void Cancelled(ILogger logger, string provider, string operation, int attempts, long elapsedMs);
}
