using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Trove.Cli.Tests;

/// <summary>`trove serve` as a real process: what it says when it cannot listen, and that the advice works.</summary>
public sealed partial class ServeCommandTests
{
    [Fact]
    public async Task Serve_on_a_port_in_use_says_so_in_one_line_exits_1_and_the_suggested_start_works()
    {
        using var dir = new TempDirectory();
        var library = dir.Combine("lib");
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        var run = await TroveProcess.RunAsync(["serve", "--init", "--library", library, "--urls", $"http://127.0.0.1:{port}"]);

        run.ShouldExit(1);
        var next = $"http://127.0.0.1:{port + 1}";
        var errors = Lines(run.Stderr).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [$"error: Port {port} on 127.0.0.1 is already in use (another Trove or program is listening there). Start on another port with: make run URLS={next}  or  ./trove serve --urls {next}"],
            errors);
        Assert.DoesNotContain(Lines(run.Stderr), l => l.StartsWith("  hint:", StringComparison.Ordinal));
        AssertNoStackTrace(run);
        Assert.Equal(string.Empty, run.Stdout);

        // With --json the failure is one JSON document on stdout, nothing else.
        var json = await TroveProcess.RunAsync(["serve", "--library", library, "--urls", $"http://127.0.0.1:{port}", "--json"]);
        json.ShouldExit(1);
        Assert.Equal("address-in-use", json.ErrorCode());
        AssertNoStackTrace(json);

        // The failed starts made no account, so the start on a free port still shows the first admin's password.
        var users = await TroveProcess.InAsync(library, "users", "list", "--json");
        Assert.Empty(users.ShouldSucceed().Json.GetProperty("users").EnumerateArray());
        var free = FreePort();
        var announced = await ServeUntilAsync(["serve", "--library", library, "--urls", $"http://127.0.0.1:{free}"], "First run: sign in at");
        Assert.Contains($"Trove is serving {Path.GetFullPath(library)} on http://127.0.0.1:{free}", announced, StringComparison.Ordinal);
        Assert.Matches(FirstRunLine(), announced);
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r'));

    private static void AssertNoStackTrace(CliRun run)
    {
        foreach (var text in new[] { run.Stdout, run.Stderr })
        {
            Assert.DoesNotContain(Lines(text), l => StackFrame().IsMatch(l));
            Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Runs the server until a line of its stderr contains <paramref name="marker"/>, then stops it; returns what it printed.</summary>
    private static async Task<string> ServeUntilAsync(string[] args, string marker)
    {
        using var process = Process.Start(TroveProcess.StartInfo(args)) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var seen = new System.Text.StringBuilder();
        using var timeout = new CancellationTokenSource(TroveProcess.DefaultTimeout);
        try
        {
            while (await process.StandardError.ReadLineAsync(timeout.Token) is { } line)
            {
                seen.AppendLine(line);
                if (line.Contains(marker, StringComparison.Ordinal))
                {
                    return seen.ToString();
                }
            }

            throw new Xunit.Sdk.XunitException($"the server ended without printing '{marker}'.\nstderr:\n{seen}\nstdout:\n{await stdout}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    [GeneratedRegex(@"^\s+at \S")]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"First run: sign in at http://127\.0\.0\.1:\d+/login as 'admin' with password \S+")]
    private static partial Regex FirstRunLine();
}
