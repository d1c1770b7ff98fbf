using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using Trove.Application.Inference;
using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Application.Restoration;

/// <summary>
/// One axis of a tile: its core <c>[Start, End)</c> (the pixels it owns), the context window fed to the model
/// <c>[From, From + Length)</c> = core ± overlap (may reach outside the image: those pixels are reflected), and
/// <see cref="Padded"/>, the window's side rounded up to the model's pad multiple (the extra is reflected too).
/// </summary>
public readonly record struct TileSpan(int Start, int End, int From, int Length, int Padded);

/// <summary>
/// How <see cref="TiledUpscaler"/> cuts an image and what it allocates. Tiles are as even as possible along each axis
/// (cores differ by at most one pixel), each at most <see cref="UpscalerParameters.TileSize"/> with its context.
/// </summary>
/// <param name="Columns">The tiles along x.</param>
/// <param name="Rows">The tiles along y (processed top to bottom).</param>
public sealed record UpscalePlan(int Width, int Height, int Scale, int Overlap, IReadOnlyList<TileSpan> Columns, IReadOnlyList<TileSpan> Rows)
{
    public int OutputWidth => Width * Scale;

    public int OutputHeight => Height * Scale;

    public int Tiles => Columns.Count * Rows.Count;

    /// <summary>Output rows the float accumulator holds: the tallest tile row's window, in output pixels, clipped to the image.</summary>
    public int BandRows => Rows.Max(r => Math.Min(Height, r.From + r.Length) - Math.Max(0, r.From)) * Scale;

    /// <summary>Floats in the weighted-sum accumulator: 3 × output width × <see cref="BandRows"/> — never the whole output.</summary>
    public long AccumulatorFloats => 3L * OutputWidth * BandRows;

    /// <summary>Floats in the largest tile tensor fed to the model (3 × padded side²).</summary>
    public long TileInputFloats => 3L * Columns.Max(c => c.Padded) * Rows.Max(r => r.Padded);

    /// <summary>Floats in the largest tile the model returns (scale² × <see cref="TileInputFloats"/>).</summary>
    public long TileOutputFloats => TileInputFloats * Scale * Scale;

    /// <summary>
    /// The largest float buffer an upscale allocates (besides the per-axis weight sums of output width + height floats):
    /// the accumulator or the model's output tile, whichever is bigger. Proportional to tile size × width.
    /// </summary>
    public long PeakFloatBuffer => Math.Max(AccumulatorFloats, TileOutputFloats);

    /// <summary>
    /// 4-byte values in the per-column tables and the row converted to bytes: each column's source offsets (its padded
    /// width) and output weights (its window in output pixels, clipped to the image), plus 3 × output width.
    /// </summary>
    public long TableValues => 3L * OutputWidth + Columns.Sum(c => (long)c.Padded + (Math.Min(Width, c.From + c.Length) - Math.Max(0, c.From)) * Scale);

    /// <summary>
    /// Bytes held at the peak, besides the input image and the model's own working memory: the result
    /// (scale² × width × height × bands), the accumulator, the weight sums, one input and one output tile (both reused
    /// by every tile), and the <see cref="TableValues"/>.
    /// </summary>
    public long PeakBytes(int bands) =>
        (long)OutputWidth * OutputHeight * bands + 4 * (AccumulatorFloats + OutputWidth + OutputHeight + TileInputFloats + TileOutputFloats + TableValues);
}

