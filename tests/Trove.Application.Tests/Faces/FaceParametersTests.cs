using System.Text.Json.Nodes;
using Trove.Application.Faces;
using Trove.Domain;
using Trove.Domain.Faces;

namespace Trove.Application.Tests.Faces;

/// <summary>Face detector and embedder settings: each layout's reference defaults, and errors that name the field.</summary>
public sealed class FaceParametersTests
{
    private static FaceDetectorParameters Detector(string json) => FaceDetectorParameters.Parse(JsonNode.Parse(json)!.AsObject(), "det");

    [Fact]
    public void Each_layout_takes_its_reference_preprocessing_unless_told_otherwise()
    {
        var scrfd = Detector("{}");
        Assert.Equal(FaceLayouts.Scrfd, scrfd.Layout);
        Assert.Equal([127.5f, 127.5f, 127.5f], scrfd.Mean);
        Assert.Equal(128f, scrfd.Std);
        Assert.False(scrfd.Bgr);

        var yunet = Detector("""{"layout":"yunet"}""");
        Assert.Equal([0f, 0f, 0f], yunet.Mean);
        Assert.Equal(1f, yunet.Std);
        Assert.True(yunet.Bgr);

        var retina = Detector("""{"layout":"retinaface","channels":"rgb","mean":[123,117,104]}""");
        Assert.Equal([123f, 117f, 104f], retina.Mean);
        Assert.False(retina.Bgr);
        Assert.Equal(3, retina.MinSizes.Count);
        Assert.Equal([16, 32], retina.MinSizes[0]);
        Assert.Equal([127.5f, 127.5f, 127.5f], Detector("""{"mean":127.5}""").Mean);
        Assert.Equal(0.8f, scrfd.Quality.MinConfidence);
        Assert.Equal(80, scrfd.Quality.MinFaceSize);
    }

    [Theory]
    [InlineData("""{"layout":"mtcnn"}""", "layout")]
    [InlineData("""{"layout":"retinaface","minSizes":[[16,32],[64,128]]}""", "minSizes")]
    [InlineData("""{"layout":"retinaface","minSizes":[16,32]}""", "minSizes")]
    [InlineData("""{"mean":[1,2]}""", "mean")]
    [InlineData("""{"inputSize":600}""", "inputSize")]
    [InlineData("""{"strides":[7]}""", "strides[0]")]
    [InlineData("""{"colour":"rgb"}""", "colour")]
    public void A_bad_setting_is_refused_naming_it(string json, string field)
    {
        var ex = Assert.Throws<TroveUsageException>(() => Detector(json));
        Assert.Equal("model-parameters-invalid", ex.Code);
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RetinaFace_priors_follow_the_reference_prior_box_order()
    {
        var priors = RetinaFaceDecoder.Priors(640, 640, RetinaFaceDecoder.DefaultSteps, RetinaFaceDecoder.DefaultMinSizes);
        Assert.Equal(2 * ((80 * 80) + (40 * 40) + (20 * 20)), priors.Count);
        Assert.Equal((4.0, 4.0, 16.0, 16.0), priors[0]);
        Assert.Equal((4.0, 4.0, 32.0, 32.0), priors[1]);
        Assert.Equal((12.0, 4.0, 16.0, 16.0), priors[2]);
        Assert.Equal((16.0, 16.0, 256.0, 256.0), priors[2 * ((80 * 80) + (40 * 40))]);
    }
}
