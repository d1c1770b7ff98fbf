using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Trove.Application.Ports;
using Trove.Application.Providers;
using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Application.Captioning;

/// <summary>A media that got no caption, and why.</summary>
public sealed record CaptionFailure(string Id, string Error, string Message);

/// <summary>What a caption run did: captions written (pending review), media skipped because the model already captioned them, failures.</summary>
public sealed record CaptionRunResult(string Model, string Version, int Generated, int Skipped, IReadOnlyList<CaptionFailure> Failed, IReadOnlyList<string> Captioned);

/// <summary>A captioner chosen for a run: its registry entry, the version, its settings and the provider it runs on.</summary>
public sealed record ResolvedCaptioner(ModelDefinition Model, ModelVersionEntry Version, CaptionerParameters Parameters, ProviderDefinition Provider)
{
    public string Reference => $"{Model.Id}@{Version.Version}";
}

/// <summary>
/// Generates captions for media with a captioner model (docs/models.md, "Captioners"): each image is downscaled through
/// libvips and sent to the model's provider (requests in parallel up to the provider's concurrency; the provider's
/// limits are shared by every run in the process); each answer is stored at once as a pending caption with the model
/// and version that wrote it, so a run that stops keeps what it finished and a re-run skips media the model version
/// already captioned (unless <c>overwrite</c>). A permanent provider failure (wrong key, unknown model) stops the run.
/// </summary>
public sealed partial class CaptionGenerator(TroveLibrary library)
{
    /// <summary>
    /// The captioner to use: <paramref name="reference"/> (<c>ID</c> or <c>ID@VERSION</c>), or when null the one active
    /// captioner in models.json.
    /// </summary>
    public ResolvedCaptioner Resolve(string? reference)
    {
        var (model, version) = Models.ModelReferences.Resolve(
            library.Files.ReadModels(),
            reference,
            m => m.Kind == ModelKinds.Captioner,
            () => new TroveUsageException(
                "no-captioner",
                "No captioner is registered in models.json.",
                "Add a provider ('trove providers add …') and a captioner on it ('trove models add ID --kind captioner --version V --provider NAME'); see docs/models.md."),
            ids => new TroveUsageException("ambiguous-captioner", $"Several captioners are registered ({string.Join(", ", ids)}).", "Say which with --model ID."),
            m => new TroveUsageException("not-a-captioner", $"Model '{m.Id}' is a {m.Kind}, not a captioner.", "Pick a model of kind captioner ('trove models list')."));
        var parameters = CaptionerParameters.Parse(model.Parameters, model.Id);
        if (ModelProviders.IsLocal(model.Provider))
        {
            throw new TroveUsageException(
                "captioner-local-unsupported",
                $"Captioner '{model.Id}' runs on the local ONNX provider, which cannot caption yet.",
                "Register it on an OpenAI-compatible or hf-inference provider instead (docs/models.md, \"Captioners\").");
        }

        return new ResolvedCaptioner(model, version, parameters, new ProviderRegistry(library).Get(model.Provider));
    }

