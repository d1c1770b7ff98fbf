using System.Security.Cryptography;
using Trove.Domain;
using Trove.Library.Embeddings;

namespace Trove.Library.Tests.Embeddings;

/// <summary>The embeddings file: round trip in float16, last record wins, a torn or damaged record costs only itself, compaction is atomic.</summary>
public sealed class EmbeddingFileTests : IDisposable
{
    private const string Reference = "clip@vit-b32";
    private const int Dims = 8;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string FilePath => _temp.Combine("embeddings", "clip", "vit-b32.vec");

    private static string Id(int n) => Convert.ToHexStringLower(SHA256.HashData([(byte)n, (byte)(n >> 8)]));

    private static float[] Vector(int seed) => [.. Enumerable.Range(0, Dims).Select(i => MathF.Round(MathF.Sin(seed + i), 3))];

    private static EmbeddingRecord Record(int n, int seed) => new(Id(n), Vector(seed));

    [Fact]
    public void Records_round_trip_at_float16_precision_and_the_newest_record_of_a_media_wins()
    {
        EmbeddingFile.Append(FilePath, Reference, Dims, [Record(1, 1), Record(2, 2)], Durability.Durable);
        EmbeddingFile.Append(FilePath, Reference, Dims, [Record(1, 7)], Durability.Fast);

        var set = EmbeddingFile.Read(FilePath, Reference, Dims);
        Assert.Empty(set.Problems);
        Assert.Equal(3, set.Records);
        Assert.Equal(1, set.Superseded);
        Assert.Equal(2, set.Vectors.Count);
        for (var i = 0; i < Dims; i++)
        {
            Assert.Equal(Vector(7)[i], set.Vectors[Id(1)][i], 0.002f);
            Assert.Equal(Vector(2)[i], set.Vectors[Id(2)][i], 0.002f);
        }

        var expected = 18 + Reference.Length + 4 + (3 * EmbeddingFile.RecordBytes(Dims));
        Assert.Equal(expected, new FileInfo(FilePath).Length);
        Assert.Equal(32 + (2 * Dims) + 4, EmbeddingFile.RecordBytes(Dims));
        Assert.Empty(EmbeddingFile.Read(_temp.Combine("missing.vec"), Reference, Dims).Vectors);
    }

