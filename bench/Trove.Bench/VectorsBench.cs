using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Trove.Domain.Embeddings;
using Trove.Inference.Onnx;
using Trove.Search.Vectors;
using Trove.Testing;

namespace Trove.Bench;

/// <summary>
/// <c>make bench-vectors</c> (docs/semantic-search.md, "Benchmark"): the vector index on N synthetic D-dimensional unit
/// vectors clustered around random centres (not uniform: real embeddings cluster), against exact fp32 brute force in the
/// same run. Measures the build (quantise + inverted lists), memory, unfiltered top-20 latency and recall@20 against
/// the fp32 exact answer, filtered (1 %) exact top-20 latency, and a text query end to end (tokenizer + a generated text
/// encoder on ONNX Runtime + search). Options: --count, --dims, --queries, --clusters, --baseline-queries.
/// </summary>
internal static class VectorsBench
{
    private const int K = 20;

    public static int Run(string[] args)
    {
        var count = BenchArgs.Int(args, "--count", 1_000_000);
        var dims = BenchArgs.Int(args, "--dims", 512);
        var queries = BenchArgs.Int(args, "--queries", 200);
        var baselineQueries = Math.Min(queries, BenchArgs.Int(args, "--baseline-queries", 40));
        var clusters = BenchArgs.Int(args, "--clusters", Math.Max(16, count / 500));
        Console.WriteLine($"bench-vectors: {count:N0} × {dims}-d unit vectors in {clusters:N0} clusters; top-{K}; {queries} queries ({baselineQueries} for the fp32 baseline)");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

        var clock = Stopwatch.StartNew();
        var data = Generate(count, dims, clusters, seed: 11, out var centres);
        Console.WriteLine($"generated in {clock.Elapsed.TotalSeconds:0.0} s (fp32 data: {data.LongLength * 4 / 1e9:0.00} GB)");
        GC.Collect();
        var rssBefore = Rss();

        clock.Restart();
        var index = new VectorIndex(dims, count);
        for (var i = 0; i < count; i++)
        {
            index.Set(i, data.AsSpan(i * dims, dims));
        }

        var quantised = clock.Elapsed.TotalSeconds;
        index.BuildLists();
        index.Probes = BenchArgs.Int(args, "--probes", index.Probes);
        var build = clock.Elapsed.TotalSeconds;
        GC.Collect();
        var rssGrowth = Rss() - rssBefore;

        var random = new Random(5);
        var qs = new float[queries][];
        for (var q = 0; q < queries; q++)
        {
            // Near the data, not in it: a random member's centre plus fresh noise.
            qs[q] = Noisy(centres, random.Next(clusters), dims, random);
        }

        var filter = new ulong[(count + 63) / 64];
        var filtered = 0;
        for (var i = 0; i < count; i++)
        {
            if (random.Next(100) == 0)
            {
                filter[i >> 6] |= 1UL << (i & 63);
                filtered++;
            }
        }

        // fp32 brute force: the baseline and the ground truth.
        var exactAll = new int[baselineQueries][];
        var exactFiltered = new int[baselineQueries][];
        var baseAll = new double[baselineQueries];
        var baseFiltered = new double[baselineQueries];
        for (var q = 0; q < baselineQueries; q++)
        {
            clock.Restart();
            exactAll[q] = BruteForce(data, dims, qs[q], null);
            baseAll[q] = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            exactFiltered[q] = BruteForce(data, dims, qs[q], filter);
            baseFiltered[q] = clock.Elapsed.TotalMilliseconds;
        }

        var oursAll = new double[queries];
        var oursFiltered = new double[queries];
        double recallAll = 0, recallFiltered = 0;
        long scanned = 0;
        for (var q = 0; q < queries; q++)
        {
            clock.Restart();
            var (hits, info) = index.Search(qs[q], K, default, filtered: false);
            oursAll[q] = clock.Elapsed.TotalMilliseconds;
            scanned += info.Scanned;
            clock.Restart();
            var (fhits, _) = index.Search(qs[q], K, filter, filtered: true);
            oursFiltered[q] = clock.Elapsed.TotalMilliseconds;
            if (q < baselineQueries)
            {
                recallAll += Recall(exactAll[q], hits);
                recallFiltered += Recall(exactFiltered[q], fhits);
            }
        }

        recallAll /= baselineQueries;
        recallFiltered /= baselineQueries;
        var memory = index.MemoryBytes;
        var fp32Bytes = (long)count * dims * 4;

        Console.WriteLine();
        Console.WriteLine($"{"figure",-36} {"ours",12} {"fp32 brute force",18} {"goal",12}");
        Row("index build (quantise + lists)", $"{build:0.0} s", "-", "≤ 60 s", build <= 60);
        Console.WriteLine($"{"  of which quantising",-36} {quantised,10:0.0} s");
        Row("memory (vectors + lists)", $"{memory / 1e9:0.000} GB", $"{fp32Bytes / 1e9:0.000} GB", "≤ 0.6 GB", memory <= 600_000_000);
        Row("  RSS growth while building", $"{rssGrowth / 1e9:0.000} GB", "-", string.Empty, null);
        Row("unfiltered top-20 p50", $"{Percentile(oursAll, 50):0.00} ms", $"{Percentile(baseAll, 50):0.0} ms", "≤ 5 ms", Percentile(oursAll, 50) <= 5);
        Row("unfiltered top-20 p95", $"{Percentile(oursAll, 95):0.00} ms", $"{Percentile(baseAll, 95):0.0} ms", string.Empty, null);
        Row("unfiltered recall@20", $"{recallAll:0.000}", "1.000", "≥ 0.95", recallAll >= 0.95);
        Console.WriteLine($"{"  vectors scored per query",-36} {scanned / queries,12:N0} {count,18:N0}");
        Row($"filtered 1 % ({filtered:N0}) top-20 p50", $"{Percentile(oursFiltered, 50):0.00} ms", $"{Percentile(baseFiltered, 50):0.0} ms", "≤ 5 ms", Percentile(oursFiltered, 50) <= 5);
        Row("filtered recall@20 (int8 vs fp32)", $"{recallFiltered:0.000}", "1.000", string.Empty, null);

        TextQuery(index, dims);
        if (!args.Contains("--no-pairs"))
        {
            Pairs(index, data, count, dims);
        }

        return 0;
    }

