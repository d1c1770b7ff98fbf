using Trove.Application.Ports;
using Trove.Application.Tagging;
using Trove.Domain;

namespace Trove.Application.Tests.Tagging;

public sealed class TaggerPreprocessingTests
{
    // 2×2 RGB: (10,20,30) (40,50,60) / (70,80,90) (100,110,120)
    private static readonly RgbPixels Tiny = new(2, 2, 3, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);

    [Fact]
    public void Wd14_defaults_are_448_white_pad_bgr_bytes_nhwc()
    {
        var p = TaggerPreprocessing.Wd14;
        Assert.Equal((448, true, 0xFFFFFF, ChannelOrder.Bgr, TensorLayout.Nhwc, PixelScale.Byte), (p.Size, p.PadToSquare, p.Background, p.Channels, p.Layout, p.Scale));
        Assert.Null(p.Mean);
        Assert.Equal([2L, 448, 448, 3], p.InputShape(2));
        Assert.Equal(3 * 448 * 448, p.TensorLength);
        var request = p.PixelRequest(ImageLimits.Default);
        // Fitted inside the square by the engine (bicubic, like WD14's reference); the padding goes into the tensor.
        Assert.Equal((PixelFit.Contain, 448, 448, 0xFFFFFF, false, PixelResample.Cubic), (request.Fit, request.Width, request.Height, request.Background, request.Gray, request.Resample));
        Assert.Equal(PixelFit.Stretch, (p with { PadToSquare = false }).PixelRequest(ImageLimits.Default).Fit);
        Assert.Equal([1L, 3, 448, 448], (p with { Layout = TensorLayout.Nchw }).InputShape(1));
    }

    [Fact]
    public void Nhwc_bgr_bytes()
    {
        var t = TaggerTensors.FromPixels(Tiny, new TaggerPreprocessing { Size = 2 });
        Assert.Equal([30f, 20, 10, 60, 50, 40, 90, 80, 70, 120, 110, 100], t);
    }

    [Fact]
    public void Smaller_pixels_are_centred_on_the_background_like_libvips_gravity()
    {
        // 2×1 into 3×3: columns 0–1 of the middle row ((3 - 2) / 2 = 0, (3 - 1) / 2 = 1), the rest background.
        var wide = new RgbPixels(2, 1, 3, [10, 20, 30, 40, 50, 60]);
        var p = new TaggerPreprocessing { Size = 3, Background = 0x010203, Channels = ChannelOrder.Rgb };
        var bg = new[] { 1f, 2, 3 };
        float[] expected = [.. bg, .. bg, .. bg, 10, 20, 30, 40, 50, 60, .. bg, .. bg, .. bg, .. bg];
        Assert.Equal(expected, TaggerTensors.FromPixels(wide, p));

        // The same in NCHW, BGR: channel planes B, G, R of 9 values each.
        var nchw = TaggerTensors.FromPixels(wide, p with { Channels = ChannelOrder.Bgr, Layout = TensorLayout.Nchw });
        Assert.Equal([3f, 3, 3, 30, 60, 3, 3, 3, 3], nchw[..9]);
        Assert.Equal([1f, 1, 1, 10, 40, 1, 1, 1, 1], nchw[18..]);
    }

    [Fact]
    public void Nhwc_rgb_bytes()
    {
        var t = TaggerTensors.FromPixels(Tiny, new TaggerPreprocessing { Size = 2, Channels = ChannelOrder.Rgb });
        Assert.Equal([10f, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120], t);
    }

    [Fact]
    public void Nchw_rgb_unit_scale()
    {
        var t = TaggerTensors.FromPixels(Tiny, new TaggerPreprocessing { Size = 2, Channels = ChannelOrder.Rgb, Layout = TensorLayout.Nchw, Scale = PixelScale.Unit });
        float U(int v) => (float)(v / 255.0);
        Assert.Equal([U(10), U(40), U(70), U(100), U(20), U(50), U(80), U(110), U(30), U(60), U(90), U(120)], t);
    }

    [Fact]
    public void Nchw_bgr_bytes_puts_the_blue_plane_first()
    {
        var t = TaggerTensors.FromPixels(Tiny, new TaggerPreprocessing { Size = 2, Layout = TensorLayout.Nchw });
        Assert.Equal([30f, 60, 90, 120, 20, 50, 80, 110, 10, 40, 70, 100], t);
    }

