using Trove.Application.Inference;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Application.Tagging;

/// <summary>One media that could not be tagged (the others of the run still were).</summary>
public sealed record TaggingFailure(string Id, string Code, string Message);

/// <summary>What one run of the active taggers over some media did.</summary>
/// <param name="Models">The tagger versions that ran (<c>model@version</c>, in priority order).</param>
public sealed record TaggerRunResult(IReadOnlyList<string> Models, IReadOnlyList<SuggestionApplyResult> Media, IReadOnlyList<TaggingFailure> Failed)
{
    public int Added => Media.Sum(m => m.Added);

    public int Updated => Media.Sum(m => m.Updated);

    public int Skipped => Media.Sum(m => m.Skipped);
}

/// <summary>
/// Runs a library's active taggers over media and stores what they propose as pending suggestions: per batch of
/// images, each tagger (ascending <see cref="TaggerParameters.Priority"/>) gets one tensor of N images
/// (<see cref="TaggerTensors"/> through <see cref="TroveLibrary.Imaging"/>), its scores become candidates
/// (<see cref="TaggerPipeline"/>), and <see cref="SuggestionService.ApplyAsync"/> merges them per media. Model sessions
/// are loaded once and kept until <c>models.json</c> changes (then versions no longer active are disposed). One run at a
/// time per runner; dispose the runner to free the models.
/// </summary>
public sealed class TaggerRunner(TroveLibrary library, SuggestionOptions? options = null) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SuggestionService _suggestions = new(library, options);
    private Dictionary<string, LoadedTagger> _loaded = new(StringComparer.Ordinal);
    private (DateTime Written, long Length)? _stamp;
    private bool _disposed;

    /// <summary>The active taggers, in the order they are merged (ascending priority, then id).</summary>
    public static IReadOnlyList<(ModelDefinition Model, ModelVersionEntry Version, TaggerParameters Parameters)> ActiveTaggers(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        return library.Files.ReadModels().Models
            .Where(m => m.Kind == ModelKinds.Tagger && m.Provider == ModelProviders.Onnx && m.ActiveVersion is not null)
            .Select(m => (Model: m, Version: m.ActiveVersion!, Parameters: TaggerParameters.Parse(m.Parameters, m.Id)))
            .OrderBy(t => t.Parameters.Priority)
            .ThenBy(t => t.Model.Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Tags <paramref name="ids"/> (ids or prefixes) with every active tagger.</summary>
    /// <param name="force">Suggest rejected tags again and refresh existing suggestions.</param>
    /// <exception cref="TroveException">inference-unavailable / imaging-unavailable when the host cannot run taggers.</exception>
    public async Task<TaggerRunResult> RunAsync(IReadOnlyList<string> ids, bool force, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var taggers = Load();
            var models = taggers.Select(t => $"{t.Model}@{t.Version}").ToList();
            if (taggers.Count == 0 || ids.Count == 0)
            {
                return new TaggerRunResult(models, [], []);
            }

            if (!library.Imaging.Status.Available)
            {
                throw new TroveException("imaging-unavailable", $"Images cannot be read for tagging: {library.Imaging.Status.Message}", "Install libvips (see docs/operations.md) and run the suggestions again.");
            }

            var known = await new TagMappingService(library).KnownTagsAsync(ct).ConfigureAwait(false);
            var vocabulary = library.Files.ReadVocabulary(out _);
            var mappingService = new TagMappingService(library);
            var mappings = taggers.Select(t => t.Parameters.Mappings(mappingService)).ToList();

            var applied = new List<SuggestionApplyResult>(ids.Count);
            var failed = new List<TaggingFailure>();
            var batchSize = Math.Max(1, library.Options.Suggestions.BatchSize);
            var done = 0;
            progress?.Report(new ProgressInfo("Suggesting", 0, ids.Count));
            foreach (var chunk in ids.Distinct(StringComparer.Ordinal).Chunk(batchSize))
            {
                // Resolve each media to its original file; a media gone since the job was queued is reported, not fatal.
                var media = new List<(string Id, string Path)>(chunk.Length);
                foreach (var raw in chunk)
                {
                    try
                    {
                        var id = await library.ResolveIdAsync(raw, ct).ConfigureAwait(false);
                        var stored = library.Files.ReadSidecar(id);
                        media.Add((id, library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash)));
                    }
                    catch (TroveException ex)
                    {
                        failed.Add(new TaggingFailure(raw, ex.Code, ex.Message));
                    }
                }

                var candidates = media.Select(_ => new List<ModelCandidates>(taggers.Count)).ToList();
                var broken = new bool[media.Count];
                for (var t = 0; t < taggers.Count; t++)
                {
                    var tagger = taggers[t];
                    var scores = Infer(tagger, media, broken, failed, ct);
                    for (var i = 0; i < media.Count; i++)
                    {
                        if (!broken[i] && scores[i] is { } s)
                        {
                            candidates[i].Add(TaggerPipeline.Candidates(tagger.Model, tagger.Version, s, tagger.Labels, tagger.Parameters.Thresholds, mappings[t], known, vocabulary).Candidates);
                        }
                    }
                }

                for (var i = 0; i < media.Count; i++)
                {
                    if (broken[i])
                    {
                        continue;
                    }

                    try
                    {
                        applied.Add(await _suggestions.ApplyAsync(media[i].Id, candidates[i], force, ct).ConfigureAwait(false));
                    }
                    catch (TroveException ex) when (ex.Code == "media-not-found")
                    {
                        failed.Add(new TaggingFailure(media[i].Id, ex.Code, ex.Message));
                    }
                }

                done += chunk.Length;
                progress?.Report(new ProgressInfo("Suggesting", done, ids.Count));
            }

            return new TaggerRunResult(models, applied, failed);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var t in _loaded.Values)
        {
            t.Session.Dispose();
        }

        _loaded.Clear();
        _gate.Dispose();
    }

    // One batched inference of one tagger over the media not yet broken; an unreadable image marks only its media.
    private float[]?[] Infer(LoadedTagger tagger, List<(string Id, string Path)> media, bool[] broken, List<TaggingFailure> failed, CancellationToken ct)
    {
        var pre = tagger.Parameters.Preprocessing;
        var length = pre.TensorLength;
        var slots = new List<int>(media.Count);
        var buffer = new float[media.Count * length];
        for (var i = 0; i < media.Count; i++)
        {
            if (broken[i])
            {
                continue;
            }

            try
            {
                TaggerTensors.WriteFromFile(library.Imaging, media[i].Path, pre, library.Options.Imaging.Limits, buffer.AsSpan(slots.Count * length, length), ct);
                slots.Add(i);
            }
            catch (ImageException ex)
            {
                broken[i] = true;
                failed.Add(new TaggingFailure(media[i].Id, "image-" + ex.Code, $"{library.Layout.Relative(media[i].Path)} cannot be read for tagging: {ex.Message}"));
            }
        }

        var result = new float[]?[media.Count];
        if (slots.Count == 0)
        {
            return result;
        }

        var input = new InputTensor(tagger.InputName, buffer.AsMemory(0, slots.Count * length), pre.InputShape(slots.Count));
        IReadOnlyList<OutputTensor> outputs;
        try
        {
            outputs = tagger.Session.Run([input], ct);
        }
        catch (InferenceException ex) when (ex.Code != "inference-cancelled")
        {
            throw new TroveException(ex.Code, $"Tagger '{tagger.Model}' version '{tagger.Version}' failed on {slots.Count} image(s): {ex.Message}", "Check the model with 'trove models check'.");
        }

        var scores = outputs[0].Data;
        var width = tagger.Labels.Count;
        if (scores.Length != slots.Count * width)
        {
            throw new TroveException("labels-mismatch", $"Tagger '{tagger.Model}' version '{tagger.Version}' gave {scores.Length} scores for {slots.Count} image(s), but its label file has {width} labels.", "Register a label file that fits the model (trove models add … --labels).");
        }

        for (var s = 0; s < slots.Count; s++)
        {
            result[slots[s]] = scores.AsSpan(s * width, width).ToArray();
        }

        return result;
    }

    // The active taggers' sessions: reused while models.json is unchanged; versions no longer active are disposed.
    private List<LoadedTagger> Load()
    {
        var path = library.Layout.ModelsPath;
        var info = new FileInfo(path);
        (DateTime, long)? stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : null;
        if (_stamp is not null && _stamp == stamp)
        {
            return Ordered();
        }

        var active = ActiveTaggers(library);
        if (active.Count > 0 && !library.Inference.Status.Available)
        {
            throw new TroveException("inference-unavailable", $"Taggers cannot run here: {library.Inference.Status.Message}", "Install ONNX Runtime ('make deps', see docs/models.md) or run suggestions on a host that has it.");
        }

        var registry = new Models.ModelRegistry(library);
        var next = new Dictionary<string, LoadedTagger>(StringComparer.Ordinal);
        try
        {
            foreach (var (model, version, parameters) in active)
            {
                var file = registry.Resolve(version.File);
                var labelsFile = version.Labels is { } l ? registry.Resolve(l) : null;
                var key = $"{model.Id}\n{version.Version}\n{file}\n{labelsFile}";
                if (_loaded.Remove(key, out var existing))
                {
                    next[key] = existing with { Parameters = parameters };
                    continue;
                }

                next[key] = Open(model.Id, version.Version, file, labelsFile, parameters);
            }
        }
        catch
        {
            // Keep what was loaded before for the next attempt; free what this attempt opened.
            foreach (var t in next.Values)
            {
                _loaded.TryAdd(KeyOf(t), t);
            }

            throw;
        }

        foreach (var old in _loaded.Values)
        {
            old.Session.Dispose();
        }

        _loaded = next;
        _stamp = stamp;
        return Ordered();
    }

    private List<LoadedTagger> Ordered() =>
        [.. _loaded.Values.OrderBy(t => t.Parameters.Priority).ThenBy(t => t.Model, StringComparer.Ordinal)];

    private static string KeyOf(LoadedTagger t) => $"{t.Model}\n{t.Version}\n{t.File}\n{t.LabelsFile}";

    private LoadedTagger Open(string model, string version, string file, string? labelsFile, TaggerParameters parameters)
    {
        if (labelsFile is null)
        {
            throw new TroveException("labels-missing", $"Tagger '{model}' version '{version}' has no label file.", "Register it again with --labels selected_tags.csv.");
        }

        if (!File.Exists(file))
        {
            throw new TroveException("model-file-missing", $"Tagger '{model}' version '{version}': the model file {file} does not exist.", "Restore the file or activate another version ('trove models activate').");
        }

        if (!File.Exists(labelsFile))
        {
            throw new TroveException("labels-missing", $"Tagger '{model}' version '{version}': the label file {labelsFile} does not exist.", "Restore the file or activate another version ('trove models activate').");
        }

        var labels = TaggerLabelSet.Load(labelsFile);
        IInferenceSession session;
        try
        {
            session = library.Inference.Load(file, new InferenceSessionOptions(library.Options.Suggestions.IntraOpThreads));
        }
        catch (InferenceException ex)
        {
            throw new TroveException(ex.Code, $"Tagger '{model}' version '{version}' cannot be loaded: {ex.Message}", "Check the model with 'trove models check'.");
        }

        var inputs = session.Signature.Inputs;
        if (inputs.Count != 1 || inputs[0].Rank != 4)
        {
            session.Dispose();
            throw new TroveException("model-signature", $"Tagger '{model}' version '{version}' does not take one image tensor of rank 4.", "Check the model with 'trove models check'.");
        }

        return new LoadedTagger(model, version, file, labelsFile, parameters, labels, session, inputs[0].Name);
    }

    private sealed record LoadedTagger(string Model, string Version, string File, string LabelsFile, TaggerParameters Parameters, TaggerLabelSet Labels, IInferenceSession Session, string InputName);
}
