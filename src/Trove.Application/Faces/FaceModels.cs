using Trove.Application.Inference;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Domain.Faces;
using Trove.Domain.Models;
using Trove.Domain.Similarity;

namespace Trove.Application.Faces;

/// <summary>The library's face models: the first face detector and the first face embedder with an active local version.</summary>
public sealed record ActiveFaceModels(
    ModelDefinition Detector,
    ModelVersionEntry DetectorVersion,
    FaceDetectorParameters DetectorParameters,
    ModelDefinition? Embedder,
    ModelVersionEntry? EmbedderVersion,
    FaceEmbedderParameters EmbedderParameters)
{
    public string DetectorReference => $"{Detector.Id}@{DetectorVersion.Version}";

    public string? EmbedderReference => Embedder is null ? null : $"{Embedder.Id}@{EmbedderVersion!.Version}";

    public static ActiveFaceModels? Of(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var models = library.Files.ReadModels().Models;
        var detector = First(models, ModelKinds.FaceDetector);
        if (detector is null)
        {
            return null;
        }

        var embedder = First(models, ModelKinds.FaceEmbedder);
        return new ActiveFaceModels(
            detector,
            detector.ActiveVersion!,
            FaceDetectorParameters.Parse(detector.Parameters, detector.Id),
            embedder,
            embedder?.ActiveVersion,
            embedder is null ? FaceEmbedderParameters.Default : FaceEmbedderParameters.Parse(embedder.Parameters, embedder.Id));
    }

    public static ActiveFaceModels Require(TroveLibrary library) => Of(library) ?? throw new TroveException(
        "no-face-detector",
        "The library has no face detector, so no faces can be found.",
        "Register one: trove models add scrfd --kind face-detector --file det_10g.onnx, and a face embedder: trove models add arcface --kind face-embedder --file w600k_r50.onnx (docs/faces.md).");

    /// <summary>The embedder part, or the error clustering and person matching give without one.</summary>
    public (ModelDefinition Model, ModelVersionEntry Version) RequireEmbedder() => Embedder is null
        ? throw new TroveException(
            "no-face-embedder",
            "The library has a face detector but no face embedder, so faces can be found but not told apart.",
            "Register one: trove models add arcface --kind face-embedder --file w600k_r50.onnx (docs/faces.md).")
        : (Embedder, EmbedderVersion!);

    private static ModelDefinition? First(IEnumerable<ModelDefinition> models, string kind) =>
        models.FirstOrDefault(m => m.Kind == kind && ModelProviders.IsLocal(m.Provider) && m.ActiveVersion is not null);
}

/// <summary>
/// A loaded face detector: one float input <c>[1,3,S,S]</c>; outputs in the layout its parameters name
/// (<see cref="FaceLayouts"/>). SCRFD: in InsightFace's order — the scores of each stride, then the box distances of
/// each stride, then (optionally) the landmark offsets of each stride, each <c>[positions × anchors, 1|4|10]</c> with or
/// without a leading batch dimension; YuNet: cls, obj, bbox, kps of each stride; RetinaFace: loc, conf, landmarks over
/// prior boxes. Thread-safe.
/// </summary>
public sealed class FaceDetector : IDisposable
{
    private readonly IInferenceSession _session;
    private readonly string _input;
    private readonly bool _landmarks;
    private readonly int[] _map;
    private readonly List<(double Cx, double Cy, double W, double H)>? _priors;