    /// <summary>
    /// Near-duplicates by embedding (trove dupes --by embedding): 1,000 planted near-copies (cosine ≈ 0.995) found among
    /// all the vectors through the lists, and the exact all-pairs scan of 10,000 against fp32 brute force.
    /// </summary>
    private static void Pairs(VectorIndex index, float[] data, int count, int dims)
    {
        const int planted = 1000;
        const float threshold = 0.95f;
        var random = new Random(17);
        var originals = new int[planted];
        for (var p = 0; p < planted; p++)
        {
            originals[p] = random.Next(count);
            var copy = data.AsSpan(originals[p] * dims, dims).ToArray();
            var sigma = 0.1 / Math.Sqrt(dims);
            for (var d = 0; d < dims; d++)
            {
                copy[d] += (float)(sigma * Gaussian(random));
            }

            index.Set(count + p, Unit(copy));
        }

        var all = new ulong[((count + planted) / 64) + 1];
        for (var i = 0; i < count + planted; i++)
        {
            all[i >> 6] |= 1UL << (i & 63);
        }

        var clock = Stopwatch.StartNew();
        var pairs = index.SimilarPairs(all, threshold);
        var seconds = clock.Elapsed.TotalSeconds;
        var found = pairs.Select(p => (p.A, p.B)).ToHashSet();
        var recalled = originals.Select((o, p) => found.Contains((Math.Min(o, count + p), Math.Max(o, count + p)))).Count(x => x);

        // Exact: the first 10,000 vectors and 100 planted copies of them, int8 all-pairs vs fp32 all-pairs.
        const int small = 10_000;
        var subset = new VectorIndex(dims, small + 100);
        var rows = new List<float[]>(small + 100);
        for (var i = 0; i < small; i++)
        {
            rows.Add(data.AsSpan(i * dims, dims).ToArray());
        }

        for (var p = 0; p < 100; p++)
        {
            var copy = rows[random.Next(small)].ToArray();
            for (var d = 0; d < dims; d++)
            {
                copy[d] += (float)(0.1 / Math.Sqrt(dims) * Gaussian(random));
            }

            rows.Add(Unit(copy));
        }

        for (var i = 0; i < rows.Count; i++)
        {
            subset.Set(i, rows[i]);
        }

        var mask = new ulong[(rows.Count / 64) + 1];
        for (var i = 0; i < rows.Count; i++)
        {
            mask[i >> 6] |= 1UL << (i & 63);
        }

        clock.Restart();
        var exactPairs = subset.SimilarPairs(mask, threshold);
        var oursSmall = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var truth = new System.Collections.Concurrent.ConcurrentBag<(int, int)>();
        Parallel.For(0, rows.Count, a =>
        {
            for (var b = a + 1; b < rows.Count; b++)
            {
                if (Dot(rows[a], rows[b]) >= threshold)
                {
                    truth.Add((a, b));
                }
            }
        });
        var baseSmall = clock.Elapsed.TotalSeconds;
        var agree = exactPairs.Select(p => (p.A, p.B)).ToHashSet().SetEquals(truth);

        Console.WriteLine();
        Console.WriteLine($"near-duplicates by embedding (cosine ≥ {threshold}, {planted:N0} planted near-copies, cosine ≈ 0.995):");
        Row($"all pairs of {count + planted:N0} (lists)", $"{seconds:0.0} s", "-", string.Empty, null);
        Row("  planted pairs found", $"{recalled:N0}/{planted:N0}", "-", string.Empty, null);
        Row("  pairs reported", $"{pairs.Count:N0}", "-", string.Empty, null);
        Row($"all pairs of {rows.Count:N0} (exact)", $"{oursSmall:0.00} s", $"{baseSmall:0.00} s", string.Empty, null);
        Row("  same pairs as fp32", agree ? "yes" : "no", $"{truth.Count:N0} pairs", string.Empty, null);
    }

