using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Trove.Application;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;
using Trove.Search.Engine;

namespace Trove.Index.Sqlite;

/// <summary>
/// The embedded index: one SQLite file (WAL) per library at index/index.db, safe for many concurrent callers.
/// <para>
/// Writes go through one write connection, at most one transaction at a time: <see cref="BeginAsync"/> waits
/// (cancellably) until the open transaction is committed or disposed. Reads made while no transaction is open run in
/// parallel on pooled read connections (<c>query_only</c>, opened lazily, at most <see cref="MaxReadConnections"/>;
/// a read waits for a free one), each returned when its method completes or its enumeration ends or is disposed; a
/// read that takes several statements runs them in one read transaction, so it sees one committed snapshot. Reads made
/// while a transaction is open — by whoever makes them — see that transaction's uncommitted writes, as a caller reading
/// between its own writes needs: they run on the write connection. That connection is not thread-safe, so every use of
/// it (each transaction method, each such read) holds a per-instance async lock for that one call, never for the
/// whole transaction. The change-tracking reads (<see cref="GetChangeStateAsync"/>, <see cref="RemovedSinceAsync"/>,
/// <see cref="ReadSearchDocumentsAsync"/>, <see cref="ListAliasesAsync"/>) always read committed state from a pooled
/// connection. An enumeration of <see cref="ReadSearchDocumentsAsync"/> holds its connection until it ends: reading
/// from the same instance inside that loop takes a second one.
/// </para>
/// </summary>
public sealed class SqliteLibraryIndex : ILibraryIndex
{
    private const string VocabularyStampKey = "vocabulary_stamp";
    private readonly SqliteConnection _connection;
    private readonly string _path;

    /// <summary>Held for each use of <see cref="_connection"/> (the write connection).</summary>
    private readonly SemaphoreSlim _connectionLock = new(1, 1);

    /// <summary>Held from <see cref="BeginAsync"/> until that transaction is committed or disposed.</summary>
    private readonly SemaphoreSlim _writerGate = new(1, 1);

    /// <summary>One count per read connection in use or openable.</summary>
    private readonly SemaphoreSlim _readSlots;
    private readonly Stack<SqliteConnection> _idleReaders = new();
    private readonly Lock _readersLock = new();

    /// <summary>The open transaction (set and cleared under <see cref="_connectionLock"/>).</summary>
    private volatile Transaction? _open;
    private int _disposed;

    internal SqliteLibraryIndex(SqliteConnection connection, string path, bool isNew)
    {
        _connection = connection;
        _path = path;
        IsNew = isNew;
        _readSlots = new SemaphoreSlim(MaxReadConnections, MaxReadConnections);
    }

    /// <summary>The most read connections an instance keeps open besides its write connection.</summary>
    public static int MaxReadConnections { get; } = Math.Max(4, 2 * Environment.ProcessorCount);

    public string Engine => "sqlite";

    public bool IsNew { get; }

