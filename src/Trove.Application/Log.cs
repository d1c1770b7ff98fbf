using Microsoft.Extensions.Logging;

namespace Trove.Application;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Index for {Library} is new or unusable; rebuilding from the files")]
    public static partial void IndexNeedsRebuild(ILogger logger, string library);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Reconciled {Updated} changed and {Removed} missing sidecars with the index")]
    public static partial void Reconciled(ILogger logger, int updated, int removed);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Skipping unreadable file {Path}: {Reason}")]
    public static partial void SkippedUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Rebuilt index: {Media} media, {Trash} in trash, {Collections} collections in {Seconds:0.00} s")]
    public static partial void Rebuilt(ILogger logger, int media, int trash, int collections, double seconds);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Reconcile skipped: another process holds the write lock")]
    public static partial void ReconcileSkippedBusy(ILogger logger);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Import of {Path} failed: {Reason}")]
    public static partial void ImportFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Search engine loaded {Media} media from the index in {Seconds:0.00} s")]
    public static partial void SearchLoaded(ILogger logger, int media, double seconds);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "Search engine caught up: {Changed} changed, {Removed} removed")]
    public static partial void SearchCaughtUp(ILogger logger, int changed, int removed);
}
