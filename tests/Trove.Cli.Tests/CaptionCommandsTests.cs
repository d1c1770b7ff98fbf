using System.Text;
using System.Text.Json;
using Trove.Testing;

namespace Trove.Cli.Tests;

/// <summary>
/// The caption contract through the real CLI, over real HTTP to a local server speaking the OpenAI (and HF inference)
/// protocol: providers, captioners, generation pending review, re-runs, failures, review, remote taggers, and the key
/// never leaving its environment variable.
/// </summary>
[Collection(InProcessCollection.Name)]
public sealed class CaptionCommandsTests : IAsyncLifetime
{
    private const string Secret = "sk-test-3f9c2a7e51d04b8e9a6f";

    private readonly TempDirectory _temp = new();
    private readonly string _keyVariable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private FakeProviderServer _fake = null!;

    private string Library => _temp.Combine("library");

    public async Task InitializeAsync()
    {
        _fake = await FakeProviderServer.StartAsync();
        Environment.SetEnvironmentVariable(_keyVariable, Secret);
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable(_keyVariable, null);
        await _fake.DisposeAsync();
        _temp.Dispose();
    }

    private async Task<IReadOnlyList<string>> ImportAsync(int count, params string[] extra)
    {
        Png.WriteMany(_temp.Combine("photos"), count);
        return (await Cli.InAsync(Library, ["import", _temp.Combine("photos"), "--json", .. extra])).ShouldSucceed().Json.GetProperty("media").Strings();
    }

    private async Task AddCaptionerAsync(params string[] providerOptions)
    {
        (await Cli.InAsync(Library, ["providers", "add", "vlm", "--kind", "openai", "--url", _fake.OpenAiUrl, "--model", "test-vlm", "--api-key-env", _keyVariable, .. providerOptions])).ShouldSucceed();
        var added = (await Cli.InAsync(Library, "models", "add", "cap", "--kind", "captioner", "--version", "v1", "--provider", "vlm", "--json")).ShouldSucceed().Json;
        Assert.Equal("vlm", added.GetProperty("provider").GetString());
    }

