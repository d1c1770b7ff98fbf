using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;

namespace Trove.Index.Conformance;

public abstract partial class LibraryIndexConformanceTests
{
    [Fact]
    public async Task Disposing_a_transaction_without_commit_discards_its_writes()
    {
        var kept = Sidecar(1, "kept");
        await UpsertAsync(kept);

        await using (var tx = await Index.BeginAsync(Ct))
        {
            await tx.UpsertMediaAsync(Sidecar(2, "discarded"), false, StampFor(Sidecar(2)), Ct);
            await tx.RemoveMediaAsync(kept.Id, Ct);
            await tx.SetVocabularyAsync(new Vocabulary(), new FileStamp(1, 2, Digest("v")), Ct);
            await tx.UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(3, 4, Digest("c")), Ct);
            await tx.SetMetaAsync("library_id", "lib-1", Ct);
        }

        Assert.NotNull(await Index.GetMediaAsync(kept.Id, Ct));
        Assert.Null(await Index.GetMediaAsync(IdOf(2), Ct));
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(["kept"], (await Index.ListTagsAsync(Ct)).Select(t => t.Name));
        Assert.Null(await Index.GetVocabularyStampAsync(Ct));
        Assert.Empty(await Index.ListCollectionsAsync(Ct));
        Assert.Null(await Index.GetMetaAsync("library_id", Ct));

