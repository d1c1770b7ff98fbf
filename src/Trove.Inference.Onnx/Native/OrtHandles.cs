using System.Runtime.InteropServices;

namespace Trove.Inference.Onnx.Native;

/// <summary>
/// Base of the ONNX Runtime handles: owns one native object, released exactly once by the matching
/// <c>OrtApi::Release*</c> (SafeHandle's reference count defers the release while a call is using it).
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle(OrtApi api, nint raw)
        : base(0, ownsHandle: true)
    {
        Api = api;
        SetHandle(raw);
    }

    public override bool IsInvalid => handle == 0;

    protected OrtApi Api { get; }
}

/// <summary>The process's OrtEnv (logging, the runtime's global state). Created once and kept for the process.</summary>
internal sealed class OrtEnvHandle(OrtApi api, nint raw) : OrtHandle(api, raw)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseEnv(handle);
        return true;
    }
}

/// <summary>An OrtSessionOptions; only needed until the session is created (the session copies it).</summary>
internal sealed class OrtSessionOptionsHandle(OrtApi api, nint raw) : OrtHandle(api, raw)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseSessionOptions(handle);
        return true;
    }
}

/// <summary>A loaded model (OrtSession): owns the graph, the weights and its thread pools.</summary>
internal sealed class OrtSessionHandle(OrtApi api, nint raw) : OrtHandle(api, raw)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseSession(handle);
        return true;
    }
}

/// <summary>An OrtValue: an input tensor over pinned managed memory (which it does not own) or an output tensor.</summary>
internal sealed class OrtValueHandle(OrtApi api, nint raw) : OrtHandle(api, raw)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseValue(handle);
        return true;
    }
}

/// <summary>One run's OrtRunOptions: its terminate flag is how a run is cancelled.</summary>
internal sealed class OrtRunOptionsHandle(OrtApi api, nint raw) : OrtHandle(api, raw)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseRunOptions(handle);
        return true;
    }
}

/// <summary>An OrtMemoryInfo (Trove uses one: CPU memory, for tensors over managed buffers).</summary>
internal sealed class OrtMemoryInfoHandle(OrtApi api, nint raw) : OrtHandle(api, raw)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseMemoryInfo(handle);
        return true;
    }
}

/// <summary>An OrtTypeInfo (a model input's or output's type); its tensor info view is owned by it.</summary>
internal sealed class OrtTypeInfoHandle(OrtApi api, nint raw) : OrtHandle(api, raw)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseTypeInfo(handle);
        return true;
    }
}

/// <summary>An OrtTensorTypeAndShapeInfo created for a value (GetTensorTypeAndShape).</summary>
internal sealed class OrtTensorTypeAndShapeInfoHandle(OrtApi api, nint raw) : OrtHandle(api, raw)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseTensorTypeAndShapeInfo(handle);
        return true;
    }
}

/// <summary>Memory ONNX Runtime allocated with an OrtAllocator for the caller (input/output names); freed with that allocator.</summary>
internal sealed class OrtAllocatedMemoryHandle(OrtApi api, nint allocator, nint raw) : OrtHandle(api, raw)
{
    /// <summary>The memory as a NUL-terminated UTF-8 string.</summary>
    public string ReadUtf8()
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            return Marshal.PtrToStringUTF8(handle) ?? string.Empty;
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    protected override unsafe bool ReleaseHandle() => OrtStatus.Discard(Api, Api.AllocatorFree(allocator, handle));
}
