using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Trove.Application;
using Trove.Application.Faces;
using Trove.Application.Inference;
using Trove.Application.Models;
using Trove.Application.Ports;
using Trove.Domain.Faces;
using Trove.Domain.Models;
using Trove.Imaging.Vips;
using Trove.Index.Sqlite;
using Trove.Inference.Onnx;
using Trove.Library;
using Trove.Search.Vectors;
using Trove.Testing;

namespace Trove.Bench;

/// <summary>
/// make bench-faces, three parts. (1) The face pipeline (<see cref="FaceRunner"/>: probe, decode + fit through
/// libvips, tensor, detector, decoding and NMS, quality, alignment by a libvips affine, embedder, sidecar and embedding
/// writes) over real JPEGs with faces in them, next to the bare <c>Run</c> time of the same detector and embedder on
/// tensors built beforehand, in the same run. The detector is the generated SCRFD-signature model with a convolution
/// stack of SCRFD-10G's cost (≈ 10 GFLOP at 640²) beside it. (2) Clustering 100k synthetic clustered 512-d embeddings
/// (<see cref="FaceClusterer.Plan"/>: IVF pairs + DBSCAN), with purity and recall against the known identities.
/// (3) Matching one new face against 100k known faces (the index a clustering pass searches), p50 and p95.
/// Options: --count (JPEGs, 500), --channels (detector stack, 32), --rounds (2), --faces (100000), --people (1000),
/// --queries (1000), --dir.
/// </summary>
internal static class FacesBench
{
    private const int DataVersion = 1;
    private const int Side = 640;
    private const int Dims = 512;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = BenchArgs.Int(args, "--count", 500);
        var channels = BenchArgs.Int(args, "--channels", 32);
        var rounds = Math.Max(1, BenchArgs.Int(args, "--rounds", 2));
        var faces = BenchArgs.Int(args, "--faces", 100_000);
        var people = BenchArgs.Int(args, "--people", 1000);
        var queries = BenchArgs.Int(args, "--queries", 1000);
        var dir = Path.GetFullPath(BenchArgs.String(args, "--dir") ?? Path.Combine(BenchArgs.RepoRoot(), ".data", "bench-faces"));
        var ct = CancellationToken.None;

        var vips = VipsImageEngine.Create(new VipsOptions());
        var onnx = OnnxInferenceEngine.Create(new OnnxOptions(), NullLogger.Instance);
        if (!vips.Status.Available || !onnx.Status.Available)
        {
            Console.Error.WriteLine($"bench-faces needs libvips and ONNX Runtime: imaging: {vips.Status.Message}; inference: {onnx.Status.Message}. Run 'make deps'.");
            return 3;
        }

