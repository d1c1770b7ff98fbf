using System.Text.Json.Serialization;

namespace Trove.Domain.Faces;

/// <summary>The review states of a face (docs/faces.md, "Faces in the sidecar").</summary>
public static class FaceStatus
{
    /// <summary>Belongs to nobody yet.</summary>
    public const string Unassigned = "unassigned";

    /// <summary>Proposed for <see cref="FaceEntry.Person"/> (by matching a known person, or by clustering), waiting for a person to confirm.</summary>
    public const string Suggested = "suggested";

    /// <summary>A person said this is <see cref="FaceEntry.Person"/>.</summary>
    public const string Confirmed = "confirmed";

    /// <summary>A person said this is not a face worth keeping (a false detection, a poster): never clustered or suggested.</summary>
    public const string Rejected = "rejected";

    public static IReadOnlyList<string> All { get; } = [Unassigned, Suggested, Confirmed, Rejected];
}

/// <summary>How a suggestion came about.</summary>
public static class FaceVia
{
    /// <summary>Nearest to a confirmed face of the person, within the match distance.</summary>
    public const string Match = "match";

    /// <summary>Grouped with similar unassigned faces into an unnamed person.</summary>
    public const string Cluster = "cluster";
}

/// <summary>Why a face is kept out of embedding, clustering and reference use (its quality filters).</summary>
public static class FaceRejections
{
    public const string TooSmall = "face-too-small";
    public const string ImageTooSmall = "image-too-small";
    public const string LowConfidence = "low-confidence";
    public const string Angle = "angle";
}

/// <summary>
/// One face found in a media, kept in its sidecar: where (in displayed pixels, after EXIF orientation), what found and
/// embedded it, how good it is, and what a person decided about it. The embedding itself is derived data in the face
/// embeddings file (<see cref="FaceKeys"/>).
/// </summary>
public sealed class FaceEntry
{
    /// <summary>1, 2, … within the media; never reused while the media exists.</summary>
    public int Id { get; set; }

    public FaceBox Box { get; set; } = new();

    /// <summary>Left eye, right eye, nose, left and right mouth corners (as the person in the picture sees them: image left first).</summary>
    public List<FacePoint> Landmarks { get; set; } = [];

    /// <summary>The detector's confidence, 0–1.</summary>
    public float Score { get; set; }

    /// <summary><c>model@version</c> of the detector that found it.</summary>
    public string Detector { get; set; } = string.Empty;

    /// <summary><c>model@version</c> of the embedder whose embedding is stored, or null when it was not embedded (filtered).</summary>
    public string? Embedder { get; set; }

    public FaceQuality Quality { get; set; } = new();

    public string Status { get; set; } = FaceStatus.Unassigned;

    /// <summary>The person id, for suggested and confirmed faces.</summary>
    public string? Person { get; set; }

    /// <summary>For suggestions: the cosine distance that made it (to the nearest confirmed face, or within its cluster).</summary>
    public double? Distance { get; set; }

    /// <summary>For suggestions: <see cref="FaceVia.Match"/> or <see cref="FaceVia.Cluster"/>.</summary>
    public string? Via { get; set; }

    /// <summary>People a person said this face is not: it is never suggested for them again.</summary>
    public List<string> RejectedFor { get; set; } = [];

    /// <summary>Who made the last decision (confirm, reject, move), and when.</summary>
    public string? DecidedBy { get; set; }

    public DateTimeOffset? DecidedAt { get; set; }

    /// <summary>Passed every quality filter: embedded, clustered and matched.</summary>
    [JsonIgnore]
    public bool Usable => Quality.Reasons.Count == 0;

    /// <summary>Counts in <c>faces:N</c> and <c>has:face</c>: usable and not rejected.</summary>
    [JsonIgnore]
    public bool Counted => Usable && Status != FaceStatus.Rejected;

    /// <summary>Shown as "unknown": counted, and not confirmed as anybody.</summary>
    [JsonIgnore]
    public bool Unknown => Counted && Status != FaceStatus.Confirmed;

    /// <summary>Clears any assignment (the face belongs to nobody).</summary>
    public void Unassign()
    {
        Status = FaceStatus.Unassigned;
        Person = null;
        Distance = null;
        Via = null;
    }
}

/// <summary>A rectangle in displayed pixels.</summary>
public sealed class FaceBox
{
    public int X { get; set; }

    public int Y { get; set; }

    public int W { get; set; }

    public int H { get; set; }
}

public sealed class FacePoint
{
    public double X { get; set; }

    public double Y { get; set; }
}

/// <summary>What the quality filters measured and which of them the face failed (empty = usable).</summary>
public sealed class FaceQuality
{
    /// <summary>The shorter side of the box, displayed pixels.</summary>
    public int Size { get; set; }

    /// <summary>In-plane rotation from the eyes, degrees.</summary>
    public double Roll { get; set; }

    /// <summary>Rough turn of the head from the nose's offset, degrees.</summary>
    public double Yaw { get; set; }

    /// <summary>Codes from <see cref="FaceRejections"/>.</summary>
    public List<string> Reasons { get; set; } = [];
}

/// <summary>Which models last looked for faces in a media (so that a media without faces is not scanned again).</summary>
public sealed class FaceScan
{
    public string Detector { get; set; } = string.Empty;

    public string? Embedder { get; set; }

    public DateTimeOffset At { get; set; }
}

/// <summary>Keys of faces in the face embeddings file: 32 bytes per record, like a media id.</summary>
public static class FaceKeys
{
    /// <summary>SHA-256 of <c>MEDIA_ID#FACE_ID</c>, lowercase hex: stable for as long as the face exists.</summary>
    public static string Of(string mediaId, int faceId) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(FormattableString.Invariant($"{mediaId}#{faceId}"))));
}
