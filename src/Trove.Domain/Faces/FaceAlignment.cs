namespace Trove.Domain.Faces;

/// <summary>A point in image pixels (pixel centres at integer coordinates).</summary>
public readonly record struct Point2(double X, double Y);

/// <summary>
/// A similarity transform (rotation, uniform scale, translation): <c>u = S·x − R·y + Tx</c>, <c>v = R·x + S·y + Ty</c>
/// with <c>S = s·cos θ</c>, <c>R = s·sin θ</c>.
/// </summary>
public readonly record struct Similarity2(double S, double R, double Tx, double Ty)
{
    public double Scale => Math.Sqrt((S * S) + (R * R));

    /// <summary>The rotation in degrees (counter-clockwise in image coordinates, y down).</summary>
    public double Degrees => Math.Atan2(R, S) * 180 / Math.PI;

    public Point2 Apply(Point2 p) => new((S * p.X) - (R * p.Y) + Tx, (R * p.X) + (S * p.Y) + Ty);
}

/// <summary>
/// Face alignment from five landmarks (left eye, right eye, nose tip, left and right mouth corners, as the face is seen):
/// the least-squares similarity transform onto ArcFace's 112 × 112 template (Umeyama's closed form without reflection,
/// as InsightFace's <c>norm_crop</c> estimates it), and the roll it implies.
/// </summary>
public static class FaceAlignment
{
    /// <summary>The output side of an ArcFace-style embedder's input.</summary>
    public const int Size = 112;

    /// <summary>InsightFace's landmark template for 112 × 112 crops (arcface_src).</summary>
    public static IReadOnlyList<Point2> Template { get; } =
    [
        new(38.2946, 51.6963), new(73.5318, 51.5014), new(56.0252, 71.7366), new(41.5493, 92.3655), new(70.7299, 92.2041),
    ];

    /// <summary>The similarity transform that maps <paramref name="landmarks"/> onto <paramref name="target"/> (the template scaled to <paramref name="size"/> by default) in the least-squares sense.</summary>
    /// <exception cref="ArgumentException">fewer than two points, different counts, or all points at one place.</exception>
    public static Similarity2 Estimate(IReadOnlyList<Point2> landmarks, IReadOnlyList<Point2>? target = null, int size = Size)
    {
        ArgumentNullException.ThrowIfNull(landmarks);
        target ??= [.. Template.Select(p => new Point2(p.X * size / Size, p.Y * size / Size))];
        if (landmarks.Count < 2 || landmarks.Count != target.Count)
        {
            throw new ArgumentException($"Alignment needs the same number (≥ 2) of landmarks and template points; got {landmarks.Count} and {target.Count}.", nameof(landmarks));
        }

        var n = landmarks.Count;
        double mx = landmarks.Average(p => p.X), my = landmarks.Average(p => p.Y);
        double tx = target.Average(p => p.X), ty = target.Average(p => p.Y);
        double variance = 0, a = 0, b = 0;
        for (var i = 0; i < n; i++)
        {
            double x = landmarks[i].X - mx, y = landmarks[i].Y - my;
            double u = target[i].X - tx, v = target[i].Y - ty;
            variance += (x * x) + (y * y);
            a += (x * u) + (y * v);   // Σ x·u + y·v
            b += (x * v) - (y * u);   // Σ x·v − y·u
        }

        if (variance < 1e-12)
        {
            throw new ArgumentException("The landmarks are all at one point; no alignment can be estimated.", nameof(landmarks));
        }

        // Minimising Σ |M·p − q|² over M = [S −R; R S] gives S = a / var, R = b / var (centred coordinates).
        var s = a / variance;
        var r = b / variance;
        return new Similarity2(s, r, tx - ((s * mx) - (r * my)), ty - ((r * mx) + (s * my)));
    }

    /// <summary>The head's roll in degrees from the eyes (0 = level; positive = the right eye, as seen, lower).</summary>
    public static double Roll(Point2 leftEye, Point2 rightEye) => Math.Atan2(rightEye.Y - leftEye.Y, rightEye.X - leftEye.X) * 180 / Math.PI;

    /// <summary>
    /// A rough yaw in degrees from how far the nose sits from the eyes' midline, relative to the eye distance
    /// (0 = frontal; ±90 = profile). Used for the quality filter's maximum face angle.
    /// </summary>
    public static double Yaw(IReadOnlyList<Point2> landmarks)
    {
        ArgumentNullException.ThrowIfNull(landmarks);
        if (landmarks.Count < 3)
        {
            return 0;
        }

        var (le, re, nose) = (landmarks[0], landmarks[1], landmarks[2]);
        var eyes = Math.Sqrt(Math.Pow(re.X - le.X, 2) + Math.Pow(re.Y - le.Y, 2));
        if (eyes < 1e-9)
        {
            return 90;
        }

        // Signed distance of the nose from the perpendicular bisector of the eyes, in eye distances; ±0.5 ≈ profile.
        var mid = new Point2((le.X + re.X) / 2, (le.Y + re.Y) / 2);
        var along = (((nose.X - mid.X) * (re.X - le.X)) + ((nose.Y - mid.Y) * (re.Y - le.Y))) / (eyes * eyes);
        return Math.Clamp(along / 0.5, -1, 1) * 90;
    }
}
