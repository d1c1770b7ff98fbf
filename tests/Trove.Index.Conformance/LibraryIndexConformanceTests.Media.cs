using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;

namespace Trove.Index.Conformance;

public abstract partial class LibraryIndexConformanceTests
{
    [Fact]
    public async Task New_index_is_empty()
    {
        Assert.False(string.IsNullOrWhiteSpace(Index.Engine));
        Assert.Equal(0, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(0, await Index.CountMediaAsync(inTrash: true, Ct));
        Assert.Empty(await Index.GetSidecarStampsAsync(Ct));
        Assert.Empty(await Index.GetCollectionStampsAsync(Ct));
        Assert.Empty(await Index.ListCollectionsAsync(Ct));
        Assert.Empty(await Index.ListTagsAsync(Ct));
        Assert.Empty(await Index.TrashedIdsAsync(Ct));
        Assert.Empty(await Index.FindIdsByPrefixAsync("a", 10, Ct));
        Assert.Empty(await Index.ExpandWildcardAsync("*", 10, Ct));
        Assert.Null(await Index.GetVocabularyStampAsync(Ct));
        Assert.Null(await Index.GetMediaAsync(IdOf(1), Ct));
        var page = await SearchAsync(string.Empty);
        Assert.Equal(0, page.Total);
        Assert.Empty(page.Ids);
    }

    [Fact]
    public async Task Upserted_media_is_returned_with_its_fields_and_tags()
    {
        var sidecar = Sidecar(1, "smile", "long_hair", "1girl");
        sidecar.Revision = 7;
        sidecar.Original = new OriginalInfo { Ext = "png", MediaType = "image/png", Size = 5_000_000_123, Width = 1920, Height = 1080 };
        sidecar.CreatedAt = T0.AddMinutes(-90);
        sidecar.UpdatedAt = T0.AddHours(3).AddMilliseconds(250);
        sidecar.Uploader = "alice";
        await UpsertAsync(sidecar);

        var media = await Index.GetMediaAsync(sidecar.Id, Ct);

        Assert.NotNull(media);
        Assert.Equal(sidecar.Id, media.Id);
        Assert.False(media.InTrash);
        Assert.Equal(MediaKinds.Image, media.Kind);
        Assert.Equal("png", media.Ext);
        Assert.Equal("image/png", media.MediaType);
        Assert.Equal(5_000_000_123, media.Size);
        Assert.Equal(sidecar.CreatedAt, media.CreatedAt);
        Assert.Equal(sidecar.UpdatedAt, media.UpdatedAt);
        Assert.Equal(7, media.Revision);
        Assert.Equal(["1girl", "long_hair", "smile"], Sorted(media.Tags));
    }

    [Fact]
    public async Task Media_with_every_kind_of_child_can_be_upserted_repeatedly()
    {
        var mask = Sidecar(2, "mask_tag");
        mask.Kind = MediaKinds.Mask;
        mask.Mask = new MaskInfo { Source = IdOf(1), Category = "person" };
        mask.Captions =
        [
            new CaptionEntry { Id = 1, Text = "a person", Primary = false, Source = CaptionSources.Import, CreatedAt = T0 },
            new CaptionEntry { Id = 2, Text = "a person on a beach", Primary = true, Source = "model", Model = "blip@2", CreatedAt = T0 },
        ];
        mask.Crops = [new CropEntry { Name = "face", X = 1, Y = 2, W = 30, H = 40, CreatedAt = T0 }];
        mask.Relations = [new RelationEntry { Type = RelationTypes.MaskOf, Target = IdOf(1), CreatedAt = T0 }];
        mask.Collections = [Member("0123456789ab", 10)];

        await UpsertAsync(mask);
        mask.Revision = 2;
        await UpsertAsync(mask);
        await UpsertAsync(mask);

        var media = await Index.GetMediaAsync(mask.Id, Ct);
        Assert.NotNull(media);
        Assert.Equal(MediaKinds.Mask, media.Kind);
        Assert.Equal(2, media.Revision);
        Assert.Equal(["mask_tag"], media.Tags);
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Single(await Index.CollectionMembersAsync("0123456789ab", Ct));
    }

    [Fact]
    public async Task Getting_an_unknown_id_returns_null()
    {
        await UpsertAsync(Sidecar(1, "a"));

        Assert.Null(await Index.GetMediaAsync(IdOf(2), Ct));
        Assert.Null(await Index.GetMediaAsync(IdOf(1)[..10], Ct));
    }

    [Fact]
    public async Task The_trash_flag_round_trips_and_follows_moves()
    {
        var a = Sidecar(1, "x");
        var b = Sidecar(2, "x");
        await UpsertAsync(a);
        await UpsertTrashAsync(b);

        Assert.False((await Index.GetMediaAsync(a.Id, Ct))!.InTrash);
        Assert.True((await Index.GetMediaAsync(b.Id, Ct))!.InTrash);
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: true, Ct));
        Assert.Equal([b.Id], await Index.TrashedIdsAsync(Ct));

