using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Trove.Application.Ports;
using Trove.Application.Providers;
using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Application.Tagging;

/// <summary>
/// How a remote tagger is asked, from <c>parameters.remote</c> of its models.json entry: the prompt (OpenAI-compatible
/// providers; hf-inference image classification takes no prompt) and the answer's length.
/// </summary>
public sealed record RemoteTaggerRequest(string Prompt, int MaxTokens)
{
    public const string DefaultPrompt =
        "List what is visible in this image as tags with a confidence for each. Answer with JSON only, in the form "
        + "{\"tags\":[{\"tag\":\"beach\",\"score\":0.97}]}: short lowercase tags (one to three words, underscores instead of "
        + "spaces) for the subject, its attributes, clothing or materials, action, setting, lighting, colours, composition and "
        + "medium; scores from 0 to 1 saying how sure you are; at most 40 tags.";

    public static RemoteTaggerRequest Default { get; } = new(DefaultPrompt, 600);

    /// <exception cref="TroveUsageException">model-parameters-invalid, naming the field.</exception>
    public static RemoteTaggerRequest Parse(JsonObject? parameters, string model)
    {
        if (parameters?["remote"] is not { } node)
        {
            return Default;
        }

        if (node is not JsonObject remote)
        {
            throw new Models.ParameterReader(parameters, model, "Remote taggers").Bad("remote", "must be an object like {\"prompt\":\"…\",\"maxTokens\":600}");
        }

        var reader = new Models.ParameterReader(remote, model, "Remote taggers", "remote.");

        var prompt = remote["prompt"] switch
        {
            null => DefaultPrompt,
            JsonValue v when v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) => s.Trim(),
            var other => throw reader.Bad("prompt", $"must be a non-empty string, found {other.ToJsonString()}"),
        };
        var maxTokens = remote["maxTokens"] switch
        {
            null => Default.MaxTokens,
            JsonValue v when v.TryGetValue<int>(out var n) && n is >= 1 and <= 8192 => n,
            var other => throw reader.Bad("maxTokens", $"must be a whole number 1–8192, found {other.ToJsonString()}"),
        };
        return new RemoteTaggerRequest(prompt, maxTokens);
    }
}

/// <summary>
/// Taggers on a remote provider (docs/models.md, "Remote taggers"): an OpenAI-compatible model asked for JSON tags with
/// scores, or an hf-inference image classifier answering <c>[{label, score}]</c>. Their labels go through the same
/// thresholds, vocabulary mapping and policy, merge and review as a local WD14 tagger's; they run after the local
/// taggers of a run, so on a tag both propose the local one's suggestion stands. Requests run in parallel up to the
/// provider's concurrency (its limits are shared by the whole process); each media's suggestions are stored as soon as
/// its answer arrives. A permanent provider failure (wrong key, unknown model) stops the run.
/// </summary>
internal sealed class RemoteTaggers(TroveLibrary library, SuggestionOptions? options)
{
    public sealed record Tagger(ModelDefinition Model, ModelVersionEntry Version, TaggerParameters Parameters, RemoteTaggerRequest Request, ProviderDefinition Provider, TaggerLabelSet? Labels)
    {
        public string Reference => $"{Model.Id}@{Version.Version}";
    }

