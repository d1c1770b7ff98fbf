using Trove.Application.Ports;
using Trove.Testing;

namespace Trove.Imaging.Vips.Tests;

/// <summary>Affine warps (face alignment): OpenCV's convention, pixel centres at integer coordinates, black outside.</summary>
[Collection(ImageFilesCollection.Name)]
public sealed class WarpTests(ImageFiles files)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    // A black PNG with a white dot centred on each listed point (1 pixel, or a 3×3 blob).
    private string Dots(int width, int height, (int X, int Y)[] dots, int radius = 0)
    {
        var pixels = TestImages.Solid(width, height, 0, 0, 0);
        foreach (var (cx, cy) in dots)
        {
            for (var y = cy - radius; y <= cy + radius; y++)
            {
                for (var x = cx - radius; x <= cx + radius; x++)
                {
                    var i = ((y * width) + x) * 3;
                    pixels.Data[i] = pixels.Data[i + 1] = pixels.Data[i + 2] = 255;
                }
            }
        }

        var path = files.NewPath(".png");
        TestImages.WritePng(path, pixels);
        return path;
    }

    private static (double X, double Y) Centroid(RgbPixels pixels)
    {
        double sum = 0, sx = 0, sy = 0;
        for (var y = 0; y < pixels.Height; y++)
        {
            for (var x = 0; x < pixels.Width; x++)
            {
                double v = pixels.Data[((y * pixels.Width) + x) * pixels.Bands];
                sum += v;
                sx += v * x;
                sy += v * y;
            }
        }

        return (sx / sum, sy / sum);
    }

    [Fact]
    public void A_translation_moves_a_dot_by_whole_pixels_and_the_output_has_the_asked_size()
    {
        var path = Dots(64, 48, [(10, 20)]);
        var warped = files.Engine.Warp(path, new WarpRequest(new AffineTransform(1, 0, 0, 1, 5, 3), 40, 30, ImageLimits.Default), Ct);
        Assert.Equal((40, 30, 3), (warped.Width, warped.Height, warped.Bands));
        Assert.Equal(255, warped.Data[((23 * 40) + 15) * 3]);
        Assert.Equal(255 * 1.0, warped.Data.Sum(b => (double)b) / 3, 1);
    }

    [Theory]
    [InlineData(2.0, 0.0)]
    [InlineData(0.5, 0.0)]
    [InlineData(1.0, 30.0)]
    [InlineData(0.75, -45.0)]
    public void Scaled_and_rotated_dots_land_where_the_transform_maps_their_centres(double scale, double degrees)
    {
        var points = new[] { (20, 16), (44, 16), (32, 40) };
        var path = Dots(64, 64, points, radius: 1);
        var r = degrees * Math.PI / 180;
        var t = new AffineTransform(scale * Math.Cos(r), -scale * Math.Sin(r), scale * Math.Sin(r), scale * Math.Cos(r), 40, 30);
        var warped = files.Engine.Warp(path, new WarpRequest(t, 160, 160, ImageLimits.Default), Ct);

        // Each dot, alone in its neighbourhood: its brightness centroid is where the transform sends its centre.
        foreach (var (x, y) in points)
        {
            var (u, v) = t.Apply(x, y);
            var window = Window(warped, (int)Math.Round(u), (int)Math.Round(v), 7);
            var (cx, cy) = Centroid(window.Pixels);
            Assert.InRange(cx + window.X0, u - 0.2, u + 0.2);
            Assert.InRange(cy + window.Y0, v - 0.2, v + 0.2);
        }
    }

    [Fact]
    public void A_singular_transform_is_refused()
    {
        var path = Dots(8, 8, [(1, 1)]);
        Assert.Throws<ArgumentException>(() => files.Engine.Warp(path, new WarpRequest(new AffineTransform(1, 2, 2, 4, 0, 0), 8, 8, ImageLimits.Default), Ct));
    }

    private static (RgbPixels Pixels, int X0, int Y0) Window(RgbPixels image, int cx, int cy, int radius)
    {
        int x0 = Math.Max(0, cx - radius), y0 = Math.Max(0, cy - radius);
        int x1 = Math.Min(image.Width, cx + radius + 1), y1 = Math.Min(image.Height, cy + radius + 1);
        var data = new byte[(x1 - x0) * (y1 - y0) * image.Bands];
        for (var y = y0; y < y1; y++)
        {
            Array.Copy(image.Data, ((y * image.Width) + x0) * image.Bands, data, (y - y0) * (x1 - x0) * image.Bands, (x1 - x0) * image.Bands);
        }

        return (new RgbPixels(x1 - x0, y1 - y0, image.Bands, data), x0, y0);
    }
}
