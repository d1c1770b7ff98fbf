using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Trove.Testing;

/// <summary>
/// Small ONNX models generated in code, for tests and the ML benchmark (no model can be downloaded, and there is no
/// Python onnx package): a WD14-like colour tagger whose scores depend on the image in a known way, a heavy
/// convolutional model of realistic cost, and a trivial identity model for signature tests. Depends only on the BCL.
/// The models use IR version 8 and the default ONNX opset 13, which every ONNX Runtime since 1.8 runs.
/// </summary>
public static class OnnxModels
{
    /// <summary>The ONNX opset the models import (ReduceMean still takes its axes as an attribute in opset 13).</summary>
    public const int Opset = 13;

    /// <summary>The name given to the dynamic batch dimension (ONNX Runtime reports it as -1).</summary>
    public const string BatchDim = "N";

    private static readonly long[] NhwcToNchw = [0, 3, 1, 2];
    private static readonly long[] NchwToNhwc = [0, 2, 3, 1];
    private static readonly long[] NhwcSpatialAxes = [1, 2];
    private static readonly long[] NchwSpatialAxes = [2, 3];

    /// <summary>
    /// A WD14-like tagger: input <c>[N,size,size,3]</c> float (NHWC; <c>[N,3,size,size]</c> when
    /// <paramref name="nchw"/>) → ReduceMean over the spatial axes (keepdims=0) → <c>[N,3]</c> mean colour → MatMul
    /// with a <c>[3,K]</c> weight → Add a <c>[K]</c> bias → Sigmoid → output <c>[N,K]</c>, K = labels.Length.
    /// Label k scores exactly <c>rules[k].Score(r, g, b)</c> where r, g, b are the image's mean red, green and blue in
    /// 0–1. The weights assume the layout real WD14 taggers use by default: channels in BGR order
    /// (<paramref name="bgr"/> = false for RGB) with values 0–255 (<paramref name="scale"/> = 1 for 0–1 inputs).
    /// The labels are not part of an ONNX model (they live in selected_tags.csv, see <see cref="SelectedTagsCsv"/>);
    /// they are stored in the model's metadata ("labels", one per line) for reference. Preprocessing that pads to a
    /// square on white moves the mean colour toward white, so tests that need an exact score use square images.
    /// </summary>
    public static byte[] Tagger(
        string[] labels,
        ColourRule[] rules,
        bool nchw = false,
        int size = 448,
        string inputName = "input_1",
        string outputName = "predictions_sigmoid",
        bool bgr = true,
        float scale = 255f)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(rules);
        if (labels.Length != rules.Length)
            throw new ArgumentException($"{labels.Length} labels but {rules.Length} rules; give one rule per label.", nameof(rules));
        ArgumentOutOfRangeException.ThrowIfLessThan(labels.Length, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(scale, 0f);

        var k = labels.Length;
        // Channel c of the input holds colour (bgr ? 2 - c : c) of R, G, B.
        var weights = new float[3 * k];
        var bias = new float[k];
        for (var label = 0; label < k; label++)
        {
            var rule = rules[label];
            float[] perColour = [rule.WeightRed, rule.WeightGreen, rule.WeightBlue];
            for (var c = 0; c < 3; c++)
            {
                var colour = bgr ? 2 - c : c;
                weights[c * k + label] = rule.Sharpness * perColour[colour] / scale;
            }

            bias[label] = -rule.Sharpness * rule.Threshold;
        }

        long[] inputShape = nchw ? [-1, 3, size, size] : [-1, size, size, 3];
        var graph = new OnnxGraph("trove_colour_tagger")
            .Input(inputName, OnnxDataType.Float, inputShape)
            .Output(outputName, OnnxDataType.Float, [-1, k])
            .Initializer("tagger_weight", [3, k], weights)
            .Initializer("tagger_bias", [k], bias)
            .Node("ReduceMean", [inputName], ["mean_colour"],
                OnnxAttribute.Ints("axes", nchw ? NchwSpatialAxes : NhwcSpatialAxes), OnnxAttribute.Int("keepdims", 0))
            .Node("MatMul", ["mean_colour", "tagger_weight"], ["logits_raw"])
            .Node("Add", ["logits_raw", "tagger_bias"], ["logits"])
            .Node("Sigmoid", ["logits"], [outputName])
            .Metadata("labels", string.Join('\n', labels));
        return graph.ToModel();
    }

    /// <summary>
    /// A convolutional model of realistic cost (a plain ResNet-like network) for the benchmark and cancellation tests:
    /// input <c>[N,size,size,3]</c> float NHWC (BGR 0–255 like WD14) → Transpose to NCHW → stem Conv 4×4 stride 4
    /// (3 → C = <paramref name="channels"/>) → Relu → <paramref name="stages"/> stages of two Conv 3×3 + Relu (the first
    /// stage keeps the stem's resolution and C channels; each later stage starts with a stride-2 Conv that halves the
    /// resolution and doubles the channels) → GlobalAveragePool → Flatten → Gemm to <paramref name="outputs"/> → Sigmoid
    /// → <c>[N,outputs]</c>. Weights are deterministic pseudo-random (He-uniform), so the scores depend on the image but
    /// mean nothing. Cost per image: <see cref="HeavyFlops"/> — with the defaults ≈ 6.09 GFLOP (77 M in the stem,
    /// 1.85 G in the first stage, 1.39 G in each later one; cost grows with channels²), a 19 MB model, ≈ 28 ms per image
    /// on one thread of an AVX-512 EPYC (≈ 14 ms on two). A real WD14 tagger costs several times more. The largest
    /// activation is C × (size/4)² floats per image (3.2 MB with the defaults); ONNX Runtime's time per image is about
    /// the same at any batch size.
    /// </summary>
    public static byte[] Heavy(
        int channels = 64,
        int stages = 4,
        int size = 448,
        int outputs = 8,
        string inputName = "input_1",
        string outputName = "predictions_sigmoid",
        ulong seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);

