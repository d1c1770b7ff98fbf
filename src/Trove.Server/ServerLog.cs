using Microsoft.Extensions.Logging;

namespace Trove.Server;

internal static partial class ServerLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "The web UI's htmx script is missing (run 'make deps'); pages load but stay static")]
    public static partial void HtmxMissing(ILogger logger);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Sign-in failed for '{Name}' from {Address}")]
    public static partial void SignInFailed(ILogger logger, string name, string? address);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Refused {Method} {Path}: antiforgery token missing or invalid")]
    public static partial void CsrfRefused(ILogger logger, string method, string path);
}
