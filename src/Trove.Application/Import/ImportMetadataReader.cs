using XmpCore;

namespace Trove.Application.Import;

/// <summary>
/// Picks up what is known about an image at import: its metadata files (kohya "name.txt", "name.caption",
/// booru/Hydrus "name.jpg.txt", JSON "name.json"/"name.jpg.json", XMP "name.xmp"/"name.jpg.xmp") and the
/// metadata embedded in the image (EXIF, IPTC, XMP), merged into one <see cref="ImportMetadata"/>.
/// </summary>
/// <remarks>
/// <para>Sources are read in that order. Tags, keywords, captions and source URLs accumulate (duplicates
/// removed); for single values (title, description, date taken, rating, orientation, each extra key) the first
/// source that has one wins — so metadata files, which someone wrote on purpose, beat embedded metadata.</para>
/// <para>A description (EXIF ImageDescription, IPTC Caption/Abstract, XMP dc:description, JSON "description")
/// becomes a caption only when no caption came from anywhere else.</para>
/// <para>Nothing here throws for bad input: unreadable or oversized files (see
/// <see cref="ImportLimits.MaxSidecarSize"/>), malformed JSON/XMP, corrupt EXIF and tag names that Trove cannot
/// accept end up in <see cref="ImportMetadata.Warnings"/>. Only cancellation propagates.</para>
/// <para>Thread-safe: a reader holds nothing but its limits.</para>
/// </remarks>
public sealed class ImportMetadataReader(ImportLimits? limits = null)
{
    public ImportLimits Limits { get; } = limits ?? ImportLimits.Default;

    /// <summary>Metadata for an image file in a folder: its sibling files and its embedded metadata.</summary>
    public ImportMetadata ReadFile(string imagePath, CancellationToken ct = default)
    {
        var siblings = new FolderSiblingFiles(imagePath);
        FileStream? image = null;
        var builder = new ImportMetadataBuilder();
        try
        {
            image = new FileStream(imagePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            builder.Warn($"{imagePath}: cannot be read for embedded metadata: {ex.Message}");
        }

        using (image)
        {
            return Read(siblings, image, builder, ct);
        }
    }

    /// <summary>Metadata for an image extracted from a ZIP archive: the metadata entries beside it and the extracted copy's embedded metadata.</summary>
    public ImportMetadata ReadZipItem(ZipItem item, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (!item.IsExtracted)
        {
            return Read(item.Siblings, null, ct);
        }

        using var image = new FileStream(item.TempFilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        return Read(item.Siblings, image, ct);
    }

    /// <summary>
    /// Metadata from the files <paramref name="siblings"/> can read and, when <paramref name="image"/> is given
    /// (seekable, positioned at the start), from the image's embedded metadata.
    /// </summary>
    public ImportMetadata Read(ISiblingFiles siblings, Stream? image, CancellationToken ct = default) =>
        Read(siblings, image, new ImportMetadataBuilder(), ct);

    private ImportMetadata Read(ISiblingFiles siblings, Stream? image, ImportMetadataBuilder builder, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(siblings);
        if (siblings.ImageName.Length > 0)
        {
            foreach (var candidate in ImportFileNames.CandidatesFor(siblings.ImageName))
            {
                ct.ThrowIfCancellationRequested();
                var file = TryRead(siblings, candidate.FileName, builder, ct);
                if (file is null)
                {
                    continue;
                }

                var before = builder.Version;
                ApplyFile(file, candidate.Kind, builder);
                if (builder.Version != before)
                {
                    builder.AddFile(file.DisplayPath);
                }
            }
        }

        if (image is not null)
        {
            EmbeddedMetadata.Apply(image, siblings.ImageDisplayPath, builder, ct);
        }

        return builder.Build();
    }

    private SiblingFile? TryRead(ISiblingFiles siblings, string fileName, ImportMetadataBuilder builder, CancellationToken ct)
    {
        try
        {
            return siblings.TryRead(fileName, Limits.MaxSidecarSize, ct);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or ObjectDisposedException)
        {
            builder.Warn($"{ex.Message}; ignored");
            return null;
        }
    }

    private static void ApplyFile(SiblingFile file, MetadataFileKind kind, ImportMetadataBuilder builder)
    {
        switch (kind)
        {
            case MetadataFileKind.KohyaText:
                var text = TextFiles.Decode(file.Content);
                switch (KohyaText.Classify(text))
                {
                    case KohyaTextKind.Tags:
                        foreach (var tag in KohyaText.SplitTags(text))
                        {
                            builder.AddTag(tag, null, file.DisplayPath);
                        }

                        break;
                    case KohyaTextKind.Caption:
                        builder.AddCaption(text, file.DisplayPath);
                        break;
                }

                break;
            case MetadataFileKind.Caption:
                builder.AddCaption(TextFiles.Decode(file.Content), file.DisplayPath);
                break;
            case MetadataFileKind.TagList:
                TagListFile.Apply(TextFiles.Decode(file.Content), file.DisplayPath, builder);
                break;
            case MetadataFileKind.Json:
                JsonSidecar.Apply(file.Content, file.DisplayPath, builder);
                break;
            case MetadataFileKind.Xmp:
                ApplyXmpFile(file, builder);
                break;
        }
    }

    private static void ApplyXmpFile(SiblingFile file, ImportMetadataBuilder builder)
    {
        IXmpMeta xmp;
        try
        {
            xmp = XmpMetaFactory.ParseFromBuffer(file.Content);
        }
        catch (Exception ex)
        {
            builder.Warn($"{file.DisplayPath}: invalid XMP: {ex.Message}; the file was ignored");
            return;
        }

        EmbeddedMetadata.ApplyXmp(xmp, file.DisplayPath, builder);
    }
}
