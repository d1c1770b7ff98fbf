using System.Diagnostics;
using Trove.Application;
using Trove.Application.Export;
using Trove.Application.Jobs;
using Trove.Index.Sqlite;

namespace Trove.Cli.Tests;

/// <summary>`trove worker`: a separate process that runs jobs queued by another (here: the test) through the shared state database.</summary>
[Collection(InProcessCollection.Name)]
public sealed class WorkerCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Library => _temp.Combine("library");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_worker_process_runs_a_job_queued_elsewhere_and_stops_cleanly_when_told_to()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var files = _temp.Combine("files");
        Png.WriteMany(files, 3);
        (await Cli.InAsync(Library, "import", files, "--tags", "cat")).ShouldSucceed();

        var env = LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), new TroveOptions { Durability = Trove.Library.Durability.Fast }, actor: "alice");
        await using var library = await TroveLibrary.OpenAsync(Library, env, null, CancellationToken.None);
        var job = await ExportJobs.StartAsync(library, new ExportOptions("cat", string.Empty), CancellationToken.None);

        using var process = new Process { StartInfo = TroveProcess.StartInfo(["worker", "--kinds", "export", "--concurrency", "2", "--json", "--library", Library]) };
        process.Start();
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var done = await JobQueue.Of(library).WhenFinishedAsync(job.Id, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(done.Status == JobStatus.Succeeded, $"{done.Status}: {done.Error}");
            Assert.StartsWith(Environment.MachineName + ":", done.LeaseOwner, StringComparison.Ordinal);
            Assert.True(File.Exists(ExportJobs.OutputPath(library, job.Id)));

            // SIGTERM, as a service manager stops it (SIGINT would be ignored when the test run itself was started in
            // the background of a non-interactive shell, which hands SIGINT down as ignored).
            using (var interrupt = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await interrupt.WaitForExitAsync();
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var run = new CliRun(process.ExitCode, await stdout, await stderr).ShouldSucceed();
        var json = run.Json;
        Assert.Equal(1, json.GetProperty("succeeded").GetInt32());
        Assert.Equal(0, json.GetProperty("failed").GetInt32());
        var kind = Assert.Single(json.GetProperty("kinds").EnumerateArray());
        Assert.Equal(("export", 2), (kind.GetProperty("name").GetString(), kind.GetProperty("concurrency").GetInt32()));
        Assert.Contains($"export {job.Id}  started (attempt 1 of 3, queued by alice)", run.Stderr, StringComparison.Ordinal);
        Assert.Contains($"export {job.Id}  succeeded", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_kinds_and_bad_concurrency_are_usage_errors()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var unknown = await Cli.InAsync(Library, "worker", "--kinds", "export,nope", "--json");
        unknown.ShouldExit(2);
        Assert.Equal("unknown-job-kind", unknown.ErrorCode());
        Assert.Contains("export", unknown.Stderr, StringComparison.Ordinal);

        var zero = await Cli.InAsync(Library, "worker", "--concurrency", "0", "--json");
        zero.ShouldExit(2);
        Assert.Equal("bad-concurrency", zero.ErrorCode());
    }
}
