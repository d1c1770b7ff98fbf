using System.Text.Json.Nodes;
using Trove.Application;
using Trove.Application.Inference;
using Trove.Application.Ports;
using Trove.Application.Restoration;
using Trove.Domain;
using Trove.Testing;

namespace Trove.Inference.Onnx.Tests;

/// <summary>The tiled upscaler on real ONNX Runtime with generated image-to-image models (tests/Shared/OnnxModels.cs).</summary>
public sealed class TiledUpscalerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private IInferenceSession Load(string name, byte[] model) => Ort.Engine.Load(_folder.Write(name, model), new InferenceSessionOptions(1));

    private static UpscalerParameters Params(int scale = 2, int tile = 64, int overlap = 8, int pad = 1) =>
        UpscalerParameters.Default with { Scale = scale, TileSize = tile, TileOverlap = overlap, Pad = pad };

    /// <summary>Output pixel (x, y) = input pixel (⌊x/s⌋, ⌊y/s⌋), every band.</summary>
    private static RgbPixels Nearest(RgbPixels image, int s)
    {
        var (w, h, bands) = (image.Width * s, image.Height * s, image.Bands);
        var data = new byte[w * h * bands];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                Array.Copy(image.Data, ((y / s) * image.Width + (x / s)) * bands, data, (y * w + x) * bands, bands);
            }
        }

        return new RgbPixels(w, h, bands, data);
    }

    private static void AssertPixelsEqual(RgbPixels expected, RgbPixels actual)
    {
        Assert.Equal((expected.Width, expected.Height, expected.Bands), (actual.Width, actual.Height, actual.Bands));
        for (var i = 0; i < expected.Data.Length; i++)
        {
            if (expected.Data[i] != actual.Data[i])
            {
                var pixel = i / expected.Bands;
                Assert.Fail($"pixel ({pixel % expected.Width}, {pixel / expected.Width}) band {i % expected.Bands}: expected {expected.Data[i]}, got {actual.Data[i]}");
            }
        }
    }

    [Theory]
    [InlineData(2, 64, 8, 1, 257, 131)]
    [InlineData(2, 32, 0, 1, 100, 70)]
    [InlineData(2, 48, 23, 8, 257, 131)]
    [InlineData(2, 256, 16, 1, 50, 40)]
    [InlineData(2, 32, 4, 1, 1, 1)]
    [InlineData(2, 32, 4, 4, 40, 1500)]
    [InlineData(4, 64, 16, 1, 131, 97)]
    [InlineData(4, 32, 4, 4, 33, 200)]
    public async Task Nearest_model_through_tiles_equals_a_nearest_upscale_of_the_whole_image(int scale, int tile, int overlap, int pad, int width, int height)
    {
        using var session = Load("nearest.onnx", OnnxModels.NearestUpscaler(scale));
        var image = TestImages.Photo(seed: width + height, width, height);
        var p = Params(scale, tile, overlap, pad);
        Assert.True(TiledUpscaler.Plan(width, height, p).Tiles > 1 || width * height < tile * tile);

        var result = await TiledUpscaler.UpscaleAsync(session, image, p, null, CancellationToken.None);

        AssertPixelsEqual(Nearest(image, scale), result);
    }

    [Fact]
    public async Task Gray_comes_back_gray_and_alpha_is_resized_beside_the_model()
    {
        using var session = Load("nearest.onnx", OnnxModels.NearestUpscaler(2));
        var photo = TestImages.Photo(3, 90, 70);
        var gray = TestImages.ToGray(photo);
        var alpha = TestImages.WithAlpha(photo, 77);

        AssertPixelsEqual(Nearest(gray, 2), await TiledUpscaler.UpscaleAsync(session, gray, Params(), null, CancellationToken.None));
        var result = await TiledUpscaler.UpscaleAsync(session, alpha, Params(), null, CancellationToken.None);
        AssertPixelsEqual(Nearest(alpha, 2), result); // the colour from the model, a constant alpha resized to itself
    }

    [Fact]
    public async Task A_flat_colour_comes_out_flat_across_every_seam()
    {
        using var session = Load("nearest.onnx", OnnxModels.NearestUpscaler(2));
        var image = TestImages.Solid(301, 203, 37, 150, 222);

        var result = await TiledUpscaler.UpscaleAsync(session, image, Params(tile: 40, overlap: 19), null, CancellationToken.None);

        Assert.Equal((602, 406), (result.Width, result.Height));
        for (var i = 0; i < result.Data.Length; i += 3)
        {
            Assert.True(result.Data[i] == 37 && result.Data[i + 1] == 150 && result.Data[i + 2] == 222, $"pixel {i / 3}: {result.Data[i]},{result.Data[i + 1]},{result.Data[i + 2]}");
        }
    }

    [Fact]
    public async Task Conv_model_through_tiles_matches_one_run_over_the_whole_image_away_from_its_border()
    {
        // The model's receptive field (4 layers of 3×3: 4 px) fits in half the overlap, so every tile sees what a whole-image
        // run sees: tiling and blending must not change a pixel by more than rounding, except near the image border,
        // where the whole-image run sees the convolutions' zero padding and the tiles see reflected context.
        using var session = Load("conv.onnx", OnnxModels.ConvUpscaler(channels: 8));
        var image = TestImages.Photo(11, 150, 110);
        var direct = DirectRun(session, image, 2);

        var tiled = await TiledUpscaler.UpscaleAsync(session, image, Params(tile: 48, overlap: 10), null, CancellationToken.None);

        var worst = 0;
        for (var y = 10; y < tiled.Height - 10; y++)
        {
            for (var x = 10; x < tiled.Width - 10; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var i = (y * tiled.Width + x) * 3 + c;
                    worst = Math.Max(worst, Math.Abs(tiled.Data[i] - direct[i]));
                }
            }
        }

        Assert.True(worst <= 1, $"tiled and whole-image results differ by {worst} levels");
    }

    private static byte[] DirectRun(IInferenceSession session, RgbPixels image, int s)
    {
        var plane = image.Width * image.Height;
        var input = new float[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                input[c * plane + i] = image.Data[i * 3 + c] / 255f;
            }
        }

        var output = session.Run([new InputTensor(session.Signature.Inputs[0].Name, input, [1, 3, image.Height, image.Width])], CancellationToken.None)[0];
        var outPlane = plane * s * s;
        var bytes = new byte[3 * outPlane];
        for (var i = 0; i < outPlane; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                bytes[i * 3 + c] = (byte)Math.Clamp(MathF.Round(output.Data[c * outPlane + i] * 255f), 0, 255);
            }
        }

        return bytes;
    }

    [Fact]
    public async Task A_horizontal_gradient_has_no_step_at_the_tile_borders()
    {
        using var session = Load("conv.onnx", OnnxModels.ConvUpscaler(channels: 8));
        const int Width = 320, Height = 48;
        var data = new byte[Width * Height * 3];
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                data.AsSpan((y * Width + x) * 3, 3).Fill((byte)(20 + x * 200 / Width));
            }
        }

        var image = new RgbPixels(Width, Height, 3, data);
        var p = Params(tile: 64, overlap: 8);
        int[] Seams(UpscalerParameters q) => [.. TiledUpscaler.Plan(Width, Height, q).Columns.Skip(1).Select(c => c.Start * 2)];
        Assert.True(Seams(p).Length >= 4);

        var (atSeams, elsewhere) = Steps(await TiledUpscaler.UpscaleAsync(session, image, p, null, CancellationToken.None), Seams(p));
        Assert.True(atSeams <= elsewhere + 1.0, $"column step at the seams {atSeams:F2}, elsewhere at most {elsewhere:F2}");

        // Control: without context and blending (overlap 0) the same measure sees the seams.
        var cut = p with { TileOverlap = 0 };
        var (cutSeams, cutElsewhere) = Steps(await TiledUpscaler.UpscaleAsync(session, image, cut, null, CancellationToken.None), Seams(cut));
        Assert.True(cutSeams > cutElsewhere + 1.0, $"without overlap: at the seams {cutSeams:F2}, elsewhere {cutElsewhere:F2}");
    }

    /// <summary>
    /// The largest mean |difference between columns two apart| (the conv model's sub-pixel pattern repeats every two
    /// columns) within 16 output columns of a seam, and the largest elsewhere (away from the border).
    /// </summary>
    private static (double AtSeams, double Elsewhere) Steps(RgbPixels result, int[] seams)
    {
        double atSeams = 0, elsewhere = 0;
        for (var x = 16; x < result.Width - 18; x++)
        {
            double sum = 0;
            for (var y = 8; y < result.Height - 8; y++)
            {
                sum += Math.Abs(result.Data[(y * result.Width + x + 2) * 3 + 1] - result.Data[(y * result.Width + x) * 3 + 1]);
            }

            var step = sum / (result.Height - 16);
            if (seams.Any(s => Math.Abs(s - x) <= 16))
                atSeams = Math.Max(atSeams, step);
            else
                elsewhere = Math.Max(elsewhere, step);
        }

        return (atSeams, elsewhere);
    }

    [Fact]
    public async Task A_model_whose_output_is_not_scale_times_the_tile_is_a_mismatch_naming_the_shapes()
    {
        using var session = Load("wrong.onnx", OnnxModels.NearestUpscaler(3));
        var image = TestImages.Photo(5, 40, 40);

        var error = await Assert.ThrowsAsync<TroveException>(() => TiledUpscaler.UpscaleAsync(session, image, Params(tile: 64, overlap: 8), null, CancellationToken.None));

        Assert.Equal("model-output-mismatch", error.Code);
        // The window is 40 + 2 × 8 = 56: the model made 168 of it where a 2× model makes 112.
        Assert.Contains("[1,3,56,56]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[1,3,168,168]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[1,3,112,112]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_without_an_image_input_is_refused_before_running()
    {
        using var session = Load("flat.onnx", OnnxModels.Identity([-1, 10]));

        var error = await Assert.ThrowsAsync<TroveException>(() => TiledUpscaler.UpscaleAsync(session, TestImages.Photo(1, 8, 8), Params(), null, CancellationToken.None));

        Assert.Equal("model-input-mismatch", error.Code);
        Assert.Contains("[N,3,H,W]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_image_over_maxInputPixels_is_refused_naming_the_limit_and_the_size()
    {
        using var session = new CountingSession(Load("nearest.onnx", OnnxModels.NearestUpscaler(2)));

        var error = await Assert.ThrowsAsync<TroveException>(() =>
            TiledUpscaler.UpscaleAsync(session, TestImages.Photo(1, 120, 90), Params() with { MaxInputPixels = 10_000 }, null, CancellationToken.None));

        Assert.Equal("image-too-large", error.Code);
        Assert.Contains("120×90", error.Message, StringComparison.Ordinal);
        Assert.Contains("10,000", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, session.Runs);
        var fits = await TiledUpscaler.UpscaleAsync(session, TestImages.Photo(1, 100, 100), Params() with { MaxInputPixels = 10_000 }, null, CancellationToken.None);
        Assert.Equal(200, fits.Width);
    }

    [Fact]
    public async Task Progress_is_reported_after_every_tile()
    {
        using var session = Load("nearest.onnx", OnnxModels.NearestUpscaler(2));
        var p = Params(tile: 48, overlap: 8);
        var plan = TiledUpscaler.Plan(250, 130, p);
        var progress = new ListProgress();

        await TiledUpscaler.UpscaleAsync(session, TestImages.Photo(2, 250, 130), p, progress, CancellationToken.None);

        Assert.Equal(8 * 5, plan.Tiles);
        Assert.Equal(Enumerable.Range(1, plan.Tiles).Select(i => new ProgressInfo("Upscaling", i, plan.Tiles)), progress.Reports);
    }

    [Fact]
    public async Task Cancelling_stops_between_tiles_and_reaches_the_running_inference()
    {
        using var session = new CountingSession(Load("nearest.onnx", OnnxModels.NearestUpscaler(2)));
        using var cts = new CancellationTokenSource();
        var progress = new ListProgress(report =>
        {
            if (report.Done == 3)
                cts.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            TiledUpscaler.UpscaleAsync(session, TestImages.Photo(2, 250, 130), Params(tile: 48, overlap: 8), progress, cts.Token));

        Assert.Equal(3, session.Runs);
        Assert.All(session.Tokens, t => Assert.Equal(cts.Token, t));
    }

    [Theory]
    [InlineData("nhwc", "rgb", "0-1", 0.2f, 0f, 0f, 0)]
    [InlineData("nchw", "bgr", "0-1", 0.2f, 0f, 0f, 2)]
    [InlineData("nchw", "rgb", "0-255", 51f, 0f, 0f, 0)]
    [InlineData("nchw", "rgb", "-1-1", 0.4f, 0f, 0f, 0)]
    [InlineData("nhwc", "bgr", "0-255", 0f, 0f, 51f, 0)]
    public async Task Layouts_channel_orders_and_ranges_round_trip(string layout, string channels, string range, float o0, float o1, float o2, int brightened)
    {
        // The model adds 51 levels (in its own units) to one of its channels: which colour brightens, and by how much,
        // shows that the layout, channel order and range are applied on the way in and undone on the way out.
        var nhwc = layout == "nhwc";
        using var session = Load("shift.onnx", OnnxModels.NearestUpscaler(2, nhwc: nhwc, offsets: [o0, o1, o2]));
        var p = UpscalerParameters.Parse(
            new JsonObject { ["layout"] = layout, ["channels"] = channels, ["range"] = range, ["tileSize"] = 48, ["tileOverlap"] = 6 }, "shift");
        var image = TestImages.Photo(9, 101, 77);

        var result = await TiledUpscaler.UpscaleAsync(session, image, p, null, CancellationToken.None);

        var expected = Nearest(image, 2);
        for (var i = brightened; i < expected.Data.Length; i += 3)
        {
            expected.Data[i] = (byte)Math.Min(255, expected.Data[i] + 51);
        }

        AssertPixelsEqual(expected, result);
    }

    [Fact]
    public void The_float_buffers_are_bounded_by_tile_size_times_width_not_by_the_image()
    {
        var p = UpscalerParameters.Default; // 2×, tiles of 256 with 16 of overlap
        var photo = TiledUpscaler.Plan(4000, 3000, p);
        var tall = TiledUpscaler.Plan(4000, 30_000, p);

        // 3 colours × output width × output rows of one tile window (2 × 256), whatever the height.
        Assert.All([photo, tall], plan => Assert.InRange(plan.AccumulatorFloats, 3L * 8000 * 2 * 200, 3L * 8000 * 2 * 256));
        Assert.All([photo, tall], plan => Assert.Equal(plan.AccumulatorFloats, plan.PeakFloatBuffer));
        Assert.True(photo.PeakFloatBuffer * 10 < 3L * 8000 * 6000, "the peak float buffer is a large part of the output");
        Assert.InRange(photo.TileOutputFloats, 1, 3L * 256 * 256 * 4);
        Assert.True(photo.PeakBytes(3) < 8000L * 6000 * 3 + 60_000_000, $"peak {photo.PeakBytes(3)} bytes");
    }

    [Fact]
    public void Tiles_cover_the_image_evenly_with_their_context_and_pad_multiple()
    {
        var plan = TiledUpscaler.Plan(257, 131, Params(tile: 64, overlap: 8, pad: 8));

        Assert.Equal(257, plan.Columns.Sum(c => c.End - c.Start));
        Assert.Equal(0, plan.Columns[0].Start);
        Assert.All(plan.Columns.Zip(plan.Columns.Skip(1)), pair => Assert.Equal(pair.First.End, pair.Second.Start));
        Assert.True(plan.Columns.Max(c => c.End - c.Start) - plan.Columns.Min(c => c.End - c.Start) <= 1);
        Assert.All(plan.Columns.Concat(plan.Rows), s =>
        {
            Assert.Equal(s.Start - 8, s.From);
            Assert.Equal(s.End - s.Start + 16, s.Length);
            Assert.True(s.Length <= 64);
            Assert.Equal(0, s.Padded % 8);
            Assert.InRange(s.Padded - s.Length, 0, 7);
        });
    }

    [Fact]
    public void Parameters_default_to_a_2x_model_in_nchw_0_1_rgb()
    {
        var p = UpscalerParameters.Parse(null, "sr");
        Assert.Equal(UpscalerParameters.Default, p);
        Assert.Equal((2, 256, 16, TensorLayout.Nchw, PixelRange.ZeroToOne, false, 40_000_000L, (string?)null, 1),
            (p.Scale, p.TileSize, p.TileOverlap, p.Layout, p.Range, p.Bgr, p.MaxInputPixels, p.Prompt, p.Pad));
        Assert.Equal(p, UpscalerParameters.Parse([], "sr"));

        var all = UpscalerParameters.Parse(JsonNode.Parse("""
            { "scale": 4, "tileSize": 128, "tileOverlap": 12, "layout": "NHWC", "range": "-1-1", "channels": "bgr",
              "maxInputPixels": 1000000, "prompt": " sharpen ", "pad": 8 }
            """)!.AsObject(), "sr");
        Assert.Equal(new UpscalerParameters(4, 128, 12, TensorLayout.Nhwc, PixelRange.MinusOneToOne, true, 1_000_000, "sharpen", 8), all);
        Assert.Equal(15, UpscalerParameters.Parse(new JsonObject { ["tileSize"] = 32 }, "sr").TileOverlap);
    }

    [Theory]
    [InlineData("""{ "scale": 3 }""", "scale")]
    [InlineData("""{ "scale": "2" }""", "scale")]
    [InlineData("""{ "tileSize": 16 }""", "tileSize")]
    [InlineData("""{ "tileSize": 4096 }""", "tileSize")]
    [InlineData("""{ "tileSize": 256, "tileOverlap": 128 }""", "tileOverlap")]
    [InlineData("""{ "tileOverlap": -1 }""", "tileOverlap")]
    [InlineData("""{ "layout": "chw" }""", "layout")]
    [InlineData("""{ "range": "0-2" }""", "range")]
    [InlineData("""{ "channels": "rgba" }""", "channels")]
    [InlineData("""{ "maxInputPixels": 0 }""", "maxInputPixels")]
    [InlineData("""{ "prompt": " " }""", "prompt")]
    [InlineData("""{ "pad": 0 }""", "pad")]
    [InlineData("""{ "pad": 2.5 }""", "pad")]
    [InlineData("""{ "tilesize": 256 }""", "tilesize")]
    public void Bad_parameters_are_refused_naming_the_field(string json, string field)
    {
        var error = Assert.Throws<TroveUsageException>(() => UpscalerParameters.Parse(JsonNode.Parse(json)!.AsObject(), "sr"));

        Assert.Equal("model-parameters-invalid", error.Code);
        Assert.StartsWith($"Model 'sr': parameters.{field} ", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Collects reports synchronously (System.Progress posts them later, on the pool).</summary>
    private sealed class ListProgress(Action<ProgressInfo>? onReport = null) : IProgress<ProgressInfo>
    {
        public List<ProgressInfo> Reports { get; } = [];

        public void Report(ProgressInfo value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    /// <summary>The real session, counting its runs and recording the tokens they got.</summary>
    private sealed class CountingSession(IInferenceSession inner) : IInferenceSession
    {
        public int Runs { get; private set; }

        public List<CancellationToken> Tokens { get; } = [];

        public ModelSignature Signature => inner.Signature;

        public IReadOnlyList<OutputTensor> Run(IReadOnlyList<InputTensor> inputs, CancellationToken ct)
        {
            Runs++;
            Tokens.Add(ct);
            return inner.Run(inputs, ct);
        }

        public void Dispose() => inner.Dispose();
    }
}
