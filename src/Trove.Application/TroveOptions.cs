using Trove.Library;

namespace Trove.Application;

/// <summary>Library behaviour settings (bound from the "Trove" configuration section / TROVE_* variables).</summary>
public sealed class TroveOptions
{
    public const string SectionName = "Trove";

    /// <summary>Durable (fsync every write; default) or Fast (survives a killed process, not a power cut).</summary>
    public Durability Durability { get; set; } = Durability.Durable;

    /// <summary>How long a writer waits for another process's write lock before giving up.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Compare sidecars with the index when a library is opened (catches hand edits and crashes).</summary>
    public bool ReconcileOnOpen { get; set; } = true;

    /// <summary>Index writes are committed every this many media during long operations.</summary>
    public int IndexBatchSize { get; set; } = 512;

    /// <summary>Thumbnails, hashing and limits on untrusted images (TROVE_Imaging__MaxPixels etc.).</summary>
    public ImagingSettings Imaging { get; set; } = new();

    /// <summary>How imports run (parallelism, archive limits).</summary>
    public ImportSettings Import { get; set; } = new();

    public Accounts.AccountSettings Accounts { get; set; } = new();

    /// <summary>Tag suggestion jobs (TROVE_Suggestions__AutoSuggestDelay etc.).</summary>
    public SuggestionSettings Suggestions { get; set; } = new();

    /// <summary>Upscaling and restoration (TROVE_Restoration__Retention etc.).</summary>
    public Restoration.RestorationSettings Restoration { get; set; } = new();
}

public sealed class SuggestionSettings
{
    /// <summary>Queue a suggestion job after uploads and imports (when an active tagger has <c>autoSuggest</c> on).</summary>
    public bool AutoSuggest { get; set; } = true;

    /// <summary>How long the job queued after an import waits, so that a burst of uploads is tagged in one go.</summary>
    public TimeSpan AutoSuggestDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Images per model run (one batched inference).</summary>
    public int BatchSize { get; set; } = 8;

    /// <summary>Media per queued suggestion job (bigger imports queue several jobs).</summary>
    public int MediaPerJob { get; set; } = 500;

    /// <summary>Threads ONNX Runtime uses inside one operator (0 = its default).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Images of a batch decoded at once, while the model runs on the batch before (see docs/models.md, "Performance").
    /// 0 = one per core.
    /// </summary>
    public int DecodeThreads { get; set; }

    /// <summary>
    /// Decode on threads of lower priority (Linux nice +10), so that the model's threads and the web server's requests
    /// get the CPU first and decoding fills what they leave.
    /// </summary>
    public bool LowPriorityDecode { get; set; } = true;
}

public sealed class ImagingSettings
{
    /// <summary>Thumbnail sizes offered (longest side, pixels).</summary>
    public int[] ThumbnailSizes { get; set; } = [256, 512, 1024];

    /// <summary>The size made during import (the grid size); the others are made on first request.</summary>
    public int ImportThumbnailSize { get; set; } = 256;

    /// <summary>WebP (default) or Jpeg.</summary>
    public Ports.ImageFormat ThumbnailFormat { get; set; } = Ports.ImageFormat.WebP;

    public int ThumbnailQuality { get; set; } = 80;

    /// <summary>Decompression-bomb guard: images with more pixels than this (per frame) are refused at probe time.</summary>
    public long MaxPixels { get; set; } = Ports.ImageLimits.Default.MaxPixels;

    public Ports.ImageLimits Limits => new(MaxPixels);
}

public sealed class ImportSettings
{
    /// <summary>
    /// Images processed at once (0 = one per CPU core, plus one). Each uses one libvips thread; the extra worker keeps
    /// the cores busy while another copies/fsyncs or waits for the decode-memory gate (progressive JPEGs).
    /// </summary>
    public int Parallelism { get; set; }

    public long MaxArchiveEntries { get; set; } = 200_000;

    public long MaxEntryBytes { get; set; } = 512L << 20;

    public long MaxArchiveBytes { get; set; } = 64L << 30;

    public double MaxCompressionRatio { get; set; } = 200;

    public int EffectiveParallelism => Parallelism > 0 ? Parallelism : Environment.ProcessorCount + 1;
}

/// <summary>Progress of a long operation: what phase, how far, of how many (null when unknown).</summary>
public readonly record struct ProgressInfo(string Phase, long Done, long? Total);
