using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trove.Application;
using Trove.Application.Embeddings;
using Trove.Application.Similarity;
using Trove.Domain;
using Trove.Domain.Similarity;
using Trove.Server.Auth;

namespace Trove.Server.Api;

public sealed record DuplicateMemberResponse(string Id, int Width, int Height, long Size, string Thumbnail)
{
    public static DuplicateMemberResponse From(DuplicateMember m) => new(m.Id, m.Width, m.Height, m.Size, $"/api/media/{m.Id}/thumbnail?size=256");
}

/// <summary>What linked one group: <c>phash</c>, <c>embedding</c> or <c>phash+embedding</c>, and the weakest embedding link.</summary>
public sealed record DuplicateLinkResponse(string By, float? Score);

/// <summary>Groups of near-duplicates, largest first; each group is a list of members, with what linked it in <c>links</c> (same order).</summary>
public sealed record DuplicateGroupsResponse(int Distance, IReadOnlyList<IReadOnlyList<DuplicateMemberResponse>> Groups)
{
    public string By { get; init; } = "phash";

    public float? MinScore { get; init; }

    public IReadOnlyList<DuplicateLinkResponse> Links { get; init; } = [];
}

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
        duplicates.MapGet("/", async (string? distance, string? by, string? minScore, NearDuplicateService service, TroveLibrary library, CancellationToken ct) =>
        {
            var d = MediaEndpoints.QueryInt(distance, "distance", NearDuplicateCriteria.DefaultMaxDistance, 0, NearDuplicateService.MaxDistance);
            var basis = Basis(by, both: true);
            var score = QueryScore(minScore);
            var groups = await service.FindGroupsAsync(basis, d, score, null, ct).ConfigureAwait(false);
            return TypedResults.Ok(new DuplicateGroupsResponse(
                d,
                groups.Select(g => (IReadOnlyList<DuplicateMemberResponse>)g.Members.Select(DuplicateMemberResponse.From).ToList()).ToList())
            {
                By = Name(basis),
                MinScore = basis == DuplicateBasis.PerceptualHash ? null : score ?? ActiveEmbedder.Of(library)?.Parameters.DuplicateScore,
                Links = groups.Select(g => new DuplicateLinkResponse(g.By, g.Score)).ToList(),
            });
        }).WithSummary($"Groups of near-duplicate images (?by=phash|embedding|both; distance: pHash bits of 64 that may differ, 0–{NearDuplicateService.MaxDistance}; minScore: embedding similarity, default the embedder's duplicateScore) (moderator)");
        duplicates.MapPost("/merge", async (MergeRequest request, NearDuplicateService service, CancellationToken ct) =>
            TypedResults.Ok(MergeResponse.From(await service.MergeAsync(request.Ids ?? [], request.Keep, ct).ConfigureAwait(false))))
            .WithSummary("Merge near-duplicates: keep one (the given or the best), union tags, captions and collections into it, trash the others (moderator)");
    }

    /// <summary>Reads <c>by</c> (phash, embedding, or with <paramref name="both"/> both), refusing anything else.</summary>
    public static DuplicateBasis Basis(string? raw, bool both) => (raw ?? "phash").ToLowerInvariant() switch
    {
        "" or "phash" => DuplicateBasis.PerceptualHash,
        "embedding" => DuplicateBasis.Embedding,
        "both" when both => DuplicateBasis.Both,
        _ => throw new TroveUsageException("bad-by", $"'by' must be {(both ? "phash, embedding or both" : "phash or embedding")}; got '{(raw!.Length > 20 ? raw[..20] + "…" : raw)}'."),
    };

    /// <summary>Reads an optional similarity (-1 to 1).</summary>
    public static float? QueryScore(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        if (!float.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || !(value >= -1 && value <= 1))
        {
            throw new TroveUsageException("bad-minScore", $"'minScore' must be a cosine similarity from -1 to 1; got '{(raw.Length > 20 ? raw[..20] + "…" : raw)}'.");
        }

        return value;
    }

    public static string Name(DuplicateBasis basis) => basis switch
    {
        DuplicateBasis.Embedding => "embedding",
        DuplicateBasis.Both => "both",
        _ => "phash",
    };
}
