using System.Diagnostics;
using Trove.Application.Ports;
using Trove.Testing;
using Xunit.Abstractions;

namespace Trove.Imaging.Vips.Tests;

[Collection(ImageFilesCollection.Name)]
public sealed class VipsImageEngineTests(ImageFiles files, ITestOutputHelper output)
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly ImageLimits Limits = ImageLimits.Default;
    private static readonly SampleSize[] HashSamples = [new(9, 8), new(8, 9), new(32, 32)];

    private IImageEngine Engine => files.Engine;

    // ---- status ----

    [Fact]
    public void The_engine_is_available_and_lists_the_photo_loaders()
    {
        output.WriteLine($"libvips {Engine.Status.Version}: {string.Join(", ", Engine.Status.Loaders)}");
        Assert.IsType<VipsImageEngine>(Engine);
        Assert.True(Engine.Status.Available);
        Assert.StartsWith("8.", Engine.Status.Version);
        Assert.Null(Engine.Status.Message);
        Assert.Contains("jpeg", Engine.Status.Loaders);
        Assert.Contains("png", Engine.Status.Loaders);
        Assert.Contains("webp", Engine.Status.Loaders);
        Assert.Contains("gif", Engine.Status.Loaders);
    }

    [Fact]
    public void A_missing_library_gives_the_unavailable_engine_with_the_install_hint()
    {
        var engine = VipsImageEngine.Create(new VipsOptions { LibraryName = "libvips-does-not-exist.so" });

        var unavailable = Assert.IsType<UnavailableImageEngine>(engine);
        Assert.False(unavailable.Status.Available);
        Assert.Contains("libvips 8.x not found", unavailable.Status.Message);
        Assert.Contains("apt-get install libvips42", unavailable.Status.Message);
        Assert.Contains("make deps", unavailable.Status.Message);
        var error = Assert.Throws<ImageException>(() => engine.Probe(files.Path("baseline.jpg"), Limits, Ct));
        Assert.Equal("unavailable", error.Code);

        // The real engine is not disturbed by the failed attempt.
        Assert.Equal("jpeg", Engine.Probe(files.Path("baseline.jpg"), Limits, Ct).Format);
    }

    // ---- probe ----

    [Theory]
    [MemberData(nameof(ImageFiles.Formats), MemberType = typeof(ImageFiles))]
    public void Probe_reads_the_header_of_each_format(string name, string format, int bands, bool alpha, string interpretation, int frames)
    {
        var info = Engine.Probe(files.Path(name), Limits, Ct);

        Assert.Equal(format, info.Format);
        Assert.Equal(ImageFiles.PhotoWidth, info.Width);
        Assert.Equal(ImageFiles.PhotoHeight, info.Height);
        Assert.Equal(bands, info.Bands);
        Assert.Equal(alpha, info.HasAlpha);
        Assert.Equal(interpretation, info.Interpretation);
        Assert.Equal(frames, info.Frames);
        Assert.Equal(1, info.Orientation);
    }

    [Fact]
    public void Probe_does_not_decode_pixels_so_a_file_with_only_its_header_probes()
    {
        var path = files.NewPath(".jpg");
        TestImages.WriteJpeg(path, TestImages.Photo(7, 640, 480));
        TestImages.Truncate(path, 0.2);

        var info = Engine.Probe(path, Limits, Ct);

        Assert.Equal(("jpeg", 640, 480), (info.Format, info.Width, info.Height));
        var error = Assert.Throws<ImageException>(() => Engine.Analyze(path, Request(64), Ct));
        Assert.Equal("truncated", error.Code);
    }

    [Fact]
    public void A_png_bomb_is_refused_from_its_header_quickly()
    {
        var path = files.NewPath(".png");
        TestImages.WritePngBomb(path, 100_000, 100_000);
        Assert.True(new FileInfo(path).Length < 1000);

        var watch = Stopwatch.StartNew();
        var probe = Assert.Throws<ImageException>(() => Engine.Probe(path, Limits, Ct));
        var analyze = Assert.Throws<ImageException>(() => Engine.Analyze(path, Request(256), Ct));
        var pixels = Assert.Throws<ImageException>(() => Engine.Pixels(path, new PixelRequest(PixelFit.Stretch, 32, 32, 0xFFFFFF, false, null, Limits), Ct));
        watch.Stop();

        Assert.All([probe, analyze, pixels], e => Assert.Equal("too-large", e.Code));
        Assert.Contains("100000×100000 = 10000 megapixels", probe.Message);
        Assert.Contains("the limit is 179 megapixels (Trove:Imaging:MaxPixels)", probe.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public void The_pixel_limit_applies_to_one_frame()
    {
        var path = files.Path("animated.gif");
        var onePage = (long)ImageFiles.PhotoWidth * ImageFiles.PhotoHeight;

        Assert.Equal(3, Engine.Probe(path, new ImageLimits(onePage), Ct).Frames);
        var error = Assert.Throws<ImageException>(() => Engine.Probe(path, new ImageLimits(onePage - 1), Ct));
        Assert.Equal("too-large", error.Code);
    }

    // ---- errors ----

    [Fact]
    public void A_truncated_jpeg_fails_with_truncated_and_what_libvips_said()
    {
        var path = files.NewPath(".jpg");
        TestImages.WriteJpeg(path, TestImages.Photo(3, 400, 300));
        TestImages.Truncate(path, 0.6);

        var analyze = Assert.Throws<ImageException>(() => Engine.Analyze(path, Request(128), Ct));
        var thumbnail = Assert.Throws<ImageException>(() => Engine.Thumbnail(path, 128, ImageFormat.WebP, Limits, Ct));
        var render = Assert.Throws<ImageException>(() => Engine.Render(path, new RenderRequest(new PixelRect(0, 0, 400, 300), null, ImageFormat.Png, 80, Limits), Ct));

        Assert.All([analyze, thumbnail, render], e => Assert.Equal("truncated", e.Code));
        output.WriteLine(analyze.Message);
        Assert.Contains(Path.GetFileName(path), analyze.Message);
        Assert.Contains("premature end", analyze.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("baseline.jpg", 0.02, "truncated", "Premature end of JPEG file")]
    [InlineData("progressive.jpg", 0.9, "truncated", "Premature end of input file")]
    [InlineData("rgba.png", 0.5, "truncated", "libpng read error")]
    [InlineData("rgb16.png", 0.9, "truncated", "libpng read error")]
    [InlineData("photo.webp", 0.5, "unreadable", "webp: unable to parse image")]
    [InlineData("animated.gif", 0.02, "unreadable", "no frames in GIF")]
    [InlineData("photo.tif", 0.5, "unsupported", "")]
    public void Damaged_files_of_each_format_fail_with_a_code_and_what_libvips_said(string name, double keep, string code, string libvips)
    {
        var path = files.NewPath(Path.GetExtension(name));
        File.Copy(files.Path(name), path);
        TestImages.Truncate(path, keep);

        var error = Assert.Throws<ImageException>(() =>
        {
            Engine.Probe(path, Limits, Ct);
            Engine.Analyze(path, Request(64), Ct);
        });

        output.WriteLine(error.Message);
        Assert.Equal(code, error.Code);
        Assert.Contains(Path.GetFileName(path), error.Message);
        Assert.Contains(libvips, error.Message);
    }

    [Fact]
    public void An_empty_file_is_unsupported_and_says_so()
    {
        var path = files.NewPath(".jpg");
        File.WriteAllBytes(path, []);

        var error = Assert.Throws<ImageException>(() => Engine.Probe(path, Limits, Ct));

        Assert.Equal("unsupported", error.Code);
        Assert.Contains(Path.GetFileName(path), error.Message);
        Assert.Contains("empty", error.Message);
    }

    [Fact]
    public void A_text_file_is_unsupported_with_the_libvips_reason()
    {
        var path = files.NewPath(".jpg");
        File.WriteAllText(path, "this is not an image, just some text\n");

        var error = Assert.Throws<ImageException>(() => Engine.Analyze(path, Request(64), Ct));

        output.WriteLine(error.Message);
        Assert.Equal("unsupported", error.Code);
        Assert.Contains(Path.GetFileName(path), error.Message);
        Assert.Contains("not a known file format", error.Message);
    }

    [Theory]
    [InlineData(".csv", "1,2,3\n4,5,6\n")]
    [InlineData(".mat", "2 2\n1 2\n3 4\n")]
    [InlineData(".svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>")]
    public void Untrusted_loaders_are_blocked(string suffix, string content)
    {
        var path = files.NewPath(suffix);
        File.WriteAllText(path, content);

        var error = Assert.Throws<ImageException>(() => Engine.Probe(path, Limits, Ct));

        output.WriteLine(error.Message);
        Assert.Equal("unsupported", error.Code);
    }

    [Fact]
    public void A_missing_file_is_unreadable()
    {
        var error = Assert.Throws<ImageException>(() => Engine.Probe(files.Path("nope.jpg"), Limits, Ct));

        Assert.Equal("unreadable", error.Code);
        Assert.Contains("nope.jpg", error.Message);
    }

    // ---- analyze and thumbnails ----

    [Theory]
    [MemberData(nameof(ImageFiles.Files), MemberType = typeof(ImageFiles))]
    public void Analyze_gives_exact_8_bit_gray_samples_and_an_8_bit_thumbnail_for_every_input(string name)
    {
        var analysis = Engine.Analyze(files.Path(name), Request(128, ImageFormat.Png), Ct);

        Assert.Equal(ImageFiles.PhotoWidth, analysis.Info.Width);
        Assert.Equal(HashSamples.Length, analysis.Samples.Count);
        for (var i = 0; i < HashSamples.Length; i++)
        {
            var sample = analysis.Samples[i];
            Assert.Equal((HashSamples[i].Width, HashSamples[i].Height), (sample.Width, sample.Height));
            Assert.Equal(sample.Width * sample.Height, sample.Pixels.Length);
        }

        Assert.Equal((128, 96), (analysis.Thumbnail.Width, analysis.Thumbnail.Height));
        var thumbnail = ProbeEncoded(analysis.Thumbnail);
        Assert.Equal(("png", 128, 96), (thumbnail.Format, thumbnail.Width, thumbnail.Height));
        Assert.Contains(thumbnail.Interpretation, new[] { "srgb", "b-w" });
        Assert.Equal(analysis.Info.Bands is 1 or 2 && analysis.Info.Interpretation != "cmyk" ? "b-w" : "srgb", thumbnail.Interpretation);
    }

    [Fact]
    public void Different_photos_give_different_samples_and_the_same_photo_the_same()
    {
        var a = files.NewPath(".jpg");
        var b = files.NewPath(".jpg");
        var c = files.NewPath(".png");
        TestImages.WriteJpeg(a, TestImages.Photo(11, 300, 200));
        TestImages.WriteJpeg(b, TestImages.Photo(12, 300, 200));
        TestImages.WritePng(c, TestImages.Photo(11, 300, 200));

        var sa = Engine.Analyze(a, Request(64), Ct).Samples[2].Pixels;
        var sb = Engine.Analyze(b, Request(64), Ct).Samples[2].Pixels;
        var sc = Engine.Analyze(c, Request(64), Ct).Samples[2].Pixels;

        Assert.True(MeanAbsoluteDifference(sa, sc) < 4, "same photo as JPEG and PNG");
        Assert.True(MeanAbsoluteDifference(sa, sb) > 15, "different photos");
        Assert.Equal(TestImages.Photo(11, 50, 40).Data, TestImages.Photo(11, 50, 40).Data);
    }

    [Fact]
    public void Alpha_is_flattened_on_white_in_samples_and_jpeg_thumbnails()
    {
        var analysis = Engine.Analyze(files.Path("transparent.png"), Request(64, ImageFormat.Jpeg), Ct);

        Assert.All(analysis.Samples, s => Assert.All(s.Pixels, p => Assert.True(p >= 250, $"sample pixel {p}")));
        var thumbnail = files.Decode(analysis.Thumbnail);
        Assert.Equal(3, thumbnail.Bands);
        Assert.All(thumbnail.Data, p => Assert.True(p >= 250, $"thumbnail byte {p}"));
    }

    [Fact]
    public void An_animated_gif_is_analysed_from_its_first_frame()
    {
        var analysis = Engine.Analyze(files.Path("animated.gif"), Request(64, ImageFormat.Png), Ct);

        Assert.Equal(3, analysis.Info.Frames);
        Assert.Equal((64, 48), (analysis.Thumbnail.Width, analysis.Thumbnail.Height));
        var first = files.Decode(analysis.Thumbnail);
        var (r, g, b) = At(first, 32, 24);
        Assert.True(r > 200 && g < 50 && b < 50, $"first frame is red, got {r},{g},{b}");
    }

    [Fact]
    public void A_cmyk_jpeg_comes_out_as_ordinary_srgb()
    {
        var thumbnail = Engine.Thumbnail(files.Path("cmyk.jpg"), 64, ImageFormat.Png, Limits, Ct);

        var info = ProbeEncoded(thumbnail);
        Assert.Equal(("srgb", 3), (info.Interpretation, info.Bands));
        var (r, g, b) = At(files.Decode(thumbnail), 32, 24);
        Assert.True(r > 170 && g < 90 && b < 90, $"red stays red, got {r},{g},{b}");
    }

    [Fact]
    public void Thumbnails_have_the_asked_longest_side_and_never_upscale()
    {
        var landscape = files.NewPath(".jpg");
        var portrait = files.NewPath(".jpg");
        var small = files.NewPath(".png");
        TestImages.WriteJpeg(landscape, TestImages.Photo(21, 800, 600));
        TestImages.WriteJpeg(portrait, TestImages.Photo(22, 300, 900));
        TestImages.WritePng(small, TestImages.Photo(23, 100, 80));

        var wide = Engine.Thumbnail(landscape, 256, ImageFormat.WebP, Limits, Ct);
        var tall = Engine.Thumbnail(portrait, 256, ImageFormat.WebP, Limits, Ct);
        var tiny = Engine.Thumbnail(small, 256, ImageFormat.WebP, Limits, Ct);

        Assert.Equal((256, 192), (wide.Width, wide.Height));
        Assert.Equal((85, 256), (tall.Width, tall.Height));
        Assert.Equal((100, 80), (tiny.Width, tiny.Height));
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg, "jpeg")]
    [InlineData(ImageFormat.Png, "png")]
    [InlineData(ImageFormat.WebP, "webp")]
    public void Every_output_format_decodes(ImageFormat format, string loader)
    {
        var thumbnail = Engine.Thumbnail(files.Path("rgba.png"), 100, format, Limits, Ct);

        Assert.Equal(format, thumbnail.Format);
        var info = ProbeEncoded(thumbnail);
        Assert.Equal((loader, 100, 75), (info.Format, info.Width, info.Height));
        Assert.Equal(format != ImageFormat.Jpeg, info.HasAlpha);
    }

    [Fact]
    public void Exif_orientation_6_swaps_the_display_size_and_the_thumbnail_is_rotated()
    {
        var path = files.NewPath(".jpg");
        TestImages.WriteJpeg(path, TestImages.Quadrants(300, 200), orientation: 6);

        var info = Engine.Probe(path, Limits, Ct);
        var thumbnail = Engine.Thumbnail(path, 150, ImageFormat.Png, Limits, Ct);

        Assert.Equal((6, 300, 200, 200, 300), (info.Orientation, info.Width, info.Height, info.DisplayWidth, info.DisplayHeight));
        Assert.Equal((100, 150), (thumbnail.Width, thumbnail.Height));

        // Orientation 6 is displayed rotated 90° clockwise: the stored top-left (red) lands top-right.
        var pixels = files.Decode(thumbnail);
        AssertColour(pixels, 90, 10, (255, 0, 0));
        AssertColour(pixels, 10, 10, (0, 0, 255));
        AssertColour(pixels, 90, 140, (0, 255, 0));
        AssertColour(pixels, 10, 140, (255, 255, 255));
    }

    // ---- render ----

    [Fact]
    public void Render_cuts_the_asked_rectangle()
    {
        var path = files.NewPath(".png");
        TestImages.WritePng(path, TestImages.Quadrants(200, 100));

        var red = Engine.Render(path, new RenderRequest(new PixelRect(10, 5, 80, 40), null, ImageFormat.Png, 90, Limits), Ct);
        var white = Engine.Render(path, new RenderRequest(new PixelRect(100, 50, 100, 50), null, ImageFormat.Png, 90, Limits), Ct);

        Assert.Equal((80, 40), (red.Width, red.Height));
        Assert.All(Chunks(files.Decode(red)), c => Assert.Equal((255, 0, 0), c));
        Assert.All(Chunks(files.Decode(white)), c => Assert.Equal((255, 255, 255), c));
    }

    [Fact]
    public void Render_rectangles_are_in_displayed_coordinates()
    {
        var path = files.NewPath(".jpg");
        TestImages.WriteJpeg(path, TestImages.Quadrants(300, 200), quality: 95, orientation: 6);

        // Displayed 200×300: the red quadrant is top-right.
        var red = Engine.Render(path, new RenderRequest(new PixelRect(110, 10, 80, 130), null, ImageFormat.Png, 90, Limits), Ct);

        Assert.Equal((80, 130), (red.Width, red.Height));
        AssertColour(files.Decode(red), 40, 65, (255, 0, 0));
        var outside = Assert.Throws<ImageException>(() =>
            Engine.Render(path, new RenderRequest(new PixelRect(150, 0, 100, 100), null, ImageFormat.Png, 90, Limits), Ct));
        Assert.Equal("invalid-rect", outside.Code);
        Assert.Contains("200×300", outside.Message);
    }

    [Theory]
    [InlineData(-1, 0, 10, 10)]
    [InlineData(0, 0, 0, 10)]
    [InlineData(0, 0, 201, 10)]
    [InlineData(190, 90, 11, 10)]
    public void Render_refuses_rectangles_outside_the_image(int x, int y, int w, int h)
    {
        var path = files.NewPath(".png");
        TestImages.WritePng(path, TestImages.Quadrants(200, 100));

        var error = Assert.Throws<ImageException>(() =>
            Engine.Render(path, new RenderRequest(new PixelRect(x, y, w, h), 50, ImageFormat.WebP, 80, Limits), Ct));

        Assert.Equal("invalid-rect", error.Code);
        Assert.Contains("200×100", error.Message);
    }

    [Fact]
    public void Render_resizes_to_max_size_but_never_upscales()
    {
        var path = files.NewPath(".jpg");
        TestImages.WriteJpeg(path, TestImages.Photo(31, 800, 600));

        var whole = Engine.Render(path, new RenderRequest(null, 100, ImageFormat.Jpeg, 85, Limits), Ct);
        var full = Engine.Render(path, new RenderRequest(null, null, ImageFormat.Jpeg, 85, Limits), Ct);
        var region = Engine.Render(path, new RenderRequest(new PixelRect(0, 0, 400, 200), 100, ImageFormat.WebP, 85, Limits), Ct);
        var small = Engine.Render(path, new RenderRequest(new PixelRect(0, 0, 40, 20), 100, ImageFormat.WebP, 85, Limits), Ct);

        Assert.Equal((100, 75), (whole.Width, whole.Height));
        Assert.Equal((800, 600), (full.Width, full.Height));
        Assert.Equal((100, 50), (region.Width, region.Height));
        Assert.Equal((40, 20), (small.Width, small.Height));
        Assert.Equal((100, 50), (ProbeEncoded(region).Width, ProbeEncoded(region).Height));
    }

    [Fact]
    public void Render_keeps_alpha_for_png()
    {
        var render = Engine.Render(files.Path("rgba.png"), new RenderRequest(new PixelRect(0, 0, 200, 100), 50, ImageFormat.Png, 80, Limits), Ct);

        var pixels = files.Decode(render);
        Assert.Equal((50, 25, 4), (pixels.Width, pixels.Height, pixels.Bands));
        Assert.InRange(pixels.Data[3], 195, 205);
    }

    // ---- pixels ----

    [Fact]
    public void Pixels_pad_square_centres_the_image_on_the_background()
    {
        var path = files.NewPath(".png");
        TestImages.WritePng(path, TestImages.Solid(200, 100, 255, 0, 0));

        foreach (var rect in new PixelRect?[] { null, new PixelRect(0, 0, 200, 100) })
        {
            var pixels = Engine.Pixels(path, new PixelRequest(PixelFit.PadSquare, 64, 0, 0x0000FF, false, rect, Limits), Ct);

            Assert.Equal((64, 64, 3, 64 * 64 * 3), (pixels.Width, pixels.Height, pixels.Bands, pixels.Data.Length));
            AssertColour(pixels, 32, 2, (0, 0, 255));
            AssertColour(pixels, 32, 61, (0, 0, 255));
            AssertColour(pixels, 32, 32, (255, 0, 0));
            AssertColour(pixels, 2, 32, (255, 0, 0));
        }
    }

    [Fact]
    public void Pixels_flatten_alpha_on_the_background()
    {
        var pixels = Engine.Pixels(files.Path("transparent.png"), new PixelRequest(PixelFit.None, 0, 0, 0x00FF00, false, null, Limits), Ct);

        Assert.Equal((ImageFiles.PhotoWidth, ImageFiles.PhotoHeight, 3), (pixels.Width, pixels.Height, pixels.Bands));
        AssertColour(pixels, 10, 10, (0, 255, 0));
    }

    [Theory]
    [InlineData(PixelFit.None, 0, 0, false, 320, 240)]
    [InlineData(PixelFit.Contain, 100, 0, false, 100, 75)]
    [InlineData(PixelFit.Contain, 640, 0, false, 640, 480)]
    [InlineData(PixelFit.Stretch, 33, 17, true, 33, 17)]
    [InlineData(PixelFit.Stretch, 224, 224, false, 224, 224)]
    [InlineData(PixelFit.PadSquare, 448, 0, true, 448, 448)]
    public void Pixels_have_the_asked_size_and_bands(PixelFit fit, int width, int height, bool gray, int expectedWidth, int expectedHeight)
    {
        foreach (var name in new[] { "baseline.jpg", "rgb16.png", "gray16.png", "rgba.png", "cmyk.jpg", "animated.gif" })
        {
            foreach (var rect in new PixelRect?[] { null, new PixelRect(0, 0, ImageFiles.PhotoWidth, ImageFiles.PhotoHeight) })
            {
                var pixels = Engine.Pixels(files.Path(name), new PixelRequest(fit, width, height, 0xFFFFFF, gray, rect, Limits), Ct);

                Assert.Equal((expectedWidth, expectedHeight, gray ? 1 : 3), (pixels.Width, pixels.Height, pixels.Bands));
                Assert.Equal(pixels.Width * pixels.Height * pixels.Bands, pixels.Data.Length);
            }
        }
    }

    [Theory]
    [InlineData(PixelResample.Lanczos3)]
    [InlineData(PixelResample.Cubic)]
    [InlineData(PixelResample.Linear)]
    public void Pixels_of_a_large_jpeg_decoded_at_a_reduced_size_match_a_full_decode(PixelResample resample)
    {
        // 1023×767 (odd sizes): shrink-on-load decodes at 1/2 (512×384), then resizes to 448×336 with the filter asked for.
        var path = files.NewPath(".jpg");
        TestImages.WriteJpeg(path, TestImages.Photo(7, 1023, 767));
        var direct = Engine.Pixels(path, new PixelRequest(PixelFit.Contain, 448, 0, 0xFFFFFF, false, null, Limits, resample), Ct);
        // A rectangle of the whole image takes the full-size decode and a Lanczos3 resize.
        var full = Engine.Pixels(path, new PixelRequest(PixelFit.Contain, 448, 0, 0xFFFFFF, false, new PixelRect(0, 0, 1023, 767), Limits), Ct);

        Assert.Equal((448, 336, 3), (direct.Width, direct.Height, direct.Bands));
        Assert.Equal((full.Width, full.Height), (direct.Width, direct.Height));
        var difference = direct.Data.Zip(full.Data, (a, b) => Math.Abs(a - b)).Average();
        Assert.InRange(difference, 0, 4);
    }

    [Fact]
    public void Pixels_of_a_rectangle()
    {
        var path = files.NewPath(".png");
        TestImages.WritePng(path, TestImages.Quadrants(200, 100));

        var pixels = Engine.Pixels(path, new PixelRequest(PixelFit.Stretch, 10, 10, 0, false, new PixelRect(0, 50, 100, 50), Limits), Ct);

        Assert.All(Chunks(pixels), c => Assert.Equal((0, 0, 255), c));
    }

    // ---- encode ----

    [Fact]
    public void Encode_round_trips()
    {
        var photo = TestImages.Photo(41, 64, 48);
        var gray = TestImages.ToGray(photo);
        var rgba = TestImages.WithAlpha(photo, 128);

        Assert.Equal(photo.Data, files.Decode(Engine.Encode(photo, ImageFormat.Png, 90, Ct)).Data);
        Assert.Equal(gray.Data, files.Decode(Engine.Encode(gray, ImageFormat.Png, 90, Ct)).Data);
        Assert.Equal(rgba.Data, files.Decode(Engine.Encode(rgba, ImageFormat.Png, 90, Ct)).Data);

        var jpeg = files.Decode(Engine.Encode(photo, ImageFormat.Jpeg, 95, Ct));
        Assert.Equal((64, 48, 3), (jpeg.Width, jpeg.Height, jpeg.Bands));
        Assert.True(MeanAbsoluteDifference(photo.Data, jpeg.Data) < 6);
        var webp = Engine.Encode(rgba, ImageFormat.WebP, 90, Ct);
        Assert.Equal(("webp", 64, 48, true), (ProbeEncoded(webp).Format, webp.Width, webp.Height, ProbeEncoded(webp).HasAlpha));
    }

    [Fact]
    public void Encode_refuses_a_buffer_of_the_wrong_size()
    {
        Assert.Throws<ArgumentException>(() => Engine.Encode(new RgbPixels(10, 10, 3, new byte[299]), ImageFormat.Png, 90, Ct));
        Assert.Throws<ArgumentException>(() => Engine.Encode(new RgbPixels(10, 10, 2, new byte[200]), ImageFormat.Png, 90, Ct));
    }

    // ---- cancellation and concurrency ----

    [Fact]
    public void A_cancelled_token_stops_every_call()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var path = files.Path("baseline.jpg");

        Assert.ThrowsAny<OperationCanceledException>(() => Engine.Probe(path, Limits, cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => Engine.Analyze(path, Request(64), cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => Engine.Thumbnail(path, 64, ImageFormat.WebP, Limits, cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => Engine.Render(path, new RenderRequest(null, 64, ImageFormat.Jpeg, 80, Limits), cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => Engine.Pixels(path, new PixelRequest(PixelFit.None, 0, 0, 0, false, null, Limits), cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => Engine.Encode(TestImages.Solid(4, 4, 1, 2, 3), ImageFormat.Png, 80, cts.Token));
    }

    [Fact]
    public void Twenty_images_analysed_from_four_threads_all_succeed()
    {
        var paths = Enumerable.Range(0, 20).Select(i =>
        {
            var path = files.NewPath(i % 2 == 0 ? ".jpg" : ".png");
            if (i % 2 == 0)
            {
                TestImages.WriteJpeg(path, TestImages.Photo(100 + i, 400, 300));
            }
            else
            {
                TestImages.WritePng(path, TestImages.WithAlpha(TestImages.Photo(100 + i, 300, 400), 255));
            }

            return path;
        }).ToArray();
        var results = new ImageAnalysis[paths.Length];

        Parallel.For(0, paths.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            results[i] = Engine.Analyze(paths[i], Request(160), Ct));

        Assert.All(results, r =>
        {
            Assert.Equal(160, Math.Max(r.Thumbnail.Width, r.Thumbnail.Height));
            Assert.Equal(32 * 32, r.Samples[2].Pixels.Length);
        });
        Assert.Equal(20, results.Select(r => Convert.ToHexString(r.Samples[2].Pixels)).Distinct().Count());
    }

    [Fact]
    public void Analyze_of_a_12_megapixel_jpeg()
    {
        var path = files.NewPath(".jpg");
        TestImages.WriteJpeg(path, TestImages.Photo(5, 4000, 3000), quality: 92);
        Engine.Analyze(path, Request(256), Ct); // warm-up

        var watch = Stopwatch.StartNew();
        var analysis = Engine.Analyze(path, Request(512), Ct);
        watch.Stop();

        output.WriteLine($"Analyze 4000×3000 JPEG ({new FileInfo(path).Length / 1024} KiB): {watch.ElapsedMilliseconds} ms");
        Assert.Equal((512, 384), (analysis.Thumbnail.Width, analysis.Thumbnail.Height));
    }

    // ---- helpers ----

    private static AnalyzeRequest Request(int size, ImageFormat format = ImageFormat.WebP) => new(size, format, 80, HashSamples, Limits);

    private ImageInfo ProbeEncoded(EncodedImage encoded)
    {
        var path = files.NewPath("." + encoded.Extension);
        File.WriteAllBytes(path, encoded.Data);
        return Engine.Probe(path, Limits, Ct);
    }

    private static (int R, int G, int B) At(RgbPixels pixels, int x, int y)
    {
        var offset = ((y * pixels.Width) + x) * pixels.Bands;
        return pixels.Bands >= 3
            ? (pixels.Data[offset], pixels.Data[offset + 1], pixels.Data[offset + 2])
            : (pixels.Data[offset], pixels.Data[offset], pixels.Data[offset]);
    }

    private static void AssertColour(RgbPixels pixels, int x, int y, (int R, int G, int B) expected)
    {
        var actual = At(pixels, x, y);
        Assert.True(
            Math.Abs(actual.R - expected.R) < 40 && Math.Abs(actual.G - expected.G) < 40 && Math.Abs(actual.B - expected.B) < 40,
            $"pixel ({x},{y}) is {actual}, expected about {expected}");
    }

    private static IEnumerable<(int R, int G, int B)> Chunks(RgbPixels pixels)
    {
        for (var y = 0; y < pixels.Height; y++)
        {
            for (var x = 0; x < pixels.Width; x++)
            {
                yield return At(pixels, x, y);
            }
        }
    }

    private static double MeanAbsoluteDifference(byte[] a, byte[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => Math.Abs(x - y)).Average();
    }
}
