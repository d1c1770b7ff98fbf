using Trove.Application.Ports;
using Trove.Application.Tagging;
using Trove.Application.Threading;
using Trove.Domain;
using Trove.Library.Embeddings;

namespace Trove.Application.Embeddings;

/// <summary>What one embedding run did: the embedder, media embedded, skipped (already embedded) and failed.</summary>
public sealed record EmbedResult(string Model, int Embedded, int Skipped, IReadOnlyList<TaggingFailure> Failed)
{
    /// <summary>Zero-shot tag suggestions stored for the media embedded (when the embedder's <c>zeroShot</c> is on).</summary>
    public int Suggested { get; init; }
}

/// <summary>
/// Embeds media with the library's embedder: batches of <see cref="EmbedderParameters.BatchSize"/> images are decoded
/// and resized by libvips on <see cref="LowPriorityWorkers"/> (the tagger's low-priority decode path), run through the
/// image encoder in one call, and appended to the embeddings file after each batch — so a run that is stopped or
/// killed keeps every finished batch, and the next run skips what is already embedded (resumable).
/// </summary>
public sealed class EmbedRunner(TroveLibrary library)
{
    /// <summary>Embeds <paramref name="ids"/> (ids or prefixes); with <paramref name="force"/>, media already embedded too.</summary>
    public async Task<EmbedResult> RunAsync(IReadOnlyList<string> ids, bool force, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var active = ActiveEmbedder.Require(library);
        if (!library.Imaging.Status.Available)
        {
            throw new TroveException("imaging-unavailable", $"Images cannot be read for embedding: {library.Imaging.Status.Message}", "Install libvips (see docs/operations.md) and run 'trove embed' again.");
        }

        var embedder = library.Embeddings.Get(active);
        var done = force ? [] : library.Embeddings.EmbeddedIds(active, embedder.Dimensions);
        var failed = new List<TaggingFailure>();
        var todo = new List<(string Id, string Path)>();
        var skipped = 0;
        foreach (var raw in ids.Distinct(StringComparer.Ordinal))
        {
            try
            {
                var id = await library.ResolveIdAsync(raw, ct).ConfigureAwait(false);
                if (done.Contains(id))
                {
                    skipped++;
                    continue;
                }

                var stored = library.Files.ReadSidecar(id);
                todo.Add((id, library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash)));
            }
            catch (TroveException ex)
            {
                failed.Add(new TaggingFailure(raw, ex.Code, ex.Message));
            }
        }

        var parameters = active.Parameters;
        var pre = parameters.Preprocessing;
        var settings = library.Options.Suggestions;
        using var decoders = new LowPriorityWorkers(settings.DecodeThreads is > 0 and var n ? n : Environment.ProcessorCount, settings.LowPriorityDecode);
        var embedded = 0;
        var suggested = 0;
        var zeroShot = new ZeroShotTagger(library);
        progress?.Report(new ProgressInfo("Embedding", 0, todo.Count));
        var buffer = new float[parameters.BatchSize * pre.TensorLength];
        foreach (var batch in todo.Chunk(parameters.BatchSize))
        {
            ct.ThrowIfCancellationRequested();
            var ok = new bool[batch.Length];
            var errors = new TaggingFailure?[batch.Length];
            decoders.For(batch.Length, i =>
            {
                try
                {
                    var pixels = library.Imaging.Pixels(batch[i].Path, Request(batch[i].Path, parameters, ct), ct);
                    TaggerTensors.Write(pixels, pre, buffer.AsSpan(i * pre.TensorLength, pre.TensorLength));
                    ok[i] = true;
                }
                catch (ImageException ex)
                {
                    errors[i] = new TaggingFailure(batch[i].Id, "image-" + ex.Code, $"{library.Layout.Relative(batch[i].Path)} cannot be read for embedding: {ex.Message}");
                }
            }, ct);
            failed.AddRange(errors.OfType<TaggingFailure>());

            // Close the gaps unreadable images left, so that the tensors are the first `count` slots.
            var kept = new List<string>(batch.Length);
            for (var i = 0; i < batch.Length; i++)
            {
                if (ok[i])
                {
                    if (kept.Count != i)
                    {
                        Array.Copy(buffer, i * pre.TensorLength, buffer, kept.Count * pre.TensorLength, pre.TensorLength);
                    }

                    kept.Add(batch[i].Id);
                }
            }

            if (kept.Count > 0)
            {
                var vectors = embedder.EmbedImages(buffer.AsMemory(0, kept.Count * pre.TensorLength), kept.Count, ct);
                await library.Embeddings.StoreAsync(active, embedder.Dimensions, [.. kept.Select((id, i) => new EmbeddingRecord(id, vectors[i]))], ct).ConfigureAwait(false);
                embedded += kept.Count;
                if (parameters.ZeroShot.Enabled)
                {
                    // The suggestions follow the embeddings they come from; a crash between the two leaves them to 'trove suggest'.
                    var zs = await zeroShot.SuggestAsync(active, embedder, [.. kept.Select((id, i) => (id, vectors[i]))], force: false, ct).ConfigureAwait(false);
                    suggested += zs.Added;
                    failed.AddRange(zs.Failed);
                }
            }

            progress?.Report(new ProgressInfo("Embedding", embedded + failed.Count, todo.Count));
        }

        return new EmbedResult(active.Reference, embedded, skipped, failed) { Suggested = suggested };
    }

    /// <summary>
    /// The pixels the image encoder takes: the centred square of the displayed image resized to the input side (CLIP's
    /// resize-shortest-side-then-centre-crop), the whole image fitted inside it (pad), or stretched.
    /// </summary>
    private PixelRequest Request(string path, EmbedderParameters parameters, CancellationToken ct)
    {
        var limits = library.Options.Imaging.Limits;
        if (parameters.Resize != EmbedderResize.CenterCrop)
        {
            return parameters.Preprocessing.PixelRequest(limits);
        }

        var info = library.Imaging.Probe(path, limits, ct);
        var (w, h) = (info.DisplayWidth, info.DisplayHeight);
        var side = Math.Min(w, h);
        var rect = new PixelRect((w - side) / 2, (h - side) / 2, side, side);
        return new PixelRequest(PixelFit.Stretch, parameters.Size, parameters.Size, 0x000000, Gray: false, rect, limits, PixelResample.Cubic);
    }
}
