using System.Globalization;
using System.Text.Json.Nodes;
using Trove.Application.Inference;
using Trove.Application.Ports;
using Trove.Application.Providers;
using Trove.Domain;
using Trove.Domain.Models;
using Trove.Library.Recovery;

namespace Trove.Application.Restoration;

/// <summary>Restoration and upscaling settings (TROVE_Restoration__…).</summary>
public sealed class RestorationSettings
{
    /// <summary>Results nobody kept are moved to the trash this long after they were made (the source material's 24 h).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A result gets the original's tags.</summary>
    public bool CopyTags { get; set; } = true;

    /// <summary>A result joins the original's collections, right after it.</summary>
    public bool CopyCollections { get; set; } = true;
}

/// <summary>Run <paramref name="Model"/> (ID or ID@VERSION; null: the one active model of the kind) on one media.</summary>
/// <param name="Parameters">Overrides of the model's parameters (<c>--param tileSize=128</c>); they are part of what identifies the run.</param>
/// <param name="Keep">Keep the result (otherwise it expires after the retention period unless kept later).</param>
public sealed record RestoreRequest(string Media, string? Model, IReadOnlyDictionary<string, string> Parameters, bool Keep = false, string? Kind = null);

/// <summary>What a restore made: the new media (or the earlier result of the same run), with its size and how long it took.</summary>
public sealed record RestoreResult(string Original, string Result, string Model, string Version, bool Existing, int Width, int Height, double Seconds);

/// <summary>An image-to-image model chosen for a run.</summary>
public sealed record ResolvedRestorer(ModelDefinition Model, ModelVersionEntry Version, ProviderDefinition? Provider)
{
    public string Reference => $"{Model.Id}@{Version.Version}";
}

/// <summary>
/// Runs an upscaler or restorer on a media and imports the result as a new media derived from it (docs/models.md,
/// "Upscalers and restorers"): the original is never modified; the result's sidecar records
/// <see cref="DerivationInfo"/> (original, model, version, parameters, when, by whom) and the original gets a
/// <c>derivative</c> relation, so a rebuild restores the lineage both ways. Locally the model runs tiled through ONNX
/// Runtime (<see cref="TiledUpscaler"/>); on a provider the image goes out and an image must come back (anything else is
/// refused and nothing is imported). The same model, version and parameters on the same original is a no-op that
/// returns the earlier result. The result goes through the import path (atomic writes), so a crash leaves no
/// half-written media.
/// </summary>
public sealed class RestoreService(TroveLibrary library)
{
    public static readonly IReadOnlyList<string> Kinds = [ModelKinds.Upscaler, ModelKinds.Restorer];

    public ResolvedRestorer Resolve(string? reference, string? kind = null)
    {
        var (model, version) = Models.ModelReferences.Resolve(
            library.Files.ReadModels(),
            reference,
            m => Kinds.Contains(m.Kind) && (kind is null || !string.IsNullOrWhiteSpace(reference) || m.Kind == kind), // a named model may be either kind
            () => new TroveUsageException(
                "no-restorer",
                $"No {kind ?? "upscaler or restorer"} is registered in models.json.",
                "Register one: 'trove models add ID --kind upscaler --version V --file model.onnx --parameters '{\"scale\":2}'' (docs/models.md, \"Upscalers and restorers\")."),
            ids => new TroveUsageException("ambiguous-model", $"Several models could run ({string.Join(", ", ids)}).", "Say which with --model ID."),
            m => new TroveUsageException("not-a-restorer", $"Model '{m.Id}' is a {m.Kind}, not an upscaler or restorer.", "Pick a model of kind upscaler or restorer ('trove models list')."));
        var provider = ModelProviders.IsLocal(model.Provider) ? null : new ProviderRegistry(library).Get(model.Provider);
        return new ResolvedRestorer(model, version, provider);
    }

    /// <summary>The model's parameters with the run's overrides applied, checked as a whole.</summary>
    public static UpscalerParameters Parameters(ResolvedRestorer restorer, IReadOnlyDictionary<string, string> overrides)
    {
        ArgumentNullException.ThrowIfNull(restorer);
        ArgumentNullException.ThrowIfNull(overrides);
        var merged = restorer.Model.Parameters?.DeepClone().AsObject() ?? [];
        var remote = restorer.Provider is not null;
        foreach (var key in merged.Select(p => p.Key).Where(k => remote && !UpscalerParameters.Fields.Contains(k)).ToList())
        {
            merged.Remove(key);
        }

        // A remote model's own settings (strength, steps…) are the service's business: they go to it as they are.
        foreach (var (key, value) in overrides.Where(o => !remote || UpscalerParameters.Fields.Contains(o.Key)))
        {
            merged[key] = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : JsonValue.Create(value);
        }

        return UpscalerParameters.Parse(merged, restorer.Model.Id);
    }

