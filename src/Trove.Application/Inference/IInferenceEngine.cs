namespace Trove.Application.Inference;

/// <summary>Element types of model tensors (the ones Trove's models use, and "other" for the rest).</summary>
public enum TensorElementType
{
    Other = 0,
    Float32,
    Float16,
    Float64,
    Int64,
    Int32,
    Int8,
    UInt8,
    Bool,
    String,
}

/// <summary>A model input or output as the model declares it; a dimension of -1 is dynamic (e.g. the batch).</summary>
public sealed record TensorInfo(string Name, TensorElementType ElementType, IReadOnlyList<long> Shape)
{
    public int Rank => Shape.Count;
}

/// <summary>What a model takes and gives, read from the model file.</summary>
public sealed record ModelSignature(IReadOnlyList<TensorInfo> Inputs, IReadOnlyList<TensorInfo> Outputs);

/// <summary>Whether models can run here: the runtime's version, or what to install.</summary>
public sealed record InferenceStatus(bool Available, string? Version, string? Message);

/// <summary>How a session runs: threads inside one operator (0 = the runtime's default).</summary>
public sealed record InferenceSessionOptions(int IntraOpThreads = 0);

/// <summary>
/// An input: float32 values in <paramref name="Data"/> (row-major order for <paramref name="Shape"/>), or integer
/// values in <see cref="Int64Data"/> for models that take token ids (<see cref="Int64"/>; passed as int64, or as int32
/// when the model declares int32).
/// </summary>
public sealed record InputTensor(string Name, ReadOnlyMemory<float> Data, IReadOnlyList<long> Shape)
{
    /// <summary>The values of an integer input (empty for a float32 one).</summary>
    public ReadOnlyMemory<long> Int64Data { get; init; }

    /// <summary>Float32, or Int64 for an input made by <see cref="Int64"/>.</summary>
    public TensorElementType ElementType { get; init; } = TensorElementType.Float32;

    /// <summary>Elements given.</summary>
    public int Length => ElementType == TensorElementType.Int64 ? Int64Data.Length : Data.Length;

    /// <summary>An integer input (token ids, attention masks).</summary>
    public static InputTensor Int64(string name, ReadOnlyMemory<long> data, IReadOnlyList<long> shape) =>
        new(name, ReadOnlyMemory<float>.Empty, shape) { Int64Data = data, ElementType = TensorElementType.Int64 };
}

/// <summary>A float32 output, copied out of the runtime.</summary>
public sealed record OutputTensor(string Name, float[] Data, IReadOnlyList<long> Shape);

/// <summary>
/// What <see cref="IInferenceSession.RunInto"/> wrote: the first output's name, shape and element count. The values
/// are in the first <see cref="Length"/> floats of the caller's buffer when <see cref="Written"/>; an output longer
/// than the buffer is not written at all (the shape says what the model gave).
/// </summary>
public sealed record OutputShape(string Name, IReadOnlyList<long> Shape, long Length, bool Written);

/// <summary>
/// Runs models (ONNX Runtime at the edge, in Trove.Inference.Onnx). Without the native runtime the host uses
/// <see cref="UnavailableInferenceEngine"/>, whose <see cref="Status"/> says what to install; everything that does not
/// run a model keeps working.
/// </summary>
public interface IInferenceEngine
{
    InferenceStatus Status { get; }

    /// <summary>Loads a model file. Throws <see cref="InferenceException"/> (code model-invalid / inference-unavailable) with the file named.</summary>
    IInferenceSession Load(string modelPath, InferenceSessionOptions options);
}

/// <summary>A loaded model. Thread-safe for concurrent <see cref="Run"/> calls; dispose to free native memory.</summary>
public interface IInferenceSession : IDisposable
{
    ModelSignature Signature { get; }

    /// <summary>
    /// Runs the model on float32 inputs (the batch is the first dimension) and returns the float32 outputs, in the
    /// order the model declares them. Cancelling <paramref name="ct"/> stops a running inference.
    /// </summary>
    IReadOnlyList<OutputTensor> Run(IReadOnlyList<InputTensor> inputs, CancellationToken ct);

    /// <summary>
    /// Runs the model like <see cref="Run"/> but only for its first output, whose values are copied into
    /// <paramref name="destination"/> (no array per run, for callers that run many times, e.g. one tile after
    /// another); returns its shape, or null when the model gives no output. An output longer than
    /// <paramref name="destination"/> is not written (<see cref="OutputShape.Written"/> is false).
    /// </summary>
    OutputShape? RunInto(IReadOnlyList<InputTensor> inputs, Span<float> destination, CancellationToken ct)
    {
        var outputs = Run(inputs, ct);
        if (outputs.Count == 0)
        {
            return null;
        }

        var first = outputs[0];
        var written = first.Data.Length <= destination.Length;
        if (written)
        {
            first.Data.CopyTo(destination);
        }

        return new OutputShape(first.Name, first.Shape, first.Data.Length, written);
    }
}

/// <summary>A model could not be loaded or run; <see cref="Code"/> is stable (inference-unavailable, model-invalid, inference-failed, inference-cancelled).</summary>
public sealed class InferenceException(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Code { get; } = code;
}

/// <summary>Stands in when ONNX Runtime is missing: says what to install whenever a model is needed.</summary>
public sealed class UnavailableInferenceEngine(string message) : IInferenceEngine
{
    public InferenceStatus Status { get; } = new(false, null, message);

    public IInferenceSession Load(string modelPath, InferenceSessionOptions options) =>
        throw new InferenceException("inference-unavailable", $"Cannot load {modelPath}: {message}");
}