        var random = new SplitMix(seed);
        var graph = new OnnxGraph("trove_heavy")
            .Input(inputName, OnnxDataType.Float, [-1, size, size, 3])
            .Output(outputName, OnnxDataType.Float, [-1, outputs])
            .Node("Transpose", [inputName], ["nchw"], OnnxAttribute.Ints("perm", NhwcToNchw));

        var previous = "nchw";
        var inChannels = 3;
        var layer = 0;
        void Conv(int outChannels, int kernel, int stride, int pad)
        {
            layer++;
            var fanIn = inChannels * kernel * kernel;
            // He-uniform; the stem also takes the 0–255 input scale out.
            var limit = (float)Math.Sqrt(6.0 / fanIn) / (layer == 1 ? 255f : 1f);
            graph.Initializer($"conv{layer}_w", [outChannels, inChannels, kernel, kernel], random.Uniform(outChannels * fanIn, limit))
                .Initializer($"conv{layer}_b", [outChannels], random.Uniform(outChannels, 0.1f))
                .Node("Conv", [previous, $"conv{layer}_w", $"conv{layer}_b"], [$"conv{layer}"],
                    OnnxAttribute.Ints("kernel_shape", [kernel, kernel]), OnnxAttribute.Ints("strides", [stride, stride]),
                    OnnxAttribute.Ints("pads", [pad, pad, pad, pad]))
                .Node("Relu", [$"conv{layer}"], [$"relu{layer}"]);
            previous = $"relu{layer}";
            inChannels = outChannels;
        }

        Conv(channels, 4, 4, 0);
        for (var stage = 0; stage < stages; stage++)
        {
            if (stage == 0)
                Conv(inChannels, 3, 1, 1);
            else
                Conv(inChannels * 2, 3, 2, 1);
            Conv(inChannels, 3, 1, 1);
        }

