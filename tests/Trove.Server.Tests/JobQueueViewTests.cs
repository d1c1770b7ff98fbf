using System.Net;
using System.Text.Json.Nodes;
using Trove.Application.Jobs;
using static Trove.Server.Tests.PageRequests;

namespace Trove.Server.Tests;

/// <summary>
/// What <c>GET /api/jobs/{id}</c> and the jobs page show of the persistent queue: status, kind, attempts of max attempts,
/// when a delayed or retried job may run, a cancel request, progress, the worker, result and error text.
/// </summary>
public sealed class JobQueueViewTests : IAsyncLifetime
{
    private const string Delayed = "cccc00000000000000000001";
    private const string Retrying = "cccc00000000000000000002";
    private const string Stopping = "cccc00000000000000000003";
    private const string Failed = "cccc00000000000000000004";
    private const string Done = "cccc00000000000000000005";
    private TestServer _server = null!;
    private DateTimeOffset _now;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(imaging: false);
        var jobs = _server.Library.State.Jobs;
        _now = DateTimeOffset.UtcNow;
        var later = _now.AddHours(1); // far enough that the server's own worker leaves the queued ones alone
        const string payload = "{\"ids\":[\"abc\"],\"force\":false}";
        var ct = CancellationToken.None;

        // Queued with a delay (the suggestion job after an upload), not tried yet.
        await jobs.InsertAsync(Job(Delayed, JobStatus.Queued) with { AvailableAt = later, MaxAttempts = 3 }, ct);

        // Queued again after a failed attempt: the error of that attempt and when the next one may start.
        await jobs.InsertAsync(Job(Retrying, JobStatus.Queued, error: "model-file-missing: models/wd14/v3/model.onnx is gone.") with { AvailableAt = later, Attempts = 1, MaxAttempts = 3 }, ct);

        // Running on a worker, half-way, and asked to stop.
        await jobs.InsertAsync(
            Job(Stopping, JobStatus.Running, started: _now, phase: "Tagging", done: 5, total: 20) with
            {
                Attempts = 2, MaxAttempts = 3, LeaseOwner = "worker-7", LeaseUntil = later, CancelRequested = true,
            },
            ct);

        // Out of attempts: failed for good.
        await jobs.InsertAsync(Job(Failed, JobStatus.Failed, started: _now, finished: _now, error: "inference-unavailable: ONNX Runtime is not installed.") with { Attempts = 3, MaxAttempts = 3 }, ct);

        // Succeeded with a result.
        await jobs.InsertAsync(Job(Done, JobStatus.Succeeded, started: _now, finished: _now, done: 2, total: 2, result: "{\"models\":[\"wd14@v3\"],\"media\":2,\"added\":7}") with { Attempts = 1, MaxAttempts = 3 }, ct);

