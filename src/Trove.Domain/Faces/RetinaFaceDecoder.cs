namespace Trove.Domain.Faces;

/// <summary>
/// Decodes RetinaFace outputs the way the reference PyTorch implementation (biubug6/Pytorch_Retinaface, exported with
/// its test-phase softmax) does: prior boxes per stride (<c>steps</c> 8/16/32) with the stride's <c>minSizes</c> at each
/// cell centre, row by row; box centre = prior centre + loc · v₀ · prior size, box size = prior size · e^(loc · v₁);
/// landmarks = prior centre + offset · v₀ · prior size (variances v = 0.1, 0.2); the face score is the second class of
/// <c>conf</c>; then greedy NMS.
/// </summary>
public static class RetinaFaceDecoder
{
    public static readonly IReadOnlyList<int> DefaultSteps = [8, 16, 32];

    public static readonly IReadOnlyList<IReadOnlyList<int>> DefaultMinSizes = [[16, 32], [64, 128], [256, 512]];

    /// <summary>The prior boxes (centre x, centre y, width, height, in input pixels), in the model's output order.</summary>
    public static List<(double Cx, double Cy, double W, double H)> Priors(int inputWidth, int inputHeight, IReadOnlyList<int> steps, IReadOnlyList<IReadOnlyList<int>> minSizes)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(minSizes);
        if (steps.Count != minSizes.Count)
        {
            throw new ArgumentException($"{steps.Count} steps but {minSizes.Count} lists of minimum sizes; give one list per step.", nameof(minSizes));
        }

        var priors = new List<(double, double, double, double)>();
        for (var k = 0; k < steps.Count; k++)
        {
            var step = steps[k];
            var rows = (int)Math.Ceiling((double)inputHeight / step);
            var cols = (int)Math.Ceiling((double)inputWidth / step);
            for (var i = 0; i < rows; i++)
            {
                for (var j = 0; j < cols; j++)
                {
                    foreach (var size in minSizes[k])
                    {
                        priors.Add(((j + 0.5) * step, (i + 0.5) * step, size, size));
                    }
                }
            }
        }

        return priors;
    }

    /// <param name="loc">[N × 4] box regressions.</param>
    /// <param name="conf">[N × 2] background and face probabilities.</param>
    /// <param name="landmarks">[N × 10] landmark regressions, or empty.</param>
    public static IReadOnlyList<FaceDetection> Decode(
        ReadOnlySpan<float> loc, ReadOnlySpan<float> conf, ReadOnlySpan<float> landmarks, IReadOnlyList<(double Cx, double Cy, double W, double H)> priors,
        float scoreThreshold, float nmsThreshold, double variance0 = 0.1, double variance1 = 0.2)
    {
        ArgumentNullException.ThrowIfNull(priors);
        var n = priors.Count;
        if (loc.Length != n * 4 || conf.Length != n * 2 || (!landmarks.IsEmpty && landmarks.Length != n * 10))
        {
            throw new ArgumentException($"{n} prior boxes expected; got {loc.Length / 4.0} boxes, {conf.Length / 2.0} scores" + (landmarks.IsEmpty ? "." : $", {landmarks.Length / 10.0} landmark sets."), nameof(priors));
        }

        var candidates = new List<FaceDetection>();
        for (var i = 0; i < n; i++)
        {
            var score = conf[(i * 2) + 1];
            if (!(score >= scoreThreshold))
            {
                continue;
            }

            var (pcx, pcy, pw, ph) = priors[i];
            var cx = pcx + (loc[i * 4] * variance0 * pw);
            var cy = pcy + (loc[(i * 4) + 1] * variance0 * ph);
            var w = pw * Math.Exp(loc[(i * 4) + 2] * variance1);
            var h = ph * Math.Exp(loc[(i * 4) + 3] * variance1);
            var points = new Point2[landmarks.IsEmpty ? 0 : 5];
            for (var p = 0; p < points.Length; p++)
            {
                points[p] = new Point2(pcx + (landmarks[(i * 10) + (2 * p)] * variance0 * pw), pcy + (landmarks[(i * 10) + (2 * p) + 1] * variance0 * ph));
            }

            candidates.Add(new FaceDetection(cx - (w / 2), cy - (h / 2), cx + (w / 2), cy + (h / 2), score, points));
        }

        return ScrfdDecoder.Suppress(candidates, nmsThreshold);
    }
}
