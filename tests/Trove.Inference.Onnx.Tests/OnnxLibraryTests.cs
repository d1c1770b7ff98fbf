using Trove.Application.Inference;
using Trove.Inference.Onnx.Native;

namespace Trove.Inference.Onnx.Tests;

/// <summary>Finding and loading the native library, and what happens without it.</summary>
public sealed class OnnxLibraryTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_missing_library_gives_an_unavailable_engine_that_says_what_to_install()
    {
        var missing = Path.Combine(_folder.Path, "libonnxruntime.so.1");
        var logs = new ListLogger();

        var engine = OnnxInferenceEngine.Create(new OnnxOptions { LibraryPath = missing }, logs);

        Assert.IsType<UnavailableInferenceEngine>(engine);
        Assert.False(engine.Status.Available);
        Assert.Null(engine.Status.Version);
        Assert.Contains(missing, engine.Status.Message, StringComparison.Ordinal);
        Assert.Contains("make deps", engine.Status.Message, StringComparison.Ordinal);
        Assert.Contains("TROVE_Onnx__LibraryPath", engine.Status.Message, StringComparison.Ordinal);
        Assert.Contains("no such file", engine.Status.Message, StringComparison.Ordinal);
        Assert.Contains(logs.Entries, e => e.Message.Contains("make deps", StringComparison.Ordinal));

        var e = Assert.Throws<InferenceException>(() => engine.Load(Path.Combine(_folder.Path, "model.onnx"), new InferenceSessionOptions()));
        Assert.Equal("inference-unavailable", e.Code);
        Assert.Contains("make deps", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_library_gives_an_unavailable_engine()
    {
        var fake = Path.Combine(_folder.Path, "libonnxruntime.so.1");
        File.WriteAllText(fake, string.Concat(Enumerable.Repeat("not a shared library\n", 200)));

        var engine = OnnxInferenceEngine.Create(new OnnxOptions { LibraryPath = fake });

        Assert.False(engine.Status.Available);
        Assert.Contains(fake, engine.Status.Message, StringComparison.Ordinal);
        Assert.Contains("invalid ELF header", engine.Status.Message, StringComparison.Ordinal); // the system loader's reason
    }

    [Fact]
    public void A_library_that_is_not_onnx_runtime_is_named_as_such()
    {
        var engine = OnnxInferenceEngine.Create(new OnnxOptions { LibraryPath = "libm.so.6" });

        Assert.False(engine.Status.Available);
        Assert.Contains("libm.so.6 is not ONNX Runtime", engine.Status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_library_path_may_name_the_folder_that_holds_it()
    {
        var folder = Path.Combine(Ort.RepositoryRoot(), ".native", "onnxruntime");

        var engine = OnnxInferenceEngine.Create(new OnnxOptions { LibraryPath = folder });

        Assert.True(engine.Status.Available, engine.Status.Message);
        Assert.Equal(Ort.Engine.Status.Version, engine.Status.Version);
    }

    [Fact]
    public void A_configured_path_is_the_only_candidate_and_wins_over_the_environment()
    {
        var configured = OrtLibraryLocator.Candidates("/opt/ort/libonnxruntime.so.1", "/env/libonnxruntime.so.1", _folder.Path);
        var fromEnvironment = OrtLibraryLocator.Candidates(null, " /env/libonnxruntime.so.1 ", _folder.Path);

        Assert.Equal([new OrtLibraryCandidate("/opt/ort/libonnxruntime.so.1", true)], configured);
        Assert.Equal([new OrtLibraryCandidate("/env/libonnxruntime.so.1", true)], fromEnvironment);
    }

    [Fact]
    public void Without_configuration_the_nearest_installed_copy_above_the_app_comes_before_the_system_library()
    {
        var installed = Path.Combine(_folder.Path, ".native", "onnxruntime", "libonnxruntime.so.1");
        Directory.CreateDirectory(Path.GetDirectoryName(installed)!);
        File.WriteAllBytes(installed, []);
        var app = Path.Combine(_folder.Path, "src", "Trove.Cli", "bin", "Release", "net10.0");
        Directory.CreateDirectory(app);

        var candidates = OrtLibraryLocator.Candidates(null, "", app);
        var elsewhere = OrtLibraryLocator.Candidates(null, null, Path.GetTempPath());

        Assert.Equal([new OrtLibraryCandidate(installed, false), new OrtLibraryCandidate("libonnxruntime.so.1", false)], candidates);
        Assert.Equal(new OrtLibraryCandidate("libonnxruntime.so.1", false), elsewhere[^1]);
    }

    [Fact]
    public void The_default_search_finds_the_copy_make_deps_installed()
    {
        var installed = Path.Combine(Ort.RepositoryRoot(), ".native", "onnxruntime", "libonnxruntime.so.1");
        Assert.True(File.Exists(installed), $"run `make deps` first: {installed} is missing");

        var candidates = OrtLibraryLocator.Candidates(null, null, AppContext.BaseDirectory);

        Assert.Equal(installed, candidates[0].Path);
        Assert.Equal(installed, ((OnnxInferenceEngine)Ort.Engine).LibraryPath);
    }
}
