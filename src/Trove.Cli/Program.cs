using Trove.Cli;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    try
    {
        cts.Cancel();
    }
    catch (ObjectDisposedException)
    {
        // System.CommandLine saw the same Ctrl+C first: the command has already ended and the process is exiting.
    }
};
return await TroveCli.RunAsync(args, Console.Out, Console.Error, cts.Token);
