using System.Text;
using System.Text.Json.Nodes;
using Trove.Application.Providers;
using Trove.Domain.Models;
using Trove.Testing;
using static Trove.Providers.Http.Tests.TestSupport;

namespace Trove.Providers.Http.Tests;

/// <summary>Image-to-image over the HuggingFace inference protocol (restoration, upscaling), against a real HTTP server.</summary>
public sealed class TransformTests
{
    private static ProviderDefinition Upscaler(FakeProviderServer fake, Action<ProviderDefinition>? configure = null) =>
        Provider(ProviderKinds.HfInference, fake.HfUrl, "caidas/swin2SR-classical-sr-x2-64", configure);

    [Fact]
    public async Task WithoutPromptOrParameters_PostsTheImageBytesToModelsPath_AndReturnsTheImageAnswered()
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("n");
        Environment.SetEnvironmentVariable(variable, "hf_transformsecret123456");
        h.Fake.Default = Behaviour.Image(Png);

        var reply = await h.Models.TransformAsync(Upscaler(h.Fake, p => p.ApiKeyEnv = variable), Transform(), Deadline());

        Assert.Equal(Png, reply.Data);
        Assert.Equal("image/png", reply.MediaType);
        Assert.Equal(1, reply.Attempts);
        Assert.True(reply.Elapsed > TimeSpan.Zero);
        var request = Assert.Single(h.Fake.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/models/caidas/swin2SR-classical-sr-x2-64", request.Path);
        Assert.Equal(FakeProtocol.HfInference, request.Protocol);
        Assert.Equal("image/jpeg", request.ContentType);
        Assert.Equal(Image.Data, request.Body);
        Assert.Null(request.Json);
        Assert.Equal("Bearer hf_transformsecret123456", request.Authorization);
        Assert.StartsWith("image/png", request.Headers["Accept"], StringComparison.Ordinal);
        Assert.Contains("application/json", request.Headers["Accept"], StringComparison.Ordinal);
        Environment.SetEnvironmentVariable(variable, null);
    }

    [Fact]
    public async Task RawBytes_EchoedBack_MakeTheRoundTrip()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.EchoImage();

        var reply = await h.Models.TransformAsync(Upscaler(h.Fake), Transform(prompt: "  ", parameters: new Dictionary<string, string>()), Deadline());

