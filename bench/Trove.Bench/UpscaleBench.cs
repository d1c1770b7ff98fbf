using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Trove.Application.Inference;
using Trove.Application.Ports;
using Trove.Application.Restoration;
using Trove.Imaging.Vips;
using Trove.Inference.Onnx;
using Trove.Testing;

namespace Trove.Bench;

/// <summary>
/// make bench-upscale: a generated 12 MP JPEG (4000×3000, <see cref="TestImages.Photo"/>, written once under
/// .data/bench-upscale) decoded through libvips, upscaled 2× by <see cref="TiledUpscaler"/> with the generated conv
/// model (<see cref="OnnxModels.ConvUpscaler"/>) and encoded as JPEG through libvips, next to the bare
/// <c>session.Run</c> time of the same tiles (same count and sizes, in the same process) — the overhead of tiling,
/// blending and encoding must stay within 15 % of inference. Each tile size runs in its own child process so its
/// peak RSS (VmHWM in /proc/self/status) is its own. Options: --width, --height, --channels, --tiles 192,384,
/// --format jpeg|png, --dir.
/// </summary>
internal static class UpscaleBench
{
    private const double Target = 0.15;

    public static int Run(string[] args)
    {
        if (args.Contains("--child"))
        {
            return Child(args);
        }

        var width = BenchArgs.Int(args, "--width", 4000);
        var height = BenchArgs.Int(args, "--height", 3000);
        var channels = BenchArgs.Int(args, "--channels", 96);
        var format = BenchArgs.String(args, "--format") ?? "jpeg";
        var tiles = (BenchArgs.String(args, "--tiles") ?? "192,384").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        var dir = Path.GetFullPath(BenchArgs.String(args, "--dir") ?? Path.Combine(BenchArgs.RepoRoot(), ".data", "bench-upscale"));
        Directory.CreateDirectory(dir);

        var vips = VipsImageEngine.Create(new VipsOptions());
        var onnx = OnnxInferenceEngine.Create(new OnnxOptions(), NullLogger.Instance);
        if (!vips.Status.Available || !onnx.Status.Available)
        {
            Console.Error.WriteLine($"bench-upscale needs libvips and ONNX Runtime: imaging: {vips.Status.Message}; inference: {onnx.Status.Message}. Run 'make deps'.");
            return 3;
        }

        var photo = Path.Combine(dir, $"photo-{width}x{height}.jpg");
        if (!File.Exists(photo))
        {
            Console.WriteLine($"writing {photo}");
            TestImages.WriteJpeg(photo + ".tmp.jpg", TestImages.Photo(15, width, height), quality: 90);
            File.Move(photo + ".tmp.jpg", photo, overwrite: true);
        }

        var model = OnnxModels.Write(Path.Combine(dir, $"conv-x2-c{channels}.onnx"), OnnxModels.ConvUpscaler(channels));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench-upscale: {width}×{height} JPEG → 2× ({2 * width}×{2 * height}) {format.ToUpperInvariant()}, conv model C={channels} ({OnnxModels.ConvUpscalerFlops(channels) / 1e3:0.0} kFLOP per input pixel), overlap 16; each tile size in its own process"));
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; ONNX Runtime intra-op threads = its default; data in {dir}");
        Console.WriteLine();
        Console.WriteLine("tile  tiles  decode s  bare Run s  upscale s  encode s  overhead  peak RSS MB  planned MB");

        var pass = true;
        foreach (var tile in tiles)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in (string[])["upscale", "--child", "--photo", photo, "--model", model, "--tile", tile.ToString(CultureInfo.InvariantCulture), "--format", format])
            {
                start.ArgumentList.Add(a);
            }

            using var child = Process.Start(start)!;
            var line = child.StandardOutput.ReadToEnd().Trim().Split('\n')[^1];
            child.WaitForExit();
            if (child.ExitCode != 0)
            {
                Console.Error.WriteLine($"tile {tile}: the child process failed ({child.ExitCode}): {line}");
                return 1;
            }

            var f = line.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var (count, decode, bare, upscale, encode, rss, planned) = ((int)f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
            var overhead = (upscale + encode - bare) / bare;
            pass &= overhead <= Target;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{tile,4} {count,6} {decode,9:0.00} {bare,11:0.00} {upscale,10:0.00} {encode,9:0.00} {100 * overhead,8:0.0}% {rss,12:0} {planned,11:0}"));
        }

        Console.WriteLine();
        Console.WriteLine("overhead = (tiled upscale + encode − bare Run of the same tiles) / bare Run; decode is shown, not counted (the job reads the original either way).");
        Console.WriteLine("planned = UpscalePlan.PeakBytes: result bytes + float accumulator band + weight sums + one tile in and out (the model's own working memory and the decoded input come on top).");
        Console.WriteLine($"  overhead ≤ {100 * Target:0} % of inference at every tile size {(pass ? "PASS" : "FAIL")}");
        return pass ? 0 : 1;
    }

    /// <summary>One tile size: warm-up, bare runs of the plan's tiles, the tiled upscale, the encode; prints one line of figures.</summary>
    private static int Child(string[] args)
    {
        var ct = CancellationToken.None;
        var tile = BenchArgs.Int(args, "--tile", 256);
        var format = BenchArgs.String(args, "--format") == "png" ? ImageFormat.Png : ImageFormat.Jpeg;
        var vips = VipsImageEngine.Create(new VipsOptions());
        var onnx = OnnxInferenceEngine.Create(new OnnxOptions(), NullLogger.Instance);
        using var session = onnx.Load(BenchArgs.String(args, "--model")!, new InferenceSessionOptions());

        var clock = Stopwatch.StartNew();
        var pixels = vips.Pixels(BenchArgs.String(args, "--photo")!, new PixelRequest(PixelFit.None, 0, 0, 0xFFFFFF, false, null, ImageLimits.Default), ct);
        var decode = clock.Elapsed.TotalSeconds;

        var p = UpscalerParameters.Default with { TileSize = tile, TileOverlap = 16 };
        var plan = TiledUpscaler.Plan(pixels.Width, pixels.Height, p);
        var name = session.Signature.Inputs[0].Name;
        var buffer = new float[plan.TileInputFloats];
        for (var i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (i * 7919 % 256) / 255f;
        }

        InputTensor Tensor(TileSpan column, TileSpan row) =>
            new(name, buffer.AsMemory(0, 3 * column.Padded * row.Padded), [1, 3, row.Padded, column.Padded]);

        session.Run([Tensor(plan.Columns[0], plan.Rows[0])], ct); // warm-up
        clock.Restart();
        foreach (var row in plan.Rows)
        {
            foreach (var column in plan.Columns)
            {
                session.Run([Tensor(column, row)], ct);
            }
        }

        var bare = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var result = TiledUpscaler.UpscaleAsync(session, pixels, p, null, ct).GetAwaiter().GetResult();
        var upscale = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var encoded = vips.Encode(result, format, 90, ct);
        var encode = clock.Elapsed.TotalSeconds;
        if (encoded.Width != 2 * pixels.Width || encoded.Data.Length == 0)
        {
            Console.WriteLine("the encoded result has the wrong size");
            return 1;
        }

        var hwm = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var rssKb = double.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{plan.Tiles} {decode:0.000} {bare:0.000} {upscale:0.000} {encode:0.000} {rssKb / 1024:0} {plan.PeakBytes(3) / 1e6:0}"));
        return 0;
    }
}
