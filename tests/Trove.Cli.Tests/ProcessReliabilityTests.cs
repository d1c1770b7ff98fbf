using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Trove.Cli.Tests;

/// <summary>
/// A real `trove import` killed with SIGKILL mid-batch leaves a library that check can explain, and re-running the
/// import cleans up after it: check is clean afterwards without --repair.
/// </summary>
public sealed partial class KillDuringImportTests(ITestOutputHelper output) : IDisposable
{
    private const int FileCount = 1500;

    /// <summary>Problems a killed import may leave behind (until the next writer sweeps them); all are repairable from the files.</summary>
    private static readonly HashSet<string> AcceptableAfterKill = ["orphan-original", "stale-temp-file", "not-indexed"];

    private static readonly string[] NeverAfterKill = ["sidecar-malformed", "sidecar-invalid", "missing-original", "original-hash-mismatch"];

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [GeneratedRegex(@"^import: Importing (\d+)/(\d+)$")]
    private static partial Regex ProgressLine();

    [Fact]
    public async Task Killed_import_is_cleaned_up_by_the_rerun_so_check_is_clean_without_repair()
    {
        var library = _temp.Combine("library");
        var source = _temp.Combine("source");
        Png.WriteMany(source, FileCount);
        (await TroveProcess.InAsync(library, "init")).ShouldSucceed();

        // Default (durable) settings: TROVE_DURABILITY is not set for this process.
        var psi = TroveProcess.StartInfo(["import", source, "--library", library], durable: true);
        Assert.False(psi.Environment.ContainsKey("TROVE_DURABILITY"));
        var (done, total, pid, _) = await KillAtProgress.RunAsync(psi, ProgressLine());
        output.WriteLine($"killed at {done}/{total}");
        Assert.Equal(FileCount, total);
        Assert.True(done < total, $"the import finished ({done}/{total}) before it could be killed; use more files");

        var check = await TroveProcess.InAsync(library, "check", "--json");
        var problems = check.Json.GetProperty("problems").EnumerateArray().ToList();
        output.WriteLine($"check after kill: {string.Join(", ", problems.GroupBy(p => p.GetProperty("type").GetString()).Select(g => $"{g.Count()} {g.Key}"))}");
        foreach (var p in problems)
        {
            var type = p.GetProperty("type").GetString()!;
            Assert.DoesNotContain(type, NeverAfterKill);
            Assert.True(AcceptableAfterKill.Contains(type), $"unexpected problem after kill: {p}");
        }

        Assert.Equal(problems.Count == 0 ? 0 : 1, check.ExitCode);
        foreach (var p in problems.Where(p => p.GetProperty("type").GetString() == "stale-temp-file"))
        {
            // Named by the killed process, which is how the next one knows they are debris.
            Assert.Contains($"-{pid}_", p.GetProperty("path").GetString(), StringComparison.Ordinal);
        }

        // No repair: re-running the same import is the recovery. It sweeps what the killed process left (staged
        // copies, temporary sidecars, its marker), adopts an original whose sidecar was never written, and finishes.
        var rerun = (await TroveProcess.InAsync(library, "import", source, "--json")).ShouldSucceed().Json;
        Assert.Equal(FileCount, rerun.GetProperty("imported").GetInt32() + rerun.GetProperty("duplicates").GetInt32());
        Assert.Equal(0, rerun.GetProperty("failed").GetArrayLength());
        Assert.InRange(rerun.GetProperty("imported").GetInt32(), 0, FileCount - done);

        var after = await TroveProcess.InAsync(library, "check", "--json");
        output.WriteLine($"check after re-run: {after.Stdout}");
        Assert.Equal(0, after.Json.GetProperty("problems").GetArrayLength());
        after.ShouldSucceed();
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(library, "tmp")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(library, "locks", "writers")));

        var count = (await TroveProcess.InAsync(library, "search", "", "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64();
        Assert.Equal(FileCount, count);
        Assert.Equal(0, (await TroveProcess.InAsync(library, "check", "--json")).ShouldSucceed().Json.GetProperty("problems").GetArrayLength());
    }
}

