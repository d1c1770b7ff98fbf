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
}

/// <summary>Progress of a long operation: what phase, how far, of how many (null when unknown).</summary>
public readonly record struct ProgressInfo(string Phase, long Done, long? Total);
