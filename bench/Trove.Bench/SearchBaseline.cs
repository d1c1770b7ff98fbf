using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Trove.Search.Query;

namespace Trove.Bench;

/// <summary>
/// The SQLite FTS5 baseline of make bench-search: the same media in a separate database, queried with the best SQL
/// equivalent of each Trove query. Built to make FTS5 as strong as a careful SQL implementation would:
/// <list type="bullet">
/// <item>Only library media (not the trash) are in the FTS tables, so no query needs a trash check or a join to exclude it.</item>
/// <item>Row numbers follow creation time (<c>docs.pos</c> = rank by created_at = FTS rowid), so "newest first" is FTS5's
/// native <c>ORDER BY rowid DESC</c>, streamed and stopped after 40 rows, and a date range is a rowid range FTS5 filters
/// inside its doclists. (A live system could keep this only while media arrive in creation order.)</item>
/// <item>Tags are one token each, the tag's id (<c>t123</c>), in a <c>detail=none</c> table: the smallest doclists
/// (no positions, no column sizes), no tokenizer surprises from punctuation in names (<c>saber_(fate)</c>), and
/// wildcards are expanded against the tag list exactly like Trove does (FTS5 prefix queries cannot express
/// <c>*_hair</c>, and would scan the same terms for <c>long_*</c>).</item>
/// <item>Captions are in their own <c>detail=full</c> table (phrases need positions), tokenised by unicode61 with
/// diacritics removed, which is what Trove's caption tokenizer does for these captions.</item>
/// <item>Both tables are merged into one segment ('optimize'); the database is memory-mapped with a large cache,
/// statements are prepared once and reused, and every query is run during the warm-up before it is timed.</item>
/// </list>
/// </summary>
internal sealed class SearchBaseline : IDisposable
{
    private const string Schema = """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE docs(
            pos INTEGER PRIMARY KEY,
            key INTEGER NOT NULL,
            id TEXT NOT NULL,
            in_trash INTEGER NOT NULL,
            type TEXT NOT NULL,
            width INTEGER,
            height INTEGER,
            pixels INTEGER,
            ratio INTEGER,
            size INTEGER NOT NULL,
            created INTEGER NOT NULL,
            tagcount INTEGER NOT NULL);
        CREATE TABLE tags(tid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE VIRTUAL TABLE tags_fts USING fts5(tags, content='', detail=none, columnsize=0, tokenize='ascii');
        CREATE VIRTUAL TABLE cap_fts USING fts5(caption, content='', detail=full, columnsize=0, tokenize='unicode61 remove_diacritics 2');
        """;

    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, long> _tagIds = new(StringComparer.Ordinal);
    private readonly string[] _sortedTags;

