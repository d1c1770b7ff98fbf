using Microsoft.Data.Sqlite;
using Trove.Application.Ports;
using Trove.Library;

namespace Trove.Index.Sqlite;

/// <summary>state/state.db: the audit log now; accounts, tokens and jobs later. Not rebuildable — back it up.</summary>
public sealed class SqliteStateStore : IStateStore
{
    private const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT);
        CREATE TABLE IF NOT EXISTS import_journal(path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, media_id TEXT NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1');
        """;

    private readonly SqliteConnection _connection;

    // One connection, used by the import enumerator and the writer at once: calls take turns.
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SqliteStateStore(SqliteConnection connection) => _connection = connection;

    public static async Task<SqliteStateStore> OpenAsync(string path, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connection = await SqliteDatabase.OpenAsync(path, ct).ConfigureAwait(false);
        try
        {
            await SqliteDatabase.ExecAsync(connection, SchemaSql, ct).ConfigureAwait(false);
            return new SqliteStateStore(connection);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task AppendAuditAsync(IReadOnlyList<AuditEntry> entries, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await AppendAsync(entries, ct).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (SqliteDatabase.IsFull(ex))
        {
            throw SqliteDatabase.DiskFull(_connection, ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<string?> FindImportedAsync(string sourcePath, long size, long mtimeTicks, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT media_id FROM import_journal WHERE path=$p AND size=$s AND mtime=$m";
            cmd.Parameters.AddWithValue("$p", sourcePath);
            cmd.Parameters.AddWithValue("$s", size);
            cmd.Parameters.AddWithValue("$m", mtimeTicks);
            return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RecordImportedAsync(IReadOnlyList<ImportJournalEntry> entries, CancellationToken ct)
    {
        if (entries.Count == 0)
        {
            return;
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await using var tx = (SqliteTransaction)await _connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var cmd = _connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT OR REPLACE INTO import_journal(path, size, mtime, media_id) VALUES($p, $s, $m, $id)";
            var path = cmd.Parameters.Add("$p", SqliteType.Text);
            var size = cmd.Parameters.Add("$s", SqliteType.Integer);
            var mtime = cmd.Parameters.Add("$m", SqliteType.Integer);
            var id = cmd.Parameters.Add("$id", SqliteType.Text);
            foreach (var e in entries)
            {
                path.Value = e.SourcePath;
                size.Value = e.Size;
                mtime.Value = e.MtimeTicks;
                id.Value = e.MediaId;
                await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (SqliteDatabase.IsFull(ex))
        {
            throw SqliteDatabase.DiskFull(_connection, ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task AppendAsync(IReadOnlyList<AuditEntry> entries, CancellationToken ct)
    {
        await using var tx = (SqliteTransaction)await _connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using var cmd = _connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO audit(at, actor, action, target, detail) VALUES($at, $actor, $action, $target, $detail)";
        var at = cmd.Parameters.Add("$at", SqliteType.Integer);
        var actor = cmd.Parameters.Add("$actor", SqliteType.Text);
        var action = cmd.Parameters.Add("$action", SqliteType.Text);
        var target = cmd.Parameters.Add("$target", SqliteType.Text);
        var detail = cmd.Parameters.Add("$detail", SqliteType.Text);
        foreach (var e in entries)
        {
            at.Value = e.At.ToUnixTimeMilliseconds();
            actor.Value = e.Actor;
            action.Value = e.Action;
            target.Value = e.Target;
            detail.Value = (object?)e.Detail ?? DBNull.Value;
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(int limit, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await ReadAuditCoreAsync(limit, ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IReadOnlyList<AuditEntry>> ReadAuditCoreAsync(int limit, CancellationToken ct)
    {
        var result = new List<AuditEntry>();
        await using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT at, actor, action, target, detail FROM audit ORDER BY seq DESC LIMIT $l";
        cmd.Parameters.AddWithValue("$l", limit);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(new AuditEntry(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }
}

public sealed class SqliteStateStoreFactory : IStateStoreFactory
{
    public async Task<IStateStore> OpenAsync(LibraryLayout layout, CancellationToken ct) =>
        await SqliteStateStore.OpenAsync(layout.StateDatabasePath, ct).ConfigureAwait(false);
}