/// <summary>
/// Local image-to-image inference (upscalers and restorers) over tiles, so any image fits a model trained on small
/// crops and memory stays bounded. Each tile's window is its core plus <see cref="UpscalerParameters.TileOverlap"/>
/// pixels of context on each side (reflect-padded at the image borders, so edge tiles see real-looking context, and
/// up to the model's pad multiple); one tile per <see cref="IInferenceSession.RunInto"/> (the same input and output
/// buffers for every tile). Neighbouring windows share
/// 2 × overlap pixels; their outputs are blended with linear feathering: a tile's weight is 0 over the outer half of
/// the overlap (pixels that saw the window's edge), then ramps linearly to 1 over the next overlap pixels, so the
/// weights of neighbours sum to one across the seam. A model whose receptive-field radius is at most overlap / 2
/// gives exactly what one run over the whole image would (away from the image border); larger ones (Swin2SR's
/// attention) blend smoothly.
/// <para>
/// Memory: weighted sums accumulate in a float band of output width × the tallest tile row (in output pixels); rows
/// no later tile touches are normalised, converted to bytes and dropped from the band before the next tile row, so
/// the peak is <see cref="UpscalePlan.PeakBytes"/>: result bytes (s²·W·H·bands) + 4 B × (3·sW·s·T + sW + sH + 3·P²
/// + 3·(sP)² + ≈ 5·sW of tables) where s = scale, T = tileSize (the window side), P = T rounded up to pad — about 49 MB of floats for a
/// 4000-wide image at 2× with 256 tiles, whatever the height. A 24 MP photo never needs a 24 MP × s² float tensor.
/// </para>
/// <para>
/// Bands: gray images go through the model as R = G = B and come back as the mean of the three; alpha is not given
/// to the model but resized bilinearly (the model only sees colour).
/// </para>
/// </summary>
public static class TiledUpscaler
{
    public const string ProgressPhase = "Upscaling";

