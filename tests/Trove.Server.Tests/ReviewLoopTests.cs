using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Trove.Application;
using Trove.Application.Inference;
using Trove.Application.Jobs;
using Trove.Application.Models;
using Trove.Domain.Models;
using Trove.Inference.Onnx;
using Trove.Testing;
using static Trove.Server.Tests.PageRequests;

namespace Trove.Server.Tests;

/// <summary>
/// The whole suggestion loop through the real host, ONNX Runtime and libvips (issue 6, "Done when"): a colour tagger is
/// registered → images are uploaded through the API → the queued suggest job runs on the server's own worker → pending
/// suggestions → approve/reject through the API (the uploader) and the review page (a moderator) → tags with provenance
/// → statistics → an index rebuild keeps every decision and every tag's provenance.
/// </summary>
public sealed class ReviewLoopTests : IAsyncLifetime
{
    private const int Size = 64;
    private static readonly string[] Labels = ["red", "green", "blue", "photo"];
    private static readonly Lazy<IInferenceEngine> Onnx = new(() => OnnxInferenceEngine.Create(new OnnxOptions()));
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        var engine = Onnx.Value;
        Assert.True(engine.Status.Available, $"ONNX Runtime is needed for this test (make deps): {engine.Status.Message}");

        // No deferral: the upload's suggest job is due at once, and the test waits for the job itself, not for time.
        _server = await TestServer.StartAsync(library: o => o.Suggestions.AutoSuggestDelay = TimeSpan.Zero, inference: engine);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Register_upload_suggest_review_tags_with_provenance_stats_and_a_rebuild_keeps_every_decision()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var library = _server.Library;

        // 1. Register the tagger through the registry (what `trove models add` does). It is a custom model over the
        //    library's own tags: red/green/blue score by the image's colour, photo scores 0.9 on every image.
        foreach (var label in Labels)
        {
            await new TagService(library).DescribeAsync(label, "A tag the colour tagger knows", ct);
        }

        var model = OnnxModels.Write(
            Path.Combine(_server.Scratch, "colours.onnx"),
            OnnxModels.Tagger(Labels, [ColourRule.Red, ColourRule.Green, ColourRule.Blue, ColourRule.Constant(0.9f)], size: Size));
        var labels = Path.Combine(_server.Scratch, "selected_tags.csv");
        await File.WriteAllTextAsync(labels, OnnxModels.SelectedTagsCsv(Labels), ct);
        var parameters = new JsonObject { ["autoSuggest"] = true, ["preprocessing"] = new JsonObject { ["size"] = Size } };
        await new ModelRegistry(library).AddAsync(new ModelAddRequest("colours", ModelKinds.Tagger, model, "v1", Name: "Colours", Labels: labels, Parameters: parameters), ct);
        var registered = await TestServer.JsonAsync(await _server.Anonymous().GetAsync(new Uri("/api/models/colours", UriKind.Relative), ct));
        Assert.Equal("tagger", (string?)registered["kind"]);

        // 2. Upload through the API: a red image by alice, a blue one by bob. Each upload queues a suggest job.
        var alice = _server.As("alice");
        var red = await Uploads.UploadOneAsync(alice, "red.jpg", SolidJpeg("red", 255, 0, 0));
        var blue = await Uploads.UploadOneAsync(_server.As("bob"), "blue.jpg", SolidJpeg("blue", 0, 0, 255));

        // 3. The server's worker runs the jobs (real ONNX Runtime over libvips-decoded pixels); wait for each to finish.
        var aliceJobs = (await TestServer.JsonAsync(await alice.GetAsync(new Uri("/api/jobs?kind=suggest", UriKind.Relative), ct))).AsArray();
        var jobId = (string)Assert.Single(aliceJobs)!["id"]!;
        var bobJob = (string)Assert.Single((await TestServer.JsonAsync(await _server.As("bob").GetAsync(new Uri("/api/jobs?kind=suggest", UriKind.Relative), ct))).AsArray())!["id"]!;
        var queue = JobQueue.Of(library);
        Assert.Equal(JobStatus.Succeeded, (await queue.WhenFinishedAsync(jobId, ct)).Status);
        Assert.Equal(JobStatus.Succeeded, (await queue.WhenFinishedAsync(bobJob, ct)).Status);

