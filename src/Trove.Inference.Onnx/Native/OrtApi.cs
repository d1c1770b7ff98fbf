namespace Trove.Inference.Onnx.Native;

/// <summary>
/// The functions Trove uses from ONNX Runtime's C API table (<c>struct OrtApi</c> in onnxruntime_c_api.h), read once
/// from the table <c>OrtApiBase.GetApi(version)</c> returns. The table is append-only across releases, so a slot's
/// index never changes; the indices below are the declaration order in the header (0 = CreateStatus).
/// Opaque ORT objects are <see cref="nint"/>; functions that can fail return an <c>OrtStatus*</c> (0 = success) that
/// <see cref="OrtStatus.Check"/> turns into an exception.
/// </summary>
internal sealed unsafe class OrtApi
{
    /// <summary>
    /// The API version requested: ONNX Runtime 1.17's. Every slot used here existed long before; newer libraries
    /// serve older versions (the table only grows), so any ONNX Runtime from 1.17 on works.
    /// </summary>
    public const uint Version = 17;

    /// <summary>The release that introduced <see cref="Version"/>, for messages.</summary>
    public const string MinimumRelease = "1.17";

    // Slot indices in struct OrtApi.
    private const int SlotCreateStatus = 0;
    private const int SlotGetErrorCode = 1;
    private const int SlotGetErrorMessage = 2;
    private const int SlotCreateEnvWithCustomLogger = 4;
    private const int SlotCreateSession = 7;
    private const int SlotRun = 9;
    private const int SlotCreateSessionOptions = 10;
    private const int SlotSetSessionLogId = 20;
    private const int SlotSetSessionGraphOptimizationLevel = 23;
    private const int SlotSetIntraOpNumThreads = 24;
    private const int SlotSessionGetInputCount = 30;
    private const int SlotSessionGetOutputCount = 31;
    private const int SlotSessionGetInputTypeInfo = 33;
    private const int SlotSessionGetOutputTypeInfo = 34;
    private const int SlotSessionGetInputName = 36;
    private const int SlotSessionGetOutputName = 37;
    private const int SlotCreateRunOptions = 39;
    private const int SlotRunOptionsSetTerminate = 46;
    private const int SlotCreateTensorWithDataAsOrtValue = 49;
    private const int SlotGetTensorMutableData = 51;
    private const int SlotCastTypeInfoToTensorInfo = 55;
    private const int SlotGetOnnxTypeFromTypeInfo = 56;
    private const int SlotGetTensorElementType = 60;
    private const int SlotGetDimensionsCount = 61;
    private const int SlotGetDimensions = 62;
    private const int SlotGetTensorShapeElementCount = 64;
    private const int SlotGetTensorTypeAndShape = 65;
    private const int SlotCreateCpuMemoryInfo = 69;
    private const int SlotAllocatorFree = 76;
    private const int SlotGetAllocatorWithDefaultOptions = 78;
    private const int SlotReleaseEnv = 92;
    private const int SlotReleaseStatus = 93;
    private const int SlotReleaseMemoryInfo = 94;
    private const int SlotReleaseSession = 95;
    private const int SlotReleaseValue = 96;
    private const int SlotReleaseRunOptions = 97;
    private const int SlotReleaseTypeInfo = 98;
    private const int SlotReleaseTensorTypeAndShapeInfo = 99;
    private const int SlotReleaseSessionOptions = 100;
    private const int SlotAddSessionConfigEntry = 130;

    /// <summary>The highest slot read; the table of the requested version has at least this many entries.</summary>
    internal const int HighestSlot = SlotAddSessionConfigEntry;

