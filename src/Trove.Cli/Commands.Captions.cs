using System.CommandLine;
using Trove.Application;
using Trove.Application.Captioning;
using Trove.Application.Jobs;
using Trove.Application.Search;
using Trove.Domain;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>trove caption generate "QUERY" [--model ID[@VERSION]] [--overwrite] [--now] — captions from a captioner, pending review.</summary>
        private Command CaptionGenerate()
        {
            var query = new Argument<string>("QUERY") { Description = "Which media (query language; \"\" for all)" };
            var model = new Option<string?>("--model") { Description = "The captioner, ID or ID@VERSION (default: the one active captioner)" };
            var overwrite = new Option<bool>("--overwrite") { Description = "Caption again media this model version already captioned (replaces its pending captions)" };
            var now = new Option<bool>("--now") { Description = "Run the captioner in this process and report, instead of queueing a job for a worker" };
            var cmd = new Command("generate", "Generate captions with a captioner model; they wait for review") { query, model, overwrite, now };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var ids = await new SearchService(library!).AllIdsAsync(p.GetValue(query) ?? string.Empty, ct).ConfigureAwait(false);
                if (!p.GetValue(now))
                {
                    var (queued, jobs) = await CaptionJobs.EnqueueAsync(library!, ids, p.GetValue(model), p.GetValue(overwrite), ct).ConfigureAwait(false);
                    return await ReportQueuedAsync(
                        ctx, library!, CaptionJobs.Kind, ids.Count, jobs, "caption", queued.Reference, "caption here and now with 'trove caption generate QUERY --now'",
                        new Dictionary<string, object> { ["model"] = queued.Model.Id, ["version"] = queued.Version.Version }, ct).ConfigureAwait(false);
                }

                var generator = new CaptionGenerator(library!);
                var captioner = generator.Resolve(p.GetValue(model));
                var result = await ctx.Output.WithProgressAsync("caption", progress => generator.RunAsync(captioner, ids, p.GetValue(overwrite), progress, ct)).ConfigureAwait(false);
                ctx.Output.Result(
                    new
                    {
                        model = result.Model,
                        version = result.Version,
                        media = ids.Count,
                        generated = result.Generated,
                        skipped = result.Skipped,
                        captioned = result.Captioned,
                        failed = result.Failed.Select(f => new { id = f.Id, error = f.Error, message = f.Message }),
                    },
                    w =>
                    {
                        foreach (var f in result.Failed)
                        {
                            w.WriteLine($"{f.Id}: {f.Error}: {f.Message}");
                        }

                        w.WriteLine($"{ids.Count} media with {captioner.Reference}: {result.Generated} captions generated (pending review), {result.Skipped} skipped, {result.Failed.Count} failed.");
                        if (result.Generated > 0)
                        {
                            w.WriteLine("Review them: trove search 'caption-status:pending', then trove caption review ID N --approve|--reject (or /review/captions in the web UI).");
                        }
                    });
                return result.Failed.Count > 0 ? 1 : 0;
            }));
            return cmd;
        }

        /// <summary>trove caption review ID N --approve [--text "edited"] | --reject | --primary.</summary>
        private Command CaptionReview()
        {
            var id = new Argument<string>("ID");
            var number = new Argument<int>("CAPTION_ID") { Description = "Caption number (see 'caption list')" };
            var approve = new Option<bool>("--approve") { Description = "Approve it (with --text: the edited text)" };
            var reject = new Option<bool>("--reject") { Description = "Reject it: kept out of search and export, not generated again" };
            var primary = new Option<bool>("--primary") { Description = "Approve it and make it the primary caption" };
            var text = new Option<string?>("--text") { Description = "The text to keep instead of the model's (the model's words are kept as generatedText)" };
            var cmd = new Command("review", "Approve, edit, reject or make primary a generated caption") { id, number, approve, reject, primary, text };
            cmd.SetAction((p, ct) =>
            {
                var chosen = new[] { (p.GetValue(approve), CaptionReviewAction.Approve), (p.GetValue(reject), CaptionReviewAction.Reject), (p.GetValue(primary), CaptionReviewAction.Primary) }
                    .Where(x => x.Item1).Select(x => x.Item2).ToList();
                return CaptionRun(p, ct, (s, ct2) =>
                {
                    if (chosen.Count != 1)
                    {
                        throw new TroveUsageException("review-action", "Give exactly one of --approve, --reject or --primary.", "For example: trove caption review ID 2 --approve --text \"a dog on a beach\"");
                    }

                    if (chosen[0] == CaptionReviewAction.Reject && p.GetValue(text) is not null)
                    {
                        throw new TroveUsageException("review-action", "--text goes with --approve or --primary, not with --reject.");
                    }

                    return s.ReviewAsync(p.GetValue(id)!, p.GetValue(number), chosen[0], p.GetValue(text), ct2);
                });
            });
            return cmd;
        }

        /// <summary>A caption as the CLI shows it in JSON: status spelled out, model and version apart.</summary>
        private static object CaptionJson(CaptionEntry c) => new
        {
            id = c.Id,
            text = c.Text,
            primary = c.Primary,
            status = c.EffectiveStatus,
            source = c.Source,
            model = c.Model,
            version = c.ModelVersion,
            generatedText = c.GeneratedText,
            createdAt = c.CreatedAt,
            createdBy = c.CreatedBy,
            updatedAt = c.UpdatedAt,
            reviewedBy = c.ReviewedBy,
            reviewedAt = c.ReviewedAt,
        };

        private static string CaptionLine(CaptionEntry c) =>
            $"#{c.Id}{(c.Primary ? " (primary)" : string.Empty)} [{c.Source}{(c.Model is null ? string.Empty : $" {c.Model}@{c.ModelVersion}")}{(c.IsApproved && c.Status is null ? string.Empty : $", {c.EffectiveStatus}")}] {c.Text}";
    }
}
