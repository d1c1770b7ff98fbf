using Microsoft.Data.Sqlite;
using Trove.Application.Accounts;
using Trove.Application.Jobs;
using Trove.Application.Ports;
using Trove.Library;

namespace Trove.Index.Sqlite;

/// <summary>
/// state/state.db: the audit log, the import journal, accounts, API tokens, jobs and the workers present. Not rebuildable
/// — back it up.
/// </summary>
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
            parameters TEXT NOT NULL, result TEXT, error TEXT,
            priority INTEGER NOT NULL DEFAULT 0, available_at INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 1, lease_owner TEXT, lease_until INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0,
            pinned_to TEXT) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
        CREATE TABLE IF NOT EXISTS workers(
            id TEXT PRIMARY KEY, kinds TEXT NOT NULL, started_at INTEGER NOT NULL, seen_at INTEGER NOT NULL, until INTEGER NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '4');
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

    /// <summary>
    /// The queue over the <c>jobs</c> table. Every change runs in one <c>BEGIN IMMEDIATE</c> transaction, which takes the
    /// database's write lock up front: claims (count running per kind, pick, lease) are atomic across processes.
    /// </summary>
    private sealed class JobStore(SqliteStateStore owner) : IJobStore
    {
        private const string Columns =
            "id, kind, status, created_by, created_at, started_at, finished_at, phase, done, total, parameters, result, error, " +
            "priority, available_at, attempts, max_attempts, lease_owner, lease_until, cancel_requested, pinned_to";

        private const string Held = "id=$id AND status='running' AND lease_owner=$w";

        public Task InsertAsync(JobRecord job, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                await using var cmd = Command(
                    c,
                    $"INSERT INTO jobs({Columns}) VALUES($id, $kind, $status, $by, $created, $started, $finished, $phase, $done, $total, $params, $result, $error, " +
                    "$priority, $available, $attempts, $max, $owner, $until, $cancel, $pinned)",
                    ("$id", job.Id), ("$kind", job.Kind), ("$status", job.Status), ("$by", job.CreatedBy), ("$created", job.CreatedAt.ToUnixTimeMilliseconds()),
                    ("$started", Millis(job.StartedAt)), ("$finished", Millis(job.FinishedAt)), ("$phase", job.Phase), ("$done", job.Done), ("$total", job.Total),
                    ("$params", job.Parameters), ("$result", job.Result), ("$error", job.Error), ("$priority", job.Priority),
                    ("$available", job.AvailableAt.ToUnixTimeMilliseconds()), ("$attempts", job.Attempts), ("$max", job.MaxAttempts), ("$owner", job.LeaseOwner),
                    ("$until", Millis(job.LeaseUntil)), ("$cancel", job.CancelRequested ? 1 : 0), ("$pinned", job.PinnedTo));
                return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            ct);

        public Task<JobRecord?> GetAsync(string id, CancellationToken ct) => owner.UseAsync(c => GetAsync(c, null, id, ct), ct);

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

        public Task<JobRecord> EnqueueAsync(NewJob job, DateTimeOffset now, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(job);
            var at = now.ToUnixTimeMilliseconds();
            return owner.UseAsync(
                async c =>
                {
                    await using var cmd = Command(
                        c,
                        $"INSERT INTO jobs({Columns}) VALUES($id, $kind, 'queued', $by, $now, NULL, NULL, NULL, 0, NULL, $payload, NULL, NULL, " +
                        $"$priority, $available, 0, $max, NULL, $until, 0, $pinned) RETURNING {Columns}",
                        ("$id", job.Id ?? NewId()), ("$kind", job.Kind), ("$by", job.CreatedBy), ("$now", at), ("$payload", job.Payload), ("$priority", job.Priority),
                        ("$available", (now + (job.Delay > TimeSpan.Zero ? job.Delay : TimeSpan.Zero)).ToUnixTimeMilliseconds()), ("$max", Math.Max(1, job.MaxAttempts)),
                        ("$until", job.PinnedTo is null ? null : (now + job.PinLease).ToUnixTimeMilliseconds()), ("$pinned", job.PinnedTo));
                    return (await ReadAllAsync(cmd, Map, ct).ConfigureAwait(false))[0];
                },
                ct);
        }

        public Task<JobRecord?> ClaimAsync(string workerId, IReadOnlyDictionary<string, int> kinds, TimeSpan lease, DateTimeOffset now, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(kinds);
            var at = now.ToUnixTimeMilliseconds();
            var kindArgs = kinds.Keys.Select((k, i) => ("$k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), (object?)k)).ToList();
            var kindList = string.Join(", ", kindArgs.Select(a => a.Item1));
            return owner.UseAsync(
                async c =>
                {
                    // Idle workers poll: look first (a read beside other processes), take the write lock only for work.
                    await using (var look = Command(
                        c,
                        $"SELECT EXISTS(SELECT 1 FROM jobs WHERE status='queued' AND available_at<=$now AND kind IN ({(kindList.Length == 0 ? "NULL" : kindList)})) " +
                        "OR EXISTS(SELECT 1 FROM jobs WHERE status IN ('running','queued') AND lease_until IS NOT NULL AND lease_until<=$now)",
                        [("$now", at), .. kindArgs]))
                    {
                        if ((long)(await look.ExecuteScalarAsync(ct).ConfigureAwait(false))! == 0)
                        {
                            return null;
                        }
                    }

                    await using var tx = c.BeginTransaction(deferred: false);
                    await ExpireLeasesAsync(c, tx, at, ct).ConfigureAwait(false);
                    var running = new Dictionary<string, long>(StringComparer.Ordinal);
                    await using (var count = Command(c, "SELECT kind, count(*) FROM jobs WHERE status='running' GROUP BY kind"))
                    {
                        count.Transaction = tx;
                        foreach (var (kind, n) in await ReadAllAsync(count, r => (r.GetString(0), r.GetInt64(1)), ct).ConfigureAwait(false))
                        {
                            running[kind] = n;
                        }
                    }

                    var open = kinds.Where(k => running.GetValueOrDefault(k.Key) < k.Value).Select(k => k.Key).ToList();
                    if (open.Count == 0)
                    {
                        await tx.CommitAsync(ct).ConfigureAwait(false);
                        return null;
                    }

                    var names = string.Join(", ", open.Select((_, i) => "$k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    await using var claim = Command(
                        c,
                        "UPDATE jobs SET status='running', attempts=attempts+1, lease_owner=$w, lease_until=$until, started_at=$now, phase=NULL, done=0, total=NULL " +
                        "WHERE id=(SELECT id FROM jobs WHERE status='queued' AND available_at<=$now AND (pinned_to IS NULL OR pinned_to=$w) " +
                        $"AND kind IN ({names}) ORDER BY priority DESC, available_at, created_at, id LIMIT 1) RETURNING {Columns}",
                        [("$w", workerId), ("$until", (now + lease).ToUnixTimeMilliseconds()), ("$now", at), .. open.Select((k, i) => ("$k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), (object?)k))]);
                    claim.Transaction = tx;
                    var job = (await ReadAllAsync(claim, Map, ct).ConfigureAwait(false)).FirstOrDefault();
                    await tx.CommitAsync(ct).ConfigureAwait(false);
                    return job;
                },
                ct);
        }

        public Task<IReadOnlyList<HeldJob>> RenewLeasesAsync(string workerId, TimeSpan lease, DateTimeOffset now, CancellationToken ct) => owner.UseAsync<IReadOnlyList<HeldJob>>(
            async c =>
            {
                await using var tx = c.BeginTransaction(deferred: false);
                var until = (now + lease).ToUnixTimeMilliseconds();
                await using var pinned = Command(c, "UPDATE jobs SET lease_until=$until WHERE status='queued' AND pinned_to=$w", ("$w", workerId), ("$until", until));
                pinned.Transaction = tx;
                await pinned.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                await using var renew = Command(
                    c,
                    "UPDATE jobs SET lease_until=$until WHERE status='running' AND lease_owner=$w RETURNING id, cancel_requested",
                    ("$w", workerId), ("$until", until));
                renew.Transaction = tx;
                var held = await ReadAllAsync(renew, r => new HeldJob(r.GetString(0), r.GetInt64(1) != 0), ct).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                return held;
            },
            ct);

        public Task<bool> ReportProgressAsync(string id, string workerId, string? phase, long done, long? total, CancellationToken ct) => ChangeAsync(
            $"UPDATE jobs SET phase=$phase, done=$done, total=$total WHERE {Held}", ct, ("$id", id), ("$w", workerId), ("$phase", phase), ("$done", done), ("$total", total));

        public Task<bool> CompleteAsync(string id, string workerId, string? result, DateTimeOffset now, CancellationToken ct) => ChangeAsync(
            $"UPDATE jobs SET status='succeeded', finished_at=$now, result=$result, error=NULL, lease_until=NULL WHERE {Held}",
            ct,
            ("$id", id), ("$w", workerId), ("$now", now.ToUnixTimeMilliseconds()), ("$result", result));

        public Task<JobRecord?> FailAsync(string id, string workerId, string error, DateTimeOffset? retryAt, DateTimeOffset now, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                const string Retry = "($retry IS NOT NULL AND attempts < max_attempts AND cancel_requested=0)";
                await using var tx = c.BeginTransaction(deferred: false);
                await using var cmd = Command(
                    c,
                    $"UPDATE jobs SET status=CASE WHEN {Retry} THEN 'queued' WHEN cancel_requested=1 THEN 'cancelled' ELSE 'failed' END, " +
                    $"available_at=CASE WHEN {Retry} THEN $retry ELSE available_at END, finished_at=CASE WHEN {Retry} THEN NULL ELSE $now END, " +
                    $"error=$error, lease_until=NULL WHERE {Held}",
                    ("$id", id), ("$w", workerId), ("$error", error), ("$retry", Millis(retryAt)), ("$now", now.ToUnixTimeMilliseconds()));
                cmd.Transaction = tx;
                var changed = await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
                var job = changed ? await GetAsync(c, tx, id, ct).ConfigureAwait(false) : null;
                await tx.CommitAsync(ct).ConfigureAwait(false);
                return job;
            },
            ct);

        public Task<bool> MarkCancelledAsync(string id, string workerId, DateTimeOffset now, CancellationToken ct) => ChangeAsync(
            $"UPDATE jobs SET status='cancelled', finished_at=$now, lease_until=NULL WHERE {Held}", ct, ("$id", id), ("$w", workerId), ("$now", now.ToUnixTimeMilliseconds()));

        // A pinned job cannot outlive its worker's process: released, it is failed rather than queued for nobody.
        public Task<bool> ReleaseAsync(string id, string workerId, DateTimeOffset now, CancellationToken ct) => ChangeAsync(
            "UPDATE jobs SET status=CASE WHEN cancel_requested=1 THEN 'cancelled' WHEN pinned_to IS NOT NULL THEN 'failed' ELSE 'queued' END, " +
            "finished_at=CASE WHEN cancel_requested=1 OR pinned_to IS NOT NULL THEN $now ELSE NULL END, " +
            "error=CASE WHEN pinned_to IS NOT NULL AND cancel_requested=0 THEN 'Trove stopped while this job ran in its process; start it again.' ELSE error END, " +
            $"attempts=max(attempts-1, 0), available_at=$now, lease_until=NULL WHERE {Held}",
            ct,
            ("$id", id), ("$w", workerId), ("$now", now.ToUnixTimeMilliseconds()));

        public Task<JobRecord?> CancelAsync(string id, DateTimeOffset now, CancellationToken ct) => owner.UseAsync(
            async c =>
            {
                // Queued, or running with an expired lease (nobody is running it): cancelled at once. Running: asked.
                const string AtOnce = "(status='queued' OR (lease_until IS NOT NULL AND lease_until<=$now))";
                await using var tx = c.BeginTransaction(deferred: false);
                await using var cmd = Command(
                    c,
                    $"UPDATE jobs SET status=CASE WHEN {AtOnce} THEN 'cancelled' ELSE status END, finished_at=CASE WHEN {AtOnce} THEN $now ELSE finished_at END, " +
                    $"lease_until=CASE WHEN {AtOnce} THEN NULL ELSE lease_until END, cancel_requested=CASE WHEN {AtOnce} THEN cancel_requested ELSE 1 END " +
                    "WHERE id=$id AND status IN ('queued','running')",
                    ("$id", id), ("$now", now.ToUnixTimeMilliseconds()));
                cmd.Transaction = tx;
                await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                var job = await GetAsync(c, tx, id, ct).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                return job;
            },
            ct);

        // Presence: one row per worker, refreshed by its heartbeat; rows whose time is up are forgotten at the next beat.
        public Task BeatAsync(WorkerPresence worker, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(worker);
            return ChangeAsync(
                "DELETE FROM workers WHERE until<=$seen AND id<>$id; " +
                "INSERT INTO workers(id, kinds, started_at, seen_at, until) VALUES($id, $kinds, $started, $seen, $until) " +
                "ON CONFLICT(id) DO UPDATE SET kinds=excluded.kinds, seen_at=excluded.seen_at, until=excluded.until",
                ct,
                ("$id", worker.Id), ("$kinds", string.Join(',', worker.Kinds)), ("$started", worker.StartedAt.ToUnixTimeMilliseconds()),
                ("$seen", worker.SeenAt.ToUnixTimeMilliseconds()), ("$until", worker.Until.ToUnixTimeMilliseconds()));
        }

        public Task LeaveAsync(string workerId, CancellationToken ct) => ChangeAsync("DELETE FROM workers WHERE id=$id", ct, ("$id", workerId));

        public Task<IReadOnlyList<WorkerPresence>> ListWorkersAsync(DateTimeOffset now, CancellationToken ct) => owner.UseAsync<IReadOnlyList<WorkerPresence>>(
            async c =>
            {
                await using var cmd = Command(c, "SELECT id, kinds, started_at, seen_at, until FROM workers WHERE until>$now ORDER BY started_at, id", ("$now", now.ToUnixTimeMilliseconds()));
                return await ReadAllAsync(
                    cmd,
                    r => new WorkerPresence(
                        r.GetString(0),
                        r.GetString(1).Split(',', StringSplitOptions.RemoveEmptyEntries),
                        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)),
                        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
                        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4))),
                    ct).ConfigureAwait(false);
            },
            ct);

        /// <summary>
        /// Jobs whose worker stopped renewing: queued again (the claim already counted the attempt), or failed when they
        /// have used their attempts or were pinned to that worker, or cancelled when that was asked. Queued pinned jobs
        /// whose worker stopped renewing them are failed.
        /// </summary>
        private static async Task ExpireLeasesAsync(SqliteConnection c, SqliteTransaction tx, long now, CancellationToken ct)
        {
            const string Final = "(cancel_requested=1 OR pinned_to IS NOT NULL OR attempts>=max_attempts)";
            await using var cmd = Command(
                c,
                $"UPDATE jobs SET status=CASE WHEN cancel_requested=1 THEN 'cancelled' WHEN {Final} THEN 'failed' ELSE 'queued' END, " +
                $"finished_at=CASE WHEN {Final} THEN $now ELSE NULL END, available_at=$now, lease_until=NULL, " +
                "error=CASE WHEN cancel_requested=1 THEN error " +
                "WHEN pinned_to IS NOT NULL THEN 'The process running this job stopped (its lease expired); start it again.' " +
                "ELSE 'Its worker ' || coalesce(lease_owner, '?') || ' stopped renewing its lease during attempt ' || attempts || ' of ' || max_attempts || " +
                "' (the process stopped or hung).' END " +
                "WHERE status='running' AND lease_until IS NOT NULL AND lease_until<=$now; " +
                "UPDATE jobs SET status='failed', finished_at=$now, lease_until=NULL, " +
                "error='The process that queued this job stopped before it could run it; start it again.' " +
                "WHERE status='queued' AND pinned_to IS NOT NULL AND lease_until IS NOT NULL AND lease_until<=$now",
                ("$now", now));
            cmd.Transaction = tx;
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        private static async Task<JobRecord?> GetAsync(SqliteConnection c, SqliteTransaction? tx, string id, CancellationToken ct)
        {
            await using var cmd = Command(c, $"SELECT {Columns} FROM jobs WHERE id=$id", ("$id", id));
            cmd.Transaction = tx;
            return (await ReadAllAsync(cmd, Map, ct).ConfigureAwait(false)).FirstOrDefault();
        }

        private Task<bool> ChangeAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] args) => owner.UseAsync(
            async c =>
            {
                await using var tx = c.BeginTransaction(deferred: false);
                await using var cmd = Command(c, sql, args);
                cmd.Transaction = tx;
                var changed = await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                return changed > 0;
            },
            ct);

        private static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));

        private static JobRecord Map(SqliteDataReader r) => new(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), Time(r, 5), Time(r, 6),
            Text(r, 7), r.GetInt64(8), r.IsDBNull(9) ? null : r.GetInt64(9), r.GetString(10), Text(r, 11), Text(r, 12))
        {
            Priority = r.GetInt32(13),
            AvailableAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(14)),
            Attempts = r.GetInt32(15),
            MaxAttempts = r.GetInt32(16),
            LeaseOwner = Text(r, 17),
            LeaseUntil = Time(r, 18),
            CancelRequested = r.GetInt64(19) != 0,
            PinnedTo = Text(r, 20),
        };

        /// <summary>
        /// Schema 3 makes the jobs table a queue (columns added in place, so rows of schema 2 keep their outcome). Jobs a
        /// schema-2 process left running had no lease: they get an expired one, so the next claim retries them.
        /// Schema 4 adds the <c>workers</c> table (worker presence), which the schema script creates where it is missing.
        /// Idempotent, and safe when several processes open the database at once (one write transaction).
        /// </summary>
        public static async Task MigrateAsync(SqliteConnection c, CancellationToken ct)
        {
            (string Name, string Definition)[] queue =
            [
                ("priority", "INTEGER NOT NULL DEFAULT 0"), ("available_at", "INTEGER NOT NULL DEFAULT 0"), ("attempts", "INTEGER NOT NULL DEFAULT 0"),
                ("max_attempts", "INTEGER NOT NULL DEFAULT 1"), ("lease_owner", "TEXT"), ("lease_until", "INTEGER"),
                ("cancel_requested", "INTEGER NOT NULL DEFAULT 0"), ("pinned_to", "TEXT"),
            ];
            await using var tx = c.BeginTransaction(deferred: false);
            HashSet<string> existing;
            await using (var info = Command(c, "SELECT name FROM pragma_table_info('jobs')"))
            {
                info.Transaction = tx;
                existing = [.. await ReadAllAsync(info, r => r.GetString(0), ct).ConfigureAwait(false)];
            }

            var missing = queue.Where(q => !existing.Contains(q.Name)).ToList();
            var sql = new System.Text.StringBuilder();
            foreach (var (name, definition) in missing)
            {
                sql.Append("ALTER TABLE jobs ADD COLUMN ").Append(name).Append(' ').Append(definition).Append(";\n");
            }

            if (missing.Count > 0)
            {
                sql.Append("UPDATE jobs SET available_at=created_at;\n")
                    .Append("UPDATE jobs SET max_attempts=3 WHERE status IN ('queued','running');\n")
                    .Append("UPDATE jobs SET attempts=1, lease_owner='(before schema 3)', lease_until=0 WHERE status='running';\n");
            }

            sql.Append("CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(status, priority DESC, available_at);\n")
                .Append("UPDATE meta SET value='4' WHERE key='schema_version' AND CAST(value AS INTEGER) < 4;");
            await SqliteDatabase.ExecAsync(c, sql.ToString(), ct, tx).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
    }

    public static async Task<SqliteStateStore> OpenAsync(string path, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connection = await SqliteDatabase.OpenAsync(path, ct).ConfigureAwait(false);
        try
        {
            await SqliteDatabase.ExecAsync(connection, SchemaSql, ct).ConfigureAwait(false);
            await JobStore.MigrateAsync(connection, ct).ConfigureAwait(false);
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
