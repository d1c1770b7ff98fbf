using Trove.Library.Embeddings;
using Trove.Search.Engine;
using Trove.Search.Vectors;

namespace Trove.Application.Search;

/// <summary>
/// The embeddings of the library's embedder in memory, beside the search engine (docs/semantic-search.md, "Vector
/// index"): a <see cref="VectorIndex"/> whose slots are the engine's document keys, filled from the embeddings file and
/// kept in step with it — before each semantic search, what was appended since (by this process or a worker) is read
/// from where the last read stopped; a file that was compacted or replaced is read again from the start. Vectors of
/// media the engine does not hold yet wait until it does. A rebuilt engine (new keys) starts over.
/// </summary>
public sealed class SemanticVectors : IDisposable
{
    /// <summary>From this many vectors on, approximate inverted lists answer broad queries (built again when the count doubles).</summary>
    public const int ListsFrom = 50_000;

    private const int MaxPending = 100_000;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Lock _sync = new();
    private readonly Dictionary<string, float[]> _pending = new(StringComparer.Ordinal);

    // Vectors of media that left the engine (purged, or trashed and purged): the file still holds them and a re-import
    // of the same bytes (same id) gets them back without reading the file again.
    private readonly Dictionary<string, float[]> _parked = new(StringComparer.Ordinal);
    private string? _reference;
    private string? _path;
    private VectorIndex? _index;
    private long _end;
    private uint _lastChecksum;
    private int _listsBuiltAt;

    /// <summary>Vectors held (0 before the first semantic search).</summary>
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _index?.Count ?? 0;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>
    /// Brings the vectors of <paramref name="reference"/> (stored in <paramref name="path"/>) up to date, then runs
    /// <paramref name="read"/> on them while no update can run.
    /// </summary>
    public T Read<T>(SearchIndex engine, string reference, int dimensions, string path, Func<VectorIndex, T> read)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(read);
        Sync(engine, reference, dimensions, path);
        _lock.EnterReadLock();
        try
        {
            return read(_index!);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Adds vectors this process just stored (they are in the file too; the next read skips them as already seen).</summary>
    public void Offer(SearchIndex engine, string reference, IReadOnlyList<EmbeddingRecord> records)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(records);
        lock (_sync)
        {
            if (_reference != reference || _index is null)
            {
                return;
            }

            Apply(engine, records.Select(r => (r.Id, r.Vector)).ToList());
        }
    }

    /// <summary>The engine reloaded from scratch (its keys may differ): start over at the next read.</summary>
    public void Reset()
    {
        lock (_sync)
        {
            _lock.EnterWriteLock();
            try
            {
                _index = null;
                _reference = null;
                _pending.Clear();
                _parked.Clear();
            }
            finally
            {
                _lock.ExitWriteLock();
            }
        }
    }

    /// <summary>
    /// Documents are leaving the engine (call before removing them from it): their vectors leave their keys (a key given
    /// to another media later must not keep them) and are parked by media id, for <see cref="Returned"/>.
    /// </summary>
    public void Remove(SearchIndex engine, IReadOnlyCollection<int> keys)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return;
        }

        lock (_sync)
        {
            _lock.EnterWriteLock();
            try
            {
                foreach (var key in keys)
                {
                    if (_index is not { } index || !index.Contains(key))
                    {
                        continue;
                    }

                    if (engine.IdOf(key) is { } id && _parked.Count < MaxPending)
                    {
                        _parked[id] = index.Vector(key);
                    }

                    index.Remove(key);
                }
            }
            finally
            {
                _lock.ExitWriteLock();
            }
        }
    }

    /// <summary>Documents (re-)entered the engine: the vectors parked for their ids go to their new keys.</summary>
    public void Returned(SearchIndex engine, IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(ids);
        lock (_sync)
        {
            if (_parked.Count == 0 || _index is null)
            {
                return;
            }

            var back = new List<(string Id, float[] Vector)>();
            foreach (var id in ids)
            {
                if (_parked.Remove(id, out var vector))
                {
                    back.Add((id, vector));
                }
            }

            if (back.Count > 0)
            {
                Apply(engine, back);
            }
        }
    }

    /// <summary>Whether any vector waits for its media to come back (so that callers can skip collecting ids).</summary>
    public bool HasParked
    {
        get
        {
            lock (_sync)
            {
                return _parked.Count > 0;
            }
        }
    }

    public void Dispose() => _lock.Dispose();

    private void Sync(SearchIndex engine, string reference, int dimensions, string path)
    {
        lock (_sync)
        {
            if (_reference != reference || _index is null || _index.Dimensions != dimensions || _path != path)
            {
                Start(engine, reference, dimensions, path);
            }

            var length = File.Exists(path) ? new FileInfo(path).Length : 0;
            if (length != _end && _end > 0 && (length < _end || EmbeddingFile.ChecksumBefore(path, dimensions, _end) != _lastChecksum))
            {
                Start(engine, reference, dimensions, path); // compacted or replaced: read it all again
            }

            var records = new List<(string Id, float[] Vector)>();
            if (length > _end || _end == 0)
            {
                var scan = EmbeddingFile.Scan(path, reference, dimensions, _end, (id, vector) => records.Add((id, vector)));
                if (scan.End > _end)
                {
                    (_end, _lastChecksum) = (scan.End, scan.LastChecksum);
                }
            }

            if (records.Count > 0 || _pending.Count > 0)
            {
                Apply(engine, records);
            }
        }
    }

    private void Start(SearchIndex engine, string reference, int dimensions, string path)
    {
        _lock.EnterWriteLock();
        try
        {
            _index = new VectorIndex(dimensions, Math.Max(1024, engine.Count));
            _reference = reference;
            _path = path;
            _end = 0;
            _lastChecksum = 0;
            _listsBuiltAt = 0;
            _pending.Clear();
            _parked.Clear();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    // Under _sync: sets each vector at its media's key (or keeps it pending), then builds the lists when due.
    private void Apply(SearchIndex engine, List<(string Id, float[] Vector)> records)
    {
        var keyed = new List<(int Key, float[] Vector)>(records.Count + _pending.Count);
        foreach (var (id, vector) in _pending.ToList())
        {
            if (engine.KeyOf(id) is var key and >= 0)
            {
                keyed.Add((key, vector));
                _pending.Remove(id);
            }
        }

        foreach (var (id, vector) in records)
        {
            if (engine.KeyOf(id) is var key and >= 0)
            {
                keyed.Add((key, vector));
                _pending.Remove(id);
            }
            else if (_pending.Count < MaxPending)
            {
                _pending[id] = vector;
            }
        }

        if (keyed.Count == 0)
        {
            return;
        }

        _lock.EnterWriteLock();
        try
        {
            var index = _index!;
            foreach (var (key, vector) in keyed)
            {
                index.Set(key, vector);
            }

            if (index.Count >= ListsFrom && index.Count >= 2 * _listsBuiltAt)
            {
                index.BuildLists();
                _listsBuiltAt = index.Count;
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }
}
