using System.Globalization;
using Microsoft.Data.Sqlite;
using Trove.Application.Ports;
using Trove.Library;

namespace Trove.Index.Sqlite;

/// <summary>Opens index/index.db, creating it, or replacing it when it is corrupt or of another schema version.</summary>
public sealed class SqliteIndexFactory : ILibraryIndexFactory
{
    public async Task<ILibraryIndex> OpenAsync(LibraryLayout layout, CancellationToken ct)
    {
        Directory.CreateDirectory(layout.IndexDir);
        return await OpenPathAsync(layout.IndexDatabasePath, ct).ConfigureAwait(false);
    }

    public static async Task<SqliteLibraryIndex> OpenPathAsync(string path, CancellationToken ct)
    {
        var existed = File.Exists(path);
        try
        {
            return await TryOpenAsync(path, existed, ct).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (SqliteDatabase.IsCorrupt(ex))
        {
            // The index is a cache: a damaged one is replaced and rebuilt from the files.
            SqliteConnection.ClearAllPools();
            SqliteDatabase.DeleteDatabaseFiles(path);
            return await TryOpenAsync(path, existed: false, ct).ConfigureAwait(false);
        }
    }

    private static async Task<SqliteLibraryIndex> TryOpenAsync(string path, bool existed, CancellationToken ct)
    {
        var connection = await SqliteDatabase.OpenAsync(path, ct).ConfigureAwait(false);
        try
        {
            var isNew = !existed;
            await SqliteDatabase.ExecAsync(connection, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;", ct).ConfigureAwait(false);
            string? version;
            await using (var cmd = connection.CreateCommand())
            {
                cmd.CommandText = "SELECT value FROM meta WHERE key='schema_version'";
                version = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
            }

            if (version != Schema.Version.ToString(CultureInfo.InvariantCulture))
            {
                // New file, or another schema version: start from empty tables (the caller rebuilds).
                foreach (var table in Schema.DataTables)
                {
                    await SqliteDatabase.ExecAsync(connection, $"DROP TABLE IF EXISTS {table}", ct).ConfigureAwait(false);
                }

                await SqliteDatabase.ExecAsync(connection, "DELETE FROM meta", ct).ConfigureAwait(false);
                isNew = true;
            }

            await SqliteDatabase.ExecAsync(connection, Schema.Sql, ct).ConfigureAwait(false);
            await SqliteDatabase.ExecAsync(connection, $"INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '{Schema.Version}')", ct).ConfigureAwait(false);
            await SqliteDatabase.ExecAsync(connection, $"INSERT OR IGNORE INTO meta(key, value) VALUES('{Trove.Application.IndexMeta.SearchEpoch}', '{Guid.NewGuid():N}')", ct).ConfigureAwait(false);
            return new SqliteLibraryIndex(connection, path, isNew);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