        var job = await TestServer.JsonAsync(await alice.GetAsync(new Uri($"/api/jobs/{jobId}", UriKind.Relative), ct));
        Assert.Equal("suggest", (string?)job["kind"]);
        Assert.Equal("succeeded", (string?)job["status"]);
        Assert.Equal(1, (int)job["attempts"]!);
        Assert.Equal(3, (int)job["maxAttempts"]!);
        Assert.Equal(100, (int)job["progress"]!);
        Assert.Null(job["error"]);
        Assert.Equal([red], job["parameters"]!["ids"]!.AsArray().Select(i => (string?)i));
        Assert.Equal(["colours@v1"], job["result"]!["models"]!.AsArray().Select(m => (string?)m));
        Assert.Equal(2, (int)job["result"]!["added"]!);

        // 4. Pending suggestions: the model's colour and the constant label, with model, version and confidence.
        var pending = await TestServer.JsonAsync(await alice.GetAsync(new Uri($"/api/media/{red}/tag-suggestions?status=pending", UriKind.Relative), ct));
        Assert.Equal(["red", "photo"], pending["suggestions"]!.AsArray().Select(s => (string?)s!["tag"]));
        var redSuggestion = pending["suggestions"]![0]!;
        Assert.True((double)redSuggestion["confidence"]! > 0.9);
        Assert.Equal("colours", (string?)redSuggestion["model"]);
        Assert.Equal("v1", (string?)redSuggestion["version"]);
        Assert.Equal(0.9, (double)pending["suggestions"]![1]!["confidence"]!, 3);
        Assert.Equal((2, 0, 0, 2), Counts(pending));

        // 5a. The uploader decides through the API: approve red, reject photo (item form of the batch).
        var review = await TestServer.JsonAsync(await alice.PostAsJsonAsync(
            new Uri($"/api/media/{red}/tag-suggestions/review", UriKind.Relative),
            new { suggestions = new[] { new { tag = "red", action = "approve" }, new { tag = "photo", action = "reject" } } },
            ct));
        Assert.Equal((1, 1, 0), ((int)review["approved"]!, (int)review["rejected"]!, (int)review["failed"]!));
        Assert.Empty(review["errors"]!.AsArray());

        // 5b. A moderator decides the blue image on the review page (the queue card's form, as htmx posts it).
        var mod = await _server.SessionAsync("mod");
        var page = await PageAsync(mod, "/review?model=colours@v1");
        Assert.Contains($"data-id=\"{blue}\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain($"data-id=\"{red}\"", page, StringComparison.Ordinal);
        using (var decided = await HtmxPostAsync(mod, "/review?handler=Decide", ("id", blue), ("shown", "blue"), ("shown", "photo"), ("approve", "blue"), ("decision", "approve")))
        {
            var html = await decided.Content.ReadAsStringAsync(ct);
            Assert.True(decided.IsSuccessStatusCode, html);
            Assert.Contains("data-testid=\"review-empty\"", html, StringComparison.Ordinal);
        }

        // 6. Tags with provenance: which suggestion (source), which model and version (via), who decided.
        await AssertTagAsync(red, "red", "alice");
        await AssertTagAsync(blue, "blue", "mod");
        var media = await TestServer.JsonAsync(await alice.GetAsync(new Uri($"/api/media/{red}", UriKind.Relative), ct));
        Assert.DoesNotContain(media["tags"]!.AsArray(), t => (string?)t!["name"] == "photo");

