using Trove.Application.Providers;
using Trove.Testing;
using static Trove.Providers.Http.Tests.TestSupport;

namespace Trove.Providers.Http.Tests;

/// <summary>The API key: read from the environment at each call, sent only as a bearer token, never shown or logged.</summary>
public sealed class KeyTests
{
    [Fact]
    public async Task KeyVariableNotSet_IsKeyMissingNamingTheVariable_AndSendsNothing()
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_UNSET_" + Guid.NewGuid().ToString("n");
        var provider = OpenAi(h.Fake, p => p.ApiKeyEnv = variable);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

        Assert.Equal(ProviderErrors.KeyMissing, e.Code);
        Assert.True(e.Permanent);
        Assert.Contains(variable, e.Message, StringComparison.Ordinal);
        Assert.Contains(variable, e.Hint, StringComparison.Ordinal);
        Assert.Empty(h.Fake.Requests);
    }

    [Fact]
    public async Task KeyVariableEmpty_IsKeyMissing()
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("n");
        Environment.SetEnvironmentVariable(variable, "   ");
        try
        {
            var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(OpenAi(h.Fake, p => p.ApiKeyEnv = variable), Caption(), Deadline()));

            Assert.Equal(ProviderErrors.KeyMissing, e.Code);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task TheKeyIsReadAtEachCall()
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("n");
        var provider = OpenAi(h.Fake, p => p.ApiKeyEnv = variable);
        try
        {
            Environment.SetEnvironmentVariable(variable, "first-key-0000");
            await h.Models.CaptionAsync(provider, Caption(), Deadline());
            Environment.SetEnvironmentVariable(variable, "second-key-1111");
            await h.Models.CaptionAsync(provider, Caption(), Deadline());
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }

        Assert.Equal(["Bearer first-key-0000", "Bearer second-key-1111"], h.Fake.Requests.Select(r => r.Authorization));
    }

    [Theory]
    [InlineData("openai", 401)]
    [InlineData("openai", 403)]
    [InlineData("hf-inference", 401)]
    public async Task AServiceEchoingTheKey_NeverGetsItIntoTheErrorOrTheLogs(string kind, int status)
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("n");
        var key = "sk-proj-" + Guid.NewGuid().ToString("n");
        Environment.SetEnvironmentVariable(variable, key);
        h.Fake.Default = status == 401 ? Behaviour.Unauthorized() : Behaviour.Forbidden();
        var provider = kind == "openai" ? OpenAi(h.Fake, p => p.ApiKeyEnv = variable) : Hf(h.Fake, p => p.ApiKeyEnv = variable);
        try
        {
            var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));
            var probe = await h.Models.TestAsync(provider, Deadline());

            Assert.Equal(ProviderErrors.Auth, e.Code);
            Assert.Contains(key, h.Fake.Requests[0].Authorization, StringComparison.Ordinal); // it was sent, and echoed
            Assert.Contains("[redacted]", e.Message, StringComparison.Ordinal);
            Assert.Contains(variable, e.Hint, StringComparison.Ordinal);
            Assert.DoesNotContain(key, e.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(key, e.Hint ?? string.Empty, StringComparison.Ordinal);
            Assert.DoesNotContain(key[8..20], e.ToString(), StringComparison.Ordinal);
            Assert.False(probe.Ok);
            Assert.DoesNotContain(key, probe.Message, StringComparison.Ordinal);
            Assert.NotEmpty(h.Logs.Lines);
            Assert.DoesNotContain(key, h.Logs.All, StringComparison.Ordinal);
            Assert.DoesNotContain("Authorization", h.Logs.All, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task AMaskedEchoOfTheKey_IsRedactedToo()
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("n");
        var key = "sk-proj-" + Guid.NewGuid().ToString("n");
        Environment.SetEnvironmentVariable(variable, key);
        // What OpenAI answers: the key's start and end around asterisks.
        h.Fake.Default = Behaviour.Raw(401, "application/json",
            $"{{\"error\":{{\"message\":\"Incorrect API key provided: {key[..12]}**********{key[^4..]}. You can find your API key at the dashboard.\",\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}}}");
        try
        {
            var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(OpenAi(h.Fake, p => p.ApiKeyEnv = variable), Caption(), Deadline()));

            Assert.Contains("Incorrect API key provided: [redacted] You can find", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(key[^4..], e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task TheKeyStaysOutOfTheLogsOnEveryPath()
    {
        await using var h = await Harness.StartAsync();
        var variable = "TROVE_TEST_KEY_" + Guid.NewGuid().ToString("n");
        var key = "secret-" + Guid.NewGuid().ToString("n");
        Environment.SetEnvironmentVariable(variable, key);
        h.Fake.Enqueue(Behaviour.RateLimited(1), Behaviour.Truncated(), Behaviour.Reset(), Behaviour.ServerError(500, $"echo {key}"));
        h.Fake.Default = Behaviour.Caption("done");
        var provider = OpenAi(h.Fake, p =>
        {
            p.ApiKeyEnv = variable;
            p.MaxAttempts = 5;
        });
        try
        {
            var reply = await h.Models.CaptionAsync(provider, Caption(), Deadline());
            h.Fake.Default = Behaviour.BadRequest($"bad key {key}");
            var e = await Assert.ThrowsAsync<ProviderException>(() => h.Models.CaptionAsync(provider, Caption(), Deadline()));

            Assert.Equal(5, reply.Attempts);
            Assert.DoesNotContain(key, e.ToString(), StringComparison.Ordinal);
            Assert.Contains(h.Logs.Lines, l => l.Contains("trying again", StringComparison.Ordinal));
            Assert.Contains(h.Logs.Lines, l => l.Contains("answered 200 after 5 attempt(s)", StringComparison.Ordinal));
            Assert.Contains(h.Logs.Lines, l => l.Contains("failed: provider-error (status 400)", StringComparison.Ordinal));
            Assert.DoesNotContain(key, h.Logs.All, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
