namespace Trove.Cli.Tests;

/// <summary>The index is rebuildable: deleting it and running `rebuild` gives byte-identical CLI output.</summary>
[Collection(InProcessCollection.Name)]
public sealed class RebuildEquivalenceTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Library => _temp.Combine("library");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Outputs_are_identical_after_deleting_the_index_and_rebuilding()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        Png.WriteMany(_temp.Combine("a"), 12, firstSeed: 0);
        Png.WriteMany(_temp.Combine("b"), 8, firstSeed: 100);
        var a = (await Cli.InAsync(Library, "import", _temp.Combine("a"), "--tags", "outdoor,sky", "--collection", "Trip", "--json")).ShouldSucceed().Json.GetProperty("media").Strings();
        var b = (await Cli.InAsync(Library, "import", _temp.Combine("b"), "--tags", "indoor", "--json")).ShouldSucceed().Json.GetProperty("media").Strings();
        var ids = a.Concat(b).ToList();

        (await Cli.InAsync(Library, "tag", "add", a[0], "kitten", "long_hair")).ShouldSucceed();
        (await Cli.InAsync(Library, "tag", "add", a[1], "puppy", "short_hair")).ShouldSucceed();
        (await Cli.InAsync(Library, "tag", "add", b[0], "kitten", "smile")).ShouldSucceed();
        (await Cli.InAsync(Library, "tags", "imply", "kitten", "cat")).ShouldSucceed();
        (await Cli.InAsync(Library, "tags", "alias", "puppy", "dog")).ShouldSucceed();
        (await Cli.InAsync(Library, "tags", "category", "cat", "animal", "--create")).ShouldSucceed();
        (await Cli.InAsync(Library, "tags", "category", "dog", "animal")).ShouldSucceed();
        (await Cli.InAsync(Library, "tags", "describe", "sky", "The sky is visible")).ShouldSucceed();
        (await Cli.InAsync(Library, "caption", "set", b[1], "a cosy room")).ShouldSucceed();
        (await Cli.InAsync(Library, "collection", "create", "Favourites")).ShouldSucceed();
        (await Cli.InAsync(Library, "collection", "add", "Favourites", b[2], a[3], b[0])).ShouldSucceed();
        (await Cli.InAsync(Library, "delete", a[5], b[7])).ShouldSucceed();
        (await Cli.InAsync(Library, "tag", "remove", a[2], "sky")).ShouldSucceed();

        string[][] commands =
        [
            ["search", "", "--json", "--limit", "1000"],
            ["search", "", "--json", "--limit", "5", "--offset", "3"],
            ["search", "sky", "--json", "--limit", "1000"],
            ["search", "cat -indoor", "--json"],
            ["search", "*_hair", "--json"],
            ["search", "puppy", "--json"],
            ["search", "outdoor -sky", "--json"],
            ["search", "order:oldest", "--json", "--limit", "1000"],
            ["search", "order:id", "--json", "--limit", "1000"],
            ["search", "collection:Favourites", "--json"],
            ["search", "kind:image indoor", "--json"],
            ["tags", "list", "--json"],
            ["collection", "list", "--json"],
            ["collection", "show", "Trip", "--json"],
            ["collection", "show", "Favourites", "--json"],
            .. ids.Select(id => new[] { "show", id, "--json" }),
            .. ids.Select(id => new[] { "caption", "list", id, "--json" }),
        ];

        var before = await CaptureAsync(commands);
        Assert.Equal(18, System.Text.Json.JsonDocument.Parse(before[0]).RootElement.GetProperty("total").GetInt64());
        (await Cli.InAsync(Library, "check", "--json")).ShouldSucceed();

        var indexFiles = Directory.GetFiles(Path.Combine(Library, "index"), "index.db*");
        Assert.NotEmpty(indexFiles);
        foreach (var file in indexFiles)
        {
            File.Delete(file);
        }

        var rebuild = (await Cli.InAsync(Library, "rebuild", "--json")).ShouldSucceed().Json;
        Assert.Equal(18, rebuild.GetProperty("media").GetInt32());
        Assert.Equal(2, rebuild.GetProperty("trash").GetInt32());
        Assert.Equal(2, rebuild.GetProperty("collections").GetInt32());
        Assert.Equal(0, rebuild.GetProperty("problems").GetArrayLength());

        var after = await CaptureAsync(commands);
        for (var i = 0; i < commands.Length; i++)
        {
            Assert.True(before[i] == after[i], $"'{string.Join(' ', commands[i])}' differs after rebuild.\nbefore:\n{before[i]}\nafter:\n{after[i]}");
        }

        var check = (await Cli.InAsync(Library, "check", "--json")).ShouldSucceed().Json;
        Assert.Equal(0, check.GetProperty("problems").GetArrayLength());
    }

    private async Task<string[]> CaptureAsync(string[][] commands)
    {
        var outputs = new string[commands.Length];
        for (var i = 0; i < commands.Length; i++)
        {
            var run = (await Cli.InAsync(Library, commands[i])).ShouldSucceed();
            _ = run.Json; // exactly one JSON document
            outputs[i] = run.Stdout;
        }

        return outputs;
    }
}