        graph.Node("GlobalAveragePool", [previous], ["pooled"])
            .Node("Flatten", ["pooled"], ["features"], OnnxAttribute.Int("axis", 1));
        var headLimit = (float)Math.Sqrt(6.0 / inChannels);
        graph.Initializer("head_w", [inChannels, outputs], random.Uniform(inChannels * outputs, headLimit))
            .Initializer("head_b", [outputs], random.Uniform(outputs, 0.1f))
            .Node("Gemm", ["features", "head_w", "head_b"], ["logits"])
            .Node("Sigmoid", ["logits"], [outputName]);
        return graph.ToModel();
    }

    /// <summary>
    /// Floating-point operations per image of <see cref="Heavy"/> with the same arguments (2 per multiply-add, in the
    /// convolutions, the pooling and the head; Relu, Transpose and Sigmoid are not counted).
    /// </summary>
    public static long HeavyFlops(int channels = 64, int stages = 4, int size = 448, int outputs = 8)
    {
        long side = size / 4;
        long inChannels = channels;
        var flops = 2 * side * side * channels * 3 * 16;
        for (var stage = 0; stage < stages; stage++)
        {
            var outChannels = stage == 0 ? inChannels : inChannels * 2;
            if (stage > 0)
                side = (side - 1) / 2 + 1; // 3×3, stride 2, pad 1
            flops += 2 * side * side * outChannels * inChannels * 9;
            inChannels = outChannels;
            flops += 2 * side * side * inChannels * inChannels * 9;
        }

        return flops + side * side * inChannels + 2L * inChannels * outputs;
    }

    /// <summary>
    /// A model that returns its input: input <paramref name="inputName"/> and output <paramref name="outputName"/> of
    /// <paramref name="shape"/> and <paramref name="type"/>; a dimension of -1 is dynamic (the first one is named
    /// "N", as a batch), so ONNX Runtime reports it as -1.
    /// </summary>
    public static byte[] Identity(long[] shape, string inputName = "input", string outputName = "output", OnnxDataType type = OnnxDataType.Float)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return new OnnxGraph("trove_identity")
            .Input(inputName, type, shape)
            .Output(outputName, type, shape)
            .Node("Identity", [inputName], [outputName])
            .ToModel();
    }

    /// <summary>
    /// A nearest-neighbour upscaler with the signature of a Swin2SR / Real-ESRGAN export: input
    /// <paramref name="inputName"/> <c>[N,3,H,W]</c> float (dynamic H and W; <c>[N,H,W,3]</c> when
    /// <paramref name="nhwc"/>) → Resize (mode nearest, asymmetric coordinates, floor: output pixel (x, y) is input
    /// pixel (⌊x/s⌋, ⌊y/s⌋) exactly) by <paramref name="scale"/> → plus <paramref name="offsets"/>[c] on channel c when
    /// given (in the model's own units, e.g. 0.2 for +51 levels of a 0–1 model) → <paramref name="outputName"/>
    /// <c>[N,3,sH,sW]</c>. Scale 1 with offsets makes an "identity-like" restorer.
    /// </summary>
    public static byte[] NearestUpscaler(
        int scale = 2,
        string inputName = "pixel_values",
        string outputName = "reconstruction",
        bool nhwc = false,
        float[]? offsets = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        if (offsets is not null && offsets.Length != 3)
            throw new ArgumentException("Give one offset per channel.", nameof(offsets));

        var graph = new OnnxGraph("trove_nearest_upscaler")
            .Input(inputName, OnnxDataType.Float, nhwc ? [-1, -1, -1, 3] : [-1, 3, -1, -1])
            .Output(outputName, OnnxDataType.Float, nhwc ? [-1, -1, -1, 3] : [-1, 3, -1, -1])
            .Initializer("resize_scales", [4], [1f, 1f, scale, scale]);
        var x = inputName;
        if (nhwc)
        {
            graph.Node("Transpose", [x], ["nchw"], OnnxAttribute.Ints("perm", NhwcToNchw));
            x = "nchw";
        }

        graph.Node("Resize", [x, "", "resize_scales"], ["resized"],
            OnnxAttribute.String("mode", "nearest"),
            OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"),
            OnnxAttribute.String("nearest_mode", "floor"));
        x = "resized";
        if (offsets is not null)
        {
            graph.Initializer("channel_offsets", [1, 3, 1, 1], offsets)
                .Node("Add", [x, "channel_offsets"], ["shifted"]);
            x = "shifted";
        }

        graph.Node(nhwc ? "Transpose" : "Identity", [x], [outputName], nhwc ? [OnnxAttribute.Ints("perm", NchwToNhwc)] : []);
        return graph.ToModel();
    }

    /// <summary>
    /// A small super-resolution network of realistic structure for the upscaling benchmark (ESPCN-like): input
    /// <paramref name="inputName"/> <c>[N,3,H,W]</c> float 0–1 → Conv 3×3 (3 → C) + Relu → <paramref name="layers"/> − 2
    /// × (Conv 3×3 C → C + Relu) → Conv 3×3 (C → 3·s²) → DepthToSpace(s) → plus the nearest-upscaled input (so the
    /// result looks like the image) → <c>[N,3,sH,sW]</c>. Fixed pseudo-random weights (small, so the residual
    /// dominates). Cost: <see cref="ConvUpscalerFlops"/> per input pixel (≈ 46 kFLOP with C = 32 and 4 layers).
    /// </summary>
    public static byte[] ConvUpscaler(int channels = 32, int layers = 4, int scale = 2, string inputName = "input", string outputName = "output", ulong seed = 7)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var random = new SplitMix(seed);
        var graph = new OnnxGraph("trove_conv_upscaler")
            .Input(inputName, OnnxDataType.Float, [-1, 3, -1, -1])
            .Output(outputName, OnnxDataType.Float, [-1, 3, -1, -1])
            .Initializer("resize_scales", [4], [1f, 1f, scale, scale]);
        var previous = inputName;
        var inChannels = 3;
        for (var layer = 1; layer <= layers; layer++)
        {
            var outChannels = layer == layers ? 3 * scale * scale : channels;
            var fanIn = inChannels * 9;
            var limit = (float)Math.Sqrt(6.0 / fanIn) * (layer == layers ? 0.05f : 1f);
            graph.Initializer($"sr{layer}_w", [outChannels, inChannels, 3, 3], random.Uniform(outChannels * fanIn, limit))
                .Initializer($"sr{layer}_b", [outChannels], random.Uniform(outChannels, 0.01f))
                .Node("Conv", [previous, $"sr{layer}_w", $"sr{layer}_b"], [$"sr{layer}"],
                    OnnxAttribute.Ints("kernel_shape", [3, 3]), OnnxAttribute.Ints("pads", [1, 1, 1, 1]));
            previous = $"sr{layer}";
            if (layer < layers)
            {
                graph.Node("Relu", [previous], [$"sr{layer}_relu"]);
                previous = $"sr{layer}_relu";
            }

            inChannels = outChannels;
        }

        return graph.Node("DepthToSpace", [previous], ["detail"], OnnxAttribute.Int("blocksize", scale), OnnxAttribute.String("mode", "CRD"))
            .Node("Resize", [inputName, "", "resize_scales"], ["base"],
                OnnxAttribute.String("mode", "nearest"),
                OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"),
                OnnxAttribute.String("nearest_mode", "floor"))
            .Node("Add", ["base", "detail"], [outputName])
            .ToModel();
    }

    /// <summary>Floating-point operations per input pixel of <see cref="ConvUpscaler"/> (2 per multiply-add in the convolutions).</summary>
    public static long ConvUpscalerFlops(int channels = 32, int layers = 4, int scale = 2) =>
        2L * 9 * (3L * channels + (long)channels * channels * (layers - 2) + (long)channels * 3 * scale * scale);

    /// <summary>Writes a model to <paramref name="path"/> (creating its folder) and returns the path.</summary>
    /// <summary>
    /// A CLIP-signature image encoder: <paramref name="inputName"/> <c>[N,3,size,size]</c> float (NCHW, CLIP-normalised RGB)
    /// → ReduceMean over H and W → <c>[N,3]</c> → MatMul with <c>[3,dims]</c> (the identity into the first three
    /// dimensions) → <paramref name="outputName"/> <c>[N,dims]</c>. A red image's embedding points along
    /// (+R, −G, −B): the mean of each normalised channel, so colour decides the direction.
    /// </summary>
    public static byte[] ClipImageEncoder(int size = 224, int dims = 4, string inputName = "pixel_values", string outputName = "image_embeds")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dims, 3);
        var weights = new float[3 * dims];
        for (var c = 0; c < 3; c++)
        {
            weights[(c * dims) + c] = 1;
        }

        return new OnnxGraph("trove_clip_image")
            .Input(inputName, OnnxDataType.Float, [-1, 3, size, size])
            .Output(outputName, OnnxDataType.Float, [-1, dims])
            .Initializer("projection", [3, dims], weights)
            .Node("ReduceMean", [inputName], ["mean_colour"], OnnxAttribute.Ints("axes", NchwSpatialAxes), OnnxAttribute.Int("keepdims", 0))
            .Node("MatMul", ["mean_colour", "projection"], [outputName])
            .ToModel();
    }

    /// <summary>
    /// A CLIP-signature text encoder: <paramref name="inputName"/> <c>[N,context]</c> int64 token ids (and an
    /// <c>attention_mask</c> input of the same shape when <paramref name="withMask"/>, unused) → Gather from a
    /// <c>[vocabulary,dims]</c> table → ReduceMean over the positions → <paramref name="outputName"/> <c>[N,dims]</c>.
    /// Row <c>id</c> of the table is <paramref name="rows"/>[id] when given, else zero; so a text's embedding is the
    /// mean of its tokens' rows (tests map colour words to the directions <see cref="ClipImageEncoder"/> gives).
    /// </summary>
    public static byte[] ClipTextEncoder(int vocabulary, IReadOnlyDictionary<int, float[]> rows, int dims = 4, int context = 77, bool withMask = true, string inputName = "input_ids", string outputName = "text_embeds")
    {
        ArgumentNullException.ThrowIfNull(rows);
        var table = new float[vocabulary * dims];
        foreach (var (id, row) in rows)
        {
            row.AsSpan(0, dims).CopyTo(table.AsSpan(id * dims, dims));
        }

        var graph = new OnnxGraph("trove_clip_text")
            .Input(inputName, OnnxDataType.Int64, [-1, context]);
        if (withMask)
        {
            graph.Input("attention_mask", OnnxDataType.Int64, [-1, context]);
        }

        return graph
            .Output(outputName, OnnxDataType.Float, [-1, dims])
            .Initializer("token_table", [vocabulary, dims], table)
            .Node("Gather", ["token_table", inputName], ["token_rows"], OnnxAttribute.Int("axis", 0))
            .Node("ReduceMean", ["token_rows"], [outputName], OnnxAttribute.Ints("axes", [1]), OnnxAttribute.Int("keepdims", 0))
            .ToModel();
    }

    /// <summary>The side of the squares <see cref="FaceDetector"/> finds at each of its strides (4 strides: 64 at 16, 128 at 32).</summary>
    public static int FaceSquare(int stride) => 4 * stride;

    /// <summary>
    /// Landmarks the generated detector gives, relative to the anchor centre in stride units: ArcFace's template
    /// (<c>arcface_src</c>) laid over the 4-stride box, so that the aligned crop is the box itself.
    /// </summary>
    public static readonly float[] FaceLandmarkOffsets =
        [-0.6323f, -0.1536f, 0.6261f, -0.1607f, 0.0009f, 0.5620f, -0.5161f, 1.2988f, 0.5261f, 1.2930f];

    /// <summary>
    /// An SCRFD-signature face detector that finds bright squares: input <c>input.1 [1,3,size,size]</c> float (SCRFD's
    /// (p − 127.5) / 128), nine outputs in InsightFace's order — <c>score_8/16/32 [P×2,1]</c>, <c>bbox_8/16/32 [P×2,4]</c>,
    /// <c>kps_8/16/32 [P×2,10]</c> (P positions of each stride, two anchors each). At strides 16 and 32 an anchor scores
    /// <c>sigmoid(16·(inner − 0.8)) · sigmoid(16·(−0.2 − outer))</c>, where inner is the mean of the brightest channel over
    /// the 4-stride square centred on the anchor and outer the mean over the 8-stride square: an isolated square of
    /// side 4·stride (in a darker surround) whose centre is on the stride's grid scores about 0.95 when its brightest
    /// channel is 255, 0.65 at 235 and nothing below 200; stride 8 finds nothing. Boxes are the 4-stride square, the
    /// landmarks <see cref="FaceLandmarkOffsets"/>. With <paramref name="heavyChannels"/> &gt; 0 a convolution stack of
    /// realistic cost runs beside it and is added times zero (for the benchmark).
    /// </summary>
    public static byte[] FaceDetector(int size = 640, int heavyChannels = 0, int heavyStages = 4, ulong seed = 11)
    {
        const float Gain = 16f;
        var graph = new OnnxGraph("trove_face_detector")
            .Input("input.1", OnnxDataType.Float, [1, 3, size, size])
            .Node("ReduceMax", ["input.1"], ["bright"], OnnxAttribute.Ints("axes", [1]), OnnxAttribute.Int("keepdims", 1))
            .Initializer("gain", [], [Gain])
            .Initializer("inner_t", [], [0.8f])
            .Initializer("outer_t", [], [-0.2f])
            .Initializer("zero", [], [0f])
            .Initializer("col", [2], [-1L, 1L])
            .Initializer("box_d", [1, 4], [2f, 2f, 2f, 2f])
            .Initializer("kps_d", [1, 10], FaceLandmarkOffsets);
        var extra = "zero";
        if (heavyChannels > 0)
        {
            var random = new SplitMix(seed);
            var previous = "input.1";
            var inChannels = 3;
            for (var layer = 1; layer <= heavyStages * 2; layer++)
            {
                var outChannels = heavyChannels << ((layer - 1) / 2);
                var stride = layer % 2 == 1 ? 2 : 1;
                var fanIn = inChannels * 9;
                graph.Initializer($"hconv{layer}_w", [outChannels, inChannels, 3, 3], random.Uniform(outChannels * fanIn, (float)Math.Sqrt(6.0 / fanIn)))
                    .Node("Conv", [previous, $"hconv{layer}_w"], [$"hconv{layer}"], OnnxAttribute.Ints("kernel_shape", [3, 3]), OnnxAttribute.Ints("strides", [stride, stride]), OnnxAttribute.Ints("pads", [1, 1, 1, 1]))
                    .Node("Relu", [$"hconv{layer}"], [$"hrelu{layer}"]);
                previous = $"hrelu{layer}";
                inChannels = outChannels;
            }

            graph.Node("ReduceMean", [previous], ["hmean"], OnnxAttribute.Ints("axes", [0, 1, 2, 3]), OnnxAttribute.Int("keepdims", 0))
                .Node("Mul", ["hmean", "zero"], ["hzero"]);
            extra = "hzero";
        }

        foreach (var stride in new[] { 8, 16, 32 })
        {
            var positions = (long)(size / stride) * (size / stride);
            var name = $"s{stride}";
            graph.Output($"score_{stride}", OnnxDataType.Float, [positions * 2, 1]);
            if (stride == 8)
            {
                // Nothing is found at stride 8: zero scores of the right shape.
                graph.Node("AveragePool", ["bright"], [$"{name}_pool"], OnnxAttribute.Ints("kernel_shape", [stride, stride]), OnnxAttribute.Ints("strides", [stride, stride]))
                    .Node("Mul", [$"{name}_pool", "zero"], [$"{name}_map"]);
            }
            else
            {
                var k = FaceSquare(stride);
                graph.Node("AveragePool", ["bright"], [$"{name}_inner"], OnnxAttribute.Ints("kernel_shape", [k, k]), OnnxAttribute.Ints("strides", [stride, stride]),
                        OnnxAttribute.Ints("pads", [k / 2, k / 2, (k / 2) - 1, (k / 2) - 1]))
                    .Node("AveragePool", ["bright"], [$"{name}_outer"], OnnxAttribute.Ints("kernel_shape", [2 * k, 2 * k]), OnnxAttribute.Ints("strides", [stride, stride]),
                        OnnxAttribute.Ints("pads", [k, k, k - 1, k - 1]))
                    .Node("Sub", [$"{name}_inner", "inner_t"], [$"{name}_a"])
                    .Node("Mul", [$"{name}_a", "gain"], [$"{name}_ag"])
                    .Node("Sigmoid", [$"{name}_ag"], [$"{name}_as"])
                    .Node("Sub", ["outer_t", $"{name}_outer"], [$"{name}_b"])
                    .Node("Mul", [$"{name}_b", "gain"], [$"{name}_bg"])
                    .Node("Sigmoid", [$"{name}_bg"], [$"{name}_bs"])
                    .Node("Mul", [$"{name}_as", $"{name}_bs"], [$"{name}_map0"])
                    .Node("Add", [$"{name}_map0", extra], [$"{name}_map"]);
            }

            // [1,1,H,W] → [P,1] → two anchors per position → [P×2,1].
            graph.Node("Reshape", [$"{name}_map", "col"], [$"{name}_col"])
                .Node("Concat", [$"{name}_col", $"{name}_col"], [$"{name}_pair"], OnnxAttribute.Int("axis", 1))
                .Node("Reshape", [$"{name}_pair", "col"], [$"score_{stride}"]);
        }

        foreach (var stride in new[] { 8, 16, 32 })
        {
            var positions = (long)(size / stride) * (size / stride);
            graph.Output($"bbox_{stride}", OnnxDataType.Float, [positions * 2, 4])
                .Node("Mul", [$"score_{stride}", "zero"], [$"s{stride}_z"])
                .Node("Add", [$"s{stride}_z", "box_d"], [$"bbox_{stride}"]);
        }

        foreach (var stride in new[] { 8, 16, 32 })
        {
            var positions = (long)(size / stride) * (size / stride);
            graph.Output($"kps_{stride}", OnnxDataType.Float, [positions * 2, 10])
                .Node("Add", [$"s{stride}_z", "kps_d"], [$"kps_{stride}"]);
        }

        return graph.ToModel();
    }

    /// <summary>
    /// An ArcFace-signature face embedder: input <c>input.1 [N,3,size,size]</c> float ((p − 127.5) / 127.5) → the mean
    /// colour of the crop's central half → MatMul with a fixed random <c>[3,dims]</c> projection → <c>embedding [N,dims]</c>.
    /// Faces of one colour get one direction; different colours point apart (their cosine follows the colours').
    /// </summary>
    public static byte[] FaceEmbedder(int size = 112, int dims = 512, ulong seed = 5)
    {
        var random = new SplitMix(seed);
        var projection = random.Uniform(3 * dims, 1f);
        long q = size / 4;
        return new OnnxGraph("trove_face_embedder")
            .Input("input.1", OnnxDataType.Float, [-1, 3, size, size])
            .Output("embedding", OnnxDataType.Float, [-1, dims])
            .Initializer("starts", [2], [q, q])
            .Initializer("ends", [2], [size - q, size - q])
            .Initializer("axes", [2], [2L, 3L])
            .Initializer("projection", [3, dims], projection)
            .Node("Slice", ["input.1", "starts", "ends", "axes"], ["centre"])
            .Node("ReduceMean", ["centre"], ["colour"], OnnxAttribute.Ints("axes", NchwSpatialAxes), OnnxAttribute.Int("keepdims", 0))
            .Node("MatMul", ["colour", "projection"], ["embedding"])
            .ToModel();
    }

    /// <summary>
    /// A face detector in YuNet's (<c>"yunet"</c>) or RetinaFace's (<c>"retinaface"</c>) output layout that always finds
    /// one face: the <paramref name="side"/>-pixel square centred at (<paramref name="cx"/>, <paramref name="cy"/>) of a
    /// 640² input, with <see cref="FaceLandmarkOffsets"/> as landmarks (stride-32 units) and score 0.95, encoded the way
    /// each layout's reference decoder reads it (YuNet: cls/obj/bbox/kps per stride 8/16/32; RetinaFace: loc/conf/landms
    /// over the default prior boxes). The input is read (and multiplied by zero) so the graph is a real function of it.
    /// </summary>
    public static byte[] ConstantFaceDetector(string layout, double cx = 160, double cy = 160, double side = 128, int size = 640)
    {
        var graph = new OnnxGraph("trove_constant_face_detector")
            .Input("input", OnnxDataType.Float, [1, 3, size, size])
            .Initializer("zero", [], [0f])
            .Node("ReduceMean", ["input"], ["mean"], OnnxAttribute.Int("keepdims", 0))
            .Node("Mul", ["mean", "zero"], ["nothing"]);
        var lx = new double[5];
        var ly = new double[5];
        for (var p = 0; p < 5; p++)
        {
            lx[p] = cx + (FaceLandmarkOffsets[2 * p] * side / 4);
            ly[p] = cy + (FaceLandmarkOffsets[(2 * p) + 1] * side / 4);
        }

        void Constant(string name, long[] shape, float[] values) =>
            graph.Output(name, OnnxDataType.Float, shape)
                .Initializer(name + "_values", shape, values)
                .Node("Add", [name + "_values", "nothing"], [name]);

        if (layout == "yunet")
        {
            var names = new[] { "cls", "obj", "bbox", "kps" };
            var widths = new[] { 1, 1, 4, 10 };
            foreach (var (part, k) in names.Select((n, k) => (n, k)))
            {
                foreach (var stride in new[] { 8, 16, 32 })
                {
                    var cols = size / stride;
                    var cells = cols * (size / stride);
                    var values = new float[cells * widths[k]];
                    if (stride == 32)
                    {
                        var (c, r) = ((int)(cx / stride), (int)(cy / stride));
                        var i = (r * cols) + c;
                        switch (part)
                        {
                            case "cls" or "obj": values[i] = 0.95f; break;
                            case "bbox":
                                values[(i * 4) + 0] = (float)((cx / stride) - c);
                                values[(i * 4) + 1] = (float)((cy / stride) - r);
                                values[(i * 4) + 2] = (float)Math.Log(side / stride);
                                values[(i * 4) + 3] = (float)Math.Log(side / stride);
                                break;
                            default:
                                for (var p = 0; p < 5; p++)
                                {
                                    values[(i * 10) + (2 * p)] = (float)((lx[p] / stride) - c);
                                    values[(i * 10) + (2 * p) + 1] = (float)((ly[p] / stride) - r);
                                }

                                break;
                        }
                    }

                    Constant($"{part}_{stride}", [1, cells, widths[k]], values);
                }
            }

            return graph.ToModel();
        }

        // RetinaFace: priors row by row per step, two sizes per cell (16/32, 64/128, 256/512); the face on the stride-32
        // prior of size 256 whose centre is nearest.
        var priors = new List<(double X, double Y, double S)>();
        foreach (var (step, sizes) in new[] { (8, new[] { 16, 32 }), (16, new[] { 64, 128 }), (32, new[] { 256, 512 }) })
        {
            for (var i = 0; i < size / step; i++)
            {
                for (var j = 0; j < size / step; j++)
                {
                    foreach (var m in sizes)
                    {
                        priors.Add(((j + 0.5) * step, (i + 0.5) * step, m));
                    }
                }
            }
        }

        var n = priors.Count;
        var best = priors.Select((p, i) => (p, i)).Where(x => x.p.S == 256).OrderBy(x => Math.Abs(x.p.X - cx) + Math.Abs(x.p.Y - cy)).First();
        var (pr, at) = (best.p, best.i);
        var loc = new float[n * 4];
        var conf = new float[n * 2];
        var landms = new float[n * 10];
        for (var i = 0; i < n; i++)
        {
            conf[i * 2] = 1f;
        }

        conf[at * 2] = 0.05f;
        conf[(at * 2) + 1] = 0.95f;
        loc[at * 4] = (float)((cx - pr.X) / (0.1 * pr.S));
        loc[(at * 4) + 1] = (float)((cy - pr.Y) / (0.1 * pr.S));
        loc[(at * 4) + 2] = (float)(Math.Log(side / pr.S) / 0.2);
        loc[(at * 4) + 3] = (float)(Math.Log(side / pr.S) / 0.2);
        for (var p = 0; p < 5; p++)
        {
            landms[(at * 10) + (2 * p)] = (float)((lx[p] - pr.X) / (0.1 * pr.S));
            landms[(at * 10) + (2 * p) + 1] = (float)((ly[p] - pr.Y) / (0.1 * pr.S));
        }

        Constant("loc", [1, n, 4], loc);
        Constant("conf", [1, n, 2], conf);
        Constant("landms", [1, n, 10], landms);
        return graph.ToModel();
    }

    public static string Write(string path, byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
        File.WriteAllBytes(path, model);
        return path;
    }

    /// <summary>
    /// A WD14-style selected_tags.csv for <paramref name="labels"/> (header <c>tag_id,name,category,count</c>, CRLF
    /// line ends like the real files); categories default to 0 (general); WD14 uses 9 for ratings and 4 for characters.
    /// </summary>
    public static string SelectedTagsCsv(string[] labels, int[]? categories = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (categories is not null && categories.Length != labels.Length)
            throw new ArgumentException($"{labels.Length} labels but {categories.Length} categories.", nameof(categories));
        var csv = new StringBuilder("tag_id,name,category,count\r\n");
        for (var i = 0; i < labels.Length; i++)
        {
            var name = labels[i].Contains(',', StringComparison.Ordinal) || labels[i].Contains('"', StringComparison.Ordinal)
                ? "\"" + labels[i].Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
                : labels[i];
            csv.Append(CultureInfo.InvariantCulture, $"{100000 + i},{name},{categories?[i] ?? 0},{1000 * (labels.Length - i)}\r\n");
        }

        return csv.ToString();
    }

    /// <summary>
    /// A batch of solid-colour images as a tagger input: <paramref name="colours"/> as (r, g, b) 0–255, laid out like
    /// <see cref="Tagger"/>'s defaults (NHWC, BGR, 0–255) unless told otherwise. Returns the data and its shape.
    /// </summary>
    public static (float[] Data, long[] Shape) SolidColours(
        (byte R, byte G, byte B)[] colours, int size = 448, bool nchw = false, bool bgr = true, float scale = 255f)
    {
        ArgumentNullException.ThrowIfNull(colours);
        var plane = size * size;
        var data = new float[colours.Length * plane * 3];
        for (var n = 0; n < colours.Length; n++)
        {
            var (r, g, b) = colours[n];
            float[] rgb = [r * scale / 255f, g * scale / 255f, b * scale / 255f];
            var image = data.AsSpan(n * plane * 3, plane * 3);
            for (var c = 0; c < 3; c++)
            {
                var value = rgb[bgr ? 2 - c : c];
                if (nchw)
                {
                    image.Slice(c * plane, plane).Fill(value);
                }
                else
                {
                    for (var p = 0; p < plane; p++)
                        image[p * 3 + c] = value;
                }
            }
        }

        return (data, nchw ? [colours.Length, 3, size, size] : [colours.Length, size, size, 3]);
    }

    /// <summary>Deterministic pseudo-random numbers (SplitMix64), the same on every platform and run.</summary>
    private sealed class SplitMix(ulong seed)
    {
        private ulong _state = seed;

        public float[] Uniform(int count, float limit)
        {
            var values = new float[count];
            for (var i = 0; i < count; i++)
            {
                _state += 0x9E3779B97F4A7C15UL;
                var z = _state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                var unit = (z >> 40) / (double)(1UL << 24); // [0, 1)
                values[i] = (float)((unit * 2 - 1) * limit);
            }

            return values;
        }
    }
}