        Assert.Equal(Image.Data, reply.Data);
        Assert.Equal("image/jpeg", reply.MediaType);
        Assert.Equal("image/jpeg", Assert.Single(h.Fake.Requests).ContentType);
    }

    [Fact]
    public async Task WithPromptAndParameters_PostsJsonWithTheImageAsBase64Inputs()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.EchoImage();
        var parameters = new Dictionary<string, string>
        {
            ["num_inference_steps"] = "25",
            ["guidance_scale"] = "7.5",
            ["negative_prompt"] = "blurry, low quality",
            ["target_size"] = "{\"width\":512,\"height\":384}",
            ["seed"] = "\"42\"",
            ["prompt"] = "overridden by the request's prompt",
        };

        var reply = await h.Models.TransformAsync(Upscaler(h.Fake, p => p.Model = "timbrooks/instruct-pix2pix"), Transform("make it a winter scene", parameters), Deadline());

        Assert.Equal(Image.Data, reply.Data);
        Assert.Equal("image/jpeg", reply.MediaType);
        var request = Assert.Single(h.Fake.Requests);
        Assert.Equal("/models/timbrooks/instruct-pix2pix", request.Path);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        Assert.Equal(Convert.ToBase64String(Image.Data), (string?)request.Json!["inputs"]);
        Assert.Equal(Image.Data, request.Image);
        Assert.Equal("make it a winter scene", request.Prompt);
        var sent = request.Parameters!;
        Assert.Equal(["prompt", "guidance_scale", "negative_prompt", "num_inference_steps", "seed", "target_size"], sent.Select(p => p.Key));
        Assert.Equal(25, sent["num_inference_steps"]!.GetValue<int>());
        Assert.Equal(7.5, sent["guidance_scale"]!.GetValue<double>());
        Assert.Equal("blurry, low quality", sent["negative_prompt"]!.GetValue<string>());
        Assert.Equal("42", sent["seed"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["width"] = 512, ["height"] = 384 }, sent["target_size"]));
        Assert.Equal(["inputs", "parameters"], request.Json.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task ParametersWithoutPrompt_AreSentAsJsonToo()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Image(Png);

        await h.Models.TransformAsync(Upscaler(h.Fake), Transform(parameters: new Dictionary<string, string> { ["scale"] = "4" }), Deadline());

        var request = Assert.Single(h.Fake.Requests);
        Assert.Null(request.Prompt);
        Assert.Equal(4, request.Parameters!["scale"]!.GetValue<int>());
        Assert.Equal(Image.Data, request.Image);
    }

    [Theory]
    [InlineData("png", "image/png")]
    [InlineData("jpeg", "image/jpeg")]
    [InlineData("webp", "image/webp")]
    [InlineData("png", "image/PNG")]
    public async Task ImageAnswers_InEachFormat_AreAccepted(string format, string mediaType)
    {
        await using var h = await Harness.StartAsync();
        var data = format switch { "png" => Png, "jpeg" => Jpeg, _ => Webp };
        h.Fake.Default = Behaviour.Image(data, mediaType);

        var reply = await h.Models.TransformAsync(Upscaler(h.Fake), Transform(), Deadline());

        Assert.Equal(data, reply.Data);
        Assert.Equal(mediaType.ToLowerInvariant(), reply.MediaType);
    }

    public static TheoryData<string, string> NotImages => new()
    {
        { "json", "application/json, not an image: is this an image-to-image model?" },
        { "json-error", "application/json, not an image: is this an image-to-image model? It said: Model does not support image-to-image." },
        { "html", "text/html, not an image: is the URL the inference API's base URL?" },
        { "octet", "application/octet-stream, not an image: is this an image-to-image model?" },
        { "text-as-png", "image/png, but its body is not a PNG image (it begins with 0x7B226572726F7222)." },
        { "jpeg-as-png", "image/png, but its body is a JPEG image, not PNG." },
        { "empty-webp", "image/webp with an empty body." },
    };

    [Theory]
    [MemberData(nameof(NotImages))]
    public async Task A200ThatIsNotAnImage_IsBadResponse_NotRetried_NothingReturned(string answer, string expected)
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = answer switch
        {
            "json" => Behaviour.Caption("a cat on a sofa"),
            "json-error" => Behaviour.Raw(200, "application/json", "{\"error\":\"Model does not support image-to-image\"}"),
            "html" => Behaviour.Html(),
            "octet" => Behaviour.Image(Png, "application/octet-stream"),
            "text-as-png" => Behaviour.NotAnImage("image/png"),
            "jpeg-as-png" => Behaviour.Image(Jpeg, "image/png"),
            _ => Behaviour.Image([], "image/webp"),
        };
        var provider = Upscaler(h.Fake);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.TransformAsync(provider, Transform(), Deadline()));

        Assert.Equal(ProviderErrors.BadResponse, e.Code);
        Assert.False(e.Permanent);
        Assert.Equal(200, e.Status);
        Assert.Equal(1, e.Attempts);
        Assert.Equal($"Provider '{provider.Name}' ({h.Fake.HfUrl}/models/caidas/swin2SR-classical-sr-x2-64) answered {expected}", e.Message);
        Assert.Contains("image-to-image", e.Hint, StringComparison.Ordinal);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task A200JsonErrorEchoingTheKey_NeverGetsItIntoTheMessage()
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("n");
        const string key = "hf_echoedsecretkey987654";
        Environment.SetEnvironmentVariable(variable, key);
        h.Fake.Default = Behaviour.Custom("echo key", reply => reply.WriteJsonAsync(200, new JsonObject { ["error"] = $"bad token {reply.SentKey}" }));

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.TransformAsync(Upscaler(h.Fake, p => p.ApiKeyEnv = variable), Transform(), Deadline()));

        Assert.Equal(ProviderErrors.BadResponse, e.Code);
        Assert.Contains("It said: bad token", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, h.Logs.All, StringComparison.Ordinal);
        Environment.SetEnvironmentVariable(variable, null);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnAnswerLargerThanTheImageLimit_IsBadResponse(bool declareLength)
    {
        await using var fake = await FakeProviderServer.StartAsync(new FastClock(20));
        using var models = HttpRemoteModels.Create(null, fake.Clock, new HttpRemoteModelsOptions { MaxImageResponseBytes = 64 * 1024 });
        byte[] huge = [.. Png.AsSpan(0, 8), .. new byte[100 * 1024]];
        fake.Default = Behaviour.Image(huge, declareLength: declareLength);

        var e = await Assert.ThrowsAsync<ProviderException>(() => models.TransformAsync(Upscaler(fake), Transform(), Deadline()));

        Assert.Equal(ProviderErrors.BadResponse, e.Code);
        Assert.Contains("the answer is larger than 64 KiB", e.Message, StringComparison.Ordinal);
        Assert.Single(fake.Requests);
    }

    [Fact]
    public async Task AnImageLargerThanTheJsonLimit_IsAccepted_AndTheDefaultImageLimitIs256MiB()
    {
        await using var fake = await FakeProviderServer.StartAsync(new FastClock(20));
        using var models = HttpRemoteModels.Create(null, fake.Clock, new HttpRemoteModelsOptions { MaxResponseBytes = 16 * 1024 });
        byte[] big = [.. Png, .. new byte[64 * 1024]];
        fake.Default = Behaviour.Image(big, declareLength: false);

        var reply = await models.TransformAsync(Upscaler(fake), Transform(), Deadline());

        Assert.Equal(big, reply.Data);
        Assert.Equal(256 * 1024 * 1024, HttpRemoteModelsOptions.Default.MaxImageResponseBytes);
    }

    [Fact]
    public async Task Loading_ThenAnImage_WaitsTheEstimatedTimeAndSucceeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.Loading(estimatedTime: 3));
        h.Fake.Default = Behaviour.Image(Png);

        var reply = await h.Models.TransformAsync(Upscaler(h.Fake), Transform(), Deadline());

        Assert.Equal(Png, reply.Data);
        Assert.Equal(2, reply.Attempts);
        var requests = h.Fake.Requests;
        Assert.Equal(["503 loading 3", $"image image/png {Png.Length} bytes"], requests.Select(r => r.Behaviour));
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(40));
        Assert.Equal(requests[0].Body, requests[1].Body);
    }

    [Fact]
    public async Task RateLimited_ThenAnImage_WaitsRetryAfterAndSucceeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.RateLimited(retryAfter: 2));
        h.Fake.Default = Behaviour.Image(Png);

        var reply = await h.Models.TransformAsync(Upscaler(h.Fake), Transform("sharpen"), Deadline());

        Assert.Equal(Png, reply.Data);
        Assert.Equal(2, reply.Attempts);
        var requests = h.Fake.Requests;
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        Assert.Equal("sharpen", requests[1].Prompt);
    }

    [Fact]
    public async Task ServerError_ThenAnImage_IsRetried()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.ServerError(502, "upstream restarting"));
        h.Fake.Default = Behaviour.Image(Png);

        var reply = await h.Models.TransformAsync(Upscaler(h.Fake), Transform(), Deadline());

        Assert.Equal(2, reply.Attempts);
        Assert.Equal(2, h.Fake.Requests.Count);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task Unauthorized_IsAuthPermanentAfterOneRequest(int status)
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = status == 401 ? Behaviour.Unauthorized() : Behaviour.Forbidden();

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.TransformAsync(Upscaler(h.Fake), Transform(), Deadline()));

        Assert.Equal(ProviderErrors.Auth, e.Code);
        Assert.True(e.Permanent);
        Assert.Equal(status, e.Status);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task ModelNotFound_IsPermanentAfterOneRequest()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.ModelNotFound();

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.TransformAsync(Upscaler(h.Fake), Transform(), Deadline()));

        Assert.Equal(ProviderErrors.ModelNotFound, e.Code);
        Assert.True(e.Permanent);
        Assert.Equal(404, e.Status);
        Assert.Contains("caidas/swin2SR-classical-sr-x2-64 does not exist", e.Message, StringComparison.Ordinal);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task NoAnswerWithinTheTimeout_IsTimeoutAfterEveryAttempt()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Hang();
        var provider = Upscaler(h.Fake, p =>
        {
            p.TimeoutSeconds = 2;
            p.MaxAttempts = 2;
        });

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.TransformAsync(provider, Transform(), Deadline()));

        Assert.Equal(ProviderErrors.Timeout, e.Code);
        Assert.Equal(2, e.Attempts);
        Assert.Equal(2, h.Fake.Requests.Count);
    }

    [Fact]
    public async Task TruncatedImage_IsRetriedThenSucceeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.Truncated(Png, "image/png"));
        h.Fake.Default = Behaviour.Image(Png);

        var reply = await h.Models.TransformAsync(Upscaler(h.Fake), Transform(), Deadline());

        Assert.Equal(Png, reply.Data);
        Assert.Equal(2, reply.Attempts);
    }

    [Fact]
    public async Task TruncatedImage_OnEveryAttempt_IsBadResponse()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Truncated(Png, "image/png");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.TransformAsync(Upscaler(h.Fake, p => p.MaxAttempts = 2), Transform(), Deadline()));

        Assert.Equal(ProviderErrors.BadResponse, e.Code);
        Assert.Equal(2, e.Attempts);
        Assert.Contains("closed the connection before its answer was complete on all 2 attempts", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAiProvider_IsUnsupportedPermanent_AndSendsNothing()
    {
        await using var h = await Harness.StartAsync();
        var provider = OpenAi(h.Fake, p => p.ApiKeyEnv = "TROVE_TEST_UNSET_" + Guid.NewGuid().ToString("n"));

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.TransformAsync(provider, Transform("upscale"), Deadline()));

        Assert.Equal(ProviderErrors.Unsupported, e.Code);
        Assert.Equal("provider-unsupported", e.Code);
        Assert.True(e.Permanent);
        Assert.Equal(0, e.Attempts);
        Assert.Null(e.Status);
        Assert.Contains($"Provider '{provider.Name}' is of kind 'openai'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'hf-inference'", e.Message, StringComparison.Ordinal);
        Assert.Contains("--kind hf-inference", e.Hint, StringComparison.Ordinal);
        Assert.Empty(h.Fake.Requests);
    }

    [Fact]
    public async Task Cancelled_WhileTheServiceIsWorking_IsCancelledNotTimeout()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Hang();
        using var cts = new CancellationTokenSource();
        var call = h.Models.TransformAsync(Upscaler(h.Fake, p => p.TimeoutSeconds = 5), Transform(), cts.Token);
        await h.Fake.WaitForRequestsAsync(1, Deadline());

        await cts.CancelAsync();

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(cts.Token, e.CancellationToken);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task AlreadyCancelled_SendsNothing()
    {
        await using var h = await Harness.StartAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Models.TransformAsync(Upscaler(h.Fake), Transform(), new CancellationToken(canceled: true)));

        Assert.Empty(h.Fake.Requests);
    }

    [Fact]
    public async Task Probe_OfAnImageToImageEndpoint_AcceptsAnImageAnswer()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.Image(Png), Behaviour.NotAnImage("image/png"));
        var provider = Upscaler(h.Fake);

        var image = await h.Models.TestAsync(provider, Deadline());
        var broken = await h.Models.TestAsync(provider, Deadline());

        Assert.True(image.Ok, image.Message);
        Assert.Contains("an image (image/png, ", image.Message, StringComparison.Ordinal);
        Assert.False(broken.Ok);
        Assert.Equal(ProviderErrors.BadResponse, broken.Code);
    }

    [Fact]
    public async Task UnavailableRemoteModels_RefusesTransformPermanently()
    {
        var remote = new UnavailableRemoteModels("No HTTP in this host.");

        var e = await Assert.ThrowsAsync<ProviderException>(() => remote.TransformAsync(new ProviderDefinition(), Transform(), CancellationToken.None));

        Assert.Equal("remote-unavailable", e.Code);
        Assert.True(e.Permanent);
        Assert.Equal("No HTTP in this host.", e.Message);
    }
}
