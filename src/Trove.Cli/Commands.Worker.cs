using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Trove.Application.Jobs;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>trove worker [--kinds export,…] [--concurrency N] — runs queued jobs until Ctrl+C, printing what it does.</summary>
        public Command Worker()
        {
            var kinds = new Option<string?>("--kinds") { Description = "Comma-separated kinds of job to run (default: every kind Trove knows)" };
            var concurrency = new Option<int?>("--concurrency") { Description = "Run at most N jobs of each kind at once, counting those running in every process (default: each kind's own limit)" };
            var cmd = new Command("worker", "Run queued background jobs (exports, …) until Ctrl+C, beside 'trove serve' or instead of its worker") { kinds, concurrency };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var names = (p.GetValue(kinds) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                await library!.RecoverAsync(ct).ConfigureAwait(false);
                await Application.Restoration.RetentionJobs.ScheduleNextAsync(library, ct).ConfigureAwait(false);
                var handlers = JobCatalog.Handlers(library, names);
                var options = new JobWorkerOptions { Concurrency = p.GetValue(concurrency) };
                var counts = new Dictionary<JobActivityKind, int>();
                var gate = new Lock();
                var lines = ctx.Output.Json ? ctx.Output.Err : ctx.Output.Out;
                await using var worker = new JobWorker(library!, handlers, ctx.Environment.LoggerFactory.CreateLogger("Trove.Jobs"), options);
                worker.Observer = activity =>
                {
                    lock (gate)
                    {
                        counts[activity.Kind] = counts.GetValueOrDefault(activity.Kind) + 1;
                        lines.WriteLine(Describe(activity, library!.Time.GetLocalNow()));
                        lines.Flush();
                    }
                };

                var running = string.Join(", ", worker.Kinds.Select(k => $"{k.Name} (at most {k.Concurrency} at once)"));
                await ctx.Output.Err.WriteLineAsync($"Worker {worker.Id} is running {running} from {library!.Layout.Root}; Ctrl+C stops it.").ConfigureAwait(false);
                worker.Start();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                }

                await ctx.Output.Err.WriteLineAsync("Stopping: running jobs go back to the queue…").ConfigureAwait(false);
                using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
                {
                    await worker.StopAsync(grace.Token).ConfigureAwait(false);
                }

                Dictionary<JobActivityKind, int> done;
                lock (gate)
                {
                    done = new Dictionary<JobActivityKind, int>(counts);
                }

                int Count(JobActivityKind kind) => done.GetValueOrDefault(kind);
                ctx.Output.Result(
                    new
                    {
                        worker = worker.Id,
                        kinds = worker.Kinds.Select(k => new { name = k.Name, concurrency = k.Concurrency }),
                        started = Count(JobActivityKind.Claimed),
                        succeeded = Count(JobActivityKind.Succeeded),
                        retrying = Count(JobActivityKind.Retrying),
                        failed = Count(JobActivityKind.Failed),
                        cancelled = Count(JobActivityKind.Cancelled),
                        handedBack = Count(JobActivityKind.Released),
                        lost = Count(JobActivityKind.LeaseLost),
                    },
                    w => w.WriteLine($"Worker {worker.Id} stopped: {Count(JobActivityKind.Succeeded)} succeeded, {Count(JobActivityKind.Failed)} failed, {Count(JobActivityKind.Retrying)} to retry, {Count(JobActivityKind.Cancelled)} cancelled, {Count(JobActivityKind.Released)} handed back."));
                return 0;
            }));
            return cmd;
        }

        private static string Describe(JobActivity a, DateTimeOffset now)
        {
            var j = a.Job;
            var head = $"{now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}  {j.Kind} {j.Id}";
            return a.Kind switch
            {
                JobActivityKind.Claimed => $"{head}  started (attempt {j.Attempts} of {j.MaxAttempts}, queued by {j.CreatedBy})",
                JobActivityKind.Succeeded => $"{head}  succeeded{(j.Result is { Length: > 0 and <= 200 } r ? ": " + r : string.Empty)}",
                JobActivityKind.Retrying => $"{head}  failed (attempt {j.Attempts} of {j.MaxAttempts}), retrying at {j.AvailableAt.ToOffset(now.Offset).ToString("HH:mm:ss", CultureInfo.InvariantCulture)}: {a.Error}",
                JobActivityKind.Failed => $"{head}  failed after {j.Attempts} attempt(s): {a.Error}",
                JobActivityKind.Cancelled => $"{head}  cancelled",
                JobActivityKind.Released => $"{head}  interrupted; back in the queue",
                _ => $"{head}  lost its lease (another worker took it over); its outcome here was dropped",
            };
        }
    }
}
