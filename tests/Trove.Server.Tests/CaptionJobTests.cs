using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Trove.Application.Jobs;
using Trove.Application.Models;
using Trove.Application.Providers;
using Trove.Domain.Models;
using Trove.Providers.Http;
using Trove.Testing;

namespace Trove.Server.Tests;

/// <summary>
/// Caption generation as background jobs through the real host: POST /api/captions/generate, the server's worker calls
/// a local server speaking the OpenAI protocol, the captions wait for review; a wrong key fails the job at once.
/// </summary>
public sealed class CaptionJobTests : IAsyncLifetime
{
    private const string Secret = "sk-job-test-8d1f40c2b7a9";

    private readonly string _keyVariable = "TROVE_TEST_JOB_KEY_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private readonly HttpRemoteModels _remote = HttpRemoteModels.Create();
    private FakeProviderServer _fake = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable(_keyVariable, Secret);
        _fake = await FakeProviderServer.StartAsync();
        _server = await TestServer.StartAsync(remote: _remote);
        await new ProviderRegistry(_server.Library).AddAsync(
            new ProviderDefinition { Name = "vlm", Kind = ProviderKinds.OpenAi, Url = _fake.OpenAiUrl, Model = "test-vlm", ApiKeyEnv = _keyVariable, MaxAttempts = 2 }, replace: false, CancellationToken.None);
        await new ModelRegistry(_server.Library).AddAsync(new ModelAddRequest("cap", ModelKinds.Captioner, string.Empty, "v1", Provider: "vlm"), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _fake.DisposeAsync();
        _remote.Dispose();
        Environment.SetEnvironmentVariable(_keyVariable, null);
    }

    private async Task<List<string>> UploadAsync(int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(_server.Scratch, $"c{i}.jpg");
            TestImages.WriteJpeg(path, TestImages.Photo(100 + i, 320, 240));
            ids.Add(await Uploads.UploadOneAsync(_server.As("alice"), $"c{i}.jpg", await File.ReadAllBytesAsync(path)));
        }

        return ids;
    }

    private async Task<JsonNode> GenerateAsync(HttpClient client, object request, CancellationToken ct)
    {
        var response = await client.PostAsJsonAsync("/api/captions/generate", request, ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await TestServer.JsonAsync(response);
    }

    [Fact]
    public async Task A_caption_job_captions_a_query_s_media_in_the_background_and_they_wait_for_review()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var ids = await UploadAsync(2);
        _fake.Default = Behaviour.Caption("a colourful abstract photograph");

        // Members may not spend the provider's quota; moderators may.
        Assert.Equal(HttpStatusCode.Forbidden, (await _server.As("alice").PostAsJsonAsync("/api/captions/generate", new { query = "" }, ct)).StatusCode);
        var queued = await GenerateAsync(_server.As("mod"), new { query = "", model = "cap" }, ct);
        Assert.Equal(2, (int)queued["media"]!);
        Assert.Equal("v1", (string?)queued["version"]);
        var jobId = (string)queued["jobs"]![0]!["id"]!;
        Assert.Equal(JobStatus.Succeeded, (await JobQueue.Of(_server.Library).WhenFinishedAsync(jobId, ct)).Status);

        var job = await TestServer.JsonAsync(await _server.As("mod").GetAsync(new Uri($"/api/jobs/{jobId}", UriKind.Relative), ct));
        Assert.Equal("caption", (string?)job["kind"]);
        Assert.Equal(2, (int)job["result"]!["generated"]!);
        Assert.Equal(2, _fake.Requests.Count);

        var captions = await TestServer.JsonAsync(await _server.As("alice").GetAsync(new Uri($"/api/media/{ids[0]}/captions", UriKind.Relative), ct));
        var caption = Assert.Single(captions["captions"]!.AsArray())!;
        Assert.Equal("pending", (string?)caption["status"]);
        Assert.Equal("cap", (string?)caption["model"]);
        Assert.Equal("v1", (string?)caption["version"]);

        // The queue lists both; alice approves her own upload's caption with an edit.
        var queue = await TestServer.JsonAsync(await _server.As("mod").GetAsync(new Uri("/api/captions/queue", UriKind.Relative), ct));
        Assert.Equal(2, (long)queue["total"]!);
        var review = await _server.As("alice").PostAsJsonAsync($"/api/media/{ids[0]}/captions/{(int)caption["id"]!}/review", new { action = "approve", text = "an abstract photograph in many colours" }, ct);
        var reviewed = Assert.Single((await TestServer.JsonAsync(review))["captions"]!.AsArray())!;
        Assert.Equal("approved", (string?)reviewed["status"]);
        Assert.Equal("a colourful abstract photograph", (string?)reviewed["generatedText"]);
        Assert.Equal("alice", (string?)reviewed["reviewedBy"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await _server.As("bob").PostAsJsonAsync($"/api/media/{ids[1]}/captions/1/review", new { action = "reject" }, ct)).StatusCode);
        await TestServer.ProblemAsync(await _server.As("alice").PostAsJsonAsync($"/api/media/{ids[1]}/captions/1/review", new { action = "maybe" }, ct), HttpStatusCode.BadRequest, "bad-action");

        // Re-running the same query asks the service nothing more.
        var again = await GenerateAsync(_server.As("mod"), new { query = "", model = "cap" }, ct);
        var second = (string)again["jobs"]![0]!["id"]!;
        Assert.Equal(JobStatus.Succeeded, (await JobQueue.Of(_server.Library).WhenFinishedAsync(second, ct)).Status);
        Assert.Equal(2, _fake.Requests.Count);
    }

    [Fact]
    public async Task A_wrong_key_fails_the_job_at_once_with_provider_auth_keeping_nothing_half_done_and_the_key_secret()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        await UploadAsync(2);
        _fake.Default = Behaviour.Unauthorized();

        var queued = await GenerateAsync(_server.As("mod"), new { query = "", model = "cap" }, ct);
        var jobId = (string)queued["jobs"]![0]!["id"]!;
        var finished = await JobQueue.Of(_server.Library).WhenFinishedAsync(jobId, ct);

        Assert.Equal(JobStatus.Failed, finished.Status);
        Assert.Equal(1, finished.Attempts); // permanent: not retried
        var job = await TestServer.JsonAsync(await _server.As("mod").GetAsync(new Uri($"/api/jobs/{jobId}", UriKind.Relative), ct));
        var error = (string)job["error"]!;
        Assert.StartsWith("provider-auth:", error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, job.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(0, (await new Trove.Application.Search.SearchService(_server.Library).SearchAsync("caption-status:pending", 10, 0, ct)).Total);

        // Admins see the providers, with where the key comes from and never the key; others do not see them at all.
        var providers = await _server.As("admin").GetAsync(new Uri("/api/providers", UriKind.Relative), ct);
        var text = await providers.Content.ReadAsStringAsync(ct);
        Assert.Equal(HttpStatusCode.OK, providers.StatusCode);
        Assert.Contains(_keyVariable, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await _server.As("mod").GetAsync(new Uri("/api/providers", UriKind.Relative), ct)).StatusCode);
    }
}
