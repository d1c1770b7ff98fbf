using Trove.Application.Ports;
using Trove.Application.Tagging;
using Trove.Application.Threading;
using Trove.Domain;
using Trove.Domain.Faces;
using Trove.Library;
using Trove.Library.Embeddings;

namespace Trove.Application.Faces;

/// <summary>What one face run did.</summary>
/// <param name="Media">Media scanned.</param>
/// <param name="Faces">Faces found in them.</param>
/// <param name="Usable">Faces that passed the quality filters (and were embedded when there is an embedder).</param>
/// <param name="Skipped">Media already scanned by the same models.</param>
public sealed record FaceRunResult(string Detector, string? Embedder, int Media, int Faces, int Usable, int Skipped, IReadOnlyList<TaggingFailure> Failed)
{
    /// <summary>What the clustering after the run did (null when it did not run).</summary>
    public FaceClusterResult? Clustering { get; init; }
}

/// <summary>
/// Finds faces: each image is fitted into the detector's input on <see cref="LowPriorityWorkers"/> (the tagger's
/// low-priority decode path), run through the detector, its faces measured against the quality filters, the usable
/// ones aligned onto ArcFace's template from their landmarks (libvips affine) and embedded in one batch. Each batch of
/// media is then written in one write session: embeddings appended first, then the sidecars — so a run that is stopped
/// keeps every finished batch, and the next run skips media already scanned by the same models (resumable). Faces found
/// again keep what people decided about them (matched by overlap); faces people decided about are never dropped.
/// </summary>
public sealed class FaceRunner(TroveLibrary library)
{
    public const int MediaPerBatch = 8;

    /// <summary>Two detections of one face overlap at least this much (intersection over union).</summary>
    public const double SameFaceOverlap = 0.5;

    public async Task<FaceRunResult> RunAsync(IReadOnlyList<string> ids, bool force, bool cluster, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var active = ActiveFaceModels.Require(library);
        if (!library.Imaging.Status.Available)
        {
            throw new TroveException("imaging-unavailable", $"Images cannot be read for face detection: {library.Imaging.Status.Message}", "Install libvips (see docs/operations.md) and run 'trove faces detect' again.");
        }

        var detector = library.Faces.Detector(active);
        var embedder = active.Embedder is null ? null : library.Faces.Embedder(active);
        var failed = new List<TaggingFailure>();
        var todo = new List<(string Id, string Path)>();
        var skipped = 0;
        foreach (var raw in ids.Distinct(StringComparer.Ordinal))
        {
            try
            {
                var id = await library.ResolveIdAsync(raw, ct).ConfigureAwait(false);
                var stored = library.Files.ReadSidecar(id);
                var scan = stored.Sidecar.FaceScan;
                if (stored.Sidecar.Kind != MediaKinds.Image || (!force && scan is not null && scan.Detector == active.DetectorReference && scan.Embedder == active.EmbedderReference))
                {
                    skipped++;
                    continue;
                }

                todo.Add((id, library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash)));
            }
            catch (TroveException ex)
            {
                failed.Add(new TaggingFailure(raw, ex.Code, ex.Message));
            }
        }

