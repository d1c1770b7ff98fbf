using System.Security.Cryptography;
using System.Text;
using Trove.Application.Ports;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Library;
using Trove.Search.Engine;

namespace Trove.Index.Conformance;

/// <summary>
/// The behaviour every <see cref="ILibraryIndex"/> must have. An engine's test project derives a sealed class from
/// this one and implements <see cref="CreateIndexAsync"/>; xunit runs every inherited [Fact] against that engine.
/// Each test gets a fresh temporary directory and a fresh, empty index in it.
/// </summary>
public abstract partial class LibraryIndexConformanceTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected static readonly CancellationToken Ct = CancellationToken.None;

    private string? _directory;
    private ILibraryIndex? _index;

    /// <summary>The temporary directory of the current test (deleted afterwards).</summary>
    protected string IndexDirectory => _directory ?? throw new InvalidOperationException("The test has not been initialised.");

    /// <summary>The index under test.</summary>
    protected ILibraryIndex Index => _index ?? throw new InvalidOperationException("The index is not open.");

    /// <summary>Creates a new, empty index whose storage lives in (or is keyed by) <paramref name="directory"/>.</summary>
    protected abstract Task<ILibraryIndex> CreateIndexAsync(string directory);

    /// <summary>Opens the index previously created for <paramref name="directory"/> again, keeping its data.</summary>
    protected virtual Task<ILibraryIndex> ReopenIndexAsync(string directory) => CreateIndexAsync(directory);

    /// <summary>
    /// Opens a second instance on the storage of <paramref name="directory"/> while the first stays open, as another
    /// process would (the CLI next to a running server). By default the same as <see cref="ReopenIndexAsync"/>.
    /// </summary>
    protected virtual Task<ILibraryIndex> OpenSecondInstanceAsync(string directory) => ReopenIndexAsync(directory);

    /// <summary>Releases engine resources after the index has been disposed (before the directory is deleted).</summary>
    protected virtual Task CleanupAsync(string directory) => Task.CompletedTask;

    private readonly List<LibrarySearch> _searches = [];

    public async Task InitializeAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "trove-index-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _index = await CreateIndexAsync(_directory);
    }

    public async Task DisposeAsync()
    {
        foreach (var search in _searches)
        {
            search.Dispose();
        }

        if (_index is not null)
        {
            await _index.DisposeAsync();
            _index = null;
        }

        if (_directory is not null)
        {
            await CleanupAsync(_directory);
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
    }

    /// <summary>Disposes the index and opens it again from its storage.</summary>
    protected async Task ReopenAsync()
    {
        var index = Index;
        _index = null;
        await index.DisposeAsync();
        _index = await ReopenIndexAsync(IndexDirectory);
    }

    /// <summary>A valid media id (64 lowercase hex) derived from <paramref name="n"/>.</summary>
    protected static string IdOf(int n) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("media-" + n)));

    /// <summary>A valid media id that starts with <paramref name="prefix"/> (lowercase hex).</summary>
    protected static string IdWithPrefix(string prefix, int n) => prefix + IdOf(n)[prefix.Length..];

    protected static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];

    protected static MediaSidecar Sidecar(string id, params string[] tags) => new()
    {
        Id = id,
        Revision = 1,
        Kind = MediaKinds.Image,
        Original = new OriginalInfo { Ext = "jpg", MediaType = "image/jpeg", Size = 1000, Width = 640, Height = 480, OriginalName = "photo.jpg" },
        CreatedAt = T0,
        UpdatedAt = T0,
        Tags = [.. tags.Select(t => new TagEntry { Name = t, AddedAt = T0, Source = TagSources.Manual })],
    };

    protected static MediaSidecar Sidecar(int n, params string[] tags) => Sidecar(IdOf(n), tags);

    protected static FileStamp StampFor(MediaSidecar sidecar) =>
        new(2000 + sidecar.Revision, T0.UtcTicks + sidecar.Revision, Digest(sidecar.Id + "/" + sidecar.Revision));

    protected static CollectionMembership Member(string collectionId, long position) =>
        new() { Collection = collectionId, Position = position, AddedAt = T0 };

    protected static CollectionDefinition Collection(string id, string name, string? description = null, params string[] tags) => new()
    {
        Id = id,
        Name = name,
        Description = description,
        Tags = [.. tags],
        CreatedAt = T0,
        UpdatedAt = T0.AddDays(1),
    };

    protected static string[] Sorted(IEnumerable<string> values) => [.. values.Order(StringComparer.Ordinal)];

    /// <summary>Runs <paramref name="write"/> in a transaction and commits it.</summary>
    protected async Task WriteAsync(Func<IIndexTransaction, Task> write)
    {
        await using var tx = await Index.BeginAsync(Ct);
        await write(tx);
        await tx.CommitAsync(Ct);
    }

    protected Task UpsertAsync(params MediaSidecar[] sidecars) => UpsertAsync(inTrash: false, sidecars);

    protected Task UpsertTrashAsync(params MediaSidecar[] sidecars) => UpsertAsync(inTrash: true, sidecars);

    protected Task UpsertCollectionAsync(CollectionDefinition collection, FileStamp stamp) =>
        WriteAsync(tx => tx.UpsertCollectionAsync(collection, stamp, Ct));

    protected Task SetVocabularyAsync(Vocabulary vocabulary, FileStamp? stamp = null) =>
        WriteAsync(tx => tx.SetVocabularyAsync(vocabulary, stamp, Ct));

    /// <summary>
    /// Loads a fresh search engine from <paramref name="index"/> (the index under test by default) the way the
    /// application does on a cold start: every search document, the aliases and the collection catalog.
    /// </summary>
    protected async Task<SearchIndex> LoadSearchIndexAsync(ILibraryIndex? index = null)
    {
        var search = new LibrarySearch(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        _searches.Add(search);
        return await search.ReadyAsync(index ?? Index, Ct);
    }

    /// <summary>Runs <paramref name="query"/> (query language text) on a search engine freshly loaded from the index.</summary>
    protected async Task<SearchResults> SearchAsync(string query, int limit = 1000, int offset = 0)
    {
        using var engine = await LoadSearchIndexAsync();
        return engine.Search(query, new SearchRequest(limit, offset), Ct);
    }

    /// <summary>Searches and checks that the page holds everything (Total equals the number of ids, no duplicates).</summary>
    protected async Task<string[]> SearchAllAsync(string query)
    {
        var page = await SearchAsync(query);
        Assert.Equal(page.Total, page.Ids.Count);
        Assert.Equal(page.Ids.Count, page.Ids.Distinct(StringComparer.Ordinal).Count());
        return [.. page.Ids];
    }

    /// <summary>Every search document the index yields after change number <paramref name="afterSeq"/>.</summary>
    protected async Task<List<SearchDocument>> ReadDocumentsAsync(long afterSeq, ILibraryIndex? index = null)
    {
        var result = new List<SearchDocument>();
        await foreach (var doc in (index ?? Index).ReadSearchDocumentsAsync(afterSeq, Ct))
        {
            result.Add(doc);
        }

        return result;
    }

    protected async Task<Dictionary<string, TagCount>> TagsByNameAsync()
    {
        var tags = await Index.ListTagsAsync(Ct);
        return tags.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    private Task UpsertAsync(bool inTrash, MediaSidecar[] sidecars) => WriteAsync(async tx =>
    {
        foreach (var sidecar in sidecars)
        {
            await tx.UpsertMediaAsync(sidecar, inTrash, StampFor(sidecar), Ct);
        }
    });
}
