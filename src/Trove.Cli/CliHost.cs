using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Trove.Application;
using Trove.Application.Inference;
using Trove.Application.Ports;
using Trove.Imaging.Vips;
using Trove.Inference.Onnx;
using Trove.Index.Sqlite;

namespace Trove.Cli;

/// <summary>Composition root of the CLI: settings from TROVE_* variables, engines, logging, who is acting.</summary>
internal static class CliHost
{
    public static string DefaultLibraryPath()
    {
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrEmpty(data))
        {
            data = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        }

        return Path.Combine(data, "trove", "library");
    }

    public static string ResolveLibraryPath(string? option) =>
        !string.IsNullOrWhiteSpace(option) ? option
        : Environment.GetEnvironmentVariable("TROVE_LIBRARY") is { Length: > 0 } env ? env
        : DefaultLibraryPath();

    /// <summary>Server settings from TROVE_Server__* variables (e.g. TROVE_Server__AnonymousRead=true).</summary>
    public static Trove.Server.ServerSettings ServerSettings()
    {
        var settings = new Trove.Server.ServerSettings();
        new ConfigurationBuilder().AddEnvironmentVariables("TROVE_").Build().GetSection(Trove.Server.ServerSettings.SectionName).Bind(settings);
        return settings;
    }

    public static LibraryEnvironment CreateEnvironment(TextWriter stderr, bool verbose)
    {
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables("TROVE_").Build();
        var options = new TroveOptions();
        configuration.Bind(options);
        var loggerFactory = LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
            b.AddProvider(new StderrLoggerProvider(stderr));
        });
        var actor = Environment.GetEnvironmentVariable("TROVE_USER") is { Length: > 0 } user ? user : Environment.UserName;
        var vips = new VipsOptions();
        configuration.GetSection("Vips").Bind(vips);
        return new LibraryEnvironment(new SqliteIndexFactory(), new SqliteStateStoreFactory(), options, TimeProvider.System, loggerFactory, actor)
        {
            Imaging = Imaging(vips, loggerFactory),
            Inference = Inference(configuration, loggerFactory),
            // Limits (concurrency, requests per minute, a 429's cool-down) are shared by every instance in the process.
            Remote = Trove.Providers.Http.HttpRemoteModels.Create(loggerFactory, TimeProvider.System),
        };
    }

    // libvips is initialised once per process; every command in it shares the engine.
    private static readonly Lock ImagingGate = new();
    private static IImageEngine? _imaging;

    private static IImageEngine Imaging(VipsOptions options, ILoggerFactory loggerFactory)
    {
        lock (ImagingGate)
        {
            return _imaging ??= VipsImageEngine.Create(options, loggerFactory.CreateLogger("Trove.Imaging"));
        }
    }

    // ONNX Runtime is loaded once per process (settings from the "Onnx" section: TROVE_Onnx__LibraryPath, TROVE_Onnx__IntraOpThreads).
    private static readonly Lock InferenceGate = new();
    private static IInferenceEngine? _inference;

    private static IInferenceEngine Inference(IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        lock (InferenceGate)
        {
            if (_inference is null)
            {
                var onnx = new OnnxOptions();
                configuration.GetSection(OnnxOptions.SectionName).Bind(onnx);
                _inference = OnnxInferenceEngine.Create(onnx, loggerFactory.CreateLogger("Trove.Inference"));
            }

            return _inference;
        }
    }

    /// <summary>Plain "level: message" lines on stderr, so stdout stays clean for results.</summary>
    private sealed class StderrLoggerProvider(TextWriter stderr) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new StderrLogger(stderr);

        public void Dispose()
        {
        }

        private sealed class StderrLogger(TextWriter stderr) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var level = logLevel switch
                {
                    LogLevel.Warning => "warning",
                    LogLevel.Error or LogLevel.Critical => "error",
                    _ => "info",
                };
                lock (stderr)
                {
                    stderr.WriteLine($"{level}: {formatter(state, exception)}");
                }
            }
        }
    }
}