        var settings = library.Options.Suggestions;
        using var decoders = new LowPriorityWorkers(settings.DecodeThreads is > 0 and var n ? n : Environment.ProcessorCount, settings.LowPriorityDecode);
        var (scanned, found, usable) = (0, 0, 0);
        progress?.Report(new ProgressInfo("Finding faces", 0, todo.Count));
        foreach (var batch in todo.Chunk(MediaPerBatch))
        {
            ct.ThrowIfCancellationRequested();
            var results = new Scanned?[batch.Length];
            var errors = new TaggingFailure?[batch.Length];
            decoders.For(batch.Length, i =>
            {
                try
                {
                    results[i] = Scan(batch[i].Path, active, detector, embedder, ct);
                }
                catch (ImageException ex)
                {
                    errors[i] = new TaggingFailure(batch[i].Id, "image-" + ex.Code, $"{library.Layout.Relative(batch[i].Path)} cannot be read for face detection: {ex.Message}");
                }
            }, ct);
            failed.AddRange(errors.OfType<TaggingFailure>());

            // One batch through the embedder for every usable face of these media.
            var crops = results.Where(r => r is not null).SelectMany(r => r!.Faces).Where(f => f.Crop is not null).ToList();
            if (embedder is not null && crops.Count > 0)
            {
                var tensors = new float[crops.Count * embedder.TensorLength];
                for (var i = 0; i < crops.Count; i++)
                {
                    embedder.Prepare(crops[i].Crop!, tensors.AsSpan(i * embedder.TensorLength, embedder.TensorLength));
                }

                var vectors = embedder.Embed(tensors, crops.Count, ct);
                for (var i = 0; i < crops.Count; i++)
                {
                    crops[i].Vector = vectors[i];
                }
            }

            await using (var session = await library.BeginWriteAsync(ct).ConfigureAwait(false))
            {
                var records = new List<EmbeddingRecord>();
                var sidecars = new List<StoredSidecar>();
                for (var i = 0; i < batch.Length; i++)
                {
                    if (results[i] is not { } result || session.TryRead(batch[i].Id) is not { } stored)
                    {
                        continue;
                    }

                    var entries = Merge(stored.Sidecar, result, active);
                    foreach (var (face, entry) in entries)
                    {
                        if (face.Vector is { } v)
                        {
                            records.Add(new EmbeddingRecord(FaceKeys.Of(stored.Sidecar.Id, entry.Id), v));
                        }
                    }

                    stored.Sidecar.FaceScan = new FaceScan { Detector = active.DetectorReference, Embedder = active.EmbedderReference, At = library.Now };
                    sidecars.Add(stored);
                    scanned++;
                    found += result.Faces.Count;
                    usable += result.Faces.Count(f => f.Quality.Reasons.Count == 0);
                }

                if (records.Count > 0)
                {
                    // The embeddings go first: a crash before the sidecars leaves records that the next run supersedes.
                    EmbeddingFile.Append(library.Faces.PathOf(active), active.EmbedderReference!, embedder!.Dimensions, records, library.Options.Durability);
                }

                foreach (var stored in sidecars)
                {
                    await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
                }
            }

            progress?.Report(new ProgressInfo("Finding faces", scanned + failed.Count, todo.Count));
        }

        FaceClusterResult? clustering = null;
        if (cluster && embedder is not null && usable > 0)
        {
            clustering = await new FaceClusterer(library).UpdateAsync(ct).ConfigureAwait(false);
        }

