using Trove.Application.Embeddings;
using System.CommandLine;
using System.Text.Json.Nodes;
using Trove.Application.Models;
using Trove.Application.Tagging;
using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>trove models list|show|add|activate|remove|check — the library's model registry (models.json).</summary>
        public Command Models()
        {
            var cmd = new Command("models", "The model registry: taggers and other models, their versions and the active one");

            var list = new Command("list", "List models with their active version");
            list.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var models = await new ModelRegistry(library!).ListAsync(ct).ConfigureAwait(false);
                ctx.Output.Result(new { models = models.Select(ModelJson) }, w =>
                {
                    if (models.Count == 0)
                    {
                        w.WriteLine("No models yet. Add one with: trove models add ID --kind tagger --file model.onnx --labels selected_tags.csv");
                    }

                    foreach (var m in models)
                    {
                        w.WriteLine($"{m.Id,-24} {m.Kind,-14} active {m.ActiveVersion?.Version ?? "-",-10} {m.Versions.Count} version(s)  {m.Name}");
                    }
                });
                return 0;
            }));
            cmd.Subcommands.Add(list);

            var id = new Argument<string>("ID") { Description = "Model id (lowercase letters, digits, '-', '_', '.')" };
            var show = new Command("show", "Show one model and all its versions") { id };
            show.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var m = await new ModelRegistry(library!).GetAsync(p.GetValue(id)!, ct).ConfigureAwait(false);
                ctx.Output.Result(ModelJson(m), w =>
                {
                    w.WriteLine($"{m.Id}: {m.Name} ({m.Kind}, {m.Provider})");
                    foreach (var v in m.Versions)
                    {
                        w.WriteLine($"  {(v.Active ? "*" : " ")} {v.Version,-10} {v.File}  labels: {v.Labels ?? "-"}");
                    }
                });
                return 0;
            }));
            cmd.Subcommands.Add(show);

            var kind = new Option<string>("--kind") { Description = string.Join("|", ModelKinds.All), DefaultValueFactory = _ => ModelKinds.Tagger };
            var file = new Option<string?>("--file") { Description = "The model file (.onnx; relative paths are relative to the library); not for a model on a remote --provider" };
            var provider = new Option<string>("--provider") { Description = "onnx (a local file, the default) or the name of a remote provider ('trove providers list')", DefaultValueFactory = _ => ModelProviders.Onnx };
            var labels = new Option<string?>("--labels") { Description = "Label file (taggers: WD14 selected_tags.csv)" };
            var version = new Option<string>("--version") { Description = "Version name", DefaultValueFactory = _ => "1" };
            var name = new Option<string?>("--name") { Description = "Display name" };
            var description = new Option<string?>("--description");
            var category = new Option<string?>("--category") { Description = "e.g. danbooru, custom" };
            var parameters = new Option<string?>("--parameters") { Description = "Kind-specific settings as JSON (see docs/models.md)" };
            var inactive = new Option<bool>("--inactive") { Description = "Register the version without making it the active one" };
            var policy = new Option<string?>("--vocabulary-policy")
            {
                Description = "Taggers: what happens to labels no mapping names — create (suggest them as new tags), existing (only tags the library has; the default), ignore (only mapped labels). Stored as \"unmapped\" in the parameters",
            };
            var textFile = new Option<string?>("--text-file") { Description = "Embedders: the text encoder (.onnx); --file is the image encoder" };
            var vocab = new Option<string?>("--vocab") { Description = "Embedders: the tokenizer's vocab.json (with --merges)" };
            var merges = new Option<string?>("--merges") { Description = "Embedders: the tokenizer's merges.txt (with --vocab)" };
            var bpe = new Option<string?>("--bpe") { Description = "Embedders: CLIP's bpe_simple_vocab_16e6.txt.gz, instead of --vocab and --merges" };
            var add = new Command("add", "Register a model, or a new version of one (checked before it is saved)") { id, kind, file, provider, labels, version, name, description, category, parameters, inactive, policy, textFile, vocab, merges, bpe };
            add.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                JsonObject? settings = null;
                if (p.GetValue(parameters) is { Length: > 0 } json)
                {
                    try
                    {
                        settings = JsonNode.Parse(json) as JsonObject ?? throw new TroveUsageException("bad-parameters", "--parameters must be a JSON object.");
                    }
                    catch (System.Text.Json.JsonException ex)
                    {
                        throw new TroveUsageException("bad-parameters", $"--parameters is not valid JSON: {ex.Message}");
                    }
                }

                var vocabularyPolicy = p.GetValue(policy) is { } text ? VocabularyPolicy.Parse(text) : (UnmappedPolicy?)null;
                var files = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (role, option) in new[] { (ActiveEmbedder.TextFile, textFile), (ActiveEmbedder.VocabFile, vocab), (ActiveEmbedder.MergesFile, merges), (ActiveEmbedder.BpeFile, bpe) })
                {
                    if (p.GetValue(option) is { Length: > 0 } path)
                    {
                        files[role] = path;
                    }
                }

                var m = await new ModelRegistry(library!).AddAsync(
                    new ModelAddRequest(p.GetValue(id)!, p.GetValue(kind)!, p.GetValue(file) ?? string.Empty, p.GetValue(version)!, p.GetValue(name), p.GetValue(labels), p.GetValue(description), p.GetValue(category), null, settings, null, !p.GetValue(inactive), p.GetValue(provider)!.Trim(), vocabularyPolicy) { Files = files.Count == 0 ? null : files },
                    ct).ConfigureAwait(false);
                var added = m.Versions[^1];
                var report = m.Kind == ModelKinds.Tagger ? await VocabularyPolicyReport.DescribeAsync(library!, m, added, ct).ConfigureAwait(false) : null;
                ctx.Output.Result(WithPolicy(ModelJson(m), report), w =>
                {
                    w.WriteLine($"Registered {m.Id} version {added.Version}; active: {m.ActiveVersion?.Version}.");
                    if (report is not null)
                    {
                        w.WriteLine(report.Text);
                    }
                });
                return 0;
            }));
            cmd.Subcommands.Add(add);

            var setPolicy = new Option<string>("--vocabulary-policy") { Description = "create|existing|ignore (see 'trove models add --help')", Required = true };
            var set = new Command("set", "Change a registered tagger's vocabulary policy (its other parameters stay)") { id, setPolicy };
            set.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var chosen = VocabularyPolicy.Parse(p.GetValue(setPolicy)!);
                var m = await new ModelRegistry(library!).SetVocabularyPolicyAsync(p.GetValue(id)!, chosen, ct).ConfigureAwait(false);
                var shown = m.ActiveVersion ?? m.Versions.LastOrDefault();
                var report = shown is null ? null : await VocabularyPolicyReport.DescribeAsync(library!, m, shown, ct).ConfigureAwait(false);
                ctx.Output.Result(WithPolicy(ModelJson(m), report), w =>
                {
                    w.WriteLine($"{m.Id}: the vocabulary policy is now {TagMappingSet.PolicyName(chosen)}; running workers use it from their next job. Suggest again with 'trove suggest QUERY'.");
                    if (report is not null)
                    {
                        w.WriteLine(report.Text);
                    }
                });
                return 0;
            }));
            cmd.Subcommands.Add(set);

            var versionArg = new Argument<string>("VERSION");
            var activate = new Command("activate", "Make a version the active one") { id, versionArg };
            activate.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var m = await new ModelRegistry(library!).ActivateAsync(p.GetValue(id)!, p.GetValue(versionArg)!, ct).ConfigureAwait(false);
                ctx.Output.Result(ModelJson(m), w => w.WriteLine($"{m.Id}: version {m.ActiveVersion?.Version} is active."));
                return 0;
            }));
            cmd.Subcommands.Add(activate);

            var remove = new Command("remove", "Remove a model from the registry (its files stay where they are)") { id };
            remove.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                await new ModelRegistry(library!).RemoveAsync(p.GetValue(id)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new { removed = p.GetValue(id) }, w => w.WriteLine($"Removed {p.GetValue(id)}."));
                return 0;
            }));
            cmd.Subcommands.Add(remove);

            var check = new Command("check", "Load every active version and check its files, input shape and label count");
            check.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var problems = await new ModelRegistry(library!).CheckAsync(ct).ConfigureAwait(false);
                ctx.Output.Result(new { problems = problems.Select(x => new { model = x.Model, version = x.Version, code = x.Code, message = x.Message }) }, w =>
                {
                    w.WriteLine(problems.Count == 0 ? "Every active model loads and fits its labels." : $"{problems.Count} problem(s):");
                    foreach (var x in problems)
                    {
                        w.WriteLine($"  {x.Code}: {x.Message}");
                    }
                });
                return problems.Any(x => x.Code != "inference-unavailable") ? 1 : 0;
            }));
            cmd.Subcommands.Add(check);
            return cmd;
        }

        // The model's JSON with, for taggers, the vocabulary policy in force and what it means here.
        private static object WithPolicy(object model, VocabularyPolicyReport? report)
        {
            if (report is null)
            {
                return model;
            }

            var node = System.Text.Json.JsonSerializer.SerializeToNode(model, CliOutput.JsonOptions)!.AsObject();
            node["vocabularyPolicy"] = new JsonObject
            {
                ["policy"] = report.Policy.Name,
                ["from"] = report.Policy.From,
                ["default"] = report.Policy.IsDefault,
                ["vocabulary"] = report.Policy.Source,
                ["labels"] = report.Labels,
                ["usable"] = report.Usable,
                ["meaning"] = report.Text,
            };
            return node;
        }

        private static object ModelJson(ModelDefinition m) => new
        {
            id = m.Id,
            name = m.Name,
            kind = m.Kind,
            provider = m.Provider,
            description = m.Description,
            category = m.Category,
            tags = m.Tags,
            parameters = m.Parameters,
            active = m.ActiveVersion?.Version,
            versions = m.Versions.Select(v => new { version = v.Version, file = v.File, labels = v.Labels, files = v.Files, metrics = v.Metrics, deployedAt = v.DeployedAt, active = v.Active }),
        };
    }
}
