namespace Trove.Domain.Faces;

/// <summary>
/// The quality filters a face must pass to be embedded, clustered and used as a reference, with the source material's
/// defaults: a face of at least 80 px (shorter side of its box), in an image of at least 400 px (shorter side), found
/// with at least 0.8 confidence, turned at most 45° (yaw estimated from the landmarks). A face that fails any is kept
/// in the sidecar with the reasons, so that people can see why it was left out.
/// </summary>
public sealed record FaceQualityRules(int MinFaceSize = 80, int MinImageSize = 400, float MinConfidence = 0.8f, double MaxAngle = 45)
{
    public static FaceQualityRules Default { get; } = new();

    /// <summary>Measures a detection (displayed pixels) in an image of <paramref name="imageWidth"/> × <paramref name="imageHeight"/>.</summary>
    public FaceQuality Evaluate(FaceDetection face, int imageWidth, int imageHeight)
    {
        ArgumentNullException.ThrowIfNull(face);
        var quality = new FaceQuality
        {
            Size = (int)Math.Round(Math.Min(face.Width, face.Height)),
            Roll = face.Landmarks.Count >= 2 ? Math.Round(FaceAlignment.Roll(face.Landmarks[0], face.Landmarks[1]), 1) : 0,
            Yaw = Math.Round(FaceAlignment.Yaw(face.Landmarks), 1),
        };
        if (quality.Size < MinFaceSize)
        {
            quality.Reasons.Add(FaceRejections.TooSmall);
        }

        if (Math.Min(imageWidth, imageHeight) < MinImageSize)
        {
            quality.Reasons.Add(FaceRejections.ImageTooSmall);
        }

        if (face.Score < MinConfidence)
        {
            quality.Reasons.Add(FaceRejections.LowConfidence);
        }

        if (Math.Abs(quality.Yaw) > MaxAngle)
        {
            quality.Reasons.Add(FaceRejections.Angle);
        }

        return quality;
    }

    /// <summary>What a reason code means, for people.</summary>
    public string Explain(string reason) => reason switch
    {
        FaceRejections.TooSmall => $"the face is smaller than {MinFaceSize} px",
        FaceRejections.ImageTooSmall => $"the image is smaller than {MinImageSize} px",
        FaceRejections.LowConfidence => $"the detector was less than {MinConfidence:0.##} sure",
        FaceRejections.Angle => $"the face is turned more than {MaxAngle:0.#}°",
        _ => reason,
    };
}
