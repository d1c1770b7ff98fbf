using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Trove.Cli.Tests;

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "trove-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(Path, "*", SearchOption.AllDirectories))
            {
                File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>Small, valid, distinct PNG files made in code (RGB, 8 bits, zlib-compressed scanlines).</summary>
public static class Png
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>A PNG whose pixels depend on <paramref name="seed"/>, so every seed gives a different file.</summary>
    public static byte[] Create(int seed, int width = 4, int height = 3)
    {
        var raw = new byte[height * (1 + (width * 3))];
        var i = 0;
        for (var y = 0; y < height; y++)
        {
            raw[i++] = 0; // filter: none
            for (var x = 0; x < width; x++)
            {
                var v = unchecked((uint)(seed * 2654435761u) ^ (uint)((y * width) + x));
                raw[i++] = (byte)v;
                raw[i++] = (byte)(v >> 8);
                raw[i++] = (byte)(seed >> 16 ^ seed);
            }
        }

        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(raw);
        }

        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type: RGB

        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Writes <paramref name="count"/> distinct PNGs (seeds from <paramref name="firstSeed"/>) into <paramref name="folder"/>.</summary>
    public static IReadOnlyList<string> WriteMany(string folder, int count, int firstSeed = 0)
    {
        Directory.CreateDirectory(folder);
        var paths = new List<string>(count);
        for (var n = 0; n < count; n++)
        {
            var path = Path.Combine(folder, $"img{firstSeed + n:D6}.png");
            File.WriteAllBytes(path, Create(firstSeed + n));
            paths.Add(path);
        }

        return paths;
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)data.Length);
        s.Write(buffer);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        var crc = 0xFFFFFFFFu;
        foreach (var b in typeBytes.Concat(data))
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        BinaryPrimitives.WriteUInt32BigEndian(buffer, crc ^ 0xFFFFFFFFu);
        s.Write(buffer);
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}

/// <summary>What one CLI run produced.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Parses stdout as exactly one JSON document (anything before or after it fails the parse).</summary>
    public JsonElement Json
    {
        get
        {
            try
            {
                using var doc = JsonDocument.Parse(Stdout);
                return doc.RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw new Xunit.Sdk.XunitException($"stdout is not exactly one JSON document ({ex.Message}).\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            }
        }
    }

    public CliRun ShouldSucceed()
    {
        if (ExitCode != 0)
        {
            throw new Xunit.Sdk.XunitException($"expected exit code 0, got {ExitCode}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return this;
    }

    public CliRun ShouldExit(int code)
    {
        if (ExitCode != code)
        {
            throw new Xunit.Sdk.XunitException($"expected exit code {code}, got {ExitCode}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return this;
    }

    /// <summary>Asserts a --json error: exactly one {"error":{"code":...}} document on stdout. Returns the code.</summary>
    public string ErrorCode()
    {
        var error = Json.GetProperty("error");
        var code = error.GetProperty("code").GetString();
        Assert.False(string.IsNullOrEmpty(code));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        return code!;
    }
}

/// <summary>Runs the CLI in this process (fast). Every in-process test class is in <see cref="InProcessCollection"/>.</summary>
public static class Cli
{
    static Cli()
    {
        // Set once for the whole test process before the first in-process run; child processes get their
        // environment set explicitly by TroveProcess, so this never leaks into the durability tests.
        Environment.SetEnvironmentVariable("TROVE_DURABILITY", "Fast");
    }

    public static async Task<CliRun> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var code = await TroveCli.RunAsync(args, stdout, stderr, timeout.Token);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs a command against <paramref name="library"/> (adds --library).</summary>
    public static Task<CliRun> InAsync(string library, params string[] args) => RunAsync([.. args, "--library", library]);
}

/// <summary>
/// In-process runs share System.CommandLine's static option objects and the process environment,
/// so they run one at a time; the real-process tests run alongside them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class InProcessCollection
{
    public const string Name = "in-process CLI";
}

/// <summary>Runs `dotnet trove.dll` (copied next to the test assembly) as a real child process.</summary>
public static class TroveProcess
{
    public static string TroveDll { get; } = Path.Combine(AppContext.BaseDirectory, "trove.dll");

    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromMinutes(3);

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, bool durable = false, IDictionary<string, string?>? env = null)
    {
        Assert.True(File.Exists(TroveDll), $"trove.dll not found next to the tests at {TroveDll}");
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(TroveDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("TROVE_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        if (!durable)
        {
            psi.Environment["TROVE_DURABILITY"] = "Fast";
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }

        return psi;
    }

    public static Task<CliRun> RunAsync(IEnumerable<string> args, bool durable = false, IDictionary<string, string?>? env = null, TimeSpan? timeout = null) =>
        RunAsync(StartInfo(args, durable, env), timeout);

    public static Task<CliRun> InAsync(string library, params string[] args) => RunAsync([.. args, "--library", library]);

    public static async Task<CliRun> RunAsync(ProcessStartInfo psi, TimeSpan? timeout = null)
    {
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new Xunit.Sdk.XunitException(
                $"'{string.Join(' ', psi.ArgumentList)}' did not finish within {(timeout ?? DefaultTimeout).TotalSeconds:0} s.\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        }

        return new CliRun(process.ExitCode, await stdout, await stderr);
    }
}

public static class Repo
{
    /// <summary>The folder holding Trove.slnx, found by walking up from the test assembly.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Trove.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException($"No Trove.slnx above {AppContext.BaseDirectory}");
        }
    }
}

public static class JsonExtensions
{
    public static IReadOnlyList<string> Ids(this JsonElement searchResult) =>
        searchResult.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList();

    public static IReadOnlyList<string> Strings(this JsonElement array) =>
        array.EnumerateArray().Select(e => e.GetString()!).ToList();
}

/// <summary>A real trove process run until it reports progress past zero on stderr, then killed with SIGKILL.</summary>
public static class KillAtProgress
{
    /// <param name="progress">Matches a progress line; group 1 is done, group 2 the total.</param>
    /// <returns>Where it was killed, its process id, and what it had written to stderr.</returns>
    public static async Task<(long Done, long Total, int ProcessId, IReadOnlyList<string> Stderr)> RunAsync(System.Diagnostics.ProcessStartInfo psi, System.Text.RegularExpressions.Regex progress)
    {
        ArgumentNullException.ThrowIfNull(psi);
        ArgumentNullException.ThrowIfNull(progress);
        using var process = new System.Diagnostics.Process { StartInfo = psi };
        var stderr = new List<string>();
        var progressed = new TaskCompletionSource<(long Done, long Total)>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stderr)
            {
                stderr.Add(e.Data);
            }

            if (progress.Match(e.Data) is { Success: true } m && long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                progressed.TrySetResult((long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)));
            }
        };
        process.OutputDataReceived += (_, _) => { };
        Assert.True(process.Start());
        process.StandardInput.Close();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(progressed.Task, exited).WaitAsync(TimeSpan.FromMinutes(3)) != progressed.Task)
        {
            throw new Xunit.Sdk.XunitException($"{psi.ArgumentList.FirstOrDefault()} exited ({process.ExitCode}) before reporting progress:\n{string.Join('\n', stderr)}");
        }

        var (done, total) = await progressed.Task;
        process.Kill(entireProcessTree: true); // SIGKILL
        await exited.WaitAsync(TimeSpan.FromMinutes(1));
        lock (stderr)
        {
            return (done, total, process.Id, stderr.ToList());
        }
    }
}
