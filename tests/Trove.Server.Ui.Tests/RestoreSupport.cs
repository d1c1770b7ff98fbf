using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Trove.Application;
using Trove.Application.Inference;
using Trove.Application.Models;
using Trove.Application.Ports;
using Trove.Application.Restoration;
using Trove.Domain.Models;
using Trove.Inference.Onnx;
using Trove.Server.Tests;
using Trove.Testing;

namespace Trove.Server.Ui.Tests;

/// <summary>
/// Holds a model run part-way so that a test can see a job's progress without racing it: once armed, the first
/// <c>allow</c> inferences run and the next one waits until <see cref="Release"/> (or the job is cancelled).
/// </summary>
public sealed class InferenceGate
{
    private readonly Lock _lock = new();
    private ManualResetEventSlim _open = new(true);
    private int _allow = int.MaxValue;
    private int _runs;

    /// <summary>Completes when an inference is waiting at the gate.</summary>
    public TaskCompletionSource Waiting { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Hold(int allow)
    {
        lock (_lock)
        {
            _allow = allow;
            _runs = 0;
            _open = new ManualResetEventSlim(false);
            Waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Release()
    {
        lock (_lock)
        {
            _allow = int.MaxValue;
            _open.Set();
        }
    }

    internal void Pass(CancellationToken ct)
    {
        ManualResetEventSlim open;
        lock (_lock)
        {
            if (++_runs <= _allow)
            {
                return;
            }

            open = _open;
            Waiting.TrySetResult();
        }

        open.Wait(ct);
    }
}

/// <summary>The real ONNX Runtime engine, with every inference passing <see cref="Gate"/>.</summary>
public sealed class GatedInferenceEngine(IInferenceEngine inner) : IInferenceEngine
{
    public InferenceGate Gate { get; } = new();

    public InferenceStatus Status => inner.Status;

    public IInferenceSession Load(string modelPath, InferenceSessionOptions options) => new Session(inner.Load(modelPath, options), Gate);

    private sealed class Session(IInferenceSession inner, InferenceGate gate) : IInferenceSession
    {
        public ModelSignature Signature => inner.Signature;

        public IReadOnlyList<OutputTensor> Run(IReadOnlyList<InputTensor> inputs, CancellationToken ct)
        {
            gate.Pass(ct);
            return inner.Run(inputs, ct);
        }

        public void Dispose() => inner.Dispose();
    }
}

/// <summary>
/// Base of the restoration UI tests: a server whose worker runs upscalers and restorers through the real ONNX Runtime
/// (generated models from <see cref="OnnxModels"/>, registered like <c>trove models add</c>), and helpers to make
/// images and results.
/// </summary>
public abstract class RestoreUiTest(BrowserFixture browser) : UiTest(browser)
{
    private static readonly Lazy<IInferenceEngine> Onnx = new(() => OnnxInferenceEngine.Create(new OnnxOptions()));

    protected GatedInferenceEngine Engine { get; private set; } = null!;

    protected InferenceGate Gate => Engine.Gate;

    protected TroveLibrary Library => Server.Library;

    protected static CancellationToken Ct => CancellationToken.None;

    protected override Task<TestServer> StartServerAsync()
    {
        Assert.True(Onnx.Value.Status.Available, $"ONNX Runtime is needed for these tests (make deps): {Onnx.Value.Status.Message}");
        Engine = new GatedInferenceEngine(Onnx.Value);
        return TestServer.StartAsync(inference: Engine);
    }

    /// <summary>Uncaught script errors and console errors of the page (CSP refusals show up here too).</summary>
    protected List<string> ScriptErrors { get; } = [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Page.PageError += (_, error) => ScriptErrors.Add(error);
        Page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.Contains("404", StringComparison.Ordinal))
            {
                ScriptErrors.Add(message.Text);
            }
        };
    }

    public override async Task DisposeAsync()
    {
        Gate.Release();
        await base.DisposeAsync();
    }

    protected void AssertNoScriptErrors() => Assert.True(ScriptErrors.Count == 0, string.Join(Environment.NewLine, ScriptErrors));

    /// <summary>Registers a generated model through the registry (what <c>trove models add</c> does).</summary>
    protected async Task AddModelAsync(string id, string kind, byte[] model, string parameters, string? name = null)
    {
        var file = OnnxModels.Write(Path.Combine(Server.Scratch, "models", id + ".onnx"), model);
        await new ModelRegistry(Library).AddAsync(new ModelAddRequest(id, kind, file, "1", Name: name, Parameters: JsonNode.Parse(parameters)!.AsObject()), Ct);
    }

    /// <summary>A 2× nearest-neighbour upscaler, tiles of 48 with 8 of overlap.</summary>
    protected Task AddUpscalerAsync() => AddModelAsync("nearest2", ModelKinds.Upscaler, OnnxModels.NearestUpscaler(2), UpscalerJson, "Nearest");

    protected const string UpscalerJson = """{"scale":2,"tileSize":48,"tileOverlap":8}""";

    /// <summary>A same-size restorer whose output is visibly different: red goes to 0 and blue to full (red → blue).</summary>
    protected Task AddSwapAsync() => AddModelAsync("swap", ModelKinds.Restorer, OnnxModels.NearestUpscaler(1, offsets: [-1f, 0f, 1f]), """{"scale":1,"tileSize":64,"tileOverlap":8}""", "Red to blue");

    protected string WritePng(string name, RgbPixels pixels)
    {
        var path = Path.Combine(Server.Scratch, name);
        TestImages.WritePng(path, pixels);
        return path;
    }

    protected async Task<string> ImportPngAsync(string uploader, string name, RgbPixels pixels) =>
        (await Server.ImportAsync(uploader, WritePng(name, pixels)))[0];

    /// <summary>Runs a model now as <paramref name="user"/> (<c>trove restore --now</c>); the run is in the history.</summary>
    protected async Task<RestoreResult> RunNowAsync(string user, string media, string model, IReadOnlyDictionary<string, string>? parameters = null, bool keep = false)
    {
        using (Library.ActAs(user))
        {
            return await RestoreJobs.RunNowAsync(Library, new RestoreRequest(media, model, parameters ?? new Dictionary<string, string>(), keep), null, Ct);
        }
    }

    protected Trove.Library.StoredSidecar Stored(string id) => Library.Files.ReadSidecar(id);

    /// <summary>The pixels of a screenshot of <paramref name="element"/> (decoded by libvips; the file is kept in artifacts/screenshots).</summary>
    protected async Task<RgbPixels> ShotAsync(ILocator element, string name)
    {
        var path = Path.Combine(BrowserFixture.ScreenshotDir, "sample-" + name + ".png");
        await element.ScreenshotAsync(new LocatorScreenshotOptions { Path = path, Animations = ScreenshotAnimations.Disabled });
        return Library.Imaging.Pixels(path, new PixelRequest(PixelFit.None, 0, 0, 0xFFFFFF, false, null, Library.Options.Imaging.Limits), Ct);
    }

    /// <summary>The colour at (fx, fy), as fractions of the picture.</summary>
    protected static (int R, int G, int B) At(RgbPixels pixels, double fx, double fy)
    {
        var x = Math.Clamp((int)(pixels.Width * fx), 0, pixels.Width - 1);
        var y = Math.Clamp((int)(pixels.Height * fy), 0, pixels.Height - 1);
        var i = ((y * pixels.Width) + x) * pixels.Bands;
        return (pixels.Data[i], pixels.Data[i + 1], pixels.Data[i + 2]);
    }

    protected static bool IsRed((int R, int G, int B) c) => c.R > 170 && c.B < 90;

    protected static bool IsBlue((int R, int G, int B) c) => c.B > 170 && c.R < 90;
}
