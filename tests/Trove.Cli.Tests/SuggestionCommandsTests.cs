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
