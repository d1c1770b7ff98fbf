using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using Trove.Application;
using Trove.Application.Faces;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Api;

public sealed record PeopleListResponse(IReadOnlyList<PersonView> People);

public sealed record FaceListResponse(IReadOnlyList<FaceView> Faces);

/// <summary>
/// A change to a person (PATCH): <see cref="Name"/> names or renames (naming an unnamed group confirms its clustered
/// faces); aliases added and removed; description and notes set ("" clears); external ids set (null or "" removes);
/// <see cref="Hidden"/>; <see cref="Cover"/> as MEDIA#N. What is left out stays as it is.
/// </summary>
public sealed record PersonPatchRequest(
    string? Name,
    IReadOnlyList<string>? AddAliases,
    IReadOnlyList<string>? RemoveAliases,
    string? Description,
    string? Notes,
    IReadOnlyDictionary<string, string?>? ExternalIds,
    bool? Hidden,
    string? Cover);

public sealed record PersonChangeResponse(PersonView Person, int Confirmed, int Moved);

public sealed record PersonMergeRequest(string? Into);

/// <summary>Faces (MEDIA#N) to move to <see cref="To"/> (a person), or to a new person named <see cref="NewName"/> (or unnamed).</summary>
public sealed record SplitRequest(IReadOnlyList<string>? Faces, string? To, string? NewName);

public sealed record FacesRequest(IReadOnlyList<string>? Faces, string? Person, bool? Undo);

public sealed record FacesChangedResponse(int Changed);

public sealed record FaceDetectRequest(string? Query, bool? Force);

public sealed record FaceDetectResponse(int Media, string Detector, string? Embedder, IReadOnlyList<JobResponse> Jobs);

/// <summary>
/// Faces and people: reading them (anyone who may read); deciding about faces — confirm, reject for a person, not a
/// face, move to another or a new person (split) — (members on their own uploads, moderators on any); changing people
/// themselves — name, edit, merge, cover, hide — and starting detection or clustering (moderators, since people are
/// shared by the whole library).
/// </summary>
public static class PeopleEndpoints
{
    private const int FaceMaxAgeSeconds = 3600;