    private FaceDetector(string reference, FaceDetectorParameters parameters, IInferenceSession session, string file)
    {
        Reference = reference;
        Parameters = parameters;
        _session = session;
        var signature = session.Signature;
        var levels = parameters.Strides.Count;
        if (signature.Inputs.Count != 1 || signature.Inputs[0].Rank != 4 || signature.Inputs[0].ElementType != TensorElementType.Float32)
        {
            throw Signature(file, $"takes {Describe(signature.Inputs)}; a face detector takes one float image [1,3,{parameters.InputSize},{parameters.InputSize}]");
        }

        var shape = signature.Inputs[0].Shape;
        if ((shape[2] > 0 && shape[2] != parameters.InputSize) || (shape[3] > 0 && shape[3] != parameters.InputSize) || (shape[1] > 0 && shape[1] != 3))
        {
            throw Signature(file, $"takes [{string.Join(",", shape)}] but inputSize is {parameters.InputSize}; set \"inputSize\" to the model's input side");
        }

        var outputs = signature.Outputs;
        switch (parameters.Layout)
        {
            case FaceLayouts.YuNet:
                // OpenCV Zoo's names (cls_8 … kps_32); otherwise its order: cls, obj, bbox, kps of each stride.
                _map = new int[4 * levels];
                string[] parts = ["cls", "obj", "bbox", "kps"];
                int[] widths = [1, 1, 4, 10];
                if (outputs.Count != 4 * levels)
                {
                    throw Signature(file, $"gives {outputs.Count} outputs ({Describe(outputs)}); a YuNet detector with strides {string.Join("/", parameters.Strides)} gives {4 * levels}: cls, obj, bbox and kps of each stride{Hint(outputs, levels)}");
                }

                for (var k = 0; k < 4; k++)
                {
                    for (var l = 0; l < levels; l++)
                    {
                        var name = $"{parts[k]}_{parameters.Strides[l]}";
                        var found = outputs.ToList().FindIndex(o => o.Name == name);
                        var index = found >= 0 ? found : (k * levels) + l;
                        var last = outputs[index].Shape[^1];
                        if (last > 0 && last != widths[k])
                        {
                            throw Signature(file, $"output {outputs[index].Name} ends in {last} values per cell; {name} takes {widths[k]}");
                        }

                        _map[(k * levels) + l] = index;
                    }
                }

                _landmarks = true;
                break;
            case FaceLayouts.RetinaFace:
                // loc [1,N,4], conf [1,N,2] and (optionally) landmarks [1,N,10], told apart by their last dimension.
                int Find(int width) => outputs.ToList().FindIndex(o => o.Shape[^1] == width);
                _map = [Find(4), Find(2), Find(10)];
                if (outputs.Count is < 2 or > 3 || _map[0] < 0 || _map[1] < 0 || (outputs.Count == 3 && _map[2] < 0))
                {
                    throw Signature(file, $"gives {Describe(outputs)}; a RetinaFace detector gives loc [1,N,4], conf [1,N,2] and landmarks [1,N,10]{Hint(outputs, levels)}");
                }

                _landmarks = _map[2] >= 0;
                _priors = RetinaFaceDecoder.Priors(parameters.InputSize, parameters.InputSize, parameters.Strides, parameters.MinSizes);
                break;
            default:
                if (outputs.Count != 2 * levels && outputs.Count != 3 * levels)
                {
                    throw Signature(file, $"gives {outputs.Count} outputs ({Describe(outputs)}); an SCRFD-style detector with strides {string.Join("/", parameters.Strides)} gives {2 * levels} (scores, boxes) or {3 * levels} (and landmarks){Hint(outputs, levels)}");
                }

                _landmarks = outputs.Count == 3 * levels;
                for (var i = 0; i < outputs.Count; i++)
                {
                    var width = (i / levels) switch { 0 => 1, 1 => 4, _ => 10 };
                    var last = outputs[i].Shape[^1];
                    if (last > 0 && last != width)
                    {
                        throw Signature(file, $"output {outputs[i].Name} ends in {last} values per anchor; the {(width == 1 ? "scores" : width == 4 ? "boxes" : "landmarks")} of stride {parameters.Strides[i % levels]} take {width}{Hint(outputs, levels)}");
                    }
                }

                _map = [.. Enumerable.Range(0, outputs.Count)];
                break;
        }

        _input = signature.Inputs[0].Name;
    }

    public string Reference { get; }

    public FaceDetectorParameters Parameters { get; }

    public bool HasLandmarks => _landmarks;