        // 7. Statistics count the decisions, per model and version.
        var moderator = _server.As("mod");
        var stats = await TestServer.JsonAsync(await moderator.GetAsync(new Uri("/api/tag-suggestions/stats", UriKind.Relative), ct));
        AssertCounts(stats["totals"]!, pending: 0, approved: 2, rejected: 2);
        var byModel = Assert.Single(stats["byModel"]!.AsArray())!;
        Assert.Equal(("colours", "v1"), ((string?)byModel["model"], (string?)byModel["version"]));
        AssertCounts(byModel["counts"]!, pending: 0, approved: 2, rejected: 2);
        Assert.Equal("photo", (string?)stats["topRejected"]![0]!["tag"]);
        Assert.Equal(2, (long)stats["topRejected"]![0]!["counts"]!["rejected"]!);

        var beforeRed = await SuggestionsJsonAsync(red);
        var beforeBlue = await SuggestionsJsonAsync(blue);

        // 8. Rebuild the index from the library files (what `trove rebuild` does): nothing is lost.
        await RebuildService.RebuildAsync(library, null, ct);

        Assert.Equal(beforeRed, await SuggestionsJsonAsync(red));
        Assert.Equal(beforeBlue, await SuggestionsJsonAsync(blue));
        var rejected = await TestServer.JsonAsync(await alice.GetAsync(new Uri($"/api/media/{red}/tag-suggestions?status=rejected", UriKind.Relative), ct));
        var photo = Assert.Single(rejected["suggestions"]!.AsArray())!;
        Assert.Equal(("photo", "alice"), ((string?)photo["tag"], (string?)photo["reviewer"]));
        Assert.Equal((0, 1, 1, 2), Counts(rejected));
        await AssertTagAsync(red, "red", "alice");
        await AssertTagAsync(blue, "blue", "mod");
        var rebuilt = await TestServer.JsonAsync(await moderator.GetAsync(new Uri("/api/tag-suggestions/stats", UriKind.Relative), ct));
        Assert.Equal(stats.ToJsonString(), rebuilt.ToJsonString());
        var found = await TestServer.JsonAsync(await alice.GetAsync(new Uri("/api/search?q=red", UriKind.Relative), ct));
        Assert.Equal([red], found["items"]!.AsArray().Select(i => (string?)i!["id"]));
        var queueAfter = await TestServer.JsonAsync(await moderator.GetAsync(new Uri("/api/tag-suggestions/queue", UriKind.Relative), ct));
        Assert.Equal(0, (long)queueAfter["total"]!);

        async Task AssertTagAsync(string id, string tag, string reviewer)
        {
            var detail = await TestServer.JsonAsync(await alice.GetAsync(new Uri($"/api/media/{id}", UriKind.Relative), ct));
            var entry = detail["tags"]!.AsArray().Single(t => (string?)t!["name"] == tag)!;
            Assert.Equal("suggestion", (string?)entry["source"]);
            Assert.Equal("colours@v1", (string?)entry["via"]);
            Assert.Equal(reviewer, (string?)entry["addedBy"]);
            var decided = await TestServer.JsonAsync(await alice.GetAsync(new Uri($"/api/media/{id}/tag-suggestions?status=approved", UriKind.Relative), ct));
            var suggestion = Assert.Single(decided["suggestions"]!.AsArray())!;
            Assert.Equal((tag, reviewer, "colours", "v1"), ((string?)suggestion["tag"], (string?)suggestion["reviewer"], (string?)suggestion["model"], (string?)suggestion["version"]));
            Assert.NotNull(suggestion["reviewedAt"]);
        }

