using Trove.Domain;
using Trove.Library;
using Trove.Search.Engine;

namespace Trove.Application.Ports;

/// <summary>
/// The rebuildable index over a library's files. Everything in it can be recomputed from the files
/// (see <c>RebuildService</c>). Implementations: SQLite (embedded default); PostgreSQL later. Every
/// implementation must pass the conformance suite in tests/Trove.Index.Conformance.
/// <para>
/// An instance serves many concurrent callers (the server's requests). At most one transaction is open on it at a
/// time (<see cref="BeginAsync"/> waits for the open one to end). Reads made while a transaction is open see its
/// uncommitted writes — except the change-tracking reads (<see cref="GetChangeStateAsync"/>,
/// <see cref="ReadSearchDocumentsAsync"/>, <see cref="RemovedSinceAsync"/>, <see cref="ListAliasesAsync"/>), which
/// always show committed state only.
/// </para>
/// </summary>
public interface ILibraryIndex : IAsyncDisposable
{
    /// <summary>Short engine name for messages ("sqlite").</summary>
    string Engine { get; }

    /// <summary>True when the index was just created (or found unusable and recreated) and needs a rebuild.</summary>
    bool IsNew { get; }

    /// <summary>
    /// Opens the write transaction. While another transaction is open on this instance, waits until it is committed or
    /// disposed (cancelling <paramref name="ct"/> stops the wait with <see cref="OperationCanceledException"/>): a
    /// caller must not begin a second transaction while holding one.
    /// </summary>
    Task<IIndexTransaction> BeginAsync(CancellationToken ct);

    Task<string?> GetMetaAsync(string key, CancellationToken ct);

    /// <summary>Ids (library and trash) starting with <paramref name="prefix"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<string>> FindIdsByPrefixAsync(string prefix, int limit, CancellationToken ct);

    Task<IndexedMedia?> GetMediaAsync(string id, CancellationToken ct);

    Task<long> CountMediaAsync(bool inTrash, CancellationToken ct);

    /// <summary>Stamps of every indexed sidecar, for reconciling with the files.</summary>
    Task<IReadOnlyDictionary<string, IndexedStamp>> GetSidecarStampsAsync(CancellationToken ct);

    /// <summary>Stamp of the vocabulary file the index was built from (null if none).</summary>
    Task<FileStamp?> GetVocabularyStampAsync(CancellationToken ct);

    Task<IReadOnlyDictionary<string, FileStamp>> GetCollectionStampsAsync(CancellationToken ct);

    /// <summary>Media (library and trash) that carry any of these tags.</summary>
    Task<IReadOnlyList<string>> MediaWithAnyTagAsync(IReadOnlyCollection<string> tags, CancellationToken ct);

    /// <summary>Members of a collection (library and trash) in collection order.</summary>
    Task<IReadOnlyList<CollectionMember>> CollectionMembersAsync(string collectionId, CancellationToken ct);

    Task<IReadOnlyList<IndexedCollection>> ListCollectionsAsync(CancellationToken ct);

    /// <summary>All tags that are used, described, categorised or named by the vocabulary, with counts over library media.</summary>
    Task<IReadOnlyList<TagCount>> ListTagsAsync(CancellationToken ct);

    /// <summary>Canonical tag names matching a '*' wildcard pattern.</summary>
    Task<IReadOnlyList<string>> ExpandWildcardAsync(string pattern, int limit, CancellationToken ct);

    Task<IReadOnlyList<string>> TrashedIdsAsync(CancellationToken ct);

    /// <summary>Media in the library (not the trash) that have a relation of this type pointing at <paramref name="target"/>, by id.</summary>
    Task<IReadOnlyList<string>> ReferencingAsync(string target, string relationType, CancellationToken ct);

    /// <summary>Perceptual hashes of every image (kind image, not in the trash) that has them, ordered by id.</summary>
    Task<IReadOnlyList<IndexedHashes>> ListPerceptualHashesAsync(CancellationToken ct);

    /// <summary>Every face of the media in the library (not the trash), ordered by media id and face id.</summary>
    Task<IReadOnlyList<IndexedFace>> ListFacesAsync(CancellationToken ct);

    /// <summary>
    /// Where the index stands, for keeping an in-memory search engine in step (also with other processes). Committed
    /// state only, also while a transaction is open on this instance.
    /// </summary>
    Task<IndexChangeState> GetChangeStateAsync(CancellationToken ct);

    /// <summary>
    /// Media (library and trash) written after change number <paramref name="afterSeq"/> (0: all), by key. Committed
    /// state only, also while a transaction is open on this instance (its uncommitted writes are not shown).
    /// </summary>
    IAsyncEnumerable<SearchDocument> ReadSearchDocumentsAsync(long afterSeq, CancellationToken ct);

    /// <summary>Keys of media removed from the index after change number <paramref name="afterSeq"/>. Committed state only.</summary>
    Task<IReadOnlyList<int>> RemovedSinceAsync(long afterSeq, CancellationToken ct);

    /// <summary>The alias table (alias → canonical tag), for the search engine. Committed state only.</summary>
    Task<IReadOnlyList<KeyValuePair<string, string>>> ListAliasesAsync(CancellationToken ct);
    /// <summary>
    /// The review queue: library media (not the trash) with pending suggestions matching <paramref name="filter"/>, best
    /// matching confidence first, then by id; each with its matching pending suggestions (best first, then by tag).
    /// At most <see cref="PendingSuggestionFilter.Limit"/> media, after <see cref="PendingSuggestionFilter.After"/>.
    /// </summary>
    Task<PendingSuggestionPage> PendingSuggestionsAsync(PendingSuggestionFilter filter, CancellationToken ct);

