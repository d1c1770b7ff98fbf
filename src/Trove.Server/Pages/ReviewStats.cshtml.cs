using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Trove.Application.Tagging;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

/// <summary>Suggestion statistics for moderators: totals and approval rate, per model and version, top suggested and rejected tags.</summary>
[Authorize(Policy = Policies.Moderator)]
public sealed class ReviewStatsModel(SuggestionQueries queries) : ManagePageModel
{
    public SuggestionStats? Stats { get; private set; }

    public Task<IActionResult> OnGetAsync() => PageAsync();

    protected override async Task LoadAsync(CancellationToken ct)
    {
        Stats = await queries.StatsAsync(SuggestionQueries.DefaultTopTags, ct).ConfigureAwait(false);
    }

    public static string Rate(double? rate) => rate is { } r ? (r * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "–";

    /// <summary>A bar width in percent of <paramref name="max"/>.</summary>
    public static string Width(long value, long max) => (max <= 0 ? 0 : Math.Clamp(100.0 * value / max, 0, 100)).ToString("0.#", CultureInfo.InvariantCulture);
}
