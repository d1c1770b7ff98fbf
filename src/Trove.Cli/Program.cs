using System.Runtime.InteropServices;
using Trove.Cli;

using var cts = new CancellationTokenSource();

void Stop()
{
    try
    {
        cts.Cancel();
    }
    catch (ObjectDisposedException)
    {
        // System.CommandLine saw the same signal first: the command has already ended and the process is exiting.
    }
}

Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Stop();
};

// SIGTERM (a service manager, `kill`, `docker stop`) stops as Ctrl+C does: the command finishes what it holds and
// exits with its summary. It also reaches a process started in the background of a non-interactive shell, which
// inherits SIGINT as ignored.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    Stop();
});
return await TroveCli.RunAsync(args, Console.Out, Console.Error, cts.Token);
