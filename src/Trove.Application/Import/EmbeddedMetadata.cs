using System.Globalization;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.Formats.Iptc;
using MetadataExtractor.Formats.Xmp;
using MetadataExtractor.Util;
using XmpCore;
using MetadataDirectory = MetadataExtractor.Directory;

namespace Trove.Application.Import;

/// <summary>
/// Metadata embedded in the image file, read with MetadataExtractor:
/// <list type="bullet">
/// <item>EXIF: DateTimeOriginal (+ OffsetTimeOriginal) → date taken; Orientation; Make, Model, Artist, Copyright →
/// extra "exif.*"; ImageDescription → description; Windows XPTitle → title, XPSubject → description,
/// XPKeywords (';'-separated) → keywords, XPComment → extra "exif.comment".</item>
/// <item>IPTC: Keywords (2:25) → keywords; Object Name (2:05) → title; Caption/Abstract (2:120) → description.</item>
/// <item>XMP: see <see cref="ApplyXmp"/>.</item>
/// </list>
/// Descriptions that cameras fill in by themselves ("OLYMPUS DIGITAL CAMERA", "SONY DSC"…) are ignored.
/// Corrupt metadata never throws: what was read is kept and the problem becomes a warning.
/// </summary>
internal static class EmbeddedMetadata
{
    private const string NsDc = "http://purl.org/dc/elements/1.1/";
    private const string NsXmp = "http://ns.adobe.com/xap/1.0/";
    private const string NsPhotoshop = "http://ns.adobe.com/photoshop/1.0/";
    private const string NsExif = "http://ns.adobe.com/exif/1.0/";
    private const string NsTiff = "http://ns.adobe.com/tiff/1.0/";
    private const string NsLightroom = "http://ns.adobe.com/lightroom/1.0/";

    private const int TagOffsetTimeOriginal = 0x9011;

    private static readonly HashSet<string> CameraDescriptions = new(StringComparer.OrdinalIgnoreCase)
    {
        "OLYMPUS DIGITAL CAMERA", "SONY DSC", "DIGITAL CAMERA", "KODAK Digital Still Camera", "Samsung Digital Camera",
        "SAMSUNG CAMERA PICTURES", "MINOLTA DIGITAL CAMERA", "Default", "Untitled", "DCIM", "Exif_JPEG_PICTURE", "LEICA",
    };

    public static void Apply(Stream image, string displayPath, ImportMetadataBuilder b, CancellationToken ct)
    {
        var origin = $"{displayPath} (embedded)";
        IReadOnlyList<MetadataDirectory> directories;
        try
        {
            if (image.CanSeek)
            {
                var type = FileTypeDetector.DetectFileType(image);
                image.Seek(0, SeekOrigin.Begin);
                if (type == FileType.Unknown)
                {
                    return;
                }
            }

            ct.ThrowIfCancellationRequested();
            directories = ImageMetadataReader.ReadMetadata(image);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            b.Warn($"{displayPath}: embedded metadata could not be read: {ex.Message}");
            return;
        }

        foreach (var directory in directories)
        {
            try
            {
                switch (directory)
                {
                    case ExifIfd0Directory ifd0:
                        ApplyIfd0(ifd0, origin, b);
                        break;
                    case ExifSubIfdDirectory sub:
                        b.SetDateTaken(MetadataDates.Parse(sub.GetString(ExifDirectoryBase.TagDateTimeOriginal), sub.GetString(TagOffsetTimeOriginal)));
                        break;
                    case IptcDirectory iptc:
                        ApplyIptc(iptc, origin, b);
                        break;
                    case XmpDirectory { XmpMeta: { } xmp }:
                        ApplyXmp(xmp, origin, b);
                        break;
                }
            }
            catch (Exception ex)
            {
                b.Warn($"{displayPath}: embedded {directory.Name} metadata could not be read: {ex.Message}");
            }

            foreach (var error in directory.Errors)
            {
                b.Warn($"{displayPath}: embedded {directory.Name} metadata is damaged: {error}");
            }
        }
    }

