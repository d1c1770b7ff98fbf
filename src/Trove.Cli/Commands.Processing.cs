using System.CommandLine;
using System.Globalization;
using Trove.Application.Restoration;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>trove processing list|keep|discard|expire — the processing history of upscalers and restorers, and their results.</summary>
        public Command Processing()
        {
            var cmd = new Command("processing", "The history of restore and upscale runs; keep or discard their results");

            var mine = new Option<bool>("--mine") { Description = "Only the runs of the account running this command (TROVE_ACTOR or the OS user)" };
            var by = new Option<string?>("--by") { Description = "Only this account's runs" };
            var limit = new Option<int>("--limit") { Description = "At most this many runs, newest first", DefaultValueFactory = _ => 50 };
            var list = new Command("list", "What was run, on what, with which parameters; the result or the error; timings") { mine, by, limit };
            list.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var who = p.GetValue(mine) ? library!.Actor : p.GetValue(by);
                var runs = await new ProcessingService(library!).HistoryAsync(who, p.GetValue(limit), ct).ConfigureAwait(false);
                ctx.Output.Result(new { runs }, w =>
                {
                    if (runs.Count == 0)
                    {
                        w.WriteLine("No restore or upscale runs yet ('trove restore ID --model M' or 'trove upscale ID').");
                    }

                    foreach (var r in runs)
                    {
                        w.WriteLine(RunLine(r));
                    }
                });
                return 0;
            }));

            var keepId = new Argument<string>("ID") { Description = "A result (derived media)" };
            var keep = new Command("keep", "Keep a result: it no longer expires") { keepId };
            keep.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var derivation = await new ProcessingService(library!).KeepAsync(p.GetValue(keepId)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new { kept = p.GetValue(keepId), derivedFrom = derivation }, w => w.WriteLine($"Kept {p.GetValue(keepId)} ({LineageView.Describe(derivation)} from {derivation.Id[..12]})."));
                return 0;
            }));

            var discardId = new Argument<string>("ID") { Description = "A result (derived media)" };
            var discard = new Command("discard", "Discard a result now: it goes to the trash") { discardId };
            discard.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var moved = await new ProcessingService(library!).DiscardAsync(p.GetValue(discardId)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new { discarded = moved }, w => w.WriteLine(moved ? "Moved the result to the trash." : "The result was already in the trash."));
                return 0;
            }));

            var expire = new Command("expire", "Move unkept results past their retention to the trash now (the scheduled 'retention' job does this by itself)");
            expire.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var report = await new ProcessingService(library!).ExpireAsync(ct).ConfigureAwait(false);
                ctx.Output.Result(report, w => w.WriteLine(
                    $"Moved {report.Trashed.Count} expired result(s) to the trash; {report.Unkept} unkept result(s) wait" +
                    (report.NextExpiry is { } next ? $", the next expires {next.ToString("u", CultureInfo.InvariantCulture)}." : ".")));
                return 0;
            }));

            foreach (var c in new[] { list, keep, discard, expire })
            {
                cmd.Subcommands.Add(c);
            }

            return cmd;
        }

        private static string RunLine(ProcessingRun r)
        {
            var parameters = r.Parameters.Count == 0 ? string.Empty : " " + string.Join(' ', r.Parameters.Select(p => $"{p.Key}={p.Value}"));
            var outcome = r.Status switch
            {
                "succeeded" when r.Result is { } result => $"→ {result[..12]} {r.Width}×{r.Height}{(r.Existing ? " (existing)" : string.Empty)}, {r.ResultState}" +
                    (r.ExpiresAt is { } e ? $" until {e.ToString("u", CultureInfo.InvariantCulture)}" : string.Empty) +
                    (r.Seconds is { } s ? string.Create(CultureInfo.InvariantCulture, $", {s:0.0} s") : string.Empty),
                "failed" => $"failed: {r.Error}",
                "running" => r.Total is { } t ? $"running {r.Done}/{t}" : "running",
                _ => r.Status,
            };
            var media = r.Media.Length >= 12 ? r.Media[..12] : r.Media;
            return $"{r.CreatedAt.ToString("u", CultureInfo.InvariantCulture)}  {r.Job[..8]}  {r.By}  {media}  {r.Model}{parameters}  {outcome}";
        }

        private static object? LineageJson(LineageView lineage) => lineage.IsEmpty
            ? null
            : new
            {
                derivedFrom = lineage.DerivedFrom,
                original = lineage.Original is { } o ? new { id = o.Id, state = o.State } : null,
                derivatives = lineage.Derivatives.Select(d => new { id = d.Id, state = d.State, derivation = d.Derivation, expiresAt = d.ExpiresAt }),
            };

        private static void WriteLineage(TextWriter w, LineageView lineage)
        {
            if (lineage.DerivedFrom is { } from)
            {
                var state = lineage.Original?.State is { } s && s != LineageStates.Library ? $" ({s})" : string.Empty;
                var kept = from.Kept ? "kept" : from.ExpiresAt is { } e ? $"not kept, expires {e.ToString("u", CultureInfo.InvariantCulture)}" : "not kept";
                w.WriteLine($"  derived from {from.Id}{state} by {LineageView.Describe(from)} on {from.At.ToString("u", CultureInfo.InvariantCulture)} by {from.By}; {kept}");
            }

            foreach (var d in lineage.Derivatives)
            {
                var how = d.Derivation is { } dd ? $" by {LineageView.Describe(dd)}" : string.Empty;
                var state = d.State == LineageStates.Library ? (d.ExpiresAt is { } e ? $", expires {e.ToString("u", CultureInfo.InvariantCulture)}" : string.Empty) : $" ({d.State})";
                w.WriteLine($"  derivative {d.Id}{how}{state}");
            }
        }
    }
}
