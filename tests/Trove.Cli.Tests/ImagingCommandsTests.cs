using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Trove.Application.Ports;
using Trove.Imaging.Vips;

namespace Trove.Cli.Tests;

using TestImages = Trove.Testing.TestImages;

/// <summary>The pixel commands (crop, dupes, export, thumbnail, mask) run in-process on real images: JSON shapes and exit codes.</summary>
[Collection(InProcessCollection.Name)]
public sealed class ImagingCommandsTests : IDisposable
{
    private static readonly Lazy<IImageEngine> Vips = new(() => VipsImageEngine.Create(new VipsOptions()));

    private readonly TempDirectory _temp = new();

    private string Library => _temp.Combine("library");

    public void Dispose() => _temp.Dispose();

    /// <summary>The ids of what <see cref="NewLibraryAsync"/> imported (ids are the files' SHA-256).</summary>
    private sealed record Media(string Photo, string Copy, string Other);

    /// <summary>init, then import a 400×300 photo, a re-encoded copy of it (a near-duplicate) and an unrelated photo.</summary>
    private async Task<Media> NewLibraryAsync()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var files = _temp.Combine("files");
        Directory.CreateDirectory(files);
        var photo = Path.Combine(files, "photo.jpg");
        TestImages.WriteJpeg(photo, TestImages.Photo(700, 400, 300), 90);
        File.WriteAllBytes(Path.Combine(files, "copy.jpg"), Vips.Value.Render(photo, new RenderRequest(null, null, ImageFormat.Jpeg, 60, ImageLimits.Default), CancellationToken.None).Data);
        TestImages.WriteJpeg(Path.Combine(files, "other.jpg"), TestImages.Photo(7919, 400, 300), 90);

