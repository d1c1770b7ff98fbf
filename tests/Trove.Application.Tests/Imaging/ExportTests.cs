using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Trove.Application.Crops;
using Trove.Application.Export;
using Trove.Application.Ports;
using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Imaging;

using TestImages = Trove.Testing.TestImages;

/// <summary>kohya export on real files through real libvips: folder and ZIP layout, caption text, crops, resize, repeats, masks, manifest, refusals.</summary>
public sealed class ExportTests
{
    /// <summary>What <see cref="SetUpAsync"/> imported.</summary>
    private sealed record Dataset(string Tagged, string Captioned, string Rotated, string Tiff)
    {
        public IReadOnlyList<string> All => [Tagged, Captioned, Rotated, Tiff];
    }

    /// <summary>The tag line of <see cref="Dataset.Tagged"/>: categories in kohya order, then count (desc), then name.</summary>
    private const string TaggedLine = "saber, fate, some artist, long hair, blue eyes, aaa tag, sky, highres, safe";

    private static async Task<string> ImportAsync(TestLibrary lib, string name, Action<string> write, ImportOptions? options = null)
    {
        var path = Path.Combine(lib.Sources, Guid.NewGuid().ToString("N")[..8], name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        write(path);
        var report = await lib.Media.ImportAsync([path], options ?? new ImportOptions([], null, false), null, Ct);
        Assert.Empty(report.Failed);
        return Assert.Single(report.Media);
    }

    /// <summary>
    /// A 400×300 JPEG with tags in every category, a 300×200 PNG with a caption, a 300×200 JPEG with EXIF orientation 6
    /// (200×300 as displayed) and a 120×90 TIFF (not a format trainers read).
    /// </summary>
    private static async Task<Dataset> SetUpAsync(TestLibrary lib)
    {
        var tagged = await ImportAsync(lib, "tagged.jpg", p => TestImages.WriteJpeg(p, TestImages.Photo(1, 400, 300), 90));
        var captioned = await ImportAsync(lib, "captioned.png", p => TestImages.WritePng(p, TestImages.Photo(2, 300, 200)));
        var rotated = await ImportAsync(lib, "rotated.jpg", p => TestImages.WriteJpeg(p, TestImages.Photo(3, 300, 200), 90, orientation: 6));
        var tiff = await ImportAsync(lib, "scan.tiff", p => TestImages.WriteTiff(p, TestImages.Photo(4, 120, 90)));

        // Given in an order that is none of the expected ones.
        await lib.Tags.AddAsync(tagged, ["safe", "sky", "blue_eyes", "highres", "long_hair", "some_artist", "aaa_tag", "fate", "saber"], Ct);
        await lib.Tags.AddAsync(captioned, ["long_hair"], Ct);
        await lib.Tags.AddAsync(rotated, ["long_hair", "blue_eyes"], Ct);
        await lib.Tags.SetCategoryAsync("saber", "character", create: false, Ct);
        await lib.Tags.SetCategoryAsync("fate", "copyright", create: false, Ct);
        await lib.Tags.SetCategoryAsync("some_artist", "artist", create: false, Ct);
        await lib.Tags.SetCategoryAsync("highres", "meta", create: false, Ct);
        await lib.Tags.SetCategoryAsync("safe", "rating", create: false, Ct);
        await lib.Captions.SetAsync(captioned, "A photo of a cat,\non a sofa.", Ct);
        return new Dataset(tagged, captioned, rotated, tiff);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Checks manifest.json against the files: every file but the manifest is listed, with matching hashes.</summary>
    private static List<JsonElement> CheckManifest(IReadOnlyDictionary<string, byte[]> files, IReadOnlyCollection<string> media)
    {
        using var manifest = JsonDocument.Parse(files["manifest.json"]);
        Assert.Equal("kohya", manifest.RootElement.GetProperty("format").GetString());
        var entries = manifest.RootElement.GetProperty("files").EnumerateArray().Select(e => e.Clone()).ToList();
        var listed = new HashSet<string>(StringComparer.Ordinal) { "manifest.json" };
        foreach (var entry in entries)
        {
            var name = entry.GetProperty("file").GetString()!;
            Assert.True(files.ContainsKey(name), $"the manifest lists {name}, which is not in the export");
            Assert.Equal(Sha256(files[name]), entry.GetProperty("sha256").GetString());
            Assert.Contains(entry.GetProperty("media").GetString(), media);
            Assert.True(listed.Add(name), $"{name} is listed twice");
            if (entry.TryGetProperty("caption_file", out var caption))
            {
                var text = caption.GetString()!;
                Assert.Equal(Sha256(files[text]), entry.GetProperty("caption_sha256").GetString());
                Assert.Equal(Encoding.UTF8.GetString(files[text]), entry.GetProperty("caption").GetString());
                Assert.True(listed.Add(text), $"{text} is listed twice");
            }
        }

        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        return entries;
    }

    private static Dictionary<string, byte[]> ReadFolder(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(p => Path.GetRelativePath(folder, p).Replace('\\', '/'), File.ReadAllBytes, StringComparer.Ordinal);

    private static Dictionary<string, byte[]> ReadZip(string zipPath)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            Assert.True(result.TryAdd(entry.FullName, memory.ToArray()), $"{entry.FullName} is in the ZIP twice");
        }

        return result;
    }

    /// <summary>Writes bytes to a scratch file and probes them (the engine reads files).</summary>
    private static ImageInfo Probe(TestLibrary lib, byte[] bytes, string ext)
    {
        var path = Path.Combine(lib.Sources, "probe-" + Guid.NewGuid().ToString("N") + "." + ext);
        File.WriteAllBytes(path, bytes);
        return Vips.Value.Probe(path, ImageLimits.Default, Ct);
    }

    private static RgbPixels Pixels(TestLibrary lib, byte[] bytes, string ext)
    {
        var path = Path.Combine(lib.Sources, "pixels-" + Guid.NewGuid().ToString("N") + "." + ext);
        File.WriteAllBytes(path, bytes);
        return Vips.Value.Pixels(path, new PixelRequest(PixelFit.None, 0, 0, 0, false, null, ImageLimits.Default), Ct);
    }

    /// <summary>Everything in the folder the export went to, so that leftovers (temporary files or folders) show.</summary>
    private static List<string> Beside(string target) =>
        Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(target)))!)
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    [Fact]
    public async Task A_folder_export_has_one_image_and_one_text_file_per_media_and_a_manifest()
    {
        await using var lib = await CreateWithImagingAsync();
        var data = await SetUpAsync(lib);
        var exports = Path.Combine(lib.Root, "..", "exports");
        Directory.CreateDirectory(exports);

        // "dataset/" (the contract's spelling of a folder) is the folder "dataset", not a place inside it.
        var report = await new ExportService(lib.Library).ExportAsync(new ExportOptions("", Path.Combine(exports, "dataset") + "/"), null, Ct);

        var folder = Path.GetFullPath(Path.Combine(exports, "dataset"));
        Assert.Equal(folder, report.Out);
        Assert.Equal(["dataset"], Beside(folder));
        Assert.Equal((4, 4, 0, 0), (report.Media, report.Images, report.Crops, report.Masks));
        Assert.Empty(report.Failed);
        var files = ReadFolder(folder);
        Assert.Equal(report.Bytes, files.Values.Sum(f => (long)f.Length));
        Assert.Equal(
            new[]
            {
                $"{data.Tagged}.jpg", $"{data.Tagged}.txt", $"{data.Captioned}.png", $"{data.Captioned}.txt",
                $"{data.Rotated}.jpg", $"{data.Rotated}.txt", $"{data.Tiff}.png", $"{data.Tiff}.txt", "manifest.json",
            }.Order(StringComparer.Ordinal),
            files.Keys.Order(StringComparer.Ordinal));

        // Upright JPEGs and PNGs are copied byte for byte.
        Assert.Equal(File.ReadAllBytes(lib.OriginalPath(data.Tagged, "jpg")), files[$"{data.Tagged}.jpg"]);
        Assert.Equal(File.ReadAllBytes(lib.OriginalPath(data.Captioned, "png")), files[$"{data.Captioned}.png"]);

        // The primary caption (on one line) when there is one, otherwise the tag line.
        Assert.Equal(TaggedLine, Encoding.UTF8.GetString(files[$"{data.Tagged}.txt"]));
        Assert.Equal("A photo of a cat, on a sofa.", Encoding.UTF8.GetString(files[$"{data.Captioned}.txt"]));
        Assert.Equal("long hair, blue eyes", Encoding.UTF8.GetString(files[$"{data.Rotated}.txt"]));
        Assert.Equal(string.Empty, Encoding.UTF8.GetString(files[$"{data.Tiff}.txt"]));

        // An EXIF-rotated original is re-encoded upright; a TIFF becomes a PNG.
        var rotated = Probe(lib, files[$"{data.Rotated}.jpg"], "jpg");
        Assert.Equal(("jpeg", 200, 300, 1), (rotated.Format, rotated.Width, rotated.Height, rotated.Orientation));
        Assert.NotEqual(data.Rotated, Sha256(files[$"{data.Rotated}.jpg"]));
        var tiff = Probe(lib, files[$"{data.Tiff}.png"], "png");
        Assert.Equal(("png", 120, 90), (tiff.Format, tiff.Width, tiff.Height));

        var entries = CheckManifest(files, data.All);
        Assert.Equal(4, entries.Count);
        var byMedia = entries.ToDictionary(e => e.GetProperty("media").GetString()!);
        Assert.Equal(data.Tagged, byMedia[data.Tagged].GetProperty("sha256").GetString());
        Assert.Equal((200, 300), (byMedia[data.Rotated].GetProperty("width").GetInt32(), byMedia[data.Rotated].GetProperty("height").GetInt32()));
    }

    [Fact]
    public async Task The_text_mode_tag_order_and_underscores_are_chosen_by_the_options()
    {
        await using var lib = await CreateWithImagingAsync();
        var data = await SetUpAsync(lib);
        var service = new ExportService(lib.Library);
        var root = Path.Combine(lib.Root, "..", "exports");

        async Task<string> TextOf(string id, ExportOptions options)
        {
            var target = Path.Combine(root, Guid.NewGuid().ToString("N"));
            await service.ExportAsync(options with { Out = target }, null, Ct);
            return File.ReadAllText(Path.Combine(target, id + ".txt"));
        }

        var query = $"id:{data.Captioned[..8]}";
        Assert.Equal("long_hair", await TextOf(data.Captioned, new ExportOptions(query, "", Text: ExportText.Tags, KeepUnderscores: true)));
        Assert.Equal("A photo of a cat, on a sofa., long hair", await TextOf(data.Captioned, new ExportOptions(query, "", Text: ExportText.Both)));
        Assert.Equal("A photo of a cat, on a sofa.", await TextOf(data.Captioned, new ExportOptions(query, "", Text: ExportText.Caption)));

        query = $"id:{data.Tagged[..8]}";
        Assert.Equal(string.Empty, await TextOf(data.Tagged, new ExportOptions(query, "", Text: ExportText.Caption)));
        Assert.Equal("saber, fate, some_artist, long_hair, blue_eyes, aaa_tag, sky, highres, safe", await TextOf(data.Tagged, new ExportOptions(query, "", KeepUnderscores: true)));

        // A custom order puts its categories first; the others follow in the vocabulary's order.
        Assert.Equal("safe, some artist, long hair, blue eyes, aaa tag, sky, saber, fate, highres", await TextOf(data.Tagged, new ExportOptions(query, "", TagOrder: ["rating", "artist", "general"])));

        // Only the query's media are exported.
        var only = Path.Combine(root, "only");
        var report = await service.ExportAsync(new ExportOptions("blue_eyes", only), null, Ct);
        Assert.Equal(2, report.Images);
        Assert.Equal(
            new[] { $"{data.Tagged}.jpg", $"{data.Tagged}.txt", $"{data.Rotated}.jpg", $"{data.Rotated}.txt", "manifest.json" }.Order(StringComparer.Ordinal),
            ReadFolder(only).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_zip_export_with_crops_resize_repeats_and_masks()
    {
        await using var lib = await CreateWithImagingAsync();
        var data = await SetUpAsync(lib);
        var crops = new CropService(lib.Library);
        await crops.AddAsync(data.Tagged, "face", new PixelRect(10, 10, 100, 50), replace: false, Ct);
        await crops.AddAsync(data.Tagged, "big", new PixelRect(0, 0, 400, 200), replace: false, Ct);
        await crops.AddAsync(data.Rotated, "top", new PixelRect(0, 0, 200, 150), replace: false, Ct);

        // Two masks of one category: one at the image's size, one at half its size (same shape).
        var full = await ImportAsync(lib, "mask-full.png", p => TestImages.WritePng(p, TestImages.Solid(400, 300, 255)), new ImportOptions([], null, false, data.Tagged[..8], "person"));
        var half = await ImportAsync(lib, "mask-half.png", p => TestImages.WritePng(p, TestImages.Solid(200, 150, 200)), new ImportOptions([], null, false, data.Tagged[..8], "person"));

        var zipPath = Path.Combine(lib.Root, "..", "exports", "set.zip");
        var report = await new ExportService(lib.Library).ExportAsync(new ExportOptions("", zipPath, Crops: true, MaxSize: 128, Repeat: 10, Concept: "cat", Masks: true), null, Ct);

        Assert.Equal(Path.GetFullPath(zipPath), report.Out);
        Assert.Equal(["set.zip"], Beside(zipPath));
        Assert.Equal(new FileInfo(zipPath).Length, report.Bytes);
        Assert.Equal((4, 3, 2), (report.Images, report.Crops, report.Masks));
        Assert.Empty(report.Failed);
        var files = ReadZip(zipPath);
        var t = data.Tagged;
        Assert.Equal(
            new[]
            {
                $"10_cat/{t}.jpg", $"10_cat/{t}.txt", $"10_cat/{t}_face.jpg", $"10_cat/{t}_face.txt", $"10_cat/{t}_big.jpg", $"10_cat/{t}_big.txt",
                $"10_cat/{data.Captioned}.png", $"10_cat/{data.Captioned}.txt",
                $"10_cat/{data.Rotated}.jpg", $"10_cat/{data.Rotated}.txt", $"10_cat/{data.Rotated}_top.jpg", $"10_cat/{data.Rotated}_top.txt",
                $"10_cat/{data.Tiff}.png", $"10_cat/{data.Tiff}.txt",
                $"masks/person/10_cat/{t}.png", $"masks/person/10_cat/{t}_2.png", "manifest.json",
            }.Order(StringComparer.Ordinal),
            files.Keys.Order(StringComparer.Ordinal));

        // --max-size limits the longest side (never upscaling); crops have their own text file, with the image's text.
        var tagged = Probe(lib, files[$"10_cat/{t}.jpg"], "jpg");
        Assert.Equal((128, 96), (tagged.Width, tagged.Height));
        var captioned = Probe(lib, files[$"10_cat/{data.Captioned}.png"], "png");
        Assert.Equal(("png", 128), (captioned.Format, captioned.Width));
        Assert.InRange(captioned.Height, 85, 86);
        var rotated = Probe(lib, files[$"10_cat/{data.Rotated}.jpg"], "jpg");
        Assert.Equal((128, 1), (rotated.Height, rotated.Orientation));
        Assert.InRange(rotated.Width, 85, 86);
        Assert.Equal((120, 90), (Probe(lib, files[$"10_cat/{data.Tiff}.png"], "png").Width, Probe(lib, files[$"10_cat/{data.Tiff}.png"], "png").Height));
        var face = Probe(lib, files[$"10_cat/{t}_face.jpg"], "jpg");
        Assert.Equal((100, 50), (face.Width, face.Height));
        var big = Probe(lib, files[$"10_cat/{t}_big.jpg"], "jpg");
        Assert.Equal((128, 64), (big.Width, big.Height));
        var top = Probe(lib, files[$"10_cat/{data.Rotated}_top.jpg"], "jpg");
        Assert.Equal((128, 96), (top.Width, top.Height));
        Assert.Equal(TaggedLine, Encoding.UTF8.GetString(files[$"10_cat/{t}_face.txt"]));

        // Masks pair with their image: same stem, same size as the exported image, whatever size they were imported at.
        foreach (var name in new[] { $"masks/person/10_cat/{t}.png", $"masks/person/10_cat/{t}_2.png" })
        {
            var mask = Pixels(lib, files[name], "png");
            Assert.Equal((128, 96), (mask.Width, mask.Height));
        }

        var entries = CheckManifest(files, data.All);
        var maskEntries = entries.Where(e => e.TryGetProperty("kind", out var k) && k.GetString() == "mask").ToList();
        Assert.Equal(2, maskEntries.Count);
        Assert.All(maskEntries, e => Assert.Equal(("person", t), (e.GetProperty("mask").GetString(), e.GetProperty("media").GetString())));
        Assert.Equal(new[] { full, half }.Order(StringComparer.Ordinal), maskEntries.Select(e => e.GetProperty("mask_media").GetString()!).Order(StringComparer.Ordinal));
        using (var manifest = JsonDocument.Parse(files["manifest.json"]))
        {
            Assert.Equal(10, manifest.RootElement.GetProperty("repeat").GetInt32());
            Assert.Equal(128, manifest.RootElement.GetProperty("max_size").GetInt32());
        }

        // Without a size limit the half-size mask is resampled to the image's full size.
        var folder = Path.Combine(lib.Root, "..", "exports", "masks-only");
        var masksOnly = await new ExportService(lib.Library).ExportAsync(new ExportOptions($"id:{t[..8]}", folder, Masks: true), null, Ct);
        Assert.Equal((1, 0, 2), (masksOnly.Images, masksOnly.Crops, masksOnly.Masks));
        var exported = ReadFolder(folder);
        Assert.Equal(File.ReadAllBytes(lib.OriginalPath(t, "jpg")), exported[$"{t}.jpg"]);
        var values = new List<byte>();
        foreach (var name in new[] { $"masks/person/{t}.png", $"masks/person/{t}_2.png" })
        {
            var mask = Pixels(lib, exported[name], "png");
            Assert.Equal((400, 300), (mask.Width, mask.Height));
            Assert.Single(mask.Data.Distinct());
            values.Add(mask.Data[0]);
        }

        Assert.Equal(new byte[] { 200, 255 }, values.Order());
        CheckManifest(exported, [t]);
    }

    [Fact]
    public async Task Existing_outputs_are_refused_without_force_and_replaced_with_it()
    {
        await using var lib = await CreateWithImagingAsync();
        var data = await SetUpAsync(lib);
        var service = new ExportService(lib.Library);
        var root = Path.Combine(lib.Root, "..", "exports");
        var folder = Path.Combine(root, "dataset");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        var zip = Path.Combine(root, "set.zip");
        File.WriteAllText(zip, "not yet a zip");
        var file = Path.Combine(root, "plain-file");
        File.WriteAllText(file, "a file");
        var before = Beside(folder);

        var notEmpty = await Assert.ThrowsAsync<TroveUsageException>(() => service.ExportAsync(new ExportOptions("", folder), null, Ct));
        Assert.Equal("export-exists", notEmpty.Code);
        Assert.Contains("--force", notEmpty.Hint, StringComparison.Ordinal);
        var zipExists = await Assert.ThrowsAsync<TroveUsageException>(() => service.ExportAsync(new ExportOptions("", zip), null, Ct));
        Assert.Equal("export-exists", zipExists.Code);
        var isFile = await Assert.ThrowsAsync<TroveUsageException>(() => service.ExportAsync(new ExportOptions("", file), null, Ct));
        Assert.Equal("export-not-folder", isFile.Code);

        Assert.Equal(before, Beside(folder));
        Assert.Equal(["notes.txt"], ReadFolder(folder).Keys);
        Assert.Equal("not yet a zip", File.ReadAllText(zip));

        // Bad options are refused before anything is written.
        await Assert.ThrowsAsync<TroveUsageException>(() => service.ExportAsync(new ExportOptions("", Path.Combine(root, "x"), Format: "dreambooth"), null, Ct));
        await Assert.ThrowsAsync<TroveUsageException>(() => service.ExportAsync(new ExportOptions("", Path.Combine(root, "x"), MaxSize: 8), null, Ct));
        await Assert.ThrowsAsync<TroveUsageException>(() => service.ExportAsync(new ExportOptions("", Path.Combine(root, "x"), Repeat: 0), null, Ct));
        await Assert.ThrowsAsync<TroveUsageException>(() => service.ExportAsync(new ExportOptions("bad:term", Path.Combine(root, "x")), null, Ct));
        Assert.Equal(before, Beside(folder));

        // An empty folder is fine; --force replaces a non-empty one or a ZIP.
        var empty = Path.Combine(root, "empty");
        Directory.CreateDirectory(empty);
        Assert.Equal(4, (await service.ExportAsync(new ExportOptions("", empty), null, Ct)).Images);
        await service.ExportAsync(new ExportOptions("", folder, Force: true), null, Ct);
        Assert.DoesNotContain("notes.txt", ReadFolder(folder).Keys);
        Assert.Contains($"{data.Tagged}.jpg", ReadFolder(folder).Keys);
        await service.ExportAsync(new ExportOptions("", zip, Force: true), null, Ct);
        Assert.Contains($"{data.Tagged}.txt", ReadZip(zip).Keys);
        Assert.Equal(["dataset", "empty", "plain-file", "set.zip"], Beside(folder));
    }

    /// <summary>Cancels when the export reports its first progress, i.e. after files were written and before it completes.</summary>
    private sealed class CancelOnProgress(CancellationTokenSource cts) : IProgress<ProgressInfo>
    {
        public void Report(ProgressInfo value) => cts.Cancel();
    }

    [Theory]
    [InlineData("dataset")]
    [InlineData("set.zip")]
    public async Task An_export_that_stops_half_way_leaves_nothing_behind(string name)
    {
        await using var lib = await CreateWithImagingAsync();
        await SetUpAsync(lib);
        var target = Path.Combine(lib.Root, "..", "exports", name);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ExportService(lib.Library).ExportAsync(new ExportOptions("", target, Crops: true), new CancelOnProgress(cts), cts.Token));

        Assert.Empty(Beside(target));

        // The same target then exports normally.
        var report = await new ExportService(lib.Library).ExportAsync(new ExportOptions("", target), null, Ct);
        Assert.Equal(4, report.Images);
        Assert.Equal([name], Beside(target));
    }

    [Fact]
    public async Task A_missing_original_fails_that_media_and_the_rest_exports()
    {
        await using var lib = await CreateWithImagingAsync();
        var data = await SetUpAsync(lib);
        File.Delete(lib.OriginalPath(data.Tagged, "jpg"));
        File.Delete(lib.OriginalPath(data.Rotated, "jpg"));

        var zip = Path.Combine(lib.Root, "..", "exports", "set.zip");
        var report = await new ExportService(lib.Library).ExportAsync(new ExportOptions("", zip, Crops: true), null, Ct);

        Assert.Equal(new[] { data.Tagged, data.Rotated }.Order(StringComparer.Ordinal), report.Failed.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.All(report.Failed, f => Assert.Contains("missing", f.Error, StringComparison.Ordinal));
        Assert.Equal(2, report.Images);
        var files = ReadZip(zip);
        Assert.Equal(
            new[] { $"{data.Captioned}.png", $"{data.Captioned}.txt", $"{data.Tiff}.png", $"{data.Tiff}.txt", "manifest.json" }.Order(StringComparer.Ordinal),
            files.Keys.Order(StringComparer.Ordinal));
        CheckManifest(files, data.All);
    }
}
