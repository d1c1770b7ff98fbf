using Trove.Testing;

namespace Trove.Imaging.Vips.Tests;

/// <summary>The binding itself: errors, kill/cancellation, metadata.</summary>
[Collection(ImageFilesCollection.Name)]
public sealed class VipsBindingTests(ImageFiles files)
{
    [Fact]
    public void An_unknown_operation_fails_with_context_and_the_libvips_text_and_clears_the_buffer()
    {
        _ = files.Engine;

        var first = Assert.Throws<VipsException>(() => VipsOperation.New("no_such_operation"));
        var second = Assert.Throws<VipsException>(() => VipsOperation.New("another_missing_one"));

        Assert.Equal("no_such_operation", first.Context);
        Assert.Contains("no_such_operation", first.VipsMessage);
        Assert.DoesNotContain("no_such_operation", second.VipsMessage);
        Assert.StartsWith("another_missing_one: ", second.Message);
    }

    [Fact]
    public void An_unknown_argument_is_refused()
    {
        using var image = VipsImage.FromPixels(TestImages.Solid(4, 4, 1, 2, 3));

        var error = Assert.Throws<VipsException>(() => image.Call("copy", new VipsOption("no-such-argument", 1)));

        Assert.Contains("no-such-argument", error.Message);
    }

    [Fact]
    public void A_failed_build_reports_what_libvips_said()
    {
        using var image = VipsImage.FromPixels(TestImages.Solid(4, 4, 1, 2, 3));

        var error = Assert.Throws<VipsException>(() => image.Call("extract_band", new VipsOption("band", 7)));

        Assert.Equal("extract_band", error.Context);
        Assert.NotEqual("unknown libvips error", error.VipsMessage);
    }

    [Fact]
    public void The_kill_flag_stops_a_computation()
    {
        using var image = VipsImage.FromPixels(TestImages.Photo(1, 200, 200));
        using var pipeline = image.Call("resize", new VipsOption("scale", 3.0));
        using var target = pipeline.Call("copy");

        target.SetKill(true);
        var error = Assert.Throws<VipsException>(() => target.CopyMemory(CancellationToken.None));

        Assert.Contains("killed", error.VipsMessage);
    }

    [Fact]
    public void Cancelling_while_a_step_runs_kills_it_and_throws_operation_cancelled()
    {
        using var image = VipsImage.FromPixels(TestImages.Photo(2, 200, 200));
        using var pipeline = image.Call("resize", new VipsOption("scale", 3.0));
        using var cts = new CancellationTokenSource();

        // The token is cancelled after the step started (inside it), so only libvips' kill flag can stop it.
        Assert.Throws<OperationCanceledException>(() => pipeline.Compute(
            "test",
            target =>
            {
                cts.Cancel();
                return target.CopyMemory(CancellationToken.None);
            },
            cts.Token));

        // The shared pipeline was not killed: only the private copy was.
        using var memory = pipeline.CopyMemory(CancellationToken.None);
        Assert.Equal(600, memory.Width);
    }

    [Fact]
    public void Metadata_round_trips_through_a_copy()
    {
        using var image = VipsImage.FromPixels(TestImages.Solid(8, 4, 10, 20, 30));
        using var oriented = image.WithInt("orientation", 6);

        Assert.Null(image.GetInt("orientation"));
        Assert.Equal(6, oriented.GetInt("orientation"));
        Assert.Equal(("srgb", "uchar", 3, false), (image.Interpretation, image.BandFormat, image.Bands, image.HasAlpha));
        Assert.Equal(TestImages.Solid(8, 4, 10, 20, 30).Data, oriented.ToPixels().Data);
    }

    [Theory]
    [InlineData("jpegload", "jpeg")]
    [InlineData("pngload_source", "png")]
    [InlineData("heifload_buffer", "heif")]
    [InlineData("gifload", "gif")]
    [InlineData("jxlload", "jxl")]
    public void Loader_nicknames_map_to_format_families(string loader, string format) =>
        Assert.Equal(format, VipsImageEngine.FormatOf(loader));

    [Fact]
    public void Crc32_matches_the_reference_value() =>
        Assert.Equal(0xCBF43926u, TestImages.Crc32("123456789"u8));
}
