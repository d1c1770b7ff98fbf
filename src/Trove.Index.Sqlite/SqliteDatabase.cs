using Microsoft.Data.Sqlite;

namespace Trove.Index.Sqlite;

/// <summary>Opening SQLite files the way Trove wants them: WAL, NORMAL sync, a generous busy timeout; read-only extra connections.</summary>
internal static class SqliteDatabase
{
    public static Task<SqliteConnection> OpenAsync(string path, CancellationToken ct) =>
        OpenAsync(path, SqliteOpenMode.ReadWriteCreate, "PRAGMA busy_timeout=60000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;", ct);

    /// <summary>
    /// An extra connection for reading a database another connection (<see cref="OpenAsync(string, CancellationToken)"/>)
    /// has opened and put in WAL mode (so that reads run beside the writer): the same busy timeout and temp store, a smaller
    /// page cache (there may be several), never creating the file, and <c>query_only</c> so that it cannot write.
    /// </summary>
    public static Task<SqliteConnection> OpenReaderAsync(string path, CancellationToken ct) =>
        OpenAsync(path, SqliteOpenMode.ReadWrite, "PRAGMA busy_timeout=60000; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384; PRAGMA query_only=1;", ct);

    private static async Task<SqliteConnection> OpenAsync(string path, SqliteOpenMode mode, string pragmas, CancellationToken ct)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = 60,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await ExecAsync(connection, pragmas, ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static async Task ExecAsync(SqliteConnection connection, string sql, CancellationToken ct, SqliteTransaction? tx = null)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public static void DeleteDatabaseFiles(string path)
    {
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm", "-journal" })
        {
            File.Delete(path + suffix);
        }
    }

    /// <summary>SQLITE_FULL (13): the disk holding the database is full.</summary>
    public static bool IsFull(SqliteException ex) => ex.SqliteErrorCode == 13;

    /// <summary>The same "disk-full" error the file writes report, so callers see one code whichever write hit the limit.</summary>
    public static Trove.Domain.TroveException DiskFull(SqliteConnection connection, SqliteException ex) => new(
        "disk-full",
        $"The disk holding {connection.DataSource} is full: {ex.Message}",
        "Free some space and run the command again; the library files written so far are intact and the index catches up when the library is next opened.",
        ex);

    /// <summary>SQLITE_NOTADB (26) or SQLITE_CORRUPT (11): the file is not a usable database.</summary>
    public static bool IsCorrupt(SqliteException ex) => ex.SqliteErrorCode is 26 or 11;
}
