using System.Globalization;
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
    /// Bytes held at the peak, besides the input image and the model's own working memory: the result
    /// (scale² × width × height × bands), the accumulator, the weight sums, one input and one output tile.
    /// </summary>
    public long PeakBytes(int bands) =>
        (long)OutputWidth * OutputHeight * bands + 4 * (AccumulatorFloats + OutputWidth + OutputHeight + TileInputFloats + TileOutputFloats);
}

/// <summary>
/// Local image-to-image inference (upscalers and restorers) over tiles, so any image fits a model trained on small
/// crops and memory stays bounded. Each tile's window is its core plus <see cref="UpscalerParameters.TileOverlap"/>
/// pixels of context on each side (reflect-padded at the image borders, so edge tiles see real-looking context, and
/// up to the model's pad multiple); one tile per <see cref="IInferenceSession.Run"/>. Neighbouring windows share
/// 2 × overlap pixels; their outputs are blended with linear feathering: a tile's weight is 0 over the outer half of
/// the overlap (pixels that saw the window's edge), then ramps linearly to 1 over the next overlap pixels, so the
/// weights of neighbours sum to one across the seam. A model whose receptive-field radius is at most overlap / 2
/// gives exactly what one run over the whole image would (away from the image border); larger ones (Swin2SR's
/// attention) blend smoothly.
/// <para>
/// Memory: weighted sums accumulate in a float band of output width × the tallest tile row (in output pixels); rows
/// no later tile touches are normalised, converted to bytes and dropped from the band before the next tile row, so
/// the peak is <see cref="UpscalePlan.PeakBytes"/>: result bytes (s²·W·H·bands) + 4 B × (3·sW·s·T + sW + sH + 3·P²
/// + 3·(sP)²) where s = scale, T = tileSize (the window side), P = T rounded up to pad — about 49 MB of floats for a
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

    /// <summary>One upscale's state (the band, the weight sums, the tile buffers).</summary>
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
            _outBands = input.Bands;
            _output = new byte[(long)plan.OutputWidth * plan.OutputHeight * _outBands];
        }

        public RgbPixels Execute()
        {
            var done = 0;
            foreach (var row in _plan.Rows)
            {
                _ct.ThrowIfCancellationRequested();
                MoveBand(Math.Max(0, row.From) * _scale);
                foreach (var column in _plan.Columns)
                {
                    _ct.ThrowIfCancellationRequested();
                    Tile(column, row);
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

        private void Tile(TileSpan column, TileSpan row)
        {
            var pw = column.Padded;
            var ph = row.Padded;
            var plane = pw * ph;
            var nchw = _p.Layout == TensorLayout.Nchw;
            var data = _tile.AsSpan(0, 3 * plane);
            var src = _input.Data;
            var bands = _input.Bands;
            var xs = new int[pw];
            for (var x = 0; x < pw; x++)
            {
                xs[x] = Reflect(column.From + x, _input.Width);
            }

            for (var y = 0; y < ph; y++)
            {
                var line = (long)Reflect(row.From + y, _input.Height) * _input.Width * bands;
                for (var x = 0; x < pw; x++)
                {
                    var at = line + (long)xs[x] * bands;
                    float r, g, b;
                    if (bands == 1)
                    {
                        r = g = b = _toModel[src[at]];
                    }
                    else
                    {
                        r = _toModel[src[at]];
                        g = _toModel[src[at + 1]];
                        b = _toModel[src[at + 2]];
                    }

                    if (_p.Bgr)
                    {
                        (r, b) = (b, r);
                    }

                    if (nchw)
                    {
                        var i = y * pw + x;
                        data[i] = r;
                        data[plane + i] = g;
                        data[2 * plane + i] = b;
                    }
                    else
                    {
                        var i = 3 * (y * pw + x);
                        data[i] = r;
                        data[i + 1] = g;
                        data[i + 2] = b;
                    }
                }
            }

            long[] shape = nchw ? [1, 3, ph, pw] : [1, ph, pw, 3];
            var outputs = _session.Run([new InputTensor(_inputName, _tile.AsMemory(0, 3 * plane), shape)], _ct);
            var output = outputs.Count > 0 ? outputs[0] : throw new TroveException("model-output-mismatch", "The model returned no output.");
            var s = _scale;
            long[] expected = nchw ? [1, 3, ph * s, pw * s] : [1, ph * s, pw * s, 3];
            if (!output.Shape.SequenceEqual(expected) || output.Data.Length != 3L * plane * s * s)
            {
                throw new TroveException(
                    "model-output-mismatch",
                    $"The model turned a tile {Shape(shape)} into {Shape(output.Shape)}; a {s}× model in {_p.Layout.ToString().ToLowerInvariant()} gives {Shape(expected)}.",
                    "Check the model's parameters.scale and parameters.layout in models.json.");
            }

            Accumulate(output.Data, column, row, pw * s, ph * s);
        }

        private void Accumulate(float[] values, TileSpan column, TileSpan row, int outTileWidth, int outTileHeight)
        {
            var s = _scale;
            var nchw = _p.Layout == TensorLayout.Nchw;
            var outPlane = outTileWidth * outTileHeight;
            var x0 = column.From * s;
            var y0 = row.From * s;
            var firstX = Math.Max(0, x0);
            var lastX = Math.Min(_outWidth, (column.From + column.Length) * s);
            var firstY = Math.Max(0, y0);
            var lastY = Math.Min(_plan.OutputHeight, (row.From + row.Length) * s);
            var windowWidth = column.Length * s;
            var windowHeight = row.Length * s;
            var columnWeight = new float[lastX - firstX];
            for (var x = firstX; x < lastX; x++)
            {
                columnWeight[x - firstX] = Weight(x - x0, windowWidth, _ramp);
            }

            // Model channel k holds colour k (rgb) or 2 − k (bgr).
            int c0 = _p.Bgr ? 2 : 0, c2 = _p.Bgr ? 0 : 2;
            for (var y = firstY; y < lastY; y++)
            {
                var v = y - y0;
                var wy = Weight(v, windowHeight, _ramp);
                var acc = _band.AsSpan((y - _bandStart) * 3 * _outWidth, 3 * _outWidth);
                for (var x = firstX; x < lastX; x++)
                {
                    var u = x - x0;
                    var w = wy * columnWeight[x - firstX];
                    var a = 3 * x;
                    if (nchw)
                    {
                        var i = v * outTileWidth + u;
                        acc[a + c0] += w * values[i];
                        acc[a + 1] += w * values[outPlane + i];
                        acc[a + c2] += w * values[2 * outPlane + i];
                    }
                    else
                    {
                        var i = 3 * (v * outTileWidth + u);
                        acc[a + c0] += w * values[i];
                        acc[a + 1] += w * values[i + 1];
                        acc[a + c2] += w * values[i + 2];
                    }
                }
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
            for (var y = _flushed; y < end; y++)
            {
                var acc = _band.AsSpan((y - _bandStart) * 3 * _outWidth, 3 * _outWidth);
                var line = (long)y * _outWidth * bands;
                var rowWeight = _rowWeights[y];
                for (var x = 0; x < _outWidth; x++)
                {
                    var scale = factor / (rowWeight * _columnWeights[x]);
                    var r = ToByte(acc[3 * x] * scale + offset);
                    var g = ToByte(acc[3 * x + 1] * scale + offset);
                    var b = ToByte(acc[3 * x + 2] * scale + offset);
                    var at = line + (long)x * bands;
                    if (bands == 1)
                    {
                        _output[at] = (byte)((r + g + b + 1) / 3);
                    }
                    else
                    {
                        _output[at] = r;
                        _output[at + 1] = g;
                        _output[at + 2] = b;
                    }
                }

                if (bands == 4)
                {
                    ResizeAlphaRow(y);
                }
            }

            _flushed = Math.Max(_flushed, end);
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
