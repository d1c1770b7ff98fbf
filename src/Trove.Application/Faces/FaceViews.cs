using Trove.Domain.Faces;

namespace Trove.Application.Faces;

/// <summary>
/// One face as the API and <c>--json</c> show it: <see cref="Id"/> is the reference every command takes
/// (<c>MEDIA#N</c>), the box is in displayed pixels, <see cref="PersonName"/> is the person's name when they have one.
/// </summary>
public sealed record FaceView(
    string Id,
    string Media,
    int Face,
    FaceBox Box,
    IReadOnlyList<FacePoint> Landmarks,
    float Score,
    FaceQuality Quality,
    bool Usable,
    string Status,
    string? Person,
    string? PersonName,
    double? Distance,
    string? Via,
    IReadOnlyList<string> RejectedFor,
    string Detector,
    string? Embedder,
    string? DecidedBy,
    DateTimeOffset? DecidedAt)
{
    public static FaceView From(string media, FaceEntry f, Func<string, Person?> people)
    {
        ArgumentNullException.ThrowIfNull(media);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(people);
        return new(
            new FaceId(media, f.Id).ToString(), media, f.Id, f.Box, f.Landmarks, f.Score, f.Quality, f.Usable, f.Status,
            f.Person, f.Person is null ? null : people(f.Person)?.Name, f.Distance, f.Via, f.RejectedFor, f.Detector, f.Embedder, f.DecidedBy, f.DecidedAt);
    }
}

/// <summary>A media's faces and when they were looked for (null <see cref="ScannedAt"/>: not scanned yet).</summary>
public sealed record MediaFacesView(string Id, string? Detector, string? Embedder, DateTimeOffset? ScannedAt, int Usable, IReadOnlyList<FaceView> Faces);

/// <summary>One person as the API and <c>--json</c> show them, with counts of their faces.</summary>
public sealed record PersonView(
    string Id,
    string? Name,
    string Display,
    IReadOnlyList<string> Aliases,
    string? Description,
    IReadOnlyDictionary<string, string> ExternalIds,
    string? Notes,
    bool Hidden,
    string? Cover,
    int Confirmed,
    int Suggested,
    int Media,
    IReadOnlyList<MergedPerson> Merged,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static PersonView From(PersonSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var p = s.Person;
        return new(p.Id, p.Name, p.Display, p.Aliases, p.Description, p.ExternalIds, p.Notes, p.Hidden, s.Cover?.ToString(), s.Confirmed, s.Suggested, s.Media, p.Merged, p.CreatedAt, p.UpdatedAt);
    }
}

/// <summary>A person with their faces (confirmed first, then suggestions closest first).</summary>
public sealed record PersonDetailView(PersonView Person, IReadOnlyList<FaceView> Faces);

public static class FaceViews
{
    /// <summary>The views of a media's faces (the lookup names people).</summary>
    public static MediaFacesView Of(TroveLibrary library, string mediaId, IReadOnlyList<FaceEntry> faces, FaceScan? scan)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(faces);
        var people = library.People;
        return new(mediaId, scan?.Detector, scan?.Embedder, scan?.At, faces.Count(f => f.Usable), [.. faces.Select(f => FaceView.From(mediaId, f, people.Get))]);
    }

    public static FaceView Of(TroveLibrary library, PersonFace face)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(face);
        return FaceView.From(face.Id.Media, face.Face, library.People.Get);
    }

    public static PersonDetailView Of(TroveLibrary library, PersonDetail detail)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(detail);
        return new(PersonView.From(detail.Summary), [.. detail.Faces.Select(f => Of(library, f))]);
    }
}
