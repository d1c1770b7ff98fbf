using Trove.Application.Inference;
using Trove.Library.Embeddings;

namespace Trove.Application.Embeddings;

/// <summary>
/// A library's embedder and its stored embeddings: the loaded models (kept until the active version or its files change;
/// versions replaced stay loaded until the library closes, since a search may still be using them), and the
/// embeddings file of each version (<c>embeddings/MODEL/VERSION.vec</c>, docs/library-format.md).
/// </summary>
public sealed class LibraryEmbeddings(TroveLibrary library) : IDisposable
{
    private readonly LoadedModelCache<Embedder> _loaded = new();

    /// <summary>The loaded embedder for <paramref name="active"/> (loaded now if needed).</summary>
    public Embedder Get(ActiveEmbedder active)
    {
        ArgumentNullException.ThrowIfNull(active);
        var files = active.Version.Files ?? [];
        var key = string.Join('\n', [active.Reference, active.Version.File, .. files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}"), active.Model.Parameters?.ToJsonString() ?? string.Empty]);
        return _loaded.Get(key, () => Embedder.Load(library, active));
    }

    /// <summary>Where the embeddings of a version are stored.</summary>
    public string PathOf(ActiveEmbedder active)
    {
        ArgumentNullException.ThrowIfNull(active);
        return library.Layout.EmbeddingPath(active.Model.Id, active.Version.Version);
    }

    /// <summary>The ids that have an embedding from <paramref name="active"/>.</summary>
    public HashSet<string> EmbeddedIds(ActiveEmbedder active, int dimensions)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        EmbeddingFile.Scan(PathOf(active), active.Reference, dimensions, 0, (id, _) => ids.Add(id));
        return ids;
    }

    /// <summary>
    /// Stores embeddings (appended under the library write lock, so that processes never interleave records) and hands
    /// them to this process's search at once.
    /// </summary>
    public async Task StoreAsync(ActiveEmbedder active, int dimensions, IReadOnlyList<EmbeddingRecord> records, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        await using (await library.BeginWriteAsync(ct).ConfigureAwait(false))
        {
            EmbeddingFile.Append(PathOf(active), active.Reference, dimensions, records, library.Options.Durability);
        }

        library.Search.Vectors.Offer(library.Search.Engine, active.Reference, records);
    }

    public void Dispose() => _loaded.Dispose();
}
