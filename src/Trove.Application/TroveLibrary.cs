using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application;

/// <summary>What opening a library needs from the host: engines, settings, clock, logging, who is acting.</summary>
public sealed record LibraryEnvironment(
    ILibraryIndexFactory IndexFactory,
    IStateStoreFactory StateFactory,
    TroveOptions Options,
    TimeProvider Time,
    ILoggerFactory LoggerFactory,
    string Actor)
{
    /// <summary>Pixel operations (libvips at the edge); without it, imports still store files but skip thumbnails and hashes.</summary>
    public IImageEngine Imaging { get; init; } = new UnavailableImageEngine("Image processing is not configured in this host.");

    /// <summary>Model inference (ONNX Runtime at the edge); without it, everything but running models keeps working.</summary>
    public Inference.IInferenceEngine Inference { get; init; } = new Inference.UnavailableInferenceEngine("Model inference is not configured in this host.");

    /// <summary>Remote model providers over HTTP (Trove.Providers.Http at the edge); without it, remote models cannot run.</summary>
    public Providers.IRemoteModels Remote { get; init; } = new Providers.UnavailableRemoteModels("Remote model providers are not configured in this host.");

    public static LibraryEnvironment Create(ILibraryIndexFactory index, IStateStoreFactory state, TroveOptions? options = null, string actor = "test") =>
        new(index, state, options ?? new TroveOptions(), TimeProvider.System, NullLoggerFactory.Instance, actor);
}

/// <summary>An open library: its files, index and state, and the one way to change them (<see cref="BeginWriteAsync"/>).</summary>
public sealed class TroveLibrary : IAsyncDisposable
{
    private TroveLibrary(LibraryLayout layout, LibraryManifest manifest, ILibraryIndex index, IStateStore state, LibraryEnvironment env)
    {
        Layout = layout;
        Manifest = manifest;
        Index = index;
        State = state;
        Environment = env;
        Files = new LibraryFiles(layout, env.Options.Durability);
        Logger = env.LoggerFactory.CreateLogger("Trove.Library");
        Search = new Search.LibrarySearch(env.LoggerFactory.CreateLogger("Trove.Search"));
        Embeddings = new Embeddings.LibraryEmbeddings(this);
        Faces = new Faces.LibraryFaces(this);
        People = new Faces.PeopleDirectory(this);
        Search.People = People;
    }

    public LibraryLayout Layout { get; }

    public LibraryManifest Manifest { get; }

    public LibraryFiles Files { get; }

    public ILibraryIndex Index { get; }

    public IStateStore State { get; }

    public LibraryEnvironment Environment { get; }

    public TroveOptions Options => Environment.Options;

    public TimeProvider Time => Environment.Time;

    /// <summary>Who is acting: the account a host is serving right now (<see cref="ActAs"/>), else the host's own actor.</summary>
    public string Actor => _currentActor.Value ?? Environment.Actor;

    public IImageEngine Imaging => Environment.Imaging;

    public Inference.IInferenceEngine Inference => Environment.Inference;

    public Providers.IRemoteModels Remote => Environment.Remote;

    /// <summary>The in-memory search engine over this library (loaded on first search, kept in step with the index).</summary>
    public Search.LibrarySearch Search { get; }

    /// <summary>The embedder and its stored embeddings (semantic search, <c>embed</c> jobs).</summary>
    public Embeddings.LibraryEmbeddings Embeddings { get; }

    /// <summary>The face detector and embedder and the stored face embeddings (<c>faces</c> jobs).</summary>
    public Faces.LibraryFaces Faces { get; }

    /// <summary>The people files, cached.</summary>
    public Faces.PeopleDirectory People { get; }

    internal ILogger Logger { get; }

    // Per async flow: a server serves many people at once through one open library.
    private readonly AsyncLocal<string?> _currentActor = new();

    // Writers of this process queue here before taking the cross-process file lock, instead of polling it.
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    // This process's marker in locks/writers/, removed on close; one left by a dead process starts a recovery.
    private IDisposable? _writerMarker;

    public DateTimeOffset Now => Time.GetUtcNow();

    public static LibraryManifest Init(string path, LibraryEnvironment env, string? name = null) =>
        LibraryFolder.Init(path, env.Time.GetUtcNow(), env.Actor, name, env.Options.Durability);

