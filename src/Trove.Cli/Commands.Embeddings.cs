using System.CommandLine;
using Trove.Application.Embeddings;
using Trove.Application.Search;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>trove embed "QUERY" [--force] [--now] — queue (or run here) the embedder over a query's media.</summary>
        public Command Embed()
        {
            var query = new Argument<string>("QUERY") { Description = "Which media (query language; \"\" for all)" };
            var force = new Option<bool>("--force") { Description = "Embed media that already have an embedding again" };
            var now = new Option<bool>("--now") { Description = "Run the embedder in this process and report, instead of queueing a job for a worker" };
            var cmd = new Command("embed", "Compute image embeddings for semantic search (only what is missing, unless --force)") { query, force, now };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var active = ActiveEmbedder.Require(library!);
                var ids = await new SearchService(library!).AllIdsAsync(p.GetValue(query) ?? string.Empty, ct).ConfigureAwait(false);
                if (!p.GetValue(now))
                {
                    var jobs = await EmbedJobs.EnqueueAsync(library!, ids, p.GetValue(force), TimeSpan.Zero, ct).ConfigureAwait(false);
                    return await ReportQueuedAsync(
                        ctx, library!, EmbedJobs.Kind, ids.Count, jobs, "embed", active.Reference, "embed here and now with 'trove embed QUERY --now'",
                        new Dictionary<string, object> { ["model"] = active.Reference }, ct).ConfigureAwait(false);
                }

                var result = await ctx.Output.WithProgressAsync("embed", progress => new EmbedRunner(library!).RunAsync(ids, p.GetValue(force), progress, ct)).ConfigureAwait(false);
                ctx.Output.Result(
                    new
                    {
                        model = result.Model,
                        embedded = result.Embedded,
                        skipped = result.Skipped,
                        suggested = result.Suggested,
                        failed = result.Failed.Select(f => new { id = f.Id, code = f.Code, message = f.Message }),
                    },
                    w =>
                    {
                        foreach (var f in result.Failed)
                        {
                            w.WriteLine($"{f.Id}: {f.Code}: {f.Message}");
                        }

                        w.WriteLine($"{result.Model}: {result.Embedded} embedded, {result.Skipped} already embedded, {result.Failed.Count} failed"
                            + (result.Suggested > 0 ? $"; {result.Suggested} zero-shot tag suggestion(s) wait for review (the Review page, or 'trove suggestions list ID' and 'trove review ID')." : "."));
                    });
                return result.Failed.Count > 0 ? 1 : 0;
            }));
            return cmd;
        }
    }
}
