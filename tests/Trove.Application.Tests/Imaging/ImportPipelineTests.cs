using System.IO.Compression;
using Trove.Application.Import;
using Trove.Domain;
using Trove.Domain.Similarity;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Imaging;

using TestImages = Trove.Testing.TestImages;

/// <summary>The import pipeline on real files through real libvips: probing, thumbnails, hashes, metadata, bad files, ZIPs, resume.</summary>
public sealed class ImportPipelineTests
{
    private static string Jpeg(TestLibrary lib, string name, int seed, int w = 320, int h = 240, int? orientation = null, bool cmyk = false, bool progressive = false)
    {
        var path = Path.Combine(lib.Sources, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        TestImages.WriteJpeg(path, TestImages.Photo(seed, w, h), 90, progressive, orientation, cmyk);
        return path;
    }

    [Fact]
    public async Task Import_probes_thumbnails_and_hashes_every_format()
    {
        await using var lib = await CreateWithImagingAsync();
        Jpeg(lib, "a.jpg", 1, 400, 300);
        Jpeg(lib, "b.jpg", 2, 400, 300, progressive: true);
        Jpeg(lib, "cmyk.jpg", 3, 200, 100, cmyk: true);
        TestImages.WritePng(Path.Combine(lib.Sources, "c.png"), TestImages.WithAlpha(TestImages.Photo(4, 120, 90), 128));
        TestImages.WritePng(Path.Combine(lib.Sources, "gray16.png"), TestImages.ToGray(TestImages.Photo(5, 64, 48)), sixteenBit: true);
        TestImages.WriteWebp(Path.Combine(lib.Sources, "d.webp"), TestImages.Photo(6, 100, 80));
        TestImages.WriteTiff(Path.Combine(lib.Sources, "e.tiff"), TestImages.Photo(7, 90, 60));
        TestImages.WriteGif(Path.Combine(lib.Sources, "anim.gif"), TestImages.Photo(8, 50, 40), TestImages.Photo(9, 50, 40), TestImages.Photo(10, 50, 40));

        var report = await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, false), null, Ct);

        Assert.Empty(report.Failed);
        Assert.Equal(8, report.Imported);
        foreach (var id in report.Media)
        {
            var s = lib.ReadSidecar(id);
            Assert.NotNull(s.Original.Width);
            Assert.NotNull(s.Original.Height);
            Assert.True(PerceptualHash.TryParseHex(s.Original.PHash, out _), s.Original.OriginalName);
            Assert.True(PerceptualHash.TryParseHex(s.Original.DHash, out _), s.Original.OriginalName);
            var thumb = lib.Layout.ThumbnailPath(id, 256, "webp");
            Assert.True(File.Exists(thumb), $"no thumbnail for {s.Original.OriginalName}");
            var info = Vips.Value.Probe(thumb, Ports.ImageLimits.Default, Ct);
            Assert.Equal(Math.Min(256, Math.Max(s.Original.Width!.Value, s.Original.Height!.Value)), Math.Max(info.Width, info.Height));
        }

