using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Similarity;
using Trove.Domain;
using Trove.Domain.Similarity;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

/// <summary>
/// Near-duplicate review: groups side by side, "keep this and merge the others" per member (the merge itself is
/// <see cref="NearDuplicateService.MergeAsync"/>). "Skip" only hides a group in this browser tab (manage.js keeps
/// the skipped groups in sessionStorage); nothing is recorded, so the group shows again in a new tab or session.
/// </summary>
[Authorize(Policy = Policies.Moderator)]
public sealed class DuplicatesModel(NearDuplicateService duplicates, MediaService media, TroveLibrary library) : ManagePageModel
{
    public const string GroupFragment = "_ManageDupeGroup";
    public const int MaxGroups = 40;

    public static IReadOnlyList<int> DistanceChoices { get; } = [0, 2, 4, 6, 8, 10, 12, 14, 16, 20, 24];

    /// <summary>Bits of the 64-bit perceptual hash that may differ.</summary>
    [BindProperty(SupportsGet = true)]
    public int Distance { get; set; } = NearDuplicateCriteria.DefaultMaxDistance;

    /// <summary>phash, embedding or both (the last two only when the library has an embedder).</summary>
    [BindProperty(SupportsGet = true)]
    public string By { get; set; } = "phash";

    /// <summary>Whether an embedder is registered (the page then offers grouping by embedding).</summary>
    public bool HasEmbedder { get; private set; }

    /// <summary>The embedding similarity used (the embedder's duplicateScore).</summary>
    public float? MinScore { get; private set; }

    public IReadOnlyList<DupeGroupView> Groups { get; private set; } = [];

    public int TotalGroups { get; private set; }

    public Task<IActionResult> OnGetAsync() => PageAsync();

    public async Task<IActionResult> OnPostMergeAsync(string[] ids, string keep)
    {
        await ChangeAsync(Permissions.CanMerge(Me), "merge near-duplicates", async ct =>
        {
            var report = await duplicates.MergeAsync(ids ?? [], keep, ct).ConfigureAwait(false);
            return Describe(report);
        }).ConfigureAwait(false);

        if (IsHtmx && Error is null)
        {
            return Removed();
        }

        if (IsHtmx)
        {
            var group = await ViewAsync(0, ids ?? [], Aborted).ConfigureAwait(false);
            return await RespondAsync(GroupFragment, group with { Error = Error, Hint = Hint }).ConfigureAwait(false);
        }

        return await RespondAsync(GroupFragment).ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        var active = Application.Embeddings.ActiveEmbedder.Of(library);
        HasEmbedder = active is not null;
        var basis = HasEmbedder ? Api.DuplicateEndpoints.Basis(By, both: true) : DuplicateBasis.PerceptualHash;
        By = Api.DuplicateEndpoints.Name(basis);
        MinScore = basis == DuplicateBasis.PerceptualHash ? null : active!.Parameters.DuplicateScore;
        var groups = await duplicates.FindGroupsAsync(basis, Distance, null, null, ct).ConfigureAwait(false);
        TotalGroups = groups.Count;
        var views = new List<DupeGroupView>();
        foreach (var group in groups.Take(MaxGroups))
        {
            views.Add(await ViewAsync(views.Count + 1, group.Ids.ToList(), ct).ConfigureAwait(false) with { By = group.By, Score = group.Score });
        }

        Groups = views;
    }

    private static string Describe(MergeReport report)
    {
        var others = report.Trashed.Count == 1 ? "1 other" : $"{report.Trashed.Count} others";
        var added = new List<string>();
        if (report.TagsAdded.Count > 0)
        {
            added.Add(report.TagsAdded.Count == 1 ? "1 tag" : $"{report.TagsAdded.Count} tags");
        }

        if (report.CaptionsAdded > 0)
        {
            added.Add(report.CaptionsAdded == 1 ? "1 caption" : $"{report.CaptionsAdded} captions");
        }

        if (report.CollectionsAdded > 0)
        {
            added.Add(report.CollectionsAdded == 1 ? "1 collection" : $"{report.CollectionsAdded} collections");
        }

        return $"Kept {Short(report.Kept)} and merged {others} into it ({(added.Count == 0 ? "nothing new to add" : string.Join(", ", added) + " added")}); the others are in the trash.";
    }

    private async Task<DupeGroupView> ViewAsync(int number, IReadOnlyList<string> ids, CancellationToken ct)
    {
        var members = new List<DupeMemberView>(ids.Count);
        foreach (var id in ids)
        {
            try
            {
                var view = await media.ShowAsync(id, ct).ConfigureAwait(false);
                var s = view.Sidecar;
                members.Add(new DupeMemberView(s.Id, s.Original.Width ?? 0, s.Original.Height ?? 0, s.Original.Size, s.Tags.Count, s.Original.Ext, s.Uploader, s.CreatedAt, view.InTrash));
            }
            catch (TroveException)
            {
                // Gone since the groups were computed (merged or purged elsewhere): nothing to show for it.
            }
        }

        var best = members.Count == 0 ? null : members.OrderByDescending(m => (long)m.Width * m.Height).ThenByDescending(m => m.Size).First().Id;
        return new DupeGroupView(number, members, best, Distance);
    }
}

public sealed record DupeMemberView(string Id, int Width, int Height, long Size, int TagCount, string Ext, string? Uploader, DateTimeOffset CreatedAt, bool InTrash);

/// <param name="Largest">The member with the most pixels (then the largest file): what a merge keeps by default.</param>
public sealed record DupeGroupView(int Number, IReadOnlyList<DupeMemberView> Members, string? Largest, int Distance, string? Error = null, string? Hint = null)
{
    /// <summary>What linked the group (phash, embedding, phash+embedding).</summary>
    public string By { get; init; } = "phash";

    /// <summary>The weakest embedding link, when embeddings linked it.</summary>
    public float? Score { get; init; }

    public string Linked => Score is { } s
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(By.Contains("phash", StringComparison.Ordinal) ? "hash and embedding" : "embedding")} ≥ {s:0.000}")
        : "perceptual hash";

    public string Key => string.Join(',', Members.Select(m => m.Id).Order(StringComparer.Ordinal));
}
