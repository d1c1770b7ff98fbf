namespace Trove.Domain;

/// <summary>
/// Everything people entered or approved about one media: the source of truth, stored as JSON beside
/// the original. The index is derived from this; nothing here is derived from the index.
/// </summary>
public sealed class MediaSidecar
{
    public const int CurrentSchema = 2;

    public int Schema { get; set; } = CurrentSchema;

    /// <summary>SHA-256 of the original, lowercase hex. Must match the file name.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>Incremented on every write; lets readers and the index notice changes.</summary>
    public long Revision { get; set; }

    public string Kind { get; set; } = MediaKinds.Image;

    public OriginalInfo Original { get; set; } = new();

    /// <summary>Present when <see cref="Kind"/> is "mask".</summary>
    public MaskInfo? Mask { get; set; }

    public string? Uploader { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Set while the media is in the trash.</summary>
    public DeletionInfo? Deleted { get; set; }

    public List<TagEntry> Tags { get; set; } = [];

    public List<CaptionEntry> Captions { get; set; } = [];

    public List<CollectionMembership> Collections { get; set; } = [];

    public List<CropEntry> Crops { get; set; } = [];

    public List<RelationEntry> Relations { get; set; } = [];

    /// <summary>For a media an image-to-image model made from another: which, with what, when (docs/library-format.md, "Derived media").</summary>
    public DerivationInfo? DerivedFrom { get; set; }

    public List<ReviewDecision> Reviews { get; set; } = [];

    /// <summary>Faces found in the image, with what people decided about them (docs/faces.md).</summary>
    public List<Faces.FaceEntry> Faces { get; set; } = [];

    /// <summary>Which detector (and embedder) last looked for faces, so that a media without faces is not scanned again.</summary>
    public Faces.FaceScan? FaceScan { get; set; }

    /// <summary>Tags proposed by models, with their review state (human decisions, so they live in the file).</summary>
    public List<TagSuggestion> Suggestions { get; set; } = [];

    /// <summary>Free-form metadata picked up at import (title, source URL, EXIF fields…).</summary>
    public SortedDictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);

    public bool HasTag(string name) => Tags.Exists(t => t.Name == name);

    /// <summary>The id for a caption added now: one more than the highest in use.</summary>
    public int NextCaptionId() => Captions.Count == 0 ? 1 : Captions.Max(c => c.Id) + 1;

    /// <summary>The caption used for export and shown first: the primary one, else the first approved one; never a pending or rejected one.</summary>
    public CaptionEntry? PrimaryCaption => Captions.Find(c => c.Primary && c.IsApproved) ?? Captions.Find(c => c.IsApproved);
}

public static class MediaKinds
{
    public const string Image = "image";
    public const string Mask = "mask";

    public static bool IsKnown(string kind) => kind is Image or Mask;
}

public sealed class OriginalInfo
{
    /// <summary>File extension without dot, lowercase (jpg, png, webp…): the original is "{id}.{ext}".</summary>
    public string Ext { get; set; } = string.Empty;

    public string MediaType { get; set; } = "application/octet-stream";

    public long Size { get; set; }

    /// <summary>The file name it had when imported, for people; never used to locate it.</summary>
    public string? OriginalName { get; set; }

    /// <summary>Width as people see it (after EXIF orientation). Null until the image has been probed.</summary>
    public int? Width { get; set; }

    /// <summary>Height as people see it (after EXIF orientation).</summary>
    public int? Height { get; set; }

    /// <summary>Decoder family that read it (jpeg, png, webp, gif, tiff, heif…).</summary>
    public string? Format { get; set; }

    /// <summary>EXIF orientation 1–8 of the stored file (the original is never rewritten; views apply it).</summary>
    public int? Orientation { get; set; }

    /// <summary>Frames/pages (animated GIF/WebP, multi-page TIFF); null or 1 for still images.</summary>
    public int? Frames { get; set; }