    public SearchBaseline(string path)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        _connection.Open();
        Exec(_connection, "PRAGMA mmap_size=17179869184; PRAGMA cache_size=-2097152; PRAGMA temp_store=MEMORY; PRAGMA query_only=1;");
        using (var cmd = _connection.CreateCommand())
        {
            cmd.CommandText = "SELECT tid, name FROM tags";
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                _tagIds[reader.GetString(1)] = reader.GetInt64(0);
            }
        }

        _sortedTags = [.. _tagIds.Keys.Order(StringComparer.Ordinal)];
    }

    public string SqliteVersion => Scalar(_connection, "SELECT sqlite_version()")?.ToString() ?? "?";

    /// <summary>Fails loudly when the bundled SQLite has no FTS5 (the baseline cannot run without it).</summary>
    public static string CheckFts5()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        var version = Scalar(connection, "SELECT sqlite_version()")?.ToString() ?? "?";
        try
        {
            Exec(connection, "CREATE VIRTUAL TABLE temp.probe USING fts5(a, detail=none); INSERT INTO temp.probe(a) VALUES('t1 t2'); SELECT count(*) FROM temp.probe WHERE probe MATCH 't1 AND t2';");
        }
        catch (SqliteException ex)
        {
            throw new InvalidOperationException(
                $"!!! The bundled SQLite {version} (e_sqlite3) has NO FTS5: {ex.Message}. The FTS5 baseline of bench-search cannot run. !!!", ex);
        }

        return version;
    }

    /// <summary>
    /// Makes sure the baseline database exists and was built from this index database (same search epoch), building it
    /// from the index into a temporary file renamed when complete.
    /// </summary>
    public static void Ensure(string indexPath, string path)
    {
        var epoch = IndexEpoch(indexPath);
        if (File.Exists(path))
        {
            using var existing = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            existing.Open();
            if (Scalar(existing, "SELECT value FROM meta WHERE key='source_epoch'") as string == epoch)
            {
                Console.WriteLine($"FTS5 baseline: reusing {path} ({new FileInfo(path).Length / 1048576.0:N0} MiB)");
                return;
            }

            Console.WriteLine("FTS5 baseline: the cached database was built from another index database; rebuilding");
            existing.Close();
            SearchData.DeleteDatabase(path);
        }

        var temp = path + ".tmp";
        SearchData.DeleteDatabase(temp);
        Console.WriteLine($"FTS5 baseline: building {temp} from the index database");
        var clock = Stopwatch.StartNew();
        Build(indexPath, temp, epoch);
        SqliteConnection.ClearAllPools();
        File.Move(temp, path);
        Console.WriteLine($"FTS5 baseline: built in {clock.Elapsed.TotalSeconds:0.0} s, {new FileInfo(path).Length / 1048576.0:N0} MiB");
    }

    private static string IndexEpoch(string indexPath)
    {
        using var index = OpenReadOnly(indexPath);
        return Scalar(index, $"SELECT value FROM meta WHERE key='{Trove.Application.IndexMeta.SearchEpoch}'") as string
            ?? throw new InvalidOperationException($"{indexPath} has no search epoch.");
    }

    private static SqliteConnection OpenReadOnly(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        Exec(connection, "PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;");
        return connection;
    }

    private static void Build(string indexPath, string path, string epoch)
    {
        using var source = OpenReadOnly(indexPath);
        var maxRid = (long)Scalar(source, "SELECT coalesce(max(rid), 0) FROM media")!;

        // Media in creation order: their position is the baseline's row number.
        var media = new List<(long Rid, string Id, bool InTrash, string Type, long Size, int? Width, int? Height, long Created)>();
        using (var cmd = source.CreateCommand())
        {
            cmd.CommandText = "SELECT rid, id, in_trash, ext, size, width, height, created_at FROM media ORDER BY created_at, id";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                media.Add((r.GetInt64(0), r.GetString(1), r.GetInt64(2) != 0, r.GetString(3).ToLowerInvariant(), r.GetInt64(4),
                    r.IsDBNull(5) ? null : r.GetInt32(5), r.IsDBNull(6) ? null : r.GetInt32(6), r.GetInt64(7)));
            }
        }

        var tags = new int[maxRid + 1][];
        using (var cmd = source.CreateCommand())
        {
            cmd.CommandText = "SELECT rid, tid FROM media_tags ORDER BY rid";
            using var r = cmd.ExecuteReader();
            var current = -1L;
            var list = new List<int>();
            while (r.Read())
            {
                var rid = r.GetInt64(0);
                if (rid != current)
                {
                    if (current >= 0)
                    {
                        tags[current] = [.. list];
                    }

                    list.Clear();
                    current = rid;
                }

                list.Add(checked((int)r.GetInt64(1)));
            }

            if (current >= 0)
            {
                tags[current] = [.. list];
            }
        }

        var captions = new string?[maxRid + 1];
        using (var cmd = source.CreateCommand())
        {
            cmd.CommandText = "SELECT rid, text FROM captions ORDER BY rid, caption_id";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var rid = r.GetInt64(0);

                // One FTS5 column cannot keep two captions apart (a phrase would match across them); the generator writes one.
                captions[rid] = captions[rid] is null ? r.GetString(1) : throw new NotSupportedException($"Media {rid} has several captions.");
            }
        }

        using var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        target.Open();
        Exec(target, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; PRAGMA temp_store=MEMORY;");
        Exec(target, Schema);
        using (var tx = target.BeginTransaction())
        {
            using (var copyTags = target.CreateCommand())
            {
                copyTags.Transaction = tx;
                copyTags.CommandText = "INSERT INTO tags(tid, name) VALUES($t, $n)";
                var tid = copyTags.Parameters.Add("$t", SqliteType.Integer);
                var name = copyTags.Parameters.Add("$n", SqliteType.Text);
                using var cmd = source.CreateCommand();
                cmd.CommandText = "SELECT tid, name FROM tags";
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    tid.Value = r.GetInt64(0);
                    name.Value = r.GetString(1);
                    copyTags.ExecuteNonQuery();
                }
            }

            using var doc = target.CreateCommand();
            doc.Transaction = tx;
            doc.CommandText = "INSERT INTO docs(pos, key, id, in_trash, type, width, height, pixels, ratio, size, created, tagcount) VALUES($a0,$a1,$a2,$a3,$a4,$a5,$a6,$a7,$a8,$a9,$a10,$a11)";
            var p = Enumerable.Range(0, 12).Select(i => doc.Parameters.Add("$a" + i.ToString(CultureInfo.InvariantCulture), SqliteType.Integer)).ToArray();
            using var tagRow = target.CreateCommand();
            tagRow.Transaction = tx;
            tagRow.CommandText = "INSERT INTO tags_fts(rowid, tags) VALUES($r, $t)";
            var tagRowId = tagRow.Parameters.Add("$r", SqliteType.Integer);
            var tagText = tagRow.Parameters.Add("$t", SqliteType.Text);
            using var capRow = target.CreateCommand();
            capRow.Transaction = tx;
            capRow.CommandText = "INSERT INTO cap_fts(rowid, caption) VALUES($r, $c)";
            var capRowId = capRow.Parameters.Add("$r", SqliteType.Integer);
            var capText = capRow.Parameters.Add("$c", SqliteType.Text);
            var sb = new StringBuilder();
            for (var i = 0; i < media.Count; i++)
            {
                var m = media[i];
                var pos = i + 1;
                var tagList = tags[m.Rid] ?? [];
                p[0].Value = pos;
                p[1].Value = m.Rid;
                p[2].Value = m.Id;
                p[3].Value = m.InTrash ? 1 : 0;
                p[4].Value = m.Type;
                p[5].Value = (object?)m.Width ?? DBNull.Value;
                p[6].Value = (object?)m.Height ?? DBNull.Value;
                p[7].Value = m.Width is { } w && m.Height is { } h ? (long)w * h : DBNull.Value;
                p[8].Value = m.Width is { } rw && m.Height is { } rh && rh > 0 ? Metatags.RatioHundredths((decimal)rw / rh) : DBNull.Value;
                p[9].Value = m.Size;
                p[10].Value = m.Created;
                p[11].Value = tagList.Length;
                doc.ExecuteNonQuery();
                if (m.InTrash)
                {
                    continue;
                }

                if (tagList.Length > 0)
                {
                    sb.Clear();
                    foreach (var t in tagList)
                    {
                        sb.Append('t').Append(t).Append(' ');
                    }

                    tagRowId.Value = pos;
                    tagText.Value = sb.ToString();
                    tagRow.ExecuteNonQuery();
                }

                if (captions[m.Rid] is { } caption)
                {
                    capRowId.Value = pos;
                    capText.Value = caption;
                    capRow.ExecuteNonQuery();
                }
            }

            tx.Commit();
        }

        Console.WriteLine("FTS5 baseline: rows written; merging the FTS5 segments ('optimize') and indexing created");
        Exec(target, "INSERT INTO tags_fts(tags_fts) VALUES('optimize'); INSERT INTO cap_fts(cap_fts) VALUES('optimize');");
        Exec(target, "CREATE INDEX docs_created ON docs(created); ANALYZE;");
        Exec(target, $"INSERT INTO meta(key, value) VALUES('source_epoch', '{epoch}')");
    }

    /// <summary>The SQL for one Trove query (count and first page), prepared on this connection.</summary>
    public BaselineQuery Translate(string text)
    {
        var parsed = QueryParser.Parse(text);
        if (parsed.Order != OrderSpec.Newest)
        {
            throw new NotSupportedException($"The baseline translates only the default order (newest first): {text}");
        }

        var (count, page) = parsed.Root is null ? ("SELECT count(*) FROM docs d WHERE d.in_trash = 0", "SELECT d.id FROM docs d WHERE d.in_trash = 0 ORDER BY d.pos DESC LIMIT 40") : Statements(Translate(parsed.Root));
        var countCommand = _connection.CreateCommand();
        countCommand.CommandText = count;
        var pageCommand = _connection.CreateCommand();
        pageCommand.CommandText = page;
        return new BaselineQuery(countCommand, pageCommand);
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>Statements for a whole query: FTS5 drives when it can (its rowid order is the result order).</summary>
    private static (string Count, string Page) Statements(Conj c)
    {
        var where = new List<string>();
        string? driver = null;
        if (c.Tags is not null)
        {
            driver = "tags_fts";
            where.Add($"f.tags_fts MATCH {Literal(c.Tags)}");
            if (c.Caption is not null)
            {
                where.Add($"f.rowid IN (SELECT rowid FROM cap_fts WHERE cap_fts MATCH {Literal(c.Caption)})");
            }
        }
        else if (c.Caption is not null)
        {
            driver = "cap_fts";
            where.Add($"f.cap_fts MATCH {Literal(c.Caption)}");
        }

        var row = driver is null ? "d.pos" : "f.rowid";
        foreach (var (lo, hi) in c.Dates)
        {
            // Positions follow created, so a date range is a range of row numbers (two index lookups on created).
            if (lo != long.MinValue)
            {
                where.Add($"{row} >= (SELECT pos FROM docs WHERE created >= {lo} ORDER BY created LIMIT 1)");
            }

            if (hi != long.MaxValue)
            {
                where.Add($"{row} <= (SELECT pos FROM docs WHERE created <= {hi} ORDER BY created DESC LIMIT 1)");
            }
        }

        where.AddRange(c.Conds);
        var condition = string.Join(" AND ", where);
        if (driver is null)
        {
            condition = "d.in_trash = 0" + (condition.Length > 0 ? " AND " + condition : string.Empty);
            return ($"SELECT count(*) FROM docs d WHERE {condition}", $"SELECT d.id FROM docs d WHERE {condition} ORDER BY d.pos DESC LIMIT 40");
        }

        var join = $"{driver} f CROSS JOIN docs d ON d.pos = f.rowid";
        var countFrom = c.Conds.Count > 0 ? join : $"{driver} f";
        return ($"SELECT count(*) FROM {countFrom} WHERE {condition}", $"SELECT d.id FROM {join} WHERE {condition} ORDER BY f.rowid DESC LIMIT 40");
    }

    private Conj Translate(QueryNode node)
    {
        switch (node)
        {
            case TagTerm t:
                return new Conj { Tags = Token(t.Name) };
            case WildcardTerm w:
                var tokens = ExpandWildcard(w.Pattern).Select(Token).ToList();
                return new Conj { Tags = tokens.Count == 0 ? Token(null) : tokens.Count == 1 ? tokens[0] : "(" + string.Join(" OR ", tokens) + ")" };
            case CaptionTerm c:
                return new Conj { Caption = "\"" + string.Join(' ', c.Words) + "\"" + (c.LastIsPrefix ? " *" : string.Empty) };
            case RangeTerm r when r.Field == RangeField.Date:
                return new Conj { Dates = { (r.Range.Min, r.Range.Max) } };
            case RangeTerm r:
                return new Conj { Conds = { Range(Column(r.Field), r.Range) } };
            case AndNode a:
                {
                    var result = new Conj();
                    var notTags = new List<string>();
                    var notCaption = new List<string>();
                    foreach (var child in a.Children)
                    {
                        if (child is NotNode n && Translate(n.Child) is var inner && inner.IsSingleFts(out var table, out var expr))
                        {
                            (table == "tags_fts" ? notTags : notCaption).Add(expr);
                            continue;
                        }

                        var c = Translate(child);
                        result.Tags = And(result.Tags, c.Tags);
                        result.Caption = And(result.Caption, c.Caption);
                        result.Conds.AddRange(c.Conds);
                        result.Dates.AddRange(c.Dates);
                    }

                    // FTS5's NOT is binary: "positive NOT negative". Without a positive part the negation is a NOT IN.
                    result.Tags = Without(result, result.Tags, notTags, "tags_fts");
                    result.Caption = Without(result, result.Caption, notCaption, "cap_fts");
                    return result;
                }

            case OrNode o:
                {
                    var children = o.Children.Select(Translate).ToList();
                    string? table = null;
                    var exprs = new List<string>();
                    foreach (var c in children)
                    {
                        if (!c.IsSingleFts(out var t, out var e) || (table is not null && t != table))
                        {
                            return new Conj { Conds = { "(" + string.Join(" OR ", children.Select(Condition)) + ")" } };
                        }

                        table = t;
                        exprs.Add(e);
                    }

                    var or = "(" + string.Join(" OR ", exprs) + ")";
                    return table == "tags_fts" ? new Conj { Tags = or } : new Conj { Caption = or };
                }

            case NotNode n:
                return new Conj { Conds = { "NOT (" + Condition(Translate(n.Child)) + ")" } };
            default:
                throw new NotSupportedException($"The baseline does not translate {node.GetType().Name}.");
        }
    }

    private static string? And(string? a, string? b) => a is null ? b : b is null ? a : $"{a} AND {b}";

    private static string? Without(Conj result, string? positive, List<string> negatives, string table)
    {
        if (negatives.Count == 0)
        {
            return positive;
        }

        var negative = negatives.Count == 1 ? negatives[0] : "(" + string.Join(" OR ", negatives) + ")";
        if (positive is not null)
        {
            return $"({positive}) NOT {negative}";
        }

        result.Conds.Add($"d.pos NOT IN (SELECT rowid FROM {table} WHERE {table} MATCH {Literal(negative)})");
        return null;
    }

    /// <summary>A translated part as a condition on d (a docs row), for inside OR and NOT.</summary>
    private static string Condition(Conj c)
    {
        var parts = new List<string>();
        if (c.Tags is not null)
        {
            parts.Add($"d.pos IN (SELECT rowid FROM tags_fts WHERE tags_fts MATCH {Literal(c.Tags)})");
        }

        if (c.Caption is not null)
        {
            parts.Add($"d.pos IN (SELECT rowid FROM cap_fts WHERE cap_fts MATCH {Literal(c.Caption)})");
        }

        foreach (var (lo, hi) in c.Dates)
        {
            parts.Add(Range("d.created", new LongRange(lo, hi)));
        }

        parts.AddRange(c.Conds);
        return parts.Count == 0 ? "1" : "(" + string.Join(" AND ", parts) + ")";
    }

    private static string Column(RangeField field) => field switch
    {
        RangeField.Width => "d.width",
        RangeField.Height => "d.height",
        RangeField.Pixels => "d.pixels",
        RangeField.Ratio => "d.ratio",
        RangeField.FileSize => "d.size",
        RangeField.TagCount => "d.tagcount",
        RangeField.Date => "d.created",
        _ => throw new NotSupportedException($"The baseline has no column for {field}."),
    };

    private static string Range(string column, LongRange range)
    {
        var parts = new List<string>();
        if (range.Min != long.MinValue)
        {
            parts.Add($"{column} >= {range.Min}");
        }

        if (range.Max != long.MaxValue)
        {
            parts.Add($"{column} <= {range.Max}");
        }

        return parts.Count == 0 ? $"{column} IS NOT NULL" : string.Join(" AND ", parts);
    }

    private static string Literal(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>The token of a tag (t0, which no row has, for a tag not in the library).</summary>
    private string Token(string? name) => "t" + (name is not null && _tagIds.TryGetValue(name, out var tid) ? tid : 0).ToString(CultureInfo.InvariantCulture);

    /// <summary>Tag names matching a '*' pattern: a sorted range for the literal prefix, then a glob test (as Trove does).</summary>
    private List<string> ExpandWildcard(string pattern)
    {
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        var prefix = star < 0 ? pattern : pattern[..star];
        var at = Array.BinarySearch(_sortedTags, prefix, StringComparer.Ordinal);
        var result = new List<string>();
        for (var i = at >= 0 ? at : ~at; i < _sortedTags.Length && _sortedTags[i].StartsWith(prefix, StringComparison.Ordinal); i++)
        {
            if (Trove.Search.Engine.Glob.Matches(pattern, _sortedTags[i]))
            {
                result.Add(_sortedTags[i]);
            }
        }

        return result;
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    /// <summary>
    /// A conjunction being translated: an FTS5 expression per table, date ranges (row-number ranges when they apply to
    /// the whole query) and other SQL conditions on d (the docs row).
    /// </summary>
    private sealed class Conj
    {
        public string? Tags { get; set; }

        public string? Caption { get; set; }

        public List<(long Lo, long Hi)> Dates { get; } = [];

        public List<string> Conds { get; } = [];

        public bool IsSingleFts(out string table, out string expr)
        {
            table = expr = string.Empty;
            if (Conds.Count > 0 || Dates.Count > 0 || (Tags is null) == (Caption is null))
            {
                return false;
            }

            (table, expr) = Tags is not null ? ("tags_fts", Tags) : ("cap_fts", Caption!);
            return true;
        }
    }
}

/// <summary>The two prepared statements of one translated query.</summary>
internal sealed class BaselineQuery(SqliteCommand count, SqliteCommand page) : IDisposable
{
    public string CountSql => count.CommandText;

    public string PageSql => page.CommandText;

    public long Count() => (long)count.ExecuteScalar()!;

    public List<string> Page()
    {
        var ids = new List<string>(40);
        using var reader = page.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public void Dispose()
    {
        count.Dispose();
        page.Dispose();
    }
}
