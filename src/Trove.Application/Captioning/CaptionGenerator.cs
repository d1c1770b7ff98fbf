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
        var catalog = library.Files.ReadModels();
        ModelDefinition model;
        string? versionName = null;
        if (string.IsNullOrWhiteSpace(reference))
        {
            var captioners = catalog.Models.Where(m => m.Kind == ModelKinds.Captioner && m.ActiveVersion is not null).ToList();
            model = captioners.Count switch
            {
                0 => throw new TroveUsageException(
                    "no-captioner",
                    "No captioner is registered in models.json.",
                    "Add a provider ('trove providers add …') and a captioner on it ('trove models add ID --kind captioner --version V --provider NAME'); see docs/models.md."),
                1 => captioners[0],
                _ => throw new TroveUsageException(
                    "ambiguous-captioner",
                    $"Several captioners are registered ({string.Join(", ", captioners.Select(c => c.Id))}).",
                    "Say which with --model ID."),
            };
        }
        else
        {
            var at = reference.IndexOf('@', StringComparison.Ordinal);
            var id = at < 0 ? reference.Trim() : reference[..at].Trim();
            versionName = at < 0 ? null : reference[(at + 1)..].Trim();
            model = catalog.Find(id) ?? throw new TroveUsageException("model-not-found", $"There is no model '{id}' in models.json.", "List models with 'trove models list'.");
            if (model.Kind != ModelKinds.Captioner)
            {
                throw new TroveUsageException("not-a-captioner", $"Model '{id}' is a {model.Kind}, not a captioner.", "Pick a model of kind captioner ('trove models list').");
            }
        }

        var version = versionName is null
            ? model.ActiveVersion ?? throw new TroveUsageException("model-version-not-found", $"Model '{model.Id}' has no active version.", $"Activate one with 'trove models activate {model.Id} VERSION'.")
            : model.Versions.FirstOrDefault(v => v.Version == versionName)
              ?? throw new TroveUsageException("model-version-not-found", $"Model '{model.Id}' has no version '{versionName}' (it has {string.Join(", ", model.Versions.Select(v => v.Version))}).");
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
        var failed = new System.Collections.Concurrent.ConcurrentQueue<CaptionFailure>();
        var captioned = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var skipped = 0;
        var done = 0;
        var total = ids.Count;
        ProviderException? permanent = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        progress?.Report(new ProgressInfo("Captioning", 0, total));
        try
        {
            await Parallel.ForEachAsync(
                ids.Distinct(StringComparer.Ordinal),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, captioner.Provider.MaxConcurrency), CancellationToken = stop.Token },
                async (raw, token) =>
                {
                    try
                    {
                        switch (await CaptionOneAsync(captioner, raw, overwrite, token).ConfigureAwait(false))
                        {
                            case Outcome.Captioned(var id):
                                captioned.Enqueue(id);
                                break;
                            case Outcome.Skipped:
                                Interlocked.Increment(ref skipped);
                                break;
                        }
                    }
                    catch (ProviderException ex) when (ex.Permanent)
                    {
                        Interlocked.CompareExchange(ref permanent, ex, null);
                        await stop.CancelAsync().ConfigureAwait(false);
                    }
                    catch (ProviderException ex)
                    {
                        failed.Enqueue(new CaptionFailure(raw, ex.Code, ex.Message));
                    }
                    catch (ImageException ex)
                    {
                        failed.Enqueue(new CaptionFailure(raw, "image-" + ex.Code, ex.Message));
                    }
                    catch (TroveException ex) when (ex.Code is "media-not-found" or "ambiguous-id")
                    {
                        failed.Enqueue(new CaptionFailure(raw, ex.Code, ex.Message));
                    }
                    finally
                    {
                        progress?.Report(new ProgressInfo("Captioning", Interlocked.Increment(ref done), total));
                    }
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (permanent is not null && !ct.IsCancellationRequested)
        {
            // Stopped by the permanent failure below.
        }

        if (permanent is not null)
        {
            RunStopped(library.Logger, captioner.Reference, captioned.Count, permanent.Code);
            throw permanent;
        }

        var failures = failed.OrderBy(f => f.Id, StringComparer.Ordinal).ToList();
        RunFinished(library.Logger, captioner.Reference, captioned.Count, skipped, failures.Count);
        return new CaptionRunResult(captioner.Model.Id, captioner.Version.Version, captioned.Count, skipped, failures, [.. captioned]);
    }

    /// <summary>Whether a media already has a caption by this model version (any status): a re-run skips it.</summary>
    public static bool HasCaptionBy(MediaSidecar sidecar, string model, string version) =>
        sidecar.Captions.Exists(c => c.Source == CaptionSources.Model && c.Model == model && c.ModelVersion == version);

    private async Task<Outcome> CaptionOneAsync(ResolvedCaptioner captioner, string raw, bool overwrite, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(raw, ct).ConfigureAwait(false);
        var stored = library.Files.ReadSidecar(id);
        var model = captioner.Model.Id;
        var version = captioner.Version.Version;
        if (stored.InTrash || stored.Sidecar.Kind != MediaKinds.Image || (!overwrite && HasCaptionBy(stored.Sidecar, model, version)))
        {
            return new Outcome.Skipped();
        }

        var path = library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash);
        var image = await ProviderRegistry.PrepareImageAsync(library, stored.Sidecar, path, captioner.Provider, ct).ConfigureAwait(false);
        var reply = await library.Remote.CaptionAsync(captioner.Provider, new CaptionRequest(image, captioner.Parameters.Prompt, captioner.Parameters.MaxTokens, captioner.Parameters.Temperature), ct).ConfigureAwait(false);
        var text = captioner.Parameters.Clean(reply.Text);
        if (text.Length == 0)
        {
            throw new ProviderException(ProviderErrors.EmptyCaption, $"{captioner.Reference} answered with an empty caption for {id[..12]}.", "Try again, or change the captioner's prompt.");
        }

        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var current = session.TryRead(id);
        if (current is null || current.InTrash || (!overwrite && HasCaptionBy(current.Sidecar, model, version)))
        {
            return new Outcome.Skipped();
        }

        var sidecar = current.Sidecar;
        if (overwrite)
        {
            // Regenerating replaces this model's captions still waiting for review; approved and rejected ones are history.
            sidecar.Captions.RemoveAll(c => c.Source == CaptionSources.Model && c.Model == model && c.Status == CaptionStatus.Pending);
        }

        sidecar.Captions.Add(new CaptionEntry
        {
            Id = sidecar.NextCaptionId(),
            Text = text,
            Primary = false,
            Source = CaptionSources.Model,
            Model = model,
            ModelVersion = version,
            Status = CaptionStatus.Pending,
            CreatedAt = session.Now,
            CreatedBy = library.Actor,
        });
        await session.SaveAsync(sidecar, inTrash: false, ct).ConfigureAwait(false);
        session.Audit("caption.generate", id, captioner.Reference);
        return new Outcome.Captioned(id);
    }

    private abstract record Outcome
    {
        public sealed record Captioned(string Id) : Outcome;

        public sealed record Skipped : Outcome;
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Captioner {Model}: {Generated} captions generated, {Skipped} skipped, {Failed} failed")]
    private static partial void RunFinished(ILogger logger, string model, int generated, int skipped, int failed);

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Captioner {Model} stopped after {Generated} captions: {Code}")]
    private static partial void RunStopped(ILogger logger, string model, int generated, string code);
}