    /// <summary>
    /// 64-bit DCT perceptual hash, 16 lowercase hex digits. Derived from the pixels but kept here so that an index
    /// rebuild needs no decoding; <c>trove check --repair</c> recomputes missing ones.
    /// </summary>
    public string? PHash { get; set; }

    /// <summary>64-bit difference hash, 16 lowercase hex digits.</summary>
    public string? DHash { get; set; }

    /// <summary>When the picture was taken (EXIF DateTimeOriginal), if known.</summary>
    public DateTimeOffset? TakenAt { get; set; }
}

public sealed class MaskInfo
{
    public string Source { get; set; } = string.Empty;

    public string Category { get; set; } = string.Empty;
}

public sealed class DeletionInfo
{
    public DateTimeOffset At { get; set; }

    public string? By { get; set; }
}

/// <summary>How a tag came to be on a media.</summary>
public static class TagSources
{
    public const string Manual = "manual";
    public const string Import = "import";
    public const string Implication = "implication";
    public const string Alias = "alias";
    public const string Suggestion = "suggestion";
    public const string Merge = "merge";

    /// <summary>Copied from the original to a media derived from it (an upscale, a restoration).</summary>
    public const string Derived = "derived";
}

public sealed class TagEntry
{
    public string Name { get; set; } = string.Empty;

    public DateTimeOffset AddedAt { get; set; }

    public string? AddedBy { get; set; }

    /// <summary>manual, import, implication, alias, suggestion, merge.</summary>
    public string Source { get; set; } = TagSources.Manual;

    /// <summary>For implication: the child tag that implied it; for alias: the old name it replaced.</summary>
    public string? Via { get; set; }
}

public static class CaptionSources
{
    public const string Manual = "manual";
    public const string Import = "import";

    /// <summary>Written by a captioner model; waits for review (<see cref="CaptionStatus"/>).</summary>
    public const string Model = "model";
}

/// <summary>
/// Where a caption stands. Captions people wrote or imported are approved as they are (stored without a status);
/// generated captions start pending and count as captions (search, export, primary) only once approved.
/// </summary>
public static class CaptionStatus
{
    public const string Approved = "approved";
    public const string Pending = "pending";
    public const string Rejected = "rejected";

    public static IReadOnlyList<string> All { get; } = [Approved, Pending, Rejected];
}

public sealed class CaptionEntry
{
    /// <summary>Small number unique within the media, stable across edits ("1", "2"…).</summary>
    public int Id { get; set; }

    public string Text { get; set; } = string.Empty;

    public bool Primary { get; set; }

    /// <summary>"manual", "import", or "model".</summary>
    public string Source { get; set; } = CaptionSources.Manual;

    /// <summary>For generated captions: the model id in models.json.</summary>
    public string? Model { get; set; }

    /// <summary>For generated captions: the model version that wrote it.</summary>
    public string? ModelVersion { get; set; }

    /// <summary>pending or rejected for a generated caption not (yet) approved; null (approved) otherwise.</summary>
    public string? Status { get; set; }

    /// <summary>What the model wrote, kept when a reviewer edited the text before approving.</summary>
    public string? GeneratedText { get; set; }

    public string? ReviewedBy { get; set; }

    public DateTimeOffset? ReviewedAt { get; set; }

    /// <summary>The status with the default spelled out: approved, pending or rejected.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string EffectiveStatus => Status ?? CaptionStatus.Approved;

    /// <summary>Counts as a caption of the media (search, export, primary): people's captions and approved generated ones.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsApproved => Status is null or CaptionStatus.Approved;

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }

    public DateTimeOffset? UpdatedAt { get; set; }
}

public sealed class CollectionMembership
{
    public string Collection { get; set; } = string.Empty;

    /// <summary>Sort key within the collection (sparse, so a move rewrites one sidecar).</summary>
    public long Position { get; set; }

    public DateTimeOffset AddedAt { get; set; }

