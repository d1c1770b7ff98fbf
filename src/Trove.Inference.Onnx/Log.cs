using Microsoft.Extensions.Logging;

namespace Trove.Inference.Onnx;

internal static partial class Log
{
    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "ONNX Runtime {Version} ready (from {LibraryPath})")]
    public static partial void OnnxReady(ILogger logger, string version, string libraryPath);

    [LoggerMessage(EventId = 202, Message = "Model inference is unavailable: {Reason}")]
    public static partial void OnnxUnavailable(ILogger logger, LogLevel level, string reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "ONNX Runtime is already loaded from {Loaded}; {Requested} is ignored")]
    public static partial void OnnxAlreadyLoaded(ILogger logger, string loaded, string requested);

    [LoggerMessage(EventId = 204, Level = LogLevel.Information, Message = "Model {ModelPath} loaded in {ElapsedMs} ms: inputs {Inputs}, outputs {Outputs}, {Threads} intra-op thread(s) (0 = default), spinning {Spinning}")]
    public static partial void ModelLoaded(ILogger logger, string modelPath, long elapsedMs, string inputs, string outputs, int threads, string spinning);

    [LoggerMessage(EventId = 205, Message = "ONNX Runtime ({LogId}): {Message}")]
    public static partial void OrtMessage(ILogger logger, LogLevel level, string logId, string message);

    [LoggerMessage(EventId = 206, Level = LogLevel.Debug, Message = "Inference with {ModelPath} was cancelled")]
    public static partial void RunCancelled(ILogger logger, string modelPath);
}
