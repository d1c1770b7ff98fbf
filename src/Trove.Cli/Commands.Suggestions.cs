using System.CommandLine;
using System.Globalization;
using Trove.Application.Jobs;
using Trove.Application.Search;
using Trove.Application.Tagging;
using Trove.Domain;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>trove suggest "QUERY" [--force] [--now] — queue (or run here) the active taggers over a query's media.</summary>
        public Command Suggest()
        {
            var query = new Argument<string>("QUERY") { Description = "Which media (query language; \"\" for all)" };
            var force = new Option<bool>("--force") { Description = "Suggest rejected tags again and refresh existing suggestions" };
            var now = new Option<bool>("--now") { Description = "Run the taggers in this process and report, instead of queueing a job for a worker" };
            var cmd = new Command("suggest", "Suggest tags for media with the active taggers (pending until reviewed)") { query, force, now };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var ids = await new SearchService(library!).AllIdsAsync(p.GetValue(query) ?? string.Empty, ct).ConfigureAwait(false);
                if (TaggerRunner.AllActiveTaggers(library!).Count == 0 && Application.Embeddings.ActiveEmbedder.Of(library!) is not { Parameters.ZeroShot.Enabled: true })
                {
                    throw new TroveException("no-taggers", "No tagger is active in this library (and no embedder suggests zero-shot), so there is nothing to suggest with.", "Register one with 'trove models add ID --kind tagger --file model.onnx --labels selected_tags.csv', or turn on an embedder's zeroShot (docs/semantic-search.md).");
                }

                if (!p.GetValue(now))
                {
                    var jobs = await SuggestionJobs.EnqueueAsync(library!, ids, p.GetValue(force), TimeSpan.Zero, ct).ConfigureAwait(false);
                    return await ReportQueuedAsync(ctx, library!, SuggestionJobs.Kind, ids.Count, jobs, "suggestion", null, "run the taggers here and now with 'trove suggest QUERY --now'", new Dictionary<string, object>(), ct).ConfigureAwait(false);
                }

                using var runner = new TaggerRunner(library!);
                var result = await ctx.Output.WithProgressAsync("suggest", progress => runner.RunAsync(ids, p.GetValue(force), progress, ct)).ConfigureAwait(false);
                ctx.Output.Result(
                    new
                    {
                        models = result.Models,
                        media = result.Media.Select(m => new
                        {
                            id = m.Id,
                            added = m.Changes.Where(c => c.Outcome == SuggestionOutcomes.Added).Select(c => new { tag = c.Tag, confidence = c.Confidence, model = c.Model, version = c.ModelVersion }),
                            updated = m.Changes.Where(c => c.Outcome == SuggestionOutcomes.Updated).Select(c => new { tag = c.Tag, confidence = c.Confidence, model = c.Model, version = c.ModelVersion }),
                            skipped = m.Changes.Where(c => c.Outcome is not (SuggestionOutcomes.Added or SuggestionOutcomes.Updated or SuggestionOutcomes.Unchanged)).Select(c => new { tag = c.Tag, outcome = c.Outcome }),
                        }),
                        added = result.Added,
                        updated = result.Updated,
                        skipped = result.Skipped,
                        failed = result.Failed.Select(f => new { id = f.Id, code = f.Code, message = f.Message }),
                        suggested = result.Summary.Suggested,
                        refreshed = result.Summary.Refreshed,
                        implied = result.Summary.Implied,
                        aboveThreshold = result.Summary.AboveThreshold,
                        droppedByVocabulary = result.Summary.DroppedByVocabulary,
                        ignoredByMapping = result.Summary.IgnoredByMapping,
                        invalidName = result.Summary.InvalidName,
                        alreadyProposed = result.Summary.AlreadyProposed,
                        alreadyOnMedia = result.Summary.AlreadyOnMedia,
                        alreadyPending = result.Summary.AlreadyPending,
                        rejectedBefore = result.Summary.RejectedBefore,
                        removedBefore = result.Summary.RemovedBefore,
                        byModel = result.Summary.ByModel,
                        summary = result.Summary.Text,
                        hint = result.Summary.Hint,
                    },
                    w =>
                    {
                        foreach (var m in result.Media)
                        {
                            var added = m.Changes.Where(c => c.Outcome is SuggestionOutcomes.Added or SuggestionOutcomes.Updated).Select(c => $"{c.Tag} {c.Confidence.ToString("0.00", CultureInfo.InvariantCulture)}");
                            w.WriteLine($"{m.Id[..12]}: {string.Join(", ", added)}");
                        }

                        foreach (var f in result.Failed)
                        {
                            w.WriteLine($"{f.Id}: {f.Code}: {f.Message}");
                        }

                        w.WriteLine($"{result.Media.Count} media with {string.Join(", ", result.Models)}: {result.Added} suggested, {result.Updated} refreshed, {result.Skipped} skipped, {result.Failed.Count} failed.");
                        foreach (var m in result.Summary.ByModel)
                        {
                            w.WriteLine(m.Describe());
                        }

                        if (result.Summary.Hint is { } hint)
                        {
                            w.WriteLine("hint: " + hint);
                        }
                    });
                return result.Failed.Count > 0 ? 1 : 0;
            }));
            return cmd;
        }

        /// <summary>
        /// The workers alive that run <paramref name="kind"/>; when jobs were queued and none is, a warning (also on
        /// stderr) saying so, how to start one, or <paramref name="instead"/>.
        /// </summary>
        private static async Task<(List<string> Workers, string? Warning)> NoWorkerWarningAsync(CliContext ctx, Trove.Application.TroveLibrary library, string kind, int queued, string instead, CancellationToken ct)
        {
            var workers = (await JobQueue.Of(library).LiveWorkersAsync(ct).ConfigureAwait(false)).Where(w => w.Runs(kind)).Select(w => w.Id).ToList();
            if (queued == 0 || workers.Count > 0)
            {
                return (workers, null);
            }

            var warning = "No worker is running for this library (none has reported in within the last minute), so these jobs wait until one starts. "
                + $"Start one with 'trove worker' (or 'trove serve', which runs one), or {instead}.";
            await ctx.Output.Err.WriteLineAsync("warning: " + warning).ConfigureAwait(false);
            return (workers, warning);
        }

        /// <summary>
        /// What every "queue jobs for a query's media" command prints: <paramref name="extra"/> and the media count, the
        /// job ids, the live workers that run <paramref name="kind"/> and (when none does) the warning; in words,
        /// "Queued N NOUN job(s) for M media[ with WITH]: ids." and who will run them. Returns the exit code, 0.
        /// </summary>
        private static async Task<int> ReportQueuedAsync(
            CliContext ctx, Trove.Application.TroveLibrary library, string kind, int media, IReadOnlyList<JobRecord> jobs, string noun, string? with, string instead, IReadOnlyDictionary<string, object> extra, CancellationToken ct)
        {
            var (workers, warning) = await NoWorkerWarningAsync(ctx, library, kind, jobs.Count, instead, ct).ConfigureAwait(false);
            var json = new Dictionary<string, object>(extra) { ["media"] = media, ["jobs"] = jobs.Select(j => j.Id).ToList(), ["workers"] = workers };
            if (warning is not null)
            {
                json["warning"] = warning;
            }

            ctx.Output.Result(json, w => w.WriteLine(media == 0
                ? "No media match; nothing was queued."
                : $"Queued {jobs.Count} {noun} job(s) for {media} media{(with is null ? string.Empty : " with " + with)}: {string.Join(", ", jobs.Select(j => j.Id))}. "
                    + (workers.Count > 0 ? $"Worker {string.Join(", ", workers)} will run them." : "They run once a worker ('trove worker' or 'trove serve') is started.")));
            return 0;
        }

        /// <summary>trove suggestions list ID [--status S] — a media's suggestions.</summary>
        public Command Suggestions()
        {
            var cmd = new Command("suggestions", "Tag suggestions of a media");
            var id = new Argument<string>("ID");
            var status = new Option<string?>("--status") { Description = "pending|approved|rejected (default: all)" };
            var list = new Command("list", "List a media's suggestions, best confidence first") { id, status };
            list.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var listing = await new SuggestionService(library!).ListAsync(p.GetValue(id)!, p.GetValue(status), ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new
                    {
                        id = listing.Id,
                        pending = listing.Pending,
                        suggestions = listing.Suggestions.Select(s => new
                        {
                            tag = s.Tag,
                            confidence = s.Confidence,
                            status = s.Status,
                            model = s.Model,
                            version = s.ModelVersion,
                            category = s.Category,
                            external = s.External,
                            createdAt = s.CreatedAt,
                            reviewedBy = s.ReviewedBy,
                            reviewedAt = s.ReviewedAt,
                        }),
                    },
                    w =>
                    {
                        if (listing.Suggestions.Count == 0)
                        {
                            w.WriteLine($"{listing.Id[..12]}: no suggestions.");
                        }

                        foreach (var s in listing.Suggestions)
                        {
                            w.WriteLine($"{s.Confidence.ToString("0.00", CultureInfo.InvariantCulture)}  {s.Status,-9} {s.Tag,-32} {SuggestionService.Provenance(s)}");
                        }
                    });
                return 0;
            }));
            cmd.Subcommands.Add(list);
            return cmd;
        }

        /// <summary>trove review ID --approve TAG... --reject TAG... — decide on pending suggestions (exit 1 when an item failed).</summary>
        public Command Review()
        {
            var id = new Argument<string>("ID");
            var approve = new Option<string[]>("--approve") { Description = "Tags to approve (added to the media)", AllowMultipleArgumentsPerToken = true };
            var reject = new Option<string[]>("--reject") { Description = "Tags to reject (not suggested again unless forced)", AllowMultipleArgumentsPerToken = true };
            var cmd = new Command("review", "Approve or reject a media's pending suggestions") { id, approve, reject };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var yes = p.GetValue(approve) ?? [];
                var no = p.GetValue(reject) ?? [];
                if (yes.Length == 0 && no.Length == 0)
                {
                    throw new TroveUsageException("nothing-to-review", "Give at least one --approve TAG or --reject TAG.", "See the pending ones with 'trove suggestions list ID --status pending'.");
                }

                var result = await new SuggestionService(library!).ReviewAsync(p.GetValue(id)!, yes, no, ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new
                    {
                        id = result.Id,
                        items = result.Items.Select(i => new { tag = i.Tag, action = i.Action, ok = i.Ok, code = i.Code, message = i.Message }),
                        approved = result.Approved,
                        rejected = result.Rejected,
                        failed = result.Failed,
                        tagsAdded = result.TagsAdded,
                        alsoApproved = result.AlsoApproved,
                        tags = result.Tags,
                    },
                    w =>
                    {
                        foreach (var i in result.Items)
                        {
                            w.WriteLine(i.Ok ? $"{i.Action,-8} {i.Tag}" : $"failed   {i.Tag} ({i.Action}): {i.Code}: {i.Message}");
                        }

                        w.WriteLine($"{result.Id[..12]}: {result.Approved} approved, {result.Rejected} rejected, {result.Failed} failed; tags: {string.Join(' ', result.Tags)}");
                    });
                return result.Failed > 0 ? 1 : 0;
            }));
            return cmd;
        }
    }
}
