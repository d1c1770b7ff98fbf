namespace Trove.Imaging.Vips;

/// <summary>libvips settings (process-wide: libvips has one cache and one thread pool per process).</summary>
public sealed class VipsOptions
{
    /// <summary>Configuration section these options bind from.</summary>
    public const string SectionName = "Trove:Imaging:Vips";

    /// <summary>The libvips shared library: a soname (default) or a path.</summary>
    public string LibraryName { get; set; } = "libvips.so.42";

    /// <summary>libvips worker threads per image. Default 1: Trove processes several images in parallel instead.</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>Operations libvips keeps in its cache. Default 0: an import touches each file once.</summary>
    public int CacheMaxOperations { get; set; }

    /// <summary>Memory the operation cache may hold (libvips default: 100 MB).</summary>
    public long CacheMaxMemoryBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Open files the operation cache may hold (libvips default: 100).</summary>
    public int CacheMaxFiles { get; set; } = 100;

    /// <summary>
    /// Disables loaders that are not meant for untrusted input (ImageMagick, PDF, SVG, matrix/CSV/raw/vips/FITS/Analyze/
    /// OpenEXR/Matlab). Uploaded content only needs photo formats. Default true.
    /// </summary>
    public bool BlockUntrusted { get; set; } = true;

    /// <summary>
    /// Memory that decodes needing whole-image buffers (progressive JPEG, interlaced PNG, HEIF) may hold at once across
    /// threads; a decode that would exceed it waits for others to finish (one always runs). Default 256 MB: progressive
    /// 12–24 MP JPEGs (~200–430 MB each at peak) take turns instead of doubling the peak; baseline ones run in parallel.
    /// </summary>
    public long DecodeMemoryBudgetBytes { get; set; } = 256L * 1024 * 1024;
}