/// <summary>
/// When a <see cref="OnnxModels.Tagger"/> label scores high: score = sigmoid(Sharpness × (WeightRed·r + WeightGreen·g +
/// WeightBlue·b − Threshold)) where r, g, b are the image's mean red, green and blue in 0–1. The score is 0.5 on the
/// threshold and saturates (&lt; 0.02 or &gt; 0.98) within 0.13 of it at the default sharpness.
/// </summary>
public readonly record struct ColourRule(float WeightRed, float WeightGreen, float WeightBlue, float Threshold, float Sharpness = 30f)
{
    /// <summary>High when red dominates: r − g − b &gt; 0.5 (pure red ≈ 1.0, everything else ≈ 0).</summary>
    public static ColourRule Red => new(1, -1, -1, 0.5f);

    /// <summary>High when green dominates: g − r − b &gt; 0.5.</summary>
    public static ColourRule Green => new(-1, 1, -1, 0.5f);

    /// <summary>High when blue dominates: b − r − g &gt; 0.5.</summary>
    public static ColourRule Blue => new(-1, -1, 1, 0.5f);

    /// <summary>High for light images: mean brightness (r + g + b) / 3 &gt; 0.8 (white ≈ 1.0, pure red ≈ 0).</summary>
    public static ColourRule Bright => new(1f / 3, 1f / 3, 1f / 3, 0.8f);

    /// <summary>High for dark images: mean brightness &lt; 0.2 (black ≈ 1.0).</summary>
    public static ColourRule Dark => new(-1f / 3, -1f / 3, -1f / 3, -0.2f);

    /// <summary>The same score for every image: exactly <paramref name="probability"/> (for threshold tests).</summary>
    public static ColourRule Constant(float probability)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(probability, 0f);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(probability, 1f);
        return new(0, 0, 0, -(float)Math.Log(probability / (1.0 - probability)), 1f);
    }

    /// <summary>The score the tagger gives an image of mean colour (r, g, b), each 0–1; what tests compare against.</summary>
    public float Score(float r, float g, float b) =>
        (float)(1.0 / (1.0 + Math.Exp(-Sharpness * (WeightRed * r + WeightGreen * g + WeightBlue * b - Threshold))));
}

