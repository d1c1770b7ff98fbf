using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Trove.Application.Jobs;

namespace Trove.Server.Tests;

public sealed class ExportApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private JobRunner _runner = null!;
    private readonly Dictionary<string, byte[]> _cats = new(StringComparer.Ordinal);
    private string _dog = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _runner = _server.App.Services.GetRequiredService<JobRunner>();
        (string Tags, int Seed)[] media = [("cat,outdoor", 300), ("cat,long_hair", 301), ("dog", 302)];
        foreach (var (tags, seed) in media)
        {
            var bytes = Uploads.Jpeg(_server, seed);
            var id = await Uploads.UploadOneAsync(_server.As("alice"), $"e{seed}.jpg", bytes, tags);
            if (tags.StartsWith("cat", StringComparison.Ordinal))
            {
                _cats[id] = bytes;
            }
            else
            {
                _dog = id;
            }
        }
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task An_export_job_runs_to_success_and_its_zip_holds_images_and_captions()
    {
        var alice = _server.As("alice");
        using var started = await alice.PostAsJsonAsync("/api/exports", new { query = "cat", text = "tags" });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = await TestServer.JsonAsync(started);
        var id = (string)job["id"]!;
        Assert.Equal($"/api/jobs/{id}", started.Headers.Location?.OriginalString);
        Assert.Equal("export", (string?)job["kind"]);
        Assert.Equal("alice", (string?)job["createdBy"]);
        Assert.Equal("cat", (string?)job["parameters"]!["query"]);

        await _runner.WhenFinishedAsync(id);
        var done = await TestServer.JsonAsync(await alice.GetAsync($"/api/jobs/{id}"));
        Assert.Equal("succeeded", (string?)done["status"]);
        Assert.Equal(2, (int)done["result"]!["images"]!);
        Assert.Equal($"/api/exports/{id}/download", (string?)done["download"]);
        Assert.DoesNotContain(_server.Library.Layout.Root, done.ToJsonString(), StringComparison.Ordinal);

        using var download = await alice.GetAsync((string)done["download"]!);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/zip", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"trove-export-{id}.zip", download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        using var zip = new ZipArchive(new MemoryStream(await download.Content.ReadAsByteArrayAsync()));
        foreach (var (mediaId, bytes) in _cats)
        {
            using var image = new MemoryStream();
            await using (var entry = zip.GetEntry($"{mediaId}.jpg")!.Open())
            {
                await entry.CopyToAsync(image);
            }

            Assert.Equal(bytes, image.ToArray());
            using var reader = new StreamReader(zip.GetEntry($"{mediaId}.txt")!.Open(), Encoding.UTF8);
            Assert.Contains("cat", await reader.ReadToEndAsync(), StringComparison.Ordinal);
        }

        Assert.NotNull(zip.GetEntry("manifest.json"));
        Assert.Null(zip.GetEntry($"{_dog}.jpg"));
        Assert.Equal(5, zip.Entries.Count);
    }

    [Fact]
    public async Task Jobs_are_private_to_their_creator_and_admins()
    {
        var job = await TestServer.JsonAsync(await _server.As("alice").PostAsJsonAsync("/api/exports", new { query = "dog" }));
        var id = (string)job["id"]!;
        await _runner.WhenFinishedAsync(id);

        await TestServer.ProblemAsync(await _server.As("bob").GetAsync($"/api/jobs/{id}"), HttpStatusCode.NotFound, "job-not-found");
        await TestServer.ProblemAsync(await _server.As("bob").GetAsync($"/api/exports/{id}/download"), HttpStatusCode.NotFound, "job-not-found");
        await TestServer.ProblemAsync(await _server.As("mod").GetAsync($"/api/exports/{id}/download"), HttpStatusCode.NotFound, "job-not-found");
        await TestServer.ProblemAsync(await _server.As("bob").PostAsync($"/api/jobs/{id}/cancel", null), HttpStatusCode.NotFound, "job-not-found");
        Assert.DoesNotContain(id, (await TestServer.JsonAsync(await _server.As("bob").GetAsync("/api/jobs"))).ToJsonString(), StringComparison.Ordinal);

        Assert.Contains(id, (await TestServer.JsonAsync(await _server.As("alice").GetAsync("/api/jobs?kind=export"))).AsArray().Select(j => (string)j!["id"]!));
        Assert.Contains(id, (await TestServer.JsonAsync(await _server.As("admin").GetAsync("/api/jobs"))).AsArray().Select(j => (string)j!["id"]!));
        Assert.Equal("succeeded", (string?)(await TestServer.JsonAsync(await _server.As("admin").GetAsync($"/api/jobs/{id}")))["status"]);
        Assert.Equal(HttpStatusCode.OK, (await _server.As("admin").GetAsync($"/api/exports/{id}/download")).StatusCode);

        // Forged ids are not found, never errors.
        foreach (var forged in new[] { "zzzz", "..%2F..%2Fetc%2Fpasswd", "0123456789abcdef01234567" })
        {
            await TestServer.ProblemAsync(await _server.As("alice").GetAsync($"/api/jobs/{forged}"), HttpStatusCode.NotFound, "job-not-found");
            await TestServer.ProblemAsync(await _server.As("alice").GetAsync($"/api/exports/{forged}/download"), HttpStatusCode.NotFound, "job-not-found");
        }
    }

    [Fact]
    public async Task Downloads_wait_for_the_job_and_cancelled_exports_have_nothing_to_download()
    {
        // Hold the export queue with a job of the same kind, so the exports below stay queued until released.
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        JobRecord blocker;
        using (_server.Library.ActAs("admin"))
        {
            blocker = await _runner.StartAsync("export", new { query = "blocker" }, async _ =>
            {
                running.SetResult();
                await release.Task;
                return 0;
            }, CancellationToken.None);
        }

        await running.Task;
        var first = (string)(await TestServer.JsonAsync(await _server.As("alice").PostAsJsonAsync("/api/exports", new { query = "" })))["id"]!;
        var second = (string)(await TestServer.JsonAsync(await _server.As("alice").PostAsJsonAsync("/api/exports", new { query = "" })))["id"]!;

        Assert.Equal("queued", (string?)(await TestServer.JsonAsync(await _server.As("alice").GetAsync($"/api/jobs/{first}")))["status"]);
        var waiting = await TestServer.ProblemAsync(await _server.As("alice").GetAsync($"/api/exports/{first}/download"), HttpStatusCode.Conflict, "conflict");
        Assert.Contains("queued", (string)waiting["detail"]!, StringComparison.Ordinal);

        using var cancel = await _server.As("alice").PostAsync($"/api/jobs/{second}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        await _runner.WhenFinishedAsync(second);
        Assert.Equal("cancelled", (string?)(await TestServer.JsonAsync(await _server.As("alice").GetAsync($"/api/jobs/{second}")))["status"]);
        await TestServer.ProblemAsync(await _server.As("alice").GetAsync($"/api/exports/{second}/download"), HttpStatusCode.NotFound, "export-not-found");

        release.SetResult();
        await _runner.WhenFinishedAsync(blocker.Id);
        await _runner.WhenFinishedAsync(first);
        Assert.Equal(HttpStatusCode.OK, (await _server.As("alice").GetAsync($"/api/exports/{first}/download")).StatusCode);
        await TestServer.ProblemAsync(await _server.As("alice").PostAsync($"/api/jobs/{first}/cancel", null), HttpStatusCode.Conflict, "conflict");

        // A finished job that wrote no file has nothing to download.
        await TestServer.ProblemAsync(await _server.As("admin").GetAsync($"/api/exports/{blocker.Id}/download"), HttpStatusCode.NotFound, "export-not-found");
    }

    [Fact]
    public async Task Bad_export_requests_are_refused_before_a_job_is_queued()
    {
        var problem = await TestServer.ProblemAsync(await _server.As("alice").PostAsJsonAsync("/api/exports", new { query = "cat widht:5" }), HttpStatusCode.BadRequest, "query-invalid");
        Assert.Contains("column 5", (string)problem["detail"]!, StringComparison.Ordinal);
        await TestServer.ProblemAsync(await _server.As("alice").PostAsJsonAsync("/api/exports", new { query = "cat", maxSize = 4 }), HttpStatusCode.BadRequest, "bad-size");
        await TestServer.ProblemAsync(await _server.As("alice").PostAsJsonAsync("/api/exports", new { query = "cat", text = "poems" }), HttpStatusCode.BadRequest, "bad-text");
        await TestServer.ProblemAsync(await _server.As("vic").PostAsJsonAsync("/api/exports", new { query = "cat" }), HttpStatusCode.Forbidden, "forbidden");
        Assert.Empty((await TestServer.JsonAsync(await _server.As("alice").GetAsync("/api/jobs"))).AsArray());
    }

    [Fact]
    public async Task Cookie_sessions_start_exports_with_the_antiforgery_header()
    {
        var session = await _server.SessionAsync("bob");
        using var started = await session.PostAsJsonAsync("/api/exports", new { query = "dog", maxSize = 64 });
        var job = await TestServer.JsonAsync(started);
        await _runner.WhenFinishedAsync((string)job["id"]!);
        var done = await TestServer.JsonAsync(await session.GetAsync($"/api/jobs/{job["id"]}"));
        Assert.Equal("succeeded", (string?)done["status"]);
        Assert.Equal(1, (int)done["result"]!["images"]!);

        var forged = await _server.SessionAsync("bob", sendCsrf: false);
        await TestServer.ProblemAsync(await forged.PostAsJsonAsync("/api/exports", new { query = "dog" }), HttpStatusCode.Forbidden, "csrf-failed");
    }
}