    private async Task<long> CountAsync(string query) =>
        (await Cli.InAsync(Library, "search", query, "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64();

    /// <summary>The key appears nowhere in the library's files (models.json, providers.json, sidecars, state, audit).</summary>
    private void AssertKeyNowhereInLibrary()
    {
        var key = Encoding.UTF8.GetBytes(Secret);
        foreach (var file in Directory.EnumerateFiles(Library, "*", SearchOption.AllDirectories))
        {
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(key) < 0, $"the API key was written to {file}");
        }
    }

    [Fact]
    public async Task Captions_are_generated_through_an_openai_server_pending_review_and_a_rerun_skips_them()
    {
        var ids = await ImportAsync(3);
        await AddCaptionerAsync("--rpm", "600");
        _fake.Default = Behaviour.Caption("  \"A grey square on a white ground.\"  ");

        var run = (await Cli.InAsync(Library, "caption", "generate", "", "--model", "cap", "--now", "--json")).ShouldSucceed().Json;
        Assert.Equal(3, run.GetProperty("generated").GetInt32());
        Assert.Equal(0, run.GetProperty("failed").GetArrayLength());
        Assert.Equal("cap", run.GetProperty("model").GetString());
        Assert.Equal("v1", run.GetProperty("version").GetString());

        // What the service saw: the real path and body, the key as a bearer token, a downscaled JPEG as a data URI.
        Assert.Equal(3, _fake.Requests.Count);
        Assert.All(_fake.Requests, r =>
        {
            Assert.Equal("/v1/chat/completions", r.Path);
            Assert.Equal("test-vlm", r.Model);
            Assert.Equal($"Bearer {Secret}", r.Authorization);
            Assert.Equal("image/jpeg", r.ImageMediaType);
            Assert.Equal(300, r.MaxTokens);
            Assert.StartsWith("Write one caption for this image", r.Prompt, StringComparison.Ordinal);
        });

        var listed = (await Cli.InAsync(Library, "caption", "list", ids[0], "--json")).ShouldSucceed().Json.GetProperty("captions");
        var caption = Assert.Single(listed.EnumerateArray());
        Assert.Equal("A grey square on a white ground.", caption.GetProperty("text").GetString());
        Assert.Equal("pending", caption.GetProperty("status").GetString());
        Assert.Equal("model", caption.GetProperty("source").GetString());
        Assert.Equal("cap", caption.GetProperty("model").GetString());
        Assert.Equal("v1", caption.GetProperty("version").GetString());
        Assert.Equal(3, await CountAsync("caption-status:pending"));
        Assert.Equal(0, await CountAsync("has:caption"));

        // A re-run asks nothing: every media already has a caption by cap@v1.
        var again = (await Cli.InAsync(Library, "caption", "generate", "", "--model", "cap", "--now", "--json")).ShouldSucceed().Json;
        Assert.Equal(0, again.GetProperty("generated").GetInt32());
        Assert.Equal(3, again.GetProperty("skipped").GetInt32());
        Assert.Equal(3, _fake.Requests.Count);

        // Review: approve one with an edit, reject one.
        var number = caption.GetProperty("id").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var approved = (await Cli.InAsync(Library, "caption", "review", ids[0], number, "--approve", "--text", "a grey square on white paper", "--json")).ShouldSucceed().Json;
        var kept = Assert.Single(approved.GetProperty("captions").EnumerateArray());
        Assert.Equal("approved", kept.GetProperty("status").GetString());
        Assert.Equal("A grey square on a white ground.", kept.GetProperty("generatedText").GetString());
        Assert.True(kept.GetProperty("primary").GetBoolean());
        (await Cli.InAsync(Library, "caption", "review", ids[1], "1", "--reject")).ShouldSucceed();
        Assert.Equal(1, await CountAsync("has:caption"));
        Assert.Equal(1, await CountAsync("caption:paper"));
        Assert.Equal(1, await CountAsync("caption-status:pending"));
        Assert.Equal(1, await CountAsync("caption-status:rejected"));
        var usage = await Cli.InAsync(Library, "caption", "review", ids[2], "1", "--approve", "--reject");
        usage.ShouldExit(2);

        // Without --now the work is queued; with no worker alive, the CLI says so and how to get it done.
        var queued = (await Cli.InAsync(Library, "caption", "generate", "", "--model", "cap", "--overwrite", "--json")).ShouldSucceed();
        Assert.Single(queued.Json.GetProperty("jobs").EnumerateArray());
        Assert.Contains("trove worker", queued.Json.GetProperty("warning").GetString(), StringComparison.Ordinal);
        Assert.Contains("warning: No worker is running", queued.Stderr, StringComparison.Ordinal);
        AssertKeyNowhereInLibrary();
    }

    [Fact]
    public async Task A_media_the_service_fails_on_is_listed_the_others_kept_and_a_wrong_key_stops_the_run_without_leaking_it()
    {
        await ImportAsync(3);
        await AddCaptionerAsync("--attempts", "2", "--concurrency", "1");
        _fake.Default = Behaviour.Caption("a grey square");
        _fake.Enqueue(Behaviour.ServerError(500, "CUDA out of memory"), 2);

        var first = await Cli.InAsync(Library, "caption", "generate", "", "--model", "cap", "--now", "--json");
        first.ShouldExit(1);
        Assert.Equal(2, first.Json.GetProperty("generated").GetInt32());
        var failure = Assert.Single(first.Json.GetProperty("failed").EnumerateArray());
        Assert.Equal("provider-error", failure.GetProperty("error").GetString());
        Assert.Contains("CUDA out of memory", failure.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, await CountAsync("caption-status:pending"));

        // The key is wrong now: the service answers 401 (echoing the key it got); the run stops at once, nothing is retried.
        _fake.Default = Behaviour.Unauthorized();
        var before = _fake.Requests.Count;
        var denied = await Cli.InAsync(Library, "caption", "generate", "", "--model", "cap", "--now", "--json");
        denied.ShouldExit(1);
        Assert.Equal("provider-auth", denied.ErrorCode());
        Assert.Equal(before + 1, _fake.Requests.Count);
        Assert.DoesNotContain(Secret, denied.Stdout + denied.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, await CountAsync("caption-status:pending"));

        // providers test says the same, and list shows where the key comes from but never the key.
        var probe = await Cli.InAsync(Library, "providers", "test", "vlm", "--json");
        probe.ShouldExit(1);
        Assert.Equal("provider-auth", probe.Json.GetProperty("code").GetString());
        var list = (await Cli.InAsync(Library, "providers", "list", "--json")).ShouldSucceed();
        var provider = Assert.Single(list.Json.GetProperty("providers").EnumerateArray());
        Assert.Equal(_keyVariable, provider.GetProperty("apiKeyEnv").GetString());
        Assert.True(provider.GetProperty("apiKeySet").GetBoolean());
        Assert.DoesNotContain(Secret, probe.Stdout + probe.Stderr + list.Stdout, StringComparison.Ordinal);
        AssertKeyNowhereInLibrary();
    }

    [Fact]
    public async Task Providers_and_captioners_are_checked_when_they_are_registered()
    {
        var noProvider = await Cli.InAsync(Library, "models", "add", "cap", "--kind", "captioner", "--version", "v1", "--provider", "nowhere", "--json");
        noProvider.ShouldExit(1);
        Assert.Equal("provider-not-found", noProvider.ErrorCode());

        var local = await Cli.InAsync(Library, "models", "add", "cap", "--kind", "captioner", "--file", "model.onnx", "--json");
        local.ShouldExit(2);
        Assert.Equal("captioner-local-unsupported", local.ErrorCode());

        var keyInUrl = await Cli.InAsync(Library, "providers", "add", "bad", "--kind", "openai", "--url", "https://user:sk-123@example.invalid/v1", "--model", "m");
        keyInUrl.ShouldExit(2);
        Assert.Contains("without credentials", keyInUrl.Stderr, StringComparison.Ordinal);

        var notAName = await Cli.InAsync(Library, "providers", "add", "bad", "--kind", "openai", "--url", _fake.OpenAiUrl, "--model", "m", "--api-key-env", "sk-live-123");
        notAName.ShouldExit(2);
        Assert.Contains("not an environment variable name", notAName.Stderr, StringComparison.Ordinal);

        (await Cli.InAsync(Library, "providers", "add", "vlm", "--kind", "openai", "--url", _fake.OpenAiUrl, "--model", "m")).ShouldSucceed();
        var badParameters = await Cli.InAsync(Library, "models", "add", "cap", "--kind", "captioner", "--provider", "vlm", "--parameters", """{"style":"poem"}""");
        badParameters.ShouldExit(2);
        Assert.Contains("parameters.style", badParameters.Stderr, StringComparison.Ordinal);

        (await Cli.InAsync(Library, "models", "add", "cap", "--kind", "captioner", "--provider", "vlm")).ShouldSucceed();
        var inUse = await Cli.InAsync(Library, "providers", "remove", "vlm", "--json");
        inUse.ShouldExit(1);
        Assert.Equal("provider-in-use", inUse.ErrorCode());
    }

    [Fact]
    public async Task A_remote_tagger_feeds_the_suggestion_pipeline_with_thresholds_and_review()
    {
        var ids = await ImportAsync(2, "--tags", "beach,sky");
        (await Cli.InAsync(Library, "providers", "add", "hf", "--kind", "hf-inference", "--url", _fake.HfUrl, "--model", "org/vit-scenes")).ShouldSucceed();
        (await Cli.InAsync(Library, "models", "add", "scenes", "--kind", "tagger", "--version", "2", "--provider", "hf", "--vocabulary-policy", "create")).ShouldSucceed();
        (await Cli.InAsync(Library, "tag", "remove", ids[0], "beach")).ShouldSucceed();
        (await Cli.InAsync(Library, "tag", "remove", ids[1], "beach")).ShouldSucceed();
        _fake.Default = Behaviour.Labels(("beach", 0.91), ("sunset", 0.82), ("sky", 0.77), ("dog", 0.12));

        var run = (await Cli.InAsync(Library, "suggest", "", "--now", "--json")).ShouldSucceed().Json;
        Assert.Equal(["scenes@2"], run.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(2, _fake.Requests.Count);
        Assert.All(_fake.Requests, r => Assert.Equal("/models/org/vit-scenes", r.Path));

        var listed = (await Cli.InAsync(Library, "suggestions", "list", ids[0], "--json")).ShouldSucceed().Json.GetProperty("suggestions");
        var byTag = listed.EnumerateArray().ToDictionary(s => s.GetProperty("tag").GetString()!, s => s);
        Assert.Equal(["beach", "sunset"], byTag.Keys.Order(StringComparer.Ordinal)); // sky is on the media already; dog is under 0.6
        Assert.Equal(0.91, byTag["beach"].GetProperty("confidence").GetDouble(), 3);
        Assert.Equal("scenes", byTag["beach"].GetProperty("model").GetString());
        Assert.Equal("2", byTag["beach"].GetProperty("version").GetString());
        Assert.Equal("pending", byTag["beach"].GetProperty("status").GetString());

        (await Cli.InAsync(Library, "review", ids[0], "--approve", "beach", "--reject", "sunset")).ShouldSucceed();
        Assert.Equal(1, await CountAsync("beach"));
    }
}
