using Microsoft.Extensions.Logging;

namespace Trove.Application.Tagging;

internal static partial class TaggingLog
{
    [LoggerMessage(EventId = 601, Level = LogLevel.Debug, Message = "Suggestions for {Id}: {Added} added, {Updated} updated, {Skipped} skipped")]
    public static partial void SuggestionsApplied(ILogger logger, string id, int added, int updated, int skipped);

    [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "Review of {Id}: {Approved} approved, {Rejected} rejected, {Failed} failed")]
    public static partial void SuggestionsReviewed(ILogger logger, string id, int approved, int rejected, int failed);
}