    /// <summary>
    /// XMP (embedded or a .xmp sidecar): dc:subject and lr:hierarchicalSubject (the last level of "A|B|C") →
    /// keywords; dc:title → title; dc:description → description; exif:DateTimeOriginal, photoshop:DateCreated,
    /// xmp:CreateDate (in that order) → date taken; tiff:Orientation; xmp:Rating → extra "xmp.rating";
    /// dc:creator → extra "xmp.creator".
    /// </summary>
    public static void ApplyXmp(IXmpMeta xmp, string origin, ImportMetadataBuilder b)
    {
        foreach (var subject in ArrayItems(xmp, NsDc, "subject"))
        {
            b.AddKeyword(subject, origin);
        }

        foreach (var path in ArrayItems(xmp, NsLightroom, "hierarchicalSubject"))
        {
            b.AddKeyword(path.Split('|')[^1], origin);
        }

        b.SetTitle(LocalizedText(xmp, NsDc, "title"));
        b.SetDescription(Described(LocalizedText(xmp, NsDc, "description")), origin);
        b.SetDateTaken(MetadataDates.Parse(Property(xmp, NsExif, "DateTimeOriginal"))
            ?? MetadataDates.Parse(Property(xmp, NsPhotoshop, "DateCreated"))
            ?? MetadataDates.Parse(Property(xmp, NsXmp, "CreateDate")));
        if (int.TryParse(Property(xmp, NsTiff, "Orientation"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var orientation))
        {
            b.SetOrientation(orientation);
        }

        b.SetExtra("xmp.rating", Property(xmp, NsXmp, "Rating"));
        var creators = ArrayItems(xmp, NsDc, "creator");
        if (creators.Count > 0)
        {
            b.SetExtra("xmp.creator", string.Join("; ", creators));
        }
    }

    private static void ApplyIfd0(ExifIfd0Directory ifd0, string origin, ImportMetadataBuilder b)
    {
        if (ifd0.TryGetInt32(ExifDirectoryBase.TagOrientation, out var orientation))
        {
            b.SetOrientation(orientation);
        }

        b.SetExtra("exif.make", ifd0.GetString(ExifDirectoryBase.TagMake));
        b.SetExtra("exif.model", ifd0.GetString(ExifDirectoryBase.TagModel));
        b.SetExtra("exif.artist", ifd0.GetString(ExifDirectoryBase.TagArtist));
        b.SetExtra("exif.copyright", ifd0.GetString(ExifDirectoryBase.TagCopyright));
        b.SetExtra("exif.comment", WindowsText(ifd0, ExifDirectoryBase.TagWinComment));
        b.SetTitle(WindowsText(ifd0, ExifDirectoryBase.TagWinTitle));
        b.SetDescription(Described(ifd0.GetString(ExifDirectoryBase.TagImageDescription)), origin);
        b.SetDescription(Described(WindowsText(ifd0, ExifDirectoryBase.TagWinSubject)), origin);
        if (WindowsText(ifd0, ExifDirectoryBase.TagWinKeywords) is { } keywords)
        {
            foreach (var keyword in keywords.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                b.AddKeyword(keyword, origin);
            }
        }

        // Some writers put DateTimeOriginal in IFD0.
        b.SetDateTaken(MetadataDates.Parse(ifd0.GetString(ExifDirectoryBase.TagDateTimeOriginal), ifd0.GetString(TagOffsetTimeOriginal)));
    }

    private static void ApplyIptc(IptcDirectory iptc, string origin, ImportMetadataBuilder b)
    {
        foreach (var keyword in iptc.GetStringArray(IptcDirectory.TagKeywords) ?? [])
        {
            b.AddKeyword(keyword, origin);
        }

        b.SetTitle(iptc.GetString(IptcDirectory.TagObjectName));
        b.SetDescription(Described(iptc.GetString(IptcDirectory.TagCaption)), origin);
    }

    // XP* tags are UTF-16LE byte arrays; MetadataExtractor's description decodes them.
    private static string? WindowsText(ExifIfd0Directory ifd0, int tag) =>
        ifd0.ContainsTag(tag) ? ifd0.GetDescription(tag)?.TrimEnd('\0') : null;

    private static string? Described(string? description) =>
        description is null || CameraDescriptions.Contains(description.Trim()) ? null : description;

    private static List<string> ArrayItems(IXmpMeta xmp, string ns, string name)
    {
        var items = new List<string>();
        try
        {
            if (!xmp.DoesPropertyExist(ns, name))
            {
                return items;
            }

            var count = xmp.CountArrayItems(ns, name);
            for (var i = 1; i <= count; i++)
            {
                if (xmp.GetArrayItem(ns, name, i)?.Value is { Length: > 0 } value)
                {
                    items.Add(value);
                }
            }
        }
        catch (XmpException)
        {
            // Not an array, or a namespace this document does not use.
        }

        return items;
    }

    private static string? LocalizedText(IXmpMeta xmp, string ns, string name)
    {
        try
        {
            return xmp.DoesPropertyExist(ns, name) ? xmp.GetLocalizedText(ns, name, null, "x-default")?.Value ?? xmp.GetPropertyString(ns, name) : null;
        }
        catch (XmpException)
        {
            return null;
        }
    }

    private static string? Property(IXmpMeta xmp, string ns, string name)
    {
        try
        {
            return xmp.DoesPropertyExist(ns, name) ? xmp.GetPropertyString(ns, name) : null;
        }
        catch (XmpException)
        {
            return null;
        }
    }
}
