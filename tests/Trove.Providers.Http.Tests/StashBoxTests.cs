using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Trove.Application.Providers;
using Trove.Domain.Enrichment;

namespace Trove.Providers.Http.Tests;

/// <summary>
/// The stash-box GraphQL client against a local server that speaks the protocol (POST /graphql, {"query","variables"},
/// the ApiKey header, {"data"} or {"errors"} answers) and misbehaves on purpose: 429 with Retry-After, 503, 401, a
/// GraphQL errors array, a truncated body, an answer without data.
/// </summary>
public sealed class StashBoxTests : IAsyncLifetime
{
    private const string KeyVariable = "TROVE_TEST_STASHBOX_KEY";
    private const string Key = "stash-key-5f1e9c";
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _answers = new();
    private readonly ConcurrentQueue<(string Path, string? ApiKey, string? Authorization, JsonNode Body, DateTimeOffset At)> _requests = new();
    private WebApplication _app = null!;
    private Uri _url = null!;
    private readonly FastClock _clock = new(10);

    private const string Alice = """
        {"id":"7c1e5d0a","name":"Alice Liddell","disambiguation":"actress","aliases":["Alice L."],"gender":"FEMALE",
         "images":[{"id":"i1","url":"https://cdn.example/i1.jpg","width":800,"height":1200},{"id":"bad","url":"javascript:alert(1)"}],
         "urls":[{"url":"https://twitter.com/alice","site":{"name":"Twitter"}}]}
        """;

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable(KeyVariable, Key);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/graphql", async http =>
        {
            var body = await JsonNode.ParseAsync(http.Request.Body);
            _requests.Enqueue((http.Request.Path, http.Request.Headers["ApiKey"].FirstOrDefault(), http.Request.Headers.Authorization.FirstOrDefault(), body!, _clock.GetUtcNow()));
            if (_answers.TryDequeue(out var answer))
            {
                await answer(http);
            }
            else
            {
                await Data(http, $$"""{"findPerformer":{{Alice}}}""");
            }
        });
        await _app.StartAsync();
        _url = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/graphql");
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable(KeyVariable, null);
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static Task Data(HttpContext http, string data) => Json(http, 200, $$"""{"data":{{data}}}""");

    private static async Task Json(HttpContext http, int status, string body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body);
    }

    private StashBoxClient Client(HttpRemoteModels http, int rateLimit = 6000) =>
        new(http, new EnrichmentSource("stashdb", SourceTypes.StashBox, true, _url, rateLimit, 5, 1, TrustLevels.High, null, KeyVariable));

    [Fact]
    public async Task Performers_are_read_from_the_real_query_shapes_with_the_key_in_the_ApiKey_header()
    {
        using var http = HttpRemoteModels.Create(null, _clock);
        var client = Client(http);
        var alice = await client.FindPerformerAsync("7c1e5d0a", CancellationToken.None);
        Assert.NotNull(alice);
        Assert.Equal(("7c1e5d0a", "Alice Liddell", "actress", "FEMALE"), (alice.Id, alice.Name, alice.Disambiguation, alice.Gender));
        Assert.Equal(["Alice L."], alice.Aliases);
        var image = Assert.Single(alice.Images); // the javascript: URL is dropped
        Assert.Equal((new Uri("https://cdn.example/i1.jpg"), 800, 1200), (image.Url, image.Width, image.Height));
        Assert.Equal("Twitter", Assert.Single(alice.Urls).Site);

        var (path, apiKey, authorization, body, _) = Assert.Single(_requests);
        Assert.Equal("/graphql", path);
        Assert.Equal(Key, apiKey);
        Assert.Null(authorization);
        Assert.Contains("findPerformer(id: $id)", (string?)body["query"], StringComparison.Ordinal);
        Assert.Equal("7c1e5d0a", (string?)body["variables"]!["id"]);

        _answers.Enqueue(h => Data(h, """{"findPerformer":null}"""));
        Assert.Null(await client.FindPerformerAsync("missing", CancellationToken.None));

        _answers.Enqueue(h => Data(h, $$"""{"searchPerformer":[{{Alice}}]}"""));
        var found = await client.SearchPerformersAsync("alice", 5, CancellationToken.None);
        Assert.Equal("Alice Liddell", Assert.Single(found).Name);
        Assert.Equal(5, (int)_requests.Last().Body["variables"]!["limit"]!);

        _answers.Enqueue(h => Data(h, $$$"""{"queryPerformers":{"count":41,"performers":[{{{Alice}}}]}}"""));
        var page = await client.QueryPerformersAsync(3, 25, CancellationToken.None);
        Assert.Equal(41, page.Count);
        var input = _requests.Last().Body["variables"]!["input"]!;
        Assert.Equal((3, 25, "CREATED_AT", "ASC"), ((int)input["page"]!, (int)input["per_page"]!, (string)input["sort"]!, (string)input["direction"]!));
    }

    [Fact]
    public async Task A_429_with_Retry_After_and_a_503_are_waited_out_then_the_answer_is_read()
    {
        using var http = HttpRemoteModels.Create(null, _clock);
        var client = Client(http);
        _answers.Enqueue(h =>
        {
            h.Response.Headers.RetryAfter = "3";
            return Json(h, 429, """{"errors":[{"message":"rate limit exceeded"}]}""");
        });
        _answers.Enqueue(h => Json(h, 503, """{"error":"upstream busy"}"""));
        var alice = await client.FindPerformerAsync("7c1e5d0a", CancellationToken.None);
        Assert.Equal("Alice Liddell", alice!.Name);
        var times = _requests.Select(r => r.At).ToList();
        Assert.Equal(3, times.Count);
        Assert.True(times[1] - times[0] >= TimeSpan.FromSeconds(2.9), $"the second attempt came {(times[1] - times[0]).TotalSeconds:0.00} s after the 429");
        Assert.Contains(_clock.Waits, w => w >= TimeSpan.FromSeconds(2.9) && w <= TimeSpan.FromSeconds(3.1));
    }

    [Fact]
    public async Task A_wrong_key_graphql_errors_a_truncated_body_and_a_missing_data_are_each_named_without_the_key()
    {
        using var http = HttpRemoteModels.Create(null, _clock);
        var client = Client(http);

        _answers.Enqueue(h => Json(h, 401, """{"errors":[{"message":"Unauthorized"}]}"""));
        var auth = await Assert.ThrowsAsync<ProviderException>(() => client.FindPerformerAsync("x", CancellationToken.None));
        Assert.Equal(401, auth.Status);
        Assert.Single(_requests); // a refused key is not retried

        _answers.Enqueue(h => Json(h, 200, """{"data":null,"errors":[{"message":"Field 'findPerformr' doesn't exist on type 'Query'","locations":[{"line":1,"column":3}]}]}"""));
        var graphQl = await Assert.ThrowsAsync<ProviderException>(() => client.FindPerformerAsync("x", CancellationToken.None));
        Assert.Contains("findPerformr", graphQl.Message, StringComparison.Ordinal);
        Assert.Contains("error", graphQl.Message, StringComparison.Ordinal);

        for (var i = 0; i < 4; i++)
        {
            _answers.Enqueue(async h =>
            {
                h.Response.StatusCode = 200;
                h.Response.ContentType = "application/json";
                h.Response.ContentLength = 400;
                await h.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("""{"data":{"findPerformer":{"id":"""));
                h.Abort();
            });
        }

        var before = _requests.Count;
        var truncated = await Assert.ThrowsAsync<ProviderException>(() => client.FindPerformerAsync("x", CancellationToken.None));
        Assert.Equal(4, _requests.Count - before); // retried, then given up
        Assert.DoesNotContain(Key, truncated.Message, StringComparison.Ordinal);

        _answers.Enqueue(h => Json(h, 200, """{"result":{}}"""));
        var shape = await Assert.ThrowsAsync<ProviderException>(() => client.FindPerformerAsync("x", CancellationToken.None));
        Assert.Contains("\"data\"", shape.Message, StringComparison.Ordinal);
        foreach (var e in new[] { auth, graphQl, truncated, shape })
        {
            Assert.DoesNotContain(Key, e.Message + e.Hint, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Parallel_callers_share_the_sources_rate_limit_and_never_exceed_it()
    {
        using var http = HttpRemoteModels.Create(null, _clock);
        var client = Client(http, rateLimit: 120); // one request every 0.5 s of the clock
        await client.FindPerformerAsync("warm-up", CancellationToken.None); // a connection is open before the timed requests
        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => client.FindPerformerAsync("p" + i, CancellationToken.None)));
        var times = _requests.Skip(1).Select(r => r.At).Order().ToList();
        Assert.Equal(6, times.Count);
        // Permits are granted at least 0.5 s apart (as they really happen: a caller woken late does not take the ones
        // behind it along). At the server, arrival adds jitter, and a stalled machine can hold sends that were granted
        // in time; so the server checks what no such noise can fake: the six take at least 5 intervals, and no second
        // of the clock ever holds more than the limit's two plus one.
        var shown = string.Join(", ", times.Select(t => (t - times[0]).TotalSeconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(times[^1] - times[0] >= TimeSpan.FromSeconds(2.4), $"six requests in {(times[^1] - times[0]).TotalSeconds:0.000} s: {shown}");
        Assert.All(times, t => Assert.True(times.Count(u => u >= t && u < t + TimeSpan.FromSeconds(1)) <= 3, $"more than 3 requests in the second from {(t - times[0]).TotalSeconds:0.000}: {shown}"));
    }
}
