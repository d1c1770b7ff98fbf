using Trove.Application.Inference;
using Trove.Testing;

namespace Trove.Inference.Onnx.Tests;

/// <summary>Models generated in code, run through the real ONNX Runtime.</summary>
public sealed class OnnxSessionTests : IDisposable
{
    private static readonly string[] Labels = ["red", "green", "blue", "bright"];
    private static readonly ColourRule[] Rules = [ColourRule.Red, ColourRule.Green, ColourRule.Blue, ColourRule.Bright];
    private static readonly InferenceSessionOptions Defaults = new();

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Status_names_the_runtime_version()
    {
        var status = Ort.Engine.Status;
        Assert.True(status.Available);
        Assert.Null(status.Message);
        Assert.Matches(@"^1\.\d+\.\d+", status.Version);
    }

    [Fact]
    public void Signature_is_read_from_the_model_with_the_dynamic_batch_as_minus_one()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules));
        using var session = Ort.Engine.Load(path, Defaults);

        var input = Assert.Single(session.Signature.Inputs);
        Assert.Equal("input_1", input.Name);
        Assert.Equal(TensorElementType.Float32, input.ElementType);
        Assert.Equal([-1L, 448, 448, 3], input.Shape);
        Assert.Equal(4, input.Rank);
        var output = Assert.Single(session.Signature.Outputs);
        Assert.Equal("predictions_sigmoid", output.Name);
        Assert.Equal(TensorElementType.Float32, output.ElementType);
        Assert.Equal([-1L, Labels.Length], output.Shape);
    }

    [Fact]
    public void Signature_reports_other_element_types_and_fixed_and_symbolic_dimensions()
    {
        var path = _folder.Write("ids.onnx", OnnxModels.Identity([2, -1, 5], "token_ids", "same_ids", OnnxDataType.Int64));
        using var session = Ort.Engine.Load(path, Defaults);

        var input = Assert.Single(session.Signature.Inputs);
        Assert.Equal(new TensorInfo("token_ids", TensorElementType.Int64, input.Shape), input);
        Assert.Equal([2L, -1, 5], input.Shape);
        Assert.Equal("same_ids", Assert.Single(session.Signature.Outputs).Name);
    }

    [Fact]
    public void A_red_image_scores_red_high_and_the_rest_low()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules));
        using var session = Ort.Engine.Load(path, Defaults);
        var (data, shape) = OnnxModels.SolidColours([(255, 0, 0)]);

        var output = Assert.Single(session.Run([new InputTensor("input_1", data, shape)], CancellationToken.None));

        Assert.Equal("predictions_sigmoid", output.Name);
        Assert.Equal([1L, Labels.Length], output.Shape);
        Assert.True(output.Data[0] > 0.99f, $"red scored {output.Data[0]}");
        Assert.All(output.Data[1..], score => Assert.True(score < 0.01f, $"a non-red label scored {score}"));
        for (var k = 0; k < Labels.Length; k++)
        {
            Assert.Equal(Rules[k].Score(1, 0, 0), output.Data[k], 1e-4f);
        }
    }

    [Fact]
    public void A_batch_of_three_gives_three_rows_that_match_single_runs()
    {
        // 64×64: float sums of integer pixel values stay exact, so batched and single means agree to the last bit.
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules, size: 64));
        using var session = Ort.Engine.Load(path, Defaults);
        (byte, byte, byte)[] colours = [(255, 0, 0), (0, 200, 30), (250, 250, 250)];
        var (batch, batchShape) = OnnxModels.SolidColours(colours, size: 64);

        var rows = Assert.Single(session.Run([new InputTensor("input_1", batch, batchShape)], CancellationToken.None));

        Assert.Equal([3L, Labels.Length], rows.Shape);
        Assert.Equal(3 * Labels.Length, rows.Data.Length);
        for (var n = 0; n < colours.Length; n++)
        {
            var (single, shape) = OnnxModels.SolidColours([colours[n]], size: 64);
            var alone = Assert.Single(session.Run([new InputTensor("input_1", single, shape)], CancellationToken.None));
            for (var k = 0; k < Labels.Length; k++)
            {
                Assert.Equal(alone.Data[k], rows.Data[n * Labels.Length + k], 1e-6f);
            }
        }

        Assert.True(rows.Data[0] > 0.99f, "red image: red");
        Assert.True(rows.Data[Labels.Length + 1] > 0.99f, "green image: green");
        Assert.True(rows.Data[2 * Labels.Length + 3] > 0.99f, "white image: bright");
    }

    [Fact]
    public void Inputs_may_be_a_slice_of_a_larger_buffer()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules, size: 8));
        using var session = Ort.Engine.Load(path, Defaults);
        var (blue, shape) = OnnxModels.SolidColours([(0, 0, 255)], size: 8);
        var buffer = new float[blue.Length + 100];
        Array.Fill(buffer, 255f);
        blue.CopyTo(buffer, 37);

        var output = Assert.Single(session.Run([new InputTensor("input_1", buffer.AsMemory(37, blue.Length), shape)], CancellationToken.None));

        Assert.True(output.Data[2] > 0.99f, $"blue scored {output.Data[2]}");
        Assert.True(output.Data[3] < 0.01f, $"bright scored {output.Data[3]}");
    }

    [Fact]
    public void A_wrong_input_name_is_inference_failed_and_names_the_model_and_its_inputs()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules, size: 8));
        using var session = Ort.Engine.Load(path, Defaults);
        var (data, shape) = OnnxModels.SolidColours([(255, 0, 0)], size: 8);

        var e = Assert.Throws<InferenceException>(() => session.Run([new InputTensor("pixels", data, shape)], CancellationToken.None));

        Assert.Equal("inference-failed", e.Code);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("'pixels'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'input_1'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_input_is_inference_failed()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules, size: 8));
        using var session = Ort.Engine.Load(path, Defaults);

        var e = Assert.Throws<InferenceException>(() => session.Run([], CancellationToken.None));

        Assert.Equal("inference-failed", e.Code);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("'input_1'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_rank_is_inference_failed_and_names_the_model()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules, size: 8));
        using var session = Ort.Engine.Load(path, Defaults);
        var (data, _) = OnnxModels.SolidColours([(255, 0, 0)], size: 8);

        var e = Assert.Throws<InferenceException>(() => session.Run([new InputTensor("input_1", data, [8, 8, 3])], CancellationToken.None));

        Assert.Equal("inference-failed", e.Code);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("rank", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_fixed_dimension_or_size_is_inference_failed()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules, size: 8));
        using var session = Ort.Engine.Load(path, Defaults);
        var (small, smallShape) = OnnxModels.SolidColours([(255, 0, 0)], size: 4);
        var (data, shape) = OnnxModels.SolidColours([(255, 0, 0)], size: 8);

        var wrongSide = Assert.Throws<InferenceException>(() => session.Run([new InputTensor("input_1", small, smallShape)], CancellationToken.None));
        var wrongCount = Assert.Throws<InferenceException>(() => session.Run([new InputTensor("input_1", data.AsMemory(1), shape)], CancellationToken.None));
        var emptyBatch = Assert.Throws<InferenceException>(() => session.Run([new InputTensor("input_1", Array.Empty<float>(), [0, 8, 8, 3])], CancellationToken.None));

        Assert.All([wrongSide, wrongCount, emptyBatch], e =>
        {
            Assert.Equal("inference-failed", e.Code);
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
        });
        Assert.Contains("dimension 1", wrongSide.Message, StringComparison.Ordinal);
        Assert.Contains($"{data.Length - 1} values", wrongCount.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_inside_the_runtime_comes_back_as_inference_failed_with_its_message()
    {
        // Both dimensions are dynamic, so only ONNX Runtime can tell that [1,4] × [3,2] does not multiply.
        var model = new OnnxGraph("matmul")
            .Input("x", OnnxDataType.Float, [-1, -1])
            .Output("y", OnnxDataType.Float, [-1, 2])
            .Initializer("w", [3, 2], new float[] { 1, 2, 3, 4, 5, 6 })
            .Node("MatMul", ["x", "w"], ["y"])
            .ToModel();
        var path = _folder.Write("matmul.onnx", model);
        using var session = Ort.Engine.Load(path, Defaults);

        var e = Assert.Throws<InferenceException>(() => session.Run([new InputTensor("x", new float[4], [1, 4])], CancellationToken.None));

        Assert.Equal("inference-failed", e.Code);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("MatMul", e.Message, StringComparison.OrdinalIgnoreCase);

        // The session is still good for inputs that fit.
        var y = Assert.Single(session.Run([new InputTensor("x", new float[] { 1, 0, 1 }, [1, 3])], CancellationToken.None));
        Assert.Equal([6f, 8f], y.Data);
    }

    [Fact]
    public void A_model_whose_input_is_not_float32_is_refused_at_run_time()
    {
        var path = _folder.Write("ids.onnx", OnnxModels.Identity([1, 4], type: OnnxDataType.Int64));
        using var session = Ort.Engine.Load(path, Defaults);

        var e = Assert.Throws<InferenceException>(() => session.Run([new InputTensor("input", new float[4], [1, 4])], CancellationToken.None));

        Assert.Equal("inference-failed", e.Code);
        Assert.Contains("Int64", e.Message, StringComparison.Ordinal);
        Assert.Contains("float32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_model_file_is_model_invalid_with_the_path()
    {
        var path = Path.Combine(_folder.Path, "nowhere.onnx");

        var e = Assert.Throws<InferenceException>(() => Ort.Engine.Load(path, Defaults));

        Assert.Equal("model-invalid", e.Code);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_model_file_is_model_invalid_with_the_path()
    {
        var model = OnnxModels.Tagger(Labels, Rules, size: 8);
        var truncated = _folder.Write("truncated.onnx", model[..(model.Length / 2)]);
        var garbage = _folder.Write("garbage.onnx", "this is not a model"u8.ToArray());

        foreach (var path in new[] { truncated, garbage })
        {
            var e = Assert.Throws<InferenceException>(() => Ort.Engine.Load(path, Defaults));
            Assert.Equal("model-invalid", e.Code);
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_model_with_an_unknown_operator_is_model_invalid()
    {
        var model = new OnnxGraph("unknown_op")
            .Input("x", OnnxDataType.Float, [1, 2])
            .Output("y", OnnxDataType.Float, [1, 2])
            .Node("NoSuchOperatorAnywhere", ["x"], ["y"])
            .ToModel();
        var path = _folder.Write("unknown.onnx", model);

        var e = Assert.Throws<InferenceException>(() => Ort.Engine.Load(path, Defaults));

        Assert.Equal("model-invalid", e.Code);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("NoSuchOperatorAnywhere", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Concurrent_runs_from_four_threads_agree_with_sequential_runs()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules, size: 32));
        using var session = Ort.Engine.Load(path, new InferenceSessionOptions(IntraOpThreads: 1));
        (byte, byte, byte)[] colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (240, 240, 240)];
        var inputs = colours.Select(c => OnnxModels.SolidColours([c], size: 32)).ToArray();
        var expected = inputs.Select(i => session.Run([new InputTensor("input_1", i.Data, i.Shape)], CancellationToken.None)[0].Data).ToArray();

        using var start = new Barrier(4);
        var results = new float[4][][];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            results[t] = new float[50][];
            for (var i = 0; i < 50; i++)
            {
                var input = inputs[(t + i) % 4];
                results[t][i] = session.Run([new InputTensor("input_1", input.Data, input.Shape)], CancellationToken.None)[0].Data;
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        for (var t = 0; t < 4; t++)
        {
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(expected[(t + i) % 4], results[t][i]);
            }
        }
    }

    [Fact]
    public void RunInto_writes_the_first_output_into_the_callers_buffer_run_after_run()
    {
        var path = _folder.Write("identity.onnx", OnnxModels.Identity([1, 3, -1, -1]));
        using var session = Ort.Engine.Load(path, Defaults);
        var buffer = new float[40];
        Array.Fill(buffer, -7f);

        foreach (var (h, w, seed) in new[] { (2, 3, 1f), (3, 4, 100f), (1, 2, 50f) })
        {
            var input = Enumerable.Range(0, 3 * h * w).Select(i => seed + i).ToArray();
            var expected = Assert.Single(session.Run([new InputTensor("input", input, [1, 3, h, w])], CancellationToken.None));

            var written = session.RunInto([new InputTensor("input", input, [1, 3, h, w])], buffer, CancellationToken.None);

            Assert.NotNull(written);
            Assert.Equal(new OutputShape("output", written.Shape, 3L * h * w, Written: true), written);
            Assert.Equal(expected.Shape, written.Shape);
            Assert.Equal(expected.Data, buffer[..(3 * h * w)]);
        }

        Assert.All(buffer[36..], v => Assert.Equal(-7f, v)); // beyond the longest output: untouched
    }

    [Fact]
    public void RunInto_leaves_a_buffer_too_small_for_the_output_untouched_and_reports_the_shape()
    {
        var path = _folder.Write("identity.onnx", OnnxModels.Identity([1, 3, -1, -1]));
        using var session = Ort.Engine.Load(path, Defaults);
        var buffer = new float[5];
        Array.Fill(buffer, -7f);
        var input = Enumerable.Range(0, 6).Select(i => (float)i).ToArray();

        var written = session.RunInto([new InputTensor("input", input, [1, 3, 1, 2])], buffer, CancellationToken.None);

        Assert.NotNull(written);
        Assert.False(written.Written);
        Assert.Equal(6, written.Length);
        Assert.Equal([1L, 3, 1, 2], written.Shape);
        Assert.All(buffer, v => Assert.Equal(-7f, v));
    }

    [Fact]
    public void RunInto_checks_inputs_and_cancellation_like_Run_and_refuses_after_dispose()
    {
        var path = _folder.Write("identity.onnx", OnnxModels.Identity([1, 3, -1, -1]));
        var session = Ort.Engine.Load(path, Defaults);
        var buffer = new float[6];

        var wrong = Assert.Throws<InferenceException>(() => session.RunInto([new InputTensor("nope", new float[6], [1, 3, 1, 2])], buffer, CancellationToken.None));
        Assert.Equal("inference-failed", wrong.Code);
        Assert.ThrowsAny<OperationCanceledException>(() => session.RunInto([new InputTensor("input", new float[6], [1, 3, 1, 2])], buffer, new CancellationToken(canceled: true)));

        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.RunInto([new InputTensor("input", new float[6], [1, 3, 1, 2])], buffer, CancellationToken.None));
    }

    [Fact]
    public void RunInto_by_default_copies_what_Run_returns()
    {
        IInferenceSession session = new FixedSession(new OutputTensor("y", [1f, 2f, 3f], [1, 3]));
        var buffer = new float[4];

        var written = session.RunInto([], buffer, CancellationToken.None);
        var tooSmall = session.RunInto([], new float[2], CancellationToken.None);

        Assert.Equal(new OutputShape("y", written!.Shape, 3, Written: true), written);
        Assert.Equal([1f, 2f, 3f, 0f], buffer);
        Assert.False(tooSmall!.Written);
        Assert.Null(((IInferenceSession)new FixedSession()).RunInto([], buffer, CancellationToken.None));
    }

    [Fact]
    public void A_disposed_session_refuses_to_run_and_disposing_twice_is_harmless()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules, size: 8));
        var session = Ort.Engine.Load(path, Defaults);
        var (data, shape) = OnnxModels.SolidColours([(255, 0, 0)], size: 8);
        session.Run([new InputTensor("input_1", data, shape)], CancellationToken.None);

        session.Dispose();
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run([new InputTensor("input_1", data, shape)], CancellationToken.None));
    }

    [Fact]
    public void Intra_op_threads_come_from_the_session_options_or_the_engine_options()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, Rules, size: 8));
        using (Ort.Engine.Load(path, new InferenceSessionOptions(IntraOpThreads: 3)))
        {
        }

        Assert.Contains(Ort.Logs.Entries, e => e.Message.Contains(path, StringComparison.Ordinal) && e.Message.Contains("3 intra-op thread", StringComparison.Ordinal));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ort.Engine.Load(path, new InferenceSessionOptions(IntraOpThreads: -1)));
    }

    [Fact]
    public void Spinning_is_off_unless_the_engine_options_turn_it_on_and_both_ways_run()
    {
        var path = _folder.Write("spin.onnx", OnnxModels.Tagger(Labels, Rules, size: 8));
        var red = new float[8 * 8 * 3];
        for (var i = 0; i < red.Length; i += 3)
        {
            red[i + 2] = 255; // BGR
        }

        using (var quiet = Ort.Engine.Load(path, Defaults))
        {
            Assert.True(quiet.Run([new InputTensor(quiet.Signature.Inputs[0].Name, red, [1, 8, 8, 3])], CancellationToken.None)[0].Data[0] > 0.9f);
        }

        Assert.Contains(Ort.Logs.Entries, e => e.Message.Contains(path, StringComparison.Ordinal) && e.Message.Contains("spinning off", StringComparison.Ordinal));

        // A second engine on the same (already loaded) runtime, with its own options.
        var logs = new ListLogger();
        var spinning = OnnxInferenceEngine.Create(new OnnxOptions { AllowSpinning = true }, logs);
        using (var busy = spinning.Load(path, Defaults))
        {
            Assert.True(busy.Run([new InputTensor(busy.Signature.Inputs[0].Name, red, [1, 8, 8, 3])], CancellationToken.None)[0].Data[0] > 0.9f);
        }

        Assert.Contains(logs.Entries, e => e.Message.Contains("spinning on", StringComparison.Ordinal));
    }

    /// <summary>A session that only implements Run (returning <paramref name="outputs"/>), for the interface's default RunInto.</summary>
    private sealed class FixedSession(params OutputTensor[] outputs) : IInferenceSession
    {
        public ModelSignature Signature { get; } = new([], []);

        public IReadOnlyList<OutputTensor> Run(IReadOnlyList<InputTensor> inputs, CancellationToken ct) => outputs;

        public void Dispose()
        {
        }
    }
}
