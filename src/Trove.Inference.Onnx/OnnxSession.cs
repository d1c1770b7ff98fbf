using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Trove.Application.Inference;
using Trove.Inference.Onnx.Native;

namespace Trove.Inference.Onnx;

/// <summary>
/// A model loaded into an ONNX Runtime session. <see cref="Run"/> is thread-safe (ONNX Runtime's Run is; all per-run
/// state is local to the call). Inputs are float32 tensors over the caller's memory, pinned for the run; outputs are
/// copied out. Disposing while runs are in flight releases the session when the last of them ends.
/// </summary>
internal sealed unsafe class OnnxSession : IInferenceSession
{
    private readonly OrtRuntime.Started _runtime;
    private readonly OrtSessionHandle _session;
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly Utf8Names _inputNames;
    private readonly Utf8Names _outputNames;
    private readonly Dictionary<string, int> _inputIndex;
    private int _disposed;

    private OnnxSession(OrtRuntime.Started runtime, OrtSessionHandle session, string path, ModelSignature signature, ILogger logger)
    {
        _runtime = runtime;
        _session = session;
        _path = path;
        _logger = logger;
        Signature = signature;
        _inputNames = new Utf8Names(signature.Inputs.Select(i => i.Name));
        _outputNames = new Utf8Names(signature.Outputs.Select(o => o.Name));
        _inputIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < signature.Inputs.Count; i++)
        {
            _inputIndex[signature.Inputs[i].Name] = i;
        }
    }

    public ModelSignature Signature { get; }

    /// <summary>Test hook: runs on the calling thread just before the native run starts, with cancellation armed.</summary>
    internal Action? RunStarting { get; set; }

    /// <summary>The model file (full path).</summary>
    public string ModelPath => _path;

    /// <summary>Loads <paramref name="path"/> (a full path) with <paramref name="intraOpThreads"/> threads per operator (0 = default).</summary>
    public static OnnxSession Open(OrtRuntime.Started runtime, string path, int intraOpThreads, bool allowSpinning, ILogger logger)
    {
        if (!File.Exists(path))
        {
            throw new InferenceException("model-invalid", Directory.Exists(path)
                ? $"The model path {path} is a folder; give the .onnx file."
                : $"The model file {path} does not exist.");
        }

        var api = runtime.Api;
        var started = Stopwatch.GetTimestamp();
        var session = CreateSession(runtime, path, intraOpThreads, allowSpinning);
        try
        {
            var signature = new ModelSignature(
                ReadTensors(api, session, path, api.SessionGetInputCount, api.SessionGetInputName, api.SessionGetInputTypeInfo, runtime.Allocator),
                ReadTensors(api, session, path, api.SessionGetOutputCount, api.SessionGetOutputName, api.SessionGetOutputTypeInfo, runtime.Allocator));
            if (logger.IsEnabled(LogLevel.Information))
            {
                var elapsed = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                string inputs = Describe(signature.Inputs), outputs = Describe(signature.Outputs);
                Log.ModelLoaded(logger, path, elapsed, inputs, outputs, intraOpThreads, allowSpinning ? "on" : "off");
            }

            return new OnnxSession(runtime, session, path, signature, logger);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public IReadOnlyList<OutputTensor> Run(IReadOnlyList<InputTensor> inputs, CancellationToken ct) =>
        Execute(inputs, Signature.Outputs.Count, (api, values) =>
        {
            var outputs = new OutputTensor[values.Length];
            for (var i = 0; i < outputs.Length; i++)
            {
                var (data, shape, _) = ReadOutput(api, Signature.Outputs[i].Name, values[i], true, default);
                outputs[i] = new OutputTensor(Signature.Outputs[i].Name, data!, shape);
            }

            return outputs;
        }, ct);

    /// <summary>Asks the runtime for the first output only and copies it into <paramref name="destination"/> (no array per run).</summary>
    public OutputShape? RunInto(IReadOnlyList<InputTensor> inputs, Span<float> destination, CancellationToken ct)
    {
        if (Signature.Outputs.Count == 0)
        {
            Execute(inputs, 0, static (_, _) => 0, ct);
            return null;
        }

        var name = Signature.Outputs[0].Name;
        fixed (float* pointer = destination)
        {
            var (address, capacity) = ((nint)pointer, destination.Length);
            return Execute(inputs, 1, (api, values) =>
            {
                var target = new Span<float>((void*)address, capacity);
                var (_, shape, length) = ReadOutput(api, name, values[0], false, target);
                return new OutputShape(name, shape, length, length <= capacity);
            }, ct);
        }
    }

    /// <summary>
    /// One run asking for the model's first <paramref name="outputCount"/> outputs; <paramref name="read"/> reads them
    /// while the inputs are pinned and the session and output values are held (all released afterwards).
    /// </summary>
    private T Execute<T>(IReadOnlyList<InputTensor> inputs, int outputCount, Func<OrtApi, OrtValueHandle?[], T> read, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ArgumentNullException.ThrowIfNull(inputs);
        ct.ThrowIfCancellationRequested();
        var ordered = Match(inputs);

        var api = _runtime.Api;
        var pins = new MemoryHandle[ordered.Length];
        var inputValues = new OrtValueHandle?[ordered.Length];
        var inputRaw = new nint[ordered.Length];
        var outputRaw = new nint[outputCount];
        var outputValues = new OrtValueHandle?[outputRaw.Length];
        OrtRunOptionsHandle? runOptions = null;
        var sessionAdded = false;
        try
        {
            _session.DangerousAddRef(ref sessionAdded);
            for (var i = 0; i < ordered.Length; i++)
            {
                var (type, bytes) = Pin(ordered[i], Signature.Inputs[i].ElementType, out pins[i]);
                inputValues[i] = CreateInputTensor(api, ordered[i], pins[i].Pointer, type, bytes);
                inputRaw[i] = inputValues[i]!.DangerousGetHandle();
            }

            // Run options only carry the terminate flag here, so a run that cannot be cancelled goes without (null = defaults).
            runOptions = ct.CanBeCanceled ? CreateRunOptions(api) : null;
            var terminator = runOptions is null ? null : new RunTerminator(api, runOptions);
            nint status;

            // The registration is disposed (waiting for a callback in progress) before the run options are released.
            using (terminator is null ? default : ct.UnsafeRegister(static state => ((RunTerminator)state!).Terminate(), terminator))
            {
                RunStarting?.Invoke();
                fixed (nint* inputNames = _inputNames.Pointers, outputNames = _outputNames.Pointers, ins = inputRaw, outs = outputRaw)
                {
                    status = api.Run(_session.DangerousGetHandle(), runOptions?.DangerousGetHandle() ?? 0, (byte**)inputNames, ins,
                        (nuint)inputRaw.Length, (byte**)outputNames, (nuint)outputRaw.Length, outs);
                }
            }

            for (var i = 0; i < outputRaw.Length; i++)
            {
                if (outputRaw[i] != 0)
                {
                    outputValues[i] = new OrtValueHandle(api, outputRaw[i]);
                }
            }

            OrtStatus.Check(api, status, OrtCall.Run(_path, terminator?.Terminated == true));
            return read(api, outputValues);
        }
        catch (InferenceException e) when (e.Code == OrtStatus.Cancelled)
        {
            Log.RunCancelled(_logger, _path);
            throw new OperationCanceledException(e.Message, e, ct);
        }
        finally
        {
            foreach (var value in outputValues)
            {
                value?.Dispose();
            }

            runOptions?.Dispose();
            foreach (var value in inputValues)
            {
                value?.Dispose();
            }

            foreach (var pin in pins)
            {
                pin.Dispose();
            }

            if (sessionAdded)
            {
                _session.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _session.Dispose();
        }
    }

    private static OrtSessionHandle CreateSession(OrtRuntime.Started runtime, string path, int intraOpThreads, bool allowSpinning)
    {
        var api = runtime.Api;
        var call = OrtCall.Load(path);
        nint rawOptions = 0;
        OrtStatus.Check(api, api.CreateSessionOptions(&rawOptions), call);
        using var options = new OrtSessionOptionsHandle(api, rawOptions);
        OrtStatus.Check(api, api.SetIntraOpNumThreads(rawOptions, intraOpThreads), call);
        OrtStatus.Check(api, api.SetSessionGraphOptimizationLevel(rawOptions, GraphOptimizationLevel.All), call);
        fixed (byte* key = Utf8Z("session.intra_op.allow_spinning"))
        fixed (byte* value = Utf8Z(allowSpinning ? "1" : "0"))
        {
            OrtStatus.Check(api, api.AddSessionConfigEntry(rawOptions, key, value), call);
        }
        fixed (byte* logId = Utf8Z(Path.GetFileName(path)))
        {
            OrtStatus.Check(api, api.SetSessionLogId(rawOptions, logId), call);
        }

        nint session = 0;
        fixed (byte* model = Utf8Z(path))
        {
            OrtStatus.Check(api, api.CreateSession(runtime.Env.DangerousGetHandle(), model, rawOptions, &session), call);
        }

        return new OrtSessionHandle(api, session);
    }

    private static TensorInfo[] ReadTensors(
        OrtApi api,
        OrtSessionHandle session,
        string path,
        delegate* unmanaged<nint, nuint*, nint> getCount,
        delegate* unmanaged<nint, nuint, nint, nint*, nint> getName,
        delegate* unmanaged<nint, nuint, nint*, nint> getTypeInfo,
        nint allocator)
    {
        var call = OrtCall.Inspect(path);
        var raw = session.DangerousGetHandle();
        nuint count = 0;
        OrtStatus.Check(api, getCount(raw, &count), call);
        var tensors = new TensorInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            nint name = 0;
            OrtStatus.Check(api, getName(raw, i, allocator, &name), call);
            string text;
            using (var owned = new OrtAllocatedMemoryHandle(api, allocator, name))
            {
                text = owned.ReadUtf8();
            }

            nint typeInfo = 0;
            OrtStatus.Check(api, getTypeInfo(raw, i, &typeInfo), call);
            using var type = new OrtTypeInfoHandle(api, typeInfo);
            tensors[(int)i] = ReadTensorInfo(api, text, type, call);
        }

        return tensors;
    }

    private static TensorInfo ReadTensorInfo(OrtApi api, string name, OrtTypeInfoHandle type, in OrtCall call)
    {
        var kind = OnnxType.Unknown;
        OrtStatus.Check(api, api.GetOnnxTypeFromTypeInfo(type.DangerousGetHandle(), &kind), call);
        if (kind != OnnxType.Tensor)
        {
            return new TensorInfo(name, TensorElementType.Other, []);
        }

        nint tensor = 0; // owned by the type info
        OrtStatus.Check(api, api.CastTypeInfoToTensorInfo(type.DangerousGetHandle(), &tensor), call);
        var element = OnnxElementType.Undefined;
        OrtStatus.Check(api, api.GetTensorElementType(tensor, &element), call);
        return new TensorInfo(name, Map(element), ReadDimensions(api, tensor, call));
    }

    private static long[] ReadDimensions(OrtApi api, nint tensorInfo, in OrtCall call)
    {
        nuint rank = 0;
        OrtStatus.Check(api, api.GetDimensionsCount(tensorInfo, &rank), call);
        var dims = new long[(int)rank];
        fixed (long* d = dims)
        {
            OrtStatus.Check(api, api.GetDimensions(tensorInfo, d, rank), call);
        }

        for (var i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0)
            {
                dims[i] = -1; // symbolic ("N", "batch") or unknown
            }
        }

        return dims;
    }

    /// <summary>
    /// Pins an input's values for the run: float32 as given, int64 as given or converted to int32 when the model
    /// declares int32 (token ids fit); returns the element type and the byte length the runtime is told.
    /// </summary>
    private static (OnnxElementType Type, nuint Bytes) Pin(InputTensor input, TensorElementType declared, out MemoryHandle pin)
    {
        if (input.ElementType != TensorElementType.Int64)
        {
            pin = MemoryMarshal.AsMemory(input.Data).Pin();
            return (OnnxElementType.Float, (nuint)input.Data.Length * sizeof(float));
        }

        if (declared == TensorElementType.Int32)
        {
            var narrowed = new int[input.Int64Data.Length];
            var source = input.Int64Data.Span;
            for (var i = 0; i < narrowed.Length; i++)
            {
                narrowed[i] = checked((int)source[i]);
            }

            pin = narrowed.AsMemory().Pin();
            return (OnnxElementType.Int32, (nuint)narrowed.Length * sizeof(int));
        }

        pin = MemoryMarshal.AsMemory(input.Int64Data).Pin();
        return (OnnxElementType.Int64, (nuint)input.Int64Data.Length * sizeof(long));
    }

    private OrtValueHandle CreateInputTensor(OrtApi api, InputTensor input, void* data, OnnxElementType type, nuint bytes)
    {
        var shape = input.Shape.ToArray();
        nint value = 0;
        fixed (long* dims = shape)
        {
            OrtStatus.Check(api, api.CreateTensorWithDataAsOrtValue(_runtime.CpuMemory.DangerousGetHandle(), data,
                bytes, dims, (nuint)shape.Length, type, &value), OrtCall.Run(_path));
        }

        return new OrtValueHandle(api, value);
    }

    private OrtRunOptionsHandle CreateRunOptions(OrtApi api)
    {
        nint options = 0;
        OrtStatus.Check(api, api.CreateRunOptions(&options), OrtCall.Run(_path));
        return new OrtRunOptionsHandle(api, options);
    }

    /// <summary>
    /// Reads a float32 output: copies its values into a new array (<paramref name="intoNewArray"/>, returned as Data)
    /// or into <paramref name="destination"/> when they fit (Data is null; nothing is copied when they do not); returns
    /// the shape and the element count too.
    /// </summary>
    private (float[]? Data, long[] Shape, long Length) ReadOutput(OrtApi api, string name, OrtValueHandle? value, bool intoNewArray, Span<float> destination)
    {
        if (value is null)
        {
            throw Failed($"returned no value for its output '{name}'.");
        }

        var call = OrtCall.Run(_path);
        nint rawInfo = 0;
        OrtStatus.Check(api, api.GetTensorTypeAndShape(value.DangerousGetHandle(), &rawInfo), call);
        using var info = new OrtTensorTypeAndShapeInfoHandle(api, rawInfo);
        var element = OnnxElementType.Undefined;
        OrtStatus.Check(api, api.GetTensorElementType(rawInfo, &element), call);
        if (element != OnnxElementType.Float)
        {
            throw Failed($"gives {Map(element)} values in its output '{name}'; Trove reads float32 outputs.");
        }

        var shape = ReadDimensions(api, rawInfo, call);
        nuint count = 0;
        OrtStatus.Check(api, api.GetTensorShapeElementCount(rawInfo, &count), call);
        var length = checked((int)count);
        float[]? data = null;
        Span<float> target;
        if (intoNewArray)
        {
            data = new float[length];
            target = data;
        }
        else if (length > destination.Length)
        {
            return (null, shape, length); // too long for the caller's buffer: not written
        }
        else
        {
            target = destination[..length];
        }

        if (length > 0)
        {
            void* source = null;
            OrtStatus.Check(api, api.GetTensorMutableData(value.DangerousGetHandle(), &source), call);
            new ReadOnlySpan<float>(source, length).CopyTo(target);
        }

        return (data, shape, length);
    }

    /// <summary>Puts the caller's inputs in the model's order, checking names, element types, ranks, fixed dimensions and sizes.</summary>
    private InputTensor[] Match(IReadOnlyList<InputTensor> inputs)
    {
        var ordered = new InputTensor?[Signature.Inputs.Count];
        foreach (var input in inputs)
        {
            ArgumentNullException.ThrowIfNull(input, nameof(inputs));
            if (!_inputIndex.TryGetValue(input.Name, out var index))
            {
                throw Failed($"has no input named '{input.Name}'; its inputs are {Describe(Signature.Inputs)}.");
            }

            if (ordered[index] is not null)
            {
                throw Failed($"was given its input '{input.Name}' twice.");
            }

            Check(Signature.Inputs[index], input);
            ordered[index] = input;
        }

        for (var i = 0; i < ordered.Length; i++)
        {
            if (ordered[i] is null)
            {
                throw Failed($"needs its input {Describe([Signature.Inputs[i]])}, which was not given.");
            }
        }

        return ordered!;
    }

    private void Check(TensorInfo expected, InputTensor input)
    {
        var fits = input.ElementType == TensorElementType.Int64
            ? expected.ElementType is TensorElementType.Int64 or TensorElementType.Int32
            : expected.ElementType == TensorElementType.Float32;
        if (!fits)
        {
            throw Failed($"takes {expected.ElementType} values in its input '{expected.Name}'; Trove passes {(input.ElementType == TensorElementType.Int64 ? "integer" : "float32")} values there.");
        }

        var shape = input.Shape;
        if (shape.Count != expected.Rank)
        {
            throw Failed($"takes a rank-{expected.Rank} tensor {Format(expected.Shape)} as '{expected.Name}'; the tensor given has rank {shape.Count} {Format(shape)}.");
        }

        long count = 1;
        for (var d = 0; d < shape.Count; d++)
        {
            if (shape[d] < 1)
            {
                throw Failed($"cannot take the tensor {Format(shape)} as '{expected.Name}': every dimension must be at least 1.");
            }

            if (expected.Shape[d] >= 0 && expected.Shape[d] != shape[d])
            {
                throw Failed($"takes {Format(expected.Shape)} as '{expected.Name}'; dimension {d} of the tensor given {Format(shape)} is {shape[d]}, not {expected.Shape[d]}.");
            }

            count = count > int.MaxValue / shape[d] ? long.MaxValue : count * shape[d];
        }

        if (count != input.Length)
        {
            throw Failed($"was given {input.Length} values for '{expected.Name}' with the shape {Format(shape)}, which holds {(count == long.MaxValue ? "more than 2^31" : count)}.");
        }
    }

    private InferenceException Failed(string what) => new("inference-failed", $"The model {_path} {what}");

    private static TensorElementType Map(OnnxElementType type) => type switch
    {
        OnnxElementType.Float => TensorElementType.Float32,
        OnnxElementType.Float16 => TensorElementType.Float16,
        OnnxElementType.Double => TensorElementType.Float64,
        OnnxElementType.Int64 => TensorElementType.Int64,
        OnnxElementType.Int32 => TensorElementType.Int32,
        OnnxElementType.Int8 => TensorElementType.Int8,
        OnnxElementType.UInt8 => TensorElementType.UInt8,
        OnnxElementType.Bool => TensorElementType.Bool,
        OnnxElementType.String => TensorElementType.String,
        _ => TensorElementType.Other,
    };

    private static string Format(IReadOnlyList<long> shape) => "[" + string.Join(",", shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    private static string Describe(IReadOnlyList<TensorInfo> tensors) =>
        tensors.Count == 0 ? "(none)" : string.Join(", ", tensors.Select(t => $"'{t.Name}' {t.ElementType} {Format(t.Shape)}"));

    private static byte[] Utf8Z(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>Names as NUL-terminated UTF-8 in pinned (never moving) arrays, with their addresses for Run.</summary>
    private sealed class Utf8Names
    {
        private readonly byte[][] _bytes;

        public Utf8Names(IEnumerable<string> names)
        {
            _bytes = names.Select(name =>
            {
                var bytes = GC.AllocateArray<byte>(Encoding.UTF8.GetByteCount(name) + 1, pinned: true);
                Encoding.UTF8.GetBytes(name, bytes);
                return bytes;
            }).ToArray();
            Pointers = _bytes.Select(b => Marshal.UnsafeAddrOfPinnedArrayElement(b, 0)).ToArray();
        }

        public nint[] Pointers { get; }
    }

    /// <summary>Sets a run's terminate flag when its token is cancelled (on the cancelling thread; never throws).</summary>
    private sealed class RunTerminator(OrtApi api, OrtRunOptionsHandle options)
    {
        private volatile bool _terminated;

        public bool Terminated => _terminated;

        public void Terminate()
        {
            _terminated = true;
            OrtStatus.Discard(api, api.RunOptionsSetTerminate(options.DangerousGetHandle()));
        }
    }
}
