using Trove.Application.Crops;
using Trove.Application.Ports;
using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Imaging;

using TestImages = Trove.Testing.TestImages;

/// <summary>Crops on real files through real libvips: bounds as displayed, names, replace/remove/list, rendering and its cache, rebuild.</summary>
public sealed class CropTests
{
    /// <summary>A 400×300 PNG: red top-left, green top-right, blue bottom-left, white bottom-right.</summary>
    private static Task<string> QuadrantsAsync(TestLibrary lib) =>
        lib.ImportFileAsync("quadrants.png", p => TestImages.WritePng(p, TestImages.Quadrants(400, 300)));

    /// <summary>The average colour of a rendered file, away from its edges (JPEG chroma bleeds a little at boundaries).</summary>
    private static (int R, int G, int B) AverageColour(string path)
    {
        var pixels = Vips.Value.Pixels(path, new PixelRequest(PixelFit.None, 0, 0, 0xFFFFFF, false, null, ImageLimits.Default), Ct);
        Assert.Equal(3, pixels.Bands);
        long r = 0, g = 0, b = 0, n = 0;
        int marginX = pixels.Width / 8, marginY = pixels.Height / 8;
        for (var y = marginY; y < pixels.Height - marginY; y++)
        {
            for (var x = marginX; x < pixels.Width - marginX; x++)
            {
                var o = ((y * pixels.Width) + x) * 3;
                (r, g, b, n) = (r + pixels.Data[o], g + pixels.Data[o + 1], b + pixels.Data[o + 2], n + 1);
            }
        }

        return ((int)(r / n), (int)(g / n), (int)(b / n));
    }

    private static void AssertColour((int R, int G, int B) expected, (int R, int G, int B) actual)
    {
        Assert.True(
            Math.Abs(expected.R - actual.R) <= 12 && Math.Abs(expected.G - actual.G) <= 12 && Math.Abs(expected.B - actual.B) <= 12,
            $"expected about {expected}, got {actual}");
    }