    /// <summary>
    /// Opens a library: checks the manifest, opens the index (rebuilding it if it is new or belongs to
    /// another library) and reconciles sidecars changed since the index last saw them.
    /// </summary>
    public static async Task<TroveLibrary> OpenAsync(string path, LibraryEnvironment env, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        var layout = new LibraryLayout(path);
        var manifest = LibraryFolder.ReadManifest(layout);
        EnsureWritable(layout);

        ILibraryIndex? index = null;
        IStateStore? state = null;
        IDisposable? marker = null;
        try
        {
            index = await env.IndexFactory.OpenAsync(layout, ct).ConfigureAwait(false);
            state = await env.StateFactory.OpenAsync(layout, ct).ConfigureAwait(false);
            var library = new TroveLibrary(layout, manifest, index, state, env);
            library._writerMarker = marker = Trove.Library.Recovery.WriterMarkers.Register(layout, env.Time.GetUtcNow());
            var indexedLibrary = await index.GetMetaAsync(IndexMeta.LibraryId, ct).ConfigureAwait(false);
            if (index.IsNew || indexedLibrary != manifest.Id)
            {
                Log.IndexNeedsRebuild(library.Logger, layout.Root);
                await RebuildService.RebuildAsync(library, progress, ct).ConfigureAwait(false);
            }
            else if (env.Options.ReconcileOnOpen)
            {
                await ReconcileService.ReconcileAsync(library, waitForLock: false, ct).ConfigureAwait(false);
            }

            if (env.Options.ReconcileOnOpen)
            {
                // What dead processes staged in tmp/ goes now; their debris elsewhere goes with the next write session.
                Recovery.CrashRecovery.SweepStaging(library);
            }

            return library;
        }
        catch
        {
            marker?.Dispose();
            if (state is not null)
            {
                await state.DisposeAsync().ConfigureAwait(false);
            }

            if (index is not null)
            {
                await index.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>
    /// Takes the library write lock and starts a session in which files are written first, then the index. If a
    /// process that had the library open died since the last session, what it left is swept first
    /// (<see cref="Recovery.CrashRecovery"/>).
    /// </summary>
    public async Task<WriteSession> BeginWriteAsync(CancellationToken ct)
    {
        var writeLock = await AcquireLockAsync(ct).ConfigureAwait(false);
        var session = new WriteSession(this, writeLock);
        try
        {
            session.Recovered = await Recovery.CrashRecovery.RecoverAsync(session, ct).ConfigureAwait(false);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return session;
    }

    /// <summary>
    /// For long-running hosts (the server, a worker) at start: if a process that had the library open died, what it
    /// left is swept now instead of at the next write. Waits for the write lock like any writer; if the lock stays
    /// busy, the sweep is left to the next write session.
    /// </summary>
    public async Task<Recovery.SweepReport> RecoverAsync(CancellationToken ct)
    {
        if (Trove.Library.Recovery.WriterMarkers.Dead(Layout).Count == 0)
        {
            return Recovery.SweepReport.Empty;
        }

        try
        {
            await using var session = await BeginWriteAsync(ct).ConfigureAwait(false);
            return session.Recovered;
        }
        catch (TroveException ex) when (ex.Code == "library-busy")
        {
            return Recovery.SweepReport.Empty;
        }
    }

    /// <summary>
    /// Makes <see cref="Actor"/> return <paramref name="name"/> in this async flow (and the flows it starts) until the
    /// result is disposed: uploads, tags and audit entries made by a request are attributed to its account.
    /// </summary>
    public IDisposable ActAs(string name)
    {
        var previous = _currentActor.Value;
        _currentActor.Value = name;
        return new ActorScope(_currentActor, previous);
    }

    internal async Task<WriteLockLease> AcquireLockAsync(CancellationToken ct)
    {
        await _writeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return new WriteLockLease(await LibraryWriteLock.AcquireAsync(Layout, Options.LockTimeout, Time, ct).ConfigureAwait(false), _writeGate);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && ex is not FileNotFoundException)
        {
            _writeGate.Release();
            throw ReadOnly(Layout, ex);
        }
        catch
        {
            _writeGate.Release();
            throw;
        }
    }

    /// <summary>The file lock plus this process's place in the writers' queue; disposing releases both.</summary>
    internal sealed class WriteLockLease(LibraryWriteLock fileLock, SemaphoreSlim gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                fileLock.Dispose();
                gate.Release();
            }
        }
    }

    private sealed class ActorScope(AsyncLocal<string?> current, string? previous) : IDisposable
    {
        public void Dispose() => current.Value = previous;
    }

    /// <summary>Resolves a full id or unique prefix (≥ 6 hex characters) to a media id.</summary>
    public async Task<string> ResolveIdAsync(string raw, CancellationToken ct)
    {
        var prefix = MediaId.NormalizePrefix(raw);
        var found = await Index.FindIdsByPrefixAsync(prefix, 6, ct).ConfigureAwait(false);
        return found.Count switch
        {
            0 => throw new TroveException("media-not-found", $"No media with id '{raw}' in this library (or its trash).", "List ids with 'trove search \"\" --json'."),
            1 => found[0],
            _ => throw new TroveUsageException(
                "ambiguous-id",
                $"'{raw}' matches several media: {string.Join(", ", found.Take(5).Select(f => f[..12] + "…"))}.",
                "Give more characters of the id."),
        };
    }

    public async ValueTask DisposeAsync()
    {
        await State.DisposeAsync().ConfigureAwait(false);
        await Index.DisposeAsync().ConfigureAwait(false);
        Search.Dispose();
        Embeddings.Dispose();
        Faces.Dispose();
        _writeGate.Dispose();
        _writerMarker?.Dispose();
    }

    internal static TroveException ReadOnly(LibraryLayout layout, Exception ex) => new(
        "library-read-only",
        $"Cannot write to the library at {layout.Root}: {ex.Message}",
        "Trove needs write access to the library folder (for its index and lock). Remount it read-write or fix its permissions; nothing was changed.",
        ex);

    private static void EnsureWritable(LibraryLayout layout)
    {
        try
        {
            Directory.CreateDirectory(layout.LocksDir);
            using var probe = new FileStream(layout.WriteLockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
        }
        catch (IOException ex) when ((ex.HResult & 0xFFFF) is 11 or 32 or 33)
        {
            // On Unix the probe takes a shared flock, which fails while another process holds the write lock:
            // the file did open for writing, so the folder is writable (that writer is just busy).
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw ReadOnly(layout, ex);
        }
    }
}

/// <summary>Keys of the index's meta table.</summary>
public static class IndexMeta
{
    public const string LibraryId = "library_id";
    public const string RebuiltAt = "rebuilt_at";

    /// <summary>Changes whenever the index is emptied and refilled (in-memory search engines then reload).</summary>
    public const string SearchEpoch = "search_epoch";

    /// <summary>Last change number given to a media write or removal.</summary>
    public const string ChangeSeq = "change_seq";

    /// <summary>Change number of the last vocabulary or collection change.</summary>
    public const string CatalogSeq = "catalog_seq";
}
