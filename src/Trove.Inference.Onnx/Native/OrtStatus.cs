using System.Runtime.InteropServices;
using Trove.Application.Inference;

namespace Trove.Inference.Onnx.Native;

/// <summary>What Trove was doing when ONNX Runtime answered with an error: decides the exception's code and words.</summary>
internal enum OrtPhase
{
    /// <summary>Starting the runtime (environment, memory info).</summary>
    Startup,

    /// <summary>Loading a model file into a session.</summary>
    Load,

    /// <summary>Reading a loaded model's inputs and outputs.</summary>
    Inspect,

    /// <summary>Running a model (creating tensors, the run, reading outputs).</summary>
    Run,
}

/// <summary>The context of one native call: the phase, the model file, and whether Trove asked the run to stop.</summary>
internal readonly record struct OrtCall(OrtPhase Phase, string? ModelPath, bool Terminated = false)
{
    public static OrtCall Startup => new(OrtPhase.Startup, null);

    public static OrtCall Load(string modelPath) => new(OrtPhase.Load, modelPath);

    public static OrtCall Inspect(string modelPath) => new(OrtPhase.Inspect, modelPath);

    public static OrtCall Run(string modelPath, bool terminated = false) => new(OrtPhase.Run, modelPath, terminated);
}

/// <summary>The one place an <c>OrtStatus*</c> becomes an exception (and is released).</summary>
internal static unsafe class OrtStatus
{
    public const string Cancelled = "inference-cancelled";

    /// <summary>
    /// Does nothing for success (a null status). Otherwise reads the status' code and message, releases the status and
    /// throws an <see cref="InferenceException"/> that names the model file: model-invalid when a model cannot be loaded
    /// or read, inference-cancelled when Trove terminated the run, inference-failed for every other run error,
    /// inference-unavailable when the runtime itself cannot start.
    /// </summary>
    public static void Check(OrtApi api, nint status, in OrtCall call)
    {
        if (status == 0)
        {
            return;
        }

        OrtErrorCode code;
        string message;
        try
        {
            code = api.GetErrorCode(status);
            message = Marshal.PtrToStringUTF8((nint)api.GetErrorMessage(status))?.Trim() ?? "(no message)";
        }
        finally
        {
            api.ReleaseStatus(status);
        }

        var detail = $"{message} [{code}]";
        throw call.Phase switch
        {
            OrtPhase.Startup => new InferenceException("inference-unavailable", $"ONNX Runtime could not start: {detail}"),
            OrtPhase.Load when code is OrtErrorCode.RuntimeException or OrtErrorCode.EngineError or OrtErrorCode.EpFail =>
                new InferenceException("inference-failed", $"ONNX Runtime could not load the model {call.ModelPath}: {detail}"),
            OrtPhase.Load => new InferenceException("model-invalid", $"The model {call.ModelPath} is not a valid ONNX model ONNX Runtime can load: {detail}"),
            OrtPhase.Inspect => new InferenceException("model-invalid", $"ONNX Runtime could not read the inputs and outputs of the model {call.ModelPath}: {detail}"),
            _ when call.Terminated => new InferenceException(Cancelled, $"Inference with the model {call.ModelPath} was cancelled."),
            _ => new InferenceException("inference-failed", $"Inference with the model {call.ModelPath} failed: {detail}"),
        };
    }

    /// <summary>
    /// For paths that must not throw (handle release, cancellation callbacks): releases a failed status and says
    /// whether the call succeeded.
    /// </summary>
    public static bool Discard(OrtApi api, nint status)
    {
        if (status == 0)
        {
            return true;
        }

        api.ReleaseStatus(status);
        return false;
    }
}
