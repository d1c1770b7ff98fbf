using System.Text.Json;

namespace Trove.Cli.Tests;

/// <summary>The command-line contract of BRIEF.md, run in-process: JSON shapes, exit codes, id prefixes, errors.</summary>
[Collection(InProcessCollection.Name)]
public sealed class CliContractTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Library => _temp.Combine("library");

    public void Dispose() => _temp.Dispose();

    /// <summary>init + import of <paramref name="count"/> distinct PNGs; returns their ids in import (file name) order.</summary>
    private async Task<IReadOnlyList<string>> NewLibraryAsync(int count)
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var files = _temp.Combine("files");
        Png.WriteMany(files, count);
        var import = (await Cli.InAsync(Library, "import", files, "--json")).ShouldSucceed().Json;
        Assert.Equal(count, import.GetProperty("imported").GetInt32());
        return import.GetProperty("media").Strings();
    }

    [Fact]
    public async Task Init_json_reports_the_library()
    {
        var init = (await Cli.InAsync(Library, "init", "--json")).ShouldSucceed().Json;
        Assert.Equal(Path.GetFullPath(Library), init.GetProperty("library").GetString());
        Assert.False(string.IsNullOrEmpty(init.GetProperty("id").GetString()));
        Assert.True(File.Exists(Path.Combine(Library, "trove.json")));

        var again = await Cli.InAsync(Library, "init", "--json");
        again.ShouldExit(1);
        Assert.Equal("already-a-library", again.ErrorCode());
    }

    [Fact]
    public async Task Import_json_reports_imported_duplicates_failed_and_media()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var files = _temp.Combine("files");
        Png.WriteMany(files, 3);
        File.WriteAllBytes(Path.Combine(files, "copy-of-first.png"), Png.Create(0));
        File.WriteAllText(Path.Combine(files, "not-really.png"), "hello, I am text");
        File.WriteAllBytes(Path.Combine(files, "empty.png"), []);
        File.WriteAllText(Path.Combine(files, "sidecar.txt"), "metadata files are skipped");

        var run = (await Cli.InAsync(Library, "import", files, "--json")).ShouldSucceed();
        var json = run.Json;
        Assert.Equal(JsonValueKind.Object, json.ValueKind);
        Assert.Equal(3, json.GetProperty("imported").GetInt32());
        Assert.Equal(1, json.GetProperty("duplicates").GetInt32());
        var failed = json.GetProperty("failed").EnumerateArray().ToList();
        Assert.Equal(2, failed.Count);
        Assert.All(failed, f =>
        {
            Assert.False(string.IsNullOrEmpty(f.GetProperty("path").GetString()));
            Assert.False(string.IsNullOrEmpty(f.GetProperty("error").GetString()));
        });
        Assert.Contains(failed, f => f.GetProperty("path").GetString()!.EndsWith("not-really.png", StringComparison.Ordinal) && f.GetProperty("error").GetString()!.Contains("text", StringComparison.Ordinal));
        Assert.Contains(failed, f => f.GetProperty("path").GetString()!.EndsWith("empty.png", StringComparison.Ordinal));

        var media = json.GetProperty("media").Strings();
        Assert.Equal(4, media.Count); // 3 new + the duplicate, which names the existing media
        Assert.All(media, id => Assert.Matches("^[0-9a-f]{64}$", id));
        Assert.Equal(3, media.Distinct().Count());

        // Re-running an import is a no-op.
        var rerun = (await Cli.InAsync(Library, "import", files, "--json")).ShouldSucceed().Json;
        Assert.Equal(0, rerun.GetProperty("imported").GetInt32());
        Assert.Equal(4, rerun.GetProperty("duplicates").GetInt32());

        var total = (await Cli.InAsync(Library, "search", "", "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64();
        Assert.Equal(3, total);
    }

    [Fact]
    public async Task Import_of_nothing_importable_fails_with_exit_1_and_still_one_json_document()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var run = await Cli.InAsync(Library, "import", _temp.Combine("does-not-exist"), "--json");
        run.ShouldExit(1);
        var failed = run.Json.GetProperty("failed").EnumerateArray().Single();
        Assert.Equal("no such file or folder", failed.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Import_with_tags_and_collection_and_dry_run()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var files = _temp.Combine("files");
        Png.WriteMany(files, 2);

        var dry = (await Cli.InAsync(Library, "import", files, "--dry-run", "--json")).ShouldSucceed().Json;
        Assert.Equal(2, dry.GetProperty("imported").GetInt32());
        Assert.True(dry.GetProperty("dryRun").GetBoolean());
        Assert.Equal(0, (await Cli.InAsync(Library, "search", "", "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64());

        var json = (await Cli.InAsync(Library, "import", files, "--tags", "Blue Sky,cloud", "--collection", "Holiday", "--json")).ShouldSucceed().Json;
        var ids = json.GetProperty("media").Strings();
        var found = (await Cli.InAsync(Library, "search", "blue_sky cloud", "--json")).ShouldSucceed().Json;
        Assert.Equal(2, found.GetProperty("total").GetInt64());
        var members = (await Cli.InAsync(Library, "collection", "show", "Holiday", "--json")).ShouldSucceed().Json.GetProperty("members").Strings();
        Assert.Equal(ids, members);
    }

    [Fact]
    public async Task Show_json_describes_the_media()
    {
        var ids = await NewLibraryAsync(2);
        var show = (await Cli.InAsync(Library, "show", ids[0], "--json")).ShouldSucceed().Json;
        Assert.Equal(ids[0], show.GetProperty("media").GetProperty("id").GetString());
        Assert.Equal("library", show.GetProperty("location").GetString());
        Assert.Equal("image/png", show.GetProperty("media").GetProperty("original").GetProperty("mediaType").GetString());
        var path = show.GetProperty("path").GetString()!;
        Assert.True(File.Exists(Path.Combine(Library, path)), $"show's path {path} does not exist");
    }

    [Fact]
    public async Task Tag_add_and_remove()
    {
        var ids = await NewLibraryAsync(2);
        var added = (await Cli.InAsync(Library, "tag", "add", ids[0], "Long Hair", "smile", "--json")).ShouldSucceed().Json;
        Assert.Equal(ids[0], added.GetProperty("id").GetString());
        Assert.Equal(["long_hair", "smile"], added.GetProperty("added").Strings().Order(StringComparer.Ordinal));
        Assert.Equal(["long_hair", "smile"], TagsOf((await Cli.InAsync(Library, "show", ids[0], "--json")).ShouldSucceed().Json));

        var removed = (await Cli.InAsync(Library, "tag", "remove", ids[0], "smile", "--json")).ShouldSucceed().Json;
        Assert.Equal(["smile"], removed.GetProperty("removed").Strings());
        Assert.Equal(["long_hair"], removed.GetProperty("tags").Strings());
        Assert.Equal(["long_hair"], TagsOf((await Cli.InAsync(Library, "show", ids[0], "--json")).ShouldSucceed().Json));

        Assert.Equal([ids[0]], (await Cli.InAsync(Library, "search", "long_hair", "--json")).ShouldSucceed().Json.Ids());
        Assert.Equal([ids[1]], (await Cli.InAsync(Library, "search", "-long_hair", "--json")).ShouldSucceed().Json.Ids());
        Assert.Empty((await Cli.InAsync(Library, "search", "smile", "--json")).ShouldSucceed().Json.Ids());
    }

    [Fact]
    public async Task Tags_list_after_alias_imply_and_category()
    {
        var ids = await NewLibraryAsync(3);
        (await Cli.InAsync(Library, "tag", "add", ids[0], "puppy")).ShouldSucceed();
        (await Cli.InAsync(Library, "tag", "add", ids[1], "kitten")).ShouldSucceed();

        var alias = (await Cli.InAsync(Library, "tags", "alias", "puppy", "dog", "--json")).ShouldSucceed().Json;
        Assert.Equal(1, alias.GetProperty("mediaUpdated").GetInt32());
        var imply = (await Cli.InAsync(Library, "tags", "imply", "kitten", "cat", "--json")).ShouldSucceed().Json;
        Assert.Equal(1, imply.GetProperty("mediaUpdated").GetInt32());
        (await Cli.InAsync(Library, "tags", "category", "cat", "species", "--create", "--json")).ShouldSucceed();
        (await Cli.InAsync(Library, "tags", "alias", "kitty", "cat")).ShouldSucceed();
        (await Cli.InAsync(Library, "tag", "add", ids[2], "kitty")).ShouldSucceed(); // resolves to cat

        var list = (await Cli.InAsync(Library, "tags", "list", "--json")).ShouldSucceed().Json;
        var tags = list.GetProperty("tags").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t);
        Assert.False(tags.ContainsKey("puppy"));
        Assert.False(tags.ContainsKey("kitty"));
        Assert.Equal(1, tags["dog"].GetProperty("count").GetInt64());
        Assert.Equal(1, tags["kitten"].GetProperty("count").GetInt64());
        Assert.Equal(2, tags["cat"].GetProperty("count").GetInt64());
        Assert.Equal("species", tags["cat"].GetProperty("category").GetString());
        Assert.Contains("species", list.GetProperty("categories").Strings());
        var aliases = list.GetProperty("aliases").EnumerateArray().Select(a => (a.GetProperty("from").GetString(), a.GetProperty("to").GetString())).ToList();
        Assert.Contains(("puppy", "dog"), aliases);
        Assert.Contains(("kitty", "cat"), aliases);
        var implications = list.GetProperty("implications").EnumerateArray().Select(a => (a.GetProperty("child").GetString(), a.GetProperty("parent").GetString())).ToList();
        Assert.Equal([("kitten", "cat")], implications);

        Assert.Equal([ids[0]], (await Cli.InAsync(Library, "search", "puppy", "--json")).ShouldSucceed().Json.Ids());
        Assert.Equal(2, (await Cli.InAsync(Library, "search", "kitty", "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64());

        var show = (await Cli.InAsync(Library, "show", ids[1], "--json")).ShouldSucceed().Json;
        Assert.Equal(["cat", "kitten"], TagsOf(show));
        Assert.Equal("species", show.GetProperty("tagCategories").GetProperty("cat").GetString());
    }

    [Fact]
    public async Task Search_json_pages_with_limit_and_offset()
    {
        var ids = await NewLibraryAsync(5);
        var pages = new List<string>();
        for (var offset = 0; offset < 6; offset += 2)
        {
            var page = (await Cli.InAsync(Library, "search", "", "--limit", "2", "--offset", offset.ToString(), "--json")).ShouldSucceed().Json;
            Assert.Equal(5, page.GetProperty("total").GetInt64());
            Assert.Equal(Math.Min(2, 5 - offset), page.GetProperty("items").GetArrayLength());
            pages.AddRange(page.Ids());
        }

        Assert.Equal(ids.Order(StringComparer.Ordinal), pages.Order(StringComparer.Ordinal));

        var all = (await Cli.InAsync(Library, "search", "", "--json")).ShouldSucceed().Json;
        Assert.Equal(pages, all.Ids());

        var empty = (await Cli.InAsync(Library, "search", "", "--offset", "10", "--json")).ShouldSucceed().Json;
        Assert.Equal(5, empty.GetProperty("total").GetInt64());
        Assert.Equal(0, empty.GetProperty("items").GetArrayLength());

        var byId = (await Cli.InAsync(Library, "search", $"id:{ids[3][..8]}", "--json")).ShouldSucceed().Json;
        Assert.Equal([ids[3]], byId.Ids());
    }

    [Fact]
    public async Task Search_json_pages_with_a_cursor_and_runs_the_full_language()
    {
        var ids = await NewLibraryAsync(5);
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var args = new List<string> { "search", "order:id", "--limit", "2", "--json" };
            if (cursor is not null)
            {
                args.AddRange(["--cursor", cursor]);
            }

            var page = (await Cli.InAsync(Library, [.. args])).ShouldSucceed().Json;
            Assert.Equal(5, page.GetProperty("total").GetInt64());
            seen.AddRange(page.Ids());
            cursor = page.TryGetProperty("next", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);

        Assert.Equal(ids.Order(StringComparer.Ordinal), seen);
        var either = (await Cli.InAsync(Library, "search", $"(id:{ids[0][..8]} or id:{ids[1][..8]}) -id:{ids[1][..8]} kind:image", "--json")).ShouldSucceed().Json;
        Assert.Equal([ids[0]], either.Ids());
        (await Cli.InAsync(Library, "search", "order:id", "--cursor", "nonsense")).ShouldExit(2);
        var unclosed = await Cli.InAsync(Library, "search", "cat (dog", "--json");
        unclosed.ShouldExit(2);
        Assert.Contains("column 5", unclosed.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_without_json_prints_one_id_per_line()
    {
        var ids = await NewLibraryAsync(3);
        var run = (await Cli.InAsync(Library, "search", "")).ShouldSucceed();
        Assert.Equal(ids.Order(StringComparer.Ordinal), run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        Assert.Contains("3 match", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caption_set_and_list()
    {
        var ids = await NewLibraryAsync(1);
        var set = (await Cli.InAsync(Library, "caption", "set", ids[0], "A red fox in the snow", "--json")).ShouldSucceed().Json;
        Assert.Equal(ids[0], set.GetProperty("id").GetString());
        var caption = set.GetProperty("captions").EnumerateArray().Single();
        Assert.Equal("A red fox in the snow", caption.GetProperty("text").GetString());
        Assert.True(caption.GetProperty("primary").GetBoolean());

        (await Cli.InAsync(Library, "caption", "set", ids[0][..10], "A fox", "--json")).ShouldSucceed();
        (await Cli.InAsync(Library, "caption", "add", ids[0], "second opinion", "--json")).ShouldSucceed();
        var list = (await Cli.InAsync(Library, "caption", "list", ids[0], "--json")).ShouldSucceed().Json;
        var captions = list.GetProperty("captions").EnumerateArray().ToList();
        Assert.Equal(2, captions.Count);
        Assert.Equal("A fox", captions.Single(c => c.GetProperty("primary").GetBoolean()).GetProperty("text").GetString());
        Assert.Contains(captions, c => c.GetProperty("text").GetString() == "second opinion" && !c.GetProperty("primary").GetBoolean());

        var show = (await Cli.InAsync(Library, "show", ids[0], "--json")).ShouldSucceed().Json;
        Assert.Equal(2, show.GetProperty("media").GetProperty("captions").GetArrayLength());
    }

    [Fact]
    public async Task Collection_create_add_show()
    {
        var ids = await NewLibraryAsync(3);
        var created = (await Cli.InAsync(Library, "collection", "create", "Best of", "--description", "the good ones", "--json")).ShouldSucceed().Json;
        Assert.Equal("Best of", created.GetProperty("collection").GetProperty("name").GetString());

        var added = (await Cli.InAsync(Library, "collection", "add", "Best of", ids[2], ids[0], "--json")).ShouldSucceed().Json;
        Assert.Equal([ids[2], ids[0]], added.GetProperty("members").Strings());

        var show = (await Cli.InAsync(Library, "collection", "show", "Best of", "--json")).ShouldSucceed().Json;
        Assert.Equal("Best of", show.GetProperty("collection").GetProperty("name").GetString());
        Assert.Equal("the good ones", show.GetProperty("collection").GetProperty("description").GetString());
        Assert.Equal([ids[2], ids[0]], show.GetProperty("members").Strings());

        var inCollection = (await Cli.InAsync(Library, "search", "collection:\"Best of\"", "--json")).ShouldSucceed().Json;
        Assert.Equal(2, inCollection.GetProperty("total").GetInt64());

        var list = (await Cli.InAsync(Library, "collection", "list", "--json")).ShouldSucceed().Json;
        Assert.Equal("Best of", list.GetProperty("collections").EnumerateArray().Single().GetProperty("name").GetString());

        var missing = await Cli.InAsync(Library, "collection", "show", "Nope", "--json");
        missing.ShouldExit(1);
        missing.ErrorCode();
    }

    [Fact]
    public async Task Delete_restore_purge()
    {
        var ids = await NewLibraryAsync(3);
        var deleted = (await Cli.InAsync(Library, "delete", ids[1], "--json")).ShouldSucceed().Json;
        Assert.Equal([ids[1]], deleted.GetProperty("deleted").Strings());
        var search = (await Cli.InAsync(Library, "search", "", "--json")).ShouldSucceed().Json;
        Assert.Equal(2, search.GetProperty("total").GetInt64());
        Assert.DoesNotContain(ids[1], search.Ids());
        Assert.Equal("trash", (await Cli.InAsync(Library, "show", ids[1], "--json")).ShouldSucceed().Json.GetProperty("location").GetString());

        var restored = (await Cli.InAsync(Library, "restore", ids[1], "--json")).ShouldSucceed().Json;
        Assert.Equal([ids[1]], restored.GetProperty("restored").Strings());
        Assert.Equal(3, (await Cli.InAsync(Library, "search", "", "--json")).ShouldSucceed().Json.GetProperty("total").GetInt64());
        Assert.Equal("library", (await Cli.InAsync(Library, "show", ids[1], "--json")).ShouldSucceed().Json.GetProperty("location").GetString());

        // Purging a media that is not in the trash is refused.
        var notTrashed = await Cli.InAsync(Library, "purge", ids[1], "--json");
        notTrashed.ShouldExit(1);
        Assert.Equal("not-in-trash", notTrashed.ErrorCode());

        (await Cli.InAsync(Library, "delete", ids[1], ids[2])).ShouldSucceed();
        var purged = (await Cli.InAsync(Library, "purge", "--json")).ShouldSucceed().Json;
        Assert.Equal(ids.Skip(1).Order(StringComparer.Ordinal), purged.GetProperty("purged").Strings().Order(StringComparer.Ordinal));
        var gone = await Cli.InAsync(Library, "show", ids[1], "--json");
        gone.ShouldExit(1);
        Assert.Equal("media-not-found", gone.ErrorCode());
        Assert.Equal([ids[0]], (await Cli.InAsync(Library, "search", "", "--json")).ShouldSucceed().Json.Ids());

        var check = (await Cli.InAsync(Library, "check", "--json")).ShouldSucceed().Json;
        Assert.Equal(0, check.GetProperty("problems").GetArrayLength());
    }

    [Fact]
    public async Task Rebuild_and_check_json()
    {
        var ids = await NewLibraryAsync(3);
        (await Cli.InAsync(Library, "tag", "add", ids[0], "one", "two")).ShouldSucceed();
        (await Cli.InAsync(Library, "delete", ids[2])).ShouldSucceed();
        (await Cli.InAsync(Library, "collection", "create", "c")).ShouldSucceed();

        var rebuild = (await Cli.InAsync(Library, "rebuild", "--json")).ShouldSucceed().Json;
        Assert.Equal(2, rebuild.GetProperty("media").GetInt32());
        Assert.Equal(1, rebuild.GetProperty("trash").GetInt32());
        Assert.Equal(1, rebuild.GetProperty("collections").GetInt32());
        Assert.Equal(2, rebuild.GetProperty("tags").GetInt32());
        Assert.Equal(0, rebuild.GetProperty("problems").GetArrayLength());

        var check = (await Cli.InAsync(Library, "check", "--json")).ShouldSucceed().Json;
        Assert.Equal(JsonValueKind.Array, check.GetProperty("problems").ValueKind);
        Assert.Equal(0, check.GetProperty("problems").GetArrayLength());

        // A hand-broken sidecar is reported with its type and path, and check fails.
        var sidecar = Directory.EnumerateFiles(Path.Combine(Library, "media"), ids[0] + ".json", SearchOption.AllDirectories).Single();
        File.WriteAllText(sidecar, "{ \"id\": ");
        var broken = await Cli.InAsync(Library, "check", "--json");
        broken.ShouldExit(1);
        var problem = broken.Json.GetProperty("problems").EnumerateArray().Single();
        Assert.Equal("sidecar-malformed", problem.GetProperty("type").GetString());
        Assert.Contains(ids[0], problem.GetProperty("path").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Human_output_goes_to_stdout_without_json()
    {
        var ids = await NewLibraryAsync(1);
        var show = (await Cli.InAsync(Library, "show", ids[0])).ShouldSucceed();
        Assert.StartsWith(ids[0], show.Stdout, StringComparison.Ordinal);
        Assert.Throws<Xunit.Sdk.XunitException>(() => show.Json);
    }

    // ---- exit codes and errors ----

    [Fact]
    public async Task Unknown_option_is_a_usage_error()
    {
        var ids = await NewLibraryAsync(1);
        var run = await Cli.InAsync(Library, "search", "", "--bogus");
        run.ShouldExit(2);
        Assert.Contains("--bogus", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Stdout);

        var json = await Cli.InAsync(Library, "show", ids[0], "--bogus", "--json");
        json.ShouldExit(2);
        Assert.Equal("usage", json.ErrorCode());

        (await Cli.InAsync(Library, "frobnicate")).ShouldExit(2);
        (await Cli.InAsync(Library, "tag", "add", "--json")).ShouldExit(2); // missing arguments
    }

    [Fact]
    public async Task Invalid_tag_is_a_usage_error()
    {
        var ids = await NewLibraryAsync(1);
        var run = await Cli.InAsync(Library, "tag", "add", ids[0], "bad*tag", "--json");
        run.ShouldExit(2);
        Assert.Equal("invalid-tag", run.ErrorCode());
        Assert.StartsWith("error:", run.Stderr, StringComparison.Ordinal);

        (await Cli.InAsync(Library, "tag", "add", ids[0], "width:3")).ShouldExit(2);
        (await Cli.InAsync(Library, "tags", "alias", "or", "x")).ShouldExit(2);
        Assert.Empty(TagsOf((await Cli.InAsync(Library, "show", ids[0], "--json")).ShouldSucceed().Json));
    }

    [Fact]
    public async Task Malformed_query_is_a_usage_error_that_points_at_the_term()
    {
        await NewLibraryAsync(1);
        var run = await Cli.InAsync(Library, "search", "cat widht:3", "--json");
        run.ShouldExit(2);
        Assert.Equal("query-invalid", run.ErrorCode());
        var message = run.Json.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("widht", message, StringComparison.Ordinal);
        Assert.Contains("width", message, StringComparison.Ordinal); // did you mean
        Assert.Contains("widht", run.Stderr, StringComparison.Ordinal);

        (await Cli.InAsync(Library, "search", "kind:video")).ShouldExit(2);
        (await Cli.InAsync(Library, "search", "", "--limit", "-1")).ShouldExit(2);
        (await Cli.InAsync(Library, "search", "", "--limit", "many")).ShouldExit(2);
    }

    [Fact]
    public async Task Missing_media_is_a_failure()
    {
        var ids = await NewLibraryAsync(2);
        var absent = Enumerable.Range(0, 16).Select(i => new string("0123456789abcdef"[i], 8)).First(p => !ids.Any(id => id.StartsWith(p, StringComparison.Ordinal)));
        var run = await Cli.InAsync(Library, "show", absent, "--json");
        run.ShouldExit(1);
        Assert.Equal("media-not-found", run.ErrorCode());
        Assert.Contains(absent, run.Stderr, StringComparison.Ordinal);

        (await Cli.InAsync(Library, "tag", "add", absent, "x")).ShouldExit(1);
        (await Cli.InAsync(Library, "delete", absent)).ShouldExit(1);
        (await Cli.InAsync(Library, "caption", "list", absent)).ShouldExit(1);
    }

    [Fact]
    public async Task Not_a_library_folder_fails_with_a_helpful_message()
    {
        var folder = _temp.Combine("just-a-folder");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.md"), "not a library");

        var run = await Cli.InAsync(folder, "search", "");
        run.ShouldExit(1);
        Assert.Equal(string.Empty, run.Stdout);
        Assert.Contains("not a Trove library", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("trove init", run.Stderr, StringComparison.Ordinal);

        var json = await Cli.InAsync(folder, "show", "abcdef", "--json");
        json.ShouldExit(1);
        Assert.Equal("not-a-library", json.ErrorCode());
        Assert.False(string.IsNullOrEmpty(json.Json.GetProperty("error").GetProperty("hint").GetString()));

        var missing = await Cli.InAsync(_temp.Combine("nothing-here"), "check", "--json");
        missing.ShouldExit(1);
        Assert.Equal("library-not-found", missing.ErrorCode());
        Assert.False(Directory.Exists(_temp.Combine("nothing-here")));

        // init refuses a non-empty folder that is not a library.
        var init = await Cli.InAsync(folder, "init", "--json");
        init.ShouldExit(1);
        Assert.Equal("folder-not-empty", init.ErrorCode());
    }

    [Fact]
    public async Task Ids_resolve_from_a_unique_prefix_of_six_or_more_hex_characters()
    {
        var ids = await NewLibraryAsync(4);
        var id = ids.First(i => ids.Count(o => o.StartsWith(i[..6], StringComparison.Ordinal)) == 1);

        var six = (await Cli.InAsync(Library, "show", id[..6], "--json")).ShouldSucceed().Json;
        Assert.Equal(id, six.GetProperty("media").GetProperty("id").GetString());
        var upper = (await Cli.InAsync(Library, "show", id[..12].ToUpperInvariant(), "--json")).ShouldSucceed().Json;
        Assert.Equal(id, upper.GetProperty("media").GetProperty("id").GetString());
        Assert.Equal(id, (await Cli.InAsync(Library, "tag", "add", id[..6], "x", "--json")).ShouldSucceed().Json.GetProperty("id").GetString());

        var five = await Cli.InAsync(Library, "show", id[..5], "--json");
        five.ShouldExit(2);
        Assert.Equal("invalid-id", five.ErrorCode());

        var notHex = await Cli.InAsync(Library, "show", "zzzzzzzz", "--json");
        notHex.ShouldExit(2);
        Assert.Equal("invalid-id", notHex.ErrorCode());

        var tooLong = await Cli.InAsync(Library, "show", id + "0", "--json");
        tooLong.ShouldExit(2);
    }

    private static IReadOnlyList<string> TagsOf(JsonElement show) =>
        show.GetProperty("media").GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToList();
}