    public async Task<IIndexTransaction> BeginAsync(CancellationToken ct)
    {
        ThrowIfDisposed();
        await _writerGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _connectionLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                // Disposing the index ends its transaction, which lets a waiting BeginAsync through to here.
                ThrowIfDisposed();

                // BEGIN IMMEDIATE may wait (busy timeout) for another process's writer: off the caller's thread.
                var tx = await Task.Run(() => _connection.BeginTransaction(deferred: false), ct).ConfigureAwait(false);
                var open = new Transaction(this, tx);
                _open = open;
                return open;
            }
            finally
            {
                _connectionLock.Release();
            }
        }
        catch
        {
            _writerGate.Release();
            throw;
        }
    }

    public async Task<string?> GetMetaAsync(string key, CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        await using var cmd = lease.Command("SELECT value FROM meta WHERE key=$k", ("$k", key));
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
    }

    public async Task<IReadOnlyList<string>> FindIdsByPrefixAsync(string prefix, int limit, CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        await using var cmd = lease.Command("SELECT id FROM media WHERE id >= $p AND id < $q ORDER BY id LIMIT $l", ("$p", prefix), ("$q", prefix + "g"), ("$l", limit));
        return await ReadStringsAsync(cmd, ct).ConfigureAwait(false);
    }

    public async Task<IndexedMedia?> GetMediaAsync(string id, CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct, snapshot: true).ConfigureAwait(false);
        await using var cmd = lease.Command("SELECT rid, in_trash, kind, ext, media_type, size, created_at, updated_at, revision FROM media WHERE id=$id", ("$id", id));
        long rid;
        IndexedMedia media;
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return null;
            }

            rid = reader.GetInt64(0);
            media = new IndexedMedia(
                id, reader.GetInt64(1) != 0, reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)), reader.GetInt64(8), []);
        }

        await using var tags = lease.Command("SELECT t.name FROM media_tags mt JOIN tags t ON t.tid=mt.tid WHERE mt.rid=$r ORDER BY t.name", ("$r", rid));
        return media with { Tags = await ReadStringsAsync(tags, ct).ConfigureAwait(false) };
    }

    public async Task<long> CountMediaAsync(bool inTrash, CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        await using var cmd = lease.Command("SELECT count(*) FROM media WHERE in_trash=$t", ("$t", inTrash ? 1 : 0));
        return (long)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    public async Task<IReadOnlyDictionary<string, IndexedStamp>> GetSidecarStampsAsync(CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        var result = new Dictionary<string, IndexedStamp>(StringComparer.Ordinal);
        await using var cmd = lease.Command("SELECT id, stamp_size, stamp_mtime, stamp_digest, in_trash, revision FROM media");
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result[reader.GetString(0)] = new IndexedStamp(new FileStamp(reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3)), reader.GetInt64(4) != 0, reader.GetInt64(5));
        }

        return result;
    }

    public async Task<FileStamp?> GetVocabularyStampAsync(CancellationToken ct) =>
        ParseStamp(await GetMetaAsync(VocabularyStampKey, ct).ConfigureAwait(false));

    public async Task<IReadOnlyDictionary<string, FileStamp>> GetCollectionStampsAsync(CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        var result = new Dictionary<string, FileStamp>(StringComparer.Ordinal);
        await using var cmd = lease.Command("SELECT id, stamp_size, stamp_mtime, stamp_digest FROM collections");
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result[reader.GetString(0)] = new FileStamp(reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3));
        }

        return result;
    }

    public async Task<IReadOnlyList<string>> MediaWithAnyTagAsync(IReadOnlyCollection<string> tags, CancellationToken ct)
    {
        if (tags.Count == 0)
        {
            return [];
        }

        var names = tags.ToList();
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        var sql = $"SELECT DISTINCT m.id FROM media m JOIN media_tags mt ON mt.rid=m.rid JOIN tags t ON t.tid=mt.tid WHERE t.name IN ({Placeholders("$n", names.Count)}) ORDER BY m.id";
        await using var cmd = lease.Command(sql, names.Select((n, i) => ($"$n{i}", (object)n)).ToArray());
        return await ReadStringsAsync(cmd, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<CollectionMember>> CollectionMembersAsync(string collectionId, CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        var result = new List<CollectionMember>();
        await using var cmd = lease.Command(
            "SELECT m.id, cm.position, m.in_trash FROM collection_members cm JOIN media m ON m.rid=cm.rid WHERE cm.collection_id=$c ORDER BY cm.position, m.id",
            ("$c", collectionId));
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(new CollectionMember(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2) != 0));
        }

        return result;
    }

    public async Task<IReadOnlyList<IndexedCollection>> ListCollectionsAsync(CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        var result = new List<IndexedCollection>();
        await using var cmd = lease.Command("""
            SELECT c.id, c.name, c.description, c.tags, c.created_at, c.updated_at,
                   (SELECT count(*) FROM collection_members cm JOIN media m ON m.rid=cm.rid AND m.in_trash=0 WHERE cm.collection_id=c.id)
            FROM collections c ORDER BY c.name COLLATE NOCASE, c.id
            """);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(new IndexedCollection(
                reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                JsonSerializer.Deserialize(reader.GetString(3), IndexJsonContext.Default.ListString) ?? [],
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)), reader.GetInt64(6)));
        }

        return result;
    }

    public async Task<IReadOnlyList<TagCount>> ListTagsAsync(CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct, snapshot: true).ConfigureAwait(false);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var cmd = lease.Command("SELECT t.name, count(m.rid) FROM tags t JOIN media_tags mt ON mt.tid=t.tid LEFT JOIN media m ON m.rid=mt.rid AND m.in_trash=0 GROUP BY t.tid"))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                counts[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        var info = new Dictionary<string, (string? Category, string? Description)>(StringComparer.Ordinal);
        await using (var cmd = lease.Command("SELECT name, category, description FROM vocab_tags"))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                info[reader.GetString(0)] = (reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
            }
        }

        var implies = await PairsAsync(lease, "SELECT child, parent FROM implications ORDER BY child, parent", ct).ConfigureAwait(false);
        var aliases = await PairsAsync(lease, "SELECT to_name, from_name FROM aliases ORDER BY to_name, from_name", ct).ConfigureAwait(false);
        var names = new SortedSet<string>(counts.Where(c => c.Value > 0).Select(c => c.Key), StringComparer.Ordinal);
        names.UnionWith(info.Keys);
        names.UnionWith(implies.Keys);
        names.UnionWith(implies.Values.SelectMany(v => v));
        names.UnionWith(aliases.Keys);
        return names.Select(n => new TagCount(
            n,
            info.TryGetValue(n, out var i) && i.Category is { } c ? c : Vocabulary.DefaultCategory,
            counts.GetValueOrDefault(n),
            info.TryGetValue(n, out var d) ? d.Description : null,
            implies.TryGetValue(n, out var p) ? p : [],
            aliases.TryGetValue(n, out var a) ? a : [])).ToList();
    }

    public async Task<IReadOnlyList<string>> ExpandWildcardAsync(string pattern, int limit, CancellationToken ct)
    {
        var like = new StringBuilder();
        foreach (var ch in pattern)
        {
            like.Append(ch switch { '*' => "%", '%' => "\\%", '_' => "\\_", '\\' => "\\\\", _ => ch.ToString() });
        }

        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        await using var cmd = lease.Command(
            "SELECT t.name FROM tags t WHERE t.name LIKE $p ESCAPE '\\' AND EXISTS(SELECT 1 FROM media_tags mt WHERE mt.tid=t.tid) ORDER BY t.name LIMIT $l",
            ("$p", like.ToString()), ("$l", limit));
        return await ReadStringsAsync(cmd, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> TrashedIdsAsync(CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        await using var cmd = lease.Command("SELECT id FROM media WHERE in_trash=1 ORDER BY id");
        return await ReadStringsAsync(cmd, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> ReferencingAsync(string target, string relationType, CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        await using var cmd = lease.Command(
            "SELECT m.id FROM relations r JOIN media m ON m.rid=r.rid WHERE r.target=$t AND r.type=$y AND m.in_trash=0 ORDER BY m.id", ("$t", target), ("$y", relationType));
        return await ReadStringsAsync(cmd, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<IndexedHashes>> ListPerceptualHashesAsync(CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        var result = new List<IndexedHashes>();
        await using var cmd = lease.Command("SELECT id, phash, dhash, coalesce(width, 0), coalesce(height, 0), size FROM media WHERE in_trash=0 AND kind='image' AND phash IS NOT NULL AND dhash IS NOT NULL ORDER BY id");
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(new IndexedHashes(
                reader.GetString(0), unchecked((ulong)reader.GetInt64(1)), unchecked((ulong)reader.GetInt64(2)), (int)reader.GetInt64(3), (int)reader.GetInt64(4), reader.GetInt64(5)));
        }

        return result;
    }

    public async Task<IReadOnlyList<IndexedFace>> ListFacesAsync(CancellationToken ct)
    {
        await using var lease = await ReadAsync(ct).ConfigureAwait(false);
        var result = new List<IndexedFace>();
        await using var cmd = lease.Command("SELECT m.id, f.face_id, f.status, f.person, f.usable, f.rejected_for FROM faces f JOIN media m ON m.rid=f.rid WHERE m.in_trash=0 ORDER BY m.id, f.face_id");
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var rejected = reader.GetString(5);
            result.Add(new IndexedFace(
                reader.GetString(0), (int)reader.GetInt64(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt64(4) != 0,
                rejected.Length == 0 ? [] : rejected.Split(' ')));
        }

        return result;
    }

    public async Task<IndexChangeState> GetChangeStateAsync(CancellationToken ct)
    {
        await using var lease = await ReadCommittedAsync(ct, snapshot: true).ConfigureAwait(false);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var cmd = lease.Command("SELECT key, value FROM meta WHERE key IN ($e, $c, $k)", ("$e", IndexMeta.SearchEpoch), ("$c", IndexMeta.ChangeSeq), ("$k", IndexMeta.CatalogSeq)))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                meta[reader.GetString(0)] = reader.GetString(1);
            }
        }

        await using var max = lease.Command("SELECT coalesce(max(rid), 0) FROM media");
        var maxKey = (long)(await max.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        return new IndexChangeState(meta.GetValueOrDefault(IndexMeta.SearchEpoch, string.Empty), Number(IndexMeta.ChangeSeq), Number(IndexMeta.CatalogSeq), maxKey);

        long Number(string key) => meta.TryGetValue(key, out var v) ? long.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    public async IAsyncEnumerable<SearchDocument> ReadSearchDocumentsAsync(long afterSeq, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        // Committed state only, in one snapshot (tag names and media rows must agree), whatever transaction is open.
        await using var lease = await ReadCommittedAsync(ct, snapshot: true).ConfigureAwait(false);
        var tagNames = new Dictionary<long, string>();
        await using (var tags = lease.Command("SELECT tid, name FROM tags"))
        await using (var reader = await tags.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (reader.Read())
            {
                tagNames[reader.GetInt64(0)] = reader.GetString(1);
            }
        }

        // One pass over each table in key order, merged by key. A full load scans whole tables; a catch-up
        // reads only the media changed since afterSeq.
        var all = afterSeq <= 0;
        string Children(string select, string table, string order) => all
            ? $"SELECT {select} FROM {table} x ORDER BY {order}"
            : $"SELECT {select} FROM media m JOIN {table} x ON x.rid=m.rid WHERE m.seq > $s ORDER BY {order}";

        await using var media = lease.Command(
            "SELECT rid, id, in_trash, kind, ext, size, width, height, created_at, taken_at, uploader, mask_source, phash, dhash, crop_count, derived_from, derived_model FROM media WHERE seq > $s ORDER BY rid",
            ("$s", afterSeq));
        await using var tagRows = lease.Command(Children("x.rid, x.tid", "media_tags", "x.rid"), ("$s", afterSeq));
        await using var captionRows = lease.Command(Children("x.rid, x.text, x.status", "captions", "x.rid, x.caption_id"), ("$s", afterSeq));
        await using var collectionRows = lease.Command(Children("x.rid, x.collection_id", "collection_members", "x.rid"), ("$s", afterSeq));
        await using var suggestionRows = lease.Command(Children("x.rid, x.tag", "suggestions", "x.rid") .Replace(" ORDER BY", all ? " WHERE x.status='pending' ORDER BY" : " AND x.status='pending' ORDER BY", StringComparison.Ordinal), ("$s", afterSeq));
        await using var faceRows = lease.Command(Children("x.rid, x.status, x.person, x.usable", "faces", "x.rid, x.face_id"), ("$s", afterSeq));

        await using var m = await media.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var t = await tagRows.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var c = await captionRows.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var k = await collectionRows.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var g = await suggestionRows.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var f = await faceRows.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var tagCursor = new ChildCursor(t);
        var captionCursor = new ChildCursor(c);
        var collectionCursor = new ChildCursor(k);
        var suggestionCursor = new ChildCursor(g);
        var faceCursor = new ChildCursor(f);
        var n = 0;
        while (m.Read())
        {
            if ((++n & 0x3FFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            var rid = m.GetInt64(0);
            var tagList = tagCursor.Take(rid, r => tagNames.TryGetValue(r.GetInt64(1), out var name) ? name : null);
            var captionList = captionCursor.Take(rid, r => new CaptionRow(r.GetString(1), r.GetString(2)));
            var faces = FaceRow.Summary(faceCursor.Take(rid, r => new FaceRow(r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt64(3) != 0)));
            yield return new SearchDocument
            {
                Key = checked((int)rid),
                Id = m.GetString(1),
                InTrash = m.GetInt64(2) != 0,
                Kind = m.GetString(3),
                Type = m.GetString(4),
                Size = m.GetInt64(5),
                Width = m.IsDBNull(6) ? null : m.GetInt32(6),
                Height = m.IsDBNull(7) ? null : m.GetInt32(7),
                CreatedAt = m.GetInt64(8),
                TakenAt = m.IsDBNull(9) ? null : m.GetInt64(9),
                Uploader = m.IsDBNull(10) ? null : m.GetString(10),
                MaskSource = m.IsDBNull(11) ? null : m.GetString(11),
                PHash = m.IsDBNull(12) ? null : unchecked((ulong)m.GetInt64(12)),
                DHash = m.IsDBNull(13) ? null : unchecked((ulong)m.GetInt64(13)),
                CropCount = m.GetInt32(14),
                DerivedFrom = m.IsDBNull(15) ? null : m.GetString(15),
                DerivedModel = m.IsDBNull(16) ? null : m.GetString(16),
                Tags = tagList,
                Captions = CaptionRow.Approved(captionList),
                CaptionStatuses = CaptionRow.Statuses(captionList),
                Collections = collectionCursor.Take(rid, r => r.GetString(1)),
                PendingSuggestions = suggestionCursor.Take(rid, r => r.GetString(1)),
                FaceCount = faces.Count,
                HasUnknownFace = faces.Unknown,
                People = faces.People,
                SuggestedPeople = faces.Suggested,
            };
        }
    }

    public async Task<IReadOnlyList<int>> RemovedSinceAsync(long afterSeq, CancellationToken ct)
    {
        await using var lease = await ReadCommittedAsync(ct).ConfigureAwait(false);
        var result = new List<int>();
        await using var cmd = lease.Command("SELECT rid FROM removed_media WHERE seq > $s ORDER BY seq", ("$s", afterSeq));
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(checked((int)reader.GetInt64(0)));
        }

        return result;
    }

    public async Task<IReadOnlyList<KeyValuePair<string, string>>> ListAliasesAsync(CancellationToken ct)
    {
        await using var lease = await ReadCommittedAsync(ct).ConfigureAwait(false);
        var result = new List<KeyValuePair<string, string>>();
        await using var cmd = lease.Command("SELECT from_name, to_name FROM aliases");
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(new(reader.GetString(0), reader.GetString(1)));
        }

        return result;
    }

    public async Task<PendingSuggestionPage> PendingSuggestionsAsync(PendingSuggestionFilter filter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        const string Matching = """
            WITH matching AS (
                SELECT s.rid, m.id, s.tag, s.confidence, s.model, s.model_version
                FROM suggestions s JOIN media m ON m.rid=s.rid AND m.in_trash=0
                WHERE s.status='pending' AND ($model IS NULL OR s.model=$model) AND ($version IS NULL OR s.model_version=$version)
                  AND ($tag IS NULL OR s.tag=$tag) AND ($min IS NULL OR s.confidence >= $min) AND ($max IS NULL OR s.confidence <= $max))
            """;
        (string, object)[] parameters =
        [
            ("$model", Nullable(filter.Model)), ("$version", Nullable(filter.ModelVersion)), ("$tag", Nullable(filter.Tag)),
            ("$min", Nullable(filter.MinConfidence)), ("$max", Nullable(filter.MaxConfidence)),
            ("$cc", Nullable(filter.After?.Confidence)), ("$cid", Nullable(filter.After?.MediaId)), ("$l", Math.Max(0, filter.Limit)),
        ];
        await using var lease = await ReadAsync(ct, snapshot: true).ConfigureAwait(false);
        long totalMedia, totalSuggestions;
        await using (var count = lease.Command(Matching + " SELECT count(DISTINCT rid), count(*) FROM matching", parameters))
        await using (var reader = await count.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await reader.ReadAsync(ct).ConfigureAwait(false);
            (totalMedia, totalSuggestions) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        var items = new List<PendingSuggestionMedia>();
        await using var cmd = lease.Command(Matching + """
            , picked AS (
                SELECT rid, id, max(confidence) AS best FROM matching GROUP BY rid
                HAVING $cc IS NULL OR max(confidence) < $cc OR (max(confidence) = $cc AND id > $cid)
                ORDER BY best DESC, id LIMIT $l)
            SELECT p.id, p.best, (SELECT count(*) FROM suggestions z WHERE z.rid=p.rid AND z.status='pending'), x.tag, x.confidence, x.model, x.model_version
            FROM picked p JOIN matching x ON x.rid=p.rid
            ORDER BY p.best DESC, p.id, x.confidence DESC, x.tag
            """, parameters);
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            List<PendingSuggestionRow>? rows = null;
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var id = reader.GetString(0);
                if (items.Count == 0 || items[^1].MediaId != id)
                {
                    rows = [];
                    items.Add(new PendingSuggestionMedia(id, reader.GetDouble(1), reader.GetInt64(2), rows));
                }

                rows!.Add(new PendingSuggestionRow(reader.GetString(3), reader.GetDouble(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
            }
        }

        return new PendingSuggestionPage(items, totalMedia, totalSuggestions);

        static object Nullable(object? value) => value ?? DBNull.Value;
    }

    public async Task<SuggestionStatsRows> SuggestionStatsAsync(int topTags, CancellationToken ct)
    {
        const string Counts = "sum(s.status='pending'), sum(s.status='approved'), sum(s.status='rejected')";
        const string Library = "FROM suggestions s JOIN media m ON m.rid=s.rid AND m.in_trash=0";
        await using var lease = await ReadAsync(ct, snapshot: true).ConfigureAwait(false);
        var byModel = new List<SuggestionModelCounts>();
        await using (var cmd = lease.Command($"SELECT s.model, s.model_version, {Counts} {Library} GROUP BY s.model, s.model_version ORDER BY s.model, s.model_version"))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                byModel.Add(new SuggestionModelCounts(reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), StatusCounts(reader, 2)));
            }
        }

        var limit = Math.Max(0, topTags);
        var suggested = await TagCountsAsync($"SELECT s.tag, {Counts} {Library} GROUP BY s.tag ORDER BY count(*) DESC, s.tag LIMIT $l").ConfigureAwait(false);
        var rejected = await TagCountsAsync($"SELECT s.tag, {Counts} {Library} GROUP BY s.tag HAVING sum(s.status='rejected') > 0 ORDER BY sum(s.status='rejected') DESC, s.tag LIMIT $l").ConfigureAwait(false);
        return new SuggestionStatsRows(byModel, suggested, rejected);

        async Task<List<SuggestionTagCounts>> TagCountsAsync(string sql)
        {
            var result = new List<SuggestionTagCounts>();
            await using var cmd = lease.Command(sql, ("$l", limit));
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                result.Add(new SuggestionTagCounts(reader.GetString(0), StatusCounts(reader, 1)));
            }

            return result;
        }

        static SuggestionStatusCounts StatusCounts(SqliteDataReader r, int first) => new(r.GetInt64(first), r.GetInt64(first + 1), r.GetInt64(first + 2));
    }

    /// <summary>Rows of a child table ordered by media key, consumed in step with the media rows.</summary>
    private sealed class ChildCursor(SqliteDataReader reader)
    {
        private bool _has = reader.Read();

        public IReadOnlyList<T> Take<T>(long rid, Func<SqliteDataReader, T?> value)
            where T : class
        {
            while (_has && reader.GetInt64(0) < rid)
            {
                _has = reader.Read();
            }

            List<T>? list = null;
            while (_has && reader.GetInt64(0) == rid)
            {
                if (value(reader) is { } v)
                {
                    (list ??= []).Add(v);
                }

                _has = reader.Read();
            }

            return list is null ? Array.Empty<T>() : list;
        }
    }

    private sealed record FaceRow(string Status, string? Person, bool Usable)
    {
        public static (int Count, bool Unknown, IReadOnlyList<string> People, IReadOnlyList<string> Suggested) Summary(IReadOnlyList<FaceRow> rows)
        {
            if (rows.Count == 0)
            {
                return (0, false, [], []);
            }

            var counted = rows.Where(r => r.Usable && r.Status != Trove.Domain.Faces.FaceStatus.Rejected).ToList();
            return (
                counted.Count,
                counted.Exists(r => r.Status != Trove.Domain.Faces.FaceStatus.Confirmed),
                rows.Where(r => r.Status == Trove.Domain.Faces.FaceStatus.Confirmed && r.Person is not null).Select(r => r.Person!).Distinct(StringComparer.Ordinal).ToList(),
                rows.Where(r => r.Status == Trove.Domain.Faces.FaceStatus.Suggested && r.Person is not null).Select(r => r.Person!).Distinct(StringComparer.Ordinal).ToList());
        }
    }

    private sealed record CaptionRow(string Text, string Status)
    {
        public static IReadOnlyList<string> Approved(IReadOnlyList<CaptionRow> rows) =>
            rows.Count == 0 ? Array.Empty<string>() : rows.Where(r => r.Status == Trove.Domain.CaptionStatus.Approved).Select(r => r.Text).ToList();

        public static IReadOnlyList<string> Statuses(IReadOnlyList<CaptionRow> rows) =>
            rows.Count == 0 ? Array.Empty<string>() : rows.Select(r => r.Status).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Discards the open transaction (a BeginAsync waiting for it then fails with <see cref="ObjectDisposedException"/>)
    /// and closes every connection. Reads still running close their connection when they end.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        List<SqliteConnection> idle;
        lock (_readersLock)
        {
            idle = [.. _idleReaders];
            _idleReaders.Clear();
        }

        foreach (var reader in idle)
        {
            await reader.DisposeAsync().ConfigureAwait(false);
        }

        // The write connection last: the last connection to close checkpoints the WAL and removes it.
        await _connectionLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_open is { } open)
            {
                await open.EndLockedAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connectionLock.Release();
        }
    }

    internal static FileStamp? ParseStamp(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var parts = value.Split('|');
        return new FileStamp(long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), parts[2]);
    }

    internal static string FormatStamp(FileStamp stamp) => FormattableString.Invariant($"{stamp.Size}|{stamp.MtimeTicks}|{stamp.Digest}");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>
    /// A connection for one read: the write connection (under the lock) while a transaction is open, so that the read
    /// sees its writes; otherwise a pooled read connection, in a read transaction when <paramref name="snapshot"/>.
    /// </summary>
    private async ValueTask<Lease> ReadAsync(CancellationToken ct, bool snapshot = false)
    {
        ThrowIfDisposed();
        if (_open is not null)
        {
            await _connectionLock.WaitAsync(ct).ConfigureAwait(false);

            // Still open? (It may have ended while this read waited; _open only changes under the lock.)
            if (_open is { } open && Volatile.Read(ref _disposed) == 0)
            {
                return new Lease(this, _connection, open.SqliteTransaction, pooled: false);
            }

            _connectionLock.Release();
        }

        return await ReadCommittedAsync(ct, snapshot).ConfigureAwait(false);
    }

    /// <summary>A pooled read connection: committed state, whatever transaction is open.</summary>
    private async ValueTask<Lease> ReadCommittedAsync(CancellationToken ct, bool snapshot = false)
    {
        ThrowIfDisposed();
        await _readSlots.WaitAsync(ct).ConfigureAwait(false);
        SqliteConnection? connection = null;
        try
        {
            lock (_readersLock)
            {
                ThrowIfDisposed();
                _idleReaders.TryPop(out connection);
            }

            connection ??= await SqliteDatabase.OpenReaderAsync(_path, ct).ConfigureAwait(false);
            var tx = snapshot ? connection.BeginTransaction(deferred: true) : null;
            return new Lease(this, connection, tx, pooled: true);
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            _readSlots.Release();
            throw;
        }
    }

    private async ValueTask ReturnAsync(SqliteConnection connection, SqliteTransaction? snapshot)
    {
        try
        {
            var keep = true;
            if (snapshot is not null)
            {
                try
                {
                    await snapshot.DisposeAsync().ConfigureAwait(false);
                }
                catch (SqliteException)
                {
                    keep = false;
                }
            }

            if (keep && connection.State == System.Data.ConnectionState.Open)
            {
                lock (_readersLock)
                {
                    if (Volatile.Read(ref _disposed) == 0)
                    {
                        _idleReaders.Push(connection);
                        return;
                    }
                }
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _readSlots.Release();
        }
    }

    /// <summary>The connection (and transaction) one read method uses, given back when the method ends.</summary>
    private readonly struct Lease(SqliteLibraryIndex owner, SqliteConnection connection, SqliteTransaction? tx, bool pooled) : IAsyncDisposable
    {
        public SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
        {
            var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            cmd.Transaction = tx;
            foreach (var (name, value) in parameters)
            {
                cmd.Parameters.AddWithValue(name, value);
            }

            return cmd;
        }

        public ValueTask DisposeAsync()
        {
            if (pooled)
            {
                return owner.ReturnAsync(connection, tx);
            }

            owner._connectionLock.Release();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Releases the connection lock.</summary>
    private readonly struct Held(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    private static async Task<Dictionary<string, List<string>>> PairsAsync(Lease lease, string sql, CancellationToken ct)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using var cmd = lease.Command(sql);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var key = reader.GetString(0);
            if (!result.TryGetValue(key, out var list))
            {
                result[key] = list = [];
            }

            list.Add(reader.GetString(1));
        }

        return result;
    }

    private static async Task<IReadOnlyList<string>> ReadStringsAsync(SqliteCommand cmd, CancellationToken ct)
    {
        var result = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(reader.GetString(0));
        }

        return result;
    }

    private static string Placeholders(string prefix, int count) => string.Join(',', Enumerable.Range(0, count).Select(i => prefix + i));

    /// <summary>
    /// Writes within one SQLite transaction on the write connection, with prepared statements reused across media. Each
    /// public method holds the connection lock while it runs (the *LockedAsync methods assume it is held).
    /// </summary>
    private sealed class Transaction(SqliteLibraryIndex owner, SqliteTransaction tx) : IIndexTransaction
    {
        private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _tagIds = new(StringComparer.Ordinal);
        private bool _done;
        private long? _seq;
        private bool _catalogChanged;
        private volatile bool _ended;

        /// <summary>The SQLite transaction, for reads made while it is open (under the connection lock).</summary>
        public SqliteTransaction SqliteTransaction => tx;

        public async Task UpsertMediaAsync(MediaSidecar sidecar, bool inTrash, FileStamp stamp, CancellationToken ct)
        {
            using (await EnterAsync(ct).ConfigureAwait(false))
            {
                await UpsertMediaLockedAsync(sidecar, inTrash, stamp, ct).ConfigureAwait(false);
            }
        }

        public async Task RemoveMediaAsync(string id, CancellationToken ct)
        {
            using (await EnterAsync(ct).ConfigureAwait(false))
            {
                await RemoveMediaLockedAsync(id, ct).ConfigureAwait(false);
            }
        }

        public async Task SetVocabularyAsync(Vocabulary vocabulary, FileStamp? stamp, CancellationToken ct)
        {
            using (await EnterAsync(ct).ConfigureAwait(false))
            {
                await SetVocabularyLockedAsync(vocabulary, stamp, ct).ConfigureAwait(false);
            }
        }

        public async Task UpsertCollectionAsync(CollectionDefinition collection, FileStamp stamp, CancellationToken ct)
        {
            using (await EnterAsync(ct).ConfigureAwait(false))
            {
                await UpsertCollectionLockedAsync(collection, stamp, ct).ConfigureAwait(false);
            }
        }

        public async Task RemoveCollectionAsync(string collectionId, CancellationToken ct)
        {
            using (await EnterAsync(ct).ConfigureAwait(false))
            {
                await RemoveCollectionLockedAsync(collectionId, ct).ConfigureAwait(false);
            }
        }

        public async Task ClearAsync(CancellationToken ct)
        {
            using (await EnterAsync(ct).ConfigureAwait(false))
            {
                await ClearLockedAsync(ct).ConfigureAwait(false);
            }
        }

        public async Task SetMetaAsync(string key, string value, CancellationToken ct)
        {
            using (await EnterAsync(ct).ConfigureAwait(false))
            {
                await SetMetaLockedAsync(key, value, ct).ConfigureAwait(false);
            }
        }

        private async Task UpsertMediaLockedAsync(MediaSidecar s, bool inTrash, FileStamp stamp, CancellationToken ct)
        {
            var rid = await ScalarAsync("SELECT rid FROM media WHERE id=$a0", ct, s.Id).ConfigureAwait(false) as long?;
            var seq = await NextSeqAsync(ct).ConfigureAwait(false);
            if (rid is { } existing)
            {
                await DeleteChildrenAsync(existing, ct).ConfigureAwait(false);
                await ExecAsync(
                    "UPDATE media SET in_trash=$a1, kind=$a2, ext=$a3, media_type=$a4, size=$a5, width=$a6, height=$a7, created_at=$a8, updated_at=$a9, revision=$a10, uploader=$a11, mask_source=$a12, mask_category=$a13, tag_count=$a14, caption=$a15, stamp_size=$a16, stamp_mtime=$a17, stamp_digest=$a18, phash=$a19, dhash=$a20, taken_at=$a21, crop_count=$a22, seq=$a23, derived_from=$a24, derived_model=$a25 WHERE rid=$a0",
                    ct, [existing, .. MediaValues(s, inTrash, stamp), seq, s.DerivedFrom?.Id, s.DerivedFrom?.Model]).ConfigureAwait(false);
            }
            else
            {
                rid = (long)(await ScalarAsync(
                    "INSERT INTO media(id, in_trash, kind, ext, media_type, size, width, height, created_at, updated_at, revision, uploader, mask_source, mask_category, tag_count, caption, stamp_size, stamp_mtime, stamp_digest, phash, dhash, taken_at, crop_count, seq, derived_from, derived_model) VALUES($a0,$a1,$a2,$a3,$a4,$a5,$a6,$a7,$a8,$a9,$a10,$a11,$a12,$a13,$a14,$a15,$a16,$a17,$a18,$a19,$a20,$a21,$a22,$a23,$a24,$a25) RETURNING rid",
                    ct, [s.Id, .. MediaValues(s, inTrash, stamp), seq, s.DerivedFrom?.Id, s.DerivedFrom?.Model]).ConfigureAwait(false))!;
            }

            var r = rid.Value;
            // One multi-row statement per chunk of tags: a media's tags cost one round trip, not one each.
            const int chunk = 32;
            for (var start = 0; start < s.Tags.Count; start += chunk)
            {
                var n = Math.Min(chunk, s.Tags.Count - start);
                var values = new object?[n * 3];
                for (var i = 0; i < n; i++)
                {
                    var tag = s.Tags[start + i];
                    values[i * 3] = await TagIdAsync(tag.Name, ct).ConfigureAwait(false);
                    values[(i * 3) + 1] = r;
                    values[(i * 3) + 2] = tag.Source;
                }

                await ExecAsync(MediaTagsInsert(n), ct, values).ConfigureAwait(false);
            }

            foreach (var c in s.Captions)
            {
                await ExecAsync("INSERT OR REPLACE INTO captions(rid, caption_id, text, is_primary, source, model, model_version, status) VALUES($a0,$a1,$a2,$a3,$a4,$a5,$a6,$a7)", ct, r, c.Id, c.Text, c.Primary ? 1 : 0, c.Source, c.Model, c.ModelVersion, c.EffectiveStatus).ConfigureAwait(false);
            }

            foreach (var c in s.Crops)
            {
                await ExecAsync("INSERT OR REPLACE INTO crops(rid, name, x, y, w, h) VALUES($a0,$a1,$a2,$a3,$a4,$a5)", ct, r, c.Name, c.X, c.Y, c.W, c.H).ConfigureAwait(false);
            }

            foreach (var rel in s.Relations)
            {
                await ExecAsync("INSERT OR IGNORE INTO relations(rid, type, target) VALUES($a0,$a1,$a2)", ct, r, rel.Type, rel.Target).ConfigureAwait(false);
            }

            foreach (var m in s.Collections)
            {
                await ExecAsync("INSERT OR REPLACE INTO collection_members(collection_id, rid, position) VALUES($a0,$a1,$a2)", ct, m.Collection, r, m.Position).ConfigureAwait(false);
            }

            foreach (var g in s.Suggestions)
            {
                await ExecAsync(
                    "INSERT OR REPLACE INTO suggestions(rid, tag, status, confidence, model, model_version) VALUES($a0,$a1,$a2,$a3,$a4,$a5)",
                    ct, r, g.Tag, g.Status, g.Confidence, g.Model, g.ModelVersion).ConfigureAwait(false);
            }

            foreach (var f in s.Faces)
            {
                await ExecAsync(
                    "INSERT OR REPLACE INTO faces(rid, face_id, status, person, usable, rejected_for) VALUES($a0,$a1,$a2,$a3,$a4,$a5)",
                    ct, r, f.Id, f.Status, f.Person, f.Usable ? 1 : 0, string.Join(' ', f.RejectedFor)).ConfigureAwait(false);
            }
        }

        private async Task RemoveMediaLockedAsync(string id, CancellationToken ct)
        {
            if (await ScalarAsync("SELECT rid FROM media WHERE id=$a0", ct, id).ConfigureAwait(false) is long rid)
            {
                await DeleteChildrenAsync(rid, ct).ConfigureAwait(false);
                await ExecAsync("DELETE FROM media WHERE rid=$a0", ct, rid).ConfigureAwait(false);
                await ExecAsync("INSERT INTO removed_media(seq, rid) VALUES($a0,$a1)", ct, await NextSeqAsync(ct).ConfigureAwait(false), rid).ConfigureAwait(false);
            }
        }

        private async Task SetVocabularyLockedAsync(Vocabulary vocabulary, FileStamp? stamp, CancellationToken ct)
        {
            _catalogChanged = true;
            foreach (var table in new[] { "categories", "vocab_tags", "aliases", "implications" })
            {
                await ExecAsync($"DELETE FROM {table}", ct).ConfigureAwait(false);
            }

            var ord = 0;
            foreach (var category in vocabulary.AllCategories)
            {
                await ExecAsync("INSERT OR IGNORE INTO categories(name, ord) VALUES($a0,$a1)", ct, category, ord++).ConfigureAwait(false);
            }

            foreach (var (name, info) in vocabulary.Tags)
            {
                await ExecAsync("INSERT INTO vocab_tags(name, category, description) VALUES($a0,$a1,$a2)", ct, name, info.Category, info.Description).ConfigureAwait(false);
            }

            foreach (var (from, alias) in vocabulary.Aliases)
            {
                await ExecAsync("INSERT INTO aliases(from_name, to_name) VALUES($a0,$a1)", ct, from, alias.To).ConfigureAwait(false);
            }

            foreach (var imp in vocabulary.Implications)
            {
                await ExecAsync("INSERT OR IGNORE INTO implications(child, parent) VALUES($a0,$a1)", ct, imp.Child, imp.Parent).ConfigureAwait(false);
            }

            if (stamp is null)
            {
                await ExecAsync("DELETE FROM meta WHERE key=$a0", ct, VocabularyStampKey).ConfigureAwait(false);
            }
            else
            {
                await SetMetaLockedAsync(VocabularyStampKey, FormatStamp(stamp), ct).ConfigureAwait(false);
            }
        }

        private Task UpsertCollectionLockedAsync(CollectionDefinition c, FileStamp stamp, CancellationToken ct)
        {
            _catalogChanged = true;
            return ExecAsync(
                "INSERT OR REPLACE INTO collections(id, name, description, tags, created_at, updated_at, stamp_size, stamp_mtime, stamp_digest) VALUES($a0,$a1,$a2,$a3,$a4,$a5,$a6,$a7,$a8)",
                ct, c.Id, c.Name, c.Description, JsonSerializer.Serialize(c.Tags, IndexJsonContext.Default.ListString), c.CreatedAt.ToUnixTimeMilliseconds(), c.UpdatedAt.ToUnixTimeMilliseconds(), stamp.Size, stamp.MtimeTicks, stamp.Digest);
        }

        private Task RemoveCollectionLockedAsync(string collectionId, CancellationToken ct)
        {
            _catalogChanged = true;
            return ExecAsync("DELETE FROM collections WHERE id=$a0", ct, collectionId);
        }

        private async Task ClearLockedAsync(CancellationToken ct)
        {
            foreach (var table in Schema.DataTables)
            {
                await ExecAsync($"DELETE FROM {table}", ct).ConfigureAwait(false);
            }

            await ExecAsync("DELETE FROM meta WHERE key<>'schema_version'", ct).ConfigureAwait(false);
            _tagIds.Clear();

            // A new epoch tells in-memory search engines to reload from scratch instead of catching up.
            await SetMetaLockedAsync(IndexMeta.SearchEpoch, Guid.NewGuid().ToString("N"), ct).ConfigureAwait(false);
            _catalogChanged = true;
        }

        private Task SetMetaLockedAsync(string key, string value, CancellationToken ct) =>
            ExecAsync("INSERT OR REPLACE INTO meta(key, value) VALUES($a0,$a1)", ct, key, value);

        public async Task CommitAsync(CancellationToken ct)
        {
            using (await EnterAsync(ct).ConfigureAwait(false))
            {
                if (_catalogChanged)
                {
                    await SetMetaLockedAsync(IndexMeta.CatalogSeq, (await NextSeqAsync(ct).ConfigureAwait(false)).ToString(System.Globalization.CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
                }

                if (_seq is { } seq)
                {
                    await SetMetaLockedAsync(IndexMeta.ChangeSeq, seq.ToString(System.Globalization.CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
                }

                try
                {
                    await tx.CommitAsync(ct).ConfigureAwait(false);
                }
                catch (SqliteException ex) when (SqliteDatabase.IsFull(ex))
                {
                    throw SqliteDatabase.DiskFull(owner._connection, ex);
                }

                _done = true;

                // Reads (and the next transaction) no longer use this one: the writer is free before it is disposed.
                await EndLockedAsync().ConfigureAwait(false);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_ended)
            {
                return;
            }

            await owner._connectionLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await EndLockedAsync().ConfigureAwait(false);
            }
            finally
            {
                owner._connectionLock.Release();
            }
        }

        /// <summary>
        /// Rolls back unless committed, frees the statements, and lets the next transaction begin. Runs once, under the
        /// connection lock (from commit, dispose, or the index's dispose).
        /// </summary>
        internal async ValueTask EndLockedAsync()
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            try
            {
                foreach (var cmd in _commands.Values)
                {
                    await cmd.DisposeAsync().ConfigureAwait(false);
                }

                _commands.Clear();
                if (!_done)
                {
                    await tx.RollbackAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                await tx.DisposeAsync().ConfigureAwait(false);
                if (ReferenceEquals(owner._open, this))
                {
                    owner._open = null;
                }

                owner._writerGate.Release();
            }
        }

        /// <summary>Takes the connection lock for one method of this transaction.</summary>
        private async ValueTask<Held> EnterAsync(CancellationToken ct)
        {
            await owner._connectionLock.WaitAsync(ct).ConfigureAwait(false);
            if (_ended)
            {
                owner._connectionLock.Release();
                ObjectDisposedException.ThrowIf(Volatile.Read(ref owner._disposed) != 0, owner);
                throw new InvalidOperationException(_done ? "The index transaction is committed." : "The index transaction is disposed.");
            }

            return new Held(owner._connectionLock);
        }

        private static object?[] MediaValues(MediaSidecar s, bool inTrash, FileStamp stamp) =>
        [
            inTrash ? 1 : 0, s.Kind, s.Original.Ext, s.Original.MediaType, s.Original.Size, s.Original.Width, s.Original.Height,
            s.CreatedAt.ToUnixTimeMilliseconds(), s.UpdatedAt.ToUnixTimeMilliseconds(), s.Revision, s.Uploader, s.Mask?.Source, s.Mask?.Category,
            s.Tags.Count, s.PrimaryCaption?.Text, stamp.Size, stamp.MtimeTicks, stamp.Digest, HashValue(s.Original.PHash), HashValue(s.Original.DHash),
            s.Original.TakenAt?.ToUnixTimeMilliseconds(), s.Crops.Count,
        ];

        /// <summary>Hex hashes are stored as the signed 64-bit integer with the same bits.</summary>
        private static long? HashValue(string? hex) =>
            ulong.TryParse(hex, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var v) ? unchecked((long)v) : null;

        private static readonly string[] MediaTagsInserts = Enumerable.Range(0, 33)
            .Select(n => "INSERT OR IGNORE INTO media_tags(tid, rid, source) VALUES " + string.Join(',', Enumerable.Range(0, n).Select(i => $"($a{i * 3},$a{(i * 3) + 1},$a{(i * 3) + 2})")))
            .ToArray();

        private static string MediaTagsInsert(int count) => MediaTagsInserts[count];

        /// <summary>The next change number: every media write and removal gets one, so readers can catch up on what changed.</summary>
        private async Task<long> NextSeqAsync(CancellationToken ct)
        {
            _seq ??= await ScalarAsync("SELECT value FROM meta WHERE key=$a0", ct, IndexMeta.ChangeSeq).ConfigureAwait(false) is string v
                ? long.Parse(v, System.Globalization.CultureInfo.InvariantCulture)
                : 0;
            _seq++;
            return _seq.Value;
        }

        private async Task DeleteChildrenAsync(long rid, CancellationToken ct)
        {
            foreach (var table in new[] { "media_tags", "captions", "crops", "relations", "collection_members", "suggestions", "faces" })
            {
                await ExecAsync($"DELETE FROM {table} WHERE rid=$a0", ct, rid).ConfigureAwait(false);
            }
        }

        private async Task<long> TagIdAsync(string name, CancellationToken ct)
        {
            if (_tagIds.TryGetValue(name, out var tid))
            {
                return tid;
            }

            await ExecAsync("INSERT OR IGNORE INTO tags(name) VALUES($a0)", ct, name).ConfigureAwait(false);
            tid = (long)(await ScalarAsync("SELECT tid FROM tags WHERE name=$a0", ct, name).ConfigureAwait(false))!;
            _tagIds[name] = tid;
            return tid;
        }

        /// <summary>A command cached for the transaction, with parameters $a0..$aN-1.</summary>
        private SqliteCommand Prepared(string sql, int parameterCount)
        {
            if (!_commands.TryGetValue(sql, out var cmd))
            {
                cmd = owner._connection.CreateCommand();
                cmd.CommandText = sql;
                cmd.Transaction = tx;
                for (var i = 0; i < parameterCount; i++)
                {
                    cmd.Parameters.Add(new SqliteParameter("$a" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), null));
                }

                _commands[sql] = cmd;
            }

            return cmd;
        }

        private async Task ExecAsync(string sql, CancellationToken ct, params object?[] values)
        {
            var cmd = Prepared(sql, values.Length);
            for (var i = 0; i < values.Length; i++)
            {
                cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
            }

            try
            {
                await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            catch (SqliteException ex) when (SqliteDatabase.IsFull(ex))
            {
                throw SqliteDatabase.DiskFull(owner._connection, ex);
            }
        }

        private async Task<object?> ScalarAsync(string sql, CancellationToken ct, params object?[] values)
        {
            var cmd = Prepared(sql, values.Length);
            for (var i = 0; i < values.Length; i++)
            {
                cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
            }

            object? result;
            try
            {
                result = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
            }
            catch (SqliteException ex) when (SqliteDatabase.IsFull(ex))
            {
                throw SqliteDatabase.DiskFull(owner._connection, ex);
            }

            return result is DBNull ? null : result;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class IndexJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
