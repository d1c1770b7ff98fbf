using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trove.Application.Inference;

namespace Trove.Inference.Onnx.Native;

/// <summary>
/// Loads ONNX Runtime once per process (thread-safe): finds the library, reads the API table, checks it, and creates
/// the process's environment (whose log goes to Trove's log) and the CPU memory description used for input tensors.
/// </summary>
internal static unsafe class OrtRuntime
{
    public const string NotFoundMessage =
        "ONNX Runtime not found — run `make deps` (it fetches libonnxruntime.so.1 into .native/onnxruntime) or set TROVE_Onnx__LibraryPath";

    private static readonly Lock Gate = new();
    private static Started? s_started;
    private static ILogger s_logger = NullLogger.Instance;

    /// <summary>
    /// What a successful start-up holds for the rest of the process: the API table, the environment and the CPU memory
    /// info (both kept alive for the process, as sessions rely on them), and ORT's default allocator (owned by ORT).
    /// </summary>
    internal sealed class Started(OrtApi api, string version, string libraryPath, nint library, OrtEnvHandle env, OrtMemoryInfoHandle cpuMemory, nint allocator)
    {
        public OrtApi Api { get; } = api;

        public string Version { get; } = version;

        public string LibraryPath { get; } = libraryPath;

        public nint Library { get; } = library;

        public OrtEnvHandle Env { get; } = env;

        public OrtMemoryInfoHandle CpuMemory { get; } = cpuMemory;

        public nint Allocator { get; } = allocator;
    }

    /// <summary>Starts ONNX Runtime as <paramref name="options"/> say; on failure returns null and says why (and what to do).</summary>
    public static Started? TryStart(OnnxOptions options, ILogger logger, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (Gate)
        {
            if (logger is not NullLogger)
            {
                Volatile.Write(ref s_logger, logger);
            }

            if (!TryLoadLibrary(options, out var library, out var path, out failure))
            {
                return null;
            }

            if (s_started is not null)
            {
                // One ONNX Runtime per process: another copy is not started, but it must at least be one.
                var isOrt = NativeLibrary.TryGetExport(library, "OrtGetApiBase", out _);
                if (library != s_started.Library)
                {
                    NativeLibrary.Free(library);
                    if (!isOrt)
                    {
                        failure = NotOrt(path);
                        return null;
                    }

                    Log.OnnxAlreadyLoaded(logger, s_started.LibraryPath, path);
                }
                else
                {
                    NativeLibrary.Free(library);
                }

                return s_started;
            }

            s_started = TryFirstStart(library, path, out failure);
            return s_started;
        }
    }

    private static bool TryLoadLibrary(OnnxOptions options, out nint library, out string path, out string? failure)
    {
        failure = null;
        var candidates = OrtLibraryLocator.Candidates(options);
        foreach (var candidate in candidates)
        {
            try
            {
                library = NativeLibrary.Load(candidate.Path);
                path = candidate.Path;
                return true;
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                if (candidate.Configured)
                {
                    var reason = candidate.Path.Contains('/', StringComparison.Ordinal) && !File.Exists(candidate.Path) ? "no such file" : LoaderError(e.Message);
                    failure = $"ONNX Runtime could not be loaded from {candidate.Path} ({reason}) — run `make deps` "
                        + $"(it fetches libonnxruntime.so.1 into .native/onnxruntime) or set {OnnxOptions.LibraryPathVariable} to a libonnxruntime.so.1";
                }
            }
        }

        failure ??= NotFoundMessage;
        library = 0;
        path = string.Empty;
        return false;
    }