/// <summary>Several `trove` processes writing to one library at once take turns without losing updates.</summary>
public sealed class ConcurrentWritersTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Concurrent_imports_and_tag_adds_all_land()
    {
        var library = _temp.Combine("library");
        Png.WriteMany(_temp.Combine("seed"), 40, firstSeed: 0);
        Png.WriteMany(_temp.Combine("a"), 200, firstSeed: 10_000);
        Png.WriteMany(_temp.Combine("b"), 200, firstSeed: 20_000);
        (await TroveProcess.InAsync(library, "init")).ShouldSucceed();
        var seeded = (await TroveProcess.InAsync(library, "import", _temp.Combine("seed"), "--json")).ShouldSucceed().Json.GetProperty("media").Strings();
        Assert.Equal(40, seeded.Count);

        var importA = TroveProcess.InAsync(library, "import", _temp.Combine("a"), "--tags", "from_a", "--json");
        var importB = TroveProcess.InAsync(library, "import", _temp.Combine("b"), "--tags", "from_b", "--json");
        // Two chains of `tag add` processes, one command per media, racing the imports and each other.
        var chains = seeded.Chunk(20).Select(chunk => Task.Run(async () =>
        {
            var runs = new List<CliRun>();
            foreach (var id in chunk)
            {
                runs.Add(await TroveProcess.InAsync(library, "tag", "add", id[..8], "from_c", "--json"));
            }

            return runs;
        })).ToList();

        // Let every process finish before asserting, so a failure never leaves writers behind.
        await Task.WhenAll(new Task[] { importA, importB }.Concat(chains));
        var a = (await importA).ShouldSucceed().Json;
        var b = (await importB).ShouldSucceed().Json;
        Assert.Equal(200, a.GetProperty("imported").GetInt32());
        Assert.Equal(200, b.GetProperty("imported").GetInt32());
        foreach (var run in (await Task.WhenAll(chains)).SelectMany(r => r))
        {
            Assert.Equal("from_c", run.ShouldSucceed().Json.GetProperty("added").Strings().Single());
        }

        Assert.Equal(440, (await TroveProcess.InAsync(library, "search", "", "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64());
        var fromA = (await TroveProcess.InAsync(library, "search", "from_a", "--json", "--limit", "1000")).ShouldSucceed().Json.Ids();
        var fromB = (await TroveProcess.InAsync(library, "search", "from_b", "--json", "--limit", "1000")).ShouldSucceed().Json.Ids();
        var fromC = (await TroveProcess.InAsync(library, "search", "from_c", "--json", "--limit", "1000")).ShouldSucceed().Json.Ids();
        Assert.Equal(a.GetProperty("media").Strings().Order(StringComparer.Ordinal), fromA.Order(StringComparer.Ordinal));
        Assert.Equal(b.GetProperty("media").Strings().Order(StringComparer.Ordinal), fromB.Order(StringComparer.Ordinal));
        Assert.Equal(seeded.Order(StringComparer.Ordinal), fromC.Order(StringComparer.Ordinal));

        var check = (await TroveProcess.InAsync(library, "check", "--json")).ShouldSucceed().Json;
        Assert.Equal(0, check.GetProperty("problems").GetArrayLength());
        Assert.Equal(440, check.GetProperty("checkedMedia").GetInt32());
    }
}

/// <summary>The real executable honours TROVE_LIBRARY and keeps stdout to one JSON document.</summary>
public sealed class RealProcessContractTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Trove_library_variable_names_the_library()
    {
        var library = _temp.Combine("from-env");
        var env = new Dictionary<string, string?> { ["TROVE_LIBRARY"] = library };
        (await TroveProcess.RunAsync(["init", "--json"], env: env)).ShouldSucceed();
        Assert.True(File.Exists(Path.Combine(library, "trove.json")));

        Png.WriteMany(_temp.Combine("files"), 3);
        var import = (await TroveProcess.RunAsync(["import", _temp.Combine("files"), "--json"], env: env)).ShouldSucceed();
        Assert.Equal(3, import.Json.GetProperty("imported").GetInt32());

        var search = (await TroveProcess.RunAsync(["search", "", "--json"], env: env)).ShouldSucceed().Json;
        Assert.Equal(3, search.GetProperty("total").GetInt64());

        // --library wins over TROVE_LIBRARY.
        var other = _temp.Combine("other");
        (await TroveProcess.RunAsync(["init", "--library", other], env: env)).ShouldSucceed();
        Assert.Equal(0, (await TroveProcess.RunAsync(["search", "", "--json", "--library", other], env: env)).ShouldSucceed().Json.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Errors_in_a_real_process_give_exit_codes_and_one_json_document()
    {
        var folder = _temp.Combine("empty");
        Directory.CreateDirectory(folder);
        var notLibrary = await TroveProcess.InAsync(folder, "search", "", "--json");
        notLibrary.ShouldExit(1);
        Assert.Equal("not-a-library", notLibrary.ErrorCode());
        Assert.Contains("not a Trove library", notLibrary.Stderr, StringComparison.Ordinal);

        var usage = await TroveProcess.InAsync(folder, "search", "", "--json", "--nope");
        usage.ShouldExit(2);
        Assert.Equal("usage", usage.ErrorCode());

        var help = (await TroveProcess.RunAsync(["--help"])).ShouldSucceed();
        Assert.Contains("import", help.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>The `./trove` script at the repository root builds the CLI if needed and runs it.</summary>
public sealed class TroveScriptTests
{
    [Fact]
    public async Task Trove_script_runs_help()
    {
        var script = Path.Combine(Repo.Root, "trove");
        Assert.True(File.Exists(script), $"{script} is missing");
        var psi = new ProcessStartInfo(script)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Repo.Root,
        };
        psi.ArgumentList.Add("--help");
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("TROVE_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        var run = await TroveProcess.RunAsync(psi, TimeSpan.FromMinutes(5));
        if (run.ExitCode != 0 && run.Stderr.Contains("the build failed", StringComparison.Ordinal))
        {
            // Other builds share this tree; one retry rides out a clash over files in use.
            run = await TroveProcess.RunAsync(psi, TimeSpan.FromMinutes(5));
        }

        run.ShouldSucceed();
        Assert.Contains("Usage", run.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("import", run.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Repo.Root, "artifacts", "cli", "trove.dll")));
    }
}

/// <summary>A real `trove serve` killed with SIGKILL in the middle of an upload: the next server sweeps the upload's staging folder.</summary>
public sealed partial class KillDuringUploadTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [GeneratedRegex(@"Trove is serving .* on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ServingLine();

    [Fact]
    public async Task Upload_staging_of_a_killed_server_is_swept_when_the_server_starts_again()
    {
        var library = _temp.Combine("library");
        (await TroveProcess.InAsync(library, "init")).ShouldSucceed();
        var token = (await TroveProcess.InAsync(library, "users", "add", "bot", "--role", "member", "--json")).ShouldSucceed().Json.GetProperty("token").GetString()!;
        var tmp = Path.Combine(library, "tmp");

        using (var server = await ServerProcess.StartAsync(library, output))
        {
            // A client that sends the start of a file and then nothing more: the request is mid-upload when the server dies.
            using var client = new System.Net.Sockets.TcpClient();
            var uri = new Uri(server.Url);
            await client.ConnectAsync(uri.Host, uri.Port);
            var stream = client.GetStream();
            const string boundary = "trove-test-boundary";
            var head = $"POST /api/media HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {token}\r\n"
                + $"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 10000000\r\n\r\n"
                + $"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"beach.png\"\r\nContent-Type: image/png\r\n\r\n";
            var staging = WaitFor.FileSystemAsync(tmp, () => Directory.EnumerateDirectories(tmp, "upload-*").FirstOrDefault());
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(Png.Create(7, 64, 64).AsMemory(0, 40));
            await stream.FlushAsync();
            var folder = await staging.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Contains($"upload-{server.Process.Id}_", Path.GetFileName(folder), StringComparison.Ordinal);

            server.Process.Kill(entireProcessTree: true); // SIGKILL
            await server.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.True(Directory.Exists(folder));
        }

        var check = await TroveProcess.InAsync(library, "check", "--json");
        Assert.Equal(["stale-temp-folder"], check.Json.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("type").GetString()));
        check.ShouldExit(1);

        // The next server sweeps it as it opens the library; stopped properly, it leaves nothing behind.
        using (var again = await ServerProcess.StartAsync(library, output))
        {
            Assert.Empty(Directory.EnumerateFileSystemEntries(tmp, "*", SearchOption.AllDirectories).Select(e => Path.GetRelativePath(tmp, e)));
            await again.StopAsync();
            Assert.Equal(0, again.Process.ExitCode);
        }

        Assert.Empty((await TroveProcess.InAsync(library, "check", "--json")).ShouldSucceed().Json.GetProperty("problems").EnumerateArray());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(library, "locks", "writers")));
    }

    /// <summary>`trove serve` on a free loopback port, its announced address read from stderr.</summary>
    private sealed class ServerProcess(Process process, string url) : IDisposable
    {
        public Process Process { get; } = process;

        public string Url { get; } = url;

        public static async Task<ServerProcess> StartAsync(string library, ITestOutputHelper output)
        {
            var process = new Process { StartInfo = TroveProcess.StartInfo(["serve", "--urls", "http://127.0.0.1:0", "--library", library]) };
            var serving = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    serving.TrySetException(new Xunit.Sdk.XunitException("trove serve exited before serving"));
                    return;
                }

                output.WriteLine(e.Data);
                if (ServingLine().Match(e.Data) is { Success: true } m)
                {
                    serving.TrySetResult(m.Groups[1].Value);
                }
            };
            process.OutputDataReceived += (_, _) => { };
            Assert.True(process.Start());
            process.StandardInput.Close();
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            try
            {
                return new ServerProcess(process, await serving.Task.WaitAsync(TimeSpan.FromMinutes(2)));
            }
            catch
            {
                process.Kill(entireProcessTree: true);
                process.Dispose();
                throw;
            }
        }

        /// <summary>SIGTERM, as a service manager stops it: the host shuts down and closes the library.</summary>
        public async Task StopAsync()
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
            await kill.WaitForExitAsync();
            await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
            }

            Process.Dispose();
        }
    }
}

/// <summary>Waits for something to appear under a folder, woken by file-system events (no polling delays).</summary>
public static class WaitFor
{
    public static async Task<string> FileSystemAsync(string folder, Func<string?> probe)
    {
        Directory.CreateDirectory(folder);
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(folder) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName };
        void Probe()
        {
            if (probe() is { } hit)
            {
                found.TrySetResult(hit);
            }
        }

        watcher.Created += (_, _) => Probe();
        watcher.EnableRaisingEvents = true;
        Probe(); // it may already be there
        return await found.Task.ConfigureAwait(false);
    }
}
