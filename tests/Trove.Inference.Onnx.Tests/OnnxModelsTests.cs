using Trove.Application.Inference;
using Trove.Testing;

namespace Trove.Inference.Onnx.Tests;

/// <summary>The generated test models (tests/Shared/OnnxModels.cs) load and compute what they promise in real ONNX Runtime.</summary>
public sealed class OnnxModelsTests : IDisposable
{
    private static readonly string[] Labels = ["red", "green", "blue", "bright", "dark", "sometimes"];
    private static readonly ColourRule[] Rules =
        [ColourRule.Red, ColourRule.Green, ColourRule.Blue, ColourRule.Bright, ColourRule.Dark, ColourRule.Constant(0.42f)];

    private static readonly (byte R, byte G, byte B)[] Colours =
        [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0), (255, 255, 0), (128, 128, 128), (200, 40, 30)];

    private readonly string _folder = Directory.CreateTempSubdirectory("trove-onnxmodels-").FullName;
    private readonly IInferenceEngine _engine = OnnxInferenceEngine.Create(new OnnxOptions());

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private IInferenceSession Load(string name, byte[] model, int threads = 0)
    {
        Assert.True(_engine.Status.Available, _engine.Status.Message);
        return _engine.Load(OnnxModels.Write(Path.Combine(_folder, name), model), new InferenceSessionOptions(threads));
    }

    [Fact]
    public void Tagger_scores_a_red_image_red_and_nothing_else()
    {
        using var session = Load("tagger.onnx", OnnxModels.Tagger(Labels, Rules));
        var (data, shape) = OnnxModels.SolidColours([(255, 0, 0), (0, 255, 0), (255, 255, 255)]);

        var output = Assert.Single(session.Run([new InputTensor("input_1", data, shape)], CancellationToken.None));

        Assert.Equal("predictions_sigmoid", output.Name);
        Assert.Equal([3L, Labels.Length], output.Shape);
        var red = output.Data.AsSpan(0, Labels.Length).ToArray();
        Assert.True(red[0] > 0.9f, $"red scored {red[0]}");
        Assert.All(red[1..5], score => Assert.True(score < 0.1f, $"red image: {string.Join(", ", red)}"));
        Assert.Equal(0.42f, red[5], 0.0001f);
        Assert.True(output.Data[Labels.Length + 1] > 0.9f, "green image scores green");
        Assert.True(output.Data[2 * Labels.Length + 3] > 0.9f, "white image scores bright");
        Assert.True(output.Data[2 * Labels.Length] < 0.1f, "white image does not score red");
    }

    [Theory]
    [InlineData(false, true, 255f, 448)]
    [InlineData(true, false, 1f, 64)]
    [InlineData(true, true, 255f, 32)]
    [InlineData(false, false, 1f, 16)]
    public void Tagger_scores_are_the_rules_scores_in_every_layout(bool nchw, bool bgr, float scale, int size)
    {
        using var session = Load("tagger.onnx", OnnxModels.Tagger(Labels, Rules, nchw, size, "images", "scores", bgr, scale));
        var (data, shape) = OnnxModels.SolidColours(Colours, size, nchw, bgr, scale);

        var output = Assert.Single(session.Run([new InputTensor("images", data, shape)], CancellationToken.None));

        Assert.Equal([Colours.Length, (long)Labels.Length], output.Shape);
        for (var n = 0; n < Colours.Length; n++)
        {
            var (r, g, b) = Colours[n];
            for (var k = 0; k < Labels.Length; k++)
            {
                var expected = Rules[k].Score(r / 255f, g / 255f, b / 255f);
                Assert.Equal(expected, output.Data[n * Labels.Length + k], 0.0001f);
            }
        }
    }

    [Fact]
    public void Tagger_declares_the_wd14_signature_with_a_dynamic_batch()
    {
        using var nhwc = Load("nhwc.onnx", OnnxModels.Tagger(Labels, Rules));
        using var nchw = Load("nchw.onnx", OnnxModels.Tagger(Labels, Rules, nchw: true, size: 224));

        var input = Assert.Single(nhwc.Signature.Inputs);
        var output = Assert.Single(nhwc.Signature.Outputs);
        Assert.Equal(new TensorInfo("input_1", TensorElementType.Float32, [-1, 448, 448, 3]), input, TensorInfoComparer.Instance);
        Assert.Equal(new TensorInfo("predictions_sigmoid", TensorElementType.Float32, [-1, Labels.Length]), output, TensorInfoComparer.Instance);
        Assert.Equal([-1L, 3, 224, 224], Assert.Single(nchw.Signature.Inputs).Shape);
    }

    [Fact]
    public void Identity_reports_named_dynamic_dimensions_and_element_types()
    {
        using var floats = Load("identity.onnx", OnnxModels.Identity([-1, 4, 5], "x", "y"));
        using var longs = Load("identity64.onnx", OnnxModels.Identity([-1, -1], "ids", "same", OnnxDataType.Int64));

        Assert.Equal(new TensorInfo("x", TensorElementType.Float32, [-1, 4, 5]), Assert.Single(floats.Signature.Inputs), TensorInfoComparer.Instance);
        Assert.Equal(new TensorInfo("y", TensorElementType.Float32, [-1, 4, 5]), Assert.Single(floats.Signature.Outputs), TensorInfoComparer.Instance);
        Assert.Equal(new TensorInfo("ids", TensorElementType.Int64, [-1, -1]), Assert.Single(longs.Signature.Inputs), TensorInfoComparer.Instance);

        var data = Enumerable.Range(0, 40).Select(i => (float)i).ToArray();
        var output = Assert.Single(floats.Run([new InputTensor("x", data, [2, 4, 5])], CancellationToken.None));
        Assert.Equal([2L, 4, 5], output.Shape);
        Assert.Equal(data, output.Data);
    }

    [Fact]
    public void Heavy_runs_deterministically_and_its_scores_depend_on_the_image()
    {
        var model = OnnxModels.Heavy(channels: 16);
        Assert.Equal(model, OnnxModels.Heavy(channels: 16));
        using var session = Load("heavy.onnx", model);
        var (data, shape) = OnnxModels.SolidColours([(255, 0, 0), (20, 90, 200), (255, 0, 0)]);

        var first = Assert.Single(session.Run([new InputTensor("input_1", data, shape)], CancellationToken.None));
        var second = Assert.Single(session.Run([new InputTensor("input_1", data, shape)], CancellationToken.None));

        Assert.Equal([3L, 8], first.Shape);
        Assert.Equal(first.Data, second.Data);
        Assert.All(first.Data, score => Assert.InRange(score, 0f, 1f));
        Assert.Equal(first.Data.AsSpan(0, 8).ToArray(), first.Data.AsSpan(16, 8).ToArray());
        Assert.NotEqual(first.Data.AsSpan(0, 8).ToArray(), first.Data.AsSpan(8, 8).ToArray());
        Assert.Equal([-1L, 448, 448, 3], Assert.Single(session.Signature.Inputs).Shape);
    }

    [Fact]
    public void Heavy_flops_follow_the_documented_formula()
    {
        // Stem 2·112²·64·3·16; first stage two 112² 64→64 convolutions; each later stage a stride-2 C→2C and a 2C→2C.
        long stem = 2L * 112 * 112 * 64 * 3 * 16;
        long first = 2 * (2L * 112 * 112 * 64 * 64 * 9);
        long later = (2L * 56 * 56 * 128 * 64 * 9) + (2L * 56 * 56 * 128 * 128 * 9);
        var expected = stem + first + 3 * later + (14 * 14 * 512) + (2 * 512 * 8);

        Assert.Equal(expected, OnnxModels.HeavyFlops());
        Assert.InRange(OnnxModels.HeavyFlops(), 6.0e9, 6.2e9);
    }

    [Fact]
    public void Selected_tags_csv_is_wd14_shaped()
    {
        var csv = OnnxModels.SelectedTagsCsv(["general", "rating:safe"], [0, 9]);

        Assert.StartsWith("tag_id,name,category,count\r\n", csv, StringComparison.Ordinal);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal(["100000", "general", "0", "2000"], lines[1].Split(','));
        Assert.Equal(["100001", "rating:safe", "9", "1000"], lines[2].Split(','));
    }

    [Fact]
    public void Mismatched_labels_and_rules_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => OnnxModels.Tagger(["a", "b"], [ColourRule.Red]));
        Assert.Contains("2 labels but 1 rules", error.Message, StringComparison.Ordinal);
    }

    private sealed class TensorInfoComparer : IEqualityComparer<TensorInfo>
    {
        public static readonly TensorInfoComparer Instance = new();

        public bool Equals(TensorInfo? x, TensorInfo? y) =>
            x is not null && y is not null && x.Name == y.Name && x.ElementType == y.ElementType && x.Shape.SequenceEqual(y.Shape);

        public int GetHashCode(TensorInfo obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