    public static FaceDetector Load(TroveLibrary library, ModelDefinition model, ModelVersionEntry version, FaceDetectorParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(version);
        var path = ModelPath(library, model, version, "face detector");
        var session = library.Inference.Load(path, new InferenceSessionOptions());
        try
        {
            return new FaceDetector($"{model.Id}@{version.Version}", parameters, session, Path.GetFileName(path));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fills <paramref name="tensor"/> (3 × S × S) from pixels already fitted inside S × S (aspect kept), placed at the
    /// top-left corner and padded with black, as SCRFD's reference code does.
    /// </summary>
    public void Prepare(RgbPixels pixels, Span<float> tensor)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        var s = Parameters.InputSize;
        var plane = s * s;
        var (m0, m1, m2) = (Parameters.Mean[0], Parameters.Mean[1], Parameters.Mean[2]);
        tensor[..plane].Fill((0 - m0) / Parameters.Std);
        tensor[plane..(2 * plane)].Fill((0 - m1) / Parameters.Std);
        tensor[(2 * plane)..(3 * plane)].Fill((0 - m2) / Parameters.Std);
        var bands = pixels.Bands;
        var data = pixels.Data;
        var w = Math.Min(pixels.Width, s);
        var h = Math.Min(pixels.Height, s);
        for (var y = 0; y < h; y++)
        {
            var row = y * pixels.Width * bands;
            for (var x = 0; x < w; x++)
            {
                var p = row + (x * bands);
                var (r, g, b) = bands >= 3 ? (data[p], data[p + 1], data[p + 2]) : (data[p], data[p], data[p]);
                var (c0, c2) = Parameters.Bgr ? (b, r) : (r, b);
                var o = (y * s) + x;
                tensor[o] = (c0 - m0) / Parameters.Std;
                tensor[plane + o] = (g - m1) / Parameters.Std;
                tensor[(2 * plane) + o] = (c2 - m2) / Parameters.Std;
            }
        }
    }

    /// <summary>Faces in a prepared input, in the input's pixels (divide by the fitting scale for the image's).</summary>
    public IReadOnlyList<FaceDetection> Detect(ReadOnlyMemory<float> tensor, CancellationToken ct)
    {
        var s = Parameters.InputSize;
        var outputs = _session.Run([new InputTensor(_input, tensor, [1, 3, s, s])], ct);
        var levels = Parameters.Strides.Count;
        try
        {
            switch (Parameters.Layout)
            {
                case FaceLayouts.YuNet:
                    var cells = new List<YuNetLevel>(levels);
                    for (var l = 0; l < levels; l++)
                    {
                        cells.Add(new YuNetLevel(Parameters.Strides[l], outputs[_map[l]].Data, outputs[_map[levels + l]].Data, outputs[_map[(2 * levels) + l]].Data, outputs[_map[(3 * levels) + l]].Data));
                    }

                    return YuNetDecoder.Decode(cells, s, s, Parameters.ScoreThreshold, Parameters.NmsThreshold);
                case FaceLayouts.RetinaFace:
                    return RetinaFaceDecoder.Decode(
                        outputs[_map[0]].Data, outputs[_map[1]].Data, _landmarks ? outputs[_map[2]].Data : default, _priors!, Parameters.ScoreThreshold, Parameters.NmsThreshold);
                default:
                    var list = new List<ScrfdLevel>(levels);
                    for (var i = 0; i < levels; i++)
                    {
                        list.Add(new ScrfdLevel(Parameters.Strides[i], outputs[i].Data, outputs[i + levels].Data, _landmarks ? outputs[i + (2 * levels)].Data : null));
                    }

                    return ScrfdDecoder.Decode(list, s, s, Parameters.Anchors, Parameters.ScoreThreshold, Parameters.NmsThreshold);
            }
        }
        catch (ArgumentException ex)
        {
            throw new TroveException("model-output-mismatch", $"Face detector '{Reference}': {ex.Message}", "Check \"strides\", \"anchors\" and \"inputSize\" against the model (docs/faces.md).");
        }
    }

    public void Dispose() => _session.Dispose();

    internal static string ModelPath(TroveLibrary library, ModelDefinition model, ModelVersionEntry version, string role)
    {
        var path = new Models.ModelRegistry(library).Resolve(version.File);
        return File.Exists(path) ? path : throw new TroveException("model-file-missing", $"The {role} '{model.Id}@{version.Version}': {path} does not exist.", "Put the file back, or register the model again (trove models add).");
    }

    internal static string Describe(IReadOnlyList<TensorInfo> tensors) =>
        string.Join(", ", tensors.Select(t => $"{t.Name} {t.ElementType} [{string.Join(",", t.Shape)}]"));

    private TroveException Signature(string file, string what) => new("model-signature", $"Face detector '{Reference}': {file} {what}.", "See docs/faces.md, \"Models\".");

    // What the outputs look like, when that is another layout than the one set: the parameter to set.
    private string Hint(IReadOnlyList<TensorInfo> outputs, int levels)
    {
        var guess = outputs.Any(o => o.Name.StartsWith("obj_", StringComparison.Ordinal) || o.Name.StartsWith("cls_", StringComparison.Ordinal)) || outputs.Count == 4 * levels
            ? FaceLayouts.YuNet
            : outputs.Count is 2 or 3 && outputs.Any(o => o.Shape[^1] == 2) ? FaceLayouts.RetinaFace
            : outputs.Count == 2 * levels || outputs.Count == 3 * levels ? FaceLayouts.Scrfd : null;
        return guess is not null && guess != Parameters.Layout ? $" — these outputs look like {guess}'s: register it with --parameters '{{\"layout\":\"{guess}\"}}'" : string.Empty;
    }
}

/// <summary>
/// A loaded ArcFace-style embedder: float <c>[N,3,S,S]</c> aligned crops → <c>[N,D]</c>, L2-normalised here. Thread-safe.
/// </summary>
public sealed class FaceEmbedder : IDisposable
{
    private readonly IInferenceSession _session;
    private readonly string _input;

