using System.CommandLine;
using System.Globalization;
using Trove.Application;
using Trove.Application.Restoration;
using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>
        /// trove restore ID… — from the trash (as always); trove restore ID --model M[@V] [--param k=v]… [--keep] [--now] —
        /// run a restorer or upscaler on the media and import the result as a new media derived from it.
        /// </summary>
        public Command Restore()
        {
            var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.OneOrMore };
            var model = new Option<string?>("--model") { Description = "Run this upscaler or restorer (ID or ID@VERSION) on the media instead of bringing it back from the trash" };
            var parameters = new Option<string[]>("--param") { Description = "A model parameter for this run, k=v (e.g. tileSize=128); repeatable", AllowMultipleArgumentsPerToken = false };
            var keep = new Option<bool>("--keep") { Description = "Keep the result (otherwise it goes to the trash after the retention period, 24 h by default)" };
            var now = new Option<bool>("--now") { Description = "Run in this process and report, instead of queueing a job for a worker" };
            var cmd = new Command("restore", "Bring media back from the trash; with --model, restore or upscale an image into a new, derived media") { ids, model, parameters, keep, now };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var given = p.GetValue(ids)!;
                var runParameters = ParseParameters(p.GetValue(parameters) ?? []);
                if (p.GetValue(model) is null && runParameters.Count == 0 && !p.GetValue(keep) && !p.GetValue(now))
                {
                    var restored = await new MediaService(library!).RestoreAsync(given, ct).ConfigureAwait(false);
                    ctx.Output.Result(new Dictionary<string, object> { ["restored"] = restored }, w => w.WriteLine($"Restored {restored.Count} media."));
                    return 0;
                }

                return await RestoreModelAsync(ctx, library!, given, new RestoreRequest(string.Empty, p.GetValue(model), runParameters, p.GetValue(keep)), p.GetValue(now), ct).ConfigureAwait(false);
            }));
            return cmd;
        }

        /// <summary>trove upscale ID --scale N [--model M] [--keep] [--now] — the active upscaler of that scale.</summary>
        public Command Upscale()
        {
            var id = new Argument<string>("ID");
            var scale = new Option<int>("--scale") { Description = "2 or 4: picks the active upscaler whose parameters say that scale", DefaultValueFactory = _ => 2 };
            var model = new Option<string?>("--model") { Description = "The upscaler (ID or ID@VERSION), when several have that scale" };
            var keep = new Option<bool>("--keep") { Description = "Keep the result" };
            var now = new Option<bool>("--now") { Description = "Run in this process and report, instead of queueing a job" };
            var cmd = new Command("upscale", "Upscale an image into a new, derived media (a shortcut for restore --model)") { id, scale, model, keep, now };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var wanted = p.GetValue(scale);
                var chosen = p.GetValue(model);
                if (chosen is null)
                {
                    var upscalers = library!.Files.ReadModels().Models
                        .Where(m => m.Kind == ModelKinds.Upscaler && m.ActiveVersion is not null && UpscalerParameters.Parse(m.Parameters, m.Id).Scale == wanted)
                        .Select(m => m.Id).ToList();
                    chosen = upscalers.Count switch
                    {
                        0 => throw new TroveUsageException("no-upscaler", $"No active upscaler has scale {wanted}.", "Register one with 'trove models add ID --kind upscaler --file model.onnx --parameters '{\"scale\":" + wanted.ToString(CultureInfo.InvariantCulture) + "}''."),
                        1 => upscalers[0],
                        _ => throw new TroveUsageException("ambiguous-model", $"Several upscalers have scale {wanted} ({string.Join(", ", upscalers)}).", "Say which with --model ID."),
                    };
                }

                return await RestoreModelAsync(ctx, library!, [p.GetValue(id)!], new RestoreRequest(string.Empty, chosen, new Dictionary<string, string>(), p.GetValue(keep), ModelKinds.Upscaler), p.GetValue(now), ct).ConfigureAwait(false);
            }));
            return cmd;
        }

        private static async Task<int> RestoreModelAsync(CliContext ctx, TroveLibrary library, string[] ids, RestoreRequest template, bool now, CancellationToken ct)
        {
            if (ids.Length != 1)
            {
                throw new TroveUsageException("one-media", "A restore runs on one media at a time.", "Give one ID (queue several with one command each).");
            }

            var request = template with { Media = ids[0] };
            if (!now)
            {
                var (restorer, job) = await RestoreJobs.EnqueueAsync(library, request, ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new { job = job.Id, model = restorer.Model.Id, version = restorer.Version.Version },
                    w => w.WriteLine($"Queued restore job {job.Id} with {restorer.Reference}. A worker ('trove serve' or 'trove worker') runs it; follow it on /jobs or with GET /api/jobs/{job.Id}."));
                return 0;
            }

            var result = await ctx.Output.WithProgressAsync("restore", progress => RestoreJobs.RunNowAsync(library, request, progress, ct)).ConfigureAwait(false);
            ctx.Output.Result(
                new { original = result.Original, result = result.Result, model = result.Model, version = result.Version, existing = result.Existing, width = result.Width, height = result.Height, seconds = Math.Round(result.Seconds, 2) },
                w => w.WriteLine(result.Existing
                    ? $"{result.Model}@{result.Version} already made {result.Result[..12]} from {result.Original[..12]} with these parameters; nothing was run."
                    : $"Made {result.Result[..12]} ({result.Width}×{result.Height}) from {result.Original[..12]} with {result.Model}@{result.Version} in {result.Seconds:0.0} s."));
            return 0;
        }

        private static Dictionary<string, string> ParseParameters(string[] pairs)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in pairs)
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new TroveUsageException("bad-param", $"--param '{pair}' is not k=v.", "For example: --param tileSize=128");
                }

                result[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
            }

            return result;
        }
    }
}
