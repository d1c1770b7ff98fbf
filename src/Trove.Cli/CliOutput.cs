using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Trove.Application;
using Trove.Domain;

namespace Trove.Cli;

/// <summary>
/// Where a command's words go: with --json exactly one JSON document on stdout; otherwise readable text on stdout,
/// and progress and errors on stderr.
/// </summary>
internal sealed class CliOutput(TextWriter stdout, TextWriter stderr, bool json)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public bool Json { get; } = json;

    public TextWriter Out { get; } = stdout;

    public TextWriter Err { get; } = stderr;

    /// <summary>Prints the JSON document (with --json) or the human text.</summary>
    public void Result(object document, Action<TextWriter> human)
    {
        if (Json)
        {
            Out.WriteLine(JsonSerializer.Serialize(document, JsonOptions));
        }
        else
        {
            human(Out);
        }
    }

    public void Error(Exception ex)
    {
        var (code, message, hint) = ex switch
        {
            TroveException t => (t.Code, t.Message, t.Hint),
            OperationCanceledException => ("cancelled", "Cancelled.", null),
            _ => ("internal-error", ex.Message, "This is a bug in Trove; please report it with the command you ran."),
        };
        if (Json)
        {
            Out.WriteLine(JsonSerializer.Serialize(new { error = new { code, message, hint } }, JsonOptions));
        }

        Err.WriteLine($"error: {message}");
        if (hint is not null)
        {
            Err.WriteLine($"  hint: {hint}");
        }

        if (ex is not TroveException and not OperationCanceledException)
        {
            Err.WriteLine(ex.ToString());
        }
    }

    /// <summary>
    /// Runs a long operation with progress: a live bar on a terminal, one line per second on a redirected
    /// stderr (for logs and scripts), nothing with --json.
    /// </summary>
    public async Task<T> WithProgressAsync<T>(string title, Func<IProgress<ProgressInfo>, Task<T>> work)
    {
        if (Json)
        {
            return await work(new Progress<ProgressInfo>(_ => { })).ConfigureAwait(false);
        }

        if (!Console.IsErrorRedirected && ReferenceEquals(Err, Console.Error))
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            T result = default!;
            await console.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(title, maxValue: 1);
                    task.IsIndeterminate = true;
                    var progress = new SyncProgress(p =>
                    {
                        task.Description = $"{title}: {p.Phase}";
                        if (p.Total is { } total && total > 0)
                        {
                            task.IsIndeterminate = false;
                            task.MaxValue = total;
                            task.Value = p.Done;
                        }
                    });
                    result = await work(progress).ConfigureAwait(false);
                    task.StopTask();
                }).ConfigureAwait(false);
            return result;
        }

        var last = DateTime.MinValue;
        var lines = new SyncProgress(p =>
        {
            var now = DateTime.UtcNow;
            if ((now - last).TotalSeconds >= 1 || p.Done == p.Total)
            {
                last = now;
                Err.WriteLine(p.Total is { } t ? $"{title}: {p.Phase} {p.Done}/{t}" : $"{title}: {p.Phase} {p.Done}");
                Err.Flush();
            }
        });
        return await work(lines).ConfigureAwait(false);
    }

    private sealed class SyncProgress(Action<ProgressInfo> report) : IProgress<ProgressInfo>
    {
        private readonly Lock _lock = new();

        public void Report(ProgressInfo value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}