        // Restore b, delete a.
        await UpsertTrashAsync(a);
        await UpsertAsync(b);

        Assert.True((await Index.GetMediaAsync(a.Id, Ct))!.InTrash);
        Assert.False((await Index.GetMediaAsync(b.Id, Ct))!.InTrash);
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: true, Ct));
        Assert.Equal([a.Id], await Index.TrashedIdsAsync(Ct));
        Assert.Equal([b.Id], await SearchAllAsync(string.Empty));
    }

    [Fact]
    public async Task Upserting_again_replaces_tags_and_memberships()
    {
        const string first = "aaaaaaaaaaaa";
        const string second = "bbbbbbbbbbbb";
        var v1 = Sidecar(1, "a", "b", "c");
        v1.Collections = [Member(first, 10)];
        await UpsertAsync(v1);

        var v2 = Sidecar(1, "b", "d");
        v2.Revision = 2;
        v2.Collections = [Member(second, 5)];
        await UpsertAsync(v2);

        var media = await Index.GetMediaAsync(v1.Id, Ct);
        Assert.NotNull(media);
        Assert.Equal(2, media.Revision);
        Assert.Equal(["b", "d"], Sorted(media.Tags));
        Assert.Empty(await Index.MediaWithAnyTagAsync(["a", "c"], Ct));
        Assert.Equal([v1.Id], await Index.MediaWithAnyTagAsync(["d"], Ct));
        Assert.Empty(await SearchAllAsync("a"));
        Assert.Equal([v1.Id], await SearchAllAsync("d"));
        Assert.Empty(await Index.CollectionMembersAsync(first, Ct));
        Assert.Equal([new CollectionMember(v1.Id, 5, false)], await Index.CollectionMembersAsync(second, Ct));
        Assert.Equal(["b", "d"], Sorted((await Index.ListTagsAsync(Ct)).Select(t => t.Name)));
        Assert.Equal(["b", "d"], Sorted(await Index.ExpandWildcardAsync("*", 100, Ct)));
        Assert.Equal(new IndexedStamp(StampFor(v2), false, 2), (await Index.GetSidecarStampsAsync(Ct))[v1.Id]);
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task Upserting_with_no_tags_removes_all_tags()
    {
        var v1 = Sidecar(1, "a", "b");
        await UpsertAsync(v1);
        var v2 = Sidecar(1);
        v2.Revision = 2;
        await UpsertAsync(v2);

        Assert.Empty((await Index.GetMediaAsync(v1.Id, Ct))!.Tags);
        Assert.Empty(await Index.ListTagsAsync(Ct));
        Assert.Equal([v1.Id], await SearchAllAsync(string.Empty));
    }

    [Fact]
    public async Task Removing_media_removes_it_everywhere()
    {
        const string collection = "0123456789ab";
        var a = Sidecar(1, "x", "y");
        a.Collections = [Member(collection, 1)];
        var b = Sidecar(2, "y");
        var c = Sidecar(3, "z");
        await UpsertAsync(a, b);
        await UpsertTrashAsync(c);

        await WriteAsync(async tx =>
        {
            await tx.RemoveMediaAsync(a.Id, Ct);
            await tx.RemoveMediaAsync(c.Id, Ct);
            await tx.RemoveMediaAsync(IdOf(99), Ct); // unknown: no-op
        });

        Assert.Null(await Index.GetMediaAsync(a.Id, Ct));
        Assert.Null(await Index.GetMediaAsync(c.Id, Ct));
        Assert.NotNull(await Index.GetMediaAsync(b.Id, Ct));
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(0, await Index.CountMediaAsync(inTrash: true, Ct));
        Assert.Equal([b.Id], (await Index.GetSidecarStampsAsync(Ct)).Keys);
        Assert.Equal([b.Id], await Index.MediaWithAnyTagAsync(["x", "y", "z"], Ct));
        Assert.Empty(await Index.CollectionMembersAsync(collection, Ct));
        Assert.Empty(await Index.FindIdsByPrefixAsync(a.Id, 10, Ct));
        Assert.Empty(await Index.TrashedIdsAsync(Ct));
        Assert.Equal([b.Id], await SearchAllAsync(string.Empty));

        // Tags left without media are not reported.
        Assert.Equal(["y"], (await Index.ListTagsAsync(Ct)).Select(t => t.Name));
        Assert.Equal(["y"], await Index.ExpandWildcardAsync("*", 100, Ct));
    }

    [Fact]
    public async Task A_removed_media_can_be_indexed_again()
    {
        var a = Sidecar(1, "x");
        await UpsertAsync(a);
        await WriteAsync(tx => tx.RemoveMediaAsync(a.Id, Ct));
        await UpsertAsync(Sidecar(1, "w"));

        Assert.Equal(["w"], (await Index.GetMediaAsync(a.Id, Ct))!.Tags);
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task FindIdsByPrefix_returns_ids_in_the_prefix_range_including_trash()
    {
        var aa = IdWithPrefix("aa", 1);
        var ab0 = IdWithPrefix("ab0", 2);
        var abc = IdWithPrefix("abc", 3);
        var abf = IdWithPrefix("abf", 4);
        var ac = IdWithPrefix("ac", 5);
        var b0 = IdWithPrefix("b0", 6);
        var ffff = IdWithPrefix("ffff", 7);
        await UpsertAsync(Sidecar(aa), Sidecar(ab0), Sidecar(abc), Sidecar(ac), Sidecar(b0), Sidecar(ffff));
        await UpsertTrashAsync(Sidecar(abf));

        Assert.Equal(Sorted([ab0, abc, abf]), Sorted(await Index.FindIdsByPrefixAsync("ab", 100, Ct)));
        Assert.Equal([abc], await Index.FindIdsByPrefixAsync("abc", 100, Ct));
        Assert.Equal([abf], await Index.FindIdsByPrefixAsync("abf", 100, Ct));
        Assert.Equal(Sorted([aa, ab0, abc, abf, ac]), Sorted(await Index.FindIdsByPrefixAsync("a", 100, Ct)));
        Assert.Equal([b0], await Index.FindIdsByPrefixAsync("b", 100, Ct));
        Assert.Equal([ffff], await Index.FindIdsByPrefixAsync("fff", 100, Ct));
        Assert.Equal([ffff], await Index.FindIdsByPrefixAsync(ffff, 100, Ct));
        Assert.Empty(await Index.FindIdsByPrefixAsync("fffe", 100, Ct));
        Assert.Empty(await Index.FindIdsByPrefixAsync("0", 100, Ct));
        Assert.Empty(await Index.FindIdsByPrefixAsync("abd", 100, Ct));

        var limited = await Index.FindIdsByPrefixAsync("a", 2, Ct);
        Assert.Equal(2, limited.Count);
        Assert.Equal(2, limited.Distinct(StringComparer.Ordinal).Count());
        Assert.All(limited, id => Assert.StartsWith("a", id, StringComparison.Ordinal));
        Assert.Single(await Index.FindIdsByPrefixAsync("ab", 1, Ct));
    }

    [Fact]
    public async Task CountMedia_counts_library_and_trash_separately()
    {
        await UpsertAsync(Sidecar(1), Sidecar(2), Sidecar(3));
        await UpsertTrashAsync(Sidecar(4), Sidecar(5));

        Assert.Equal(3, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(2, await Index.CountMediaAsync(inTrash: true, Ct));
    }

    [Fact]
    public async Task Sidecar_stamps_round_trip()
    {
        var a = Sidecar(1, "x");
        a.Revision = 3;
        var b = Sidecar(2);
        b.Revision = 5;
        await UpsertAsync(a);
        await UpsertTrashAsync(b);

        var stamps = await Index.GetSidecarStampsAsync(Ct);
        Assert.Equal(2, stamps.Count);
        Assert.Equal(new IndexedStamp(StampFor(a), false, 3), stamps[a.Id]);
        Assert.Equal(new IndexedStamp(StampFor(b), true, 5), stamps[b.Id]);

        var big = new FileStamp(long.MaxValue / 2, DateTimeOffset.MaxValue.UtcTicks, Digest("big"));
        await WriteAsync(tx => tx.UpsertMediaAsync(a, false, big, Ct));

        stamps = await Index.GetSidecarStampsAsync(Ct);
        Assert.Equal(new IndexedStamp(big, false, 3), stamps[a.Id]);
        Assert.Equal(new IndexedStamp(StampFor(b), true, 5), stamps[b.Id]);
    }

    [Fact]
    public async Task TrashedIds_lists_exactly_the_trashed_media()
    {
        await UpsertAsync(Sidecar(1), Sidecar(2));
        await UpsertTrashAsync(Sidecar(3), Sidecar(4));

        Assert.Equal(Sorted([IdOf(3), IdOf(4)]), Sorted(await Index.TrashedIdsAsync(Ct)));
    }

    [Fact]
    public async Task MediaWithAnyTag_returns_each_matching_media_once_including_trash()
    {
        var a = Sidecar(1, "x", "y");
        var b = Sidecar(2, "y");
        var c = Sidecar(3, "z");
        var d = Sidecar(4, "w");
        await UpsertAsync(a, b, d);
        await UpsertTrashAsync(c);

        Assert.Equal(Sorted([a.Id, b.Id]), Sorted(await Index.MediaWithAnyTagAsync(["x", "y"], Ct)));
        Assert.Equal([c.Id], await Index.MediaWithAnyTagAsync(["z"], Ct));
        Assert.Equal(Sorted([a.Id, c.Id]), Sorted(await Index.MediaWithAnyTagAsync(["x", "z"], Ct)));
        Assert.Equal(Sorted([a.Id, b.Id, c.Id, d.Id]), Sorted(await Index.MediaWithAnyTagAsync(["w", "x", "y", "z"], Ct)));
        Assert.Empty(await Index.MediaWithAnyTagAsync([], Ct));
        Assert.Empty(await Index.MediaWithAnyTagAsync(["nope"], Ct));
    }
}
