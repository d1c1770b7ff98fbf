using Trove.Application.Ports;
using Trove.Index.Conformance;

namespace Trove.Index.Sqlite.Tests;

/// <summary>The shared index conformance suite, run against the embedded SQLite index in a real temp directory.</summary>
public sealed class SqliteIndexConformanceTests : LibraryIndexConformanceTests
{
    protected override async Task<ILibraryIndex> CreateIndexAsync(string directory) =>
        await SqliteIndexFactory.OpenPathAsync(Path.Combine(directory, "index.db"), CancellationToken.None);
}
