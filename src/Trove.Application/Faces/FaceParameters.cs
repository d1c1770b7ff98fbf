using System.Text.Json.Nodes;
using Trove.Domain.Faces;

namespace Trove.Application.Faces;

/// <summary>The output layouts a face detector may have (<c>layout</c> in its parameters).</summary>
public static class FaceLayouts
{
    /// <summary>InsightFace SCRFD (<c>det_10g.onnx</c>, <c>det_500m.onnx</c>): scores, boxes and landmarks per stride, two anchors per cell.</summary>
    public const string Scrfd = "scrfd";

    /// <summary>OpenCV Zoo YuNet (<c>face_detection_yunet_2023mar.onnx</c>): cls, obj, bbox and kps per stride, anchor-free.</summary>
    public const string YuNet = "yunet";

    /// <summary>RetinaFace (biubug6/Pytorch_Retinaface exports): loc, conf and landmarks over prior boxes.</summary>
    public const string RetinaFace = "retinaface";

    public static IReadOnlyList<string> All { get; } = [Scrfd, YuNet, RetinaFace];
}

/// <summary>
/// A face detector's settings, from the <c>parameters</c> of its entry in models.json (docs/faces.md, "Models"). The
/// <see cref="Layout"/> decides how outputs are decoded and the defaults of the rest, each its reference code's:
/// SCRFD (the default): RGB, (p − 127.5) / 128, strides 8/16/32 with two anchors; YuNet: BGR, raw 0–255, strides
/// 8/16/32; RetinaFace: BGR minus (104, 117, 123), steps 8/16/32 with minimum sizes [[16,32],[64,128],[256,512]].
/// All: a 640 × 640 input the image is fitted into at its top-left corner (aspect kept, black padding), a score
/// threshold of 0.5, NMS at IoU 0.4, and the source material's quality filters.
/// </summary>
/// <param name="Mean">Subtracted from each input channel, in the model's channel order (after <see cref="Bgr"/>).</param>
/// <param name="MinSizes">RetinaFace: the prior box sizes of each stride.</param>
/// <param name="AutoFaces">Whether imports and uploads queue a <c>faces</c> job.</param>
public sealed record FaceDetectorParameters(
    int InputSize,
    float ScoreThreshold,
    float NmsThreshold,
    int Anchors,
    IReadOnlyList<int> Strides,
    IReadOnlyList<float> Mean,
    float Std,
    bool Bgr,
    FaceQualityRules Quality,
    bool AutoFaces)
{
    public string Layout { get; init; } = FaceLayouts.Scrfd;

    public IReadOnlyList<IReadOnlyList<int>> MinSizes { get; init; } = RetinaFaceDecoder.DefaultMinSizes;

    public static FaceDetectorParameters Default { get; } = new(640, 0.5f, ScrfdDecoder.DefaultNmsThreshold, 2, ScrfdDecoder.DefaultStrides, [127.5f, 127.5f, 127.5f], 128f, Bgr: false, FaceQualityRules.Default, AutoFaces: true);

    /// <summary>The defaults of a layout (its reference code's preprocessing and strides).</summary>
    public static FaceDetectorParameters DefaultFor(string layout) => layout switch
    {
        FaceLayouts.YuNet => Default with { Layout = layout, Anchors = 1, Mean = [0f, 0f, 0f], Std = 1f, Bgr = true },
        FaceLayouts.RetinaFace => Default with { Layout = layout, Anchors = 2, Mean = [104f, 117f, 123f], Std = 1f, Bgr = true },
        _ => Default,
    };

    public static readonly IReadOnlyList<string> Fields =
        ["layout", "inputSize", "scoreThreshold", "nmsThreshold", "anchors", "strides", "minSizes", "mean", "std", "channels", "minFaceSize", "minImageSize", "minConfidence", "maxAngle", "autoFaces"];

    /// <exception cref="TroveUsageException">model-parameters-invalid, naming the field.</exception>
    public static FaceDetectorParameters Parse(JsonObject? parameters, string model)
    {
        if (parameters is null)
        {
            return Default;
        }

        var reader = new Models.ParameterReader(parameters, model, "Detector settings");
        reader.OnlyFields(Fields, "a face detector");
        var layout = reader.Text("layout") ?? FaceLayouts.Scrfd;
        if (!FaceLayouts.All.Contains(layout))
        {
            throw reader.Bad("layout", $"is \"{layout}\"; use {string.Join(", ", FaceLayouts.All)}");
        }

        var d = DefaultFor(layout);
        var size = reader.Whole("inputSize") ?? d.InputSize;
        if (size is < 32 or > 4096 || size % 32 != 0)
        {
            throw reader.Bad("inputSize", $"is {size}; use a multiple of 32 from 32 to 4096 (SCRFD, YuNet, RetinaFace: 640)");
        }

        var strides = new List<int>();
        if (parameters["strides"] is { } node)
        {
            if (node is not JsonArray { Count: > 0 } array)
            {
                throw reader.Bad("strides", $"must be a list of strides, found {node.ToJsonString()}");
            }

            foreach (var (i, item) in array.Index())
            {
                var stride = reader.Value<int>(item, $"strides[{i}]") ?? 0;
                if (stride is < 1 or > 256 || size % stride != 0)
                {
                    throw reader.Bad($"strides[{i}]", $"is {stride}; a stride divides the input size {size}");
                }

                strides.Add(stride);
            }
        }

        var minSizes = new List<IReadOnlyList<int>>();
        if (parameters["minSizes"] is { } sizes)
        {
            if (sizes is not JsonArray { Count: > 0 } lists || lists.Any(l => l is not JsonArray { Count: > 0 }))
            {
                throw reader.Bad("minSizes", $"must be one list of prior sizes per stride, e.g. [[16,32],[64,128],[256,512]], found {sizes.ToJsonString()}");
            }

            foreach (var (i, list) in lists.Index())
            {
                minSizes.Add([.. ((JsonArray)list!).Select((v, k) => reader.Value<int>(v, $"minSizes[{i}][{k}]") is int m and > 0 ? m : throw reader.Bad($"minSizes[{i}][{k}]", "must be a positive whole number"))]);
            }
        }

        var chosenStrides = strides.Count > 0 ? strides : d.Strides;
        if (layout == FaceLayouts.RetinaFace && (minSizes.Count > 0 ? minSizes.Count : d.MinSizes.Count) != chosenStrides.Count)
        {
            throw reader.Bad("minSizes", $"gives {(minSizes.Count > 0 ? minSizes.Count : d.MinSizes.Count)} lists for {chosenStrides.Count} strides; give one list per stride");
        }

        var std = reader.Number("std") ?? d.Std;
        if (!(std > 0))
        {
            throw reader.Bad("std", "must be positive");
        }

        var anchors = reader.Whole("anchors") ?? d.Anchors;
        if (anchors is < 1 or > 16)
        {
            throw reader.Bad("anchors", $"is {anchors}; SCRFD has 2 anchors per position");
        }

        var q = d.Quality;
        var quality = new FaceQualityRules(
            (int)(reader.Whole("minFaceSize") ?? q.MinFaceSize),
            (int)(reader.Whole("minImageSize") ?? q.MinImageSize),
            (float)(reader.Number("minConfidence") ?? q.MinConfidence),
            reader.Number("maxAngle") ?? q.MaxAngle);
        return new FaceDetectorParameters(
            (int)size,
            Fraction(reader, "scoreThreshold", d.ScoreThreshold),
            Fraction(reader, "nmsThreshold", d.NmsThreshold),
            (int)anchors,
            chosenStrides,
            Means(reader, d.Mean),
            (float)std,
            reader.Text("channels") is null ? d.Bgr : Channels(reader),
            quality,
            reader.Value<bool>(parameters["autoFaces"], "autoFaces") ?? d.AutoFaces)
        {
            Layout = layout,
            MinSizes = minSizes.Count > 0 ? minSizes : d.MinSizes,
        };
    }

    // "mean": one number for every channel, or three (in the model's channel order).
    private static IReadOnlyList<float> Means(Models.ParameterReader reader, IReadOnlyList<float> fallback) => reader.Parameters["mean"] switch
    {
        null => fallback,
        JsonArray { Count: 3 } triple => [.. triple.Select((v, i) => reader.Value<float>(v, $"mean[{i}]") ?? throw reader.Bad($"mean[{i}]", "is null"))],
        JsonArray other => throw reader.Bad("mean", $"must be one number or three (one per channel), found {other.ToJsonString()}"),
        _ => [.. Enumerable.Repeat((float)(reader.Number("mean") ?? 0), 3)],
    };

    internal static float Fraction(Models.ParameterReader reader, string name, float fallback)
    {
        var value = reader.Number(name) ?? fallback;
        return value is >= 0 and <= 1 ? (float)value : throw reader.Bad(name, $"is {value}; use 0–1");
    }

    internal static bool Channels(Models.ParameterReader reader) => reader.Text("channels") switch
    {
        null or "rgb" => false,
        "bgr" => true,
        var other => throw reader.Bad("channels", $"is \"{other}\"; use rgb or bgr"),
    };
}

