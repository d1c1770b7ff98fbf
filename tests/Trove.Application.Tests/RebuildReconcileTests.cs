using System.Text;
using System.Text.Json.Nodes;
using Trove.Domain;
using Trove.Library;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class RebuildReconcileTests
{
    private static readonly string[] Queries =
    [
        "", "cat", "kitty", "red -cat", "blue*", "-cute", "kind:mask", "kind:image order:oldest", "order:id", "order:filesize",
        "order:tagcount", "animal", "living_thing", "collection:favourites", "collection:\"road trip\" order:id", "c* -dog",
    ];

    /// <summary>Builds a library that uses every kind of data the index holds.</summary>
    private static async Task<List<string>> BuildVariedLibraryAsync(TestLibrary t)
    {
        var ids = new List<string>();
        ids.Add(await t.ImportOneAsync(TestImages.Png(1), "1.png", ["cat", "red"]));
        ids.Add(await t.ImportOneAsync(TestImages.Png(2, 6, 3), "2.png", ["kitty", "blue", "cute"]));
        ids.Add(await t.ImportOneAsync(TestImages.Jpeg(3, 300), "3.jpg", ["dog", "red", "cute"]));
        ids.Add(await t.ImportOneAsync(TestImages.Png(4), "4.png", ["bird", "blue_sky"]));
        ids.Add(await t.ImportOneAsync(TestImages.Jpeg(5, 100), "5.jpg", ["cat", "trashed_only"]));
        var maskPath = t.WriteSource("m/mask.png", TestImages.Png(6));
        ids.Add(Assert.Single((await t.Media.ImportAsync([maskPath], new ImportOptions(["red"], null, false, MaskOf: ids[0], MaskCategory: "outline"), null, Ct)).Media));
        var roadTrip = new[] { t.WriteSource("trip/a.png", TestImages.Png(7)), t.WriteSource("trip/b.png", TestImages.Png(8)) };
        ids.AddRange((await t.Media.ImportAsync(roadTrip, new ImportOptions(["travel"], "Road Trip", false), null, Ct)).Media);

        await t.Tags.AliasAsync("kitty", "cat", Ct);
        await t.Tags.ImplyAsync("cat", "animal", Ct);
        await t.Tags.ImplyAsync("dog", "animal", Ct);
        await t.Tags.ImplyAsync("animal", "living_thing", Ct);
        await t.Tags.SetCategoryAsync("cat", "species", create: true, Ct);
        await t.Tags.SetCategoryAsync("red", "meta", create: false, Ct);
        await t.Tags.DescribeAsync("bird", "Feathered.", Ct);
        await t.Tags.DescribeAsync("unused_but_described", "Nobody has it.", Ct);
        await t.Captions.AddAsync(ids[0], "A red cat.", primary: false, Ct);
        await t.Captions.AddAsync(ids[0], "Another caption.", primary: true, Ct);
        await t.Captions.SetAsync(ids[2], "A dog.", Ct);
        await t.Collections.CreateAsync("Favourites", "The best ones", Ct);
        await t.Collections.AddAsync("favourites", [ids[3], ids[0], ids[2]], Ct);
        await t.Collections.MoveAsync("favourites", ids[2], 1, Ct);
        await t.Collections.DescribeAsync("road trip", null, ["summer"], Ct);
        await t.Media.DeleteAsync([ids[4]], Ct);
        return ids;
    }

    private static async Task<string> CaptureAsync(TestLibrary t, IReadOnlyList<string> ids)
    {
        var sb = new StringBuilder();
        foreach (var q in Queries)
        {
            var r = await t.Search.SearchAsync(q, 100, 0, Ct);
            sb.Append("search ").Append(q).Append(" => ").Append(r.Total).Append(": ").AppendJoin(',', r.Ids).AppendLine();
        }

        var paged = await t.Search.SearchAsync("order:oldest", 3, 2, Ct);
        sb.Append("paged => ").Append(paged.Total).Append(": ").AppendJoin(',', paged.Ids).AppendLine();

        foreach (var id in ids)
        {
            var view = await t.Media.ShowAsync(id, Ct);
            sb.Append("show ").Append(id).Append(" trash=").Append(view.InTrash).Append(" path=").Append(view.OriginalPath)
                .Append(" categories=").AppendJoin(',', view.TagCategories.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value)).AppendLine();
            sb.Append(Encoding.UTF8.GetString(LibraryJson.Serialize(view.Sidecar)));
            var indexed = await t.Library.Index.GetMediaAsync(id, Ct);
            sb.Append("indexed ").Append(indexed! with { Tags = [] }).Append(" tags=").AppendJoin(',', indexed.Tags).AppendLine();
        }

        var tags = await t.Tags.ListAsync(Ct);
        foreach (var tag in tags.Tags)
        {
            sb.Append("tag ").Append(tag.Name).Append(' ').Append(tag.Category).Append(' ').Append(tag.Count).Append(' ').Append(tag.Description)
                .Append(" implies=").AppendJoin(',', tag.Implies).Append(" aliases=").AppendJoin(',', tag.Aliases).AppendLine();
        }

        sb.Append("categories ").AppendJoin(',', tags.Categories).AppendLine();
        foreach (var c in await t.Collections.ListAsync(Ct))
        {
            sb.Append("collection ").Append(c with { Tags = [] }).Append(" tags=").AppendJoin(',', c.Tags)
                .Append(" members=").AppendJoin(',', (await t.Collections.ShowAsync(c.Id, Ct)).Members).AppendLine();
            sb.Append("positions ").AppendJoin(',', (await t.Library.Index.CollectionMembersAsync(c.Id, Ct)).Select(m => $"{m.MediaId[..8]}@{m.Position}/{m.InTrash}")).AppendLine();
        }

        sb.Append("trash ").AppendJoin(',', await t.Library.Index.TrashedIdsAsync(Ct)).AppendLine();
        return sb.ToString();
    }

    [Fact]
    public async Task Deleting_the_index_and_rebuilding_gives_identical_results()
    {
        await using var t = await CreateAsync();
        var ids = await BuildVariedLibraryAsync(t);
        var before = await CaptureAsync(t, ids);
        Assert.Contains("search cat => 2:", before, StringComparison.Ordinal);
        Assert.Contains("search living_thing => 3:", before, StringComparison.Ordinal);

        await t.CloseAsync();
        foreach (var file in Directory.EnumerateFiles(t.Layout.IndexDir, "index.db*"))
        {
            File.Delete(file);
        }

        await t.ReopenAsync();
        Assert.True(t.Library.Index.IsNew);
        Assert.NotNull(await t.Library.Index.GetMetaAsync(IndexMeta.RebuiltAt, Ct));
        Assert.Equal(before, await CaptureAsync(t, ids));

        var report = await RebuildService.RebuildAsync(t.Library, null, Ct);
        Assert.Empty(report.Problems);
        Assert.Equal(ids.Count - 1, report.Media);
        Assert.Equal(1, report.Trash);
        Assert.Equal(2, report.Collections);
        Assert.Equal(before, await CaptureAsync(t, ids));

        var check = await t.Check.CheckAsync(repair: false, verifyHashes: true, null, Ct);
        Assert.Empty(check.Problems);
    }

    [Fact]
    public async Task A_corrupt_index_file_is_replaced_and_rebuilt_on_open()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2], "x");
        await t.CloseAsync();
        foreach (var file in Directory.EnumerateFiles(t.Layout.IndexDir, "index.db*"))
        {
            File.Delete(file);
        }

        await File.WriteAllTextAsync(t.Layout.IndexDatabasePath, "this is not a database, it is a cache that got clobbered" + new string('!', 200));
        await t.ReopenAsync();
        Assert.Equal(ids.Order(StringComparer.Ordinal), await t.SearchIdsAsync("x order:id"));
    }

    [Fact]
    public async Task Reopen_picks_up_a_hand_edited_sidecar()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2], "original");
        await t.CloseAsync();

        // Add a tag the way a person with a text editor would: valid JSON, an extra entry in "tags".
        var path = t.SidecarPath(ids[0]);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        json["tags"]!.AsArray().Add(new JsonObject { ["name"] = "Added By Hand", ["addedAt"] = "2024-05-01T10:00:00+00:00", ["source"] = "manual" });
        await File.WriteAllTextAsync(path, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

        await t.ReopenAsync();

        Assert.Equal([ids[0]], await t.SearchIdsAsync("added_by_hand"));
        Assert.Equal(["added_by_hand", "original"], (await t.Library.Index.GetMediaAsync(ids[0], Ct))!.Tags);
        Assert.Equal(["original", "added_by_hand"], t.TagsOf(ids[0]));
        Assert.Empty((await t.Check.CheckAsync(repair: false, verifyHashes: false, null, Ct)).Problems);
    }

    [Fact]
    public async Task Reopen_forgets_media_deleted_by_hand()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2], "x");
        await t.CloseAsync();

        File.Delete(t.SidecarPath(ids[0]));
        File.Delete(t.OriginalPath(ids[0]));
        await t.ReopenAsync();

        Assert.Equal([ids[1]], await t.SearchIdsAsync("x"));
        Assert.Null(await t.Library.Index.GetMediaAsync(ids[0], Ct));
        var ex = await Assert.ThrowsAsync<TroveException>(() => t.Media.ShowAsync(ids[0], Ct));
        Assert.Equal("media-not-found", ex.Code);
        Assert.Equal(1, (await t.Tags.ListAsync(Ct)).Tags.Single(x => x.Name == "x").Count);
    }

    [Fact]
    public async Task Reopen_picks_up_vocabulary_and_collection_files_edited_by_hand()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1], "x");
        var c = await t.Collections.CreateAsync("Before", null, Ct);
        await t.Collections.AddAsync("before", ids, Ct);
        await t.Tags.DescribeAsync("x", "old", Ct);
        await t.CloseAsync();

        var collectionPath = t.Layout.CollectionPath(c.Id);
        var collection = JsonNode.Parse(await File.ReadAllTextAsync(collectionPath))!.AsObject();
        collection["name"] = "After";
        await File.WriteAllTextAsync(collectionPath, collection.ToJsonString());
        var vocabulary = JsonNode.Parse(await File.ReadAllTextAsync(t.Layout.VocabularyPath))!.AsObject();
        vocabulary["tags"]!["x"]!["description"] = "new and longer";
        await File.WriteAllTextAsync(t.Layout.VocabularyPath, vocabulary.ToJsonString());

        await t.ReopenAsync();

        Assert.Equal("After", Assert.Single(await t.Collections.ListAsync(Ct)).Name);
        Assert.Equal(ids, (await t.Collections.ShowAsync("after", Ct)).Members);
        Assert.Equal("new and longer", (await t.Tags.ListAsync(Ct)).Tags.Single(x => x.Name == "x").Description);
    }
}
