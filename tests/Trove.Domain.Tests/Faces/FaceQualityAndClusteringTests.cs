using Trove.Domain.Faces;

namespace Trove.Domain.Tests.Faces;

public sealed class FaceQualityAndClusteringTests
{
    // A frontal face: ArcFace's template scaled to a box of the given side at (x, y).
    private static FaceDetection Frontal(double x, double y, double side, float score, double noseShift = 0) =>
        new(x, y, x + side, y + side, score,
            [.. FaceAlignment.Template.Select((p, i) => new Point2(x + (p.X / 112 * side) + (i == 2 ? noseShift * side : 0), y + (p.Y / 112 * side)))]);

    [Fact]
    public void The_source_defaults_pass_a_good_face_and_name_each_filter_a_bad_one_fails()
    {
        var rules = FaceQualityRules.Default;
        var good = rules.Evaluate(Frontal(10, 10, 120, 0.95f), 800, 600);
        Assert.Empty(good.Reasons);
        Assert.Equal(120, good.Size);
        Assert.InRange(Math.Abs(good.Yaw), 0, 2);
        Assert.InRange(Math.Abs(good.Roll), 0, 2);

        Assert.Equal([FaceRejections.TooSmall], rules.Evaluate(Frontal(10, 10, 79, 0.95f), 800, 600).Reasons);
        Assert.Empty(rules.Evaluate(Frontal(10, 10, 80, 0.8f), 400, 400).Reasons);
        Assert.Equal([FaceRejections.ImageTooSmall], rules.Evaluate(Frontal(10, 10, 120, 0.95f), 800, 399).Reasons);
        Assert.Equal([FaceRejections.LowConfidence], rules.Evaluate(Frontal(10, 10, 120, 0.79f), 800, 600).Reasons);

        // The nose far towards one eye: a head turned past 45°.
        var turned = rules.Evaluate(Frontal(10, 10, 120, 0.95f, noseShift: 0.3), 800, 600);
        Assert.Equal([FaceRejections.Angle], turned.Reasons);
        Assert.True(turned.Yaw > 45, $"yaw {turned.Yaw}");
        Assert.Equal(
            [FaceRejections.TooSmall, FaceRejections.ImageTooSmall, FaceRejections.LowConfidence],
            rules.Evaluate(Frontal(0, 0, 30, 0.5f), 100, 100).Reasons);

        // Configurable, and explained in words.
        var strict = new FaceQualityRules(MinFaceSize: 200, MinImageSize: 1000, MinConfidence: 0.99f, MaxAngle: 10);
        Assert.Equal(4, strict.Evaluate(Frontal(10, 10, 120, 0.95f, noseShift: 0.1), 800, 600).Reasons.Count);
        Assert.Equal("the face is smaller than 200 px", strict.Explain(FaceRejections.TooSmall));
    }

    [Fact]
    public void Dbscan_groups_dense_faces_attaches_border_faces_and_leaves_noise_out()
    {
        // 0-1-2 fully linked (a cluster of 3); 3 touches only 2 (border, joins it); 4-5 a pair (too few); 6 alone;
        // 7-8-9-10 a second cluster whose faces are numbered after the noise.
        (int, int, float)[] pairs =
        [
            (0, 1, 0.9f), (0, 2, 0.8f), (1, 2, 0.85f), (2, 3, 0.6f),
            (4, 5, 0.9f),
            (7, 8, 0.9f), (8, 9, 0.9f), (9, 10, 0.9f), (7, 9, 0.7f),
        ];
        var labels = FaceClustering.Dbscan(11, pairs, minFaces: 3);
        Assert.Equal([0, 0, 0, 0, -1, -1, -1, 1, 1, 1, 1], labels);

        // With a minimum of 2 the pair is a cluster too; with 5 nothing is.
        Assert.Equal(3, FaceClustering.Dbscan(11, pairs, minFaces: 2).Where(l => l >= 0).Distinct().Count());
        Assert.All(FaceClustering.Dbscan(11, pairs, minFaces: 5), l => Assert.Equal(-1, l));
    }

    [Fact]
    public void A_border_face_between_two_clusters_joins_its_most_similar_core_neighbour()
    {
        // Two clusters around the core faces 0 and 2, and 4; face 3 touches 2 (0.6) and 4 (0.7) but with minFaces 4 it is
        // not core itself (two neighbours): a border face, it joins 4's cluster, the more similar.
        (int, int, float)[] pairs =
        [
            (0, 1, 0.9f), (0, 2, 0.9f), (1, 2, 0.9f), (0, 9, 0.9f),
            (4, 5, 0.9f), (4, 6, 0.9f), (5, 6, 0.9f), (4, 8, 0.9f),
            (2, 3, 0.6f), (3, 4, 0.7f),
        ];
        var labels = FaceClustering.Dbscan(10, pairs, minFaces: 4);
        Assert.Equal(labels[4], labels[3]);
        Assert.NotEqual(labels[0], labels[4]);
        Assert.Equal(-1, labels[7]);
    }
}