/// <summary>
/// A face embedder's settings (docs/faces.md, "Embedder settings"), defaults ArcFace's (InsightFace <c>w600k_r50</c>,
/// <c>glintr100</c>): a 112 × 112 aligned crop, RGB normalised as (p − 127.5) / 127.5; and the clustering that its
/// distances suit: DBSCAN with at least <see cref="MinFaces"/> faces within cosine distance
/// <see cref="ClusterDistance"/> (Immich: 3 and 0.5), matches to confirmed people within <see cref="MatchDistance"/>
/// (PhotoPrism: 0.46).
/// </summary>
public sealed record FaceEmbedderParameters(int Size, float Mean, float Std, bool Bgr, int BatchSize, float ClusterDistance, int MinFaces, float MatchDistance)
{
    public static FaceEmbedderParameters Default { get; } = new(112, 127.5f, 127.5f, Bgr: false, BatchSize: 16, ClusterDistance: 0.5f, MinFaces: 3, MatchDistance: 0.46f);

    public static readonly IReadOnlyList<string> Fields = ["size", "mean", "std", "channels", "batchSize", "clusterDistance", "minFaces", "matchDistance"];

    public static FaceEmbedderParameters Parse(JsonObject? parameters, string model)
    {
        if (parameters is null)
        {
            return Default;
        }

        var reader = new Models.ParameterReader(parameters, model, "Embedder settings");
        reader.OnlyFields(Fields, "a face embedder");
        var d = Default;
        var size = reader.Whole("size") ?? d.Size;
        if (size is < 16 or > 1024)
        {
            throw reader.Bad("size", $"is {size}; ArcFace takes 112");
        }

        var std = reader.Number("std") ?? d.Std;
        if (!(std > 0))
        {
            throw reader.Bad("std", "must be positive");
        }

        var batch = reader.Whole("batchSize") ?? d.BatchSize;
        if (batch is < 1 or > 256)
        {
            throw reader.Bad("batchSize", $"is {batch}; use 1–256");
        }

        var minFaces = reader.Whole("minFaces") ?? d.MinFaces;
        if (minFaces is < 1 or > 1000)
        {
            throw reader.Bad("minFaces", $"is {minFaces}; use 1–1000 (Immich: 3)");
        }

        return new FaceEmbedderParameters(
            (int)size,
            (float)(reader.Number("mean") ?? d.Mean),
            (float)std,
            FaceDetectorParameters.Channels(reader),
            (int)batch,
            Distance(reader, "clusterDistance", d.ClusterDistance),
            (int)minFaces,
            Distance(reader, "matchDistance", d.MatchDistance));
    }

    private static float Distance(Models.ParameterReader reader, string name, float fallback)
    {
        var value = reader.Number(name) ?? fallback;
        return value is > 0 and < 2 ? (float)value : throw reader.Bad(name, $"is {value}; a cosine distance is between 0 and 2 (ArcFace: about 0.4–0.7)");
    }
}
