using Microsoft.Data.Sqlite;
using Trove.Application.Ports;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Library;
using Trove.Search.Engine;
using static Trove.Index.Sqlite.Tests.TestData;

namespace Trove.Index.Sqlite.Tests;

/// <summary>Behaviour specific to the SQLite engine: opening, replacing and sharing the index file.</summary>
public sealed class SqliteIndexTests : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TempDirectory _temp = new();

    private string DbPath => _temp.Combine("index", "index.db");

    public SqliteIndexTests() => Directory.CreateDirectory(_temp.Combine("index"));

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_fresh_file_is_new_and_a_reopened_one_is_not()
    {
        Assert.False(File.Exists(DbPath));
        await using (var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct))
        {
            Assert.True(index.IsNew);
            Assert.Equal("sqlite", index.Engine);
            await UpsertAsync(index, Sidecar(1, "x"));
        }

        Assert.True(File.Exists(DbPath));
        await using (var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct))
        {
            Assert.False(index.IsNew);
            Assert.NotNull(await index.GetMediaAsync(IdOf(1), Ct));
        }

        await using (var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct))
        {
            Assert.False(index.IsNew);
        }
    }

    [Fact]
    public async Task The_factory_opens_the_index_of_a_library_layout()
    {
        var layout = new LibraryLayout(_temp.Combine("library"));
        await using var index = await new SqliteIndexFactory().OpenAsync(layout, Ct);

        Assert.True(index.IsNew);
        Assert.True(File.Exists(layout.IndexDatabasePath));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(4096)]
    [InlineData(100_000)]
    public async Task A_garbage_file_is_replaced_and_reported_as_new(int length)
    {
        var garbage = new byte[length];
        new Random(length).NextBytes(garbage);
        garbage[0] = (byte)'G'; // never the "SQLite format 3" header
        await File.WriteAllBytesAsync(DbPath, garbage, Ct);

        await using (var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct))
        {
            Assert.True(index.IsNew);
            Assert.Equal(0, await index.CountMediaAsync(inTrash: false, Ct));
            await UpsertAsync(index, Sidecar(1, "x"));
        }

        await using (var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct))
        {
            Assert.False(index.IsNew);
            Assert.NotNull(await index.GetMediaAsync(IdOf(1), Ct));
        }
    }

    [Fact]
    public async Task A_text_file_is_replaced_and_reported_as_new()
    {
        await File.WriteAllTextAsync(DbPath, "this is not a database, just some text that happens to be here\n", Ct);

        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);

        Assert.True(index.IsNew);
        await UpsertAsync(index, Sidecar(1, "x"));
        Assert.Equal(1, await index.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task An_empty_file_is_reported_as_new()
    {
        await File.WriteAllBytesAsync(DbPath, [], Ct);

        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);

        Assert.True(index.IsNew);
        await UpsertAsync(index, Sidecar(1, "x"));
        Assert.Equal(1, await index.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task An_index_of_another_schema_version_is_reset()
    {
        await using (var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct))
        {
            await UpsertAsync(index, Sidecar(1, "x"));
            await using var tx = await index.BeginAsync(Ct);
            await tx.SetMetaAsync("library_id", "lib-1", Ct);
            await tx.SetVocabularyAsync(new Vocabulary(), new FileStamp(1, 2, "abc"), Ct);
            await tx.CommitAsync(Ct);
        }

        string current;
        await using (var connection = await OpenRawAsync())
        {
            current = (string)(await ScalarAsync(connection, "SELECT value FROM meta WHERE key='schema_version'"))!;
            await ExecAsync(connection, "UPDATE meta SET value='999999' WHERE key='schema_version'");
        }

        await using (var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct))
        {
            Assert.True(index.IsNew);
            Assert.Equal(0, await index.CountMediaAsync(inTrash: false, Ct));
            Assert.Empty(await index.ListTagsAsync(Ct));
            Assert.Null(await index.GetMetaAsync("library_id", Ct));
            Assert.Null(await index.GetVocabularyStampAsync(Ct));
            Assert.Equal(current, await index.GetMetaAsync("schema_version", Ct));
            await UpsertAsync(index, Sidecar(2, "y"));
        }

        await using (var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct))
        {
            Assert.False(index.IsNew);
            Assert.NotNull(await index.GetMediaAsync(IdOf(2), Ct));
        }
    }

    [Fact]
    public async Task An_old_index_with_different_tables_is_reset()
    {
        await using (var connection = await OpenRawAsync())
        {
            await ExecAsync(connection, """
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT INTO meta VALUES('schema_version', '0');
                CREATE TABLE media(id TEXT PRIMARY KEY, something_else BLOB);
                INSERT INTO media VALUES('x', NULL);
                CREATE TABLE tags(name TEXT);
                """);
        }

        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);

        Assert.True(index.IsNew);
        Assert.Equal(0, await index.CountMediaAsync(inTrash: false, Ct));
        await UpsertAsync(index, Sidecar(1, "x"));
        Assert.Equal(["x"], (await index.GetMediaAsync(IdOf(1), Ct))!.Tags);
    }

    [Fact]
    public async Task Another_sqlite_database_is_reset()
    {
        await using (var connection = await OpenRawAsync())
        {
            await ExecAsync(connection, "CREATE TABLE notes(text TEXT); INSERT INTO notes VALUES('hello');");
        }

        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);

        Assert.True(index.IsNew);
        await UpsertAsync(index, Sidecar(1, "x"));
        Assert.Equal(1, await index.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task Reads_inside_an_open_transaction_see_its_writes()
    {
        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        var sidecar = Sidecar(1, "x");

        await using (var tx = await index.BeginAsync(Ct))
        {
            await tx.UpsertMediaAsync(sidecar, false, Stamp(sidecar), Ct);
            Assert.NotNull(await index.GetMediaAsync(sidecar.Id, Ct));
            Assert.Equal([sidecar.Id], await index.MediaWithAnyTagAsync(["x"], Ct));
            Assert.Equal(["x"], await index.ExpandWildcardAsync("*", 10, Ct));
        }

        Assert.Null(await index.GetMediaAsync(sidecar.Id, Ct));
    }

    [Fact]
    public async Task A_committed_transaction_disposed_late_does_not_disturb_the_next_one()
    {
        await using var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        var first = await index.BeginAsync(Ct);
        await first.UpsertMediaAsync(Sidecar(1, "x"), false, Stamp(Sidecar(1)), Ct);
        await first.CommitAsync(Ct);

        await using (var second = await index.BeginAsync(Ct))
        {
            await first.DisposeAsync();
            await second.UpsertMediaAsync(Sidecar(2, "y"), false, Stamp(Sidecar(2)), Ct);
            Assert.NotNull(await index.GetMediaAsync(IdOf(2), Ct));
            await second.CommitAsync(Ct);
        }

        Assert.Equal(2, await index.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task Disposing_the_index_with_an_open_transaction_discards_it()
    {
        var index = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        var tx = await index.BeginAsync(Ct);
        await tx.UpsertMediaAsync(Sidecar(1, "x"), false, Stamp(Sidecar(1)), Ct);
        await index.DisposeAsync();

        await using var reopened = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        Assert.False(reopened.IsNew);
        Assert.Equal(0, await reopened.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task Two_instances_on_one_file_see_each_others_committed_writes()
    {
        await using var first = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        await using var second = await SqliteIndexFactory.OpenPathAsync(DbPath, Ct);
        Assert.True(first.IsNew);
        Assert.False(second.IsNew);

        var a = Sidecar(1, "from_first");
        await UpsertAsync(first, a);

        Assert.NotNull(await second.GetMediaAsync(a.Id, Ct));
        Assert.Equal(1, await second.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal([a.Id], await SearchAsync(second, "from_first"));

        var b = Sidecar(2, "from_second");
        await UpsertAsync(second, b);
        await using (var tx = await second.BeginAsync(Ct))
        {
            await tx.SetMetaAsync("library_id", "lib-2", Ct);
            await tx.CommitAsync(Ct);
        }

        Assert.Equal(["from_first", "from_second"], (await first.ListTagsAsync(Ct)).Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal("lib-2", await first.GetMetaAsync("library_id", Ct));

        // Uncommitted writes of one instance are not visible to the other.
        await using (var tx = await first.BeginAsync(Ct))
        {
            await tx.RemoveMediaAsync(a.Id, Ct);
            Assert.NotNull(await second.GetMediaAsync(a.Id, Ct));
        }

        Assert.NotNull(await second.GetMediaAsync(a.Id, Ct));
        Assert.Equal(2, await first.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task The_state_store_appends_and_reads_audit_entries_newest_first()
    {
        var path = _temp.Combine("state", "state.db");
        var entries = Enumerable.Range(0, 5)
            .Select(i => new AuditEntry(T0.AddMinutes(i).AddMilliseconds(i * 7), "alice", "tag.add", IdOf(i), i % 2 == 0 ? null : "detail " + i))
            .ToArray();

        await using (var store = await SqliteStateStore.OpenAsync(path, Ct))
        {
            Assert.Empty(await store.ReadAuditAsync(10, Ct));
            await store.AppendAuditAsync(entries[..3], Ct);
            await store.AppendAuditAsync(entries[3..], Ct);
            await store.AppendAuditAsync([], Ct);

            Assert.Equal(entries.Reverse(), await store.ReadAuditAsync(10, Ct));
            Assert.Equal([entries[4], entries[3]], await store.ReadAuditAsync(2, Ct));
        }

        await using (var store = await SqliteStateStore.OpenAsync(path, Ct))
        {
            Assert.Equal(entries.Reverse(), await store.ReadAuditAsync(10, Ct));

            var later = new AuditEntry(T0.AddDays(1), "bob", "media.delete", IdOf(9), null);
            await store.AppendAuditAsync([later], Ct);
            Assert.Equal(later, (await store.ReadAuditAsync(1, Ct))[0]);
        }
    }

    [Fact]
    public async Task The_state_store_factory_uses_the_layout_path()
    {
        var layout = new LibraryLayout(_temp.Combine("library"));
        await using (var store = await new SqliteStateStoreFactory().OpenAsync(layout, Ct))
        {
            await store.AppendAuditAsync([new AuditEntry(T0, "alice", "init", "library", null)], Ct);
        }

        Assert.True(File.Exists(layout.StateDatabasePath));
    }

    /// <summary>Runs a query on a search engine freshly loaded from <paramref name="index"/>.</summary>
    private static async Task<IReadOnlyList<string>> SearchAsync(ILibraryIndex index, string query)
    {
        using var search = new LibrarySearch(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var engine = await search.ReadyAsync(index, Ct);
        return engine.Search(query, new SearchRequest(1000), Ct).Ids;
    }

    private async Task<SqliteConnection> OpenRawAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        return connection;
    }

    private static async Task ExecAsync(SqliteConnection connection, string sql)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return await cmd.ExecuteScalarAsync(Ct);
    }
}