    [Fact]
    public void Mean_and_std_are_given_in_rgb_order_and_applied_after_scaling()
    {
        var px = new RgbPixels(1, 1, 3, [255, 0, 51]);
        var p = new TaggerPreprocessing { Size = 1, Scale = PixelScale.Unit, Mean = [0.5f, 0.5f, 0.25f], Std = [0.5f, 0.25f, 0.5f] };

        // BGR order out: B = (0.2 − 0.25) / 0.5, G = (0 − 0.5) / 0.25, R = (1 − 0.5) / 0.5.
        var t = TaggerTensors.FromPixels(px, p);
        Assert.Equal([(float)((51 / 255.0 - 0.25) / 0.5), -2f, 1f], t);

        var rgb = TaggerTensors.FromPixels(px, p with { Channels = ChannelOrder.Rgb, Scale = PixelScale.Byte, Mean = [127.5f, 0, 1], Std = [127.5f, 1, 2] });
        Assert.Equal([1f, 0f, 25f], rgb);
    }

    [Fact]
    public void Gray_and_rgba_pixels_are_read_as_rgb()
    {
        var gray = TaggerTensors.FromPixels(new RgbPixels(2, 2, 1, [7, 200, 0, 255]), new TaggerPreprocessing { Size = 2 });
        Assert.Equal([7f, 7, 7, 200, 200, 200, 0, 0, 0, 255, 255, 255], gray);

        var rgba = TaggerTensors.FromPixels(new RgbPixels(1, 1, 4, [1, 2, 3, 99]), new TaggerPreprocessing { Size = 1, Channels = ChannelOrder.Rgb });
        Assert.Equal([1f, 2, 3], rgba);
    }

    [Fact]
    public void Writes_into_a_slice_of_a_batch_buffer()
    {
        var p = new TaggerPreprocessing { Size = 2 };
        var batch = new float[2 * p.TensorLength];
        TaggerTensors.Write(Tiny, p, batch.AsSpan(p.TensorLength));
        Assert.All(batch[..p.TensorLength], v => Assert.Equal(0f, v));
        Assert.Equal(TaggerTensors.FromPixels(Tiny, p), batch[p.TensorLength..]);
    }

    [Fact]
    public void Wrong_sizes_and_settings_are_refused()
    {
        var ex = Assert.Throws<TroveException>(() => TaggerTensors.FromPixels(Tiny, new TaggerPreprocessing { Size = 3, PadToSquare = false }));
        Assert.Equal("preprocessing-size", ex.Code);
        Assert.Contains("3×3", ex.Message, StringComparison.Ordinal);
        var tooBig = Assert.Throws<TroveException>(() => TaggerTensors.FromPixels(Tiny, new TaggerPreprocessing { Size = 1 }));
        Assert.Equal("preprocessing-size", tooBig.Code);

        var bad = new TaggerPreprocessing { Size = 0, Mean = [1f], Std = [1f, 0f, 1f], Background = -1 };
        Assert.Equal(4, bad.Validate().Count);
        var usage = Assert.Throws<TroveUsageException>(bad.EnsureValid);
        Assert.Equal("preprocessing-invalid", usage.Code);
        Assert.Empty(TaggerPreprocessing.Wd14.Validate());
    }

    [Fact]
    public void A_real_image_file_is_padded_to_a_square_on_white_and_resized()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("wide.png");
        Trove.Testing.TestImages.WritePng(path, Trove.Testing.TestImages.Solid(64, 32, 255, 0, 0));
        var p = new TaggerPreprocessing { Size = 16 };

        var t = TaggerTensors.FromFile(TestLibrary.Vips.Value, path, p, ImageLimits.Default, TestLibrary.Ct);

        Assert.Equal(16 * 16 * 3, t.Length);
        float[] Pixel(int x, int y) => t.AsSpan(((y * 16) + x) * 3, 3).ToArray();
        Assert.Equal([255f, 255, 255], Pixel(0, 0));   // padding above: white
        Assert.Equal([255f, 255, 255], Pixel(15, 15)); // padding below: white
        Assert.Equal([0f, 0, 255], Pixel(8, 8));       // the red image in the middle, as B, G, R
    }
}
