using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Trove.Application.Jobs;
using Trove.Application.Models;
using Trove.Domain.Models;
using Trove.Testing;

namespace Trove.Server.Tests;

/// <summary>
/// Restoration through the real host (issue 15): POST /api/media/{id}/processing queues a run, the server's worker runs a
/// generated 2× upscaler through real ONNX Runtime, the history shows it, the lineage shows both ways, keep and discard
/// act on the result, and deleting the original asks.
/// </summary>
public sealed class ProcessingApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartWithOnnxAsync();
        var model = OnnxModels.Write(Path.Combine(_server.Scratch, "nearest2.onnx"), OnnxModels.NearestUpscaler(2));
        await new ModelRegistry(_server.Library).AddAsync(
            new ModelAddRequest("nearest2", ModelKinds.Upscaler, model, "1", Name: "Nearest ×2", Parameters: new JsonObject { ["scale"] = 2, ["tileSize"] = 48, ["tileOverlap"] = 8 }),
            CancellationToken.None);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<string> UploadAsync(string user, int seed)
    {
        var path = Path.Combine(_server.Scratch, $"p{seed}.jpg");
        TestImages.WriteJpeg(path, TestImages.Photo(seed, 120, 90));
        return await Uploads.UploadOneAsync(_server.As(user), $"p{seed}.jpg", await File.ReadAllBytesAsync(path));
    }

    /// <summary>Queues a run as <paramref name="user"/> and waits for the server's worker to finish it; answers the finished run.</summary>
    private async Task<JsonNode> RunAsync(string user, string media, object body, CancellationToken ct)
    {
        var response = await _server.As(user).PostAsJsonAsync($"/api/media/{media}/processing", body, ct);
        var queued = await TestServer.JsonAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = (string)queued["job"]!;
        Assert.Equal($"/api/processing/{job}", response.Headers.Location?.ToString());
        Assert.Equal("nearest2@1", (string?)queued["model"]);
        await JobQueue.Of(_server.Library).WhenFinishedAsync(job, ct);
        return await TestServer.JsonAsync(await _server.As(user).GetAsync(new Uri($"/api/processing/{job}", UriKind.Relative), ct));
    }

    private async Task<JsonNode> DetailAsync(string user, string id, CancellationToken ct) =>
        await TestServer.JsonAsync(await _server.As(user).GetAsync(new Uri($"/api/media/{id}", UriKind.Relative), ct));

    [Fact]
    public async Task A_run_makes_a_derived_media_the_history_shows_it_and_keep_and_discard_act_on_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var models = (await TestServer.JsonAsync(await _server.As("vic").GetAsync(new Uri("/api/processing/models", UriKind.Relative), ct))).AsArray();
        var offered = Assert.Single(models)!;
        Assert.Equal("nearest2", (string?)offered["id"]);
        Assert.Equal(48, (int)offered["parameters"]!["tileSize"]!);
        Assert.Equal(2, (int)offered["parameters"]!["scale"]!);

        var original = await UploadAsync("alice", 1);
        var run = await RunAsync("alice", original, new { model = "nearest2", parameters = new Dictionary<string, string>() }, ct);
        Assert.Equal("succeeded", (string?)run["status"]);
        var result = (string)run["result"]!;
        Assert.NotEqual(original, result);
        Assert.Equal((240, 180), ((int)run["width"]!, (int)run["height"]!));
        Assert.Equal("unkept", (string?)run["resultState"]);
        Assert.NotNull(run["expiresAt"]);
        Assert.True((double)run["seconds"]! >= 0);
        Assert.Equal($"/media/{result}/compare", (string?)run["urls"]!["compare"]);

        // Both directions of the lineage on the detail.
        var derived = await DetailAsync("alice", result, ct);
        Assert.Equal(original, (string?)derived["lineage"]!["derivedFrom"]!["id"]);
        Assert.Equal("nearest2", (string?)derived["lineage"]!["derivedFrom"]!["model"]);
        Assert.Equal("library", (string?)derived["lineage"]!["original"]!["state"]);
        var source = await DetailAsync("alice", original, ct);
        Assert.Null(source["lineage"]!["derivedFrom"]);
        Assert.Equal(result, (string?)Assert.Single(source["lineage"]!["derivatives"]!.AsArray())!["id"]);

        // Only its maker (or a moderator) decides; keep stops the expiry.
        Assert.Equal(HttpStatusCode.Forbidden, (await _server.As("bob").PostAsync($"/api/media/{result}/keep", null, ct)).StatusCode);
        var kept = await TestServer.JsonAsync(await _server.As("alice").PostAsync($"/api/media/{result}/keep", null, ct));
        Assert.False((bool)kept["inTrash"]!);
        Assert.True((bool)kept["lineage"]!["derivedFrom"]!["kept"]!);
        var history = (await TestServer.JsonAsync(await _server.As("alice").GetAsync(new Uri("/api/processing", UriKind.Relative), ct)))["runs"]!.AsArray();
        Assert.Equal("kept", (string?)Assert.Single(history)!["resultState"]);
        Assert.Null(history[0]!["expiresAt"]);
        await TestServer.ProblemAsync(await _server.As("alice").PostAsync($"/api/media/{original}/keep", null, ct), HttpStatusCode.BadRequest, "not-derived");

        var discarded = await TestServer.JsonAsync(await _server.As("mod").PostAsync($"/api/media/{result}/discard", null, ct));
        Assert.True((bool)discarded["inTrash"]!);
        Assert.True(_server.Library.Files.ReadSidecar(result).InTrash);
        Assert.Equal("trash", (string?)Assert.Single((await DetailAsync("alice", original, ct))["lineage"]!["derivatives"]!.AsArray())!["state"]);
    }

    [Fact]
    public async Task Members_see_their_own_runs_moderators_everyone_s_and_bad_requests_name_the_problem()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var a = await UploadAsync("alice", 2);
        var b = await UploadAsync("bob", 3);
        var aliceRun = await RunAsync("alice", a, new { keep = true }, ct);
        var bobRun = await RunAsync("bob", b, new { model = "nearest2@1" }, ct);
        Assert.Equal("kept", (string?)aliceRun["resultState"]);

        async Task<List<string?>> JobsAsync(string user, string query) =>
            (await TestServer.JsonAsync(await _server.As(user).GetAsync(new Uri($"/api/processing{query}", UriKind.Relative), ct)))["runs"]!.AsArray().Select(r => (string?)r!["job"]).ToList();
        Assert.Equal([(string?)aliceRun["job"]], await JobsAsync("alice", string.Empty));
        Assert.Equal([(string?)aliceRun["job"]], await JobsAsync("alice", "?mine=false"));
        Assert.Equal(2, (await JobsAsync("mod", string.Empty)).Count);
        Assert.Empty(await JobsAsync("mod", "?mine=true"));
        await TestServer.ProblemAsync(await _server.As("alice").GetAsync(new Uri($"/api/processing/{(string)bobRun["job"]!}", UriKind.Relative), ct), HttpStatusCode.NotFound, "job-not-found");
        Assert.Equal(HttpStatusCode.OK, (await _server.As("mod").GetAsync(new Uri($"/api/processing/{(string)bobRun["job"]!}", UriKind.Relative), ct)).StatusCode);
        await TestServer.ProblemAsync(await _server.As("alice").GetAsync(new Uri("/api/processing?mine=perhaps", UriKind.Relative), ct), HttpStatusCode.BadRequest, "bad-parameter");

        await TestServer.ProblemAsync(await _server.As("alice").PostAsJsonAsync($"/api/media/{a}/processing", new { model = "nope" }, ct), HttpStatusCode.NotFound, "model-not-found");
        await TestServer.ProblemAsync(
            await _server.As("alice").PostAsJsonAsync($"/api/media/{a}/processing", new { parameters = new Dictionary<string, string> { ["tileSize"] = "4" } }, ct),
            HttpStatusCode.BadRequest,
            "model-parameters-invalid");
        Assert.Equal(HttpStatusCode.Forbidden, (await _server.As("vic").PostAsJsonAsync($"/api/media/{a}/processing", new { }, ct)).StatusCode);
        Assert.Equal(2, (await JobsAsync("mod", string.Empty)).Count); // nothing was queued by the refusals
    }

    [Fact]
    public async Task Deleting_an_original_with_a_result_is_409_until_derived_says_what_to_do()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var original = await UploadAsync("alice", 4);
        var result = (string)(await RunAsync("alice", original, new { keep = true }, ct))["result"]!;
        var alice = _server.As("alice");

        var refused = await TestServer.ProblemAsync(await alice.DeleteAsync(new Uri($"/api/media/{original}", UriKind.Relative), ct), HttpStatusCode.Conflict, "has-derived");
        Assert.Contains("derived=", (string?)refused["hint"] ?? string.Empty, StringComparison.Ordinal);
        Assert.False(_server.Library.Files.ReadSidecar(original).InTrash);
        await TestServer.ProblemAsync(await alice.DeleteAsync(new Uri($"/api/media/{original}?derived=maybe", UriKind.Relative), ct), HttpStatusCode.BadRequest, "bad-parameter");

        Assert.Equal(HttpStatusCode.OK, (await alice.DeleteAsync(new Uri($"/api/media/{original}?derived=keep", UriKind.Relative), ct)).StatusCode);
        Assert.True(_server.Library.Files.ReadSidecar(original).InTrash);
        Assert.False(_server.Library.Files.ReadSidecar(result).InTrash);
        Assert.Equal("trash", (string?)(await DetailAsync("alice", result, ct))["lineage"]!["original"]!["state"]);

        Assert.Equal(HttpStatusCode.OK, (await alice.PostAsync($"/api/media/{original}/restore", null, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.DeleteAsync(new Uri($"/api/media/{original}?derived=trash", UriKind.Relative), ct)).StatusCode);
        Assert.True(_server.Library.Files.ReadSidecar(original).InTrash);
        Assert.True(_server.Library.Files.ReadSidecar(result).InTrash);
    }
}
