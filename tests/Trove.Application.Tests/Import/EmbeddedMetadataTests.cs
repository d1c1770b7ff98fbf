using Trove.Application.Import;
using static Trove.Application.Tests.Import.TestJpegs;

namespace Trove.Application.Tests.Import;

public sealed class EmbeddedMetadataTests : IDisposable
{
    private const string XmpPacket = """
        <?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?>
        <x:xmpmeta xmlns:x="adobe:ns:meta/">
         <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
          <rdf:Description rdf:about=""
            xmlns:dc="http://purl.org/dc/elements/1.1/"
            xmlns:xmp="http://ns.adobe.com/xap/1.0/"
            xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
            xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
            photoshop:DateCreated="2022-03-04T05:06:07+01:00"
            xmp:Rating="4">
           <dc:subject><rdf:Bag><rdf:li>Mountain</rdf:li><rdf:li>blue sky</rdf:li></rdf:Bag></dc:subject>
           <dc:title><rdf:Alt><rdf:li xml:lang="x-default">XMP title</rdf:li></rdf:Alt></dc:title>
           <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Snow on the ridge at first light.</rdf:li></rdf:Alt></dc:description>
           <dc:creator><rdf:Seq><rdf:li>Ann Example</rdf:li></rdf:Seq></dc:creator>
           <lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|Europe|Alps</rdf:li></rdf:Bag></lr:hierarchicalSubject>
          </rdf:Description>
         </rdf:RDF>
        </x:xmpmeta>
        <?xpacket end="w"?>
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static byte[] ExifSegment() => Exif(
        [
            Ascii(0x010E, "A quiet harbour at dusk"),
            Ascii(0x010F, "TestCam"),
            Ascii(0x0110, "Model 7"),
            Short(0x0112, 6),
            Ascii(0x013B, "Jo Photographer"),
            Ascii(0x8298, "(c) 2023 Jo"),
            WindowsText(0x9C9B, "Harbour"),
            WindowsText(0x9C9E, "boats; sea;harbour"),
            WindowsText(0x9C9F, "Evening in the port"),
        ],
        [
            Ascii(0x9003, "2023:07:14 18:30:00"),
            Ascii(0x9011, "+02:00"),
        ]);

    private static byte[] IptcSegment() => Iptc((2, 5, "IPTC title"), (2, 25, "Lighthouse"), (2, 25, "coast line"), (2, 120, "The lighthouse, seen from the pier."));

    private ImportMetadata ReadJpeg(byte[] jpeg, params (string Name, string Text)[] sidecars)
    {
        var path = _temp.Combine("photo.jpg");
        File.WriteAllBytes(path, jpeg);
        foreach (var (name, text) in sidecars)
        {
            File.WriteAllText(_temp.Combine(name), text);
        }

        return new ImportMetadataReader().ReadFile(path);
    }

    [Fact]
    public void The_base_jpeg_is_a_real_jpeg_without_metadata()
    {
        Assert.Equal("jpg", Library.MediaTypes.Sniff(Plain)?.Ext);
        var meta = ReadJpeg(Plain);
        Assert.True(meta.IsEmpty);
        Assert.Empty(meta.Warnings);
    }

    [Fact]
    public void Exif_gives_date_taken_orientation_camera_description_and_windows_fields()
    {
        var meta = ReadJpeg(With(ExifSegment()));

        Assert.Empty(meta.Warnings);
        Assert.Equal(new DateTimeOffset(2023, 7, 14, 18, 30, 0, TimeSpan.FromHours(2)), meta.DateTaken);
        Assert.Equal(6, meta.Orientation);
        Assert.Equal("TestCam", meta.Extra["exif.make"]);
        Assert.Equal("Model 7", meta.Extra["exif.model"]);
        Assert.Equal("Jo Photographer", meta.Extra["exif.artist"]);
        Assert.Equal("(c) 2023 Jo", meta.Extra["exif.copyright"]);
        Assert.Equal("Harbour", meta.Title);
        Assert.Equal("A quiet harbour at dusk", meta.Description);
        Assert.Equal(["boats", "sea", "harbour"], meta.Keywords);
        Assert.Equal(["boats", "sea", "harbour"], meta.Tags.Select(t => t.Name));

        // No caption file: the description becomes the import caption.
        var caption = Assert.Single(meta.Captions);
        Assert.Equal("A quiet harbour at dusk", caption.Text);
        Assert.Equal(_temp.Combine("photo.jpg") + " (embedded)", caption.Origin);
        Assert.Empty(meta.Files);

        var map = meta.ToSidecarMetadata();
        Assert.Equal("2023-07-14T18:30:00+02:00", map["date_taken"]);
        Assert.Equal("6", map["orientation"]);
        Assert.Equal("Harbour", map["title"]);
    }

    [Fact]
    public void Xmp_gives_keywords_title_description_date_and_rating()
    {
        var meta = ReadJpeg(With(Xmp(XmpPacket)));

        Assert.Empty(meta.Warnings);
        Assert.Equal(["Mountain", "blue sky", "Alps"], meta.Keywords);
        Assert.Equal(["mountain", "blue_sky", "alps"], meta.Tags.Select(t => t.Name));
        Assert.Equal("XMP title", meta.Title);
        Assert.Equal("Snow on the ridge at first light.", meta.Description);
        Assert.Equal(new DateTimeOffset(2022, 3, 4, 5, 6, 7, TimeSpan.FromHours(1)), meta.DateTaken);
        Assert.Equal("4", meta.Extra["xmp.rating"]);
        Assert.Equal("Ann Example", meta.Extra["xmp.creator"]);
    }

    [Fact]
    public void Iptc_gives_keywords_object_name_and_caption()
    {
        var meta = ReadJpeg(With(IptcSegment()));

        Assert.Empty(meta.Warnings);
        Assert.Equal(["Lighthouse", "coast line"], meta.Keywords);
        Assert.Equal(["lighthouse", "coast_line"], meta.Tags.Select(t => t.Name));
        Assert.Equal("IPTC title", meta.Title);
        Assert.Equal("The lighthouse, seen from the pier.", meta.Description);
    }

    [Fact]
    public void All_three_merge_and_a_kohya_caption_keeps_the_description_out_of_the_captions()
    {
        var meta = ReadJpeg(With(ExifSegment(), Xmp(XmpPacket), IptcSegment()), ("photo.txt", "A harbour with boats at sunset, seen from the hill."));

        Assert.Equal("A harbour with boats at sunset, seen from the hill.", Assert.Single(meta.Captions).Text);
        Assert.Equal(_temp.Combine("photo.txt"), meta.Captions[0].Origin);
        Assert.NotNull(meta.Description);
        Assert.Subset(
            new HashSet<string> { "boats", "sea", "harbour", "mountain", "blue_sky", "alps", "lighthouse", "coast_line" },
            meta.Tags.Select(t => t.Name).ToHashSet());
        Assert.Equal(8, meta.Tags.Count);
        Assert.Equal(new DateTimeOffset(2023, 7, 14, 18, 30, 0, TimeSpan.FromHours(2)), meta.DateTaken);
        Assert.Equal([_temp.Combine("photo.txt")], meta.Files);
    }

    [Fact]
    public void Camera_boilerplate_descriptions_are_ignored()
    {
        var meta = ReadJpeg(With(Exif([Ascii(0x010E, "OLYMPUS DIGITAL CAMERA         ")], [])));
        Assert.Null(meta.Description);
        Assert.Empty(meta.Captions);
    }

    [Fact]
    public void Corrupt_exif_does_not_throw_keeps_what_was_read_and_warns()
    {
        // A TIFF header whose first IFD lies far past the end of the segment.
        byte[] badTiff = [.. "Exif\0\0"u8, (byte)'I', (byte)'I', 42, 0, 0xF0, 0xFF, 0, 0, 1, 2, 3];
        var meta = ReadJpeg(With(Segment(0xE1, badTiff), Xmp(XmpPacket)));

        Assert.Equal("XMP title", meta.Title);
        Assert.NotEmpty(meta.Warnings);
        Assert.All(meta.Warnings, w => Assert.StartsWith(_temp.Combine("photo.jpg"), w, StringComparison.Ordinal));
    }

    [Fact]
    public void Malformed_xmp_and_a_truncated_file_give_warnings_not_exceptions()
    {
        var xmpBroken = ReadJpeg(With(Xmp("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF")));
        Assert.NotEmpty(xmpBroken.Warnings);

        var truncated = ReadJpeg([0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00, (byte)'E', (byte)'x']);
        Assert.True(truncated.IsEmpty);
        Assert.NotEmpty(truncated.Warnings);
    }

    [Fact]
    public void An_xmp_sidecar_file_is_read_like_embedded_xmp()
    {
        var meta = ReadJpeg(Plain, ("photo.xmp", XmpPacket));

        Assert.Equal("XMP title", meta.Title);
        Assert.Equal(["mountain", "blue_sky", "alps"], meta.Tags.Select(t => t.Name));
        Assert.Equal([_temp.Combine("photo.xmp")], meta.Files);
    }

    [Fact]
    public void A_zip_entry_gets_its_embedded_metadata_from_the_extracted_copy()
    {
        var zipPath = _temp.Combine("photos.zip");
        File.WriteAllBytes(zipPath, TestZips.Build(new ZipEntrySpec("trip/photo.jpg", With(IptcSegment()))));
        using var source = ZipImportSource.Open(zipPath, _temp.Combine("staging"));
        using var item = Assert.Single(source.ReadItems());

        var meta = new ImportMetadataReader().ReadZipItem(item);

        Assert.Equal("IPTC title", meta.Title);
        Assert.Equal($"{zipPath}!trip/photo.jpg (embedded)", Assert.Single(meta.Captions).Origin);
    }
}
