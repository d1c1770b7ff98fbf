using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trove.Application.Inference;
using Trove.Inference.Onnx.Native;

namespace Trove.Inference.Onnx;

/// <summary>
/// <see cref="IInferenceEngine"/> on ONNX Runtime through Trove's own binding to its C API. Create it with
/// <see cref="Create(OnnxOptions, ILogger?)"/>, which returns an <see cref="UnavailableInferenceEngine"/> that says what to
/// install when the library cannot be loaded; everything that does not run a model works either way.
/// </summary>
public sealed class OnnxInferenceEngine : IInferenceEngine
{
    private readonly OrtRuntime.Started _runtime;
    private readonly OnnxOptions _options;
    private readonly ILogger _logger;

    private OnnxInferenceEngine(OrtRuntime.Started runtime, OnnxOptions options, ILogger logger)
    {
        _runtime = runtime;
        _options = options;
        _logger = logger;
        Status = new InferenceStatus(true, runtime.Version, null);
    }

    public InferenceStatus Status { get; }

    /// <summary>Where the loaded library came from (a path, or a soname found by the system loader).</summary>
    public string LibraryPath => _runtime.LibraryPath;

    /// <summary>Loads ONNX Runtime (once per process) and returns the engine, or the stand-in that says what to install.</summary>
    public static IInferenceEngine Create(OnnxOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.IntraOpThreads, nameof(options));
        logger ??= NullLogger.Instance;
        var runtime = OrtRuntime.TryStart(options, logger, out var failure);
        if (runtime is null)
        {
            var message = failure ?? OrtRuntime.NotFoundMessage;

            // A library the user named that does not load is a mistake to point out; no library at all just means no ML
            // (said again whenever a model is needed), so it is not repeated as a warning on every command.
            var configured = OrtLibraryLocator.Candidates(options).Any(c => c.Configured);
            Log.OnnxUnavailable(logger, configured ? LogLevel.Warning : LogLevel.Information, message);
            return new UnavailableInferenceEngine(message);
        }

        Log.OnnxReady(logger, runtime.Version, runtime.LibraryPath);
        return new OnnxInferenceEngine(runtime, options, logger);
    }

    public IInferenceSession Load(string modelPath, InferenceSessionOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.IntraOpThreads, nameof(options));
        var threads = options.IntraOpThreads > 0 ? options.IntraOpThreads : _options.IntraOpThreads;
        return OnnxSession.Open(_runtime, Path.GetFullPath(modelPath), threads, _options.AllowSpinning, _logger);
    }
}