        // The index is usable afterwards.
        await UpsertAsync(Sidecar(3, "later"));
        Assert.Equal(2, await Index.CountMediaAsync(inTrash: false, Ct));
    }

    [Fact]
    public async Task A_rolled_back_clear_keeps_everything()
    {
        await UpsertAsync(Sidecar(1, "a"));
        await WriteAsync(tx => tx.SetMetaAsync("library_id", "lib-1", Ct));

        await using (var tx = await Index.BeginAsync(Ct))
        {
            await tx.ClearAsync(Ct);
        }

        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal("lib-1", await Index.GetMetaAsync("library_id", Ct));
    }

    [Fact]
    public async Task Committed_writes_are_visible_before_the_transaction_is_disposed()
    {
        var sidecar = Sidecar(1, "x");
        await using var tx = await Index.BeginAsync(Ct);
        await tx.UpsertMediaAsync(sidecar, false, StampFor(sidecar), Ct);
        await tx.CommitAsync(Ct);

        Assert.NotNull(await Index.GetMediaAsync(sidecar.Id, Ct));
        Assert.Equal(1, (await SearchAsync(string.Empty)).Total);
    }

    [Fact]
    public async Task Transactions_can_follow_one_another()
    {
        for (var n = 0; n < 5; n++)
        {
            await UpsertAsync(Sidecar(n, "t" + n));
        }

        await using (var abandoned = await Index.BeginAsync(Ct))
        {
            await abandoned.RemoveMediaAsync(IdOf(0), Ct);
        }

        await WriteAsync(tx => tx.RemoveMediaAsync(IdOf(1), Ct));

        Assert.Equal(4, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.NotNull(await Index.GetMediaAsync(IdOf(0), Ct));
        Assert.Null(await Index.GetMediaAsync(IdOf(1), Ct));
    }

    [Fact]
    public async Task Clear_empties_everything_and_the_index_can_be_refilled_in_the_same_transaction()
    {
        var vocabulary = new Vocabulary();
        vocabulary.Tags["long_hair"] = new TagInfo { Category = "character" };
        vocabulary.Implications.Add(new Implication { Child = "long_hair", Parent = "hair", CreatedAt = T0 });
        await SetVocabularyAsync(vocabulary, new FileStamp(1, 2, Digest("v")));
        await UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(3, 4, Digest("c")));
        var old = Sidecar(1, "long_hair", "old_tag");
        old.Collections = [Member(BeachId, 1)];
        await UpsertAsync(old);
        await UpsertTrashAsync(Sidecar(2, "trashed_tag"));
        await WriteAsync(tx => tx.SetMetaAsync("library_id", "lib-1", Ct));

        var fresh = Sidecar(3, "long_hair", "new_tag");
        await WriteAsync(async tx =>
        {
            // Written before the clear (so any per-transaction caches are warm), then wiped by it.
            await tx.UpsertMediaAsync(Sidecar(4, "long_hair", "new_tag"), false, StampFor(Sidecar(4)), Ct);
            await tx.ClearAsync(Ct);
            await tx.UpsertMediaAsync(fresh, false, StampFor(fresh), Ct);
        });

        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(0, await Index.CountMediaAsync(inTrash: true, Ct));
        Assert.Null(await Index.GetMediaAsync(old.Id, Ct));
        Assert.Null(await Index.GetMediaAsync(IdOf(4), Ct));
        Assert.Equal(["long_hair", "new_tag"], Sorted((await Index.GetMediaAsync(fresh.Id, Ct))!.Tags));
        Assert.Equal([fresh.Id], (await Index.GetSidecarStampsAsync(Ct)).Keys);
        Assert.Empty(await Index.TrashedIdsAsync(Ct));
        Assert.Empty(await Index.ListCollectionsAsync(Ct));
        Assert.Empty(await Index.GetCollectionStampsAsync(Ct));
        Assert.Empty(await Index.CollectionMembersAsync(BeachId, Ct));
        Assert.Null(await Index.GetVocabularyStampAsync(Ct));
        Assert.Null(await Index.GetMetaAsync("library_id", Ct));
        Assert.Empty(await Index.MediaWithAnyTagAsync(["old_tag", "trashed_tag"], Ct));
        Assert.Equal([fresh.Id], await Index.MediaWithAnyTagAsync(["long_hair"], Ct));
        Assert.Equal([fresh.Id], await SearchAllAsync("long_hair new_tag"));

        var tags = await TagsByNameAsync();
        Assert.Equal(["long_hair", "new_tag"], Sorted(tags.Keys));
        Assert.Equal(Vocabulary.DefaultCategory, tags["long_hair"].Category);
        Assert.Empty(tags["long_hair"].Implies);
        Assert.Equal(["long_hair", "new_tag"], Sorted(await Index.ExpandWildcardAsync("*", 100, Ct)));
    }

    [Fact]
    public async Task Meta_values_are_set_replaced_and_kept_apart()
    {
        Assert.Null(await Index.GetMetaAsync("library_id", Ct));

        await WriteAsync(async tx =>
        {
            await tx.SetMetaAsync("library_id", "lib-1", Ct);
            await tx.SetMetaAsync("rebuilt_at", "2024-03-01T12:00:00.0000000+00:00", Ct);
        });
        Assert.Equal("lib-1", await Index.GetMetaAsync("library_id", Ct));
        Assert.Equal("2024-03-01T12:00:00.0000000+00:00", await Index.GetMetaAsync("rebuilt_at", Ct));

        await WriteAsync(tx => tx.SetMetaAsync("library_id", "lib-2", Ct));
        Assert.Equal("lib-2", await Index.GetMetaAsync("library_id", Ct));
        Assert.Equal("2024-03-01T12:00:00.0000000+00:00", await Index.GetMetaAsync("rebuilt_at", Ct));
        Assert.Null(await Index.GetMetaAsync("missing", Ct));
    }

    [Fact]
    public async Task Data_persists_after_dispose_and_reopen()
    {
        var vocabulary = new Vocabulary();
        vocabulary.Tags["smile"] = new TagInfo { Description = "Smiling", Category = "meta" };
        vocabulary.Aliases["grin"] = new AliasInfo { To = "smile", CreatedAt = T0 };
        vocabulary.Implications.Add(new Implication { Child = "smile", Parent = "face", CreatedAt = T0 });
        var vocabularyStamp = new FileStamp(11, 22, Digest("vocab"));
        await SetVocabularyAsync(vocabulary, vocabularyStamp);
        var collectionStamp = new FileStamp(33, 44, Digest("collection"));
        await UpsertCollectionAsync(Collection(BeachId, "Beach", "Sunny", "summer"), collectionStamp);

        var live = Sidecar(1, "smile", "beach");
        live.Revision = 4;
        live.Collections = [Member(BeachId, 7)];
        var trashed = Sidecar(2, "smile");
        trashed.Collections = [Member(BeachId, 3)];
        await UpsertAsync(live);
        await UpsertTrashAsync(trashed);
        await WriteAsync(tx => tx.SetMetaAsync("library_id", "lib-1", Ct));

        await ReopenAsync();

        var media = await Index.GetMediaAsync(live.Id, Ct);
        Assert.NotNull(media);
        Assert.Equal(4, media.Revision);
        Assert.Equal(["beach", "smile"], Sorted(media.Tags));
        Assert.True((await Index.GetMediaAsync(trashed.Id, Ct))!.InTrash);
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: false, Ct));
        Assert.Equal(1, await Index.CountMediaAsync(inTrash: true, Ct));
        Assert.Equal(new IndexedStamp(StampFor(live), false, 4), (await Index.GetSidecarStampsAsync(Ct))[live.Id]);
        Assert.Equal(vocabularyStamp, await Index.GetVocabularyStampAsync(Ct));
        Assert.Equal(collectionStamp, (await Index.GetCollectionStampsAsync(Ct))[BeachId]);
        Assert.Equal("lib-1", await Index.GetMetaAsync("library_id", Ct));

        var collection = Assert.Single(await Index.ListCollectionsAsync(Ct));
        Assert.Equal("Beach", collection.Name);
        Assert.Equal(1, collection.MemberCount);
        Assert.Equal(
            [new CollectionMember(trashed.Id, 3, true), new CollectionMember(live.Id, 7, false)],
            await Index.CollectionMembersAsync(BeachId, Ct));

        var tags = await TagsByNameAsync();
        Assert.Equal(1, tags["smile"].Count);
        Assert.Equal("meta", tags["smile"].Category);
        Assert.Equal("Smiling", tags["smile"].Description);
        Assert.Equal(["grin"], tags["smile"].Aliases);
        Assert.Equal(["face"], tags["smile"].Implies);

        Assert.Equal([live.Id], await SearchAllAsync("smile beach"));
        Assert.Equal([live.Id], await SearchAllAsync("grin beach")); // the alias table survives too
        Assert.Equal([trashed.Id], await Index.TrashedIdsAsync(Ct));

        // And it can still be written.
        await UpsertAsync(Sidecar(3, "smile"));
        Assert.Equal(2, (await TagsByNameAsync())["smile"].Count);
    }
}
