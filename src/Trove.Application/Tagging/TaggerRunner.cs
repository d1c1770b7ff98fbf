using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Trove.Application.Inference;
using Trove.Application.Ports;
using Trove.Application.Threading;
using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Application.Tagging;

/// <summary>One media that could not be tagged (the others of the run still were).</summary>
public sealed record TaggingFailure(string Id, string Code, string Message);

/// <summary>What one run of the active taggers over some media did.</summary>
/// <param name="Models">The tagger versions that ran (<c>model@version</c>, in priority order).</param>
public sealed record TaggerRunResult(IReadOnlyList<string> Models, IReadOnlyList<SuggestionApplyResult> Media, IReadOnlyList<TaggingFailure> Failed)
{
    /// <summary>What became of each tagger's labels (above threshold, dropped by the vocabulary policy, …) and, when one suggested nothing, why.</summary>
    public SuggestionSummary Summary { get; init; } = SuggestionSummary.Empty;

    public int Added => Media.Sum(m => m.Added);

    public int Updated => Media.Sum(m => m.Updated);

    public int Skipped => Media.Sum(m => m.Skipped);
}

/// <summary>
/// Runs a library's active taggers over media and stores what they propose as pending suggestions. The work is a
/// pipeline of three stages joined by bounded queues, so that the CPU-heavy parts overlap:
/// <list type="number">
/// <item>prepare: resolve each batch's media and decode its images (through <see cref="TroveLibrary.Imaging"/>, once per
/// distinct pixel request, <see cref="SuggestionSettings.DecodeThreads"/> at a time on <see cref="LowPriorityWorkers"/>,
/// so that decoding takes the CPU the model leaves) into one tensor per tagger;</item>
/// <item>infer: each tagger (ascending <see cref="TaggerParameters.Priority"/>) runs once over the batch's tensor;</item>
/// <item>store: scores become candidates (<see cref="TaggerPipeline"/>) and <see cref="SuggestionBatch"/> merges them into
/// the batch's sidecars in one write session.</item>
/// </list>
/// While batch k runs through the model, batch k + 1 is being decoded and batch k − 1 stored. Model sessions are loaded
/// once and kept until <c>models.json</c> changes (then versions no longer active are disposed). One run at a time per
/// runner; dispose the runner to free the models.
/// </summary>
public sealed class TaggerRunner(TroveLibrary library, SuggestionOptions? options = null) : IDisposable
{
    /// <summary>Batches decoded ahead of the model, and scored batches waiting to be stored.</summary>
    private const int QueueDepth = 2;

    private readonly SemaphoreSlim _gate = new(1, 1);
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

    /// <summary>Every active tagger's settings, local and remote (<see cref="RemoteTaggers"/>), in priority order.</summary>
    public static IReadOnlyList<(ModelDefinition Model, TaggerParameters Parameters)> AllActiveTaggers(TroveLibrary library) =>
        [.. ActiveTaggers(library).Select(t => (t.Model, t.Parameters)).Concat(RemoteTaggers.Active(library).Select(r => (r.Model, r.Parameters))).OrderBy(t => t.Parameters.Priority)];

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
            var remote = RemoteTaggers.Active(library);
            var models = taggers.Select(t => $"{t.Model}@{t.Version}").Concat(remote.Select(r => r.Reference)).ToList();
            var mappingService = new TagMappingService(library);
            var tallies = taggers.Select(t => new TaggerTally(t.Model, t.Version, t.Parameters.PolicyInForce(mappingService))).ToList();
            var remoteTallies = remote.Select(r => new TaggerTally(r.Model.Id, r.Version.Version, r.Parameters.PolicyInForce(mappingService))).ToList();
            var zeroShot = Embeddings.ActiveEmbedder.Of(library) is { Parameters.ZeroShot.Enabled: true } embedder ? embedder.Reference : null;
            if (zeroShot is not null)
            {
                models.Add(zeroShot);
            }

            if ((taggers.Count == 0 && remote.Count == 0 && zeroShot is null) || ids.Count == 0)
            {
                return new TaggerRunResult(models, [], []) { Summary = SuggestionSummary.Of([.. tallies.Concat(remoteTallies).Select(t => t.ToSummary())]) };
            }

