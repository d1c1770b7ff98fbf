namespace Trove.Application.Import;

/// <summary>Which files an import treats as metadata rather than media, and which metadata files belong to an image.</summary>
public static class ImportFileNames
{
    private static readonly HashSet<string> MetadataExtensions = new(StringComparer.OrdinalIgnoreCase) { ".txt", ".caption", ".json", ".xmp" };

    /// <summary>True for .txt, .caption, .json and .xmp files: they describe images and are never imported as media.</summary>
    public static bool IsMetadataFile(string name) => MetadataExtensions.Contains(Path.GetExtension(name));

    /// <summary>
    /// The metadata files that may describe <paramref name="imageName"/> ("name.jpg"), in the order they are
    /// read: kohya caption/tags "name.txt", caption "name.caption", booru/Hydrus tags "name.jpg.txt", JSON
    /// "name.json" and "name.jpg.json", XMP "name.xmp" and "name.jpg.xmp".
    /// </summary>
    public static IReadOnlyList<MetadataFileCandidate> CandidatesFor(string imageName)
    {
        var stem = Path.GetFileNameWithoutExtension(imageName);
        var hasExtension = stem.Length > 0 && stem != imageName;
        var list = new List<MetadataFileCandidate>();
        if (hasExtension)
        {
            list.Add(new(stem + ".txt", MetadataFileKind.KohyaText));
            list.Add(new(stem + ".caption", MetadataFileKind.Caption));
            list.Add(new(imageName + ".txt", MetadataFileKind.TagList));
            list.Add(new(stem + ".json", MetadataFileKind.Json));
            list.Add(new(imageName + ".json", MetadataFileKind.Json));
            list.Add(new(stem + ".xmp", MetadataFileKind.Xmp));
            list.Add(new(imageName + ".xmp", MetadataFileKind.Xmp));
        }
        else
        {
            list.Add(new(imageName + ".txt", MetadataFileKind.KohyaText));
            list.Add(new(imageName + ".caption", MetadataFileKind.Caption));
            list.Add(new(imageName + ".json", MetadataFileKind.Json));
            list.Add(new(imageName + ".xmp", MetadataFileKind.Xmp));
        }

        return list;
    }
}

/// <summary>How a metadata file is interpreted.</summary>
public enum MetadataFileKind
{
    /// <summary>kohya-style "name.txt": a tag line or a caption, decided by <see cref="KohyaText.Classify"/>.</summary>
    KohyaText,

    /// <summary>"name.caption": always a caption.</summary>
    Caption,

    /// <summary>booru/Hydrus-style "name.jpg.txt": one tag per line (or comma separated), Hydrus namespaces understood.</summary>
    TagList,

    /// <summary>JSON sidecar (booru post, gallery-dl, Hydrus, caption, Trove sidecar…).</summary>
    Json,

    /// <summary>XMP sidecar (Lightroom, darktable, digiKam…).</summary>
    Xmp,
}

public sealed record MetadataFileCandidate(string FileName, MetadataFileKind Kind);