    /// <summary>Suggestion counts over library media (not the trash): per model and version, and the most suggested and most rejected tags.</summary>
    Task<SuggestionStatsRows> SuggestionStatsAsync(int topTags, CancellationToken ct);
}

/// <summary>
/// The index's change counters: <see cref="Epoch"/> changes when it is emptied and refilled; <see cref="ChangeSeq"/>
/// is the last media change; <see cref="CatalogSeq"/> the last vocabulary/collection change; <see cref="MaxKey"/> the
/// largest media key in use.
/// </summary>
public sealed record IndexChangeState(string Epoch, long ChangeSeq, long CatalogSeq, long MaxKey);

public interface IIndexTransaction : IAsyncDisposable
{
    Task UpsertMediaAsync(MediaSidecar sidecar, bool inTrash, FileStamp stamp, CancellationToken ct);

    Task RemoveMediaAsync(string id, CancellationToken ct);

    /// <summary>Replaces the indexed vocabulary (categories, tag info, aliases, implications).</summary>
    Task SetVocabularyAsync(Vocabulary vocabulary, FileStamp? stamp, CancellationToken ct);

    Task UpsertCollectionAsync(CollectionDefinition collection, FileStamp stamp, CancellationToken ct);

    Task RemoveCollectionAsync(string collectionId, CancellationToken ct);

    /// <summary>Empties every table (used by rebuild, inside the same transaction as the refill).</summary>
    Task ClearAsync(CancellationToken ct);

    Task SetMetaAsync(string key, string value, CancellationToken ct);

    Task CommitAsync(CancellationToken ct);
}

public interface ILibraryIndexFactory
{
    /// <summary>Opens (creating if needed) the index of a library. A corrupt index file is replaced and reported as new.</summary>
    Task<ILibraryIndex> OpenAsync(LibraryLayout layout, CancellationToken ct);
}

public sealed record IndexedStamp(FileStamp Stamp, bool InTrash, long Revision);

public sealed record IndexedMedia(
    string Id,
    bool InTrash,
    string Kind,
    string Ext,
    string MediaType,
    long Size,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Revision,
    IReadOnlyList<string> Tags);

/// <summary>A media's perceptual hashes (the bits of the 64-bit pHash and dHash) and its displayed size.</summary>
public sealed record IndexedHashes(string Id, ulong PHash, ulong DHash, int Width, int Height, long Size);

/// <summary>A face as the index knows it: enough to match and cluster without reading sidecars.</summary>
public sealed record IndexedFace(string MediaId, int FaceId, string Status, string? Person, bool Usable, IReadOnlyList<string> RejectedFor);

public sealed record CollectionMember(string MediaId, long Position, bool InTrash);

public sealed record IndexedCollection(string Id, string Name, string? Description, IReadOnlyList<string> Tags, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, long MemberCount);

public sealed record TagCount(string Name, string Category, long Count, string? Description, IReadOnlyList<string> Implies, IReadOnlyList<string> Aliases);

/// <summary>Which pending suggestions the review queue shows (null: any); bounds are inclusive.</summary>
/// <param name="After">Keyset position: continue after the media with this best confidence and id.</param>
public sealed record PendingSuggestionFilter(string? Model, string? ModelVersion, string? Tag, double? MinConfidence, double? MaxConfidence, int Limit, PendingSuggestionCursor? After = null);

public sealed record PendingSuggestionCursor(double Confidence, string MediaId);

public sealed record PendingSuggestionRow(string Tag, double Confidence, string? Model, string? ModelVersion);

/// <param name="BestConfidence">The highest confidence among <paramref name="Suggestions"/> (the queue's order).</param>
/// <param name="PendingTotal">All pending suggestions of the media, matching the filter or not.</param>
public sealed record PendingSuggestionMedia(string MediaId, double BestConfidence, long PendingTotal, IReadOnlyList<PendingSuggestionRow> Suggestions);

/// <param name="TotalMedia">Media matching the filter (all pages).</param>
/// <param name="TotalSuggestions">Pending suggestions matching the filter (all pages).</param>
public sealed record PendingSuggestionPage(IReadOnlyList<PendingSuggestionMedia> Items, long TotalMedia, long TotalSuggestions);

public sealed record SuggestionStatusCounts(long Pending, long Approved, long Rejected)
{
    public long Total => Pending + Approved + Rejected;

    public long Reviewed => Approved + Rejected;
}

public sealed record SuggestionModelCounts(string? Model, string? ModelVersion, SuggestionStatusCounts Counts);

public sealed record SuggestionTagCounts(string Tag, SuggestionStatusCounts Counts);

/// <param name="ByModel">One row per (model, version), by model then version.</param>
/// <param name="TopSuggested">Tags by number of suggestions (any status), then by name.</param>
/// <param name="TopRejected">Tags with rejections, by number of rejections, then by name.</param>
public sealed record SuggestionStatsRows(IReadOnlyList<SuggestionModelCounts> ByModel, IReadOnlyList<SuggestionTagCounts> TopSuggested, IReadOnlyList<SuggestionTagCounts> TopRejected);