/// <summary>ONNX tensor element types (TensorProto.DataType in onnx.proto).</summary>
public enum OnnxDataType
{
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
}

/// <summary>A node attribute (AttributeProto): one int, float, list of ints or list of floats, with its type set.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, int type, long i = 0, float f = 0, long[]? ints = null, float[]? floats = null, string? s = null)
    {
        Name = name;
        Type = type;
        IntValue = i;
        FloatValue = f;
        IntValues = ints ?? [];
        FloatValues = floats ?? [];
        StringValue = s;
    }

    public string Name { get; }

    /// <summary>AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7.</summary>
    public int Type { get; }

    public long IntValue { get; }

    public float FloatValue { get; }

    public IReadOnlyList<long> IntValues { get; }

    public IReadOnlyList<float> FloatValues { get; }

    public string? StringValue { get; }

    public static OnnxAttribute Float(string name, float value) => new(name, 1, f: value);

    public static OnnxAttribute Int(string name, long value) => new(name, 2, i: value);

    public static OnnxAttribute String(string name, string value) => new(name, 3, s: value);

    public static OnnxAttribute Floats(string name, float[] values) => new(name, 6, floats: [.. values]);

    public static OnnxAttribute Ints(string name, long[] values) => new(name, 7, ints: [.. values]);

    internal void WriteTo(ProtoWriter w)
    {
        // AttributeProto: name = 1, f = 2, i = 3, s = 4, floats = 7, ints = 8, type = 20.
        w.String(1, Name);
        switch (Type)
        {
            case 1:
                w.Float(2, FloatValue);
                break;
            case 2:
                w.Varint(3, IntValue);
                break;
            case 3:
                w.String(4, StringValue ?? "");
                break;
            case 6:
                foreach (var value in FloatValues)
                    w.Float(7, value); // proto2 "repeated float" without [packed]: one field per element
                break;
            case 7:
                foreach (var value in IntValues)
                    w.Varint(8, value);
                break;
        }

        w.Varint(20, Type);
    }
}

