using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application;

/// <summary>
/// A stretch of writes under the library write lock. Each change goes to its file first (atomically),
/// then into the open index transaction, which is committed every <see cref="TroveOptions.IndexBatchSize"/>
/// media and when the session ends — also when it ends by an exception, because the files written so far
/// are the truth and the index should say so. If the process dies before a commit, the next open
/// reconciles the index from the changed sidecars.
/// </summary>
public sealed class WriteSession : IAsyncDisposable
{
    private readonly IDisposable _lock;
    private readonly List<AuditEntry> _audit = [];
    private IIndexTransaction? _tx;
    private int _pending;
    private Vocabulary? _vocabulary;
    private bool _disposed;

    internal WriteSession(TroveLibrary library, IDisposable writeLock)
    {
        Library = library;
        _lock = writeLock;
    }

    public TroveLibrary Library { get; }

    /// <summary>What was swept after dead processes as this session began (usually nothing).</summary>
    public Recovery.SweepReport Recovered { get; internal set; } = Recovery.SweepReport.Empty;

    public DateTimeOffset Now => Library.Now;

    /// <summary>The vocabulary as it is on disk now (read once per session, under the lock).</summary>
    public Vocabulary Vocabulary => _vocabulary ??= Library.Files.ReadVocabulary(out _);

    public StoredSidecar? TryRead(string id) => Library.Files.TryReadSidecar(id);

    public StoredSidecar Read(string id) => Library.Files.ReadSidecar(id);

