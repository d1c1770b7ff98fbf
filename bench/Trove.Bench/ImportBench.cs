using System.Diagnostics;
using System.Globalization;
using Trove.Testing;

namespace Trove.Bench;

/// <summary>
/// make bench-import: `trove import` of real camera-sized JPEGs next to `vipsthumbnail` over the same files, at the
/// same parallelism and thumbnail size, in the same run. vipsthumbnail only decodes (shrink-on-load) and writes a
/// thumbnail; Trove also copies and SHA-256-hashes each file, probes it, computes pHash and dHash, reads metadata
/// files and EXIF, writes the original, the sidecar (fsync'd) and the index.
/// </summary>
internal static class ImportBench
{
    public static int Run(string[] args)
    {
        var count = BenchArgs.Int(args, "--count", 200);
        var parallel = BenchArgs.Int(args, "--parallel", Environment.ProcessorCount);
        var troveParallel = BenchArgs.Int(args, "--trove-parallel", 0);
        var repo = BenchArgs.RepoRoot();
        var setDir = BenchArgs.String(args, "--set") ?? Path.Combine(repo, ".data", "bench-import", $"set-{count}");
        var work = Path.Combine(Path.GetTempPath(), "trove-bench-import-" + Environment.ProcessId);
        Directory.CreateDirectory(work);
        try
        {
            Console.WriteLine($"bench-import: {count} JPEGs (half 12 MP 4000×3000, half 24 MP 6000×4000; half baseline, half progressive), parallelism {parallel}");
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; set in {setDir}");
            var files = EnsureSet(setDir, count);
            var bytes = files.Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"set: {files.Count} files, {bytes / 1048576.0:N0} MB");

            // Build the CLI before timing anything (the ./trove script builds when sources are newer).
            RunProcess(Path.Combine(repo, "trove"), ["--help"], null, quiet: true);

            WarmCache(files);
            var library = Path.Combine(work, "library");
            RunProcess(Path.Combine(repo, "trove"), ["init", "--library", library], null, quiet: true);
            var trove = Stopwatch.StartNew();
            // Same CPU parallelism: one libvips thread per image on each side. Trove's default runs one worker more than
            // cores (to overlap copies/fsyncs and memory-gated progressive decodes); --trove-parallel overrides it.
            var importEnv = new Dictionary<string, string> { ["TROVE_Import__Parallelism"] = troveParallel.ToString(CultureInfo.InvariantCulture) };
            var (output, troveRss) = RunMeasured(Path.Combine(repo, "trove"), ["import", setDir, "--library", library, "--json"], importEnv);
            trove.Stop();
            if (!output.Contains($"\"imported\": {files.Count}", StringComparison.Ordinal))
            {
                Console.Error.WriteLine($"trove import did not import every file:\n{output[..Math.Min(2000, output.Length)]}");
                return 1;
            }

            WarmCache(files);
            var thumbs = Path.Combine(work, "vipsthumbnail");
            Directory.CreateDirectory(thumbs);
            var vips = Stopwatch.StartNew();
            var chunks = files.Select((f, i) => (f, i)).GroupBy(x => x.i % parallel, x => x.f).ToList();
            var processes = chunks.Select(chunk => StartProcess(
                "vipsthumbnail",
                ["-s", "256", "-o", Path.Combine(thumbs, "%s.webp[Q=80]"), .. chunk],
                new Dictionary<string, string> { ["VIPS_CONCURRENCY"] = "1" })).ToList();
            var vipsRss = WatchPeaks(processes);
            foreach (var p in processes)
            {
                p.WaitForExit();
                if (p.ExitCode != 0)
                {
                    Console.Error.WriteLine($"vipsthumbnail failed: {p.StandardError.ReadToEnd()}");
                    return 1;
                }
            }

            vips.Stop();
            var made = Directory.EnumerateFiles(thumbs).Count();

            Console.WriteLine();
            Console.WriteLine($"{"",-44}{"wall s",10}{"images/s",12}");
            Console.WriteLine($"{"vipsthumbnail -s 256 (WebP), " + parallel + " processes",-44}{vips.Elapsed.TotalSeconds,10:F2}{made / vips.Elapsed.TotalSeconds,12:F1}");
            Console.WriteLine($"{"trove import (everything), " + (troveParallel > 0 ? troveParallel.ToString(CultureInfo.InvariantCulture) : "default") + " workers",-44}{trove.Elapsed.TotalSeconds,10:F2}{files.Count / trove.Elapsed.TotalSeconds,12:F1}");
            var ratio = trove.Elapsed.TotalSeconds / vips.Elapsed.TotalSeconds;
            Console.WriteLine();
            Console.WriteLine($"ratio trove/vipsthumbnail: {ratio:F2}× (target ≤ 1.25×) {(ratio <= 1.25 ? "OK" : "MISSED")}");
            Console.WriteLine($"peak RSS: trove import {troveRss:N0} MB (one process); vipsthumbnail {vipsRss.Max():N0} MB per process × {processes.Count} = {vipsRss.Sum():N0} MB");
            Console.WriteLine($"trove peak RSS target < 400 MB (for 2,000 images): {(troveRss < 400 ? "OK" : "MISSED")} at {files.Count} images");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Generates the JPEG set once (kept under .data/, git-ignored) and reuses it on later runs.</summary>
    private static List<string> EnsureSet(string dir, int count)
    {
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        var generated = 0;
        var clock = Stopwatch.StartNew();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var big = i % 2 == 1;
            var progressive = i % 4 >= 2;
            var path = Path.Combine(dir, $"photo-{i:D5}-{(big ? "24mp" : "12mp")}{(progressive ? "-progressive" : string.Empty)}.jpg");
            if (!File.Exists(path))
            {
                var (w, h) = big ? (6000, 4000) : (4000, 3000);
                var temp = path + ".partial.jpg";
                TestImages.WriteJpeg(temp, TestImages.Photo(i + 1000, w, h), quality: 90, progressive: progressive);
                File.Move(temp, path, overwrite: true);
                Interlocked.Increment(ref generated);
            }

            lock (files)
            {
                files.Add(path);
            }
        });
        if (generated > 0)
        {
            Console.WriteLine($"generated {generated} JPEGs in {clock.Elapsed.TotalSeconds:F0} s");
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }

    private static void WarmCache(List<string> files)
    {
        // Both contenders read from the page cache: the comparison is about work, not the disk.
        var buffer = new byte[1 << 20];
        foreach (var f in files)
        {
            using var s = File.OpenRead(f);
            while (s.Read(buffer) > 0)
            {
            }
        }
    }

    private static Process StartProcess(string file, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
    }

    private static string RunProcess(string file, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env, bool quiet)
    {
        using var p = StartProcess(file, args, env);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0 || !quiet)
        {
            Console.Error.Write(stderr.Result);
        }

        return stdout.Result;
    }

    /// <summary>Runs a process (through the ./trove script, so the peak is that of its dotnet child) and samples the peak RSS.</summary>
    private static (string Output, long PeakMb) RunMeasured(string file, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env)
    {
        using var p = StartProcess(file, args, env);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var peak = WatchPeaks([p]).Max();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.Error.Write(stderr.Result);
        }

        return (stdout.Result, peak);
    }

    /// <summary>Polls VmHWM (peak resident set, monotonic) of each process and its children every 20 ms until all exit.</summary>
    private static long[] WatchPeaks(List<Process> processes)
    {
        var peaks = new long[processes.Count];
        while (processes.Any(p => !p.HasExited))
        {
            for (var i = 0; i < processes.Count; i++)
            {
                foreach (var pid in ProcessTree(processes[i].Id))
                {
                    peaks[i] = Math.Max(peaks[i], HighWaterMb(pid));
                }
            }

            Thread.Sleep(20);
        }

        return peaks;
    }

    private static IEnumerable<int> ProcessTree(int pid)
    {
        yield return pid;
        var children = $"/proc/{pid}/task/{pid}/children";
        string text;
        try
        {
            text = File.ReadAllText(children);
        }
        catch (IOException)
        {
            yield break;
        }

        foreach (var child in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var p in ProcessTree(int.Parse(child, CultureInfo.InvariantCulture)))
            {
                yield return p;
            }
        }
    }

    private static long HighWaterMb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
