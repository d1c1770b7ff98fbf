namespace Trove.Domain.Faces;

/// <summary>A detected face in the detector's input pixels (or, after <see cref="FaceDetection.Scaled"/>, the image's).</summary>
/// <param name="Landmarks">Left eye, right eye, nose, left and right mouth corners (as seen).</param>
public sealed record FaceDetection(double X1, double Y1, double X2, double Y2, float Score, IReadOnlyList<Point2> Landmarks)
{
    public double Width => X2 - X1;

    public double Height => Y2 - Y1;

    public double Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>Maps from the detector's input back to the image: divide by the letterbox scale after removing its offset.</summary>
    public FaceDetection Scaled(double scale, double offsetX = 0, double offsetY = 0) => new(
        (X1 - offsetX) / scale,
        (Y1 - offsetY) / scale,
        (X2 - offsetX) / scale,
        (Y2 - offsetY) / scale,
        Score,
        [.. Landmarks.Select(p => new Point2((p.X - offsetX) / scale, (p.Y - offsetY) / scale))]);

    public double IntersectionOverUnion(FaceDetection other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var w = Math.Min(X2, other.X2) - Math.Max(X1, other.X1);
        var h = Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }

        var inter = w * h;
        return inter / (Area + other.Area - inter);
    }
}

/// <summary>One stride's outputs of an SCRFD-style detector: per anchor a score, 4 box distances and 10 landmark offsets, in stride units.</summary>
public sealed record ScrfdLevel(int Stride, ReadOnlyMemory<float> Scores, ReadOnlyMemory<float> Boxes, ReadOnlyMemory<float>? Landmarks);

/// <summary>
/// Decodes SCRFD (InsightFace) outputs the way its reference code does: anchor centres on a grid per stride (8, 16, 32),
/// <c>anchors</c> per centre; box = centre ∓ distances × stride; landmarks = centre + offsets × stride; candidates above
/// the score threshold, then greedy non-maximum suppression at an IoU threshold (0.4).
/// </summary>
public static class ScrfdDecoder
{
    public static readonly IReadOnlyList<int> DefaultStrides = [8, 16, 32];

    public const float DefaultNmsThreshold = 0.4f;

    /// <param name="inputWidth">The detector's input width (e.g. 640).</param>
    /// <param name="inputHeight">The detector's input height.</param>
    /// <param name="anchors">Anchors per grid centre (SCRFD: 2).</param>
    public static IReadOnlyList<FaceDetection> Decode(IReadOnlyList<ScrfdLevel> levels, int inputWidth, int inputHeight, int anchors, float scoreThreshold, float nmsThreshold = DefaultNmsThreshold)
    {
        ArgumentNullException.ThrowIfNull(levels);
        var candidates = new List<FaceDetection>();
        foreach (var level in levels)
        {
            var cols = (inputWidth + level.Stride - 1) / level.Stride;
            var rows = (inputHeight + level.Stride - 1) / level.Stride;
            var count = rows * cols * anchors;
            var scores = level.Scores.Span;
            var boxes = level.Boxes.Span;
            if (scores.Length != count || boxes.Length != count * 4 || (level.Landmarks is { } k && k.Length != count * 10))
            {
                throw new ArgumentException(
                    $"Stride {level.Stride}: {rows}×{cols} centres × {anchors} anchors = {count} expected; got {scores.Length} scores, {boxes.Length / 4.0} boxes"
                    + (level.Landmarks is { } l ? $", {l.Length / 10.0} landmark sets" : string.Empty) + ".",
                    nameof(levels));
            }

            var kps = level.Landmarks is { } lm ? lm.Span : default;
            for (var i = 0; i < count; i++)
            {
                var score = scores[i];
                if (!(score >= scoreThreshold))
                {
                    continue;
                }

                var centre = i / anchors;
                double cx = centre % cols * level.Stride, cy = centre / cols * level.Stride;
                var s = level.Stride;
                var points = new Point2[kps.IsEmpty ? 0 : 5];
                for (var p = 0; p < points.Length; p++)
                {
                    points[p] = new Point2(cx + (kps[(i * 10) + (2 * p)] * s), cy + (kps[(i * 10) + (2 * p) + 1] * s));
                }

                candidates.Add(new FaceDetection(cx - (boxes[i * 4] * s), cy - (boxes[(i * 4) + 1] * s), cx + (boxes[(i * 4) + 2] * s), cy + (boxes[(i * 4) + 3] * s), score, points));
            }
        }

        return Suppress(candidates, nmsThreshold);
    }

    /// <summary>Greedy non-maximum suppression: best score first, dropping what overlaps a kept box by more than the threshold.</summary>
    public static IReadOnlyList<FaceDetection> Suppress(IEnumerable<FaceDetection> candidates, float iouThreshold)
    {
        var kept = new List<FaceDetection>();
        foreach (var c in candidates.OrderByDescending(c => c.Score).ThenBy(c => c.Y1).ThenBy(c => c.X1))
        {
            if (kept.TrueForAll(k => k.IntersectionOverUnion(c) <= iouThreshold))
            {
                kept.Add(c);
            }
        }

        return kept;
    }
}