    /// <summary>Writes a sidecar (bumping its revision) and indexes it.</summary>
    public async Task SaveAsync(MediaSidecar sidecar, bool inTrash, CancellationToken ct)
    {
        sidecar.Revision++;
        sidecar.UpdatedAt = Now;
        var stamp = Write(() => Library.Files.WriteSidecar(sidecar, inTrash));
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.UpsertMediaAsync(sidecar, inTrash, stamp, ct).ConfigureAwait(false);
        await TickAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Moves a media to or from the trash and indexes the new location.</summary>
    public async Task MoveAsync(MediaSidecar sidecar, bool toTrash, CancellationToken ct)
    {
        sidecar.Revision++;
        sidecar.UpdatedAt = Now;
        var stamp = Write(() => Library.Files.MoveMedia(sidecar, toTrash));
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.UpsertMediaAsync(sidecar, toTrash, stamp, ct).ConfigureAwait(false);
        await TickAsync(ct).ConfigureAwait(false);
    }

    public async Task PurgeAsync(MediaSidecar sidecar, CancellationToken ct)
    {
        Write(() =>
        {
            Library.Files.Purge(sidecar);
            return 0;
        });
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.RemoveMediaAsync(sidecar.Id, ct).ConfigureAwait(false);
        await TickAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Writes the (modified) session vocabulary and indexes it.</summary>
    public async Task SaveVocabularyAsync(CancellationToken ct)
    {
        var vocabulary = Vocabulary;
        var stamp = Write(() => Library.Files.WriteVocabulary(vocabulary));
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.SetVocabularyAsync(vocabulary, stamp, ct).ConfigureAwait(false);
    }

    /// <summary>Writes the model registry (models.json; not indexed).</summary>
    public void SaveModels(Trove.Domain.Models.ModelCatalog catalog) => Write(() =>
    {
        Library.Files.WriteModels(catalog);
        return 0;
    });

    /// <summary>Writes the remote providers (providers.json; not indexed).</summary>
    public void SaveProviders(Trove.Domain.Models.ProviderCatalog catalog) => Write(() =>
    {
        Library.Files.WriteProviders(catalog);
        return 0;
    });

    /// <summary>Writes a person's file (people are not indexed; the search engine reads them from the folder).</summary>
    public void SavePerson(Trove.Domain.Faces.Person person)
    {
        ArgumentNullException.ThrowIfNull(person);
        person.Revision++;
        person.UpdatedAt = Now;
        Write(() =>
        {
            Library.Files.WritePerson(person);
            return 0;
        });
        Library.People.Changed();
    }

    public void DeletePerson(string personId)
    {
        Write(() =>
        {
            Library.Files.DeletePerson(personId);
            return 0;
        });
        Library.People.Changed();
    }

    public async Task SaveCollectionAsync(CollectionDefinition collection, CancellationToken ct)
    {
        collection.UpdatedAt = Now;
        var stamp = Write(() => Library.Files.WriteCollection(collection));
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.UpsertCollectionAsync(collection, stamp, ct).ConfigureAwait(false);
    }

    public async Task DeleteCollectionAsync(string collectionId, CancellationToken ct)
    {
        Write(() =>
        {
            Library.Files.DeleteCollection(collectionId);
            return 0;
        });
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.RemoveCollectionAsync(collectionId, ct).ConfigureAwait(false);
    }

    /// <summary>Indexes a sidecar as it is on disk (no file write): used by repair.</summary>
    public async Task ReindexAsync(StoredSidecar stored, CancellationToken ct)
    {
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.UpsertMediaAsync(stored.Sidecar, stored.InTrash, stored.Stamp, ct).ConfigureAwait(false);
        await TickAsync(ct).ConfigureAwait(false);
    }

    public async Task UnindexAsync(string id, CancellationToken ct)
    {
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.RemoveMediaAsync(id, ct).ConfigureAwait(false);
        await TickAsync(ct).ConfigureAwait(false);
    }

    public async Task ReindexVocabularyAsync(CancellationToken ct)
    {
        _vocabulary = Library.Files.ReadVocabulary(out var stamp);
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.SetVocabularyAsync(_vocabulary, stamp, ct).ConfigureAwait(false);
    }

    public async Task ReindexCollectionAsync(CollectionDefinition collection, FileStamp stamp, CancellationToken ct)
    {
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.UpsertCollectionAsync(collection, stamp, ct).ConfigureAwait(false);
    }

    public async Task UnindexCollectionAsync(string collectionId, CancellationToken ct)
    {
        var tx = await TxAsync(ct).ConfigureAwait(false);
        await tx.RemoveCollectionAsync(collectionId, ct).ConfigureAwait(false);
    }

    public void Audit(string action, string target, string? detail = null) =>
        _audit.Add(new AuditEntry(Now, Library.Actor, action, target, detail));

    /// <summary>Commits the index writes so far (the files are already written).</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (_tx is not null)
        {
            var tx = _tx;
            _tx = null;
            _pending = 0;
            try
            {
                await tx.CommitAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                await tx.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_audit.Count > 0)
        {
            var entries = _audit.ToArray();
            _audit.Clear();
            await Library.State.AppendAuditAsync(entries, ct).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            // Not cancellable: what reached the files must reach the index.
            await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _lock.Dispose();
        }
    }

    private T Write<T>(Func<T> write)
    {
        try
        {
            return write();
        }
        catch (IOException ex) when (IsDiskFull(ex))
        {
            throw DiskFull(Library.Layout, ex);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException || (ex is IOException io && IsReadOnly(io)))
        {
            throw TroveLibrary.ReadOnly(Library.Layout, ex);
        }
    }

    internal static TroveException DiskFull(LibraryLayout layout, IOException ex) => new(
        "disk-full",
        $"The disk holding {layout.Root} is full: {ex.Message}",
        "Free some space and run the command again; the file being written was left as it was.",
        ex);

    internal static bool IsDiskFull(IOException ex) => (ex.HResult & 0xFFFF) is 28 or 122 || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    internal static bool IsReadOnly(IOException ex) => (ex.HResult & 0xFFFF) is 30 or 13 || ex.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase);

    private async Task<IIndexTransaction> TxAsync(CancellationToken ct) =>
        _tx ??= await Library.Index.BeginAsync(ct).ConfigureAwait(false);

    private async Task TickAsync(CancellationToken ct)
    {
        if (++_pending >= Library.Options.IndexBatchSize)
        {
            await FlushAsync(ct).ConfigureAwait(false);
        }
    }
}