/// <summary>
/// A graph under construction, serialised to an ONNX ModelProto by <see cref="ToModel"/>. Inputs and outputs are
/// tensors whose dimensions of -1 become symbolic (the first "N", the rest "D1", "D2", ...). Used by
/// <see cref="OnnxModels"/>; tests may build other shapes of model with it.
/// </summary>
public sealed class OnnxGraph(string name)
{
    private readonly List<(string Name, OnnxDataType Type, long[] Shape)> _inputs = [];
    private readonly List<(string Name, OnnxDataType Type, long[] Shape)> _outputs = [];
    private readonly List<(string Name, long[] Dims, float[]? Floats, long[]? Longs)> _initializers = [];
    private readonly List<(string OpType, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes)> _nodes = [];
    private readonly List<(string Key, string Value)> _metadata = [];

    public OnnxGraph Input(string name, OnnxDataType type, long[] shape)
    {
        _inputs.Add((name, type, [.. shape]));
        return this;
    }

    public OnnxGraph Output(string name, OnnxDataType type, long[] shape)
    {
        _outputs.Add((name, type, [.. shape]));
        return this;
    }

    /// <summary>A float constant (stored as raw little-endian data).</summary>
    public OnnxGraph Initializer(string name, long[] dims, float[] values)
    {
        CheckCount(name, dims, values.Length);
        _initializers.Add((name, [.. dims], [.. values], null));
        return this;
    }