    private static void Row(string name, string ours, string baseline, string goal, bool? pass) =>
        Console.WriteLine($"{name,-36} {ours,12} {baseline,18} {goal,12} {(pass is null ? string.Empty : pass.Value ? "PASS" : "FAIL")}");

    /// <summary>A text query end to end: CLIP tokenizer, a generated text encoder on ONNX Runtime, then the index.</summary>
    private static void TextQuery(VectorIndex index, int dims)
    {
        var engine = OnnxInferenceEngine.Create(new OnnxOptions());
        if (!engine.Status.Available)
        {
            Console.WriteLine($"text query: skipped, ONNX Runtime is not available ({engine.Status.Message})");
            return;
        }

        var dir = Directory.CreateTempSubdirectory("trove-bench-vectors-").FullName;
        try
        {
            var words = new[] { "a", "photo", "of", "dog", "running", "on", "beach", "red", "car", "sunset" };
            var vocabulary = new ClipVocabulary(words);
            var random = new Random(3);
            var rows = words.Where(w => w.Length > 1).ToDictionary(w => vocabulary.Word(w), _ => Enumerable.Range(0, dims).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
            rows[vocabulary.Start] = [.. Enumerable.Repeat(0.01f, dims)];
            var model = OnnxModels.Write(Path.Combine(dir, "text.onnx"), OnnxModels.ClipTextEncoder(vocabulary.Count, rows, dims));
            var (vocab, merges) = vocabulary.Write(dir);
            var tokenizer = ClipTokenizer.LoadHuggingFace(vocab, merges);
            using var session = engine.Load(model, new Trove.Application.Inference.InferenceSessionOptions());
            var tokenize = new List<double>();
            var encode = new List<double>();
            var search = new List<double>();
            var clock = new Stopwatch();
            for (var i = 0; i < 60; i++)
            {
                var text = i % 2 == 0 ? "a photo of a dog running on the beach" : "red car at sunset";
                clock.Restart();
                var ids = new long[77];
                var mask = new long[77];
                tokenizer.EncodeInto<long>(text + new string(' ', i % 3), ids, mask);
                tokenize.Add(clock.Elapsed.TotalMilliseconds);
                clock.Restart();
                var output = session.Run([Trove.Application.Inference.InputTensor.Int64("input_ids", ids, [1, 77]), Trove.Application.Inference.InputTensor.Int64("attention_mask", mask, [1, 77])], CancellationToken.None);
                encode.Add(clock.Elapsed.TotalMilliseconds);
                clock.Restart();
                index.Search(output[0].Data, K, default, filtered: false);
                search.Add(clock.Elapsed.TotalMilliseconds);
            }

            // The first runs warm up the session and the word cache.
            double Median(List<double> values) => Percentile([.. values.Skip(10)], 50);
            Console.WriteLine();
            Console.WriteLine($"text query end to end (p50): tokenize {Median(tokenize):0.000} ms + text encoder {Median(encode):0.000} ms (a generated Gather/ReduceMean model; a real CLIP ViT-B/32 text encoder costs ≈ 10–20 ms on 2 cores) + search {Median(search):0.00} ms");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static float[] Generate(int count, int dims, int clusters, int seed, out float[][] centres)
    {
        var random = new Random(seed);
        var cs = new float[clusters][];
        for (var c = 0; c < clusters; c++)
        {
            cs[c] = Unit([.. Enumerable.Range(0, dims).Select(_ => (float)Gaussian(random))]);
        }

        centres = cs;
        var data = new float[(long)count * dims];
        var chunks = Environment.ProcessorCount * 4;
        Parallel.For(0, chunks, chunk =>
        {
            var r = new Random(seed * 1000 + chunk);
            for (var i = chunk; i < count; i += chunks)
            {
                Noisy(cs, r.Next(clusters), dims, r).CopyTo(data, (long)i * dims);
            }
        });
        return data;
    }

    // A centre plus Gaussian noise of norm ≈ 0.8 × the centre's, normalised: neighbours within a cluster are close but not trivial.
    private static float[] Noisy(float[][] centres, int c, int dims, Random random)
    {
        var sigma = 0.8 / Math.Sqrt(dims);
        var v = new float[dims];
        for (var d = 0; d < dims; d++)
        {
            v[d] = centres[c][d] + (float)(sigma * Gaussian(random));
        }

        return Unit(v);
    }

    private static float[] Unit(float[] v)
    {
        var norm = MathF.Sqrt(Dot(v, v));
        for (var i = 0; i < v.Length; i++)
        {
            v[i] /= norm;
        }

        return v;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            acc += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }

        var sum = Vector.Sum(acc);
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Exact fp32 top-k (one thread), over all vectors or those in the filter.</summary>
    private static int[] BruteForce(float[] data, int dims, float[] query, ulong[]? filter)
    {
        var heap = new PriorityQueue<int, float>();
        var count = data.Length / dims;
        for (var i = 0; i < count; i++)
        {
            if (filter is not null && (filter[i >> 6] & (1UL << (i & 63))) == 0)
            {
                continue;
            }

            var score = Dot(data.AsSpan(i * dims, dims), query);
            if (heap.Count < K)
            {
                heap.Enqueue(i, score);
            }
            else if (heap.TryPeek(out _, out var worst) && score > worst)
            {
                heap.DequeueEnqueue(i, score);
            }
        }

        return [.. heap.UnorderedItems.Select(x => x.Element)];
    }

    private static double Recall(int[] exact, IReadOnlyList<VectorHit> hits)
    {
        var found = hits.Select(h => h.Slot).ToHashSet();
        return exact.Count(found.Contains) / (double)exact.Length;
    }

    private static double Percentile(double[] values, int p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1)];
    }

    private static long Rss()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
