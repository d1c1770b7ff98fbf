namespace Trove.Application.Import;

/// <summary>
/// Resource limits for import sources. They protect the machine from hostile or broken input (zip bombs,
/// archives with millions of entries, huge "text" files); the defaults are far above anything a real image
/// collection needs.
/// </summary>
public sealed record ImportLimits
{
    public const long MiB = 1024L * 1024;

    public const long GiB = 1024L * MiB;

    /// <summary>The defaults described on each property.</summary>
    public static ImportLimits Default { get; } = new();

    /// <summary>
    /// An archive whose central directory declares more entries than this (files, folders and metadata files
    /// all count) is refused as a whole, before its directory is loaded. Default 200,000.
    /// </summary>
    public int MaxArchiveEntries { get; init; } = 200_000;

    /// <summary>An archive entry larger than this (uncompressed) is refused. Default 512 MiB.</summary>
    public long MaxEntrySize { get; init; } = 512 * MiB;

    /// <summary>
    /// Once the uncompressed bytes extracted from one archive would exceed this, extraction stops and the
    /// remaining entries are refused. Default 64 GiB.
    /// </summary>
    public long MaxTotalSize { get; init; } = 64 * GiB;

    /// <summary>
    /// An archive entry whose uncompressed/compressed size ratio exceeds this is refused as a zip bomb.
    /// Default 200 (real images compress by a factor of 1–3; text by about 10).
    /// </summary>
    public double MaxCompressionRatio { get; init; } = 200;

    /// <summary>A metadata file (.txt, .caption, .json, .xmp) larger than this is ignored with a warning. Default 1 MiB.</summary>
    public long MaxSidecarSize { get; init; } = 1 * MiB;
}
