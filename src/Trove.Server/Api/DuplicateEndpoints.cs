using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trove.Application.Similarity;
using Trove.Domain.Similarity;
using Trove.Server.Auth;

namespace Trove.Server.Api;

public sealed record DuplicateMemberResponse(string Id, int Width, int Height, long Size, string Thumbnail)
{
    public static DuplicateMemberResponse From(DuplicateMember m) => new(m.Id, m.Width, m.Height, m.Size, $"/api/media/{m.Id}/thumbnail?size=256");
}

/// <summary>Groups of near-duplicates, largest first; each group is a list of members.</summary>
public sealed record DuplicateGroupsResponse(int Distance, IReadOnlyList<IReadOnlyList<DuplicateMemberResponse>> Groups);

public sealed record MergeRequest(IReadOnlyList<string>? Ids, string? Keep);

public sealed record MergeResponse(string Kept, IReadOnlyList<string> Trashed, IReadOnlyList<string> TagsAdded, int CaptionsAdded, int CollectionsAdded)
{
    public static MergeResponse From(MergeReport r) => new(r.Kept, r.Trashed, r.TagsAdded, r.CaptionsAdded, r.CollectionsAdded);
}

/// <summary>Near-duplicate review (moderators): groups by perceptual hash, and merging a group into one media.</summary>
public static class DuplicateEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var duplicates = api.MapGroup("/duplicates").WithTags("Duplicates").RequireAuthorization(Policies.Moderator);
        duplicates.MapGet("/", async (string? distance, NearDuplicateService service, CancellationToken ct) =>
        {
            var d = MediaEndpoints.QueryInt(distance, "distance", NearDuplicateCriteria.DefaultMaxDistance, 0, NearDuplicateService.MaxDistance);
            var groups = await service.FindGroupsAsync(d, null, ct).ConfigureAwait(false);
            return TypedResults.Ok(new DuplicateGroupsResponse(
                d,
                groups.Select(g => (IReadOnlyList<DuplicateMemberResponse>)g.Members.Select(DuplicateMemberResponse.From).ToList()).ToList()));
        }).WithSummary($"Groups of near-duplicate images (distance: pHash bits of 64 that may differ, 0–{NearDuplicateService.MaxDistance}) (moderator)");
        duplicates.MapPost("/merge", async (MergeRequest request, NearDuplicateService service, CancellationToken ct) =>
            TypedResults.Ok(MergeResponse.From(await service.MergeAsync(request.Ids ?? [], request.Keep, ct).ConfigureAwait(false))))
            .WithSummary("Merge near-duplicates: keep one (the given or the best), union tags, captions and collections into it, trash the others (moderator)");
    }
}