    public async Task<RestoreResult> RunAsync(RestoreRequest request, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var restorer = Resolve(request.Model, request.Kind);
        var parameters = Parameters(restorer, request.Parameters);
        var id = await library.ResolveIdAsync(request.Media, ct).ConfigureAwait(false);
        var stored = library.Files.ReadSidecar(id);
        if (stored.InTrash || stored.Sidecar.Kind != MediaKinds.Image)
        {
            throw new TroveUsageException("not-restorable", $"Media {id[..12]} is {(stored.InTrash ? "in the trash" : "a mask")}; only images in the library can be restored.", stored.InTrash ? $"Take it out of the trash first: trove restore {id[..12]}" : null);
        }

        var runParameters = new SortedDictionary<string, string>(request.Parameters.ToDictionary(), StringComparer.Ordinal);
        if (await FindExistingAsync(id, restorer, runParameters, ct).ConfigureAwait(false) is { } earlier)
        {
            if (request.Keep && earlier.DerivedFrom is { Kept: false })
            {
                await new ProcessingService(library).KeepAsync(earlier.Id, ct).ConfigureAwait(false);
            }

            return new RestoreResult(id, earlier.Id, restorer.Model.Id, restorer.Version.Version, true, earlier.Original.Width ?? 0, earlier.Original.Height ?? 0, 0);
        }

        var started = library.Time.GetTimestamp();
        var path = library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash);
        var (bytes, ext) = restorer.Provider is null
            ? await RunLocalAsync(restorer, parameters, stored.Sidecar, path, progress, ct).ConfigureAwait(false)
            : await RunRemoteAsync(restorer, parameters, runParameters, stored.Sidecar, path, ct).ConfigureAwait(false);

        var (result, duplicate) = await ImportResultAsync(stored.Sidecar, restorer, bytes, ext, ct).ConfigureAwait(false);
        var seconds = library.Time.GetElapsedTime(started).TotalSeconds;
        var derived = await RecordLineageAsync(id, result, restorer, runParameters, request.Keep, ct).ConfigureAwait(false);
        if (derived.DerivedFrom is { Kept: false, ExpiresAt: { } expires })
        {
            await RetentionJobs.ScheduleAsync(library, expires, ct).ConfigureAwait(false);
        }

