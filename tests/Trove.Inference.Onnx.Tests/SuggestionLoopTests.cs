using System.Text.Json;
using System.Text.Json.Nodes;
using Trove.Application;
using Trove.Application.Jobs;
using Trove.Application.Models;
using Trove.Application.Search;
using Trove.Application.Tagging;
using Trove.Domain;
using Trove.Domain.Models;
using Trove.Imaging.Vips;
using Trove.Index.Sqlite;
using Trove.Library;
using Trove.Testing;

namespace Trove.Inference.Onnx.Tests;

/// <summary>
/// The whole suggestion loop through the real ONNX Runtime and libvips: a colour tagger is registered, JPEGs are
/// imported (which queues a deferred suggest job), the job's handler runs the model, people review, and decisions hold.
/// </summary>
public sealed class SuggestionLoopTests : IAsyncLifetime
{
    private const int Size = 64;
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly string[] Labels = ["red", "green", "blue"];
    private static readonly Lazy<Trove.Application.Ports.IImageEngine> Vips = new(() => VipsImageEngine.Create(new VipsOptions()));
    private readonly TempFolder _folder = new();
    private TroveLibrary _library = null!;

    private static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        var env = LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), new TroveOptions { Durability = Durability.Fast })
            with { Inference = Ort.Engine, Imaging = Vips.Value };
        var path = Path.Combine(_folder.Path, "library");
        TroveLibrary.Init(path, env);
        _library = await TroveLibrary.OpenAsync(path, env, null, Ct);

        // The colour tagger is a custom model over the library's own tags: it only suggests tags the library knows.
        foreach (var label in Labels)
        {
            await new TagService(_library).DescribeAsync(label, "A colour", Ct);
        }
    }

    public async Task DisposeAsync()
    {
        await _library.DisposeAsync();
        _folder.Dispose();
    }

    private async Task RegisterColourTaggerAsync(string id = "colours", string version = "v1", bool autoSuggest = true)
    {
        var model = _folder.Write($"{id}-{version}.onnx", OnnxModels.Tagger(Labels, [ColourRule.Red, ColourRule.Green, ColourRule.Blue], size: Size));
        var labels = Path.Combine(_folder.Path, "tags.csv");
        await File.WriteAllTextAsync(labels, OnnxModels.SelectedTagsCsv(Labels));
        var parameters = new JsonObject { ["autoSuggest"] = autoSuggest, ["preprocessing"] = new JsonObject { ["size"] = Size } };
        await new ModelRegistry(_library).AddAsync(new ModelAddRequest(id, ModelKinds.Tagger, model, version, Labels: labels, Parameters: parameters), Ct);
    }

    private async Task<string> ImportSolidAsync(string name, params byte[] colour)
    {
        var file = Path.Combine(_folder.Path, name + ".jpg");
        TestImages.WriteJpeg(file, TestImages.Solid(Size, Size, colour));
        var report = await new MediaService(_library).ImportAsync([file], new ImportOptions([], null, DryRun: false), null, Ct);
        Assert.Equal(1, report.Imported);
        return report.Media[0];
    }

    private Task<IReadOnlyList<JobRecord>> SuggestJobsAsync() => JobQueue.Of(_library).Store.ListAsync(SuggestionJobs.Kind, null, 100, Ct);

    private async Task<SuggestJobResult> RunHandlerAsync(JobRecord job)
    {
        var handler = JobCatalog.Handlers(_library, [SuggestionJobs.Kind]).Single();
        var result = await handler.RunAsync(new JobContext(job, new Progress<ProgressInfo>(), Ct));
        return Assert.IsType<SuggestJobResult>(result);
    }

    [Fact]
    public async Task Imported_images_get_model_suggestions_that_review_turns_into_tags_and_rejections_hold()
    {
        await RegisterColourTaggerAsync();
        var red = await ImportSolidAsync("red", 255, 0, 0);
        var blue = await ImportSolidAsync("blue", 0, 0, 255);

        // Each import queued one deferred job; run them through the catalog's handler.
        var jobs = await SuggestJobsAsync();
        Assert.Equal(2, jobs.Count);
        foreach (var job in jobs)
        {
            var result = await RunHandlerAsync(job);
            Assert.Equal(["colours@v1"], result.Models);
            Assert.Empty(result.Failed);
        }

        var suggestions = new SuggestionService(_library);
        var onRed = await suggestions.ListAsync(red, SuggestionStatus.Pending, Ct);
        var s = Assert.Single(onRed.Suggestions);
        Assert.Equal("red", s.Tag);
        Assert.Equal("colours", s.Model);
        Assert.Equal("v1", s.ModelVersion);
        Assert.True(s.Confidence > 0.6);
        var onBlue = await suggestions.ListAsync(blue, SuggestionStatus.Pending, Ct);
        Assert.Equal("blue", Assert.Single(onBlue.Suggestions).Tag);
        var found = await new SearchService(_library).SearchAsync("suggested:red", 10, 0, Ct);
        Assert.Equal([red], found.Ids);

        // Approve red on the red image: a tag with its provenance, kept by a rebuild.
        var review = await suggestions.ReviewAsync(red, ["red"], [], Ct);
        Assert.Equal(1, review.Approved);
        var tag = Assert.Single(_library.Files.ReadSidecar(red).Sidecar.Tags, t => t.Name == "red");
        Assert.Equal(TagSources.Suggestion, tag.Source);
        Assert.Equal("colours@v1", tag.Via);
        await RebuildService.RebuildAsync(_library, null, Ct);
        Assert.Equal([red], (await new SearchService(_library).SearchAsync("red", 10, 0, Ct)).Ids);
        tag = Assert.Single(_library.Files.ReadSidecar(red).Sidecar.Tags, t => t.Name == "red");
        Assert.Equal("colours@v1", tag.Via);

        // Reject blue on the blue image: a second run leaves it rejected; --force suggests it again.
        Assert.Equal(1, (await suggestions.ReviewAsync(blue, [], ["blue"], Ct)).Rejected);
        using (var runner = new TaggerRunner(_library))
        {
            var again = await runner.RunAsync([red, blue], force: false, null, Ct);
            Assert.Equal(0, again.Added);
            Assert.Empty((await suggestions.ListAsync(blue, SuggestionStatus.Pending, Ct)).Suggestions);
            Assert.Empty((await suggestions.ListAsync(red, SuggestionStatus.Pending, Ct)).Suggestions);

            var forced = await runner.RunAsync([blue], force: true, null, Ct);
            Assert.Equal(1, forced.Added + forced.Updated);
        }

        Assert.Equal("blue", Assert.Single((await suggestions.ListAsync(blue, SuggestionStatus.Pending, Ct)).Suggestions).Tag);
    }

    [Fact]
    public async Task A_danbooru_tagger_on_a_fresh_library_says_its_labels_were_dropped_by_the_vocabulary_policy_and_how_to_fix_it()
    {
        // WD14-like: Danbooru labels, none of which this library has as tags; the default policy is "existing".
        string[] labels = ["scarlet", "photo", "outdoors"];
        var file = _folder.Write("danbooru.onnx", OnnxModels.Tagger(labels, [ColourRule.Red, ColourRule.Constant(0.9f), ColourRule.Constant(0.1f)], size: Size));
        var labelFile = Path.Combine(_folder.Path, "selected_tags.csv");
        await File.WriteAllTextAsync(labelFile, OnnxModels.SelectedTagsCsv(labels));
        var parameters = new JsonObject { ["vocabulary"] = "danbooru", ["autoSuggest"] = true, ["preprocessing"] = new JsonObject { ["size"] = Size } };
        var registry = new ModelRegistry(_library);
        await registry.AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, file, "v3", Labels: labelFile, Parameters: parameters), Ct);
        var red = await ImportSolidAsync("red", 255, 0, 0);
        var second = await ImportSolidAsync("second-red", 200, 0, 0);

        // The queued jobs' results: scarlet and photo reached their thresholds on both images, and the policy dropped all four.
        var jobs = await SuggestJobsAsync();
        Assert.Equal(2, jobs.Count);
        var payload = new SuggestPayload([red, second], false);
        var result = await RunHandlerAsync(jobs[0] with { Parameters = JsonSerializer.Serialize(payload, Web) });
        Assert.Equal((2, 0, 4, 4), (result.Media, result.Suggested, result.AboveThreshold, result.DroppedByVocabulary));
        Assert.Equal(0, result.AlreadyOnMedia + result.AlreadyPending + result.RejectedBefore + result.RemovedBefore + result.IgnoredByMapping + result.InvalidName + result.AlreadyProposed);
        var wd14 = Assert.Single(result.ByModel);
        Assert.Equal(("wd14@v3", "existing", VocabularyPolicy.FromDefault, "danbooru", 2), (wd14.Model, wd14.Policy, wd14.PolicyFrom, wd14.Vocabulary, wd14.Media));
        Assert.Equal((4, 4, 0), (wd14.AboveThreshold, wd14.DroppedByVocabulary, wd14.Suggested));
        Assert.Contains("'existing' (the default)", wd14.Hint, StringComparison.Ordinal);
        Assert.Contains("trove models set wd14 --vocabulary-policy create", wd14.Hint, StringComparison.Ordinal);
        Assert.Equal(wd14.Hint, result.Hint);
        Assert.Equal("wd14@v3 on 2 media: 0 suggested; 4 label(s) above threshold: 4 dropped by the vocabulary policy 'existing' (no tag of that name in the library).", result.Summary);

        // The same summary in the job's stored result (GET /api/jobs/{id} shows it).
        var json = JsonSerializer.Serialize(result, result.GetType(), Web);
        using (var doc = JsonDocument.Parse(json))
        {
            Assert.Equal(4, doc.RootElement.GetProperty("droppedByVocabulary").GetInt32());
            Assert.Equal(4, doc.RootElement.GetProperty("aboveThreshold").GetInt32());
            Assert.Equal("existing", doc.RootElement.GetProperty("byModel")[0].GetProperty("policy").GetString());
            Assert.Contains("--vocabulary-policy create", doc.RootElement.GetProperty("hint").GetString(), StringComparison.Ordinal);
        }

        // The fix the hint names: policy create. Now every label above threshold is suggested, under its own name.
        await registry.SetVocabularyPolicyAsync("wd14", UnmappedPolicy.Create, Ct);
        Assert.Equal("create", (string?)(await registry.GetAsync("wd14", Ct)).Parameters!["unmapped"]);
        Assert.Equal("danbooru", (string?)(await registry.GetAsync("wd14", Ct)).Parameters!["vocabulary"]);
        using var runner = new TaggerRunner(_library);
        var fixedRun = await runner.RunAsync([red, second], force: false, null, Ct);
        var after = Assert.Single(fixedRun.Summary.ByModel);
        Assert.Equal(("create", VocabularyPolicy.FromParameters, 4, 4, 0), (after.Policy, after.PolicyFrom, after.AboveThreshold, after.Suggested, after.DroppedByVocabulary));
        Assert.Null(fixedRun.Summary.Hint);
        Assert.Equal(["photo", "scarlet"], (await new SuggestionService(_library).ListAsync(red, SuggestionStatus.Pending, Ct)).Suggestions.Select(x => x.Tag).Order());

        // Once more: nothing new, and the summary says why (already pending), with no policy to blame.
        var again = Assert.Single((await runner.RunAsync([red, second], force: false, null, Ct)).Summary.ByModel);
        Assert.Equal((4, 0, 4, 0), (again.AboveThreshold, again.Suggested, again.AlreadyPending, again.DroppedByVocabulary));
        Assert.Contains("already waiting for review", again.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_of_images_in_one_run_gives_the_same_suggestions_as_single_runs()
    {
        await RegisterColourTaggerAsync(autoSuggest: false);
        byte[][] colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [250, 10, 10], [10, 10, 240]];
        var ids = new List<string>();
        for (var i = 0; i < colours.Length; i++)
        {
            ids.Add(await ImportSolidAsync("c" + i, colours[i]));
        }

        using var runner = new TaggerRunner(_library);
        var single = new Dictionary<string, IReadOnlyList<SuggestionChange>>();
        foreach (var id in ids)
        {
            var one = await runner.RunAsync([id], force: true, null, Ct);
            single[id] = Assert.Single(one.Media).Changes;
        }

        Assert.True(_library.Options.Suggestions.BatchSize >= colours.Length);
        var batch = await runner.RunAsync(ids, force: true, null, Ct);
        Assert.Equal(ids, batch.Media.Select(m => m.Id));
        foreach (var m in batch.Media)
        {
            var expected = single[m.Id].Select(c => (c.Tag, Math.Round(c.Confidence, 3))).ToList();
            Assert.Equal(expected, m.Changes.Select(c => (c.Tag, Math.Round(c.Confidence, 3))));
            Assert.NotEmpty(expected);
        }
    }

    [Fact]
    public async Task Import_queues_a_deferred_suggest_job_only_when_an_active_tagger_suggests_automatically()
    {
        // No tagger: nothing queued.
        await ImportSolidAsync("first", 255, 0, 0);
        Assert.Empty(await SuggestJobsAsync());

        // A tagger with autoSuggest off: nothing queued.
        await RegisterColourTaggerAsync(autoSuggest: false);
        await ImportSolidAsync("second", 0, 255, 0);
        Assert.Empty(await SuggestJobsAsync());

        // Another tagger with autoSuggest on: one job, deferred by the setting, naming the new media.
        await RegisterColourTaggerAsync("colours-auto", autoSuggest: true);
        var id = await ImportSolidAsync("third", 0, 0, 255);
        var job = Assert.Single(await SuggestJobsAsync());
        Assert.Equal(JobStatus.Queued, job.Status);
        Assert.Equal(_library.Options.Suggestions.AutoSuggestDelay, job.AvailableAt - job.CreatedAt);
        Assert.Equal(TimeSpan.FromSeconds(30), _library.Options.Suggestions.AutoSuggestDelay);
        var payload = JsonSerializer.Deserialize<SuggestPayload>(job.Payload, Web)!;
        Assert.Equal([id], payload.Ids);
        Assert.False(payload.Force);

        // Both taggers run in priority order; the job reports both.
        var result = await RunHandlerAsync(job);
        Assert.Equal(["colours@v1", "colours-auto@v1"], result.Models);
        Assert.Equal("blue", Assert.Single((await new SuggestionService(_library).ListAsync(id, null, Ct)).Suggestions).Tag);
    }

    [Fact]
    public async Task Activating_another_version_is_picked_up_by_a_running_runner()
    {
        await RegisterColourTaggerAsync(autoSuggest: false);
        var red = await ImportSolidAsync("red", 255, 0, 0);
        using var runner = new TaggerRunner(_library);
        Assert.Equal(["colours@v1"], (await runner.RunAsync([red], false, null, Ct)).Models);

        await RegisterColourTaggerAsync(version: "v2", autoSuggest: false);
        var second = await runner.RunAsync([red], force: true, null, Ct);
        Assert.Equal(["colours@v2"], second.Models);
        Assert.Equal("v2", Assert.Single((await new SuggestionService(_library).ListAsync(red, null, Ct)).Suggestions).ModelVersion);
    }

    [Fact]
    public async Task Without_onnx_runtime_a_run_says_what_to_install()
    {
        await RegisterColourTaggerAsync(autoSuggest: false);
        var red = await ImportSolidAsync("red", 255, 0, 0);
        var env = _library.Environment with { Inference = new Trove.Application.Inference.UnavailableInferenceEngine("ONNX Runtime is not installed.") };
        await _library.DisposeAsync();
        _library = await TroveLibrary.OpenAsync(_library.Layout.Root, env, null, Ct);
        using var runner = new TaggerRunner(_library);
        var ex = await Assert.ThrowsAsync<TroveException>(() => runner.RunAsync([red], false, null, Ct));
        Assert.Equal("inference-unavailable", ex.Code);
        Assert.Contains("ONNX Runtime is not installed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_image_fails_only_its_media_and_the_batch_goes_on()
    {
        await RegisterColourTaggerAsync(autoSuggest: false);
        var red = await ImportSolidAsync("red", 255, 0, 0);
        var broken = await ImportSolidAsync("blue", 0, 0, 255);
        var original = _library.Layout.OriginalPath(broken, _library.Files.ReadSidecar(broken).Sidecar.Original.Ext);
        await File.WriteAllTextAsync(original, "not an image any more");

        using var runner = new TaggerRunner(_library);
        var result = await runner.RunAsync([red, broken], force: false, null, Ct);
        Assert.Equal([red], result.Media.Select(m => m.Id));
        Assert.Equal(1, result.Added);
        var failure = Assert.Single(result.Failed);
        Assert.Equal(broken, failure.Id);
        Assert.StartsWith("image-", failure.Code, StringComparison.Ordinal);
        Assert.Contains(broken, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_batches_decoded_in_parallel_come_out_in_order_with_an_unreadable_image_left_out()
    {
        await RegisterColourTaggerAsync(autoSuggest: false);
        byte[][] colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 240, 10], [250, 10, 10], [10, 10, 240], [240, 0, 0]];
        string[] expectedTop = ["red", "green", "blue", "green", "red", "blue", "red"];
        var ids = new List<string>();
        for (var i = 0; i < colours.Length; i++)
        {
            ids.Add(await ImportSolidAsync("p" + i, colours[i]));
        }

        // The first image of the second batch is unreadable: the good one after it must move into its tensor slot.
        var broken = ids[2];
        await File.WriteAllTextAsync(_library.Layout.OriginalPath(broken, _library.Files.ReadSidecar(broken).Sidecar.Original.Ext), "no longer a JPEG");
        _library.Options.Suggestions.BatchSize = 2;
        _library.Options.Suggestions.DecodeThreads = 2;
        var reports = new List<ProgressInfo>();
        using var runner = new TaggerRunner(_library);
        var result = await runner.RunAsync(ids, force: false, new InlineProgress(reports.Add), Ct);

        Assert.Equal(ids.Where(id => id != broken), result.Media.Select(m => m.Id));
        Assert.Equal(broken, Assert.Single(result.Failed).Id);
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] == broken)
            {
                continue;
            }

            var best = result.Media.Single(m => m.Id == ids[i]).Changes.MaxBy(c => c.Confidence)!;
            Assert.Equal(expectedTop[i], best.Tag);
        }

        // Progress counts every media asked for, batch by batch, up to the total.
        Assert.Equal([0, 2, 4, 6, 7], reports.Select(r => r.Done));
        Assert.All(reports, r => Assert.Equal(ids.Count, r.Total));
    }

    [Fact]
    public async Task A_model_that_fails_stops_the_whole_pipeline_with_its_own_error()
    {
        await RegisterColourTaggerAsync(autoSuggest: false);
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await ImportSolidAsync("f" + i, 255, (byte)(10 * i), 0));
        }

        // The label file loses a label after registration: the model's 3 scores no longer fit, found at the first run.
        await File.WriteAllTextAsync(Path.Combine(_folder.Path, "tags.csv"), OnnxModels.SelectedTagsCsv(["red", "green"]));
        _library.Options.Suggestions.BatchSize = 1;
        using var runner = new TaggerRunner(_library);
        var ex = await Assert.ThrowsAsync<TroveException>(() => runner.RunAsync(ids, force: false, null, Ct));
        Assert.Equal("labels-mismatch", ex.Code);
        Assert.Contains("3 scores", ex.Message, StringComparison.Ordinal);
        Assert.All(ids, id => Assert.Empty(_library.Files.ReadSidecar(id).Sidecar.Suggestions));
    }

    [Fact]
    public async Task Cancelling_stops_after_the_batches_already_stored()
    {
        await RegisterColourTaggerAsync(autoSuggest: false);
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await ImportSolidAsync("x" + i, (byte)(10 * i), 0, 255));
        }

        _library.Options.Suggestions.BatchSize = 1;
        using var cancel = new CancellationTokenSource();
        using var runner = new TaggerRunner(_library);
        // Cancelled as soon as the first batch is stored.
        var progress = new InlineProgress(p =>
        {
            if (p.Done == 1)
            {
                cancel.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(ids, force: false, progress, cancel.Token));

        var tagged = ids.Count(id => _library.Files.ReadSidecar(id).Sidecar.Suggestions.Count > 0);
        Assert.InRange(tagged, 1, ids.Count - 1);
        Assert.True(_library.Files.ReadSidecar(ids[0]).Sidecar.Suggestions.Count > 0);

        // The runner is free again and finishes the rest.
        var rest = await runner.RunAsync(ids, force: false, null, Ct);
        Assert.All(ids, id => Assert.NotEmpty(_library.Files.ReadSidecar(id).Sidecar.Suggestions));
        Assert.Equal(ids.Count - tagged, rest.Media.Count(m => m.Written));
    }

    /// <summary>Reports synchronously on the reporting thread (<see cref="Progress{T}"/> posts them later).</summary>
    private sealed class InlineProgress(Action<ProgressInfo> report) : IProgress<ProgressInfo>
    {
        private readonly Lock _lock = new();

        public void Report(ProgressInfo value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}