        var import = (await Cli.InAsync(Library, "import", files, "--json")).ShouldSucceed().Json;
        Assert.Equal(3, import.GetProperty("imported").GetInt32());
        string Id(string name) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(files, name))));
        var media = new Media(Id("photo.jpg"), Id("copy.jpg"), Id("other.jpg"));
        Assert.Equal(new[] { media.Photo, media.Copy, media.Other }.Order(StringComparer.Ordinal), import.GetProperty("media").Strings().Order(StringComparer.Ordinal));
        return media;
    }

    private static List<(string Name, int X, int Y, int W, int H)> Crops(JsonElement listing) =>
        listing.GetProperty("crops").EnumerateArray()
            .Select(c => (c.GetProperty("name").GetString()!, c.GetProperty("x").GetInt32(), c.GetProperty("y").GetInt32(), c.GetProperty("w").GetInt32(), c.GetProperty("h").GetInt32()))
            .ToList();

    [Fact]
    public async Task Crop_add_list_render_and_remove_json()
    {
        var media = await NewLibraryAsync();

        var added = (await Cli.InAsync(Library, "crop", "add", media.Photo[..6], "--name", "Face Shot", "--rect", "10,20,100,50", "--json")).ShouldSucceed().Json;
        Assert.Equal(media.Photo, added.GetProperty("id").GetString());
        Assert.Equal((400, 300), (added.GetProperty("width").GetInt32(), added.GetProperty("height").GetInt32()));
        Assert.Equal([("face_shot", 10, 20, 100, 50)], Crops(added));

        var listed = (await Cli.InAsync(Library, "crop", "list", media.Photo[..8], "--json")).ShouldSucceed().Json;
        Assert.Equal([("face_shot", 10, 20, 100, 50)], Crops(listed));

        var render = (await Cli.InAsync(Library, "crop", "render", media.Photo[..8], "face_shot", "--size", "40", "--format", "jpeg", "--json")).ShouldSucceed().Json;
        Assert.Equal((media.Photo, "face_shot", "image/jpeg"), (render.GetProperty("id").GetString(), render.GetProperty("crop").GetString(), render.GetProperty("mediaType").GetString()));
        Assert.Equal((40, 20), (render.GetProperty("width").GetInt32(), render.GetProperty("height").GetInt32()));
        var info = Vips.Value.Probe(render.GetProperty("path").GetString()!, ImageLimits.Default, CancellationToken.None);
        Assert.Equal(("jpeg", 40, 20), (info.Format, info.Width, info.Height));

        var target = _temp.Combine("face.png");
        var copied = (await Cli.InAsync(Library, "crop", "render", media.Photo[..8], "face_shot", "--out", target, "--json")).ShouldSucceed().Json;
        Assert.Equal(target, copied.GetProperty("path").GetString());
        var png = Vips.Value.Probe(target, ImageLimits.Default, CancellationToken.None);
        Assert.Equal(("png", 100, 50), (png.Format, png.Width, png.Height));

        // Usage errors exit 2 with one JSON error document and change nothing.
        var duplicate = await Cli.InAsync(Library, "crop", "add", media.Photo[..8], "--name", "face_shot", "--rect", "0,0,10,10", "--json");
        duplicate.ShouldExit(2);
        Assert.Equal("crop-exists", duplicate.ErrorCode());
        foreach (var rect in new[] { "1,2,3", "a,b,c,d", "-1,0,10,10", "0,0,0,10", "1.5,0,10,10" })
        {
            var bad = await Cli.InAsync(Library, "crop", "add", media.Photo[..8], "--name", "x", "--rect", rect, "--json");
            bad.ShouldExit(2);
            Assert.Equal("bad-rect", bad.ErrorCode());
        }

        var outside = await Cli.InAsync(Library, "crop", "add", media.Photo[..8], "--name", "x", "--rect", "300,200,101,100", "--json");
        outside.ShouldExit(2);
        Assert.Equal("crop-out-of-bounds", outside.ErrorCode());
        Assert.Contains("400×300", outside.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        var badName = await Cli.InAsync(Library, "crop", "add", media.Photo[..8], "--name", "a/b", "--rect", "0,0,10,10", "--json");
        badName.ShouldExit(2);
        Assert.Equal("bad-crop-name", badName.ErrorCode());
        var badFormat = await Cli.InAsync(Library, "crop", "render", media.Photo[..8], "face_shot", "--format", "gif", "--json");
        badFormat.ShouldExit(2);
        Assert.Equal("bad-format", badFormat.ErrorCode());
        var badSize = await Cli.InAsync(Library, "crop", "render", media.Photo[..8], "face_shot", "--size", "0", "--json");
        badSize.ShouldExit(2);
        Assert.Equal("bad-size", badSize.ErrorCode());
        Assert.Equal([("face_shot", 10, 20, 100, 50)], Crops((await Cli.InAsync(Library, "crop", "list", media.Photo, "--json")).ShouldSucceed().Json));

        var replaced = (await Cli.InAsync(Library, "crop", "add", media.Photo[..8], "--name", "face_shot", "--rect", "0,0,10,10", "--replace", "--json")).ShouldSucceed().Json;
        Assert.Equal([("face_shot", 0, 0, 10, 10)], Crops(replaced));

        var removed = (await Cli.InAsync(Library, "crop", "remove", media.Photo[..8], "face_shot", "--json")).ShouldSucceed().Json;
        Assert.Empty(Crops(removed));
        var again = await Cli.InAsync(Library, "crop", "remove", media.Photo[..8], "face_shot", "--json");
        again.ShouldExit(2);
        Assert.Equal("crop-not-found", again.ErrorCode());
    }

    [Fact]
    public async Task Dupes_json_lists_groups_and_merge_keeps_one()
    {
        var media = await NewLibraryAsync();
        (await Cli.InAsync(Library, "tag", "add", media.Copy[..8], "from_copy")).ShouldSucceed();

        var dupes = (await Cli.InAsync(Library, "dupes", "--json")).ShouldSucceed().Json;
        var groups = dupes.GetProperty("groups").EnumerateArray().Select(g => g.Strings()).ToList();
        var group = Assert.Single(groups);
        Assert.Equal(new[] { media.Photo, media.Copy }.Order(StringComparer.Ordinal), group.Order(StringComparer.Ordinal));

        var wide = (await Cli.InAsync(Library, "dupes", "--distance", "12", "--json")).ShouldSucceed().Json;
        Assert.Single(wide.GetProperty("groups").EnumerateArray());
        var similar = (await Cli.InAsync(Library, "similar", media.Photo[..6], "--json")).ShouldSucceed().Json;
        Assert.Equal([media.Copy], similar.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
        Assert.Equal([media.Copy], (await Cli.InAsync(Library, "search", $"similar:{media.Photo[..6]}", "--json")).ShouldSucceed().Json.Ids());

        foreach (var distance in new[] { "99", "-1" })
        {
            var bad = await Cli.InAsync(Library, "dupes", "--distance", distance, "--json");
            bad.ShouldExit(2);
            Assert.Equal("bad-distance", bad.ErrorCode());
        }

        (await Cli.InAsync(Library, "dupes", "--distance", "many", "--json")).ShouldExit(2);
        var one = await Cli.InAsync(Library, "dupes", "merge", media.Photo[..8], "--json");
        one.ShouldExit(2);
        Assert.Equal("merge-needs-two", one.ErrorCode());

        // Same pixels, so the larger file (quality 90 over 60) is kept; the copy's tag moves over, the copy goes to the trash.
        var merge = (await Cli.InAsync(Library, "dupes", "merge", media.Copy[..8], media.Photo[..8], "--json")).ShouldSucceed().Json;
        Assert.Equal(media.Photo, merge.GetProperty("kept").GetString());
        Assert.Equal([media.Copy], merge.GetProperty("trashed").Strings());
        Assert.Equal(["from_copy"], merge.GetProperty("tagsAdded").Strings());
        Assert.Equal(0, merge.GetProperty("captionsAdded").GetInt32());
        Assert.Equal(0, merge.GetProperty("collectionsAdded").GetInt32());

        Assert.Empty((await Cli.InAsync(Library, "dupes", "--json")).ShouldSucceed().Json.GetProperty("groups").EnumerateArray());
        var show = (await Cli.InAsync(Library, "show", media.Copy, "--json")).ShouldSucceed().Json;
        Assert.Equal("trash", show.GetProperty("location").GetString());
        Assert.Equal([media.Photo], (await Cli.InAsync(Library, "search", "from_copy", "--json")).ShouldSucceed().Json.Ids());

        var trashed = await Cli.InAsync(Library, "dupes", "merge", media.Photo[..8], media.Copy[..8], "--json");
        trashed.ShouldExit(2);
        Assert.Equal("merge-trashed", trashed.ErrorCode());

        // --keep chooses, even one not among the ids.
        (await Cli.InAsync(Library, "restore", media.Copy)).ShouldSucceed();
        var keep = (await Cli.InAsync(Library, "dupes", "merge", media.Photo[..8], "--keep", media.Copy[..8], "--json")).ShouldSucceed().Json;
        Assert.Equal(media.Copy, keep.GetProperty("kept").GetString());
        Assert.Equal([media.Photo], keep.GetProperty("trashed").Strings());
    }

    [Fact]
    public async Task Export_to_a_zip_json()
    {
        var media = await NewLibraryAsync();
        (await Cli.InAsync(Library, "tag", "add", media.Photo[..8], "long_hair", "smile")).ShouldSucceed();
        (await Cli.InAsync(Library, "crop", "add", media.Photo[..8], "--name", "face", "--rect", "0,0,200,100")).ShouldSucceed();
        var zip = _temp.Combine("out", "set.zip");

        var export = (await Cli.InAsync(Library, "export", "long_hair", "--format", "kohya", "--out", zip, "--crops", "--max-size", "128", "--repeat", "5", "--concept", "girl", "--json")).ShouldSucceed().Json;
        Assert.Equal(zip, export.GetProperty("out").GetString());
        Assert.Equal((1, 1, 1, 0), (export.GetProperty("media").GetInt32(), export.GetProperty("images").GetInt32(), export.GetProperty("crops").GetInt32(), export.GetProperty("masks").GetInt32()));
        Assert.Equal(new FileInfo(zip).Length, export.GetProperty("bytes").GetInt64());
        Assert.Empty(export.GetProperty("failed").EnumerateArray());
        using (var archive = ZipFile.OpenRead(zip))
        {
            Assert.Equal(
                new[] { $"5_girl/{media.Photo}.jpg", $"5_girl/{media.Photo}.txt", $"5_girl/{media.Photo}_face.jpg", $"5_girl/{media.Photo}_face.txt", "manifest.json" }.Order(StringComparer.Ordinal),
                archive.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
            using var reader = new StreamReader(archive.GetEntry($"5_girl/{media.Photo}.txt")!.Open());
            Assert.Equal("long hair, smile", reader.ReadToEnd());
        }

        Assert.Equal(["set.zip"], Directory.EnumerateFileSystemEntries(_temp.Combine("out")).Select(Path.GetFileName));

        var exists = await Cli.InAsync(Library, "export", "", "--out", zip, "--json");
        exists.ShouldExit(2);
        Assert.Equal("export-exists", exists.ErrorCode());
        var badText = await Cli.InAsync(Library, "export", "", "--out", _temp.Combine("out", "b.zip"), "--text", "poetry", "--json");
        badText.ShouldExit(2);
        Assert.Equal("bad-text", badText.ErrorCode());
        var badFormat = await Cli.InAsync(Library, "export", "", "--out", _temp.Combine("out", "c.zip"), "--format", "dreambooth", "--json");
        badFormat.ShouldExit(2);
        Assert.Equal("bad-format", badFormat.ErrorCode());
        Assert.Equal(["set.zip"], Directory.EnumerateFileSystemEntries(_temp.Combine("out")).Select(Path.GetFileName));

        var all = (await Cli.InAsync(Library, "export", "", "--out", zip, "--force", "--json")).ShouldSucceed().Json;
        Assert.Equal(3, all.GetProperty("images").GetInt32());
    }

    [Fact]
    public async Task Thumbnail_and_mask_list_json()
    {
        var media = await NewLibraryAsync();

        var thumb = (await Cli.InAsync(Library, "thumbnail", media.Photo[..8], "--size", "512", "--json")).ShouldSucceed().Json;
        Assert.Equal((media.Photo, 512, true), (thumb.GetProperty("id").GetString(), thumb.GetProperty("size").GetInt32(), thumb.GetProperty("created").GetBoolean()));
        var path = thumb.GetProperty("path").GetString()!;
        var info = Vips.Value.Probe(path, ImageLimits.Default, CancellationToken.None);
        Assert.Equal((400, 300), (info.Width, info.Height)); // never upscaled
        Assert.Equal(info.Format == "webp" ? "image/webp" : "image/jpeg", thumb.GetProperty("mediaType").GetString());
        var cached = (await Cli.InAsync(Library, "thumbnail", media.Photo[..8], "--size", "512", "--json")).ShouldSucceed().Json;
        Assert.Equal((path, false), (cached.GetProperty("path").GetString(), cached.GetProperty("created").GetBoolean()));
        var badSize = await Cli.InAsync(Library, "thumbnail", media.Photo[..8], "--size", "300", "--json");
        badSize.ShouldExit(2);
        Assert.Equal("bad-size", badSize.ErrorCode());

        var none = (await Cli.InAsync(Library, "mask", "list", media.Photo[..8], "--json")).ShouldSucceed().Json;
        Assert.Equal(media.Photo, none.GetProperty("id").GetString());
        Assert.Empty(none.GetProperty("masks").EnumerateArray());

        var maskFile = _temp.Combine("masks", "person.png");
        Directory.CreateDirectory(Path.GetDirectoryName(maskFile)!);
        TestImages.WritePng(maskFile, TestImages.Solid(200, 150, 255));
        var import = (await Cli.InAsync(Library, "import", maskFile, "--mask-of", media.Photo[..8], "--category", "person", "--json")).ShouldSucceed().Json;
        var maskId = Assert.Single(import.GetProperty("media").Strings());

        var listed = (await Cli.InAsync(Library, "mask", "list", media.Photo[..8], "--json")).ShouldSucceed().Json;
        var mask = Assert.Single(listed.GetProperty("masks").EnumerateArray());
        Assert.Equal((maskId, "person", 200, 150), (mask.GetProperty("id").GetString(), mask.GetProperty("category").GetString(), mask.GetProperty("width").GetInt32(), mask.GetProperty("height").GetInt32()));
        Assert.True(File.Exists(Path.Combine(Library, mask.GetProperty("path").GetString()!)));
    }
}