    /// <summary>Captions <paramref name="ids"/> with <paramref name="captioner"/>; see the class summary.</summary>
    /// <exception cref="ProviderException">A permanent provider failure; captions stored before it are kept.</exception>
    public async Task<CaptionRunResult> RunAsync(ResolvedCaptioner captioner, IReadOnlyList<string> ids, bool overwrite, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(captioner);
        ArgumentNullException.ThrowIfNull(ids);
        var run = new Run(captioner, overwrite, ids.Distinct(StringComparer.Ordinal).ToList(), progress);
        var concurrency = Math.Max(1, captioner.Provider.MaxConcurrency);
        progress?.Report(new ProgressInfo("Captioning", 0, run.Ids.Count));

        // Three stages joined by bounded queues, so the provider's request slots never wait for our own work:
        // prepare (read the sidecar, downscale the image) runs ahead, requests run `concurrency` at a time, and one
        // writer stores what came back, a few captions per write session.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var prepared = Channel.CreateBounded<Prepared>(new BoundedChannelOptions(concurrency * 2) { SingleWriter = false, SingleReader = false });
        var answered = Channel.CreateBounded<Answered>(new BoundedChannelOptions(concurrency * 4) { SingleWriter = false, SingleReader = true });
        var prepare = Task.Run(() => PrepareAsync(run, prepared.Writer, stop.Token), CancellationToken.None);
        var request = Task.Run(() => RequestAsync(run, concurrency, prepared.Reader, answered.Writer, stop), CancellationToken.None);
        // The writer stops only for the caller's cancellation: what the service already answered is stored even after a permanent failure.
        var store = Task.Run(
            async () =>
            {
                try
                {
                    await StoreAsync(run, answered.Reader, ct).ConfigureAwait(false);
                }
                catch
                {
                    // Nothing can be stored (disk full, library read-only): stop asking the service.
                    await stop.CancelAsync().ConfigureAwait(false);
                    throw;
                }
            },
            CancellationToken.None);
        try
        {
            await Task.WhenAll(prepare, request).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Our own stop: a permanent provider failure or the store's failure, both reported below.
        }
        finally
        {
            answered.Writer.TryComplete();
        }

        await store.ConfigureAwait(false);
        if (run.Permanent is { } permanent)
        {
            RunStopped(library.Logger, captioner.Reference, run.Captioned.Count, permanent.Code);
            throw permanent;
        }

        var failures = run.Failed.OrderBy(f => f.Id, StringComparer.Ordinal).ToList();
        RunFinished(library.Logger, captioner.Reference, run.Captioned.Count, run.Skipped, failures.Count);
        return new CaptionRunResult(captioner.Model.Id, captioner.Version.Version, run.Captioned.Count, run.Skipped, failures, [.. run.Captioned]);
    }

    /// <summary>Whether a media already has a caption by this model version (any status): a re-run skips it.</summary>
    public static bool HasCaptionBy(MediaSidecar sidecar, string model, string version) =>
        sidecar.Captions.Exists(c => c.Source == CaptionSources.Model && c.Model == model && c.ModelVersion == version);

    private async Task PrepareAsync(Run run, ChannelWriter<Prepared> output, CancellationToken ct)
    {
        try
        {
            // Decoding is CPU work: as many at once as there are cores, never more than the requests need.
            await Parallel.ForEachAsync(run.Ids, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = ct }, async (raw, token) =>
            {
                if (await PrepareOneAsync(run, raw, token).ConfigureAwait(false) is { } item)
                {
                    await output.WriteAsync(item, token).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            output.TryComplete();
        }
    }

    private async Task<Prepared?> PrepareOneAsync(Run run, string raw, CancellationToken ct)
    {
        var captioner = run.Captioner;
        try
        {
            var id = await library.ResolveIdAsync(raw, ct).ConfigureAwait(false);
            var stored = library.Files.ReadSidecar(id);
            if (stored.InTrash || stored.Sidecar.Kind != MediaKinds.Image || (!run.Overwrite && HasCaptionBy(stored.Sidecar, captioner.Model.Id, captioner.Version.Version)))
            {
                run.Skip();
                return null;
            }

            var path = library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash);
            return new Prepared(raw, id, await ProviderRegistry.PrepareImageAsync(library, stored.Sidecar, path, captioner.Provider, ct).ConfigureAwait(false));
        }
        catch (ImageException ex)
        {
            run.Fail(raw, "image-" + ex.Code, ex.Message);
        }
        catch (TroveException ex) when (ex.Code is "media-not-found" or "ambiguous-id")
        {
            run.Fail(raw, ex.Code, ex.Message);
        }
        catch (Trove.Library.FileFormatException ex)
        {
            run.Fail(raw, ex.Code, ex.Message);
        }

        return null;
    }

    private async Task RequestAsync(Run run, int concurrency, ChannelReader<Prepared> input, ChannelWriter<Answered> output, CancellationTokenSource stop)
    {
        var captioner = run.Captioner;
        var parameters = captioner.Parameters;
        await Parallel.ForEachAsync(input.ReadAllAsync(stop.Token), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = stop.Token }, async (item, token) =>
        {
            try
            {
                var reply = await library.Remote.CaptionAsync(captioner.Provider, new CaptionRequest(item.Image, parameters.Prompt, parameters.MaxTokens, parameters.Temperature), token).ConfigureAwait(false);
                var text = parameters.Clean(reply.Text);
                if (text.Length == 0)
                {
                    run.Fail(item.Raw, ProviderErrors.EmptyCaption, $"{captioner.Reference} answered with an empty caption for {item.Id[..12]}.");
                    return;
                }

                await output.WriteAsync(new Answered(item.Raw, item.Id, text), token).ConfigureAwait(false);
            }
            catch (ProviderException ex) when (ex.Permanent)
            {
                run.Stop(ex);
                await stop.CancelAsync().ConfigureAwait(false);
            }
            catch (ProviderException ex)
            {
                run.Fail(item.Raw, ex.Code, ex.Message);
            }
        }).ConfigureAwait(false);
    }

