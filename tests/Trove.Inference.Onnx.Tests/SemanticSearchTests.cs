using System.Text.Json.Nodes;
using Trove.Application;
using Trove.Application.Embeddings;
using Trove.Application.Jobs;
using Trove.Application.Models;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Domain.Models;
using Trove.Imaging.Vips;
using Trove.Index.Sqlite;
using Trove.Library;
using Trove.Search.Engine;
using Trove.Testing;

namespace Trove.Inference.Onnx.Tests;

/// <summary>
/// Semantic search end to end through the real ONNX Runtime and libvips: a generated CLIP-signature pair (an image
/// encoder whose embedding is the image's normalised mean colour, a text encoder that maps colour words to the same
/// directions) and our CLIP tokenizer; JPEGs imported into a library are embedded by the embed job the import queued.
/// </summary>
public sealed class SemanticSearchTests : IAsyncLifetime
{
    private const int Size = ClipPair.Size;
    private static readonly Lazy<Trove.Application.Ports.IImageEngine> Vips = new(() => VipsImageEngine.Create(new VipsOptions()));
    private readonly TempFolder _folder = new();
    private TroveLibrary _library = null!;
    private string _path = null!;

    private static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        _path = Path.Combine(_folder.Path, "library");
        TroveLibrary.Init(_path, Environment());
        _library = await TroveLibrary.OpenAsync(_path, Environment(), null, Ct);
    }

    public async Task DisposeAsync()
    {
        await _library.DisposeAsync();
        _folder.Dispose();
    }

    private static LibraryEnvironment Environment() =>
        LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), new TroveOptions { Durability = Durability.Fast })
            with { Inference = Ort.Engine, Imaging = Vips.Value };

    private async Task RegisterAsync(string version = "1", bool text = true, JsonObject? parameters = null)
    {
        var (image, textModel, vocab, merges) = ClipPair.Write(_folder.Path, "-" + version);
        Dictionary<string, string> files = text ? new() { ["text"] = textModel, ["vocab"] = vocab, ["merges"] = merges } : [];
        parameters ??= [];
        parameters["size"] = Size;
        await new ModelRegistry(_library).AddAsync(
            new ModelAddRequest("clip", ModelKinds.Embedder, image, version, Parameters: parameters) { Files = files.Count == 0 ? null : files },
            Ct);
    }

    private async Task<string> ImportAsync(string name, byte r, byte g, byte b, int width = 48, int height = Size)
    {
        var file = Path.Combine(_folder.Path, name + ".jpg");
        TestImages.WriteJpeg(file, TestImages.Solid(width, height, r, g, b));
        var report = await new MediaService(_library).ImportAsync([file], new ImportOptions([], null, DryRun: false), null, Ct);
        return Assert.Single(report.Media);
    }

    /// <summary>Runs the queued embed jobs; answers the last one's result with the counts of all of them.</summary>
    private async Task<EmbedJobResult> RunEmbedJobsAsync()
    {
        var handler = JobCatalog.Handlers(_library, [EmbedJobs.Kind]).Single();
        var jobs = await JobQueue.Of(_library).Store.ListAsync(EmbedJobs.Kind, null, 100, Ct);
        EmbedJobResult? last = null;
        int embedded = 0, suggested = 0;
        foreach (var job in jobs)
        {
            last = Assert.IsType<EmbedJobResult>(await handler.RunAsync(new JobContext(job, new Progress<ProgressInfo>(), Ct)));
            embedded += last.Embedded;
            suggested += last.Suggested;
        }

        return last! with { Embedded = embedded, Suggested = suggested };
    }

    private Task<SearchResult> SearchAsync(string q, int limit = 10, string? cursor = null) =>
        new SearchService(_library).SearchAsync(q, new SearchRequest(limit, 0, cursor), Ct);

    [Fact]
    public async Task Semantic_text_ranks_the_matching_colour_first_combined_with_tag_filters_min_score_and_order()
    {
        await RegisterAsync();
        var red = await ImportAsync("red", 230, 20, 20);
        var darkRed = await ImportAsync("dark-red", 160, 30, 30);
        var green = await ImportAsync("green", 20, 220, 20);
        var blue = await ImportAsync("blue", 20, 20, 230);
        await new TagService(_library).AddAsync(darkRed, ["sketch"], Ct);

        // Each import queued an embed job (autoEmbed); the handler embeds through the real runtime.
        var result = await RunEmbedJobsAsync();
        Assert.Equal("clip@1", result.Model);
        Assert.Empty(result.Failed);

        var found = await SearchAsync("semantic:red");
        Assert.Equal(4, found.Total);
        Assert.Equal([red, darkRed], found.Ids.Take(2));
        Assert.NotNull(found.Scores);
        Assert.True(found.Scores[0] > 0.9f, $"red scored {found.Scores[0]}");
        Assert.True(found.Scores[2] < 0.2f && found.Scores[3] < 0.2f, string.Join(", ", found.Scores));
        Assert.True(found.Scores.SequenceEqual(found.Scores.OrderByDescending(s => s)));

        // Sentences go through the tokenizer: "a photo of a blue dog" is mostly blue.
        Assert.Equal(blue, (await SearchAsync("semantic:\"A photo of a BLUE dog!\"")).Ids[0]);

        // Tags filter before ranking; min-score cuts; an explicit order keeps only similar media (the embedder's 0.2).
        Assert.Equal([red], (await SearchAsync("semantic:red -sketch min-score:0.5")).Ids);
        var greenFirst = await SearchAsync("semantic:green");
        Assert.Equal(green, greenFirst.Ids[0]);
        var ordered = await SearchAsync("semantic:red order:oldest");
        Assert.Equal([red, darkRed], ordered.Ids);
        Assert.Equal(2, ordered.Total);
        Assert.Equal(2, ordered.Scores!.Count);
    }

    [Fact]
    public async Task Paging_by_cursor_walks_the_ranking_without_gaps_or_repeats_and_like_leaves_out_the_media_itself()
    {
        await RegisterAsync();
        var ids = new List<string>();
        for (var i = 0; i < 9; i++)
        {
            ids.Add(await ImportAsync($"shade-{i}", (byte)(250 - (i * 20)), (byte)(10 + (i * 20)), 30));
        }

        await RunEmbedJobsAsync();
        var all = await SearchAsync("semantic:red", limit: 100);
        Assert.Equal(ids.Order(StringComparer.Ordinal), all.Ids.Order(StringComparer.Ordinal));
        Assert.True(all.Scores!.SequenceEqual(all.Scores!.OrderByDescending(s => s)));
        Assert.True(all.Scores![0] > all.Scores![^1] + 0.5f, "the shades go from red to green");

        var walked = new List<string>();
        string? cursor = null;
        do
        {
            var page = await SearchAsync("semantic:red", limit: 2, cursor: cursor);
            Assert.Equal(9, page.Total);
            walked.AddRange(page.Ids);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(all.Ids, walked);

        var like = await SearchAsync($"like:{ids[0][..8]}");
        Assert.Equal(8, like.Total);
        Assert.DoesNotContain(ids[0], like.Ids);
        Assert.Equal(ids[1], like.Ids[0]); // the nearest shade
        Assert.Equal(ids[8], like.Ids[^1]);
    }

    [Fact]
    public async Task Media_purged_and_imported_again_are_found_again_with_the_embedding_already_stored()
    {
        await RegisterAsync();
        var red = await ImportAsync("red", 230, 20, 20);
        var blue = await ImportAsync("blue", 20, 20, 230);
        await RunEmbedJobsAsync();
        Assert.Equal(red, (await SearchAsync("semantic:red")).Ids[0]);

        var media = new MediaService(_library);
        await media.DeleteAsync([red], Ct);
        await media.PurgeAsync([red], Ct);
        Assert.Equal([blue], (await SearchAsync("semantic:red")).Ids);

        // Same bytes, same id: the stored embedding still fits, so nothing is computed and the search finds it at once.
        Assert.Equal(red, await ImportAsync("red", 230, 20, 20));
        var rerun = await RunEmbedJobsAsync();
        Assert.Equal(0, rerun.Embedded);
        var found = await SearchAsync("semantic:red");
        Assert.Equal([red, blue], found.Ids);
        Assert.True(found.Scores![0] > 0.9f, $"red scored {found.Scores[0]}");
    }

    [Fact]
    public async Task Near_duplicates_by_embedding_group_what_pHash_cannot_tell_apart_and_list_similar_images_with_scores()
    {
        await RegisterAsync();
        var red = await ImportAsync("red", 230, 20, 20);
        var red2 = await ImportAsync("red-again", 226, 24, 22, width: 40);
        var green = await ImportAsync("green", 20, 220, 20);
        var blue = await ImportAsync("blue", 20, 20, 230);
        await RunEmbedJobsAsync();
        var service = new Trove.Application.Similarity.NearDuplicateService(_library);

        // Flat pictures carry no perceptual hash information: pHash finds nothing, the embeddings find the two reds.
        Assert.Empty(await service.FindGroupsAsync(Trove.Application.Similarity.DuplicateBasis.PerceptualHash, 8, null, null, Ct));
        var groups = await service.FindGroupsAsync(Trove.Application.Similarity.DuplicateBasis.Embedding, 8, null, null, Ct);
        var group = Assert.Single(groups);
        Assert.Equal(new[] { red, red2 }.Order(StringComparer.Ordinal), group.Ids.Order(StringComparer.Ordinal));
        Assert.Equal("embedding", group.By);
        Assert.True(group.Score >= 0.95f, $"linked at {group.Score}");
        Assert.Equal(group.Ids, Assert.Single(await service.FindGroupsAsync(Trove.Application.Similarity.DuplicateBasis.Both, 8, null, null, Ct)).Ids);

        // A stricter threshold than the pair's similarity separates them; a loose one joins more.
        Assert.Empty(await service.FindGroupsAsync(Trove.Application.Similarity.DuplicateBasis.Embedding, 8, MathF.Min(1f, group.Score!.Value + 0.0005f), null, Ct));
        var similar = await service.SimilarByEmbeddingAsync(red[..10], null, 10, Ct);
        Assert.Equal([red2], similar.Select(m => m.Id));
        Assert.Equal(40, similar[0].Width);
        Assert.True(similar[0].Score >= 0.95f);
        Assert.DoesNotContain(green, (await service.SimilarByEmbeddingAsync(blue, 0.5f, 10, Ct)).Select(m => m.Id));
        await Assert.ThrowsAsync<TroveUsageException>(() => service.FindGroupsAsync(Trove.Application.Similarity.DuplicateBasis.Embedding, 8, 1.5f, null, Ct));
    }

    [Fact]
    public async Task Zero_shot_suggestions_from_the_vocabulary_join_the_review_queue_with_the_embedder_as_their_model()
    {
        var tags = new TagService(_library);
        await tags.UpdateAsync("red", "general", "the colour", Ct);
        await tags.UpdateAsync("dog", "general", null, Ct);
        await tags.UpdateAsync("blue", "meta", null, Ct); // meta is not prompted unless named
        await RegisterAsync(parameters: new JsonObject { ["zeroShot"] = true, ["zeroShotPrompt"] = "a photo of {tag}" });
        var red = await ImportAsync("red", 230, 20, 20);
        var green = await ImportAsync("green", 20, 220, 20);
        var blue = await ImportAsync("blue", 20, 20, 230);

        // The embed job suggests as it embeds: the red image gets "red" (from "a photo of red"), nothing else anything.
        var embedded = await RunEmbedJobsAsync();
        Assert.Equal(1, embedded.Suggested);
        var suggestions = new Trove.Application.Tagging.SuggestionService(_library);
        var redList = await suggestions.ListAsync(red, "pending", Ct);
        var only = Assert.Single(redList.Suggestions);
        Assert.Equal(("red", "clip", "1"), (only.Tag, only.Model, only.ModelVersion));
        Assert.True(only.Confidence > 0.9, $"confidence {only.Confidence}");
        Assert.Empty((await suggestions.ListAsync(green, null, Ct)).Suggestions);
        Assert.Empty((await suggestions.ListAsync(blue, null, Ct)).Suggestions);

        // The vocabulary grows: 'trove suggest' compares the stored embeddings with the new prompts (nothing re-embedded).
        await tags.UpdateAsync("green", "general", "the colour of grass", Ct);
        using var runner = new Trove.Application.Tagging.TaggerRunner(_library);
        var run = await runner.RunAsync([red, green, blue], force: false, null, Ct);
        Assert.Contains("clip@1", run.Models);
        Assert.Equal(1, run.Added);
        Assert.Equal("green", Assert.Single((await suggestions.ListAsync(green, "pending", Ct)).Suggestions).Tag);

        // A rejection is remembered: the same prompt never suggests it again unless forced.
        await suggestions.ReviewAsync(red, [], ["red"], Ct);
        Assert.Equal(0, (await runner.RunAsync([red], force: false, null, Ct)).Added);
        Assert.Equal("rejected", Assert.Single((await suggestions.ListAsync(red, null, Ct)).Suggestions).Status);

        // Approving one adds the tag with the suggestion's provenance, like a tagger's.
        await suggestions.ReviewAsync(green, ["green"], [], Ct);
        Assert.Equal(1, (await SearchAsync("green")).Total);
    }

    [Fact]
    public async Task Zero_shot_settings_are_checked_when_the_embedder_is_registered()
    {
        var bad = await Assert.ThrowsAsync<TroveUsageException>(() => RegisterAsync(parameters: new JsonObject { ["zeroShot"] = true, ["zeroShotPrompt"] = "a photo" }));
        Assert.Contains("zeroShotPrompt", bad.Message, StringComparison.Ordinal);
        Assert.Contains("{tag}", bad.Message, StringComparison.Ordinal);
        var range = await Assert.ThrowsAsync<TroveUsageException>(() => RegisterAsync(parameters: new JsonObject { ["zeroShotMaxTags"] = 0 }));
        Assert.Contains("zeroShotMaxTags", range.Message, StringComparison.Ordinal);
        Assert.Equal("zero-shot-needs-text", (await Assert.ThrowsAsync<TroveUsageException>(() => RegisterAsync(text: false, parameters: new JsonObject { ["zeroShot"] = true }))).Code);

        // Only the named categories are prompted.
        await new TagService(_library).UpdateAsync("red", "general", null, Ct);
        await RegisterAsync(parameters: new JsonObject { ["zeroShot"] = true, ["zeroShotCategories"] = new JsonArray("character") });
        await ImportAsync("red", 230, 20, 20);
        Assert.Equal(0, (await RunEmbedJobsAsync()).Suggested);
    }

    [Fact]
    public async Task Embeddings_survive_an_index_rebuild_without_being_computed_again()
    {
        await RegisterAsync();
        var red = await ImportAsync("red", 230, 20, 20);
        await ImportAsync("blue", 20, 20, 230);
        await RunEmbedJobsAsync();
        var file = _library.Embeddings.PathOf(ActiveEmbedder.Require(_library));
        var before = await File.ReadAllBytesAsync(file);

        await RebuildService.RebuildAsync(_library, null, Ct);
        Assert.Equal(red, (await SearchAsync("semantic:red")).Ids[0]);
        Assert.Equal(before, await File.ReadAllBytesAsync(file));

        // Nothing is left to embed, and check is clean with nothing missing.
        var again = await new EmbedRunner(_library).RunAsync([.. (await SearchAsync("", 100)).Ids], force: false, null, Ct);
        Assert.Equal(0, again.Embedded);
        Assert.Equal(2, again.Skipped);
        var check = await new CheckService(_library).CheckAsync(repair: false, verifyHashes: false, null, Ct);
        Assert.Empty(check.Problems);
        Assert.Empty(check.Notices);
    }

    [Fact]
    public async Task Check_reports_media_waiting_for_embeddings_and_queries_name_what_is_missing()
    {
        var red = await ImportAsync("red", 230, 20, 20);
        var noEmbedder = await Assert.ThrowsAsync<TroveUsageException>(() => SearchAsync("cat semantic:red"));
        Assert.Equal("no-embedder", noEmbedder.Code);
        Assert.Contains("'semantic:red' (column 5)", noEmbedder.Message, StringComparison.Ordinal);

        await RegisterAsync();
        var blue = await ImportAsync("blue", 20, 20, 230); // queues an embed job; not run yet
        var notEmbedded = await Assert.ThrowsAsync<TroveUsageException>(() => SearchAsync($"like:{blue[..8]}"));
        Assert.Equal("not-embedded", notEmbedded.Code);
        Assert.Contains("1 media wait in queued embed jobs", notEmbedded.Message, StringComparison.Ordinal);

        var check = await new CheckService(_library).CheckAsync(repair: false, verifyHashes: false, null, Ct);
        Assert.Empty(check.Problems);
        Assert.Contains(check.Notices, n => n.Contains("clip@1", StringComparison.Ordinal));

        // Before anything is embedded, semantic: ranks nothing; the gap is filled by 'embed'.
        Assert.Equal(0, (await SearchAsync("semantic:red")).Total);
        var run = await new EmbedRunner(_library).RunAsync([red, blue], force: false, null, Ct);
        Assert.Equal(2, run.Embedded);
        Assert.Equal(red, (await SearchAsync("semantic:red")).Ids[0]);
        check = await new CheckService(_library).CheckAsync(repair: false, verifyHashes: false, null, Ct);
        Assert.Empty(check.Notices);
    }

    [Fact]
    public async Task An_embedder_without_a_text_encoder_answers_like_but_refuses_semantic_text_clearly()
    {
        await RegisterAsync(text: false);
        var red = await ImportAsync("red", 230, 20, 20);
        var blue = await ImportAsync("blue", 20, 20, 230);
        await RunEmbedJobsAsync();
        Assert.Equal([blue], (await SearchAsync($"like:{red[..8]}")).Ids);
        var error = await Assert.ThrowsAsync<TroveException>(() => SearchAsync("semantic:red"));
        Assert.Equal("no-text-encoder", error.Code);
    }
}