    /// <summary>The active taggers that run on a remote provider, in priority order.</summary>
    public static IReadOnlyList<Tagger> Active(TroveLibrary library)
    {
        var registry = new ProviderRegistry(library);
        var registryOfModels = new Models.ModelRegistry(library);
        return library.Files.ReadModels().Models
            .Where(m => m.Kind == ModelKinds.Tagger && !ModelProviders.IsLocal(m.Provider) && m.ActiveVersion is not null)
            .Select(m =>
            {
                var version = m.ActiveVersion!;
                var labels = version.Labels is { Length: > 0 } file ? TaggerLabelSet.Load(registryOfModels.Resolve(file)) : null;
                return new Tagger(m, version, TaggerParameters.Parse(m.Parameters, m.Id), RemoteTaggerRequest.Parse(m.Parameters, m.Id), registry.Get(m.Provider), labels);
            })
            .OrderBy(t => t.Parameters.Priority)
            .ThenBy(t => t.Model.Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Asks every remote tagger about every media and stores the suggestions; tallies and failures go to the caller's lists.</summary>
    public async Task RunAsync(
        IReadOnlyList<Tagger> taggers,
        IReadOnlyList<string> ids,
        bool force,
        IReadOnlySet<string> known,
        Vocabulary vocabulary,
        IReadOnlyList<TagMappingSet> mappings,
        IReadOnlyList<TaggerTally> tallies,
        List<SuggestionApplyResult> applied,
        ConcurrentQueue<TaggingFailure> failed,
        IProgress<ProgressInfo>? progress,
        CancellationToken ct)
    {
        var done = 0;
        ProviderException? permanent = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var gate = new Lock();
        var parallelism = Math.Max(1, taggers.Max(t => t.Provider.MaxConcurrency));
        progress?.Report(new ProgressInfo("Suggesting (remote)", 0, ids.Count));
        try
        {
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = stop.Token }, async (raw, token) =>
            {
                try
                {
                    var id = await library.ResolveIdAsync(raw, token).ConfigureAwait(false);
                    var stored = library.Files.ReadSidecar(id);
                    var path = library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash);
                    var sets = new CandidateSet[taggers.Count];
                    for (var t = 0; t < taggers.Count; t++)
                    {
                        var tagger = taggers[t];
                        var image = await ProviderRegistry.PrepareImageAsync(library, stored.Sidecar, path, tagger.Provider, token).ConfigureAwait(false);
                        var reply = await library.Remote.ClassifyAsync(tagger.Provider, new ClassifyRequest(image, tagger.Request.Prompt, tagger.Request.MaxTokens), token).ConfigureAwait(false);
                        sets[t] = Candidates(tagger, reply.Labels, mappings[t], known, vocabulary);
                    }

                    var result = await SuggestionBatch.ApplyAsync(library, [new SuggestionBatchItem(id, sets.Select(s => s.Candidates).ToList())], force, options, token).ConfigureAwait(false);
                    lock (gate)
                    {
                        applied.AddRange(result.Applied);
                        foreach (var a in result.Applied)
                        {
                            for (var t = 0; t < taggers.Count; t++)
                            {
                                tallies[t].Add(sets[t], a.Changes);
                            }
                        }
                    }

                    foreach (var f in result.Failed)
                    {
                        failed.Enqueue(f);
                    }
                }
                catch (ProviderException ex) when (ex.Permanent)
                {
                    Interlocked.CompareExchange(ref permanent, ex, null);
                    await stop.CancelAsync().ConfigureAwait(false);
                }
                catch (ProviderException ex)
                {
                    failed.Enqueue(new TaggingFailure(raw, ex.Code, ex.Message));
                }
                catch (ImageException ex)
                {
                    failed.Enqueue(new TaggingFailure(raw, "image-" + ex.Code, ex.Message));
                }
                catch (TroveException ex) when (ex.Code is "media-not-found" or "ambiguous-id")
                {
                    failed.Enqueue(new TaggingFailure(raw, ex.Code, ex.Message));
                }
                finally
                {
                    progress?.Report(new ProgressInfo("Suggesting (remote)", Interlocked.Increment(ref done), ids.Count));
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (permanent is not null && !ct.IsCancellationRequested)
        {
            // Stopped by the permanent failure below.
        }

        if (permanent is not null)
        {
            throw permanent;
        }
    }

    /// <summary>
    /// A remote answer as a score vector over its own labels (categories from the tagger's label file when it has one,
    /// else the library's vocabulary), then the same thresholds and mapping as a local tagger.
    /// </summary>
    internal static CandidateSet Candidates(Tagger tagger, IReadOnlyList<RemoteLabel> answer, TagMappingSet mapping, IReadOnlySet<string> known, Vocabulary vocabulary)
    {
        var best = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var label in answer)
        {
            var name = label.Label.Trim().Replace(' ', '_');
            if (name.Length > 0 && double.IsFinite(label.Score))
            {
                best[name] = Math.Max(best.GetValueOrDefault(name), Math.Clamp(label.Score, 0, 1));
            }
        }

        var names = best.Keys.ToList();
        var fromFile = tagger.Labels?.Labels.GroupBy(l => l.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Category, StringComparer.Ordinal);
        var labels = fromFile is null
            ? TaggerLabelSet.FromNames(names)
            : TaggerLabelSet.FromNames(names, names.Select(n => fromFile.GetValueOrDefault(n, Vocabulary.DefaultCategory)));
        var scores = names.Select(n => (float)best[n]).ToArray();
        return TaggerPipeline.Candidates(tagger.Model.Id, tagger.Version.Version, scores, labels, tagger.Parameters.Thresholds, mapping, known, fromFile is null ? vocabulary : null);
    }
}
