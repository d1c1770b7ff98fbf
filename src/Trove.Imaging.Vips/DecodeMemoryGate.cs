namespace Trove.Imaging.Vips;

/// <summary>
/// A weighted gate over decode memory: parallel workers decode freely while their whole-image buffers fit in the
/// budget; a decode that would overflow it waits until enough is released. A decode larger than the whole budget runs
/// alone. Streaming decodes (weight 0) never wait.
/// </summary>
internal static class DecodeMemoryGate
{
    private static readonly object Sync = new();
    private static long _inUse;

    public static long Budget { get; set; } = 256L * 1024 * 1024;

    public static Lease Enter(long bytes, CancellationToken ct)
    {
        if (bytes <= 0)
        {
            return default;
        }

        lock (Sync)
        {
            while (_inUse > 0 && _inUse + bytes > Budget)
            {
                ct.ThrowIfCancellationRequested();
                Monitor.Wait(Sync, 100);
            }

            _inUse += bytes;
        }

        return new Lease(bytes);
    }

    private static void Exit(long bytes)
    {
        lock (Sync)
        {
            _inUse -= bytes;
            Monitor.PulseAll(Sync);
        }
    }

    public readonly struct Lease(long bytes) : IDisposable
    {
        public void Dispose()
        {
            if (bytes > 0)
            {
                Exit(bytes);
            }
        }
    }
}