    public static void Map(RouteGroupBuilder api)
    {
        var people = api.MapGroup("/people").WithTags("People");
        people.MapGet("/", async (bool? hidden, PeopleService service, CancellationToken ct) =>
            TypedResults.Ok(new PeopleListResponse([.. (await service.ListAsync(hidden ?? false, ct).ConfigureAwait(false)).Select(PersonView.From)])))
            .WithSummary("People with their face counts, named first (?hidden=true includes hidden people)");

        people.MapGet("/{person}", async (string person, PeopleService service, TroveLibrary library, CancellationToken ct) =>
            TypedResults.Ok(FaceViews.Of(library, await service.GetAsync(person, ct).ConfigureAwait(false))))
            .WithSummary("A person (by id, name or alias) with their faces: confirmed first, then suggestions closest first");

        people.MapPatch("/{person}", async (string person, PersonPatchRequest request, PeopleService service, CancellationToken ct) =>
        {
            var id = service.Resolve(person).Id;
            var edited = request.AddAliases is not null || request.RemoveAliases is not null || request.Description is not null || request.Notes is not null || request.ExternalIds is not null;
            var edit = edited ? new PersonEdit(request.AddAliases, request.RemoveAliases, request.Description, request.Notes, request.ExternalIds) : null;
            var confirmed = await service.PatchAsync(id, request.Name, edit, request.Hidden, request.Cover, ct).ConfigureAwait(false);
            return TypedResults.Ok(new PersonChangeResponse(await ViewAsync(service, id, ct).ConfigureAwait(false), confirmed, 0));
        }).RequireAuthorization(Policies.Moderator).WithSummary("Name, rename, edit, hide or set the cover of a person (moderator)");

        people.MapPost("/{person}/merge", async (string person, PersonMergeRequest request, PeopleService service, CancellationToken ct) =>
        {
            var into = request.Into ?? throw new TroveUsageException("missing-into", "Say whom to merge into: {\"into\":\"PERSON\"}.");
            var (kept, moved) = await service.MergeAsync(person, into, ct).ConfigureAwait(false);
            return TypedResults.Ok(new PersonChangeResponse(await ViewAsync(service, kept.Id, ct).ConfigureAwait(false), 0, moved));
        }).RequireAuthorization(Policies.Moderator).WithSummary("Merge this person into another: their faces move, their name becomes an alias (moderator; undo with split)");

        people.MapPost("/split", async (HttpContext context, SplitRequest request, PeopleService service, MediaService media, CancellationToken ct) =>
        {
            await EnsureCanEditAsync(context, media, request.Faces, ct).ConfigureAwait(false);
            var (target, moved) = await service.SplitAsync(request.Faces ?? [], request.To, request.NewName, ct).ConfigureAwait(false);
            return TypedResults.Ok(new PersonChangeResponse(await ViewAsync(service, target.Id, ct).ConfigureAwait(false), 0, moved));
        }).RequireAuthorization(Policies.Member).WithSummary("Move faces to another or a new person, confirmed: the un-merge (members for faces in their own uploads)");

        people.MapPost("/{person}/reject", async (HttpContext context, string person, FacesRequest request, PeopleService service, MediaService media, CancellationToken ct) =>
        {
            await EnsureCanEditAsync(context, media, request.Faces, ct).ConfigureAwait(false);
            return TypedResults.Ok(new FacesChangedResponse(await service.RejectAsync(person, request.Faces ?? [], ct).ConfigureAwait(false)));
        }).RequireAuthorization(Policies.Member).WithSummary("These faces are not this person: back to nobody, never suggested for them again");

        var faces = api.MapGroup("/faces").WithTags("People");
        faces.MapGet("/suggestions", async (string? person, string? limit, PeopleService service, TroveLibrary library, CancellationToken ct) =>
        {
            var list = await service.SuggestionsAsync(person, MediaEndpoints.QueryInt(limit, "limit", 100, 1, 1000), ct).ConfigureAwait(false);
            return TypedResults.Ok(new FaceListResponse([.. list.Select(f => FaceViews.Of(library, f))]));
        }).WithSummary("Faces suggested for people, waiting for review (?person=, ?limit=100): named people first, closest first");

        faces.MapPost("/confirm", async (HttpContext context, FacesRequest request, PeopleService service, MediaService media, CancellationToken ct) =>
        {
            await EnsureCanEditAsync(context, media, request.Faces, ct).ConfigureAwait(false);
            return TypedResults.Ok(new FacesChangedResponse(await service.ConfirmAsync(request.Faces ?? [], request.Person, ct).ConfigureAwait(false)));
        }).RequireAuthorization(Policies.Member).WithSummary("Accept suggested faces, or with \"person\" say whose faces they are");

        faces.MapPost("/not-face", async (HttpContext context, FacesRequest request, PeopleService service, MediaService media, CancellationToken ct) =>
        {
            await EnsureCanEditAsync(context, media, request.Faces, ct).ConfigureAwait(false);
            return TypedResults.Ok(new FacesChangedResponse(await service.NotAFaceAsync(request.Faces ?? [], request.Undo ?? false, ct).ConfigureAwait(false)));
        }).RequireAuthorization(Policies.Member).WithSummary("Mark detections as not faces (\"undo\": true makes them faces again)");

        faces.MapPost("/detect", async (FaceDetectRequest request, TroveLibrary library, SearchService search, CancellationToken ct) =>
        {
            var active = ActiveFaceModels.Require(library);
            var ids = await search.AllIdsAsync(request.Query ?? string.Empty, ct).ConfigureAwait(false);
            var jobs = await FaceJobs.EnqueueAsync(library, ids, request.Force ?? false, TimeSpan.Zero, ct).ConfigureAwait(false);
            return TypedResults.Accepted(
                jobs.Count > 0 ? $"/api/jobs/{jobs[0].Id}" : "/api/jobs",
                new FaceDetectResponse(ids.Count, active.DetectorReference, active.EmbedderReference, [.. jobs.Select(JobResponse.From)]));
        }).RequireAuthorization(Policies.Moderator).WithSummary("Queue face detection for a query's media (moderator); 202 with the jobs");

        faces.MapPost("/cluster", async (TroveLibrary library, CancellationToken ct) =>
            TypedResults.Ok(await new FaceClusterer(library).UpdateAsync(ct).ConfigureAwait(false)))
            .RequireAuthorization(Policies.Moderator).WithSummary("Match unassigned faces to confirmed people and cluster the rest into unnamed people (moderator)");

        var media = api.MapGroup("/media/{id}/faces").WithTags("People");
        media.MapGet("/", async (string id, PeopleService service, TroveLibrary library, CancellationToken ct) =>
        {
            var (mediaId, list, scan) = await service.FacesOfAsync(id, ct).ConfigureAwait(false);
            return TypedResults.Ok(FaceViews.Of(library, mediaId, list, scan));
        }).WithSummary("A media's faces: boxes in displayed pixels, quality, status and person");

        media.MapGet("/{face}/image", async (HttpContext context, string id, string face, string? size, PeopleService service, CancellationToken ct) =>
        {
            var rendered = await service.RenderFaceAsync($"{id}#{face}", MediaEndpoints.QueryInt(size, "size", 160, 16, 1024), ct).ConfigureAwait(false);
            var key = Path.GetFileNameWithoutExtension(rendered.Path);
            context.Response.Headers.CacheControl = string.Create(CultureInfo.InvariantCulture, $"private, max-age={FaceMaxAgeSeconds}");
            return TypedResults.PhysicalFile(rendered.Path, rendered.MediaType, fileDownloadName: null, entityTag: new EntityTagHeaderValue("\"" + key[(key.LastIndexOf('-') + 1)..] + "\""));
        }).WithSummary("One face as a square WebP image with some margin (?size=160, 16–1024)");
    }

    private static async Task<PersonView> ViewAsync(PeopleService service, string id, CancellationToken ct) =>
        PersonView.From((await service.GetAsync(id, ct).ConfigureAwait(false)).Summary);

    // Members decide only about faces in their own uploads; checked for every face before anything changes.
    private static async Task EnsureCanEditAsync(HttpContext context, MediaService media, IReadOnlyList<string>? faces, CancellationToken ct)
    {
        // A reference that is not MEDIA#N is left to the service, whose error says how to write one.
        foreach (var m in (faces ?? []).Where(f => f.LastIndexOf('#') > 0).Select(f => f[..f.LastIndexOf('#')]).Distinct(StringComparer.Ordinal))
        {
            await MediaAccess.EnsureCanEditAsync(context, media, m, ct).ConfigureAwait(false);
        }
    }
}