    private FaceEmbedder(string reference, FaceEmbedderParameters parameters, IInferenceSession session, string file)
    {
        Reference = reference;
        Parameters = parameters;
        _session = session;
        var signature = session.Signature;
        var s = parameters.Size;
        if (signature.Inputs.Count != 1 || signature.Inputs[0].Rank != 4 || signature.Inputs[0].ElementType != TensorElementType.Float32
            || signature.Inputs[0].Shape[2] is > 0 and var h && h != s)
        {
            throw new TroveException("model-signature", $"Face embedder '{reference}': {file} takes {FaceDetector.Describe(signature.Inputs)}; a face embedder takes aligned crops [N,3,{s},{s}].", "Set \"size\" to the model's input side (ArcFace: 112).");
        }

        if (signature.Outputs.Count == 0 || signature.Outputs[0].Rank != 2 || signature.Outputs[0].Shape[1] <= 0)
        {
            throw new TroveException("model-signature", $"Face embedder '{reference}': {file} gives {FaceDetector.Describe(signature.Outputs)}; a face embedder gives [N,D] with a fixed D (ArcFace: 512).", "See docs/faces.md, \"Installing real models\".");
        }

        _input = signature.Inputs[0].Name;
        Dimensions = (int)signature.Outputs[0].Shape[1];
        BatchFixed = signature.Inputs[0].Shape[0] == 1;
    }

    public string Reference { get; }

    public FaceEmbedderParameters Parameters { get; }

    public int Dimensions { get; }

    /// <summary>The model takes one crop at a time (a batch dimension fixed at 1).</summary>
    public bool BatchFixed { get; }

    public int TensorLength => 3 * Parameters.Size * Parameters.Size;

    public static FaceEmbedder Load(TroveLibrary library, ModelDefinition model, ModelVersionEntry version, FaceEmbedderParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(library);
        var path = FaceDetector.ModelPath(library, model, version, "face embedder");
        var session = library.Inference.Load(path, new InferenceSessionOptions());
        try
        {
            return new FaceEmbedder($"{model.Id}@{version.Version}", parameters, session, Path.GetFileName(path));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Fills one crop's tensor (3 × S × S, NCHW) from S × S RGB pixels.</summary>
    public void Prepare(RgbPixels crop, Span<float> tensor)
    {
        ArgumentNullException.ThrowIfNull(crop);
        var s = Parameters.Size;
        var plane = s * s;
        var bands = crop.Bands;
        for (var i = 0; i < plane; i++)
        {
            var p = i * bands;
            var (r, g, b) = bands >= 3 ? (crop.Data[p], crop.Data[p + 1], crop.Data[p + 2]) : (crop.Data[p], crop.Data[p], crop.Data[p]);
            var (c0, c2) = Parameters.Bgr ? (b, r) : (r, b);
            tensor[i] = (c0 - Parameters.Mean) / Parameters.Std;
            tensor[plane + i] = (g - Parameters.Mean) / Parameters.Std;
            tensor[(2 * plane) + i] = (c2 - Parameters.Mean) / Parameters.Std;
        }
    }

    /// <summary>Unit vectors of <paramref name="count"/> prepared crops.</summary>
    public float[][] Embed(ReadOnlyMemory<float> tensors, int count, CancellationToken ct)
    {
        var s = Parameters.Size;
        var result = new float[count][];
        var step = BatchFixed ? 1 : count;
        for (var start = 0; start < count; start += step)
        {
            var n = Math.Min(step, count - start);
            var output = _session.Run([new InputTensor(_input, tensors.Slice(start * TensorLength, n * TensorLength), [n, 3, s, s])], ct)[0];
            if (output.Shape.Count != 2 || output.Shape[0] != n || output.Shape[1] != Dimensions)
            {
                throw new TroveException("model-output-mismatch", $"Face embedder '{Reference}' gave [{string.Join(",", output.Shape)}] for {n} crops; [{n},{Dimensions}] was expected.");
            }

            for (var i = 0; i < n; i++)
            {
                result[start + i] = UnitVector.TryNormalize(output.Data.AsSpan(i * Dimensions, Dimensions))
                    ?? throw new TroveException("embedding-invalid", $"Face embedder '{Reference}' gave a zero or non-finite embedding.");
            }
        }

        return result;
    }

    public void Dispose() => _session.Dispose();
}
