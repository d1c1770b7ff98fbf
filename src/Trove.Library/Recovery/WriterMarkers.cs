using System.Globalization;
using System.Text;

namespace Trove.Library.Recovery;

/// <summary>A marker left by a process that had the library open and is gone.</summary>
public sealed record DeadWriter(string MarkerPath, ProcessOwner Owner, DateTimeOffset? OpenedAt);

/// <summary>
/// Every process that opens a library leaves a marker in <c>locks/writers/</c> (named by its owner token) and
/// removes it when it closes the library. A marker whose owner is dead tells the next writer that a process
/// stopped without cleaning up — killed, crashed, lost power — so its debris (temporary files anywhere in the
/// library, an original whose sidecar was never written) is worth a sweep. Without such a marker nobody has to
/// walk the whole media tree on every start.
/// </summary>
public static class WriterMarkers
{
    /// <summary>Leaves this process's marker; dispose the result when the library is closed.</summary>
    public static IDisposable Register(LibraryLayout layout, DateTimeOffset now)
    {
        Directory.CreateDirectory(layout.WritersDir);
        var path = Path.Combine(layout.WritersDir, ProcessOwner.Current.Token + "-" + Guid.NewGuid().ToString("N")[..8]);
        // For a person looking at the folder; the name alone is what Trove reads. Never the command line (it can hold a password).
        var text = string.Create(CultureInfo.InvariantCulture, $"pid {Environment.ProcessId} ({Environment.ProcessPath ?? "?"}) opened the library at {now:O}\n");
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));
        return new Marker(path);
    }

    /// <summary>Markers of processes that are gone (on this machine; other machines' markers are never judged).</summary>
    public static IReadOnlyList<DeadWriter> Dead(LibraryLayout layout)
    {
        if (!Directory.Exists(layout.WritersDir))
        {
            return [];
        }

        var dead = new List<DeadWriter>();
        foreach (var path in Directory.EnumerateFiles(layout.WritersDir))
        {
            var name = Path.GetFileName(path);
            var dash = name.LastIndexOf('-');
            if (dash <= 0 || ProcessOwner.ParseToken(name[..dash]) is not { } owner || owner.Status() != OwnerStatus.Dead)
            {
                continue;
            }

            DateTimeOffset? opened = null;
            try
            {
                opened = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
            }
            catch (IOException)
            {
            }

            dead.Add(new DeadWriter(path, owner, opened));
        }

        return dead;
    }

    /// <summary>Removes the markers of dead writers whose debris has been swept.</summary>
    public static void Forget(IEnumerable<DeadWriter> writers)
    {
        foreach (var writer in writers)
        {
            try
            {
                File.Delete(writer.MarkerPath);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed class Marker(string path) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A marker that outlives its process only costs the next writer one sweep.
            }
        }
    }
}
