using Trove.Application.Providers;
using Trove.Testing;
using static Trove.Providers.Http.Tests.TestSupport;

namespace Trove.Providers.Http.Tests;

/// <summary>What is retried, how long Trove waits, and the exact failure when the attempts run out.</summary>
public sealed class RetryTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task RateLimited_WithRetryAfterSeconds_WaitsThatLongThenSucceeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.RateLimited(retryAfter: 2));
        h.Fake.Default = Behaviour.Caption("a beach");

        var reply = await h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline());

        Assert.Equal("a beach", reply.Text);
        Assert.Equal(2, reply.Attempts);
        var requests = h.Fake.Requests;
        Assert.Equal(2, requests.Count);
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        Assert.Contains(h.Clock.Waits, w => (w - TimeSpan.FromSeconds(2)).Duration() <= Tick);
        Assert.True(reply.Elapsed >= TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task RateLimited_WithRetryAfterDate_WaitsUntilThen()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.RateLimitedUntil(TimeSpan.FromSeconds(4)));

        var reply = await h.Models.CaptionAsync(Hf(h.Fake), Caption(), Deadline());

        Assert.Equal(2, reply.Attempts);
        var requests = h.Fake.Requests;
        // An HTTP date has whole seconds: the wait is between 3 and 4 s.
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30));
        Assert.Contains(h.Clock.Waits, w => w > TimeSpan.FromSeconds(2.9) && w <= TimeSpan.FromSeconds(4) + Tick);
    }

    [Fact]
    public async Task RateLimited_WithoutRetryAfter_BacksOffThenSucceeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.RateLimited(), Behaviour.RateLimited());

        var reply = await h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline());

        Assert.Equal(3, reply.Attempts);
        Assert.Equal(3, h.Fake.Requests.Count);
        Assert.True(h.Fake.Requests[2].At > h.Fake.Requests[0].At);
    }

    [Fact]
    public async Task RateLimited_OnEveryAttempt_IsRateLimitedAfterMaxAttempts()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.RateLimited(retryAfter: 1);
        var provider = OpenAi(h.Fake, p => p.MaxAttempts = 3);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.RateLimited, e.Code);
        Assert.False(e.Permanent);
        Assert.Equal(429, e.Status);
        Assert.Equal(3, e.Attempts);
        Assert.Equal(3, h.Fake.Requests.Count);
        Assert.Equal(
            $"Provider '{provider.Name}' answered 429 Too Many Requests on all 3 attempts ({h.Fake.OpenAiUrl}/chat/completions): Rate limit reached for requests. Please try again later. (rate_limit_exceeded).",
            e.Message);
        Assert.Contains("requestsPerMinute", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimited_PausesEveryOtherCallerOfTheProviderUntilRetryAfter()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.RateLimited(retryAfter: 3));
        h.Fake.Default = Behaviour.Caption("ok");
        // One at a time: without the shared cool-down the second caller would be sent the moment the 429 came back.
        var provider = OpenAi(h.Fake, p => p.MaxConcurrency = 1);

        var replies = await Task.WhenAll(
            h.Models.CaptionAsync(provider, Caption(), Deadline()),
            h.Models.CaptionAsync(provider, Caption(), Deadline()));

        var requests = h.Fake.Requests;
        Assert.Equal(3, requests.Count);
        Assert.Equal("429 retry-after 3", requests[0].Behaviour);
        Assert.All(requests.Skip(1), r => Assert.True(r.At - requests[0].At >= TimeSpan.FromSeconds(3), $"request {r.Index} went out {(r.At - requests[0].At).TotalSeconds:0.00} s after the 429"));
        Assert.Equal([1, 2], replies.Select(r => r.Attempts).Order());
    }

    [Fact]
    public async Task Loading_WaitsTheEstimatedTimeThenSucceeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.Loading(estimatedTime: 5.5));
        h.Fake.Default = Behaviour.Caption("a lighthouse");

        var reply = await h.Models.CaptionAsync(Hf(h.Fake), Caption(), Deadline());

        Assert.Equal("a lighthouse", reply.Text);
        Assert.Equal(2, reply.Attempts);
        var requests = h.Fake.Requests;
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.FromSeconds(5.5), TimeSpan.FromSeconds(40));
        Assert.Contains(h.Clock.Waits, w => (w - TimeSpan.FromSeconds(5.5)).Duration() <= Tick);
    }

    [Fact]
    public async Task Loading_LongerThanTheCap_WaitsOnlyTheCap()
    {
        await using var fake = await FakeProviderServer.StartAsync(new FastClock(50));
        var clock = (FastClock)fake.Clock;
        using var models = HttpRemoteModels.Create(null, clock, new HttpRemoteModelsOptions { MaxLoadingWait = TimeSpan.FromSeconds(7) });
        fake.Enqueue(Behaviour.Loading(estimatedTime: 3000));

        var reply = await models.CaptionAsync(Hf(fake), Caption(), Deadline());

        Assert.Equal(2, reply.Attempts);
        Assert.Contains(clock.Waits, w => (w - TimeSpan.FromSeconds(7)).Duration() <= Tick);
        Assert.DoesNotContain(clock.Waits, w => w > TimeSpan.FromSeconds(8) && w < TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task Loading_OnEveryAttempt_IsLoading()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Loading(estimatedTime: 1);
        var provider = Hf(h.Fake, p => p.MaxAttempts = 2);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.Loading, e.Code);
        Assert.Equal(503, e.Status);
        Assert.Equal(2, e.Attempts);
        Assert.Contains($"was still loading model '{provider.Model}' after 2 attempts", e.Message, StringComparison.Ordinal);
        Assert.Contains("estimated 1 s more", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerError_IsRetriedThenSucceeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.ServerError(500), Behaviour.ServerError(502), Behaviour.Raw(503, "text/plain", "upstream unavailable"));
        h.Fake.Default = Behaviour.Caption("fine now");

        var reply = await h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline());

        Assert.Equal("fine now", reply.Text);
        Assert.Equal(4, reply.Attempts);
    }

    [Fact]
    public async Task ServerError_OnEveryAttempt_IsFailedWithTheServicesMessage()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.ServerError(500, "CUDA out of memory");
        var provider = OpenAi(h.Fake, p => p.MaxAttempts = 2);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.Failed, e.Code);
        Assert.Equal(500, e.Status);
        Assert.Equal(2, e.Attempts);
        Assert.Equal($"Provider '{provider.Name}' failed with 500 Internal Server Error on all 2 attempts ({h.Fake.OpenAiUrl}/chat/completions): CUDA out of memory.", e.Message);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task Unauthorized_IsAuthPermanentAfterOneRequest(int status)
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = status == 401 ? Behaviour.Unauthorized() : Behaviour.Forbidden();
        var provider = OpenAi(h.Fake);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.Auth, e.Code);
        Assert.True(e.Permanent);
        Assert.Equal(status, e.Status);
        Assert.Equal(1, e.Attempts);
        Assert.Single(h.Fake.Requests);
        Assert.Contains("apiKeyEnv", e.Hint, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ModelNotFound_IsPermanentAfterOneRequest(bool hf)
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.ModelNotFound();
        var provider = hf ? Hf(h.Fake) : OpenAi(h.Fake);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.ModelNotFound, e.Code);
        Assert.True(e.Permanent);
        Assert.Equal(404, e.Status);
        Assert.Single(h.Fake.Requests);
        Assert.Contains(provider.Model, e.Message, StringComparison.Ordinal);
        Assert.Contains(hf ? "inference base URL" : "--served-model-name", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadRequest_IsFailedWithTheServicesMessage_NotRetried()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.BadRequest("This model does not support image inputs.");
        var provider = OpenAi(h.Fake);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.Failed, e.Code);
        Assert.False(e.Permanent);
        Assert.Equal(400, e.Status);
        Assert.Equal($"Provider '{provider.Name}' rejected the request with 400 Bad Request ({h.Fake.OpenAiUrl}/chat/completions): This model does not support image inputs.", e.Message);
        Assert.Single(h.Fake.Requests);
    }

    [Fact]
    public async Task NoAnswerWithinTheTimeout_IsTimeoutAfterEveryAttempt()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Hang();
        var provider = OpenAi(h.Fake, p =>
        {
            p.TimeoutSeconds = 2;
            p.MaxAttempts = 2;
        });

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.Timeout, e.Code);
        Assert.Equal(2, e.Attempts);
        Assert.Null(e.Status);
        Assert.Equal($"Provider '{provider.Name}' did not answer within 2 s on any of 2 attempts ({h.Fake.OpenAiUrl}/chat/completions).", e.Message);
        Assert.Contains("timeoutSeconds", e.Hint, StringComparison.Ordinal);
        Assert.Equal(2, h.Fake.Requests.Count);
        Assert.True(h.Fake.Requests[1].At - h.Fake.Requests[0].At >= TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task SlowAnswer_ThenAFastOne_Succeeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.Delayed(TimeSpan.FromSeconds(30), Behaviour.Caption("too late")));
        h.Fake.Default = Behaviour.Caption("in time");

        var reply = await h.Models.CaptionAsync(OpenAi(h.Fake, p => p.TimeoutSeconds = 2), Caption(), Deadline());

        Assert.Equal("in time", reply.Text);
        Assert.Equal(2, reply.Attempts);
    }

    [Fact]
    public async Task ConnectionRefused_IsUnreachableAfterEveryAttempt()
    {
        await using var h = await Harness.StartAsync();
        var port = FreePort();
        var provider = Provider("openai", $"http://127.0.0.1:{port}/v1", "m", p => p.MaxAttempts = 2);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.Unreachable, e.Code);
        Assert.Equal(2, e.Attempts);
        Assert.Null(e.Status);
        Assert.StartsWith($"Could not reach provider '{provider.Name}' at http://127.0.0.1:{port}/v1/chat/completions on all 2 attempts: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("running", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionReset_IsRetriedThenSucceeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.Reset());
        h.Fake.Default = Behaviour.Caption("after a reset");

        var reply = await h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline());

        Assert.Equal("after a reset", reply.Text);
        Assert.Equal(2, reply.Attempts);
    }

    [Fact]
    public async Task ConnectionReset_OnEveryAttempt_IsUnreachable()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Reset();

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(OpenAi(h.Fake, p => p.MaxAttempts = 2), Caption(), Deadline()));

        Assert.Equal(ProviderErrors.Unreachable, e.Code);
        Assert.Equal(2, h.Fake.Requests.Count);
    }

    [Fact]
    public async Task TruncatedBody_IsRetriedThenSucceeds()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Enqueue(Behaviour.Truncated());
        h.Fake.Default = Behaviour.Caption("whole this time");

        var reply = await h.Models.CaptionAsync(OpenAi(h.Fake), Caption(), Deadline());

        Assert.Equal("whole this time", reply.Text);
        Assert.Equal(2, reply.Attempts);
    }

    [Fact]
    public async Task TruncatedBody_OnEveryAttempt_IsBadResponse()
    {
        await using var h = await Harness.StartAsync();
        h.Fake.Default = Behaviour.Truncated();
        var provider = OpenAi(h.Fake, p => p.MaxAttempts = 3);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.BadResponse, e.Code);
        Assert.Equal(3, e.Attempts);
        Assert.Equal(200, e.Status);
        Assert.Contains("closed the connection before its answer was complete on all 3 attempts", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, h.Fake.Requests.Count);
    }
}