    /// <summary>An int64 constant (e.g. a Reshape target shape; stored in int64_data).</summary>
    public OnnxGraph Initializer(string name, long[] dims, long[] values)
    {
        CheckCount(name, dims, values.Length);
        _initializers.Add((name, [.. dims], null, [.. values]));
        return this;
    }

    public OnnxGraph Node(string opType, string[] inputs, string[] outputs, params OnnxAttribute[] attributes)
    {
        _nodes.Add((opType, [.. inputs], [.. outputs], [.. attributes]));
        return this;
    }

    /// <summary>A ModelProto.metadata_props entry.</summary>
    public OnnxGraph Metadata(string key, string value)
    {
        _metadata.Add((key, value));
        return this;
    }

    /// <summary>The serialised ModelProto: ir_version 8, opset_import {"" , <paramref name="opset"/>}, producer "trove-tests".</summary>
    public byte[] ToModel(int opset = OnnxModels.Opset)
    {
        // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8, metadata_props = 14.
        var model = new ProtoWriter();
        model.Varint(1, 8);
        model.String(2, "trove-tests");
        model.String(3, "1");
        model.Message(7, WriteGraph);
        model.Message(8, w =>
        {
            // OperatorSetIdProto: domain = 1, version = 2.
            w.String(1, "");
            w.Varint(2, opset);
        });
        foreach (var (key, value) in _metadata)
        {
            model.Message(14, w =>
            {
                // StringStringEntryProto: key = 1, value = 2.
                w.String(1, key);
                w.String(2, value);
            });
        }

        return model.ToArray();
    }

