using Trove.Application.Providers;
using Trove.Domain.Models;
using Trove.Imaging.Vips;
using Trove.Testing;
using static Trove.Providers.Http.Tests.TestSupport;

namespace Trove.Providers.Http.Tests;

/// <summary>The requests Trove sends and the answers it reads, for both protocols, against a real HTTP server.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public async Task OpenAiCaption_PostsChatCompletionWithDataUriTokensTemperatureAndBearerKey()
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("n");
        Environment.SetEnvironmentVariable(variable, "sk-test-secret-1234567890");
        h.Fake.Default = Behaviour.Caption("  A grey cat sleeping on a sofa.  ");
        var provider = OpenAi(h.Fake, p => p.ApiKeyEnv = variable);

        var reply = await h.Models.CaptionAsync(provider, Caption("Describe it.", maxTokens: 77, temperature: 0.2), Deadline());

        Assert.Equal("A grey cat sleeping on a sofa.", reply.Text);
        Assert.Equal(1, reply.Attempts);
        var request = Assert.Single(h.Fake.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal(FakeProtocol.OpenAi, request.Protocol);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        Assert.Equal("qwen2-vl-7b", request.Model);
        Assert.Equal("Describe it.", request.Prompt);
        Assert.Equal(77, request.MaxTokens);
        Assert.Equal(0.2, request.Temperature);
        Assert.Null(request.ResponseFormat);
        Assert.Equal("image/jpeg", request.ImageMediaType);
        Assert.StartsWith("data:image/jpeg;base64,/9j/", request.ImageUrl, StringComparison.Ordinal);
        Assert.Equal(Image.Data, request.Image);
        Assert.Equal("Bearer sk-test-secret-1234567890", request.Authorization);
        Assert.Equal("Trove/1.0", request.Headers["User-Agent"]);
        Assert.Contains("application/json", request.Headers["Accept"], StringComparison.Ordinal);
        var messages = request.Json!["messages"]!.AsArray();
        Assert.Equal("user", (string?)messages[0]!["role"]);
        Assert.Equal(["text", "image_url"], messages[0]!["content"]!.AsArray().Select(p => (string?)p!["type"]));
        Environment.SetEnvironmentVariable(variable, null);
    }

    [Theory]
    [InlineData("", "/v1/chat/completions")]
    [InlineData("/", "/v1/chat/completions")]
    [InlineData("/v1/", "/v1/chat/completions")]
    [InlineData("/api", "/api/v1/chat/completions")]
    [InlineData("/openai/v1", "/openai/v1/chat/completions")]
    [InlineData("/v1/chat/completions", "/v1/chat/completions")]
    public async Task OpenAiEndpoint_AddsV1OnlyWhenTheUrlDoesNotEndWithIt(string basePath, string expected)
    {
        await using var h = await Harness.StartAsync();
        var provider = Provider(ProviderKinds.OpenAi, h.Fake.HfUrl + basePath, "m");

        await h.Models.CaptionAsync(provider, Caption(), Deadline());

        Assert.Equal(expected, Assert.Single(h.Fake.Requests).Path);
    }

    [Fact]
    public async Task OpenAiCaption_ContentAsTextParts_IsJoined()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Caption("a red bicycle against a wall", asParts: true);

        var reply = await h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline());

        Assert.Equal("a red bicycle against a wall", reply.Text);
    }

    [Fact]
    public async Task NoApiKeyEnv_SendsNoAuthorization()
    {
        await using var h = await Harness.StartAsync();

        await h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline());

        Assert.Null(Assert.Single(h.Fake.Requests).Authorization);
    }

    [Fact]
    public async Task HfCaption_PostsTheImageBytesToModelsPath()
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("n");
        Environment.SetEnvironmentVariable(variable, "hf_abcdefghijklmnop");
        h.Fake.Default = Behaviour.Caption("a man riding a horse on a beach");

        var reply = await h.Models.CaptionAsync(Hf(h.Fake, p => p.ApiKeyEnv = variable), Caption(), Deadline());

        Assert.Equal("a man riding a horse on a beach", reply.Text);
        var request = Assert.Single(h.Fake.Requests);
        Assert.Equal("/models/Salesforce/blip-image-captioning-large", request.Path);
        Assert.Equal(FakeProtocol.HfInference, request.Protocol);
        Assert.Equal("Salesforce/blip-image-captioning-large", request.Model);
        Assert.Equal("image/jpeg", request.ContentType);
        Assert.Equal(Image.Data, request.Image);
        Assert.Equal("Bearer hf_abcdefghijklmnop", request.Authorization);
        Environment.SetEnvironmentVariable(variable, null);
    }

    [Fact]
    public async Task HfCaption_AnObjectWithGeneratedText_IsAccepted()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Raw(200, "application/json", "{\"generated_text\":\"two dogs playing\"}");

        var reply = await h.Models.CaptionAsync(Hf(h.Fake), Caption(), Deadline());

        Assert.Equal("two dogs playing", reply.Text);
    }

    [Fact]
    public async Task HfClassify_ReturnsTheLabelsBestFirst()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Labels(("tabby cat", 0.61), ("Egyptian cat", 0.98), ("tiger cat", 0.2));

        var reply = await h.Models.ClassifyAsync(Hf(h.Fake, p => p.Model = "google/vit-base-patch16-224"), Classify(), Deadline());

        Assert.Equal([new RemoteLabel("Egyptian cat", 0.98), new RemoteLabel("tabby cat", 0.61), new RemoteLabel("tiger cat", 0.2)], reply.Labels);
        Assert.Equal("/models/google/vit-base-patch16-224", Assert.Single(h.Fake.Requests).Path);
    }

    [Fact]
    public async Task OpenAiClassify_AsksForAJsonObjectAndReadsTheTags()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Labels(("beach", 0.9), ("sunset", 0.75));

        var reply = await h.Models.ClassifyAsync(OpenAi(h.Fake), Classify("Tag this photo.", maxTokens: 150), Deadline());

        Assert.Equal([new RemoteLabel("beach", 0.9), new RemoteLabel("sunset", 0.75)], reply.Labels);
        var request = Assert.Single(h.Fake.Requests);
        Assert.Equal("json_object", request.ResponseFormat);
        Assert.Equal(150, request.MaxTokens);
        Assert.Equal(0, request.Temperature);
        Assert.StartsWith("Tag this photo.", request.Prompt, StringComparison.Ordinal);
        Assert.Contains("{\"tags\":[{\"tag\":", request.Prompt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"tags\":[{\"tag\":\"beach\",\"score\":0.9},{\"tag\":\"sea\",\"score\":0.5}]}")]
    [InlineData("[{\"tag\":\"beach\",\"score\":0.9},{\"tag\":\"sea\",\"score\":0.5}]")]
    [InlineData("{\"beach\":0.9,\"sea\":0.5}")]
    [InlineData("```json\n{\"tags\":[{\"tag\":\"beach\",\"score\":0.9},{\"tag\":\"sea\",\"score\":0.5}]}\n```")]
    [InlineData("Here are the tags:\n[{\"label\":\"beach\",\"confidence\":\"90%\"},{\"name\":\"sea\",\"probability\":0.5}]\nHope this helps!")]
    [InlineData("{\"labels\":[[\"beach\",0.9],[\"sea\",0.5]]}")]
    public async Task OpenAiClassify_ReadsTagsInTheShapesChatModelsWrite(string content)
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Content(content);

        var reply = await h.Models.ClassifyAsync(OpenAi(h.Fake), Classify(), Deadline());

        Assert.Equal([new RemoteLabel("beach", 0.9), new RemoteLabel("sea", 0.5)], reply.Labels);
    }

    [Fact]
    public async Task OpenAiClassify_AnswerWithoutJson_IsBadResponse()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Content("I see a beach and the sea.");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.ClassifyAsync(OpenAi(h.Fake), Classify(), Deadline()));

        Assert.Equal(ProviderErrors.BadResponse, e.Code);
        Assert.Contains("not tags as JSON", e.Message, StringComparison.Ordinal);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task OpenAiClassify_NoTags_IsEmpty()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Content("{\"tags\":[]}");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.ClassifyAsync(OpenAi(h.Fake), Classify(), Deadline()));

        Assert.Equal(ProviderErrors.EmptyCaption, e.Code);
        Assert.Contains("no labels", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ProviderKinds.OpenAi)]
    [InlineData(ProviderKinds.HfInference)]
    public async Task EmptyCaption_IsEmptyCaptionNotRetried(string kind)
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.EmptyCaption();
        var provider = kind == ProviderKinds.OpenAi ? OpenAi(h.Fake) : Hf(h.Fake);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.EmptyCaption, e.Code);
        Assert.False(e.Permanent);
        Assert.Equal(200, e.Status);
        Assert.Contains($"Provider '{provider.Name}'", e.Message, StringComparison.Ordinal);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task EmptyCaption_CutOffByTheTokenLimit_SaysSo()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.EmptyCaption(finishReason: "length");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline()));

        Assert.Equal(ProviderErrors.EmptyCaption, e.Code);
        Assert.Contains("finish_reason: length", e.Message, StringComparison.Ordinal);
        Assert.Contains("raise the maximum tokens", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html200_IsBadResponseAskingForTheBaseUrl_NotRetried()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Html();
        var provider = OpenAi(h.Fake);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.BadResponse, e.Code);
        Assert.Equal($"Provider '{provider.Name}' ({h.Fake.OpenAiUrl}/chat/completions) answered text/html, not JSON: is the URL the API's base URL?", e.Message);
        Assert.Contains("/v1", e.Hint, StringComparison.Ordinal);
        Assert.Equal(1, e.Attempts);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task Json200ThatDoesNotParse_IsBadResponse()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Raw(200, "application/json", "{\"choices\": [");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline()));

        Assert.Equal(ProviderErrors.BadResponse, e.Code);
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task Json200OfAnotherShape_IsBadResponse()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Raw(200, "application/json", "{\"result\":\"a cat\"}");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline()));

        Assert.Equal(ProviderErrors.BadResponse, e.Code);
        Assert.Contains("\"choices\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_SendsA32PixelGreyJpegWithFiveTokensAndReportsTheLatency()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Caption("Grey");
        var provider = OpenAi(h.Fake);

        var probe = await h.Models.TestAsync(provider, Deadline());

        Assert.True(probe.Ok, probe.Message);
        Assert.Equal(provider.Name, probe.Provider);
        Assert.Equal(200, probe.Status);
        Assert.Null(probe.Code);
        Assert.True(probe.Latency > TimeSpan.Zero);
        Assert.Contains("\"Grey\"", probe.Message, StringComparison.Ordinal);
        var request = Assert.Single(h.Fake.Requests);
        Assert.Equal(5, request.MaxTokens);
        Assert.Equal(HttpRemoteModels.ProbePrompt, request.Prompt);
        Assert.Equal("image/jpeg", request.ImageMediaType);

        // The image is a real JPEG: libvips decodes it to 32×32 mid-grey.
        var path = Path.Combine(Path.GetTempPath(), $"trove-probe-{Guid.NewGuid():n}.jpg");
        await File.WriteAllBytesAsync(path, request.Image!);
        try
        {
            using var image = VipsImage.FromFile(path);
            Assert.Equal((32, 32, 3), (image.Width, image.Height, image.Bands));
            Assert.All(image.ToPixels().Data, b => Assert.InRange(b, 120, 136));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Probe_OfAnHfEndpoint_AcceptsLabelsOrCaption()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.Labels(("grey", 0.7)), Behaviour.Caption("a grey square"));
        var provider = Hf(h.Fake);

        var labels = await h.Models.TestAsync(provider, Deadline());
        var caption = await h.Models.TestAsync(provider, Deadline());

        Assert.True(labels.Ok, labels.Message);
        Assert.Contains("grey 0.70", labels.Message, StringComparison.Ordinal);
        Assert.True(caption.Ok, caption.Message);
        Assert.Contains("a grey square", caption.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_ReportsTheExactFailureWithoutRetryingOrThrowing()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.ServerError(502, "upstream model crashed");
        var provider = OpenAi(h.Fake);

        var probe = await h.Models.TestAsync(provider, Deadline());

        Assert.False(probe.Ok);
        Assert.Equal(502, probe.Status);
        Assert.Equal(ProviderErrors.Failed, probe.Code);
        Assert.Contains("upstream model crashed", probe.Message, StringComparison.Ordinal);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task Probe_WithTheKeyMissing_ReportsKeyMissing()
    {
        await using var h = await Harness.StartAsync();
        var provider = OpenAi(h.Fake, p => p.ApiKeyEnv = "TROVE_TEST_UNSET_" + Guid.NewGuid().ToString("n"));

        var probe = await h.Models.TestAsync(provider, Deadline());

        Assert.False(probe.Ok);
        Assert.Equal(ProviderErrors.KeyMissing, probe.Code);
        Assert.Contains(provider.ApiKeyEnv!, probe.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fake.Requests);
    }

    [Fact]
    public async Task DependencyInjection_RegistersAWorkingIRemoteModels()
    {
        await using var fake = await FakeProviderServer.StartAsync();
        fake.Default = Behaviour.Caption("from a DI host");
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddHttpRemoteModels();
        await using var container = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        var models = (IRemoteModels)container.GetService(typeof(IRemoteModels))!;

        var reply = await models.CaptionAsync(OpenAi(fake), Caption(), Deadline());

        Assert.True(models.Status.Available);
        Assert.Equal("from a DI host", reply.Text);
        Assert.Equal("Trove/1.0", Assert.Single(fake.Requests).Headers["User-Agent"]);
    }
}