    /// <summary>Cuts a width × height image for <paramref name="p"/>.</summary>
    public static UpscalePlan Plan(int width, int height, UpscalerParameters p)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        return new UpscalePlan(width, height, p.Scale, p.TileOverlap, Spans(width, p), Spans(height, p));
    }

    /// <summary>
    /// Upscales <paramref name="input"/> (1, 3 or 4 bands) by <see cref="UpscalerParameters.Scale"/> with the model
    /// in <paramref name="session"/>: its first input takes the tile, its first output is the result. Progress is
    /// reported after every tile (<see cref="ProgressPhase"/>, tiles done, tiles in all); cancellation is checked
    /// between tiles and stops a running inference (OperationCanceledException).
    /// </summary>
    /// <exception cref="TroveException">image-too-large (over maxInputPixels), model-input-mismatch (the model's input
    /// is not an image in the declared layout), model-output-mismatch (its output is not scale × the tile).</exception>
    public static Task<RgbPixels> UpscaleAsync(IInferenceSession session, RgbPixels input, UpscalerParameters p, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(p);
        if (input.Bands is not (1 or 3 or 4))
        {
            throw new ArgumentException($"Images have 1, 3 or 4 bands, not {input.Bands}.", nameof(input));
        }

        if ((long)input.Width * input.Height * input.Bands != input.Data.Length)
        {
            throw new ArgumentException($"{input.Width}×{input.Height}×{input.Bands} pixels need {(long)input.Width * input.Height * input.Bands} bytes, not {input.Data.Length}.", nameof(input));
        }

        var pixels = (long)input.Width * input.Height;
        if (pixels > p.MaxInputPixels)
        {
            throw new TroveException(
                "image-too-large",
                $"The image is {input.Width}×{input.Height} ({Megapixels(pixels)} MP); this model takes at most {p.MaxInputPixels.ToString("N0", CultureInfo.InvariantCulture)} pixels ({Megapixels(p.MaxInputPixels)} MP).",
                "Raise the model's parameters.maxInputPixels in models.json, or crop the image first.");
        }

        var inputName = CheckInput(session.Signature, p);
        return Task.Run(() => new Run(session, inputName, input, p, Plan(input.Width, input.Height, p), progress, ct).Execute(), ct);
    }

    private static string Megapixels(long pixels) => (pixels / 1e6).ToString("0.#", CultureInfo.InvariantCulture);

    private static string CheckInput(ModelSignature signature, UpscalerParameters p)
    {
        var expected = p.Layout == TensorLayout.Nchw ? "[N,3,H,W]" : "[N,H,W,3]";
        var input = signature.Inputs.Count > 0 ? signature.Inputs[0] : null;
        var channels = input is { Rank: 4 } ? input.Shape[p.Layout == TensorLayout.Nchw ? 1 : 3] : 0;
        if (input is null || input.ElementType != TensorElementType.Float32 || input.Rank != 4 || channels is not (3 or -1))
        {
            var found = input is null ? "no input" : $"{input.Name} {input.ElementType} {Shape(input.Shape)}";
            throw new TroveException(
                "model-input-mismatch",
                $"The model's input is {found}; an upscaler takes one float32 image {expected} ({p.Layout.ToString().ToLowerInvariant()}).",
                "Check the model's parameters.layout in models.json, or export the model with a float32 image input.");
        }

        return input.Name;
    }

    private static string Shape(IReadOnlyList<long> shape) => "[" + string.Join(',', shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static TileSpan[] Spans(int size, UpscalerParameters p)
    {
        var overlap = p.TileOverlap;
        var core = p.TileSize - 2 * overlap;
        var count = (size + core - 1) / core;
        var spans = new TileSpan[count];
        for (var i = 0; i < count; i++)
        {
            var start = (int)((long)i * size / count);
            var end = (int)((long)(i + 1) * size / count);
            var length = end - start + 2 * overlap;
            spans[i] = new TileSpan(start, end, start - overlap, length, (length + p.Pad - 1) / p.Pad * p.Pad);
        }

        return spans;
    }

    /// <summary>Mirrors an index into [0, size) without repeating the edge pixel (…2 1 | 0 1 2 … n-1 | n-2 …).</summary>
    private static int Reflect(int i, int size)
    {
        if (size == 1)
        {
            return 0;
        }

        var period = 2 * (size - 1);
        i %= period;
        if (i < 0)
        {
            i += period;
        }

        return i < size ? i : period - i;
    }

    /// <summary>
    /// A tile's feathering weight at output offset <paramref name="u"/> of its window (<paramref name="length"/> output
    /// pixels): 0 over the outer half of the overlap (where the model saw the window's edge), then a linear ramp over
    /// <paramref name="ramp"/> = overlap × scale to 1. Two neighbours' weights sum to one across their shared zone.
    /// </summary>
    private static float Weight(int u, int length, int ramp)
    {
        if (ramp == 0)
        {
            return 1f;
        }

        var w = (Math.Min(u + 0.5f, length - u - 0.5f) - ramp * 0.5f) / ramp;
        return w <= 0f ? 0f : w < 1f ? w : 1f;
    }

    /// <summary>
    /// One upscale's state: the band, the weight sums, and buffers allocated once and reused by every tile (the input
    /// tensor, the model's output via <see cref="IInferenceSession.RunInto"/>, the per-column source offsets and
    /// feathering weights, the converted row). The band holds each output row as three planes (R, G, B), so blending
    /// and conversion run over contiguous floats with <see cref="Vector{T}"/>.
    /// </summary>
    private sealed class Run
    {
        private readonly IInferenceSession _session;
        private readonly string _inputName;
        private readonly RgbPixels _input;
        private readonly UpscalerParameters _p;
        private readonly UpscalePlan _plan;
        private readonly IProgress<ProgressInfo>? _progress;
        private readonly CancellationToken _ct;
        private readonly int _scale;
        private readonly int _outWidth;
        private readonly int _ramp;
        private readonly float[] _toModel = new float[256];
        private readonly float[] _columnWeights;
        private readonly float[] _rowWeights;
        private readonly float[] _band;
        private readonly float[] _tile;
        private readonly float[] _tileOut;
        private readonly int[][] _sourceOffsets;
        private readonly float[][] _blendWeights;
        private readonly int[] _converted;
        private readonly byte[] _output;
        private readonly int _outBands;
        private int _bandStart;
        private int _flushed;

        public Run(IInferenceSession session, string inputName, RgbPixels input, UpscalerParameters p, UpscalePlan plan, IProgress<ProgressInfo>? progress, CancellationToken ct)
        {
            _session = session;
            _inputName = inputName;
            _input = input;
            _p = p;
            _plan = plan;
            _progress = progress;
            _ct = ct;
            _scale = p.Scale;
            _outWidth = plan.OutputWidth;
            _ramp = p.TileOverlap * p.Scale;
            for (var v = 0; v < 256; v++)
            {
                _toModel[v] = p.Range switch
                {
                    PixelRange.ZeroToOne => v / 255f,
                    PixelRange.ZeroTo255 => v,
                    _ => v / 127.5f - 1f,
                };
            }

            _columnWeights = WeightSums(plan.Columns, plan.OutputWidth);
            _rowWeights = WeightSums(plan.Rows, plan.OutputHeight);
            _band = new float[plan.AccumulatorFloats];
            _tile = new float[plan.TileInputFloats];
            _tileOut = new float[plan.TileOutputFloats];
            _outBands = input.Bands;
            _output = new byte[(long)plan.OutputWidth * plan.OutputHeight * _outBands];
            _converted = new int[3 * _outWidth];

            // Per column: where each window pixel comes from in a source row (reflected), and the output weights.
            _sourceOffsets = new int[plan.Columns.Count][];
            _blendWeights = new float[plan.Columns.Count][];
            for (var c = 0; c < plan.Columns.Count; c++)
            {
                var column = plan.Columns[c];
                var offsets = _sourceOffsets[c] = new int[column.Padded];
                for (var x = 0; x < offsets.Length; x++)
                {
                    offsets[x] = Reflect(column.From + x, input.Width) * input.Bands;
                }

                var x0 = column.From * _scale;
                var firstX = Math.Max(0, x0);
                var lastX = Math.Min(_outWidth, (column.From + column.Length) * _scale);
                var weights = _blendWeights[c] = new float[lastX - firstX];
                for (var x = firstX; x < lastX; x++)
                {
                    weights[x - firstX] = Weight(x - x0, column.Length * _scale, _ramp);
                }
            }
        }

        public RgbPixels Execute()
        {
            var done = 0;
            foreach (var row in _plan.Rows)
            {
                _ct.ThrowIfCancellationRequested();
                MoveBand(Math.Max(0, row.From) * _scale);
                for (var c = 0; c < _plan.Columns.Count; c++)
                {
                    _ct.ThrowIfCancellationRequested();
                    Tile(c, row);
                    done++;
                    _progress?.Report(new ProgressInfo(ProgressPhase, done, _plan.Tiles));
                }
            }

            Flush(_plan.OutputHeight);
            return new RgbPixels(_plan.OutputWidth, _plan.OutputHeight, _outBands, _output);
        }

        private float[] WeightSums(IReadOnlyList<TileSpan> spans, int outSize)
        {
            var sums = new float[outSize];
            foreach (var span in spans)
            {
                var length = span.Length * _scale;
                var first = Math.Max(0, span.From * _scale);
                var last = Math.Min(outSize, (span.From + span.Length) * _scale);
                for (var o = first; o < last; o++)
                {
                    sums[o] += Weight(o - span.From * _scale, length, _ramp);
                }
            }

            return sums;
        }

        /// <summary>Flushes the rows above <paramref name="start"/> (no later tile touches them) and moves the band to begin there.</summary>
        private void MoveBand(int start)
        {
            Flush(start);
            var rowFloats = 3 * _outWidth;
            var keep = Math.Max(0, Math.Min(_band.Length / rowFloats, _bandStart + _band.Length / rowFloats - start));
            var shift = start - _bandStart;
            if (shift > 0 && keep > 0)
            {
                _band.AsSpan(shift * rowFloats, keep * rowFloats).CopyTo(_band);
                _band.AsSpan(keep * rowFloats).Clear();
            }
            else if (shift > 0)
            {
                _band.AsSpan().Clear();
            }

            _bandStart = start;
        }

        private void Tile(int columnIndex, TileSpan row)
        {
            var column = _plan.Columns[columnIndex];
            var pw = column.Padded;
            var ph = row.Padded;
            var plane = pw * ph;
            var nchw = _p.Layout == TensorLayout.Nchw;
            Fill(_tile.AsSpan(0, 3 * plane), _sourceOffsets[columnIndex], row, pw, ph, nchw);

            long[] shape = nchw ? [1, 3, ph, pw] : [1, ph, pw, 3];
            var output = _session.RunInto([new InputTensor(_inputName, _tile.AsMemory(0, 3 * plane), shape)], _tileOut, _ct)
                ?? throw new TroveException("model-output-mismatch", "The model returned no output.");
            var s = _scale;
            long[] expected = nchw ? [1, 3, ph * s, pw * s] : [1, ph * s, pw * s, 3];
            if (!output.Shape.SequenceEqual(expected) || output.Length != 3L * plane * s * s || !output.Written)
            {
                throw new TroveException(
                    "model-output-mismatch",
                    $"The model turned a tile {Shape(shape)} into {Shape(output.Shape)}; a {s}× model in {_p.Layout.ToString().ToLowerInvariant()} gives {Shape(expected)}.",
                    "Check the model's parameters.scale and parameters.layout in models.json.");
            }

            Accumulate(_tileOut, _blendWeights[columnIndex], column, row, pw * s, ph * s);
        }

        /// <summary>Writes the tile's window (reflected at the image borders) into the model's input tensor.</summary>
        private void Fill(Span<float> data, int[] offsets, TileSpan row, int pw, int ph, bool nchw)
        {
            var src = _input.Data;
            var bands = _input.Bands;
            var lineBytes = _input.Width * bands;
            var toModel = _toModel;
            var plane = pw * ph;

            // Model channel k holds colour k (rgb) or 2 − k (bgr).
            int red = _p.Bgr ? 2 : 0, blue = _p.Bgr ? 0 : 2;
            for (var y = 0; y < ph; y++)
            {
                var line = src.AsSpan((int)((long)Reflect(row.From + y, _input.Height) * lineBytes), lineBytes);
                if (nchw)
                {
                    var r = data.Slice(red * plane + y * pw, pw);
                    var g = data.Slice(plane + y * pw, pw);
                    var b = data.Slice(blue * plane + y * pw, pw);
                    if (bands == 1)
                    {
                        for (var x = 0; x < r.Length; x++)
                        {
                            r[x] = g[x] = b[x] = toModel[line[offsets[x]]];
                        }
                    }
                    else
                    {
                        for (var x = 0; x < r.Length; x++)
                        {
                            var at = offsets[x];
                            r[x] = toModel[line[at]];
                            g[x] = toModel[line[at + 1]];
                            b[x] = toModel[line[at + 2]];
                        }
                    }
                }
                else
                {
                    var pixels = data.Slice(3 * y * pw, 3 * pw);
                    for (var x = 0; x < pw; x++)
                    {
                        var at = offsets[x];
                        var i = 3 * x;
                        pixels[i + red] = toModel[line[at]];
                        pixels[i + 1] = toModel[line[bands == 1 ? at : at + 1]];
                        pixels[i + blue] = toModel[line[bands == 1 ? at : at + 2]];
                    }
                }
            }
        }

        private void Accumulate(float[] values, float[] columnWeight, TileSpan column, TileSpan row, int outTileWidth, int outTileHeight)
        {
            var s = _scale;
            var nchw = _p.Layout == TensorLayout.Nchw;
            var outPlane = outTileWidth * outTileHeight;
            var x0 = column.From * s;
            var y0 = row.From * s;
            var firstX = Math.Max(0, x0);
            var width = columnWeight.Length;
            var firstY = Math.Max(0, y0);
            var lastY = Math.Min(_plan.OutputHeight, (row.From + row.Length) * s);
            var windowHeight = row.Length * s;

            // Model channel k holds colour k (rgb) or 2 − k (bgr).
            int c0 = _p.Bgr ? 2 : 0, c2 = _p.Bgr ? 0 : 2;
            for (var y = firstY; y < lastY; y++)
            {
                var v = y - y0;
                var wy = Weight(v, windowHeight, _ramp);
                if (wy == 0f)
                {
                    continue; // adds nothing (the model's values there saw the window's edge)
                }

                var acc = _band.AsSpan((y - _bandStart) * 3 * _outWidth, 3 * _outWidth);
                var u0 = firstX - x0;
                if (nchw)
                {
                    var at = v * outTileWidth + u0;
                    AddWeighted(acc.Slice(c0 * _outWidth + firstX, width), columnWeight, wy, values.AsSpan(at, width));
                    AddWeighted(acc.Slice(_outWidth + firstX, width), columnWeight, wy, values.AsSpan(outPlane + at, width));
                    AddWeighted(acc.Slice(c2 * _outWidth + firstX, width), columnWeight, wy, values.AsSpan(2 * outPlane + at, width));
                }
                else
                {
                    var r = acc.Slice(c0 * _outWidth + firstX, width);
                    var g = acc.Slice(_outWidth + firstX, width);
                    var b = acc.Slice(c2 * _outWidth + firstX, width);
                    var pixels = values.AsSpan(3 * (v * outTileWidth + u0), 3 * width);
                    for (var x = 0; x < width; x++)
                    {
                        var w = wy * columnWeight[x];
                        r[x] += w * pixels[3 * x];
                        g[x] += w * pixels[3 * x + 1];
                        b[x] += w * pixels[3 * x + 2];
                    }
                }
            }
        }

        /// <summary>acc[i] += (wy × weights[i]) × values[i], vectorised (the same float operations, in the same order, as one at a time).</summary>
        private static void AddWeighted(Span<float> acc, ReadOnlySpan<float> weights, float wy, ReadOnlySpan<float> values)
        {
            var n = acc.Length;
            weights = weights[..n];
            values = values[..n];
            var i = 0;
            if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
            {
                var wyv = new Vector<float>(wy);
                ref var a = ref MemoryMarshal.GetReference(acc);
                ref var w = ref MemoryMarshal.GetReference(weights);
                ref var x = ref MemoryMarshal.GetReference(values);
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                {
                    var sum = Vector.LoadUnsafe(ref a, (nuint)i) + wyv * Vector.LoadUnsafe(ref w, (nuint)i) * Vector.LoadUnsafe(ref x, (nuint)i);
                    sum.StoreUnsafe(ref a, (nuint)i);
                }
            }

            for (; i < n; i++)
            {
                acc[i] += wy * weights[i] * values[i];
            }
        }

        /// <summary>Normalises, converts and writes the output rows [flushed, <paramref name="end"/>) from the band.</summary>
        private void Flush(int end)
        {
            var (factor, offset) = _p.Range switch
            {
                PixelRange.ZeroToOne => (255f, 0f),
                PixelRange.ZeroTo255 => (1f, 0f),
                _ => (127.5f, 127.5f),
            };
            var bands = _outBands;
            var width = _outWidth;
            var converted = _converted.AsSpan();
            for (var y = _flushed; y < end; y++)
            {
                var acc = _band.AsSpan((y - _bandStart) * 3 * width, 3 * width);
                Convert(acc, converted, _columnWeights, _rowWeights[y], factor, offset);
                var r = converted[..width];
                var g = converted.Slice(width, width);
                var b = converted.Slice(2 * width, width);
                var line = _output.AsSpan((int)((long)y * width * bands), width * bands);
                if (bands == 1)
                {
                    for (var x = 0; x < line.Length; x++)
                    {
                        line[x] = (byte)((r[x] + g[x] + b[x] + 1) / 3);
                    }
                }
                else
                {
                    for (var x = 0; x < width; x++)
                    {
                        var at = x * bands;
                        line[at] = (byte)r[x];
                        line[at + 1] = (byte)g[x];
                        line[at + 2] = (byte)b[x];
                    }
                }

                if (bands == 4)
                {
                    ResizeAlphaRow(y);
                }
            }

            _flushed = Math.Max(_flushed, end);
        }

        /// <summary>
        /// One band row (three planes of weighted sums) to byte values 0–255: divided by the weight sums, scaled to
        /// bytes and rounded, vectorised (the same float operations as <see cref="ToByte"/> one value at a time).
        /// </summary>
        private static void Convert(ReadOnlySpan<float> acc, Span<int> converted, ReadOnlySpan<float> columnWeights, float rowWeight, float factor, float offset)
        {
            var width = columnWeights.Length;
            for (var c = 0; c < 3; c++)
            {
                var from = acc.Slice(c * width, width);
                var to = converted.Slice(c * width, width);
                var x = 0;
                if (Vector.IsHardwareAccelerated && width >= Vector<float>.Count)
                {
                    var rw = new Vector<float>(rowWeight);
                    var f = new Vector<float>(factor);
                    var o = new Vector<float>(offset);
                    var half = new Vector<float>(0.5f);
                    var max = new Vector<float>(255f);
                    ref var a = ref MemoryMarshal.GetReference(from);
                    ref var w = ref MemoryMarshal.GetReference(columnWeights);
                    ref var t = ref MemoryMarshal.GetReference(to);
                    for (; x <= width - Vector<float>.Count; x += Vector<float>.Count)
                    {
                        var value = Vector.LoadUnsafe(ref a, (nuint)x) * (f / (rw * Vector.LoadUnsafe(ref w, (nuint)x))) + o;
                        Vector.ConvertToInt32(Vector.Min(Vector.Max(value, Vector<float>.Zero), max) + half).StoreUnsafe(ref t, (nuint)x);
                    }
                }

                for (; x < width; x++)
                {
                    to[x] = ToByte(from[x] * (factor / (rowWeight * columnWeights[x])) + offset);
                }
            }
        }

        private static byte ToByte(float value) =>
            value <= 0f ? (byte)0 : value >= 255f ? (byte)255 : (byte)(value + 0.5f);

        /// <summary>Bilinear alpha for output row <paramref name="y"/> (pixel centres aligned, edges clamped).</summary>
        private void ResizeAlphaRow(int y)
        {
            var w = _input.Width;
            var h = _input.Height;
            var src = _input.Data;
            var sy = Math.Clamp((y + 0.5f) / _scale - 0.5f, 0f, h - 1);
            var y1 = (int)sy;
            var y2 = Math.Min(y1 + 1, h - 1);
            var fy = sy - y1;
            var line = (long)y * _outWidth * 4;
            for (var x = 0; x < _outWidth; x++)
            {
                var sx = Math.Clamp((x + 0.5f) / _scale - 0.5f, 0f, w - 1);
                var x1 = (int)sx;
                var x2 = Math.Min(x1 + 1, w - 1);
                var fx = sx - x1;
                float At(int px, int py) => src[((long)py * w + px) * 4 + 3];
                var top = At(x1, y1) + (At(x2, y1) - At(x1, y1)) * fx;
                var bottom = At(x1, y2) + (At(x2, y2) - At(x1, y2)) * fx;
                _output[line + (long)x * 4 + 3] = ToByte(top + (bottom - top) * fy);
            }
        }
    }
}