        return new FaceRunResult(active.DetectorReference, active.EmbedderReference, scanned, found, usable, skipped, failed) { Clustering = clustering };
    }

    /// <summary>Detection, quality and (for usable faces) the aligned crop of one image.</summary>
    private Scanned Scan(string path, ActiveFaceModels active, FaceDetector detector, FaceEmbedder? embedder, CancellationToken ct)
    {
        var limits = library.Options.Imaging.Limits;
        var info = library.Imaging.Probe(path, limits, ct);
        var (w, h) = (info.DisplayWidth, info.DisplayHeight);
        var s = detector.Parameters.InputSize;
        var pixels = library.Imaging.Pixels(path, new PixelRequest(PixelFit.Contain, s, s, 0x000000, Gray: false, null, limits, PixelResample.Linear), ct);
        var scale = (double)pixels.Width / w;
        var tensor = new float[3 * s * s];
        detector.Prepare(pixels, tensor);
        var faces = new List<ScannedFace>();
        foreach (var raw in detector.Detect(tensor, ct))
        {
            var d = raw.Scaled(scale);
            var landmarks = d.Landmarks.Count >= 5 ? d.Landmarks : BoxLandmarks(d);
            var detection = d with { Landmarks = landmarks };
            var quality = active.DetectorParameters.Quality.Evaluate(detection, w, h);
            RgbPixels? crop = null;
            if (quality.Reasons.Count == 0 && embedder is not null)
            {
                var size = embedder.Parameters.Size;
                var m = FaceAlignment.Estimate(landmarks, size: size);
                crop = library.Imaging.Warp(path, new WarpRequest(new AffineTransform(m.S, -m.R, m.R, m.S, m.Tx, m.Ty), size, size, limits), ct);
            }

            faces.Add(new ScannedFace(detection, quality, crop));
        }

        return new Scanned(w, h, faces);
    }

    // A detector without landmark outputs: ArcFace's template scaled into the box (alignment then only centres and scales).
    private static IReadOnlyList<Point2> BoxLandmarks(FaceDetection d) =>
        [.. FaceAlignment.Template.Select(p => new Point2(d.X1 + (p.X / FaceAlignment.Size * d.Width), d.Y1 + (p.Y / FaceAlignment.Size * d.Height)))];

    /// <summary>
    /// Puts a scan's faces into the sidecar: a face that overlaps one already there keeps its id and everything people
    /// decided about it; new faces get new ids; faces not found again go unless a person decided about them.
    /// </summary>
    private static List<(ScannedFace Face, FaceEntry Entry)> Merge(MediaSidecar sidecar, Scanned scan, ActiveFaceModels active)
    {
        var old = sidecar.Faces.ToList();
        var next = old.Count == 0 ? 1 : old.Max(f => f.Id) + 1;
        var matched = new HashSet<FaceEntry>();
        var result = new List<(ScannedFace, FaceEntry)>();
        var faces = new List<FaceEntry>();
        foreach (var face in scan.Faces.OrderByDescending(f => f.Detection.Score))
        {
            var box = Box(face.Detection, scan.Width, scan.Height);
            var entry = old.Where(o => !matched.Contains(o)).Select(o => (o, iou: Overlap(o.Box, box))).Where(x => x.iou >= SameFaceOverlap).OrderByDescending(x => x.iou).Select(x => x.o).FirstOrDefault();
            if (entry is null)
            {
                entry = new FaceEntry { Id = next++ };
            }
            else
            {
                matched.Add(entry);
            }

            entry.Box = box;
            entry.Landmarks = [.. face.Detection.Landmarks.Select(p => new FacePoint { X = Math.Round(p.X, 1), Y = Math.Round(p.Y, 1) })];
            entry.Score = MathF.Round(face.Detection.Score, 4);
            entry.Detector = active.DetectorReference;
            entry.Quality = face.Quality;
            entry.Embedder = face.Vector is null ? null : active.EmbedderReference;
            if (!entry.Usable && entry.Status == FaceStatus.Suggested)
            {
                entry.Unassign();
            }

            faces.Add(entry);
            result.Add((face, entry));
        }

        // What people decided stays, even when this detector does not find the face again.
        faces.AddRange(old.Where(o => !matched.Contains(o) && (o.Status is FaceStatus.Confirmed or FaceStatus.Rejected || o.RejectedFor.Count > 0)));
        sidecar.Faces = [.. faces.OrderBy(f => f.Id)];
        return result;
    }

    private static FaceBox Box(FaceDetection d, int width, int height)
    {
        var x1 = (int)Math.Round(Math.Clamp(d.X1, 0, width));
        var y1 = (int)Math.Round(Math.Clamp(d.Y1, 0, height));
        var x2 = (int)Math.Round(Math.Clamp(d.X2, 0, width));
        var y2 = (int)Math.Round(Math.Clamp(d.Y2, 0, height));
        return new FaceBox { X = x1, Y = y1, W = Math.Max(1, x2 - x1), H = Math.Max(1, y2 - y1) };
    }

    internal static double Overlap(FaceBox a, FaceBox b)
    {
        var ix = Math.Max(0, Math.Min(a.X + a.W, b.X + b.W) - Math.Max(a.X, b.X));
        var iy = Math.Max(0, Math.Min(a.Y + a.H, b.Y + b.H) - Math.Max(a.Y, b.Y));
        var inter = (double)ix * iy;
        var union = ((double)a.W * a.H) + ((double)b.W * b.H) - inter;
        return union > 0 ? inter / union : 0;
    }

    private sealed record Scanned(int Width, int Height, List<ScannedFace> Faces);

    private sealed record ScannedFace(FaceDetection Detection, FaceQuality Quality, RgbPixels? Crop)
    {
        public float[]? Vector { get; set; }
    }
}