        return new RestoreResult(id, result, restorer.Model.Id, restorer.Version.Version, duplicate, derived.Original.Width ?? 0, derived.Original.Height ?? 0, seconds);
    }

    /// <summary>An earlier result of the same run on this original (not in the trash), if there is one.</summary>
    private async Task<MediaSidecar?> FindExistingAsync(string original, ResolvedRestorer restorer, SortedDictionary<string, string> parameters, CancellationToken ct)
    {
        var ids = await new Search.SearchService(library).AllIdsAsync($"derivedfrom:{original} model:{restorer.Model.Id}", ct).ConfigureAwait(false);
        foreach (var candidate in ids)
        {
            if (library.Files.TryReadSidecar(candidate) is { InTrash: false } s && s.Sidecar.DerivedFrom?.SameRun(original, restorer.Model.Id, restorer.Version.Version, parameters) == true)
            {
                return s.Sidecar;
            }
        }

        return null;
    }

    private async Task<(byte[] Bytes, string Ext)> RunLocalAsync(ResolvedRestorer restorer, UpscalerParameters parameters, MediaSidecar sidecar, string path, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        if ((long)(sidecar.Original.Width ?? 0) * (sidecar.Original.Height ?? 0) > parameters.MaxInputPixels)
        {
            throw new TroveUsageException(
                "image-too-large",
                $"Media {sidecar.Id[..12]} is {sidecar.Original.Width}×{sidecar.Original.Height}; {restorer.Reference} takes at most {parameters.MaxInputPixels:N0} pixels (parameters.maxInputPixels).",
                "Crop or downscale it first, or raise maxInputPixels if the machine has the memory.");
        }

        var file = new Models.ModelRegistry(library).Resolve(restorer.Version.File);
        var pixels = library.Imaging.Pixels(path, new PixelRequest(PixelFit.None, 0, 0, 0xFFFFFF, false, null, library.Options.Imaging.Limits), ct);
        using var session = library.Inference.Load(file, new InferenceSessionOptions(library.Options.Suggestions.IntraOpThreads));
        var upscaled = await TiledUpscaler.UpscaleAsync(session, pixels, parameters, progress, ct).ConfigureAwait(false);
        // JPEG originals stay JPEG (q95: a 2× PNG of a 12 MP photo would be ~100 MB); everything else becomes lossless PNG.
        var jpeg = sidecar.Original.MediaType == "image/jpeg" && upscaled.Bands is 1 or 3;
        var encoded = library.Imaging.Encode(upscaled, jpeg ? ImageFormat.Jpeg : ImageFormat.Png, 95, ct);
        return (encoded.Data, jpeg ? "jpg" : "png");
    }

    private async Task<(byte[] Bytes, string Ext)> RunRemoteAsync(ResolvedRestorer restorer, UpscalerParameters parameters, SortedDictionary<string, string> runParameters, MediaSidecar sidecar, string path, CancellationToken ct)
    {
        var provider = restorer.Provider!;
        var image = await ProviderRegistry.PrepareImageAsync(library, sidecar, path, provider, ct).ConfigureAwait(false);
        var extra = runParameters.Where(p => p.Key != "prompt").ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var prompt = runParameters.GetValueOrDefault("prompt") ?? parameters.Prompt;
        var reply = await library.Remote.TransformAsync(provider, new TransformRequest(image, prompt, extra.Count == 0 ? null : extra), ct).ConfigureAwait(false);
        var ext = reply.MediaType switch
        {
            "image/jpeg" or "image/jpg" => "jpg",
            "image/webp" => "webp",
            _ => "png",
        };
        return (reply.Data, ext);
    }

    /// <summary>The result goes through the import path (staged, hashed, decoded once, atomic writes, thumbnail).</summary>
    private async Task<(string Id, bool Duplicate)> ImportResultAsync(MediaSidecar original, ResolvedRestorer restorer, byte[] bytes, string ext, CancellationToken ct)
    {
        var folder = TempNames.StagingFolder(library.Layout, "restore");
        Directory.CreateDirectory(folder);
        try
        {
            var stem = Path.GetFileNameWithoutExtension(original.Original.OriginalName ?? original.Id[..12]);
            var file = Path.Combine(folder, $"{stem}-{restorer.Model.Id}.{ext}");
            await File.WriteAllBytesAsync(file, bytes, ct).ConfigureAwait(false);
            var report = await new MediaService(library).ImportAsync([file], new ImportOptions([], null, DryRun: false), null, ct).ConfigureAwait(false);
            if (report.Failed.Count > 0 || report.Media.Count == 0)
            {
                throw new ProviderException(
                    ProviderErrors.BadResponse,
                    $"{restorer.Reference} returned something that cannot be imported as an image: {(report.Failed.Count > 0 ? report.Failed[0].Error : "nothing")}.",
                    "Nothing was imported. Check the model's output ('trove models check') or the provider's model.");
            }

            return (report.Media[0], report.Duplicates > 0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private async Task<MediaSidecar> RecordLineageAsync(string original, string result, ResolvedRestorer restorer, SortedDictionary<string, string> parameters, bool keep, CancellationToken ct)
    {
        var settings = library.Options.Restoration;
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var source = session.Read(original);
        var derived = session.Read(result);
        var now = session.Now;
        if (derived.Sidecar.DerivedFrom is null && result != original)
        {
            derived.Sidecar.DerivedFrom = new DerivationInfo
            {
                Id = original,
                Model = restorer.Model.Id,
                Version = restorer.Version.Version,
                Parameters = parameters,
                At = now,
                By = library.Actor,
                Kept = keep,
                ExpiresAt = keep ? null : now + settings.Retention,
            };
            derived.Sidecar.Relations.RemoveAll(r => r.Type == RelationTypes.DerivedFrom && r.Target == original);
            derived.Sidecar.Relations.Add(new RelationEntry { Type = RelationTypes.DerivedFrom, Target = original, CreatedAt = now, CreatedBy = library.Actor });
            if (settings.CopyTags)
            {
                TagApplier.Add(derived.Sidecar, session.Vocabulary, source.Sidecar.Tags.Select(t => t.Name), TagSources.Derived, library.Actor, now);
            }

            if (settings.CopyCollections)
            {
                foreach (var membership in source.Sidecar.Collections.Where(m => !derived.Sidecar.Collections.Exists(d => d.Collection == m.Collection)))
                {
                    derived.Sidecar.Collections.Add(new CollectionMembership { Collection = membership.Collection, Position = membership.Position + 1, AddedAt = now, AddedBy = library.Actor });
                }
            }

            await session.SaveAsync(derived.Sidecar, derived.InTrash, ct).ConfigureAwait(false);
            if (!source.Sidecar.Relations.Exists(r => r.Type == RelationTypes.Derivative && r.Target == result))
            {
                source.Sidecar.Relations.Add(new RelationEntry { Type = RelationTypes.Derivative, Target = result, CreatedAt = now, CreatedBy = library.Actor });
                await session.SaveAsync(source.Sidecar, source.InTrash, ct).ConfigureAwait(false);
            }

            session.Audit("restore", result, $"{restorer.Reference} from {original}");
        }
        else if (derived.Sidecar.DerivedFrom is { Kept: false } earlier && keep && !derived.InTrash)
        {
            // The model made exactly the bytes of an earlier result (another run): that media is this run's result too,
            // and asking to keep it keeps it.
            earlier.Kept = true;
            earlier.ExpiresAt = null;
            await session.SaveAsync(derived.Sidecar, false, ct).ConfigureAwait(false);
            session.Audit("keep", result, $"{earlier.Model}@{earlier.Version} from {earlier.Id}");
        }

        return derived.Sidecar;
    }
}
