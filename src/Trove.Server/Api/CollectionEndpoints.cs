using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trove.Application;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Api;

public sealed record CollectionResponse(string Id, string Name, string? Description, IReadOnlyList<string> Tags, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, long Members)
{
    public static CollectionResponse From(IndexedCollection c) => new(c.Id, c.Name, c.Description, c.Tags, c.CreatedAt, c.UpdatedAt, c.MemberCount);
}

public sealed record CollectionMemberResponse(string Id, int Position, string Thumbnail);

/// <summary>A collection and (a page of) its members in order; <see cref="CollectionMemberResponse.Position"/> is 1-based.</summary>
public sealed record CollectionDetailResponse(CollectionResponse Collection, long Total, int Offset, IReadOnlyList<CollectionMemberResponse> Members)
{
    public static CollectionDetailResponse From(CollectionView view, int offset = 0, int? limit = null)
    {
        var page = view.Members.Skip(offset).Take(limit ?? int.MaxValue)
            .Select((id, i) => new CollectionMemberResponse(id, offset + i + 1, $"/api/media/{id}/thumbnail?size=256"))
            .ToList();
        return new(CollectionResponse.From(view.Collection) with { Members = view.Members.Count }, view.Members.Count, offset, page);
    }
}

public sealed record CreateCollectionRequest(string? Name, string? Description);

public sealed record UpdateCollectionRequest(string? Name, string? Description, IReadOnlyList<string>? Tags);

public sealed record CollectionIdsRequest(IReadOnlyList<string>? Ids);

public sealed record CollectionMoveRequest(string? Id, int? Position);

/// <summary>
/// Named, ordered collections. Members create collections and add media to them; moderators rename, describe,
/// reorder, remove members and delete.
/// </summary>
public static class CollectionEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var collections = api.MapGroup("/collections").WithTags("Collections");
        collections.MapGet("/", async (CollectionService service, CancellationToken ct) =>
            TypedResults.Ok((await service.ListAsync(ct).ConfigureAwait(false)).Select(CollectionResponse.From).ToList()))
            .WithSummary("All collections with their member counts");
        collections.MapPost("/", async (CreateCollectionRequest request, CollectionService service, CancellationToken ct) =>
        {
            var created = await service.CreateAsync(request.Name ?? string.Empty, request.Description, ct).ConfigureAwait(false);
            return TypedResults.Created($"/api/collections/{Uri.EscapeDataString(created.Name)}", CollectionResponse.From(created));
        }).RequireAuthorization(Policies.Member).WithSummary("Create a collection (member)");
        collections.MapGet("/{name}", async (string name, string? offset, string? limit, CollectionService service, CancellationToken ct) =>
        {
            var skip = MediaEndpoints.QueryInt(offset, "offset", 0, 0, int.MaxValue);
            int? take = string.IsNullOrWhiteSpace(limit) ? null : MediaEndpoints.QueryInt(limit, "limit", 0, 0, int.MaxValue);
            return TypedResults.Ok(CollectionDetailResponse.From(await service.ShowAsync(TagEndpoints.RouteName(name), ct).ConfigureAwait(false), skip, take));
        })
            .WithSummary("A collection (by name or id) and its members in order (optional offset/limit)");
        collections.MapPatch("/{name}", async (string name, UpdateCollectionRequest request, CollectionService service, CancellationToken ct) =>
        {
            var updated = await service.UpdateAsync(TagEndpoints.RouteName(name), request.Name, request.Description, request.Tags, ct).ConfigureAwait(false);
            return TypedResults.Ok(CollectionResponse.From(updated));
        }).RequireAuthorization(Policies.Moderator).WithSummary("Rename, describe or retag a collection (moderator)");
        collections.MapDelete("/{name}", async (string name, CollectionService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(TagEndpoints.RouteName(name), ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).RequireAuthorization(Policies.Moderator).WithSummary("Delete a collection; its media stay in the library (moderator)");
        collections.MapPost("/{name}/media", async (string name, CollectionIdsRequest request, CollectionService service, CancellationToken ct) =>
            TypedResults.Ok(CollectionDetailResponse.From(await service.AddAsync(TagEndpoints.RouteName(name), Ids(request), ct).ConfigureAwait(false))))
            .RequireAuthorization(Policies.Member).WithSummary("Append media to a collection (members already in it keep their place) (member)");
        collections.MapPost("/{name}/media/remove", async (string name, CollectionIdsRequest request, CollectionService service, CancellationToken ct) =>
            TypedResults.Ok(CollectionDetailResponse.From(await service.RemoveAsync(TagEndpoints.RouteName(name), Ids(request), ct).ConfigureAwait(false))))
            .RequireAuthorization(Policies.Moderator).WithSummary("Remove media from a collection (they stay in the library) (moderator)");
        collections.MapPost("/{name}/move", async (string name, CollectionMoveRequest request, CollectionService service, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(request.Id) || request.Position is not { } position)
            {
                throw new TroveUsageException("missing-field", "Moving needs the member's 'id' and its new 1-based 'position'.");
            }

            return TypedResults.Ok(CollectionDetailResponse.From(await service.MoveAsync(TagEndpoints.RouteName(name), request.Id, position, ct).ConfigureAwait(false)));
        }).RequireAuthorization(Policies.Moderator).WithSummary("Move a member to a 1-based position (moderator)");
    }

    private static IReadOnlyList<string> Ids(CollectionIdsRequest request) =>
        request.Ids is { Count: > 0 } ids ? ids : throw new TroveUsageException("missing-field", "'ids' must name at least one media.");
}