        async Task<string> SuggestionsJsonAsync(string id) =>
            (await TestServer.JsonAsync(await alice.GetAsync(new Uri($"/api/media/{id}/tag-suggestions", UriKind.Relative), ct))).ToJsonString();
    }

    [Fact]
    public async Task A_suggest_job_that_suggests_nothing_says_why_and_what_to_do_in_its_result_and_on_the_jobs_page()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var library = _server.Library;

        // A WD14-like tagger over Danbooru's vocabulary on a library that has none of its tags (default policy: existing).
        var model = OnnxModels.Write(
            Path.Combine(_server.Scratch, "danbooru.onnx"),
            OnnxModels.Tagger(["scarlet", "photo"], [ColourRule.Red, ColourRule.Constant(0.9f)], size: Size));
        var labels = Path.Combine(_server.Scratch, "danbooru_tags.csv");
        await File.WriteAllTextAsync(labels, OnnxModels.SelectedTagsCsv(["scarlet", "photo"]), ct);
        var parameters = new JsonObject { ["vocabulary"] = "danbooru", ["autoSuggest"] = true, ["preprocessing"] = new JsonObject { ["size"] = Size } };
        await new ModelRegistry(library).AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, model, "v3", Labels: labels, Parameters: parameters), ct);

        var alice = _server.As("alice");
        await Uploads.UploadOneAsync(alice, "red.jpg", SolidJpeg("red", 255, 0, 0));
        var jobId = (string)Assert.Single((await TestServer.JsonAsync(await alice.GetAsync(new Uri("/api/jobs?kind=suggest", UriKind.Relative), ct))).AsArray())!["id"]!;
        Assert.Equal(JobStatus.Succeeded, (await JobQueue.Of(library).WhenFinishedAsync(jobId, ct)).Status);

        // The server's own worker ran it, and is present in the state database (so `trove suggest` does not warn).
        Assert.Contains(await JobQueue.Of(library).LiveWorkersAsync(ct), w => w.Runs("suggest"));

        // GET /api/jobs/{id}: the counts, per model and in total, and the hint with the fix.
        var result = (await TestServer.JsonAsync(await alice.GetAsync(new Uri($"/api/jobs/{jobId}", UriKind.Relative), ct)))["result"]!;
        Assert.Equal((0, 2, 2), ((int)result["suggested"]!, (int)result["aboveThreshold"]!, (int)result["droppedByVocabulary"]!));
        var wd14 = Assert.Single(result["byModel"]!.AsArray())!;
        Assert.Equal(("wd14@v3", "existing", "default", 2), ((string?)wd14["model"], (string?)wd14["policy"], (string?)wd14["policyFrom"], (int)wd14["droppedByVocabulary"]!));
        const string Summary = "wd14@v3 on 1 media: 0 suggested; 2 label(s) above threshold: 2 dropped by the vocabulary policy 'existing' (no tag of that name in the library).";
        Assert.Equal(Summary, (string?)result["summary"]);
        var hint = (string?)result["hint"];
        Assert.Contains("trove models set wd14 --vocabulary-policy create", hint, StringComparison.Ordinal);

        // The jobs page shows the same sentence and hint on the job's card.
        var page = WebUtility.HtmlDecode(await PageAsync(await _server.SessionAsync("alice"), "/jobs"));
        var card = page[page.IndexOf($"data-job=\"{jobId}\"", StringComparison.Ordinal)..];
        card = card[..card.IndexOf("</li>", StringComparison.Ordinal)];
        Assert.Contains($"data-testid=\"job-summary\">{Summary}<", card, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"job-hint\"><strong>Hint:</strong> {hint}<", card, StringComparison.Ordinal);
    }

    private byte[] SolidJpeg(string name, params byte[] colour)
    {
        var path = Path.Combine(_server.Scratch, name + ".jpg");
        TestImages.WriteJpeg(path, TestImages.Solid(Size, Size, colour));
        return File.ReadAllBytes(path);
    }

    private static (int Pending, int Approved, int Rejected, int Total) Counts(JsonNode list) =>
        ((int)list["pending"]!, (int)list["approved"]!, (int)list["rejected"]!, (int)list["total"]!);

    private static void AssertCounts(JsonNode counts, long pending, long approved, long rejected)
    {
        Assert.Equal(pending, (long)counts["pending"]!);
        Assert.Equal(approved, (long)counts["approved"]!);
        Assert.Equal(rejected, (long)counts["rejected"]!);
        Assert.Equal(pending + approved + rejected, (long)counts["total"]!);
        Assert.Equal(approved / (double)(approved + rejected), (double)counts["approvalRate"]!, 9);
    }
}
