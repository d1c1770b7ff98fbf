using Trove.Testing;

namespace Trove.Cli.Tests;

/// <summary>
/// Restoration and upscaling through the real CLI: a generated ONNX upscaler through real ONNX Runtime (tiled), and an
/// image-to-image provider over real HTTP; results are new media with their lineage, and bad output imports nothing.
/// </summary>
[Collection(InProcessCollection.Name)]
public sealed class RestoreCommandsTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private FakeProviderServer _fake = null!;
    private string _original = string.Empty;

    private string Library => _temp.Combine("library");

    public async Task InitializeAsync()
    {
        _fake = await FakeProviderServer.StartAsync();
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var photo = _temp.Combine("photos", "harbour.png");
        Directory.CreateDirectory(Path.GetDirectoryName(photo)!);
        TestImages.WritePng(photo, TestImages.Photo(11, 100, 80));
        var import = (await Cli.InAsync(Library, "import", photo, "--tags", "harbour,boats", "--collection", "Trip", "--json")).ShouldSucceed().Json;
        _original = import.GetProperty("media").Strings()[0];
    }

    public async Task DisposeAsync()
    {
        await _fake.DisposeAsync();
        _temp.Dispose();
    }

    private async Task<long> CountAsync(string query) =>
        (await Cli.InAsync(Library, "search", query, "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64();

    private async Task AddLocalAsync(string id, int modelScale, int declaredScale)
    {
        var file = OnnxModels.Write(_temp.Combine($"{id}.onnx"), OnnxModels.NearestUpscaler(modelScale));
        (await Cli.InAsync(Library, "models", "add", id, "--kind", "upscaler", "--version", "1", "--file", file, "--parameters", $$"""{"scale":{{declaredScale}},"tileSize":48,"tileOverlap":8}""")).ShouldSucceed();
    }

    [Fact]
    public async Task A_local_upscale_makes_a_derived_media_with_its_lineage_and_the_same_run_again_is_a_no_op()
    {
        await AddLocalAsync("nearest2", 2, 2);

        var run = (await Cli.InAsync(Library, "upscale", _original[..10], "--scale", "2", "--now", "--json")).ShouldSucceed().Json;
        var result = run.GetProperty("result").GetString()!;
        Assert.NotEqual(_original, result);
        Assert.False(run.GetProperty("existing").GetBoolean());
        Assert.Equal(200, run.GetProperty("width").GetInt32());
        Assert.Equal(160, run.GetProperty("height").GetInt32());

        Assert.Equal([result], (await Cli.InAsync(Library, "search", $"derivedfrom:{_original[..8]}", "--json")).ShouldSucceed().Json.Ids());
        Assert.Equal(1, await CountAsync("model:nearest2 harbour boats collection:Trip"));
        Assert.Equal(1, await CountAsync("derived:no"));
        var shown = (await Cli.InAsync(Library, "show", result, "--json")).ShouldSucceed().Stdout;
        Assert.Contains("\"derivedFrom\"", shown, StringComparison.Ordinal);
        Assert.Contains(_original, shown, StringComparison.Ordinal);

        var again = (await Cli.InAsync(Library, "restore", _original, "--model", "nearest2", "--now", "--json")).ShouldSucceed().Json;
        Assert.True(again.GetProperty("existing").GetBoolean());
        Assert.Equal(result, again.GetProperty("result").GetString());
        Assert.Equal(2, await CountAsync(""));

        // The lineage lives in the files: a rebuild finds it again; the library checks clean.
        (await Cli.InAsync(Library, "rebuild")).ShouldSucceed();
        Assert.Equal(1, await CountAsync($"derivedfrom:{_original} derived:yes"));
        Assert.Empty((await Cli.InAsync(Library, "check", "--json")).ShouldSucceed().Json.GetProperty("problems").EnumerateArray());

        // Plain restore still means the trash.
        (await Cli.InAsync(Library, "delete", result)).ShouldSucceed();
        (await Cli.InAsync(Library, "restore", result)).ShouldSucceed();
        Assert.Equal(2, await CountAsync(""));
    }

    [Fact]
    public async Task A_model_whose_output_is_not_its_scale_imports_nothing()
    {
        await AddLocalAsync("liar", 3, 2);
        var run = await Cli.InAsync(Library, "restore", _original, "--model", "liar", "--now", "--json");
        run.ShouldExit(1);
        Assert.Equal("model-output-mismatch", run.ErrorCode());
        Assert.Equal(1, await CountAsync(""));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Library, "tmp")));
    }

    [Fact]
    public async Task A_provider_restores_over_http_and_an_answer_that_is_not_an_image_imports_nothing()
    {
        (await Cli.InAsync(Library, "providers", "add", "hf", "--kind", "hf-inference", "--url", _fake.HfUrl, "--model", "org/restore-faces")).ShouldSucceed();
        (await Cli.InAsync(Library, "models", "add", "faces", "--kind", "restorer", "--version", "2", "--provider", "hf", "--parameters", """{"scale":1}""")).ShouldSucceed();

        _fake.Default = Behaviour.EchoImage();
        var run = (await Cli.InAsync(Library, "restore", _original, "--model", "faces", "--keep", "--now", "--json")).ShouldSucceed().Json;
        var result = run.GetProperty("result").GetString()!;
        Assert.Equal("/models/org/restore-faces", Assert.Single(_fake.Requests).Path);
        Assert.Equal(1, await CountAsync($"derivedfrom:{_original} model:faces"));
        Assert.Contains("\"kept\": true", (await Cli.InAsync(Library, "show", result, "--json")).ShouldSucceed().Stdout, StringComparison.Ordinal);

        _fake.Default = Behaviour.NotAnImage();
        var bad = await Cli.InAsync(Library, "restore", _original, "--model", "faces", "--param", "strength=0.5", "--now", "--json");
        bad.ShouldExit(1);
        Assert.Equal("provider-bad-response", bad.ErrorCode());
        Assert.Equal(2, await CountAsync(""));
    }
}