    private static Started? TryFirstStart(nint library, string path, out string? failure)
    {
        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBase))
        {
            NativeLibrary.Free(library);
            failure = NotOrt(path);
            return null;
        }

        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }
        var apiBase = (nint*)((delegate* unmanaged<nint>)getApiBase)();
        var getApi = (delegate* unmanaged<uint, nint>)apiBase[0];
        var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];
        var version = Marshal.PtrToStringUTF8((nint)getVersionString()) ?? "unknown";
        var table = getApi(OrtApi.Version);
        if (table == 0)
        {
            failure = $"ONNX Runtime {version} at {path} is too old: Trove needs {OrtApi.MinimumRelease} or later. {NotFoundMessage}";
            return null;
        }

        try
        {
            var api = new OrtApi(table);
            SelfTest(api, version);
            var env = CreateEnv(api);
            nint memory = 0;
            OrtStatus.Check(api, api.CreateCpuMemoryInfo(OrtAllocatorType.Arena, OrtMemType.Default, &memory), OrtCall.Startup);
            var cpuMemory = new OrtMemoryInfoHandle(api, memory);
            nint allocator = 0;
            OrtStatus.Check(api, api.GetAllocatorWithDefaultOptions(&allocator), OrtCall.Startup);
            failure = null;
            return new Started(api, version, path, library, env, cpuMemory, allocator);
        }
        catch (Exception e) when (e is InferenceException or InvalidOperationException)
        {
            failure = $"ONNX Runtime {version} at {path} could not start: {e.Message}";
            return null;
        }
    }

    /// <summary>
    /// Proves the table is the one this binding expects before anything depends on it: a status made with CreateStatus
    /// must come back through GetErrorCode and GetErrorMessage, and ReleaseStatus must take it.
    /// </summary>
    private static void SelfTest(OrtApi api, string version)
    {
        ReadOnlySpan<byte> probe = "trove-probe"u8;
        var text = stackalloc byte[probe.Length + 1];
        probe.CopyTo(new Span<byte>(text, probe.Length));
        text[probe.Length] = 0;
        var status = api.CreateStatus(OrtErrorCode.InvalidGraph, text);
        if (status == 0)
        {
            throw new InvalidOperationException($"ONNX Runtime {version}'s API table did not pass Trove's check (CreateStatus)");
        }

        var code = api.GetErrorCode(status);
        var message = Marshal.PtrToStringUTF8((nint)api.GetErrorMessage(status));
        api.ReleaseStatus(status);
        if (code != OrtErrorCode.InvalidGraph || message != "trove-probe")
        {
            throw new InvalidOperationException($"ONNX Runtime {version}'s API table did not pass Trove's check (status round trip)");
        }
    }

    private static OrtEnvHandle CreateEnv(OrtApi api)
    {
        var logId = "trove"u8;
        var id = stackalloc byte[logId.Length + 1];
        logId.CopyTo(new Span<byte>(id, logId.Length));
        id[logId.Length] = 0;
        nint env = 0;
        OrtStatus.Check(api, api.CreateEnvWithCustomLogger(&OnOrtLog, 0, OrtLoggingLevel.Warning, id, &env), OrtCall.Startup);
        return new OrtEnvHandle(api, env);
    }

    /// <summary>
    /// ONNX Runtime's log (any of its threads) into Trove's: its warnings are informational for Trove (errors come back
    /// as statuses and become exceptions), its errors warnings. Must never throw back into native code.
    /// </summary>
    [UnmanagedCallersOnly]
    private static void OnOrtLog(nint param, OrtLoggingLevel severity, byte* category, byte* logId, byte* codeLocation, byte* message)
    {
        try
        {
            var level = severity switch
            {
                OrtLoggingLevel.Fatal => LogLevel.Error,
                OrtLoggingLevel.Error => LogLevel.Warning,
                OrtLoggingLevel.Warning => LogLevel.Information,
                _ => LogLevel.Debug,
            };
            var logger = Volatile.Read(ref s_logger);
            if (logger.IsEnabled(level))
            {
                var id = Marshal.PtrToStringUTF8((nint)logId) ?? "onnxruntime";
                var text = Marshal.PtrToStringUTF8((nint)message) ?? string.Empty;
                Log.OrtMessage(logger, level, id, text);
            }
        }
        catch (Exception)
        {
            // Logging failed; there is nowhere safer to report it from a native callback.
        }
    }

    private static string NotOrt(string path) => $"{path} is not ONNX Runtime (it has no OrtGetApiBase). {NotFoundMessage}";

    /// <summary>The system loader's own words (.NET puts dlerror's text on the last line of its message).</summary>
    private static string LoaderError(string message) =>
        message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? message;
}