    public string? AddedBy { get; set; }
}

public sealed class CropEntry
{
    public string Name { get; set; } = string.Empty;

    public int X { get; set; }

    public int Y { get; set; }

    public int W { get; set; }

    public int H { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }
}

public static class RelationTypes
{
    public const string Similar = "similar";
    public const string DuplicateOf = "duplicate-of";
    public const string MaskOf = "mask-of";
    public const string DerivedFrom = "derived-from";

    /// <summary>On an original: a media derived from it (the other direction of <see cref="DerivedFrom"/>).</summary>
    public const string Derivative = "derivative";

    public static bool IsKnown(string t) => t is Similar or DuplicateOf or MaskOf or DerivedFrom or Derivative;
}

/// <summary>
/// The lineage of a derived media: the original it was made from, the model and version, the parameters as given
/// (sorted, so the same run always reads the same), when and by whom, and whether its maker kept it (an unkept result
/// expires after the retention period; a kept one is an ordinary media).
/// </summary>
public sealed class DerivationInfo
{
    public string Id { get; set; } = string.Empty;

    public string Model { get; set; } = string.Empty;

    public string Version { get; set; } = string.Empty;

    public SortedDictionary<string, string> Parameters { get; set; } = new(StringComparer.Ordinal);

    public DateTimeOffset At { get; set; }

    public string? By { get; set; }

    public bool Kept { get; set; }

    /// <summary>When an unkept result is moved to the trash (null once kept).</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Whether this is the result of running <paramref name="model"/>@<paramref name="version"/> with exactly <paramref name="parameters"/> on <paramref name="original"/>.</summary>
    public bool SameRun(string original, string model, string version, IReadOnlyDictionary<string, string> parameters) =>
        Id == original && Model == model && Version == version
        && Parameters.Count == parameters.Count && parameters.All(p => Parameters.TryGetValue(p.Key, out var v) && v == p.Value);
}

public sealed class RelationEntry
{
    public string Type { get; set; } = string.Empty;

    public string Target { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }
}

/// <summary>A person's decision on a suggested tag (approve adds the tag; reject keeps it from coming back).</summary>
public sealed class ReviewDecision
{
    public string Tag { get; set; } = string.Empty;

    /// <summary>"approved" or "rejected".</summary>
    public string Decision { get; set; } = string.Empty;

    public string? Model { get; set; }

    public string? By { get; set; }

    public DateTimeOffset At { get; set; }
}

public static class SuggestionStatus
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";

    public static bool IsKnown(string s) => s is Pending or Approved or Rejected;
}

/// <summary>A tag a model proposed for the media, and what a person decided about it.</summary>
public sealed class TagSuggestion
{
    public string Tag { get; set; } = string.Empty;

    /// <summary>0–1.</summary>
    public double Confidence { get; set; }

    public string? Model { get; set; }

    public string? ModelVersion { get; set; }

    /// <summary>pending, approved or rejected.</summary>
    public string Status { get; set; } = SuggestionStatus.Pending;

    public DateTimeOffset CreatedAt { get; set; }

    public string? ReviewedBy { get; set; }

    public DateTimeOffset? ReviewedAt { get; set; }

    /// <summary>The tag category the model gave (general, character, rating…); optional, for display and thresholds.</summary>
    public string? Category { get; set; }

    /// <summary>The model's own label when it differs from <see cref="Tag"/> (an external vocabulary mapped to ours).</summary>
    public string? External { get; set; }

    /// <summary>Set when the model proposed an alias: the alias name, resolved to the canonical <see cref="Tag"/> ("resolved-from-alias").</summary>
    public string? ResolvedFrom { get; set; }

    /// <summary>
    /// Set when the suggestion comes from the vocabulary's implications rather than from the model directly: the suggested
    /// child tag that implies this one ("from-hierarchy"; confidence = the child's × 0.9).
    /// </summary>
    public string? ImpliedBy { get; set; }
}