        JobRecord Job(string id, string status, DateTimeOffset? started = null, DateTimeOffset? finished = null, string? phase = null, long done = 0, long? total = null, string? result = null, string? error = null) =>
            new(id, "suggest", status, "alice", _now, started, finished, phase, done, total, payload, result, error);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Api_shows_the_queue_fields_of_each_state()
    {
        var alice = _server.As("alice");
        async Task<JsonNode> GetAsync(string id) => await TestServer.JsonAsync(await alice.GetAsync($"/api/jobs/{id}"));

        var delayed = await GetAsync(Delayed);
        Assert.Equal(("suggest", "queued"), ((string?)delayed["kind"], (string?)delayed["status"]));
        Assert.Equal((0, 3), ((int)delayed["attempts"]!, (int)delayed["maxAttempts"]!));
        Assert.Equal(_now.AddHours(1), (DateTimeOffset)delayed["runAfter"]!, TimeSpan.FromMilliseconds(1));
        Assert.Null(delayed["retryAt"]);
        Assert.Null(delayed["progress"]);
        Assert.Null(delayed["cancelRequested"]);
        Assert.Equal(["abc"], delayed["parameters"]!["ids"]!.AsArray().Select(i => (string?)i));

        var retrying = await GetAsync(Retrying);
        Assert.Equal("queued", (string?)retrying["status"]);
        Assert.Equal((1, 3), ((int)retrying["attempts"]!, (int)retrying["maxAttempts"]!));
        Assert.Equal((DateTimeOffset)retrying["runAfter"]!, (DateTimeOffset)retrying["retryAt"]!);
        Assert.StartsWith("model-file-missing", (string?)retrying["error"], StringComparison.Ordinal);

        var stopping = await GetAsync(Stopping);
        Assert.Equal("running", (string?)stopping["status"]);
        Assert.True((bool)stopping["cancelRequested"]!);
        Assert.Equal(25, (int)stopping["progress"]!);
        Assert.Equal(("Tagging", 5L, 20L), ((string?)stopping["phase"], (long)stopping["done"]!, (long)stopping["total"]!));
        Assert.Equal("worker-7", (string?)stopping["worker"]);
        Assert.Null(stopping["runAfter"]);

        var failed = await GetAsync(Failed);
        Assert.Equal("failed", (string?)failed["status"]);
        Assert.Equal((3, 3), ((int)failed["attempts"]!, (int)failed["maxAttempts"]!));
        Assert.StartsWith("inference-unavailable", (string?)failed["error"], StringComparison.Ordinal);
        Assert.Null(failed["runAfter"]);
        Assert.Null(failed["worker"]);

        var done = await GetAsync(Done);
        Assert.Equal("succeeded", (string?)done["status"]);
        Assert.Equal(100, (int)done["progress"]!);
        Assert.Equal(7, (int)done["result"]!["added"]!);
        Assert.NotNull(done["finishedAt"]);

        // Cancelling the delayed job cancels it at once; jobs stay private.
        using (var cancel = await alice.PostAsync($"/api/jobs/{Delayed}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        Assert.Equal("cancelled", (string?)(await GetAsync(Delayed))["status"]);
        await TestServer.ProblemAsync(await _server.As("bob").GetAsync($"/api/jobs/{Done}"), HttpStatusCode.NotFound, "job-not-found");
    }

    [Fact]
    public async Task Jobs_page_shows_attempts_run_after_retry_cancel_requests_progress_results_and_errors()
    {
        var page = WebUtility.HtmlDecode(await PageAsync(await _server.SessionAsync("alice"), "/jobs"));

        Assert.Equal("queued", Attribute(Card(page, Delayed), "data-status"));
        Assert.Contains("data-fact=\"attempts\">attempt 0 of 3<", Card(page, Delayed), StringComparison.Ordinal);
        Assert.Contains($"data-fact=\"run-after\">runs after {_now.AddHours(1).ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC<", Card(page, Delayed), StringComparison.Ordinal);

        var retrying = Card(page, Retrying);
        Assert.Contains("data-fact=\"attempts\">attempt 1 of 3<", retrying, StringComparison.Ordinal);
        Assert.Contains("data-fact=\"retry-at\">retry at ", retrying, StringComparison.Ordinal);
        Assert.Contains("Last attempt failed: model-file-missing: models/wd14/v3/model.onnx is gone.", retrying, StringComparison.Ordinal);

        var stopping = Card(page, Stopping);
        Assert.Equal("running", Attribute(stopping, "data-status"));
        Assert.Contains("data-fact=\"cancel-requested\">cancel requested: stopping<", stopping, StringComparison.Ordinal);
        Assert.Contains("data-fact=\"attempts\">attempt 2 of 3<", stopping, StringComparison.Ordinal);
        Assert.Contains("data-fact=\"worker\">on worker worker-7<", stopping, StringComparison.Ordinal);
        Assert.Contains("<progress max=\"100\" value=\"25\"", stopping, StringComparison.Ordinal);
        Assert.Contains("Tagging 5 / 20", stopping, StringComparison.Ordinal);

        var failed = Card(page, Failed);
        Assert.Equal("failed", Attribute(failed, "data-status"));
        Assert.Contains("data-fact=\"attempts\">attempt 3 of 3<", failed, StringComparison.Ordinal);
        Assert.Contains(">inference-unavailable: ONNX Runtime is not installed.<", failed, StringComparison.Ordinal);
        Assert.DoesNotContain("Last attempt failed", failed, StringComparison.Ordinal);

        var done = Card(page, Done);
        Assert.Contains("<strong class=\"job-kind\">suggest</strong>", done, StringComparison.Ordinal);
        Assert.Contains("models: 1 item · media: 2 · added: 7", done, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"cancel\"", done, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"cancel\"", Card(page, Delayed), StringComparison.Ordinal);
    }

    /// <summary>The HTML of one job's list item.</summary>
    private static string Card(string page, string id)
    {
        var start = page.LastIndexOf("<li", page.IndexOf($"data-job=\"{id}\"", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(start >= 0, $"job {id} is not on the page");
        var end = page.IndexOf("</li>", start, StringComparison.Ordinal);
        return page[start..end];
    }

    private static string Attribute(string html, string name)
    {
        var at = html.IndexOf(name + "=\"", StringComparison.Ordinal) + name.Length + 2;
        return html[at..html.IndexOf('"', at)];
    }
}