            if (!library.Imaging.Status.Available)
            {
                throw new TroveException("imaging-unavailable", $"Images cannot be read for tagging: {library.Imaging.Status.Message}", "Install libvips (see docs/operations.md) and run the suggestions again.");
            }

            var known = await mappingService.KnownTagsAsync(ct).ConfigureAwait(false);
            var vocabulary = library.Files.ReadVocabulary(out _);
            var run = new Run(
                taggers,
                tallies,
                known,
                vocabulary,
                taggers.Select(t => t.Parameters.Mappings(mappingService)).ToList(),
                force,
                progress);
            var distinctIds = ids.Distinct(StringComparer.Ordinal).ToList();
            if (taggers.Count > 0)
            {
                var chunks = distinctIds.Chunk(Math.Max(1, library.Options.Suggestions.BatchSize)).ToList();
                run.Total = chunks.Sum(c => c.Length);
                progress?.Report(new ProgressInfo("Suggesting", 0, run.Total));

                using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var options = new BoundedChannelOptions(QueueDepth) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait };
                var prepared = Channel.CreateBounded<PreparedBatch>(options);
                var scored = Channel.CreateBounded<ScoredBatch>(options);
                Task[] stages =
                [
                    Stage(() => PrepareAsync(run, chunks, prepared.Writer, stop.Token), e => prepared.Writer.TryComplete(e), stop),
                    Stage(() => InferAsync(run, prepared.Reader, scored.Writer, stop.Token), e => scored.Writer.TryComplete(e), stop),
                    Stage(() => StoreAsync(run, scored.Reader, stop.Token), _ => { }, stop),
                ];
                try
                {
                    await Task.WhenAll(stages).ConfigureAwait(false);
                }
                catch (Exception) when (FirstFailure(stages) is { } root)
                {
                    // A stage's own failure, not the cancellations it caused in the others.
                    ExceptionDispatchInfo.Throw(root);
                }
            }

            if (remote.Count > 0)
            {
                // After the local taggers: on a tag both propose, the local suggestion stands (one per media and tag).
                await new RemoteTaggers(library, options).RunAsync(
                    remote, distinctIds, force, known, vocabulary, remote.Select(r => r.Parameters.Mappings(mappingService)).ToList(), remoteTallies, run.Applied, run.Failed, progress, ct).ConfigureAwait(false);
            }

            if (zeroShot is not null)
            {
                // Last: from the stored embeddings (media not embedded yet get theirs when the embed job reaches them).
                var zs = await new Embeddings.ZeroShotTagger(library).SuggestStoredAsync(distinctIds, force, ct).ConfigureAwait(false);
                run.Applied.AddRange(zs.Media);
                foreach (var failure in zs.Failed)
                {
                    run.Failed.Enqueue(failure);
                }
            }

            return new TaggerRunResult(models, run.Applied, [.. run.Failed]) { Summary = SuggestionSummary.Of([.. run.Tallies.Concat(remoteTallies).Select(t => t.ToSummary())]) };
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

    // Runs one stage on the thread pool; when it fails the others are stopped. `complete` closes its output queue
    // (with the failure, so that the next stage sees it).
    private static Task Stage(Func<Task> body, Action<Exception?> complete, CancellationTokenSource stop) => Task.Run(async () =>
    {
        try
        {
            await body().ConfigureAwait(false);
            complete(null);
        }
        catch (Exception ex)
        {
            complete(ex);
            await stop.CancelAsync().ConfigureAwait(false);
            throw;
        }
    });

    private static Exception? FirstFailure(Task[] stages) =>
        stages.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).FirstOrDefault(e => e is not OperationCanceledException);

    // Stage 1: resolve each chunk's media and decode them into one tensor per tagger.
    private async Task PrepareAsync(Run run, List<string[]> chunks, ChannelWriter<PreparedBatch> output, CancellationToken ct)
    {
        var settings = library.Options.Suggestions;
        using var decoders = new LowPriorityWorkers(settings.DecodeThreads is > 0 and var n ? n : Environment.ProcessorCount, settings.LowPriorityDecode);
        // Taggers that ask for the same pixels share one decode.
        var requests = run.Taggers.Select(t => t.Parameters.Preprocessing.PixelRequest(library.Options.Imaging.Limits)).ToList();
        var distinct = requests.Distinct().ToList();
        foreach (var chunk in chunks)
        {
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
                    run.Failed.Enqueue(new TaggingFailure(raw, ex.Code, ex.Message));
                }
            }

            var buffers = run.Taggers.Select(t => ArrayPool<float>.Shared.Rent(Math.Max(1, media.Count) * t.Parameters.Preprocessing.TensorLength)).ToArray();
            var ok = new bool[media.Count];
            try
            {
                decoders.For(media.Count, i =>
                {
                    try
                    {
                        foreach (var request in distinct)
                        {
                            var pixels = library.Imaging.Pixels(media[i].Path, request, ct);
                            for (var t = 0; t < run.Taggers.Count; t++)
                            {
                                if (requests[t] == request)
                                {
                                    var pre = run.Taggers[t].Parameters.Preprocessing;
                                    TaggerTensors.Write(pixels, pre, buffers[t].AsSpan(i * pre.TensorLength, pre.TensorLength));
                                }
                            }
                        }

                        ok[i] = true;
                    }
                    catch (ImageException ex)
                    {
                        run.Failed.Enqueue(new TaggingFailure(media[i].Id, "image-" + ex.Code, $"{library.Layout.Relative(media[i].Path)} cannot be read for tagging: {ex.Message}"));
                    }
                }, ct);

                // Close the gaps an unreadable image left, so that the tensors are the first `count` slots.
                var kept = new List<(string Id, string Path)>(media.Count);
                for (var i = 0; i < media.Count; i++)
                {
                    if (!ok[i])
                    {
                        continue;
                    }

                    if (kept.Count != i)
                    {
                        for (var t = 0; t < run.Taggers.Count; t++)
                        {
                            var length = run.Taggers[t].Parameters.Preprocessing.TensorLength;
                            Array.Copy(buffers[t], i * length, buffers[t], kept.Count * length, length);
                        }
                    }

                    kept.Add(media[i]);
                }

                await output.WriteAsync(new PreparedBatch(chunk.Length, kept, buffers), ct).ConfigureAwait(false);
                buffers = null;
            }
            finally
            {
                if (buffers is not null)
                {
                    Return(buffers);
                }
            }
        }
    }

    // Stage 2: one batched run of each tagger; nothing else happens on this stage, so the model is never kept waiting
    // for decoding or writing once the queues are full.
    private static async Task InferAsync(Run run, ChannelReader<PreparedBatch> input, ChannelWriter<ScoredBatch> output, CancellationToken ct)
    {
        await foreach (var batch in input.ReadAllAsync(ct).ConfigureAwait(false))
        {
            var scores = new float[run.Taggers.Count][];
            try
            {
                for (var t = 0; t < run.Taggers.Count && batch.Media.Count > 0; t++)
                {
                    scores[t] = Infer(run.Taggers[t], batch.Buffers[t], batch.Media.Count, ct);
                }
            }
            finally
            {
                Return(batch.Buffers);
            }

            await output.WriteAsync(new ScoredBatch(batch.Size, batch.Media, scores), ct).ConfigureAwait(false);
        }
    }

    // Stage 3: scores → candidates → one write session per batch.
    private async Task StoreAsync(Run run, ChannelReader<ScoredBatch> input, CancellationToken ct)
    {
        var done = 0;
        await foreach (var batch in input.ReadAllAsync(ct).ConfigureAwait(false))
        {
            var items = new List<SuggestionBatchItem>(batch.Media.Count);
            var mapped = new List<CandidateSet[]>(batch.Media.Count);
            for (var i = 0; i < batch.Media.Count; i++)
            {
                var byPriority = new List<ModelCandidates>(run.Taggers.Count);
                var sets = new CandidateSet[run.Taggers.Count];
                for (var t = 0; t < run.Taggers.Count; t++)
                {
                    var tagger = run.Taggers[t];
                    var width = tagger.Labels.Count;
                    var own = batch.Scores[t].AsSpan(i * width, width).ToArray();
                    sets[t] = TaggerPipeline.Candidates(tagger.Model, tagger.Version, own, tagger.Labels, tagger.Parameters.Thresholds, run.Mappings[t], run.Known, run.Vocabulary);
                    byPriority.Add(sets[t].Candidates);
                }

                items.Add(new SuggestionBatchItem(batch.Media[i].Id, byPriority));
                mapped.Add(sets);
            }

            var stored = await SuggestionBatch.ApplyAsync(library, items, run.Force, options, ct).ConfigureAwait(false);
            run.Applied.AddRange(stored.Applied);

            // Applied keeps the items' order, leaving out media gone meanwhile: count what became of each stored one's labels.
            var next = 0;
            foreach (var applied in stored.Applied)
            {
                while (items[next].Id != applied.Id)
                {
                    next++;
                }

                for (var t = 0; t < run.Taggers.Count; t++)
                {
                    run.Tallies[t].Add(mapped[next][t], applied.Changes);
                }

                next++;
            }

            foreach (var failure in stored.Failed)
            {
                run.Failed.Enqueue(failure);
            }

            done += batch.Size;
            run.Progress?.Report(new ProgressInfo("Suggesting", done, run.Total));
        }
    }

    // One batched inference: `count` images' tensors at the start of `buffer`; returns count × labels scores.
    private static float[] Infer(LoadedTagger tagger, float[] buffer, int count, CancellationToken ct)
    {
        var pre = tagger.Parameters.Preprocessing;
        var input = new InputTensor(tagger.InputName, buffer.AsMemory(0, count * pre.TensorLength), pre.InputShape(count));
        IReadOnlyList<OutputTensor> outputs;
        try
        {
            outputs = tagger.Session.Run([input], ct);
        }
        catch (InferenceException ex) when (ex.Code != "inference-cancelled")
        {
            throw new TroveException(ex.Code, $"Tagger '{tagger.Model}' version '{tagger.Version}' failed on {count} image(s): {ex.Message}", "Check the model with 'trove models check'.");
        }

        var scores = outputs[0].Data;
        var width = tagger.Labels.Count;
        if (scores.Length != count * width)
        {
            throw new TroveException("labels-mismatch", $"Tagger '{tagger.Model}' version '{tagger.Version}' gave {scores.Length} scores for {count} image(s), but its label file has {width} labels.", "Register a label file that fits the model (trove models add … --labels).");
        }

        return scores;
    }

    private static void Return(float[][] buffers)
    {
        foreach (var buffer in buffers)
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
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

    /// <summary>What the three stages of one run share. Failures come from all of them; the rest is one stage's.</summary>
    private sealed class Run(List<LoadedTagger> taggers, List<TaggerTally> tallies, IReadOnlySet<string> known, Vocabulary vocabulary, List<TagMappingSet> mappings, bool force, IProgress<ProgressInfo>? progress)
    {
        public List<LoadedTagger> Taggers { get; } = taggers;

        /// <summary>Per tagger: what became of its labels (store stage only).</summary>
        public List<TaggerTally> Tallies { get; } = tallies;

        public IReadOnlySet<string> Known { get; } = known;

        public Vocabulary Vocabulary { get; } = vocabulary;

        public List<TagMappingSet> Mappings { get; } = mappings;

        public bool Force { get; } = force;

        public IProgress<ProgressInfo>? Progress { get; } = progress;

        public int Total { get; set; }

        public List<SuggestionApplyResult> Applied { get; } = [];

        public ConcurrentQueue<TaggingFailure> Failed { get; } = new();
    }

    /// <param name="Size">Media the chunk asked for (for progress), including those that failed.</param>
    /// <param name="Buffers">Per tagger, pooled: the first <c>Media.Count</c> tensors are the media's.</param>
    private sealed record PreparedBatch(int Size, List<(string Id, string Path)> Media, float[][] Buffers);

    /// <param name="Scores">Per tagger, <c>Media.Count × labels</c> scores.</param>
    private sealed record ScoredBatch(int Size, List<(string Id, string Path)> Media, float[][] Scores);

    private sealed record LoadedTagger(string Model, string Version, string File, string LabelsFile, TaggerParameters Parameters, TaggerLabelSet Labels, IInferenceSession Session, string InputName);
}
