using Trove.Domain;

namespace Trove.Library;

/// <summary>
/// The library-wide writer lock, shared across processes (an flock on locks/write.lock, released by the
/// kernel if the holder dies). Every change to the files and the index happens while holding it, so
/// two processes writing to one library take turns instead of losing each other's updates.
/// </summary>
public sealed class LibraryWriteLock : IDisposable
{
    private readonly FileStream _stream;

    private LibraryWriteLock(FileStream stream) => _stream = stream;

    public static async Task<LibraryWriteLock> AcquireAsync(LibraryLayout layout, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        Directory.CreateDirectory(layout.LocksDir);
        var started = time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var fs = new FileStream(layout.WriteLockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                return new LibraryWriteLock(fs);
            }
            catch (IOException ex) when (IsContention(ex))
            {
                if (time.GetElapsedTime(started) > timeout)
                {
                    throw new TroveException(
                        "library-busy",
                        $"Another Trove process has held the write lock on {layout.Root} for over {timeout.TotalSeconds:0} s.",
                        "Wait for it to finish (a rebuild or a large import can take a while), then try again.");
                }

                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 50));
            }
        }
    }

    public void Dispose() => _stream.Dispose();

    // EWOULDBLOCK from flock surfaces as an IOException with HResult EWOULDBLOCK (11) or "being used by another process".
    private static bool IsContention(IOException ex) =>
        ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        && (ex.HResult & 0xFFFF) is 11 or 32 or 33;
}
