using System.Diagnostics;
using Trove.Application.Inference;
using Trove.Testing;

namespace Trove.Inference.Onnx.Tests;

/// <summary>Cancelling a run stops it inside ONNX Runtime (through the run options' terminate flag).</summary>
public sealed class OnnxCancellationTests : IDisposable
{
    private const int Batch = 8;
    private const int Side = 256;
    private const int Layers = 120;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Cancelling_a_running_inference_stops_it_and_the_session_keeps_working()
    {
        var path = _folder.Write("chain.onnx", Chain(Layers));
        using var session = (OnnxSession)Ort.Engine.Load(path, new InferenceSessionOptions());
        var input = ChainInput();

        var clock = Stopwatch.StartNew();
        var full = session.Run([input], CancellationToken.None);
        var fullTime = clock.Elapsed;
        Assert.Equal([(long)Batch, Side, Side], Assert.Single(full).Shape);

        // The run gets its own thread and the test thread cancels as soon as the run signals that it started: no
        // continuation waits for a pool or xunit thread that other tests may keep busy.
        using var cts = new CancellationTokenSource();
        using var started = new ManualResetEventSlim();
        session.RunStarting = started.Set;
        Exception? error = null;
        var elapsed = TimeSpan.Zero;
        var runner = new Thread(() =>
        {
            var watch = Stopwatch.StartNew();
            try
            {
                session.Run([input], cts.Token);
            }
            catch (Exception e)
            {
                error = e;
            }

            elapsed = watch.Elapsed;
        });
        runner.Start();
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "the run did not start");
        cts.Cancel();
        Assert.True(runner.Join(TimeSpan.FromSeconds(60)), "the cancelled run did not end");

        var cancelled = Assert.IsType<OperationCanceledException>(error);
        Assert.Equal(cts.Token, cancelled.CancellationToken);
        var inner = Assert.IsType<InferenceException>(cancelled.InnerException);
        Assert.Equal("inference-cancelled", inner.Code);
        Assert.Contains(path, inner.Message, StringComparison.Ordinal);
        Assert.True(elapsed < fullTime / 2, $"the cancelled run took {elapsed.TotalMilliseconds:F0} ms; a full run {fullTime.TotalMilliseconds:F0} ms");

        // Terminating one run does not stick to the session.
        session.RunStarting = null;
        var again = session.Run([input], CancellationToken.None);
        Assert.Equal(full[0].Data, again[0].Data);
    }

    [Fact]
    public void An_already_cancelled_token_throws_before_running()
    {
        var path = _folder.Write("tagger.onnx", OnnxModels.Tagger(["red"], [ColourRule.Red], size: 8));
        using var session = (OnnxSession)Ort.Engine.Load(path, new InferenceSessionOptions());
        var ran = false;
        session.RunStarting = () => ran = true;
        var (data, shape) = OnnxModels.SolidColours([(255, 0, 0)], size: 8);

        Assert.ThrowsAny<OperationCanceledException>(() => session.Run([new InputTensor("input_1", data, shape)], new CancellationToken(canceled: true)));
        Assert.False(ran);
    }

    [Fact]
    public void Disposing_during_a_run_lets_the_run_finish_and_then_releases_the_session()
    {
        var path = _folder.Write("chain.onnx", Chain(Layers / 4));
        var session = (OnnxSession)Ort.Engine.Load(path, new InferenceSessionOptions());
        var input = ChainInput();
        var expected = session.Run([input], CancellationToken.None)[0].Data;
        using var started = new ManualResetEventSlim();
        session.RunStarting = started.Set;
        IReadOnlyList<OutputTensor>? outputs = null;
        var runner = new Thread(() => outputs = session.Run([input], CancellationToken.None));

        runner.Start();
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "the run did not start");
        session.Dispose();
        Assert.True(runner.Join(TimeSpan.FromSeconds(60)), "the run did not end");

        Assert.NotNull(outputs);
        Assert.Equal(expected, outputs[0].Data);
        Assert.Throws<ObjectDisposedException>(() => session.Run([input], CancellationToken.None));
    }

    /// <summary>
    /// A long chain of cheap nodes: x [N,256,256] → <paramref name="layers"/> × (MatMul with a 256×256 weight → Tanh).
    /// ONNX Runtime checks the terminate flag between nodes, so a run stops within one node (a few ms) of a cancel,
    /// while the whole run takes hundreds of ms.
    /// </summary>
    private static byte[] Chain(int layers)
    {
        var weight = new float[Side * Side];
        for (var i = 0; i < weight.Length; i++)
        {
            weight[i] = ((i * 7919 % 1000) - 500) / (500f * 16);
        }

        var graph = new OnnxGraph("chain")
            .Input("x", OnnxDataType.Float, [-1, Side, Side])
            .Output("y", OnnxDataType.Float, [-1, Side, Side])
            .Initializer("w", [Side, Side], weight);
        var previous = "x";
        for (var layer = 0; layer < layers; layer++)
        {
            var output = layer == layers - 1 ? "y" : $"t{layer}";
            graph.Node("MatMul", [previous, "w"], [$"m{layer}"])
                .Node("Tanh", [$"m{layer}"], [output]);
            previous = output;
        }

        return graph.ToModel();
    }

    private static InputTensor ChainInput()
    {
        var data = new float[Batch * Side * Side];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (i % 17) / 17f;
        }

        return new InputTensor("x", data, [Batch, Side, Side]);
    }
}
