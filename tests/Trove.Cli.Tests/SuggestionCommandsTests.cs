using Trove.Application;
using Trove.Application.Jobs;
using Trove.Application.Search;
using Trove.Application.Tagging;
using Trove.Index.Sqlite;

namespace Trove.Cli.Tests;

/// <summary>`trove suggestions list`, `trove review` and `trove suggest`: JSON shape, per-item results and exit codes.</summary>
[Collection(InProcessCollection.Name)]
public sealed class SuggestionCommandsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Library => _temp.Combine("library");

    public void Dispose() => _temp.Dispose();

    private static LibraryEnvironment Env() =>
        LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), new TroveOptions { Durability = Trove.Library.Durability.Fast }, actor: "alice");

    // One imported media with pending suggestions cat (0.9) and dog (0.8) from model m@1.
    private async Task<string> MediaWithSuggestionsAsync()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var files = _temp.Combine("files");
        Png.WriteMany(files, 1);
        (await Cli.InAsync(Library, "import", files)).ShouldSucceed();
        await using var library = await TroveLibrary.OpenAsync(Library, Env(), null, CancellationToken.None);
        var id = (await new SearchService(library).SearchAsync(string.Empty, 10, 0, CancellationToken.None)).Ids.Single();
        await new SuggestionService(library).ApplyAsync(id, [new ModelCandidates("m", "1", [new TagCandidate("cat", 0.9), new TagCandidate("dog", 0.8)])], false, CancellationToken.None);
        return id;
    }

    [Fact]
    public async Task Review_reports_each_item_and_exits_1_when_one_failed()
    {
        var id = await MediaWithSuggestionsAsync();

        var listed = (await Cli.InAsync(Library, "suggestions", "list", id, "--status", "pending", "--json")).ShouldSucceed().Json;
        Assert.Equal(2, listed.GetProperty("pending").GetInt32());
        var first = listed.GetProperty("suggestions")[0];
        Assert.Equal("cat", first.GetProperty("tag").GetString());
        Assert.Equal("m", first.GetProperty("model").GetString());
        Assert.Equal("1", first.GetProperty("version").GetString());

        var ok = (await Cli.InAsync(Library, "review", id[..12], "--approve", "cat", "--reject", "dog", "--json")).ShouldSucceed().Json;
        Assert.Equal(1, ok.GetProperty("approved").GetInt32());
        Assert.Equal(1, ok.GetProperty("rejected").GetInt32());
        Assert.All(ok.GetProperty("items").EnumerateArray(), i => Assert.True(i.GetProperty("ok").GetBoolean()));
        Assert.Contains("cat", ok.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        var rejected = (await Cli.InAsync(Library, "suggestions", "list", id, "--status", "rejected", "--json")).ShouldSucceed().Json;
        Assert.Equal("dog", rejected.GetProperty("suggestions")[0].GetProperty("tag").GetString());

        var partly = await Cli.InAsync(Library, "review", id, "--approve", "bird", "--json");
        Assert.Equal(1, partly.ExitCode);
        var item = partly.Json.GetProperty("items")[0];
        Assert.False(item.GetProperty("ok").GetBoolean());
        Assert.Equal("bird", item.GetProperty("tag").GetString());
        Assert.False(string.IsNullOrEmpty(item.GetProperty("code").GetString()));

        Assert.Equal(2, (await Cli.InAsync(Library, "review", id, "--json")).ExitCode);
        Assert.Equal(2, (await Cli.InAsync(Library, "suggestions", "list", id, "--status", "maybe", "--json")).ExitCode);
    }

    // A fresh library with two images and the generated Danbooru-vocabulary tagger "wd14" (default vocabulary policy).
    private async Task LibraryWithTaggerAsync()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var files = _temp.Combine("files");
        Png.WriteMany(files, 2);
        (await Cli.InAsync(Library, "import", files)).ShouldSucceed();
        var (model, labels) = GeneratedTagger.Write(Library);
        (await Cli.InAsync(Library, "models", "add", "wd14", "--kind", "tagger", "--file", model, "--labels", labels, "--version", "v3", "--parameters", GeneratedTagger.Parameters())).ShouldSucceed();
    }

    [Fact]
    public async Task Suggest_now_on_a_fresh_library_says_the_vocabulary_policy_dropped_every_label_and_how_to_fix_it()
    {
        await LibraryWithTaggerAsync();

        var json = (await Cli.InAsync(Library, "suggest", "", "--now", "--json")).ShouldSucceed().Json;
        Assert.Equal((0, 2, 2), (json.GetProperty("suggested").GetInt32(), json.GetProperty("aboveThreshold").GetInt32(), json.GetProperty("droppedByVocabulary").GetInt32()));
        Assert.Equal(0, json.GetProperty("alreadyOnMedia").GetInt32() + json.GetProperty("rejectedBefore").GetInt32() + json.GetProperty("alreadyPending").GetInt32());
        var wd14 = Assert.Single(json.GetProperty("byModel").EnumerateArray());
        Assert.Equal(("wd14@v3", "existing", "default", 2), (wd14.GetProperty("model").GetString(), wd14.GetProperty("policy").GetString(), wd14.GetProperty("policyFrom").GetString(), wd14.GetProperty("droppedByVocabulary").GetInt32()));
        Assert.Contains("trove models set wd14 --vocabulary-policy create", wd14.GetProperty("hint").GetString(), StringComparison.Ordinal);
        Assert.Equal(wd14.GetProperty("hint").GetString(), json.GetProperty("hint").GetString());

        var text = (await Cli.InAsync(Library, "suggest", "", "--now")).ShouldSucceed().Stdout;
        Assert.Contains("2 media with wd14@v3: 0 suggested", text, StringComparison.Ordinal);
        Assert.Contains("wd14@v3 on 2 media: 0 suggested; 2 label(s) above threshold: 2 dropped by the vocabulary policy 'existing' (no tag of that name in the library).", text, StringComparison.Ordinal);
        Assert.Contains("hint: wd14@v3 has the vocabulary policy 'existing' (the default)", text, StringComparison.Ordinal);

        // The fix it names works: the labels are suggested now.
        (await Cli.InAsync(Library, "models", "set", "wd14", "--vocabulary-policy", "create")).ShouldSucceed();
        var after = (await Cli.InAsync(Library, "suggest", "", "--now", "--json")).ShouldSucceed().Json;
        Assert.Equal((2, 0), (after.GetProperty("suggested").GetInt32(), after.GetProperty("droppedByVocabulary").GetInt32()));
        Assert.False(after.TryGetProperty("hint", out _));
    }

    [Fact]
    public async Task Suggest_without_now_warns_when_no_worker_would_run_the_jobs_and_names_the_worker_that_will()
    {
        await LibraryWithTaggerAsync();

        // Nobody runs jobs: a warning on stderr and in the JSON, naming both ways out.
        var alone = (await Cli.InAsync(Library, "suggest", "", "--json")).ShouldSucceed();
        Assert.Contains("warning: No worker is running for this library", alone.Stderr, StringComparison.Ordinal);
        var warning = alone.Json.GetProperty("warning").GetString();
        Assert.Contains("trove worker", warning, StringComparison.Ordinal);
        Assert.Contains("--now", warning, StringComparison.Ordinal);
        Assert.Empty(alone.Json.GetProperty("workers").EnumerateArray());
        Assert.Single(alone.Json.GetProperty("jobs").EnumerateArray());

        // A worker that runs only exports is no help either.
        await HeartbeatAsync("host:1:export", ["export"]);
        var exportsOnly = (await Cli.InAsync(Library, "suggest", "")).ShouldSucceed();
        Assert.Contains("warning: No worker is running", exportsOnly.Stderr, StringComparison.Ordinal);
        Assert.Contains("They run once a worker", exportsOnly.Stdout, StringComparison.Ordinal);

        // A live worker for suggest jobs (its heartbeat is in the state database): no warning, and it is named.
        await HeartbeatAsync("host:2:suggest", ["export", "suggest"]);
        var served = (await Cli.InAsync(Library, "suggest", "", "--json")).ShouldSucceed();
        Assert.DoesNotContain("warning", served.Stderr, StringComparison.Ordinal);
        Assert.False(served.Json.TryGetProperty("warning", out _));
        Assert.Equal(["host:2:suggest"], served.Json.GetProperty("workers").EnumerateArray().Select(w => w.GetString()));
        var text = (await Cli.InAsync(Library, "suggest", "")).ShouldSucceed();
        Assert.Contains("Worker host:2:suggest will run them.", text.Stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, text.Stderr);
    }

    // What a running worker records every 20 s: present until a minute from now.
    private async Task HeartbeatAsync(string worker, string[] kinds)
    {
        await using var library = await TroveLibrary.OpenAsync(Library, Env(), null, CancellationToken.None);
        var now = library.Time.GetUtcNow();
        await JobQueue.Of(library).Store.BeatAsync(new WorkerPresence(worker, kinds, now, now, now + TimeSpan.FromMinutes(1)), CancellationToken.None);
    }

    [Fact]
    public async Task Suggest_without_a_tagger_says_so_and_queues_nothing()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var run = await Cli.InAsync(Library, "suggest", "", "--json");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("No tagger is active", run.Stderr, StringComparison.Ordinal);
        await using var library = await TroveLibrary.OpenAsync(Library, Env(), null, CancellationToken.None);
        Assert.Empty(await JobQueue.Of(library).Store.ListAsync(SuggestionJobs.Kind, null, 10, CancellationToken.None));
    }
}