        Console.WriteLine($"bench-faces: machine {Environment.ProcessorCount} cores, .NET {Environment.Version}; data in {dir}");
        var pass = true;
        pass &= await PipelineAsync(dir, count, channels, rounds, vips, onnx, ct).ConfigureAwait(false);
        var set = Synthetic.Make(faces, people, seed: 7);
        pass &= Clustering(set, ct);
        pass &= Matching(set, people, queries, ct);
        return pass ? 0 : 1;
    }

    // ---- (1) the pipeline --------------------------------------------------------------------------------------

    private static async Task<bool> PipelineAsync(string dir, int count, int channels, int rounds, IImageEngine vips, IInferenceEngine onnx, CancellationToken ct)
    {
        var flops = DetectorFlops(channels);
        Console.WriteLine();
        Console.WriteLine($"== (1) face pipeline: {count} real {Side}×{Side} JPEGs with 1–2 faces each; detector = generated SCRFD signature + conv stack of {channels} channels ({flops / 1e9:0.0} GFLOP per image; SCRFD-10G: 10 GFLOP), embedder = generated ArcFace signature ==");
        var env = LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), new TroveOptions { Durability = Durability.Fast })
            with { Inference = onnx, Imaging = vips };
        var libraryPath = Path.Combine(dir, "library");
        var marker = Path.Combine(dir, "marker.txt");
        var expected = $"v{DataVersion} count={count} channels={channels}";
        if (!File.Exists(marker) || File.ReadAllText(marker).Trim() != expected)
        {
            await GenerateAsync(dir, libraryPath, count, channels, env, ct).ConfigureAwait(false);
            File.WriteAllText(marker, expected);
        }
        else
        {
            Console.WriteLine($"data: reusing {dir} ({expected})");
        }

        var library = await TroveLibrary.OpenAsync(libraryPath, env, null, ct).ConfigureAwait(false);
        await using var disposal = library;
        var ids = File.ReadAllLines(Path.Combine(dir, "ids.txt")).Where(l => l.Length > 0).ToList();
        var active = ActiveFaceModels.Require(library);
        var detector = library.Faces.Detector(active);
        var embedder = library.Faces.Embedder(active);
        var paths = ids.Select(id =>
        {
            var stored = library.Files.ReadSidecar(id);
            return library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash);
        }).ToArray();

        // Warm-up and the faces the detector finds (for the embedder's baseline).
        var runner = new FaceRunner(library);
        var warm = await runner.RunAsync(ids.Take(8).ToList(), force: true, cluster: false, null, ct).ConfigureAwait(false);
        Console.WriteLine($"warm-up: {warm.Faces} faces in 8 media");

        // Bare Run: the same detector file and embedder file in sessions of their own, on tensors built beforehand.
        var s = detector.Parameters.InputSize;
        var tensorLength = 3 * s * s;
        var tensors = new float[(long)count * tensorLength];
        var limits = library.Options.Imaging.Limits;
        for (var i = 0; i < count; i++)
        {
            var pixels = library.Imaging.Pixels(paths[i], new PixelRequest(PixelFit.Contain, s, s, 0x000000, Gray: false, null, limits, PixelResample.Linear), ct);
            detector.Prepare(pixels, tensors.AsSpan(i * tensorLength, tensorLength));
        }

        var detectorFile = ModelFile(library, active.Detector, active.DetectorVersion!);
        var embedderFile = ModelFile(library, active.Embedder!, active.EmbedderVersion!);
        double bareDetect;
        using (var session = library.Inference.Load(detectorFile, new InferenceSessionOptions()))
        {
            var input = session.Signature.Inputs[0].Name;
            session.Run([new InputTensor(input, tensors.AsMemory(0, tensorLength), [1, 3, s, s])], ct);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                session.Run([new InputTensor(input, tensors.AsMemory(i * tensorLength, tensorLength), [1, 3, s, s])], ct);
            }

            bareDetect = clock.Elapsed.TotalMilliseconds / count;
        }

        tensors = null;
        GC.Collect();

        // End to end, forced so that every pass detects, aligns, embeds and writes every media again.
        var times = new List<double>();
        FaceRunResult? last = null;
        for (var round = 0; round < rounds; round++)
        {
            var clock = Stopwatch.StartNew();
            last = await runner.RunAsync(ids, force: true, cluster: false, null, ct).ConfigureAwait(false);
            times.Add(clock.Elapsed.TotalMilliseconds / count);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  pass {round + 1}: {times[^1]:0.00} ms/image, {last.Faces} faces, {last.Usable} usable, {last.Failed.Count} failed"));
        }

        var usable = last!.Usable;
        var reasons = ids.SelectMany(id => library.Files.ReadSidecar(id).Sidecar.Faces).SelectMany(f => f.Quality.Reasons).GroupBy(r => r).Select(g => $"{g.Key} {g.Count()}");
        Console.WriteLine($"filtered faces by reason: {string.Join(", ", reasons.DefaultIfEmpty("none"))}");
        var es = embedder.Parameters.Size;
        var crop = 3 * es * es;
        var cropTensors = new float[FaceRunner.MediaPerBatch * 3 * crop];
        double bareEmbed;
        using (var session = library.Inference.Load(embedderFile, new InferenceSessionOptions()))
        {
            var input = session.Signature.Inputs[0].Name;
            var perBatch = Math.Max(1, (int)Math.Round((double)usable * FaceRunner.MediaPerBatch / count));
            perBatch = Math.Min(perBatch, cropTensors.Length / crop);
            session.Run([new InputTensor(input, cropTensors.AsMemory(0, perBatch * crop), [perBatch, 3, es, es])], ct);
            var clock = Stopwatch.StartNew();
            var done = 0;
            while (done < usable)
            {
                var n = Math.Min(perBatch, usable - done);
                session.Run([new InputTensor(input, cropTensors.AsMemory(0, n * crop), [n, 3, es, es])], ct);
                done += n;
            }

            bareEmbed = clock.Elapsed.TotalMilliseconds / count;
        }

        var bare = bareDetect + bareEmbed;
        var e2e = Median(times);
        var overhead = (e2e - bare) / bare;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bare Run: detector {bareDetect:0.00} ms/image + embedder {bareEmbed:0.00} ms/image ({usable} faces) = {bare:0.00} ms/image"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"end to end (median of {rounds}): {e2e:0.00} ms/image, {1000 / e2e:0.0} images/s (the runner scans {Environment.ProcessorCount} images at once on its decode threads, so two detector Runs overlap; the bare baseline runs one at a time with all cores)"));
        var ok = Target($"pipeline overhead: {100 * overhead:0.0} % of bare Run ({e2e - bare:0.00} ms on {bare:0.00} ms per image) (target ≤ 15 %)", overhead <= 0.15);
        ok &= Target($"every image's faces found ({last.Faces} faces in {count} media, {last.Failed.Count} failed)", last.Failed.Count == 0 && last.Faces >= count);
        return ok;
    }

    private static string ModelFile(TroveLibrary library, Trove.Domain.Models.ModelDefinition model, Trove.Domain.Models.ModelVersionEntry version) =>
        new ModelRegistry(library).Resolve(version.File);

    private static long DetectorFlops(int channels)
    {
        long total = 0;
        var inChannels = 3;
        var side = Side;
        for (var layer = 1; layer <= 8; layer++)
        {
            var outChannels = channels << ((layer - 1) / 2);
            if (layer % 2 == 1)
            {
                side /= 2;
            }

            total += 2L * 9 * inChannels * outChannels * side * side;
            inChannels = outChannels;
        }

        return total;
    }

    private static async Task GenerateAsync(string dir, string libraryPath, int count, int channels, LibraryEnvironment env, CancellationToken ct)
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        var clock = Stopwatch.StartNew();
        var files = Enumerable.Range(0, count).Select(i => Path.Combine(images, $"photo-{i:D4}.jpg")).ToArray();
        var palette = new byte[][] { [255, 40, 40], [40, 255, 40], [40, 40, 255], [255, 255, 40], [255, 40, 255], [40, 255, 255], [255, 140, 40], [140, 40, 255] };
        (int X, int Y)[] slots = [(160, 160), (480, 160), (160, 480), (480, 480)];
        Parallel.For(0, count, i =>
        {
            // A dim photo-like background (the generated detector wants a darker surround) with one or two bright squares.
            var photo = TestImages.Photo(2000 + i, Side, Side);
            for (var p = 0; p < photo.Data.Length; p++)
            {
                photo.Data[p] = (byte)(photo.Data[p] / 6);
            }

            var random = new Random(i);
            var n = 1 + (i % 2);
            foreach (var slot in slots.OrderBy(_ => random.Next()).Take(n))
            {
                var colour = palette[random.Next(palette.Length)];
                for (var y = slot.Y - 64; y < slot.Y + 64; y++)
                {
                    for (var x = slot.X - 64; x < slot.X + 64; x++)
                    {
                        colour.CopyTo(photo.Data, ((y * Side) + x) * 3);
                    }
                }
            }

            TestImages.WriteJpeg(files[i], photo);
        });
        Console.WriteLine($"data: {count} JPEGs generated in {clock.Elapsed.TotalSeconds:0.0} s");

        TroveLibrary.Init(libraryPath, env);
        var library = await TroveLibrary.OpenAsync(libraryPath, env, null, ct).ConfigureAwait(false);
        await using var disposal = library;
        var registry = new ModelRegistry(library);
        var detector = OnnxModels.Write(Path.Combine(dir, "scrfd-bench.onnx"), OnnxModels.FaceDetector(Side, heavyChannels: channels));
        var embedder = OnnxModels.Write(Path.Combine(dir, "arcface-bench.onnx"), OnnxModels.FaceEmbedder());
        await registry.AddAsync(new ModelAddRequest("scrfd", ModelKinds.FaceDetector, detector, "bench", Parameters: new JsonObject { ["autoFaces"] = false }), ct).ConfigureAwait(false);
        await registry.AddAsync(new ModelAddRequest("arcface", ModelKinds.FaceEmbedder, embedder, "bench"), ct).ConfigureAwait(false);
        var report = await new MediaService(library).ImportAsync(files, new ImportOptions([], null, DryRun: false), null, ct).ConfigureAwait(false);
        if (report.Imported != count)
        {
            throw new InvalidOperationException($"imported {report.Imported} of {count} JPEGs");
        }

        await File.WriteAllLinesAsync(Path.Combine(dir, "ids.txt"), report.Media, ct).ConfigureAwait(false);
    }

    // ---- (2) clustering and (3) matching on synthetic embeddings -----------------------------------------------

    /// <summary>
    /// Synthetic face embeddings: <c>people</c> identities (centres made of one of 20 shared "group" directions plus
    /// their own, so that people of a group are somewhat alike: cosine ≈ 0.2), each face its centre plus noise of
    /// strength 0.5–0.9 (same-person cosine ≈ 0.55–0.8, as ArcFace gives for one person across photos), and 5 % of the
    /// faces strangers seen once (truth −1).
    /// </summary>
    private sealed record Synthetic(float[][] Vectors, int[] Truth, float[][] Centres)
    {
        public static Synthetic Make(int count, int people, int seed)
        {
            var random = new Random(seed);
            var groups = Enumerable.Range(0, 20).Select(_ => Gaussian(random, Dims)).ToArray();
            var centres = new float[people][];
            for (var p = 0; p < people; p++)
            {
                var own = Gaussian(random, Dims);
                var g = groups[p % groups.Length];
                centres[p] = Unit([.. own.Select((x, d) => x + (0.5f * g[d]))]);
            }

            var vectors = new float[count][];
            var truth = new int[count];
            for (var i = 0; i < count; i++)
            {
                if (random.NextDouble() < 0.05)
                {
                    truth[i] = -1;
                    vectors[i] = Unit(Gaussian(random, Dims));
                    continue;
                }

                var p = random.Next(people);
                truth[i] = p;
                vectors[i] = Face(random, centres[p]);
            }

            return new Synthetic(vectors, truth, centres);
        }

        public static float[] Face(Random random, float[] centre)
        {
            var sigma = 0.6 + (0.6 * random.NextDouble());
            var noise = Unit(Gaussian(random, Dims));
            return Unit([.. centre.Select((x, d) => x + (float)(sigma * noise[d]))]);
        }

        private static float[] Gaussian(Random random, int n) =>
            [.. Enumerable.Range(0, n).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];

        private static float[] Unit(float[] v)
        {
            var norm = MathF.Sqrt(v.Sum(x => x * x));
            return [.. v.Select(x => x / norm)];
        }
    }

    private static bool Clustering(Synthetic set, CancellationToken ct)
    {
        var n = set.Vectors.Length;
        Console.WriteLine();
        Console.WriteLine($"== (2) clustering {n:N0} synthetic 512-d face embeddings of {set.Centres.Length:N0} people (+5 % strangers), DBSCAN min 3 faces, cosine distance 0.5 ==");
        var faces = new List<IndexedFace>(n);
        var vectors = new Dictionary<string, float[]>(n, StringComparer.Ordinal);
        var media = Enumerable.Range(0, n).Select(i => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)))).ToArray();
        for (var i = 0; i < n; i++)
        {
            faces.Add(new IndexedFace(media[i], 1, FaceStatus.Unassigned, null, true, []));
            vectors[FaceKeys.Of(media[i], 1)] = set.Vectors[i];
        }

        var clock = Stopwatch.StartNew();
        var plan = FaceClusterer.Plan(faces, vectors, new Dictionary<string, Person>(), FaceEmbedderParameters.Default, ct);
        var seconds = clock.Elapsed.TotalSeconds;
        var slot = media.Select((m, i) => (m, i)).ToDictionary(x => x.m, x => x.i, StringComparer.Ordinal);
        var label = new string?[n];
        foreach (var a in plan.Assignments)
        {
            label[slot[a.MediaId]] = a.Person;
        }

        // Purity: in each cluster, the share of its biggest identity (strangers count against it), weighted by size.
        var clusters = Enumerable.Range(0, n).Where(i => label[i] is not null).GroupBy(i => label[i]!).ToList();
        var clusteredFaces = clusters.Sum(c => c.Count());
        var pure = clusters.Sum(c => c.Where(i => set.Truth[i] >= 0).GroupBy(i => set.Truth[i]).Select(g => g.Count()).DefaultIfEmpty(0).Max());
        // Recall: of each person's faces, the share in their biggest cluster.
        var identities = Enumerable.Range(0, n).Where(i => set.Truth[i] >= 0).GroupBy(i => set.Truth[i]).ToList();
        var real = identities.Sum(g => g.Count());
        var recalled = identities.Sum(g => g.Where(i => label[i] is not null).GroupBy(i => label[i]!).Select(x => x.Count()).DefaultIfEmpty(0).Max());
        var strangers = Enumerable.Range(0, n).Count(i => set.Truth[i] < 0);
        var strangersClustered = Enumerable.Range(0, n).Count(i => set.Truth[i] < 0 && label[i] is not null);
        var purity = clusteredFaces == 0 ? 0 : (double)pure / clusteredFaces;
        var recall = (double)recalled / real;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"clustered in {seconds:0.0} s: {plan.NewPeople.Count:N0} clusters for {set.Centres.Length:N0} people; {clusteredFaces:N0} faces clustered, {plan.Result.Unassigned:N0} left unassigned"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"purity {purity:0.0000}, recall {recall:0.0000}; strangers clustered {strangersClustered:N0} of {strangers:N0}"));
        var ok = Target(string.Create(CultureInfo.InvariantCulture, $"clustering {n:N0} faces: {seconds:0.0} s (target ≤ 30 s)"), seconds <= 30);
        ok &= Target(string.Create(CultureInfo.InvariantCulture, $"purity {purity:0.000} (target ≥ 0.95) and recall {recall:0.000} (target ≥ 0.90)"), purity >= 0.95 && recall >= 0.90);
        return ok;
    }

    private static bool Matching(Synthetic set, int people, int queries, CancellationToken ct)
    {
        var known = Enumerable.Range(0, set.Vectors.Length).Where(i => set.Truth[i] >= 0).ToList();
        Console.WriteLine();
        Console.WriteLine($"== (3) matching a new face against {known.Count:N0} known faces (confirmed people), {queries} queries, top {FaceClusterer.Candidates} within distance 0.46 ==");
        var index = new VectorIndex(Dims, known.Count);
        for (var i = 0; i < known.Count; i++)
        {
            index.Set(i, set.Vectors[known[i]]);
        }

        var clock = Stopwatch.StartNew();
        if (known.Count > index.ExactLimit)
        {
            index.BuildLists(ct: ct);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"index built in {clock.Elapsed.TotalSeconds:0.0} s ({(known.Count > index.ExactLimit ? "IVF lists" : "exact scan")})"));
        var random = new Random(99);
        var latencies = new List<double>(queries);
        var correct = 0;
        var minScore = 1 - FaceEmbedderParameters.Default.MatchDistance;
        for (var q = 0; q < queries; q++)
        {
            var person = random.Next(people);
            var face = Synthetic.Face(random, set.Centres[person]);
            var start = Stopwatch.GetTimestamp();
            var (hits, _) = index.Search(face, FaceClusterer.Candidates, default, filtered: false, minScore);
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (hits.Count > 0 && set.Truth[known[hits[0].Slot]] == person)
            {
                correct++;
            }
        }

        latencies.Sort();
        var p50 = latencies[latencies.Count / 2];
        var p95 = latencies[(int)(latencies.Count * 0.95)];
        var accuracy = (double)correct / queries;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"match latency p50 {p50:0.000} ms, p95 {p95:0.000} ms; the right person first in {100 * accuracy:0.0} % of queries"));
        var ok = Target(string.Create(CultureInfo.InvariantCulture, $"matching one face against {known.Count:N0}: p50 {p50:0.000} ms (target ≤ 5 ms)"), p50 <= 5);
        ok &= Target(string.Create(CultureInfo.InvariantCulture, $"right person first: {100 * accuracy:0.0} % (target ≥ 95 %)"), accuracy >= 0.95);
        return ok;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static bool Target(string text, bool pass)
    {
        Console.WriteLine($"  {text} {(pass ? "PASS" : "FAIL")}");
        return pass;
    }
}
