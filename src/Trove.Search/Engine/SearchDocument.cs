namespace Trove.Search.Engine;

/// <summary>
/// One media as the search engine sees it. <see cref="Key"/> is the index's small, stable row number for the media
/// (documents are bit positions, so keys should be dense).
/// </summary>
public sealed class SearchDocument
{
    public required int Key { get; init; }

    /// <summary>The full SHA-256 id (64 lowercase hex characters).</summary>
    public required string Id { get; init; }

    public bool InTrash { get; init; }

    public string Kind { get; init; } = "image";

    /// <summary>File type as stored (jpg, png, webp…).</summary>
    public string Type { get; init; } = string.Empty;

    public long Size { get; init; }

    /// <summary>Displayed width, or null when unknown.</summary>
    public int? Width { get; init; }

    public int? Height { get; init; }

    /// <summary>When it was added, Unix milliseconds.</summary>
    public long CreatedAt { get; init; }

    /// <summary>When the photo was taken (EXIF), Unix milliseconds.</summary>
    public long? TakenAt { get; init; }

    public string? Uploader { get; init; }

    /// <summary>For masks: the id of the image the mask belongs to.</summary>
    public string? MaskSource { get; init; }

    public ulong? PHash { get; init; }

    public ulong? DHash { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The texts of the media's approved captions (people's, and generated ones a person approved).</summary>
    public IReadOnlyList<string> Captions { get; init; } = [];

    /// <summary>The review states its captions are in (approved, pending, rejected), for <c>caption-status:</c>.</summary>
    public IReadOnlyList<string> CaptionStatuses { get; init; } = [];

    /// <summary>Ids of the collections the media belongs to.</summary>
    public IReadOnlyList<string> Collections { get; init; } = [];

    public int CropCount { get; init; }

    /// <summary>For a derived media: the id of the original it was made from.</summary>
    public string? DerivedFrom { get; init; }

    /// <summary>For a derived media: the model (id) that made it.</summary>
    public string? DerivedModel { get; init; }

    /// <summary>Faces that count (usable and not rejected), for <c>faces:N</c> and <c>has:face</c>.</summary>
    public int FaceCount { get; init; }

    /// <summary>Whether a counted face is not confirmed as anybody (<c>has:unknown-face</c>).</summary>
    public bool HasUnknownFace { get; init; }

    /// <summary>Ids of the people confirmed on the media's faces (<c>person:</c>).</summary>
    public IReadOnlyList<string> People { get; init; } = [];

    /// <summary>Ids of the people suggested for its faces and waiting for review (<c>person-suggested:</c>).</summary>
    public IReadOnlyList<string> SuggestedPeople { get; init; } = [];

    /// <summary>Tags suggested for the media and still waiting for review.</summary>
    public IReadOnlyList<string> PendingSuggestions { get; init; } = [];
}
