using Microsoft.Data.Sqlite;
using Trove.Application.Accounts;
using Trove.Application.Jobs;
using Trove.Application.Ports;
using Trove.Library;

namespace Trove.Index.Sqlite;

/// <summary>state/state.db: the audit log, the import journal, accounts, API tokens and jobs. Not rebuildable — back it up.</summary>
public sealed class SqliteStateStore : IStateStore
{
    private const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT);
        CREATE TABLE IF NOT EXISTS import_journal(path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, media_id TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS users(
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, role TEXT NOT NULL, password_hash TEXT,
            created_at INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, stamp TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS api_tokens(
            id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, name TEXT NOT NULL,
            prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, last_used_at INTEGER, revoked_at INTEGER);
        CREATE TABLE IF NOT EXISTS jobs(
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,
            started_at INTEGER, finished_at INTEGER, phase TEXT, done INTEGER NOT NULL DEFAULT 0, total INTEGER,
            parameters TEXT NOT NULL, result TEXT, error TEXT) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
        INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '2');
        UPDATE meta SET value='2' WHERE key='schema_version' AND value='1';
        PRAGMA foreign_keys=ON;
        """;

    private readonly SqliteConnection _connection;

    // One connection, used by the import enumerator and the writer at once: calls take turns.
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SqliteStateStore(SqliteConnection connection)
    {
        _connection = connection;
        Accounts = new AccountStore(this);
        Jobs = new JobStore(this);
    }

    public IAccountStore Accounts { get; }

    public IJobStore Jobs { get; }

    /// <summary>Runs one unit of work on the connection, taking turns with every other caller.</summary>
    private async Task<T> UseAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await work(_connection).ConfigureAwait(false);
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

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return cmd;
    }

    private static long? Millis(DateTimeOffset? at) => at?.ToUnixTimeMilliseconds();

    private static DateTimeOffset? Time(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));

    private static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static async Task<List<T>> ReadAllAsync<T>(SqliteCommand cmd, Func<SqliteDataReader, T> map, CancellationToken ct)
    {
        var list = new List<T>();
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            list.Add(map(reader));
        }

        return list;
    }

    private sealed class AccountStore(SqliteStateStore owner) : IAccountStore
    {
        private const string UserColumns = "id, name, role, password_hash, created_at, disabled, stamp";
        private const string TokenColumns = "id, user_id, name, prefix, created_at, last_used_at, revoked_at";

        public Task<long> CountUsersAsync(CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(c, "SELECT count(*) FROM users");
                return (long)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            },
            ct);

        public Task<IReadOnlyList<UserAccount>> ListUsersAsync(CancellationToken ct) => owner.UseAsync<IReadOnlyList<UserAccount>>(
            async c =>
            {
                await using var cmd = Command(c, $"SELECT {UserColumns} FROM users ORDER BY name COLLATE NOCASE");
                return await ReadAllAsync(cmd, MapUser, ct).ConfigureAwait(false);
            },
            ct);

        public Task<UserAccount?> FindUserAsync(string name, CancellationToken ct) => OneUserAsync("name=$v", name, ct);

        public Task<UserAccount?> GetUserAsync(long id, CancellationToken ct) => OneUserAsync("id=$v", id, ct);

        public Task<UserAccount?> InsertUserAsync(string name, Role role, string? passwordHash, DateTimeOffset createdAt, string stamp, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(
                    c,
                    $"INSERT INTO users(name, role, password_hash, created_at, disabled, stamp) VALUES($n, $r, $p, $c, 0, $s) ON CONFLICT(name) DO NOTHING RETURNING {UserColumns}",
                    ("$n", name), ("$r", Roles.Name(role)), ("$p", passwordHash), ("$c", createdAt.ToUnixTimeMilliseconds()), ("$s", stamp));
                return (await ReadAllAsync(cmd, MapUser, ct).ConfigureAwait(false)).FirstOrDefault();
            },
            ct);

        public Task UpdateUserAsync(UserAccount user, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(
                    c,
                    "UPDATE users SET role=$r, password_hash=$p, disabled=$d, stamp=$s WHERE id=$id",
                    ("$r", Roles.Name(user.Role)), ("$p", user.PasswordHash), ("$d", user.Disabled ? 1 : 0), ("$s", user.Stamp), ("$id", user.Id));
                return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            ct);

        public Task DeleteUserAsync(long id, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(c, "DELETE FROM api_tokens WHERE user_id=$id; DELETE FROM users WHERE id=$id", ("$id", id));
                return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            ct);

        public Task<ApiToken> InsertTokenAsync(long userId, string name, string prefix, string hash, DateTimeOffset createdAt, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(
                    c,
                    $"INSERT INTO api_tokens(user_id, name, prefix, hash, created_at) VALUES($u, $n, $p, $h, $c) RETURNING {TokenColumns}",
                    ("$u", userId), ("$n", name), ("$p", prefix), ("$h", hash), ("$c", createdAt.ToUnixTimeMilliseconds()));
                return (await ReadAllAsync(cmd, MapToken, ct).ConfigureAwait(false))[0];
            },
            ct);

        public Task<IReadOnlyList<ApiToken>> ListTokensAsync(long? userId, CancellationToken ct) => owner.UseAsync<IReadOnlyList<ApiToken>>(
            async c =>
            {
                await using var cmd = Command(c, $"SELECT {TokenColumns} FROM api_tokens WHERE $u IS NULL OR user_id=$u ORDER BY id", ("$u", userId));
                return await ReadAllAsync(cmd, MapToken, ct).ConfigureAwait(false);
            },
            ct);

        public Task<(ApiToken Token, UserAccount User)?> FindTokenAsync(string hash, CancellationToken ct) => owner.UseAsync<(ApiToken, UserAccount)?>(
            async c =>
            {
                await using var cmd = Command(
                    c,
                    "SELECT t.id, t.user_id, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at, u.id, u.name, u.role, u.password_hash, u.created_at, u.disabled, u.stamp " +
                    "FROM api_tokens t JOIN users u ON u.id=t.user_id WHERE t.hash=$h AND t.revoked_at IS NULL",
                    ("$h", hash));
                var rows = await ReadAllAsync(cmd, r => (MapToken(r), MapUser(r, 7)), ct).ConfigureAwait(false);
                return rows.Count == 0 ? null : rows[0];
            },
            ct);

        public Task TouchTokenAsync(long tokenId, DateTimeOffset at, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(c, "UPDATE api_tokens SET last_used_at=$a WHERE id=$id", ("$a", at.ToUnixTimeMilliseconds()), ("$id", tokenId));
                return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            ct);

        public Task<bool> RevokeTokenAsync(long tokenId, DateTimeOffset at, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(c, "UPDATE api_tokens SET revoked_at=$a WHERE id=$id AND revoked_at IS NULL", ("$a", at.ToUnixTimeMilliseconds()), ("$id", tokenId));
                return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            ct);

        private Task<UserAccount?> OneUserAsync(string where, object value, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(c, $"SELECT {UserColumns} FROM users WHERE {where}", ("$v", value));
                return (await ReadAllAsync(cmd, MapUser, ct).ConfigureAwait(false)).FirstOrDefault();
            },
            ct);

        private static UserAccount MapUser(SqliteDataReader r) => MapUser(r, 0);

        private static UserAccount MapUser(SqliteDataReader r, int o) => new(
            r.GetInt64(o), r.GetString(o + 1), Roles.TryParse(r.GetString(o + 2), out var role) ? role : Role.Viewer, Text(r, o + 3),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(o + 4)), r.GetInt64(o + 5) != 0, r.GetString(o + 6));

        private static ApiToken MapToken(SqliteDataReader r) => new(
            r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), Time(r, 5), Time(r, 6));
    }

    private sealed class JobStore(SqliteStateStore owner) : IJobStore
    {
        private const string Columns = "id, kind, status, created_by, created_at, started_at, finished_at, phase, done, total, parameters, result, error";

        public Task InsertAsync(JobRecord job, CancellationToken ct) => WriteAsync(
            $"INSERT INTO jobs({Columns}) VALUES($id, $kind, $status, $by, $created, $started, $finished, $phase, $done, $total, $params, $result, $error)", job, ct);

        public Task UpdateAsync(JobRecord job, CancellationToken ct) => WriteAsync(
            "UPDATE jobs SET status=$status, started_at=$started, finished_at=$finished, phase=$phase, done=$done, total=$total, result=$result, error=$error " +
            "WHERE id=$id AND status NOT IN ('succeeded','failed','cancelled')",
            job,
            ct);

        public Task<JobRecord?> GetAsync(string id, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(c, $"SELECT {Columns} FROM jobs WHERE id=$id", ("$id", id));
                return (await ReadAllAsync(cmd, Map, ct).ConfigureAwait(false)).FirstOrDefault();
            },
            ct);

        public Task<IReadOnlyList<JobRecord>> ListAsync(string? kind, string? createdBy, int limit, CancellationToken ct) => owner.UseAsync<IReadOnlyList<JobRecord>>(
            async c =>
            {
                await using var cmd = Command(
                    c,
                    $"SELECT {Columns} FROM jobs WHERE ($k IS NULL OR kind=$k) AND ($b IS NULL OR created_by=$b) ORDER BY created_at DESC, id LIMIT $l",
                    ("$k", kind), ("$b", createdBy), ("$l", limit));
                return await ReadAllAsync(cmd, Map, ct).ConfigureAwait(false);
            },
            ct);

        public Task<int> FailUnfinishedAsync(string error, DateTimeOffset at, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(
                    c,
                    "UPDATE jobs SET status='failed', error=$e, finished_at=$a WHERE status IN ('queued','running')",
                    ("$e", error), ("$a", at.ToUnixTimeMilliseconds()));
                return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            ct);

        private Task<int> WriteAsync(string sql, JobRecord job, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(
                    c,
                    sql,
                    ("$id", job.Id), ("$kind", job.Kind), ("$status", job.Status), ("$by", job.CreatedBy), ("$created", job.CreatedAt.ToUnixTimeMilliseconds()),
                    ("$started", Millis(job.StartedAt)), ("$finished", Millis(job.FinishedAt)), ("$phase", job.Phase), ("$done", job.Done), ("$total", job.Total),
                    ("$params", job.Parameters), ("$result", job.Result), ("$error", job.Error));
                return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            ct);

        private static JobRecord Map(SqliteDataReader r) => new(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), Time(r, 5), Time(r, 6),
            Text(r, 7), r.GetInt64(8), r.IsDBNull(9) ? null : r.GetInt64(9), r.GetString(10), Text(r, 11), Text(r, 12));
    }

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
