using Trove.Testing;

namespace Trove.Cli.Tests;

/// <summary>
/// Semantic search through the real CLI (issue 16): registering the generated CLIP pair as an embedder, 'trove embed
/// --now' through real ONNX Runtime and libvips, scores in 'search --json', near-duplicates and similar images by
/// embedding, and check's notes about media waiting for embeddings.
/// </summary>
[Collection(InProcessCollection.Name)]
public sealed class SemanticCommandsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Library => _temp.Combine("library");

    public void Dispose() => _temp.Dispose();

    private async Task<string> ImportAsync(string name, byte r, byte g, byte b, int width = 48)
    {
        var file = _temp.Combine("photos", name + ".jpg");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        TestImages.WriteJpeg(file, TestImages.Solid(width, ClipPair.Size, r, g, b));
        return (await Cli.InAsync(Library, "import", file, "--json")).ShouldSucceed().Json.GetProperty("media").Strings()[0];
    }

    [Fact]
    public async Task Embed_then_search_by_sentence_find_duplicates_and_similar_by_embedding_and_check_is_clean()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var red = await ImportAsync("red", 230, 20, 20);
        var red2 = await ImportAsync("red-again", 226, 24, 22, width: 40);
        var blue = await ImportAsync("blue", 20, 20, 230);

        var none = await Cli.InAsync(Library, "search", "semantic:red", "--json");
        Assert.Equal("no-embedder", none.ShouldExit(2).ErrorCode());

        var (image, text, vocab, merges) = ClipPair.Write(_temp.Combine("clip"));
        (await Cli.InAsync(
            Library, "models", "add", "clip", "--kind", "embedder", "--version", "1", "--file", image, "--text-file", text, "--vocab", vocab, "--merges", merges,
            "--parameters", $$"""{"size":{{ClipPair.Size}}}""")).ShouldSucceed();

        // Media imported before the embedder: check notes them, and the query says how to fill the gap.
        var check = (await Cli.InAsync(Library, "check")).ShouldSucceed().Stdout;
        Assert.Contains("note:", check, StringComparison.Ordinal);
        Assert.Contains("3", check, StringComparison.Ordinal);
        Assert.Equal("not-embedded", (await Cli.InAsync(Library, "search", $"like:{red[..10]}", "--json")).ShouldExit(2).ErrorCode());

        var embedded = (await Cli.InAsync(Library, "embed", "", "--now", "--json")).ShouldSucceed().Json;
        Assert.Equal("clip@1", embedded.GetProperty("model").GetString());
        Assert.Equal(3, embedded.GetProperty("embedded").GetInt32());
        Assert.Equal(3, (await Cli.InAsync(Library, "embed", "", "--now", "--json")).ShouldSucceed().Json.GetProperty("skipped").GetInt32());

        var found = (await Cli.InAsync(Library, "search", "semantic:\"a photo of a blue dog\"", "--json")).ShouldSucceed().Json;
        var items = found.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(blue, items[0].GetProperty("id").GetString());
        var scores = items.Select(i => i.GetProperty("score").GetSingle()).ToList();
        Assert.True(scores[0] > 0.9f && scores.SequenceEqual(scores.OrderByDescending(s => s)), string.Join(", ", scores));

        var dupes = (await Cli.InAsync(Library, "dupes", "--by", "embedding", "--json")).ShouldSucceed().Json;
        var group = Assert.Single(dupes.GetProperty("groups").EnumerateArray().ToList());
        Assert.Equal(new[] { red, red2 }.Order(StringComparer.Ordinal), group.Strings().Order(StringComparer.Ordinal));
        Assert.Equal("embedding", dupes.GetProperty("by")[0].GetString());
        Assert.True(dupes.GetProperty("scores")[0].GetSingle() >= 0.95f);
        Assert.Empty((await Cli.InAsync(Library, "dupes", "--json")).ShouldSucceed().Json.GetProperty("groups").EnumerateArray());
        Assert.Equal("bad-by", (await Cli.InAsync(Library, "dupes", "--by", "colour", "--json")).ShouldExit(2).ErrorCode());

        var similar = (await Cli.InAsync(Library, "similar", red[..10], "--by", "embedding", "--json")).ShouldSucceed().Json.GetProperty("items");
        var item = Assert.Single(similar.EnumerateArray().ToList());
        Assert.Equal(red2, item.GetProperty("id").GetString());
        Assert.False(item.TryGetProperty("distance", out _));
        Assert.True(item.GetProperty("score").GetSingle() >= 0.95f);

        // Embeddings are derived data beside the index: a rebuild keeps them, and the library checks clean.
        (await Cli.InAsync(Library, "rebuild")).ShouldSucceed();
        Assert.Equal(blue, (await Cli.InAsync(Library, "search", "semantic:blue", "--json")).ShouldSucceed().Json.Ids()[0]);
        var after = (await Cli.InAsync(Library, "check", "--json")).ShouldSucceed().Json;
        Assert.Empty(after.GetProperty("problems").EnumerateArray());
        Assert.Empty(after.GetProperty("notices").EnumerateArray());
    }
}
