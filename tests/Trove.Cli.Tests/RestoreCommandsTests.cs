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

    [Fact]
    public async Task The_processing_history_records_each_run_and_keep_discard_and_expire_act_on_the_results()
    {
        await AddLocalAsync("nearest2", 2, 2);
        var first = (await Cli.InAsync(Library, "upscale", _original, "--now", "--json")).ShouldSucceed().Json.GetProperty("result").GetString()!;
        var failed = await Cli.InAsync(Library, "restore", _original, "--model", "nearest2", "--param", "tileSize=4", "--now", "--json");
        Assert.Equal("model-parameters-invalid", failed.ErrorCode());

        var runs = (await Cli.InAsync(Library, "processing", "list", "--mine", "--json")).ShouldSucceed().Json.GetProperty("runs");
        Assert.Equal(2, runs.GetArrayLength());
        var ok = runs.EnumerateArray().Single(r => r.GetProperty("status").GetString() == "succeeded");
        Assert.Equal(first, ok.GetProperty("result").GetString());
        Assert.Equal(_original, ok.GetProperty("media").GetString());
        Assert.Equal("nearest2@1", ok.GetProperty("model").GetString());
        Assert.Equal("unkept", ok.GetProperty("resultState").GetString());
        Assert.True(ok.TryGetProperty("expiresAt", out _));
        Assert.True(ok.GetProperty("seconds").GetDouble() >= 0);
        var bad = runs.EnumerateArray().Single(r => r.GetProperty("status").GetString() == "failed");
        Assert.Equal("4", bad.GetProperty("parameters").GetProperty("tileSize").GetString());
        Assert.StartsWith("model-parameters-invalid", bad.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("nearest2@1", (await Cli.InAsync(Library, "processing", "list")).ShouldSucceed().Stdout, StringComparison.Ordinal);

        // Both directions of the lineage in show.
        var shown = (await Cli.InAsync(Library, "show", _original)).ShouldSucceed().Stdout;
        Assert.Contains($"derivative {first} by nearest2@1", shown, StringComparison.Ordinal);
        Assert.Contains($"derived from {_original} by nearest2@1", (await Cli.InAsync(Library, "show", first)).ShouldSucceed().Stdout, StringComparison.Ordinal);

        (await Cli.InAsync(Library, "processing", "keep", first[..10])).ShouldSucceed();
        Assert.Equal("kept", (await Cli.InAsync(Library, "processing", "list", "--json")).ShouldSucceed().Json.GetProperty("runs").EnumerateArray()
            .Single(r => r.GetProperty("status").GetString() == "succeeded").GetProperty("resultState").GetString());

        // Nothing has expired: a kept result stays whatever the retention.
        Environment.SetEnvironmentVariable("TROVE_Restoration__Retention", "00:00:00");
        try
        {
            await AddLocalAsync("nearest4", 4, 4);
            var second = (await Cli.InAsync(Library, "restore", _original, "--model", "nearest4", "--param", "tileSize=32", "--now", "--json")).ShouldSucceed().Json.GetProperty("result").GetString()!;
            var expired = (await Cli.InAsync(Library, "processing", "expire", "--json")).ShouldSucceed().Json;
            Assert.Equal([second], expired.GetProperty("trashed").Strings());
            Assert.Equal(0, await CountAsync($"id:{second}"));
            Assert.Equal(1, await CountAsync($"derivedfrom:{_original}"));
            Assert.Contains($"derivative {second} by nearest4@1 (tileSize=32) (trash)", (await Cli.InAsync(Library, "show", _original)).ShouldSucceed().Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TROVE_Restoration__Retention", null);
        }

        (await Cli.InAsync(Library, "processing", "discard", first)).ShouldSucceed();
        Assert.Equal(1, await CountAsync(""));
        var notDerived = await Cli.InAsync(Library, "processing", "keep", _original, "--json");
        notDerived.ShouldExit(2);
        Assert.Equal("not-derived", notDerived.ErrorCode());
        Assert.Empty((await Cli.InAsync(Library, "check", "--json")).ShouldSucceed().Json.GetProperty("problems").EnumerateArray());
    }

    [Fact]
    public async Task Deleting_an_original_with_derived_media_asks_and_does_what_it_is_told()
    {
        await AddLocalAsync("nearest2", 2, 2);
        var result = (await Cli.InAsync(Library, "upscale", _original, "--now", "--keep", "--json")).ShouldSucceed().Json.GetProperty("result").GetString()!;

        var refused = await Cli.InAsync(Library, "delete", _original, "--json");
        refused.ShouldExit(2);
        Assert.Equal("has-derived", refused.ErrorCode());
        Assert.Contains("--with-derived", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, await CountAsync(""));

        // Deleting the result itself needs no question, nor deleting both at once.
        (await Cli.InAsync(Library, "delete", _original, result)).ShouldSucceed();
        Assert.Equal(0, await CountAsync(""));
        (await Cli.InAsync(Library, "restore", _original, result)).ShouldSucceed();

        (await Cli.InAsync(Library, "delete", _original, "--keep-derived")).ShouldSucceed();
        Assert.Equal([result], (await Cli.InAsync(Library, "search", "", "--json")).ShouldSucceed().Json.Ids());
        (await Cli.InAsync(Library, "restore", _original)).ShouldSucceed();

        var both = (await Cli.InAsync(Library, "delete", _original, "--with-derived", "--json")).ShouldSucceed().Json;
        Assert.Equal(2, both.GetProperty("deleted").GetArrayLength());
        Assert.Equal(0, await CountAsync(""));
        Assert.Equal("conflicting-options", (await Cli.InAsync(Library, "delete", _original, "--with-derived", "--keep-derived", "--json")).ErrorCode());
    }

    [Fact]
    public async Task A_run_whose_output_is_an_earlier_result_answers_that_result_and_keep_keeps_it()
    {
        await AddLocalAsync("nearest2", 2, 2);
        var first = (await Cli.InAsync(Library, "upscale", _original, "--now", "--json")).ShouldSucceed().Json.GetProperty("result").GetString()!;

        // Another tile size is another run, but a nearest-neighbour model makes the same bytes: the same media.
        var second = (await Cli.InAsync(Library, "restore", _original, "--model", "nearest2", "--param", "tileSize=32", "--keep", "--now", "--json")).ShouldSucceed().Json;
        Assert.Equal(first, second.GetProperty("result").GetString());
        Assert.True(second.GetProperty("existing").GetBoolean());
        Assert.Equal(2, await CountAsync(""));
        Assert.Contains("\"kept\": true", (await Cli.InAsync(Library, "show", first, "--json")).ShouldSucceed().Stdout, StringComparison.Ordinal);
    }
}
