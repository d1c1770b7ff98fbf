using Microsoft.Extensions.Logging;

namespace Trove.Imaging.Vips;

internal static partial class Log
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "libvips {Version} ready: {Concurrency} thread(s) per image, cache {CacheOperations} operations, loaders: {Loaders}")]
    public static partial void VipsReady(ILogger logger, string version, int concurrency, int cacheOperations, IEnumerable<string> loaders);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Image processing is unavailable: {Reason}")]
    public static partial void VipsUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "libvips is already loaded from {Loaded}; the configured library {Requested} is ignored")]
    public static partial void VipsAlreadyLoaded(ILogger logger, string loaded, string requested);

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "libvips: {Message}")]
    public static partial void VipsMessage(ILogger logger, string message);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "libvips critical: {Message}")]
    public static partial void VipsCritical(ILogger logger, string message);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Blocked untrusted libvips loaders: {Loaders}")]
    public static partial void VipsBlocked(ILogger logger, IEnumerable<string> loaders);
}