    private async Task StoreAsync(Run run, ChannelReader<Answered> input, CancellationToken ct)
    {
        var batch = new List<Answered>(StoreBatch);
        while (await input.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            while (batch.Count < StoreBatch && input.TryRead(out var answer))
            {
                batch.Add(answer);
            }

            await StoreBatchAsync(run, batch, ct).ConfigureAwait(false);
            batch.Clear();
        }
    }

    /// <summary>Most captions per write session: a few, so that what arrived is on disk within moments.</summary>
    private const int StoreBatch = 16;

    private async Task StoreBatchAsync(Run run, List<Answered> batch, CancellationToken ct)
    {
        var model = run.Captioner.Model.Id;
        var version = run.Captioner.Version.Version;
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        foreach (var answer in batch)
        {
            var current = session.TryRead(answer.Id);
            if (current is null || current.InTrash || (!run.Overwrite && HasCaptionBy(current.Sidecar, model, version)))
            {
                run.Skip();
                continue;
            }

            var sidecar = current.Sidecar;
            if (run.Overwrite)
            {
                // Regenerating replaces this model's captions still waiting for review; approved and rejected ones are history.
                sidecar.Captions.RemoveAll(c => c.Source == CaptionSources.Model && c.Model == model && c.Status == CaptionStatus.Pending);
            }

            sidecar.Captions.Add(new CaptionEntry
            {
                Id = sidecar.NextCaptionId(),
                Text = answer.Text,
                Primary = false,
                Source = CaptionSources.Model,
                Model = model,
                ModelVersion = version,
                Status = CaptionStatus.Pending,
                CreatedAt = session.Now,
                CreatedBy = library.Actor,
            });
            await session.SaveAsync(sidecar, inTrash: false, ct).ConfigureAwait(false);
            session.Audit("caption.generate", answer.Id, run.Captioner.Reference);
            run.Done(answer.Id);
        }
    }

    private sealed record Prepared(string Raw, string Id, RemoteImage Image);

    private sealed record Answered(string Raw, string Id, string Text);

    /// <summary>What the stages of one run share.</summary>
    private sealed class Run(ResolvedCaptioner captioner, bool overwrite, List<string> ids, IProgress<ProgressInfo>? progress)
    {
        private int _done;
        private int _skipped;
        private ProviderException? _permanent;

        public ResolvedCaptioner Captioner { get; } = captioner;

        public bool Overwrite { get; } = overwrite;

        public List<string> Ids { get; } = ids;

        public ConcurrentQueue<CaptionFailure> Failed { get; } = new();

        public ConcurrentQueue<string> Captioned { get; } = new();

        public int Skipped => Volatile.Read(ref _skipped);

        public ProviderException? Permanent => Volatile.Read(ref _permanent);

        public void Skip()
        {
            Interlocked.Increment(ref _skipped);
            Tick();
        }

        public void Fail(string id, string code, string message)
        {
            Failed.Enqueue(new CaptionFailure(id, code, message));
            Tick();
        }

        public void Done(string id)
        {
            Captioned.Enqueue(id);
            Tick();
        }

        public void Stop(ProviderException ex) => Interlocked.CompareExchange(ref _permanent, ex, null);

        private void Tick() => progress?.Report(new ProgressInfo("Captioning", Interlocked.Increment(ref _done), Ids.Count));
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Captioner {Model}: {Generated} captions generated, {Skipped} skipped, {Failed} failed")]
    private static partial void RunFinished(ILogger logger, string model, int generated, int skipped, int failed);

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Captioner {Model} stopped after {Generated} captions: {Code}")]
    private static partial void RunStopped(ILogger logger, string model, int generated, string code);
}