    public OrtApi(nint table)
    {
        var slots = (nint*)table;
        CreateStatus = (delegate* unmanaged<OrtErrorCode, byte*, nint>)Slot(slots, SlotCreateStatus);
        GetErrorCode = (delegate* unmanaged<nint, OrtErrorCode>)Slot(slots, SlotGetErrorCode);
        GetErrorMessage = (delegate* unmanaged<nint, byte*>)Slot(slots, SlotGetErrorMessage);
        CreateEnvWithCustomLogger = (delegate* unmanaged<delegate* unmanaged<nint, OrtLoggingLevel, byte*, byte*, byte*, byte*, void>, nint, OrtLoggingLevel, byte*, nint*, nint>)Slot(slots, SlotCreateEnvWithCustomLogger);
        CreateSession = (delegate* unmanaged<nint, byte*, nint, nint*, nint>)Slot(slots, SlotCreateSession);
        Run = (delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)Slot(slots, SlotRun);
        CreateSessionOptions = (delegate* unmanaged<nint*, nint>)Slot(slots, SlotCreateSessionOptions);
        SetSessionLogId = (delegate* unmanaged<nint, byte*, nint>)Slot(slots, SlotSetSessionLogId);
        SetSessionGraphOptimizationLevel = (delegate* unmanaged<nint, GraphOptimizationLevel, nint>)Slot(slots, SlotSetSessionGraphOptimizationLevel);
        SetIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)Slot(slots, SlotSetIntraOpNumThreads);
        AddSessionConfigEntry = (delegate* unmanaged<nint, byte*, byte*, nint>)Slot(slots, SlotAddSessionConfigEntry);
        SessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)Slot(slots, SlotSessionGetInputCount);
        SessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)Slot(slots, SlotSessionGetOutputCount);
        SessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)Slot(slots, SlotSessionGetInputTypeInfo);
        SessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)Slot(slots, SlotSessionGetOutputTypeInfo);
        SessionGetInputName = (delegate* unmanaged<nint, nuint, nint, nint*, nint>)Slot(slots, SlotSessionGetInputName);
        SessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, nint*, nint>)Slot(slots, SlotSessionGetOutputName);
        CreateRunOptions = (delegate* unmanaged<nint*, nint>)Slot(slots, SlotCreateRunOptions);
        RunOptionsSetTerminate = (delegate* unmanaged<nint, nint>)Slot(slots, SlotRunOptionsSetTerminate);
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged<nint, void*, nuint, long*, nuint, OnnxElementType, nint*, nint>)Slot(slots, SlotCreateTensorWithDataAsOrtValue);
        GetTensorMutableData = (delegate* unmanaged<nint, void**, nint>)Slot(slots, SlotGetTensorMutableData);
        CastTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)Slot(slots, SlotCastTypeInfoToTensorInfo);
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged<nint, OnnxType*, nint>)Slot(slots, SlotGetOnnxTypeFromTypeInfo);
        GetTensorElementType = (delegate* unmanaged<nint, OnnxElementType*, nint>)Slot(slots, SlotGetTensorElementType);
        GetDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)Slot(slots, SlotGetDimensionsCount);
        GetDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)Slot(slots, SlotGetDimensions);
        GetTensorShapeElementCount = (delegate* unmanaged<nint, nuint*, nint>)Slot(slots, SlotGetTensorShapeElementCount);
        GetTensorTypeAndShape = (delegate* unmanaged<nint, nint*, nint>)Slot(slots, SlotGetTensorTypeAndShape);
        CreateCpuMemoryInfo = (delegate* unmanaged<OrtAllocatorType, OrtMemType, nint*, nint>)Slot(slots, SlotCreateCpuMemoryInfo);
        AllocatorFree = (delegate* unmanaged<nint, nint, nint>)Slot(slots, SlotAllocatorFree);
        GetAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)Slot(slots, SlotGetAllocatorWithDefaultOptions);
        ReleaseEnv = (delegate* unmanaged<nint, void>)Slot(slots, SlotReleaseEnv);
        ReleaseStatus = (delegate* unmanaged<nint, void>)Slot(slots, SlotReleaseStatus);
        ReleaseMemoryInfo = (delegate* unmanaged<nint, void>)Slot(slots, SlotReleaseMemoryInfo);
        ReleaseSession = (delegate* unmanaged<nint, void>)Slot(slots, SlotReleaseSession);
        ReleaseValue = (delegate* unmanaged<nint, void>)Slot(slots, SlotReleaseValue);
        ReleaseRunOptions = (delegate* unmanaged<nint, void>)Slot(slots, SlotReleaseRunOptions);
        ReleaseTypeInfo = (delegate* unmanaged<nint, void>)Slot(slots, SlotReleaseTypeInfo);
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged<nint, void>)Slot(slots, SlotReleaseTensorTypeAndShapeInfo);
        ReleaseSessionOptions = (delegate* unmanaged<nint, void>)Slot(slots, SlotReleaseSessionOptions);
    }

    // OrtStatus
    public delegate* unmanaged<OrtErrorCode, byte*, nint> CreateStatus { get; }

    public delegate* unmanaged<nint, OrtErrorCode> GetErrorCode { get; }

    /// <summary>The message inside a status; owned by the status.</summary>
    public delegate* unmanaged<nint, byte*> GetErrorMessage { get; }

    // OrtEnv: (logging function, its param, severity threshold, log id, out env)
    public delegate* unmanaged<delegate* unmanaged<nint, OrtLoggingLevel, byte*, byte*, byte*, byte*, void>, nint, OrtLoggingLevel, byte*, nint*, nint> CreateEnvWithCustomLogger { get; }

    // OrtSession: (env, model path, options, out session)
    public delegate* unmanaged<nint, byte*, nint, nint*, nint> CreateSession { get; }

    /// <summary>(session, run options, input names, inputs, input count, output names, output count, outputs).</summary>
    public delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> Run { get; }

    // OrtSessionOptions
    public delegate* unmanaged<nint*, nint> CreateSessionOptions { get; }

    public delegate* unmanaged<nint, byte*, nint> SetSessionLogId { get; }

    public delegate* unmanaged<nint, GraphOptimizationLevel, nint> SetSessionGraphOptimizationLevel { get; }

    public delegate* unmanaged<nint, int, nint> SetIntraOpNumThreads { get; }

    /// <summary>A string setting by key (onnxruntime_session_options_config_keys.h), e.g. session.intra_op.allow_spinning.</summary>
    public delegate* unmanaged<nint, byte*, byte*, nint> AddSessionConfigEntry { get; }

    // Session inspection
    public delegate* unmanaged<nint, nuint*, nint> SessionGetInputCount { get; }

    public delegate* unmanaged<nint, nuint*, nint> SessionGetOutputCount { get; }

    public delegate* unmanaged<nint, nuint, nint*, nint> SessionGetInputTypeInfo { get; }

    public delegate* unmanaged<nint, nuint, nint*, nint> SessionGetOutputTypeInfo { get; }

    /// <summary>(session, index, allocator, out name): the name is allocated with the allocator and must be freed with it.</summary>
    public delegate* unmanaged<nint, nuint, nint, nint*, nint> SessionGetInputName { get; }

    public delegate* unmanaged<nint, nuint, nint, nint*, nint> SessionGetOutputName { get; }

    // OrtRunOptions
    public delegate* unmanaged<nint*, nint> CreateRunOptions { get; }

    /// <summary>Makes a run using these options stop with an error; callable from any thread.</summary>
    public delegate* unmanaged<nint, nint> RunOptionsSetTerminate { get; }

    // OrtValue: (memory info, data, data bytes, shape, rank, element type, out value) — the data stays the caller's.
    public delegate* unmanaged<nint, void*, nuint, long*, nuint, OnnxElementType, nint*, nint> CreateTensorWithDataAsOrtValue { get; }

    public delegate* unmanaged<nint, void**, nint> GetTensorMutableData { get; }

    // OrtTypeInfo → OrtTensorTypeAndShapeInfo (the result is owned by the type info)
    public delegate* unmanaged<nint, nint*, nint> CastTypeInfoToTensorInfo { get; }

    public delegate* unmanaged<nint, OnnxType*, nint> GetOnnxTypeFromTypeInfo { get; }

    public delegate* unmanaged<nint, OnnxElementType*, nint> GetTensorElementType { get; }

    public delegate* unmanaged<nint, nuint*, nint> GetDimensionsCount { get; }

    public delegate* unmanaged<nint, long*, nuint, nint> GetDimensions { get; }

    public delegate* unmanaged<nint, nuint*, nint> GetTensorShapeElementCount { get; }

    /// <summary>A new OrtTensorTypeAndShapeInfo for a value (released with ReleaseTensorTypeAndShapeInfo).</summary>
    public delegate* unmanaged<nint, nint*, nint> GetTensorTypeAndShape { get; }

    // OrtMemoryInfo and OrtAllocator
    public delegate* unmanaged<OrtAllocatorType, OrtMemType, nint*, nint> CreateCpuMemoryInfo { get; }

    public delegate* unmanaged<nint, nint, nint> AllocatorFree { get; }

    /// <summary>The process-wide default CPU allocator; never freed.</summary>
    public delegate* unmanaged<nint*, nint> GetAllocatorWithDefaultOptions { get; }

    // Releases (each accepts null)
    public delegate* unmanaged<nint, void> ReleaseEnv { get; }

    public delegate* unmanaged<nint, void> ReleaseStatus { get; }

    public delegate* unmanaged<nint, void> ReleaseMemoryInfo { get; }

    public delegate* unmanaged<nint, void> ReleaseSession { get; }

    public delegate* unmanaged<nint, void> ReleaseValue { get; }

    public delegate* unmanaged<nint, void> ReleaseRunOptions { get; }

    public delegate* unmanaged<nint, void> ReleaseTypeInfo { get; }

    public delegate* unmanaged<nint, void> ReleaseTensorTypeAndShapeInfo { get; }

    public delegate* unmanaged<nint, void> ReleaseSessionOptions { get; }

    private static nint Slot(nint* slots, int index)
    {
        var function = slots[index];
        if (function == 0)
        {
            throw new InvalidOperationException($"ONNX Runtime's API table has no function in slot {index}");
        }

        return function;
    }
}

/// <summary>OrtErrorCode.</summary>
internal enum OrtErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    EpFail = 11,
}

/// <summary>OrtLoggingLevel.</summary>
internal enum OrtLoggingLevel
{
    Verbose = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}

/// <summary>ONNXTensorElementDataType (TensorProto.DataType).</summary>
internal enum OnnxElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
}

/// <summary>ONNXType.</summary>
internal enum OnnxType
{
    Unknown = 0,
    Tensor = 1,
    Sequence = 2,
    Map = 3,
    Opaque = 4,
    SparseTensor = 5,
    Optional = 6,
}

/// <summary>GraphOptimizationLevel.</summary>
internal enum GraphOptimizationLevel
{
    DisableAll = 0,
    Basic = 1,
    Extended = 2,
    All = 99,
}

/// <summary>OrtAllocatorType.</summary>
internal enum OrtAllocatorType
{
    Device = 0,
    Arena = 1,
}

/// <summary>OrtMemType.</summary>
internal enum OrtMemType
{
    Default = 0,
}