    private void WriteGraph(ProtoWriter w)
    {
        // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
        foreach (var (opType, inputs, outputs, attributes) in _nodes)
        {
            w.Message(1, n =>
            {
                // NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
                foreach (var input in inputs)
                    n.String(1, input);
                foreach (var output in outputs)
                    n.String(2, output);
                n.String(3, outputs[0] + "_node");
                n.String(4, opType);
                foreach (var attribute in attributes)
                    n.Message(5, attribute.WriteTo);
            });
        }

        w.String(2, name);
        foreach (var (tensorName, dims, floats, longs) in _initializers)
        {
            w.Message(5, t =>
            {
                // TensorProto: dims = 1, data_type = 2, int64_data = 7 (packed), name = 8, raw_data = 9.
                foreach (var dim in dims)
                    t.Varint(1, dim);
                t.Varint(2, floats is not null ? (int)OnnxDataType.Float : (int)OnnxDataType.Int64);
                if (longs is not null)
                    t.PackedVarints(7, longs);
                t.String(8, tensorName);
                if (floats is not null)
                    t.RawFloats(9, floats);
            });
        }

        foreach (var input in _inputs)
            w.Message(11, v => WriteValueInfo(v, input.Name, input.Type, input.Shape));
        foreach (var output in _outputs)
            w.Message(12, v => WriteValueInfo(v, output.Name, output.Type, output.Shape));
    }

    private static void WriteValueInfo(ProtoWriter w, string name, OnnxDataType type, long[] shape)
    {
        // ValueInfoProto: name = 1, type = 2. TypeProto: tensor_type = 1. TypeProto.Tensor: elem_type = 1, shape = 2.
        // TensorShapeProto: dim = 1. Dimension: dim_value = 1, dim_param = 2.
        w.String(1, name);
        w.Message(2, typeProto => typeProto.Message(1, tensor =>
        {
            tensor.Varint(1, (int)type);
            tensor.Message(2, shapeProto =>
            {
                var symbolic = 0;
                foreach (var dim in shape)
                {
                    shapeProto.Message(1, d =>
                    {
                        if (dim >= 0)
                            d.Varint(1, dim);
                        else
                            d.String(2, symbolic == 0 ? OnnxModels.BatchDim : "D" + symbolic.ToString(CultureInfo.InvariantCulture));
                        if (dim < 0)
                            symbolic++;
                    });
                }
            });
        }));
    }

    private static void CheckCount(string name, long[] dims, int count)
    {
        long expected = 1;
        foreach (var dim in dims)
            expected *= dim;
        if (expected != count)
            throw new ArgumentException($"Initializer {name}: dims [{string.Join(',', dims)}] hold {expected} values, not {count}.", nameof(dims));
    }
}

/// <summary>A minimal protobuf encoder: varints, 32-bit floats, length-delimited strings, bytes and nested messages.</summary>
internal sealed class ProtoWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    /// <summary>Wire type 0 (int32, int64 and enum fields; negative values take ten bytes, as protobuf requires).</summary>
    public void Varint(int field, long value)
    {
        Tag(field, 0);
        RawVarint((ulong)value);
    }

    /// <summary>Wire type 5.</summary>
    public void Float(int field, float value)
    {
        Tag(field, 5);
        BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);
    }

    /// <summary>Wire type 2, UTF-8.</summary>
    public void String(int field, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Tag(field, 2);
        RawVarint((ulong)bytes.Length);
        bytes.CopyTo(Reserve(bytes.Length));
    }

    /// <summary>A bytes field holding the floats as fixed-width little-endian IEEE 754 (TensorProto.raw_data).</summary>
    public void RawFloats(int field, float[] values)
    {
        Tag(field, 2);
        RawVarint((ulong)values.Length * 4);
        var span = Reserve(values.Length * 4);
        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], values[i]);
    }

    /// <summary>A packed repeated varint field ([packed = true] int64).</summary>
    public void PackedVarints(int field, long[] values)
    {
        var inner = new ProtoWriter();
        foreach (var value in values)
            inner.RawVarint((ulong)value);
        Tag(field, 2);
        RawVarint((ulong)inner._length);
        inner._buffer.AsSpan(0, inner._length).CopyTo(Reserve(inner._length));
    }

    /// <summary>A nested message (wire type 2), written by <paramref name="write"/>.</summary>
    public void Message(int field, Action<ProtoWriter> write)
    {
        var inner = new ProtoWriter();
        write(inner);
        Tag(field, 2);
        RawVarint((ulong)inner._length);
        inner._buffer.AsSpan(0, inner._length).CopyTo(Reserve(inner._length));
    }

    private void Tag(int field, int wireType) => RawVarint(((ulong)field << 3) | (uint)wireType);

    private void RawVarint(ulong value)
    {
        while (value >= 0x80)
        {
            Reserve(1)[0] = (byte)(value | 0x80);
            value >>= 7;
        }

        Reserve(1)[0] = (byte)value;
    }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
