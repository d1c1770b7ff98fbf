using Trove.Domain.Faces;

namespace Trove.Domain.Tests.Faces;

public sealed class FaceAlignmentTests
{
    [Theory]
    [InlineData(1.0, 0.0, 0.0, 0.0)]
    [InlineData(0.4, 0.0, 300.0, 120.0)]
    [InlineData(2.5, 20.0, -10.0, 5.0)]
    [InlineData(0.8, -35.0, 640.0, 480.0)]
    public void Landmarks_that_are_a_known_similarity_of_the_template_give_that_transform_back(double scale, double degrees, double dx, double dy)
    {
        // Landmarks = the inverse of a known transform applied to the template: aligning them must give the transform.
        var r = degrees * Math.PI / 180;
        var forward = new Similarity2(scale * Math.Cos(r), scale * Math.Sin(r), dx, dy);
        var landmarks = FaceAlignment.Template.Select(forward.Apply).ToList();
        var back = FaceAlignment.Estimate(landmarks);
        Assert.Equal(1 / scale, back.Scale, 6);
        Assert.Equal(-degrees, back.Degrees, 6);
        foreach (var (p, q) in landmarks.Zip(FaceAlignment.Template))
        {
            var mapped = back.Apply(p);
            Assert.Equal(q.X, mapped.X, 6);
            Assert.Equal(q.Y, mapped.Y, 6);
        }
    }

    [Fact]
    public void Noisy_landmarks_give_the_least_squares_fit_and_degenerate_ones_are_refused()
    {
        var noisy = FaceAlignment.Template.Select((p, i) => new Point2((p.X * 2) + 100 + (i % 2 == 0 ? 0.5 : -0.5), (p.Y * 2) + 50)).ToList();
        var fit = FaceAlignment.Estimate(noisy);
        Assert.Equal(0.5, fit.Scale, 2);
        Assert.Equal(0, fit.Degrees, 0);
        Assert.Throws<ArgumentException>(() => FaceAlignment.Estimate([new(5, 5), new(5, 5), new(5, 5), new(5, 5), new(5, 5)]));
        Assert.Throws<ArgumentException>(() => FaceAlignment.Estimate([new(5, 5)]));
    }

    [Fact]
    public void Roll_and_yaw_follow_the_eyes_and_the_nose()
    {
        Assert.Equal(0, FaceAlignment.Roll(new(10, 10), new(30, 10)), 6);
        Assert.Equal(45, FaceAlignment.Roll(new(10, 10), new(30, 30)), 6);
        Assert.Equal(0, FaceAlignment.Yaw(FaceAlignment.Template), 0);
        var turned = FaceAlignment.Template.Select((p, i) => i == 2 ? new Point2(p.X + 30, p.Y) : p).ToList();
        Assert.True(FaceAlignment.Yaw(turned) > 45);
    }
}