        var byName = report.Media.Select(lib.ReadSidecar).ToDictionary(s => s.Original.OriginalName!);
        Assert.Equal((400, 300), (byName["a.jpg"].Original.Width, byName["a.jpg"].Original.Height));
        Assert.Equal("jpeg", byName["cmyk.jpg"].Original.Format);
        Assert.Equal(3, byName["anim.gif"].Original.Frames);
        Assert.Equal("tiff", byName["e.tiff"].Original.Format);
    }

    [Fact]
    public async Task Exif_rotated_images_record_their_displayed_size()
    {
        await using var lib = await CreateWithImagingAsync();
        Jpeg(lib, "rotated.jpg", 11, 300, 200, orientation: 6);
        var report = await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, false), null, Ct);
        var s = lib.ReadSidecar(Assert.Single(report.Media));
        Assert.Equal(6, s.Original.Orientation);
        Assert.Equal((200, 300), (s.Original.Width, s.Original.Height));
        var thumb = Vips.Value.Probe(lib.Layout.ThumbnailPath(s.Id, 256, "webp"), Ports.ImageLimits.Default, Ct);
        Assert.True(thumb.Height > thumb.Width, "the thumbnail is upright");
    }

    [Fact]
    public async Task Every_bad_file_is_reported_with_a_specific_reason_and_the_rest_imports()
    {
        await using var lib = await CreateWithImagingAsync(new TroveOptions { Durability = Library.Durability.Fast, Imaging = new ImagingSettings { MaxPixels = 50_000_000 } });
        Jpeg(lib, "good.jpg", 20);
        var truncated = Jpeg(lib, "truncated.jpg", 21, 640, 480);
        TestImages.Truncate(truncated, 0.4);
        File.WriteAllBytes(Path.Combine(lib.Sources, "empty.png"), []);
        File.WriteAllText(Path.Combine(lib.Sources, "notes.jpg"), "this is text, renamed");
        TestImages.WritePngBomb(Path.Combine(lib.Sources, "bomb.png"), 100_000, 100_000);
        File.WriteAllBytes(Path.Combine(lib.Sources, "thing.bin"), [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09]);

        var report = await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, false), null, Ct);

        Assert.Equal(1, report.Imported);
        var reasons = report.Failed.ToDictionary(f => Path.GetFileName(f.Path), f => f.Error);
        Assert.Equal(5, reasons.Count);
        Assert.Contains("truncated", reasons["truncated.jpg"], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(".trove-tmp", reasons["truncated.jpg"], StringComparison.Ordinal);
        Assert.Contains("empty", reasons["empty.png"], StringComparison.Ordinal);
        Assert.Contains("text, not an image", reasons["notes.jpg"], StringComparison.Ordinal);
        Assert.Contains("megapixels", reasons["bomb.png"], StringComparison.Ordinal);
        Assert.Contains("not a recognised image format", reasons["thing.bin"], StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(lib.Layout.TempDir));
    }

    [Fact]
    public async Task Metadata_files_beside_images_become_tags_captions_and_values()
    {
        await using var lib = await CreateWithImagingAsync();
        Jpeg(lib, "kohya.jpg", 30);
        File.WriteAllText(Path.Combine(lib.Sources, "kohya.txt"), "1girl, solo, long hair, blue eyes\n");
        Jpeg(lib, "caption.jpg", 31);
        File.WriteAllText(Path.Combine(lib.Sources, "caption.txt"), "A woman with long hair stands on a beach at sunset.");
        Jpeg(lib, "hydrus.jpg", 32);
        File.WriteAllText(Path.Combine(lib.Sources, "hydrus.jpg.txt"), "character:saber (fate)\ncreator:some artist\nsky\n");

        var report = await lib.Media.ImportAsync([lib.Sources], new ImportOptions(["batch_1"], null, false), null, Ct);
        Assert.Empty(report.Failed);
        var byName = report.Media.Select(lib.ReadSidecar).ToDictionary(s => s.Original.OriginalName!);

        Assert.Equal(["1girl", "batch_1", "blue_eyes", "long_hair", "solo"], byName["kohya.jpg"].Tags.Select(t => t.Name).Order().ToArray());
        Assert.Equal("A woman with long hair stands on a beach at sunset.", byName["caption.jpg"].PrimaryCaption!.Text);
        Assert.Contains("saber_(fate)", byName["hydrus.jpg"].Tags.Select(t => t.Name));
        var vocabulary = lib.Library.Files.ReadVocabulary(out _);
        Assert.Equal("character", vocabulary.CategoryOf("saber_(fate)"));
        Assert.Equal("artist", vocabulary.CategoryOf("some_artist"));
    }

    [Fact]
    public async Task Duplicates_merge_new_metadata_and_a_second_run_is_a_no_op()
    {
        await using var lib = await CreateWithImagingAsync();
        var a = Jpeg(lib, "a.jpg", 40);
        var first = await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, false), null, Ct);
        var id = Assert.Single(first.Media);
        var revision = lib.ReadSidecar(id).Revision;

        // The same bytes elsewhere with a tag file: a duplicate that brings new tags.
        var copy = Path.Combine(lib.Sources, "more", "copy.jpg");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(a, copy);
        File.WriteAllText(Path.Combine(lib.Sources, "more", "copy.txt"), "red, flower");
        var second = await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, false), null, Ct);
        Assert.Equal((0, 2), (second.Imported, second.Duplicates));
        Assert.Equal(["flower", "red"], lib.TagsOf(id).Order().ToArray());

        var after = lib.ReadSidecar(id).Revision;
        var third = await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, false), null, Ct);
        Assert.Equal((0, 2), (third.Imported, third.Duplicates));
        Assert.Equal(after, lib.ReadSidecar(id).Revision);
        Assert.True(after > revision);
        Assert.Empty(Directory.EnumerateFiles(lib.Layout.TempDir));
    }

    [Fact]
    public async Task A_repeated_import_uses_the_journal_instead_of_hashing_again()
    {
        await using var lib = await CreateWithImagingAsync();
        var a = Jpeg(lib, "a.jpg", 50);
        var first = await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, false), null, Ct);
        var id = Assert.Single(first.Media);

        // Make the source unreadable without changing size or time: only a journal hit can still answer.
        var stamp = File.GetLastWriteTimeUtc(a);
        File.SetUnixFileMode(a, UnixFileMode.None);
        try
        {
            if (System.Environment.UserName == "root")
            {
                // root reads anyway; prove the journal by overwriting the content with same-size garbage instead.
                File.SetUnixFileMode(a, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                var size = new FileInfo(a).Length;
                File.WriteAllBytes(a, new byte[size]);
                File.SetLastWriteTimeUtc(a, stamp);
            }

            var again = await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, false), null, Ct);
            Assert.Empty(again.Failed);
            Assert.Equal(id, Assert.Single(again.Media));
            Assert.Equal(1, again.Duplicates);
        }
        finally
        {
            File.SetUnixFileMode(a, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    [Fact]
    public async Task Zip_archives_import_with_their_metadata_and_unsafe_entries_are_refused()
    {
        await using var lib = await CreateWithImagingAsync();
        var work = Path.Combine(lib.Root, "..", "zipwork");
        Directory.CreateDirectory(work);
        TestImages.WriteJpeg(Path.Combine(work, "one.jpg"), TestImages.Photo(60, 200, 150));
        TestImages.WritePng(Path.Combine(work, "two.png"), TestImages.Photo(61, 100, 100));
        var zipPath = Path.Combine(lib.Sources, "set.zip");
        using (var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create))
        {
            zip.CreateEntryFromFile(Path.Combine(work, "one.jpg"), "photos/one.jpg");
            zip.CreateEntry("photos/one.txt").Open().Using(s => s.Write("sunset, beach"u8));
            zip.CreateEntryFromFile(Path.Combine(work, "two.png"), "two.png");
            zip.CreateEntryFromFile(Path.Combine(work, "two.png"), "../escape.png");
        }

        var report = await lib.Media.ImportAsync([zipPath], new ImportOptions([], "Beach set", false), null, Ct);

        Assert.Equal(2, report.Imported);
        var refused = Assert.Single(report.Failed);
        Assert.EndsWith("set.zip!../escape.png", refused.Path, StringComparison.Ordinal);
        var one = report.Media.Select(lib.ReadSidecar).Single(s => s.Original.OriginalName == "one.jpg");
        Assert.Equal(["beach", "sunset"], one.Tags.Select(t => t.Name).Order().ToArray());
        Assert.Single(one.Collections);
        Assert.Empty(Directory.EnumerateFiles(lib.Layout.TempDir));
    }

    [Fact]
    public async Task Dry_run_decodes_and_reports_but_writes_nothing()
    {
        await using var lib = await CreateWithImagingAsync();
        Jpeg(lib, "a.jpg", 70);
        var bad = Jpeg(lib, "bad.jpg", 71, 640, 480);
        TestImages.Truncate(bad, 0.3);
        var report = await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, true), null, Ct);
        Assert.Equal(1, report.Imported);
        Assert.Single(report.Failed);
        Assert.True(report.DryRun);
        Assert.Equal(0, await lib.Library.Index.CountMediaAsync(false, Ct));
        Assert.False(Directory.Exists(Path.Combine(lib.Layout.CacheDir, "thumbs")));
    }

    [Fact]
    public async Task A_mask_must_match_its_image_shape()
    {
        await using var lib = await CreateWithImagingAsync();
        Jpeg(lib, "img.jpg", 80, 400, 200);
        var image = Assert.Single((await lib.Media.ImportAsync([Path.Combine(lib.Sources, "img.jpg")], new ImportOptions([], null, false), null, Ct)).Media);
        var maskDir = Path.Combine(lib.Root, "..", "masks");
        Directory.CreateDirectory(maskDir);
        TestImages.WritePng(Path.Combine(maskDir, "half.png"), TestImages.Solid(200, 100, 255));
        TestImages.WritePng(Path.Combine(maskDir, "wrong.png"), TestImages.Solid(100, 100, 255));

        var good = await lib.Media.ImportAsync([Path.Combine(maskDir, "half.png")], new ImportOptions([], null, false, image[..8], "person"), null, Ct);
        var wrong = await lib.Media.ImportAsync([Path.Combine(maskDir, "wrong.png")], new ImportOptions([], null, false, image[..8], "person"), null, Ct);

        var mask = lib.ReadSidecar(Assert.Single(good.Media));
        Assert.Equal(MediaKinds.Mask, mask.Kind);
        Assert.Equal("person", mask.Mask!.Category);
        Assert.Contains("must have the image's size or shape", Assert.Single(wrong.Failed).Error, StringComparison.Ordinal);
        var masks = await new Masks.MaskService(lib.Library).ListAsync(image, Ct);
        Assert.Equal(mask.Id, Assert.Single(masks.Masks).Id);
    }

    [Fact]
    public async Task Check_repair_fills_in_facts_for_media_imported_without_libvips()
    {
        await using var lib = await CreateAsync();
        Jpeg(lib, "a.jpg", 90, 300, 200);
        var id = Assert.Single((await lib.Media.ImportAsync([lib.Sources], new ImportOptions([], null, false), null, Ct)).Media);
        Assert.Null(lib.ReadSidecar(id).Original.PHash);

        await lib.ReopenAsync(imaging: true);
        var withVips = lib.Library;
        var check = await new CheckService(withVips).CheckAsync(repair: false, verifyHashes: false, null, Ct);
        Assert.Contains(check.Problems, p => p.Type == "missing-image-facts" && p.Id == id);
        var repair = await new CheckService(withVips).CheckAsync(repair: true, verifyHashes: false, null, Ct);
        Assert.All(repair.Problems, p => Assert.True(p.Repaired));
        var s = withVips.Files.ReadSidecar(id).Sidecar;
        Assert.Equal((300, 200), (s.Original.Width, s.Original.Height));
        Assert.NotNull(s.Original.PHash);
        Assert.Single(await withVips.Index.ListPerceptualHashesAsync(Ct));
    }
}

internal static class StreamExtensions
{
    public static void Using(this Stream stream, Action<Stream> write)
    {
        using (stream)
        {
            write(stream);
        }
    }
}