    [Fact]
    public async Task Crops_are_checked_against_the_image_as_displayed()
    {
        await using var lib = await CreateWithImagingAsync();

        // Stored 300×200 with EXIF orientation 6: people see it 200×300.
        var id = await lib.ImportFileAsync("rotated.jpg", p => TestImages.WriteJpeg(p, TestImages.Photo(1, 300, 200), 90, orientation: 6));
        var crops = new CropService(lib.Library);

        var listing = await crops.AddAsync(id[..8], "full", new PixelRect(0, 0, 200, 300), replace: false, Ct);
        Assert.Equal((200, 300), (listing.Width, listing.Height));

        var refused = await Assert.ThrowsAsync<TroveUsageException>(() => crops.AddAsync(id, "wide", new PixelRect(0, 0, 300, 200), replace: false, Ct));
        Assert.Equal("crop-out-of-bounds", refused.Code);
        Assert.Contains("200×300", refused.Message, StringComparison.Ordinal);
        Assert.Contains("300,200", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TroveUsageException>(() => crops.AddAsync(id, "edge", new PixelRect(1, 0, 200, 300), replace: false, Ct));
        await Assert.ThrowsAsync<TroveUsageException>(() => crops.AddAsync(id, "edge", new PixelRect(0, 1, 200, 300), replace: false, Ct));

        // Rectangles that make no sense are refused before anything else, also when they come from the API rather than --rect.
        foreach (var bad in new[] { new PixelRect(-10, 0, 50, 50), new PixelRect(0, -1, 50, 50), new PixelRect(0, 0, 0, 50), new PixelRect(0, 0, 50, -5) })
        {
            var e = await Assert.ThrowsAsync<TroveUsageException>(() => crops.AddAsync(id, "bad", bad, replace: false, Ct));
            Assert.Equal("bad-rect", e.Code);
        }

        Assert.Equal(["full"], lib.ReadSidecar(id).Crops.Select(c => c.Name));

        // Rendered in displayed coordinates: the upright image is 200 wide and 300 high.
        var rendered = await crops.RenderAsync(id, "full", null, ImageFormat.Png, Ct);
        var info = Vips.Value.Probe(rendered.Path, ImageLimits.Default, Ct);
        Assert.Equal((200, 300), (info.DisplayWidth, info.DisplayHeight));
        Assert.Equal((200, 300), (rendered.Width, rendered.Height));
    }

    [Fact]
    public async Task A_crop_of_a_rotated_image_covers_the_region_people_see()
    {
        await using var lib = await CreateWithImagingAsync();

        // Quadrants stored 300×200, orientation 6 (turn 90° clockwise to display): the red top-left corner is shown top-right.
        var id = await lib.ImportFileAsync("rotated-quadrants.jpg", p => TestImages.WriteJpeg(p, TestImages.Quadrants(300, 200), 95, orientation: 6));
        var crops = new CropService(lib.Library);
        await crops.AddAsync(id, "top_right", new PixelRect(100, 0, 100, 150), replace: false, Ct);
        await crops.AddAsync(id, "bottom_left", new PixelRect(0, 150, 100, 150), replace: false, Ct);

        AssertColour((255, 0, 0), AverageColour((await crops.RenderAsync(id, "top_right", null, ImageFormat.Png, Ct)).Path));
        AssertColour((255, 255, 255), AverageColour((await crops.RenderAsync(id, "bottom_left", null, ImageFormat.Png, Ct)).Path));
    }

    [Fact]
    public async Task Names_are_normalised_duplicates_need_replace_and_crops_can_be_listed_and_removed()
    {
        await using var lib = await CreateWithImagingAsync();
        var id = await QuadrantsAsync(lib);
        var crops = new CropService(lib.Library);

        var added = await crops.AddAsync(id, "  Red Corner ", new PixelRect(0, 0, 200, 150), replace: false, Ct);
        Assert.Equal("red_corner", Assert.Single(added.Crops).Name);
        Assert.Equal((400, 300), (added.Width, added.Height));

        foreach (var bad in new[] { "", "   ", "a/b", "../up", "dot.name", "é", new string('x', CropService.MaxNameLength + 1) })
        {
            var e = await Assert.ThrowsAsync<TroveUsageException>(() => crops.AddAsync(id, bad, new PixelRect(0, 0, 10, 10), replace: false, Ct));
            Assert.Equal("bad-crop-name", e.Code);
        }

        Assert.Equal("ok-name_2", CropService.NormalizeName("OK-Name_2"));
        Assert.Equal(new string('x', CropService.MaxNameLength), CropService.NormalizeName(new string('X', CropService.MaxNameLength)));

        // The same name again (in any spelling) is refused unless replacing, which redefines it in place.
        var exists = await Assert.ThrowsAsync<TroveUsageException>(() => crops.AddAsync(id, "RED_CORNER", new PixelRect(0, 0, 100, 100), replace: false, Ct));
        Assert.Equal("crop-exists", exists.Code);
        Assert.NotNull(exists.Hint);
        var replaced = await crops.AddAsync(id, "red corner", new PixelRect(10, 20, 100, 100), replace: true, Ct);
        var only = Assert.Single(replaced.Crops);
        Assert.Equal((10, 20, 100, 100), (only.X, only.Y, only.W, only.H));

        await crops.AddAsync(id, "green", new PixelRect(200, 0, 200, 150), replace: false, Ct);
        var listed = await crops.ListAsync(id[..6], Ct);
        Assert.Equal(id, listed.Id);
        Assert.Equal(["red_corner", "green"], listed.Crops.Select(c => c.Name));
        Assert.All(listed.Crops, c => Assert.Equal(lib.Library.Actor, c.CreatedBy));

        var removed = await crops.RemoveAsync(id, "Red Corner", Ct);
        Assert.Equal(["green"], removed.Crops.Select(c => c.Name));
        var missing = await Assert.ThrowsAsync<TroveUsageException>(() => crops.RemoveAsync(id, "red_corner", Ct));
        Assert.Equal("crop-not-found", missing.Code);
        Assert.Contains("green", missing.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TroveUsageException>(() => crops.RenderAsync(id, "red_corner", null, ImageFormat.Png, Ct));

        // Crops live in the sidecar (the truth), not only in the index.
        Assert.Equal(["green"], lib.ReadSidecar(id).Crops.Select(c => c.Name));
    }

    [Fact]
    public async Task Rendering_gives_the_right_pixels_from_a_cache_that_can_be_deleted()
    {
        await using var lib = await CreateWithImagingAsync();
        var id = await QuadrantsAsync(lib);
        var crops = new CropService(lib.Library);
        await crops.AddAsync(id, "red", new PixelRect(0, 0, 200, 150), replace: false, Ct);
        await crops.AddAsync(id, "blue", new PixelRect(0, 150, 200, 150), replace: false, Ct);
        var originalBytes = File.ReadAllBytes(lib.OriginalPath(id));

        var red = await crops.RenderAsync(id, "red", null, ImageFormat.Png, Ct);
        Assert.Equal(("red", id, "image/png"), (red.Crop, red.MediaId, red.MediaType));
        Assert.StartsWith(Path.Combine(lib.Layout.CacheDir, "crops"), red.Path, StringComparison.Ordinal);
        Assert.Equal((200, 150), (red.Width, red.Height));
        var pixels = Vips.Value.Pixels(red.Path, new PixelRequest(PixelFit.None, 0, 0, 0, false, null, ImageLimits.Default), Ct);
        Assert.Equal((200, 150), (pixels.Width, pixels.Height));
        for (var i = 0; i < pixels.Data.Length; i += 3)
        {
            Assert.Equal((255, 0, 0), (pixels.Data[i], pixels.Data[i + 1], pixels.Data[i + 2]));
        }

        AssertColour((0, 0, 255), AverageColour((await crops.RenderAsync(id, "blue", null, ImageFormat.Png, Ct)).Path));

        // A size limit applies to the longest side and keeps the aspect; other formats are other cache files.
        var small = await crops.RenderAsync(id, "red", 100, ImageFormat.Jpeg, Ct);
        var smallInfo = Vips.Value.Probe(small.Path, ImageLimits.Default, Ct);
        Assert.Equal(("jpeg", 100, 75), (smallInfo.Format, smallInfo.Width, smallInfo.Height));
        Assert.Equal((100, 75, "image/jpeg"), (small.Width, small.Height, small.MediaType));
        Assert.NotEqual(red.Path, small.Path);
        AssertColour((255, 0, 0), AverageColour(small.Path));
        var notUpscaled = await crops.RenderAsync(id, "red", 1000, ImageFormat.WebP, Ct);
        Assert.Equal((200, 150), (notUpscaled.Width, notUpscaled.Height));
        Assert.Equal((200, 150), (Vips.Value.Probe(notUpscaled.Path, ImageLimits.Default, Ct).Width, Vips.Value.Probe(notUpscaled.Path, ImageLimits.Default, Ct).Height));
        var zero = await Assert.ThrowsAsync<TroveUsageException>(() => crops.RenderAsync(id, "red", 0, ImageFormat.Png, Ct));
        Assert.Equal("bad-size", zero.Code);

        // A second render is a cache hit: same file, not written again (its old timestamp survives), same answer.
        var stamp = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(small.Path, stamp);
        var again = await crops.RenderAsync(id, "red", 100, ImageFormat.Jpeg, Ct);
        Assert.Equal(small, again);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(again.Path));

        // The cache is disposable: delete it and renders come back, identical in pixels.
        Directory.Delete(lib.Layout.CacheDir, recursive: true);
        var rebuilt = await crops.RenderAsync(id, "red", null, ImageFormat.Png, Ct);
        Assert.Equal(red.Path, rebuilt.Path);
        Assert.True(File.Exists(rebuilt.Path));
        Assert.Equal(pixels.Data, Vips.Value.Pixels(rebuilt.Path, new PixelRequest(PixelFit.None, 0, 0, 0, false, null, ImageLimits.Default), Ct).Data);

        // Rendering never touches the original.
        Assert.Equal(originalBytes, File.ReadAllBytes(lib.OriginalPath(id)));
    }

    [Fact]
    public async Task Crops_survive_an_index_rebuild_and_a_trip_through_the_trash()
    {
        await using var lib = await CreateWithImagingAsync();
        var id = await QuadrantsAsync(lib);
        var crops = new CropService(lib.Library);
        await crops.AddAsync(id, "red", new PixelRect(0, 0, 200, 150), replace: false, Ct);
        await crops.AddAsync(id, "white", new PixelRect(200, 150, 200, 150), replace: false, Ct);

        var report = await RebuildService.RebuildAsync(lib.Library, null, Ct);
        Assert.Empty(report.Problems);
        await lib.ReopenAsync();
        crops = new CropService(lib.Library);

        var listed = await crops.ListAsync(id[..8], Ct);
        Assert.Equal(["red", "white"], listed.Crops.Select(c => c.Name));
        Assert.Equal((200, 150, 200, 150), (listed.Crops[1].X, listed.Crops[1].Y, listed.Crops[1].W, listed.Crops[1].H));
        AssertColour((255, 255, 255), AverageColour((await crops.RenderAsync(id, "white", null, ImageFormat.Png, Ct)).Path));

        await lib.Media.DeleteAsync([id], Ct);
        AssertColour((255, 0, 0), AverageColour((await crops.RenderAsync(id, "red", 64, ImageFormat.Png, Ct)).Path));
        await lib.Media.RestoreAsync([id], Ct);
        Assert.Equal(["red", "white"], (await crops.ListAsync(id, Ct)).Crops.Select(c => c.Name));
    }
}
