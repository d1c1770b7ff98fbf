using Trove.Domain.Faces;

namespace Trove.Domain.Tests.Faces;

public sealed class ScrfdDecoderTests
{
    private const int Input = 64;

    // One stride's outputs with every anchor at zero except those given (index → score, distances, landmark offsets).
    private static ScrfdLevel Level(int stride, int anchors, params (int Index, float Score, float[] Box, float[] Kps)[] set)
    {
        var n = (Input / stride) * (Input / stride) * anchors;
        var scores = new float[n];
        var boxes = new float[n * 4];
        var kps = new float[n * 10];
        foreach (var (i, score, box, k) in set)
        {
            scores[i] = score;
            box.CopyTo(boxes, i * 4);
            k.CopyTo(kps, i * 10);
        }

        return new ScrfdLevel(stride, scores, boxes, kps);
    }

    [Fact]
    public void Anchors_are_laid_row_by_row_with_each_centre_repeated_per_anchor_and_distances_scale_by_the_stride()
    {
        // Stride 16 on 64×64: 4×4 centres, 2 anchors each. Index 13 = centre 6 (row 1, column 2) → (32, 16).
        var kps = new float[] { -0.5f, -0.25f, 0.5f, -0.25f, 0, 0.25f, -0.25f, 0.5f, 0.25f, 0.5f };
        var level = Level(16, 2, (13, 0.9f, [1, 0.5f, 1.5f, 2], kps));
        var face = Assert.Single(ScrfdDecoder.Decode([level], Input, Input, anchors: 2, scoreThreshold: 0.5f));
        Assert.Equal((16, 8, 56, 48), (face.X1, face.Y1, face.X2, face.Y2));
        Assert.Equal(0.9f, face.Score);
        Assert.Equal(new Point2(24, 12), face.Landmarks[0]);
        Assert.Equal(new Point2(36, 24), face.Landmarks[4]);
    }

    [Fact]
    public void Overlapping_candidates_keep_the_best_and_separate_faces_all_stay()
    {
        var box = new float[] { 1, 1, 1, 1 };
        var kps = new float[10];
        var eight = Level(8, 2, (0, 0.6f, box, kps), (18, 0.95f, box, kps), (19, 0.7f, box, kps), (126, 0.8f, box, kps));
        var faces = ScrfdDecoder.Decode([eight, Level(16, 2), Level(32, 2)], Input, Input, anchors: 2, scoreThreshold: 0.5f);
        Assert.Equal([0.95f, 0.8f, 0.6f], faces.Select(f => f.Score));
        Assert.Empty(ScrfdDecoder.Decode([eight], Input, Input, 2, scoreThreshold: 0.99f));
    }

    [Fact]
    public void Outputs_of_the_wrong_length_are_refused_naming_the_stride_and_letterbox_scaling_maps_back()
    {
        var wrong = new ScrfdLevel(8, new float[10], new float[40], null);
        var error = Assert.Throws<ArgumentException>(() => ScrfdDecoder.Decode([wrong], Input, Input, 2, 0.5f));
        Assert.Contains("Stride 8", error.Message, StringComparison.Ordinal);

        var face = new FaceDetection(10, 20, 30, 40, 0.9f, [new(15, 25)]);
        var back = face.Scaled(0.5, offsetX: 10);
        Assert.Equal((0, 40, 40, 80), (back.X1, back.Y1, back.X2, back.Y2));
        Assert.Equal(new Point2(10, 50), back.Landmarks[0]);
    }
}
