using Microsoft.Extensions.Logging;
using Trove.Application.Inference;

namespace Trove.Inference.Onnx.Tests;

/// <summary>The real ONNX Runtime (found the way Trove finds it: `make deps` puts it in .native/onnxruntime).</summary>
internal static class Ort
{
    private static readonly Lazy<IInferenceEngine> Shared = new(() => OnnxInferenceEngine.Create(new OnnxOptions(), Logs));

    /// <summary>What the runtime logged through the shared engine's logger.</summary>
    public static ListLogger Logs { get; } = new();

    /// <summary>The engine; fails the test with the engine's own message when ONNX Runtime cannot be loaded.</summary>
    public static IInferenceEngine Engine
    {
        get
        {
            var engine = Shared.Value;
            Assert.True(engine.Status.Available, $"ONNX Runtime is needed for this test: {engine.Status.Message}");
            return engine;
        }
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Trove.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Trove.slnx not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary folder for model files, deleted at the end of the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "trove-onnx-" + Guid.NewGuid().ToString("N")[..12]);

    public string Write(string name, byte[] model) => Trove.Testing.OnnxModels.Write(System.IO.Path.Combine(Path, name), model);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Collects formatted log lines (thread-safe).</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
