using System.Globalization;
using System.Text;
using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>What the review queue asks for; null fields do not filter. <see cref="Model"/> may be <c>model@version</c>.</summary>
public sealed record ReviewQueueRequest(string? Model = null, string? Tag = null, double? MinConfidence = null, double? MaxConfidence = null, int Limit = SuggestionQueries.DefaultQueueLimit, string? Cursor = null);

/// <param name="Next">Cursor of the next page (null on the last page).</param>
public sealed record ReviewQueuePage(IReadOnlyList<PendingSuggestionMedia> Items, long TotalMedia, long TotalSuggestions, int Limit, string? Next);

/// <param name="ApprovalRate">Approved / reviewed (approved + rejected); null before any review.</param>
public sealed record SuggestionCounts(long Pending, long Approved, long Rejected, long Total, double? ApprovalRate)
{
    public static SuggestionCounts Of(SuggestionStatusCounts c) =>
        new(c.Pending, c.Approved, c.Rejected, c.Total, c.Reviewed == 0 ? null : (double)c.Approved / c.Reviewed);
}

public sealed record ModelSuggestionStats(string? Model, string? ModelVersion, SuggestionCounts Counts);

public sealed record TagSuggestionStats(string Tag, SuggestionCounts Counts);

public sealed record SuggestionStats(SuggestionCounts Totals, IReadOnlyList<ModelSuggestionStats> ByModel, IReadOnlyList<TagSuggestionStats> TopSuggested, IReadOnlyList<TagSuggestionStats> TopRejected);

/// <summary>
/// Library-wide reads over suggestions, from the index (which is rebuilt from the sidecars, where suggestions live): the
/// moderators' review queue and the statistics. Trash is left out of both.
/// </summary>
public sealed class SuggestionQueries(TroveLibrary library)
{
    public const int DefaultQueueLimit = 50;
    public const int MaxQueueLimit = 200;
    public const int DefaultTopTags = 20;
    public const int MaxTopTags = 200;

    /// <summary>
    /// Library media with pending suggestions that match, best matching confidence first (ties by id), each with its
    /// matching pending suggestions; paged by an opaque cursor.
    /// </summary>
    public async Task<ReviewQueuePage> QueueAsync(ReviewQueueRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Limit is < 1 or > MaxQueueLimit)
        {
            throw new TroveUsageException("bad-limit", $"'limit' must be from 1 to {MaxQueueLimit}; got {request.Limit}.");
        }

        CheckConfidence(request.MinConfidence, "minConfidence");
        CheckConfidence(request.MaxConfidence, "maxConfidence");
        if (request.MinConfidence > request.MaxConfidence)
        {
            throw new TroveUsageException("bad-confidence", $"minConfidence ({request.MinConfidence}) is above maxConfidence ({request.MaxConfidence}).");
        }

        var (model, version) = SplitModel(request.Model);
        string? tag = null;
        if (!string.IsNullOrWhiteSpace(request.Tag))
        {
            if (!TagNames.TryNormalize(request.Tag, out var name, out var error))
            {
                throw new TroveUsageException("invalid-tag", error);
            }

            tag = library.Files.ReadVocabulary(out _).Resolve(name);
        }

        var after = string.IsNullOrEmpty(request.Cursor) ? null : DecodeCursor(request.Cursor);
        var filter = new PendingSuggestionFilter(model, version, tag, request.MinConfidence, request.MaxConfidence, request.Limit + 1, after);
        var page = await library.Index.PendingSuggestionsAsync(filter, ct).ConfigureAwait(false);
        var items = page.Items.Take(request.Limit).ToList();
        var next = page.Items.Count > request.Limit ? EncodeCursor(items[^1]) : null;
        return new ReviewQueuePage(items, page.TotalMedia, page.TotalSuggestions, request.Limit, next);
    }

    /// <summary>Counts by status with the approval rate, per model and version, and the top suggested and top rejected tags.</summary>
    public async Task<SuggestionStats> StatsAsync(int topTags, CancellationToken ct)
    {
        if (topTags is < 1 or > MaxTopTags)
        {
            throw new TroveUsageException("bad-top", $"'top' must be from 1 to {MaxTopTags}; got {topTags}.");
        }

        var rows = await library.Index.SuggestionStatsAsync(topTags, ct).ConfigureAwait(false);
        var totals = new SuggestionStatusCounts(rows.ByModel.Sum(m => m.Counts.Pending), rows.ByModel.Sum(m => m.Counts.Approved), rows.ByModel.Sum(m => m.Counts.Rejected));
        return new SuggestionStats(
            SuggestionCounts.Of(totals),
            rows.ByModel.Select(m => new ModelSuggestionStats(m.Model, m.ModelVersion, SuggestionCounts.Of(m.Counts))).ToList(),
            rows.TopSuggested.Select(t => new TagSuggestionStats(t.Tag, SuggestionCounts.Of(t.Counts))).ToList(),
            rows.TopRejected.Select(t => new TagSuggestionStats(t.Tag, SuggestionCounts.Of(t.Counts))).ToList());
    }

    private static void CheckConfidence(double? value, string name)
    {
        if (value is { } v && (double.IsNaN(v) || v < 0 || v > 1))
        {
            throw new TroveUsageException("bad-confidence", $"'{name}' must be from 0 to 1; got {v.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    private static (string? Model, string? Version) SplitModel(string? model)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return (null, null);
        }

        var text = model.Trim();
        var at = text.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? (text, null) : (text[..at], text[(at + 1)..] is { Length: > 0 } v ? v : null);
    }

    private static string EncodeCursor(PendingSuggestionMedia last) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(last.BestConfidence.ToString("R", CultureInfo.InvariantCulture) + "|" + last.MediaId))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static PendingSuggestionCursor DecodeCursor(string cursor)
    {
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(base64)).Split('|');
            if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var confidence) && parts[1].Length > 0)
            {
                return new PendingSuggestionCursor(confidence, parts[1]);
            }
        }
        catch (FormatException)
        {
        }

        throw new TroveUsageException("bad-cursor", "The cursor is not one this queue returned.", "Start again without 'cursor' and follow 'next'.");
    }
}
