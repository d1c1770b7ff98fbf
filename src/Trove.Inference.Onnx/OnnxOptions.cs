namespace Trove.Inference.Onnx;

/// <summary>ONNX Runtime settings (configuration section "Onnx", e.g. TROVE_Onnx__LibraryPath, TROVE_Onnx__IntraOpThreads).</summary>
public sealed class OnnxOptions
{
    /// <summary>Configuration section these options bind from.</summary>
    public const string SectionName = "Onnx";

    /// <summary>The environment variable that names the library when <see cref="LibraryPath"/> is not set.</summary>
    public const string LibraryPathVariable = "TROVE_Onnx__LibraryPath";

    /// <summary>
    /// The ONNX Runtime shared library (a file, or a folder holding libonnxruntime.so.1). When set (here or in
    /// TROVE_Onnx__LibraryPath) only that library is tried. When not set: <c>.native/onnxruntime/libonnxruntime.so.1</c>
    /// in the application's folder or the nearest folder above it that has one (where <c>make deps</c> puts it), then
    /// the system's <c>libonnxruntime.so.1</c>.
    /// </summary>
    public string? LibraryPath { get; set; }

    /// <summary>
    /// Threads one operator may use, per session (0 = ONNX Runtime's default: one per physical core). A session can
    /// ask for its own number when it is loaded.
    /// </summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Let a session's worker threads spin while they wait for the next operator (ONNX Runtime's own default). Off by
    /// default here: between two runs Trove decodes images on the same cores, and spinning threads take CPU time from
    /// that work (measured in <c>make bench-ml</c>). Turn it on for a host that only runs models back to back.
    /// </summary>
    public bool AllowSpinning { get; set; }
}