    [Fact]
    public void A_torn_last_record_is_ignored_and_cut_off_by_the_next_append()
    {
        EmbeddingFile.Append(FilePath, Reference, Dims, [Record(1, 1), Record(2, 2)], Durability.Fast);
        using (var stream = new FileStream(FilePath, FileMode.Open))
        {
            stream.SetLength(stream.Length - 5); // a crash in the middle of writing record 2
        }

        var set = EmbeddingFile.Read(FilePath, Reference, Dims);
        Assert.Equal([Id(1)], set.Vectors.Keys);
        Assert.Equal("embeddings-torn-record", Assert.Single(set.Problems).Type);

        EmbeddingFile.Append(FilePath, Reference, Dims, [Record(3, 3)], Durability.Fast);
        var after = EmbeddingFile.Read(FilePath, Reference, Dims);
        Assert.Empty(after.Problems);
        Assert.Equal(new[] { Id(1), Id(3) }.Order(StringComparer.Ordinal), after.Vectors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_damaged_record_costs_only_itself()
    {
        EmbeddingFile.Append(FilePath, Reference, Dims, [Record(1, 1), Record(2, 2), Record(3, 3)], Durability.Fast);
        var bytes = File.ReadAllBytes(FilePath);
        bytes[^(EmbeddingFile.RecordBytes(Dims) + 10)] ^= 0x40; // inside record 2's vector
        File.WriteAllBytes(FilePath, bytes);

        var set = EmbeddingFile.Read(FilePath, Reference, Dims);
        Assert.Equal(new[] { Id(1), Id(3) }.Order(StringComparer.Ordinal), set.Vectors.Keys.Order(StringComparer.Ordinal));
        var problem = Assert.Single(set.Problems);
        Assert.Equal("embeddings-bad-record", problem.Type);
        Assert.Contains(FilePath, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_of_another_model_or_dimension_or_not_an_embedding_file_is_refused_by_name()
    {
        EmbeddingFile.Append(FilePath, Reference, Dims, [Record(1, 1)], Durability.Fast);
        var other = Assert.Throws<TroveException>(() => EmbeddingFile.Read(FilePath, "clip@vit-l14", Dims));
        Assert.Equal("embeddings-invalid", other.Code);
        Assert.Contains("clip@vit-b32", other.Message, StringComparison.Ordinal);
        Assert.Equal("embeddings-invalid", Assert.Throws<TroveException>(() => EmbeddingFile.Read(FilePath, Reference, 16)).Code);
        Assert.Equal("embeddings-invalid", Assert.Throws<TroveException>(() => EmbeddingFile.Append(FilePath, Reference, 16, [], Durability.Fast)).Code);

        var bytes = File.ReadAllBytes(FilePath);
        bytes[12] ^= 1; // the dimension, under the header checksum
        File.WriteAllBytes(FilePath, bytes);
        Assert.Contains("checksum", Assert.Throws<TroveException>(() => EmbeddingFile.Read(FilePath, Reference, Dims)).Message, StringComparison.Ordinal);

        File.WriteAllText(FilePath, "not an embedding file at all");
        Assert.Equal("embeddings-invalid", Assert.Throws<TroveException>(() => EmbeddingFile.Read(FilePath, Reference, Dims)).Code);
    }

    [Fact]
    public void Compaction_keeps_the_newest_record_of_each_kept_media_and_replaces_the_file_atomically()
    {
        EmbeddingFile.Append(FilePath, Reference, Dims, [Record(1, 1), Record(2, 2), Record(3, 3)], Durability.Fast);
        EmbeddingFile.Append(FilePath, Reference, Dims, [Record(1, 9)], Durability.Fast);
        var before = new FileInfo(FilePath).Length;

        Assert.Equal(2, EmbeddingFile.Compact(FilePath, Reference, Dims, id => id != Id(2), Durability.Durable));
        var set = EmbeddingFile.Read(FilePath, Reference, Dims);
        Assert.Equal(2, set.Records);
        Assert.Equal(0, set.Superseded);
        Assert.Equal(Vector(9)[0], set.Vectors[Id(1)][0], 0.002f);
        Assert.False(set.Vectors.ContainsKey(Id(2)));
        Assert.Equal(before - (2 * EmbeddingFile.RecordBytes(Dims)), new FileInfo(FilePath).Length);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(FilePath)!)); // no temporary file left beside it
    }

    [Fact]
    public void Bad_records_are_refused_before_anything_is_written()
    {
        Assert.Throws<ArgumentException>(() => EmbeddingFile.Append(FilePath, Reference, Dims, [Record(1, 1), new EmbeddingRecord(Id(2), [1f, 2f])], Durability.Fast));
        Assert.Throws<ArgumentException>(() => EmbeddingFile.Append(FilePath, Reference, Dims, [new EmbeddingRecord("abc", Vector(1))], Durability.Fast));
        Assert.False(File.Exists(FilePath));
    }

    [Theory]
    [InlineData("vit-b32", "vit-b32.vec")]
    [InlineData("1.0", "1.0.vec")]
    [InlineData("../x", "%2E.%2Fx.vec")]
    [InlineData("v 2/é", "v%202%2F%C3%A9.vec")]
    public void Embedding_paths_are_one_plain_file_per_model_version(string version, string file)
    {
        var layout = new LibraryLayout(_temp.Path);
        Assert.Equal(Path.Combine(_temp.Path, "embeddings", "clip", file), layout.EmbeddingPath("clip", version));
    }
}
