namespace Trove.Domain.Faces;

/// <summary>One stride's outputs of a YuNet detector (OpenCV Zoo, 2023mar): per grid cell a class and an objectness score, 4 box values and 10 landmark values.</summary>
public sealed record YuNetLevel(int Stride, ReadOnlyMemory<float> Class, ReadOnlyMemory<float> Objectness, ReadOnlyMemory<float> Boxes, ReadOnlyMemory<float> Landmarks);

/// <summary>
/// Decodes YuNet outputs the way OpenCV's <c>FaceDetectorYN</c> does: anchor-free, one prediction per cell of each
/// stride's grid (row by row); score = √(clamp(cls) · clamp(obj)); centre = (cell + offset) × stride, size = e^value ×
/// stride; landmarks = (cell + offset) × stride; then greedy NMS.
/// </summary>
public static class YuNetDecoder
{
    public static IReadOnlyList<FaceDetection> Decode(IReadOnlyList<YuNetLevel> levels, int inputWidth, int inputHeight, float scoreThreshold, float nmsThreshold)
    {
        ArgumentNullException.ThrowIfNull(levels);
        var candidates = new List<FaceDetection>();
        foreach (var level in levels)
        {
            var cols = inputWidth / level.Stride;
            var rows = inputHeight / level.Stride;
            var count = rows * cols;
            var cls = level.Class.Span;
            var obj = level.Objectness.Span;
            var box = level.Boxes.Span;
            var kps = level.Landmarks.Span;
            if (cls.Length != count || obj.Length != count || box.Length != count * 4 || kps.Length != count * 10)
            {
                throw new ArgumentException(
                    $"Stride {level.Stride}: {rows}×{cols} cells expected; got {cls.Length} class scores, {obj.Length} objectness scores, {box.Length / 4.0} boxes, {kps.Length / 10.0} landmark sets.",
                    nameof(levels));
            }

            var s = level.Stride;
            for (var i = 0; i < count; i++)
            {
                var score = MathF.Sqrt(Math.Clamp(cls[i], 0f, 1f) * Math.Clamp(obj[i], 0f, 1f));
                if (!(score >= scoreThreshold))
                {
                    continue;
                }

                var (r, c) = (i / cols, i % cols);
                var cx = (c + box[i * 4]) * s;
                var cy = (r + box[(i * 4) + 1]) * s;
                var w = Math.Exp(box[(i * 4) + 2]) * s;
                var h = Math.Exp(box[(i * 4) + 3]) * s;
                var points = new Point2[5];
                for (var p = 0; p < 5; p++)
                {
                    points[p] = new Point2((kps[(i * 10) + (2 * p)] + c) * s, (kps[(i * 10) + (2 * p) + 1] + r) * s);
                }

                candidates.Add(new FaceDetection(cx - (w / 2), cy - (h / 2), cx + (w / 2), cy + (h / 2), score, points));
            }
        }

        return ScrfdDecoder.Suppress(candidates, nmsThreshold);
    }
}
