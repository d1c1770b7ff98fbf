using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;
using Trove.Search.Engine;

namespace Trove.Index.Conformance;

/// <summary>
/// The change-tracking part of the port, which keeps in-memory search engines in step with the index (also across
/// processes). The contract:
/// <list type="bullet">
/// <item><see cref="ILibraryIndex.GetChangeStateAsync"/>: <c>Epoch</c> is non-empty, survives reopening and changes
/// only when a <c>ClearAsync</c> is committed; <c>ChangeSeq</c> grows with every committed transaction that writes or
/// removes media; <c>CatalogSeq</c> changes with every committed vocabulary or collection change and with nothing
/// else; <c>MaxKey</c> is the largest key of indexed media (0 when there is none). Reads and transactions disposed
/// without commit change nothing. A new index is at change 0. It shows committed state only, also while a transaction is
/// open on the same instance.</item>
/// <item><see cref="ILibraryIndex.ReadSearchDocumentsAsync"/>(s): the media (library and trash) whose last write was
/// committed after change s (0: all of them), by ascending key, as they are now. A media keeps its key while it is
/// indexed. It shows committed data only, also while a transaction is open on the same instance (whose uncommitted
/// writes it leaves out; once committed, even before it is disposed, they are in).</item>
/// <item><see cref="ILibraryIndex.RemovedSinceAsync"/>(s): the keys of media removed after change s. A key may be
/// given to media written after the removal; applying the removals before the documents is always right. Committed
/// state only, like <see cref="ILibraryIndex.ListAliasesAsync"/>.</item>
/// <item>Another instance on the same storage (another process) sees every committed change, and none that is not.</item>
/// </list>
/// </summary>
public abstract partial class LibraryIndexConformanceTests
{
    [Fact]
    public async Task A_new_index_has_an_epoch_and_no_changes()
    {
        var state = await StateAsync();

        Assert.False(string.IsNullOrEmpty(state.Epoch));
        Assert.Equal(0, state.ChangeSeq);
        Assert.Equal(0, state.CatalogSeq);
        Assert.Equal(0, state.MaxKey);
        Assert.Empty(await ReadDocumentsAsync(0));
        Assert.Empty(await Index.RemovedSinceAsync(0, Ct));
        Assert.Empty(await Index.ListAliasesAsync(Ct));
    }

    [Fact]
    public async Task ChangeSeq_grows_with_every_committed_media_write_and_removal()
    {
        var states = new List<IndexChangeState> { await StateAsync() };

        await UpsertAsync(Sidecar(1, "a"));
        states.Add(await StateAsync());
        await UpsertAsync(Sidecar(1, "b")); // the same media again
        states.Add(await StateAsync());
        await UpsertTrashAsync(Sidecar(1, "b")); // moved to the trash
        states.Add(await StateAsync());
        await UpsertAsync(Sidecar(2), Sidecar(3)); // two in one transaction
        states.Add(await StateAsync());
        await WriteAsync(tx => tx.RemoveMediaAsync(IdOf(2), Ct));
        states.Add(await StateAsync());
        await WriteAsync(async tx =>
        {
            await tx.RemoveMediaAsync(IdOf(3), Ct);
            await tx.UpsertMediaAsync(Sidecar(4), false, StampFor(Sidecar(4)), Ct);
        });
        states.Add(await StateAsync());

        for (var i = 1; i < states.Count; i++)
        {
            Assert.True(states[i].ChangeSeq > states[i - 1].ChangeSeq, $"ChangeSeq did not grow at step {i}: {states[i - 1]} → {states[i]}");
            Assert.Equal(states[0].Epoch, states[i].Epoch);
        }
    }

    [Fact]
    public async Task Reads_and_rolled_back_transactions_leave_the_change_state_alone()
    {
        await UpsertAsync(Sidecar(1, "smile"), Sidecar(2, "b"));
        await SetVocabularyAsync(AliasVocabulary(), new FileStamp(1, 2, Digest("v")));
        await UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(3, 4, Digest("c")));
        var before = await StateAsync();

        Assert.NotNull(await Index.GetMediaAsync(IdOf(1), Ct));
        Assert.NotEmpty(await Index.ListTagsAsync(Ct));
        Assert.NotEmpty(await Index.ListCollectionsAsync(Ct));
        Assert.NotEmpty(await Index.ListAliasesAsync(Ct));
        Assert.Equal(2, (await ReadDocumentsAsync(0)).Count);
        Assert.Empty(await Index.RemovedSinceAsync(0, Ct));
        Assert.Equal([IdOf(1)], await SearchAllAsync("grin"));
        Assert.Equal(before, await StateAsync());

        await using (var tx = await Index.BeginAsync(Ct))
        {
            await tx.UpsertMediaAsync(Sidecar(3, "c"), false, StampFor(Sidecar(3)), Ct);
            await tx.UpsertMediaAsync(Sidecar(1, "changed"), true, StampFor(Sidecar(1)), Ct);
            await tx.RemoveMediaAsync(IdOf(2), Ct);
            await tx.SetVocabularyAsync(new Vocabulary(), null, Ct);
            await tx.UpsertCollectionAsync(Collection(AlpsId, "Alps"), new FileStamp(5, 6, Digest("a")), Ct);
            await tx.RemoveCollectionAsync(BeachId, Ct);
        }

        Assert.Equal(before, await StateAsync());

        await using (var tx = await Index.BeginAsync(Ct))
        {
            await tx.ClearAsync(Ct);
            await tx.UpsertMediaAsync(Sidecar(4, "d"), false, StampFor(Sidecar(4)), Ct);
        }

        Assert.Equal(before, await StateAsync());
        Assert.Empty(await ReadDocumentsAsync(before.ChangeSeq));
        Assert.Empty(await Index.RemovedSinceAsync(before.ChangeSeq, Ct));
        Assert.Equal(Sorted([IdOf(1), IdOf(2)]), IdsOf(await ReadDocumentsAsync(0)));

        // The next committed write is the only change after the state before the rollbacks.
        await UpsertAsync(Sidecar(5, "e"));
        Assert.True((await StateAsync()).ChangeSeq > before.ChangeSeq);
        Assert.Equal([IdOf(5)], IdsOf(await ReadDocumentsAsync(before.ChangeSeq)));
        Assert.Empty(await Index.RemovedSinceAsync(before.ChangeSeq, Ct));
    }

    [Fact]
    public async Task Search_documents_carry_every_field_of_the_media()
    {
        var full = Sidecar(1, "smile", "long_hair");
        full.Kind = MediaKinds.Mask;
        full.Mask = new MaskInfo { Source = IdOf(9), Category = "person" };
        full.Original = new OriginalInfo
        {
            Ext = "png",
            MediaType = "image/png",
            Size = 5_000_000_123,
            Width = 1920,
            Height = 1080,
            PHash = "fedcba9876543210",
            DHash = "8000000000000001",
            TakenAt = new DateTimeOffset(2023, 7, 4, 10, 30, 15, 123, TimeSpan.FromHours(2)),
        };
        full.CreatedAt = T0.AddMilliseconds(987);
        full.Uploader = "Alice";
        full.Captions =
        [
            new CaptionEntry { Id = 3, Text = "third", Source = CaptionSources.Import, CreatedAt = T0 },
            new CaptionEntry { Id = 1, Text = "first", Source = CaptionSources.Import, CreatedAt = T0 },
            new CaptionEntry { Id = 2, Text = "second", Primary = true, Source = "model", Model = "blip@2", CreatedAt = T0 },
        ];
        full.Collections = [Member(BeachId, 4), Member(AlpsId, 1)];
        full.Crops =
        [
            new CropEntry { Name = "face", X = 1, Y = 2, W = 30, H = 40, CreatedAt = T0 },
            new CropEntry { Name = "hands", X = 5, Y = 6, W = 70, H = 80, CreatedAt = T0 },
        ];
        full.Suggestions =
        [
            Suggestion("hat", SuggestionStatus.Pending),
            Suggestion("scarf", SuggestionStatus.Approved),
            Suggestion("gloves", SuggestionStatus.Rejected),
            Suggestion("boots", SuggestionStatus.Pending),
        ];

        var bare = Sidecar(2);
        bare.Original = new OriginalInfo { Ext = "jpg", MediaType = "image/jpeg", Size = 0 };
        await UpsertAsync(full);
        await UpsertTrashAsync(bare);

        var docs = ById(await ReadDocumentsAsync(0));
        Assert.Equal(2, docs.Count);

        var d = docs[full.Id];
        Assert.Equal(full.Id, d.Id);
        Assert.False(d.InTrash);
        Assert.Equal(MediaKinds.Mask, d.Kind);
        Assert.Equal("png", d.Type);
        Assert.Equal(5_000_000_123, d.Size);
        Assert.Equal(1920, d.Width);
        Assert.Equal(1080, d.Height);
        Assert.Equal(full.CreatedAt.ToUnixTimeMilliseconds(), d.CreatedAt);
        Assert.Equal(full.Original.TakenAt.Value.ToUnixTimeMilliseconds(), d.TakenAt);
        Assert.Equal("Alice", d.Uploader);
        Assert.Equal(IdOf(9), d.MaskSource);
        Assert.Equal(0xfedcba9876543210UL, d.PHash);
        Assert.Equal(0x8000000000000001UL, d.DHash);
        Assert.Equal(["long_hair", "smile"], Sorted(d.Tags));
        Assert.Equal(["first", "second", "third"], d.Captions);
        Assert.Equal(Sorted([AlpsId, BeachId]), Sorted(d.Collections));
        Assert.Equal(2, d.CropCount);
        Assert.Equal(["boots", "hat"], Sorted(d.PendingSuggestions));

        var b = docs[bare.Id];
        Assert.Equal(bare.Id, b.Id);
        Assert.True(b.InTrash);
        Assert.Equal(MediaKinds.Image, b.Kind);
        Assert.Equal("jpg", b.Type);
        Assert.Equal(0, b.Size);
        Assert.Null(b.Width);
        Assert.Null(b.Height);
        Assert.Equal(T0.ToUnixTimeMilliseconds(), b.CreatedAt);
        Assert.Null(b.TakenAt);
        Assert.Null(b.Uploader);
        Assert.Null(b.MaskSource);
        Assert.Null(b.PHash);
        Assert.Null(b.DHash);
        Assert.Empty(b.Tags);
        Assert.Empty(b.Captions);
        Assert.Empty(b.Collections);
        Assert.Equal(0, b.CropCount);
        Assert.Empty(b.PendingSuggestions);

        Assert.NotEqual(d.Key, b.Key);
        var maxKey = (await StateAsync()).MaxKey;
        Assert.All(docs.Values, doc => Assert.InRange(doc.Key, 0, maxKey));
    }

    [Fact]
    public async Task A_loaded_engine_finds_media_by_the_indexed_fields()
    {
        var image = Sidecar(1, "smile");
        image.Original = new OriginalInfo
        {
            Ext = "png",
            MediaType = "image/png",
            Size = 3_000_000,
            Width = 1920,
            Height = 1080,
            TakenAt = new DateTimeOffset(2023, 7, 4, 10, 0, 0, TimeSpan.Zero),
        };
        image.Uploader = "Alice";
        image.Captions = [new CaptionEntry { Id = 1, Text = "A red car on the beach", Primary = true, Source = CaptionSources.Import, CreatedAt = T0 }];
        image.Crops = [new CropEntry { Name = "face", X = 1, Y = 2, W = 30, H = 40, CreatedAt = T0 }];
        image.Collections = [Member(BeachId, 1)];
        image.Suggestions = [Suggestion("hat", SuggestionStatus.Pending), Suggestion("scarf", SuggestionStatus.Approved)];
        var mask = Sidecar(2, "outline");
        mask.Kind = MediaKinds.Mask;
        mask.Mask = new MaskInfo { Source = image.Id, Category = "person" };
        var plain = Sidecar(3, "plain");
        await UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(1, 1, Digest("b")));
        await UpsertAsync(image, mask, plain);

        foreach (var query in new[]
                 {
                     "type:png", "uploader:alice", "width:1920", "height:1080", "taken:2023-07-04", "filesize:>2mb", "caption:\"red car\"",
                     "has:caption", "has:crop", "has:suggestions", "suggested:hat", "collection:beach", "has:mask",
                 })
        {
            var found = await SearchAllAsync(query);
            Assert.True(found.SequenceEqual([image.Id]), $"{query} found [{string.Join(", ", found)}]");
        }

        Assert.Empty(await SearchAllAsync("suggested:scarf"));
        Assert.Equal([mask.Id], await SearchAllAsync("kind:mask"));
        Assert.Equal([plain.Id], await SearchAllAsync("-has:caption kind:image"));
    }

    [Fact]
    public async Task ReadSearchDocuments_returns_exactly_the_media_written_after_a_change_number()
    {
        await UpsertAsync(Sidecar(1, "a"), Sidecar(2, "b"));
        var s1 = await StateAsync();
        Assert.Equal(Sorted([IdOf(1), IdOf(2)]), IdsOf(await ReadDocumentsAsync(0)));
        Assert.Empty(await ReadDocumentsAsync(s1.ChangeSeq));

        await UpsertAsync(Sidecar(3, "c"));
        var s2 = await StateAsync();
        Assert.Equal([IdOf(3)], IdsOf(await ReadDocumentsAsync(s1.ChangeSeq)));
        Assert.Equal(Sorted([IdOf(1), IdOf(2), IdOf(3)]), IdsOf(await ReadDocumentsAsync(0)));

        var a2 = Sidecar(1, "a", "a2");
        a2.Revision = 2;
        await UpsertAsync(a2);
        var s3 = await StateAsync();
        var changed = Assert.Single(await ReadDocumentsAsync(s2.ChangeSeq));
        Assert.Equal(IdOf(1), changed.Id);
        Assert.Equal(["a", "a2"], Sorted(changed.Tags));
        Assert.Equal(Sorted([IdOf(1), IdOf(3)]), IdsOf(await ReadDocumentsAsync(s1.ChangeSeq)));

        await UpsertTrashAsync(Sidecar(2, "b"));
        var s4 = await StateAsync();
        var trashed = Assert.Single(await ReadDocumentsAsync(s3.ChangeSeq));
        Assert.Equal(IdOf(2), trashed.Id);
        Assert.True(trashed.InTrash);

        // A removed media is no document any more (its key is reported by RemovedSinceAsync instead).
        await WriteAsync(tx => tx.RemoveMediaAsync(IdOf(3), Ct));
        var s5 = await StateAsync();
        Assert.Empty(await ReadDocumentsAsync(s4.ChangeSeq));
        Assert.Empty(await ReadDocumentsAsync(s5.ChangeSeq));
        Assert.Equal(Sorted([IdOf(1), IdOf(2)]), IdsOf(await ReadDocumentsAsync(s1.ChangeSeq)));

        var all = await ReadDocumentsAsync(0);
        Assert.Equal(Sorted([IdOf(1), IdOf(2)]), IdsOf(all));
        Assert.Equal(all.Select(d => d.Key).Order(), all.Select(d => d.Key));
        var latest = ById(all);
        Assert.Equal(["a", "a2"], Sorted(latest[IdOf(1)].Tags));
        Assert.False(latest[IdOf(1)].InTrash);
        Assert.True(latest[IdOf(2)].InTrash);
    }

    [Fact]
    public async Task A_media_keeps_its_key_across_updates_and_trash_moves()
    {
        await UpsertAsync(Sidecar(1, "a"), Sidecar(2, "b"), Sidecar(3, "c"));
        var keys = KeysById(await ReadDocumentsAsync(0));
        Assert.Equal(3, keys.Values.Distinct().Count());
        Assert.All(keys.Values, k => Assert.True(k >= 0));

        var a2 = Sidecar(1, "x", "y");
        a2.Revision = 2;
        await UpsertAsync(a2);
        await UpsertTrashAsync(Sidecar(2, "b"));
        await UpsertAsync(Sidecar(2, "b"));
        await WriteAsync(async tx =>
        {
            await tx.UpsertMediaAsync(Sidecar(3, "c", "d"), true, StampFor(Sidecar(3)), Ct);
            await tx.UpsertMediaAsync(Sidecar(3, "c", "e"), false, StampFor(Sidecar(3)), Ct);
        });

        Assert.Equal(keys, KeysById(await ReadDocumentsAsync(0)));
    }

    [Fact]
    public async Task RemovedSince_returns_the_keys_of_media_removed_after_a_change_number()
    {
        await UpsertAsync(Sidecar(1), Sidecar(2), Sidecar(3));
        await UpsertTrashAsync(Sidecar(4));
        var keys = KeysById(await ReadDocumentsAsync(0));
        var s1 = await StateAsync();
        Assert.Empty(await Index.RemovedSinceAsync(0, Ct));

        await WriteAsync(tx => tx.RemoveMediaAsync(IdOf(1), Ct));
        var s2 = await StateAsync();
        await WriteAsync(async tx =>
        {
            await tx.RemoveMediaAsync(IdOf(2), Ct);
            await tx.RemoveMediaAsync(IdOf(4), Ct); // from the trash
            await tx.RemoveMediaAsync(IdOf(99), Ct); // unknown: nothing to report
        });
        var s3 = await StateAsync();

        int[] k124 = [.. new[] { keys[IdOf(1)], keys[IdOf(2)], keys[IdOf(4)] }.Order()];
        Assert.Equal(k124, (await Index.RemovedSinceAsync(0, Ct)).Order());
        Assert.Equal(k124, (await Index.RemovedSinceAsync(s1.ChangeSeq, Ct)).Order());
        Assert.Equal([.. new[] { keys[IdOf(2)], keys[IdOf(4)] }.Order()], (await Index.RemovedSinceAsync(s2.ChangeSeq, Ct)).Order());
        Assert.Empty(await Index.RemovedSinceAsync(s3.ChangeSeq, Ct));
        Assert.Empty(await ReadDocumentsAsync(s1.ChangeSeq));
        Assert.Equal([IdOf(3)], IdsOf(await ReadDocumentsAsync(0)));
    }

    [Fact]
    public async Task Catching_up_from_a_change_number_gives_the_same_engine_as_a_fresh_load()
    {
        using var engine = await LoadSearchIndexAsync();
        var seq = (await StateAsync()).ChangeSeq;

        // The steps reuse freed keys where the engine does (a removed media with the largest key, then a new one).
        await UpsertAsync(Sidecar(1, "a"), Sidecar(2, "a", "b"), Sidecar(3, "b"), Sidecar(4, "c"), Sidecar(5, "a", "c"));
        await CatchUpAndCompareAsync();

        await UpsertAsync(Sidecar(2, "c"));
        await UpsertTrashAsync(Sidecar(3, "b"));
        await CatchUpAndCompareAsync();

        await WriteAsync(tx => tx.RemoveMediaAsync(IdOf(5), Ct));
        await UpsertAsync(Sidecar(6, "b", "c"));
        await CatchUpAndCompareAsync();

        await WriteAsync(async tx =>
        {
            await tx.RemoveMediaAsync(IdOf(6), Ct);
            await tx.UpsertMediaAsync(Sidecar(5, "b"), false, StampFor(Sidecar(5)), Ct);
            await tx.UpsertMediaAsync(Sidecar(3, "a"), false, StampFor(Sidecar(3)), Ct);
        });
        await CatchUpAndCompareAsync();

        await WriteAsync(async tx =>
        {
            await tx.RemoveMediaAsync(IdOf(1), Ct);
            await tx.UpsertMediaAsync(Sidecar(1, "c"), true, StampFor(Sidecar(1)), Ct);
            await tx.RemoveMediaAsync(IdOf(4), Ct);
        });
        await CatchUpAndCompareAsync();

        await WriteAsync(async tx =>
        {
            foreach (var n in new[] { 1, 2, 3, 5 })
            {
                await tx.RemoveMediaAsync(IdOf(n), Ct);
            }

            await tx.UpsertMediaAsync(Sidecar(7, "a"), false, StampFor(Sidecar(7)), Ct);
        });
        await CatchUpAndCompareAsync();
        Assert.Equal(1, engine.Count);

        async Task CatchUpAndCompareAsync()
        {
            var state = await StateAsync();
            foreach (var key in await Index.RemovedSinceAsync(seq, Ct))
            {
                engine.Remove(key);
            }

            await foreach (var doc in Index.ReadSearchDocumentsAsync(seq, Ct))
            {
                engine.Upsert(doc);
            }

            seq = state.ChangeSeq;
            using var fresh = await LoadSearchIndexAsync();
            Assert.Equal(fresh.Count, engine.Count);
            foreach (var query in new[] { string.Empty, "a", "b", "c", "a or b", "-a", "a c", "order:id", "order:tagcount" })
            {
                var expected = fresh.Search(query, new SearchRequest(1000), Ct);
                var actual = engine.Search(query, new SearchRequest(1000), Ct);
                Assert.Equal(expected.Total, actual.Total);
                Assert.Equal(expected.Ids, actual.Ids);
            }
        }
    }

    [Fact]
    public async Task CatalogSeq_changes_with_the_vocabulary_and_the_collections_only()
    {
        var catalog = new List<long> { (await StateAsync()).CatalogSeq };

        await UpsertAsync(Sidecar(1, "smile"));
        var afterMedia = await StateAsync();
        Assert.Equal(catalog[0], afterMedia.CatalogSeq);

        await SetVocabularyAsync(AliasVocabulary(), new FileStamp(1, 2, Digest("v")));
        catalog.Add((await StateAsync()).CatalogSeq);
        Assert.Equal([new KeyValuePair<string, string>("grin", "smile")], await Index.ListAliasesAsync(Ct));

        // A catalog change is no media change: no documents to read again.
        Assert.Empty(await ReadDocumentsAsync(afterMedia.ChangeSeq));

        await UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(3, 4, Digest("c")));
        catalog.Add((await StateAsync()).CatalogSeq);
        await UpsertCollectionAsync(Collection(BeachId, "Beach, renamed"), new FileStamp(5, 6, Digest("c2")));
        catalog.Add((await StateAsync()).CatalogSeq);
        await WriteAsync(tx => tx.RemoveCollectionAsync(BeachId, Ct));
        catalog.Add((await StateAsync()).CatalogSeq);
        await SetVocabularyAsync(new Vocabulary());
        catalog.Add((await StateAsync()).CatalogSeq);
        Assert.Empty(await Index.ListAliasesAsync(Ct));

        Assert.Equal(catalog.Count, catalog.Distinct().Count());

        // Media-only and meta-only commits leave it alone.
        var last = catalog[^1];
        var member = Sidecar(2, "x");
        member.Collections = [Member(AlpsId, 1)];
        await UpsertAsync(member);
        Assert.Equal(last, (await StateAsync()).CatalogSeq);
        await UpsertTrashAsync(member);
        Assert.Equal(last, (await StateAsync()).CatalogSeq);
        await WriteAsync(tx => tx.RemoveMediaAsync(member.Id, Ct));
        Assert.Equal(last, (await StateAsync()).CatalogSeq);
        var beforeMeta = await StateAsync();
        await WriteAsync(tx => tx.SetMetaAsync("library_id", "lib-1", Ct));
        Assert.Equal(beforeMeta, await StateAsync());
    }

    [Fact]
    public async Task Epoch_changes_when_a_clear_is_committed_and_only_then()
    {
        var epoch = (await StateAsync()).Epoch;
        Assert.False(string.IsNullOrEmpty(epoch));

        await UpsertAsync(Sidecar(1, "old"));
        await UpsertTrashAsync(Sidecar(2, "old"));
        await WriteAsync(tx => tx.RemoveMediaAsync(IdOf(2), Ct));
        await SetVocabularyAsync(AliasVocabulary());
        await UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(3, 4, Digest("c")));
        await WriteAsync(tx => tx.SetMetaAsync("library_id", "lib-1", Ct));
        await using (var tx = await Index.BeginAsync(Ct))
        {
            await tx.ClearAsync(Ct);
        }

        var before = await StateAsync();
        Assert.Equal(epoch, before.Epoch);

        // It is stored with the index: reopening is no new epoch (other processes would reload for nothing).
        await ReopenAsync();
        Assert.Equal(before, await StateAsync());

        await WriteAsync(async tx =>
        {
            await tx.ClearAsync(Ct);
            await tx.UpsertMediaAsync(Sidecar(3, "fresh"), false, StampFor(Sidecar(3)), Ct);
        });
        var refilled = await StateAsync();
        Assert.NotEqual(epoch, refilled.Epoch);
        Assert.False(string.IsNullOrEmpty(refilled.Epoch));
        Assert.Equal([IdOf(3)], IdsOf(await ReadDocumentsAsync(0)));
        Assert.Empty(await Index.ListAliasesAsync(Ct));
        Assert.Equal([IdOf(3)], await SearchAllAsync(string.Empty));

        await UpsertAsync(Sidecar(4, "later"));
        Assert.Equal(refilled.Epoch, (await StateAsync()).Epoch);

        // A clear with nothing after it is a new epoch too.
        await WriteAsync(tx => tx.ClearAsync(Ct));
        var emptied = await StateAsync();
        Assert.NotEqual(refilled.Epoch, emptied.Epoch);
        Assert.NotEqual(epoch, emptied.Epoch);
        Assert.Equal(0, emptied.MaxKey);
        Assert.Empty(await ReadDocumentsAsync(0));
    }

    [Fact]
    public async Task MaxKey_is_the_largest_key_in_use()
    {
        await UpsertAsync(Sidecar(1), Sidecar(2), Sidecar(3));
        await UpsertTrashAsync(Sidecar(4));
        await AssertMaxKeyAsync();

        var top = (await ReadDocumentsAsync(0)).MaxBy(d => d.Key)!;
        await WriteAsync(tx => tx.RemoveMediaAsync(top.Id, Ct));
        await AssertMaxKeyAsync();

        await UpsertAsync(Sidecar(5), Sidecar(6));
        await AssertMaxKeyAsync();

        var remaining = IdsOf(await ReadDocumentsAsync(0));
        await WriteAsync(async tx =>
        {
            foreach (var id in remaining)
            {
                await tx.RemoveMediaAsync(id, Ct);
            }
        });
        Assert.Equal(0, (await StateAsync()).MaxKey);

        async Task AssertMaxKeyAsync()
        {
            var docs = await ReadDocumentsAsync(0);
            Assert.Equal(docs.Max(d => d.Key), (await StateAsync()).MaxKey);
        }
    }

    [Fact]
    public async Task Change_tracking_reads_show_committed_state_while_a_transaction_is_open_on_the_same_instance()
    {
        await UpsertAsync(Sidecar(1, "a"), Sidecar(3, "c"));
        await SetVocabularyAsync(AliasVocabulary());
        var committed = await StateAsync();
        var committedDocs = await ReadDocumentsAsync(0);
        var aliases = await Index.ListAliasesAsync(Ct);

        await using (var tx = await Index.BeginAsync(Ct))
        {
            Assert.Equal(committed, await StateAsync());
            Assert.Equal(Sorted([IdOf(1), IdOf(3)]), IdsOf(await ReadDocumentsAsync(0)));

            await tx.UpsertMediaAsync(Sidecar(2, "b"), false, StampFor(Sidecar(2)), Ct);
            await tx.UpsertMediaAsync(Sidecar(1, "changed"), false, StampFor(Sidecar(1)), Ct);
            await tx.RemoveMediaAsync(IdOf(3), Ct);
            await tx.SetVocabularyAsync(new Vocabulary(), null, Ct);
            await tx.ClearAsync(Ct);
            await tx.UpsertMediaAsync(Sidecar(4, "d"), false, StampFor(Sidecar(4)), Ct);

            // Other reads see the transaction's writes; the change-tracking ones do not.
            Assert.NotNull(await Index.GetMediaAsync(IdOf(4), Ct));
            Assert.Equal(committed, await StateAsync());
            Assert.Equal(IdsOf(committedDocs), IdsOf(await ReadDocumentsAsync(0)));
            Assert.Equal(["a"], ById(await ReadDocumentsAsync(0))[IdOf(1)].Tags);
            Assert.Empty(await ReadDocumentsAsync(committed.ChangeSeq));
            Assert.Empty(await Index.RemovedSinceAsync(0, Ct));
            Assert.Equal(aliases, await Index.ListAliasesAsync(Ct));
        }

        // Rolled back: nothing changed.
        Assert.Equal(committed, await StateAsync());
        Assert.Equal(Sorted([IdOf(1), IdOf(3)]), IdsOf(await ReadDocumentsAsync(0)));

        await using (var tx = await Index.BeginAsync(Ct))
        {
            await tx.UpsertMediaAsync(Sidecar(2, "b"), false, StampFor(Sidecar(2)), Ct);
            await tx.RemoveMediaAsync(IdOf(3), Ct);
            Assert.Equal(Sorted([IdOf(1), IdOf(3)]), IdsOf(await ReadDocumentsAsync(0)));
            await tx.CommitAsync(Ct);

            // Committed (not yet disposed): readable, with the writes.
            Assert.Equal(Sorted([IdOf(1), IdOf(2)]), IdsOf(await ReadDocumentsAsync(0)));
            Assert.Equal([IdOf(2)], IdsOf(await ReadDocumentsAsync(committed.ChangeSeq)));
            Assert.Single(await Index.RemovedSinceAsync(committed.ChangeSeq, Ct));
            Assert.True((await StateAsync()).ChangeSeq > committed.ChangeSeq);
        }
    }

    [Fact]
    public async Task A_second_instance_on_the_same_storage_sees_the_committed_changes()
    {
        await UpsertAsync(Sidecar(1, "a"));
        await using var second = await OpenSecondInstanceAsync(IndexDirectory);
        Assert.Equal(await StateAsync(), await StateAsync(second));
        Assert.Equal([IdOf(1)], IdsOf(await ReadDocumentsAsync(0, second)));
        var key1 = Assert.Single(await ReadDocumentsAsync(0, second)).Key;

        // A search engine loaded by the second instance, kept in step the way the application does.
        using var engine = await LoadSearchIndexAsync(second);
        var seq = (await StateAsync(second)).ChangeSeq;

        var before = await StateAsync(second);
        await UpsertAsync(Sidecar(2, "b"));
        var after = await StateAsync(second);
        Assert.Equal(await StateAsync(), after);
        Assert.True(after.ChangeSeq > before.ChangeSeq);
        Assert.Equal([IdOf(2)], IdsOf(await ReadDocumentsAsync(before.ChangeSeq, second)));

        await WriteAsync(tx => tx.RemoveMediaAsync(IdOf(1), Ct));
        Assert.Equal([key1], await second.RemovedSinceAsync(after.ChangeSeq, Ct));
        Assert.Empty(await ReadDocumentsAsync(after.ChangeSeq, second));

        await SetVocabularyAsync(AliasVocabulary());
        await UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(3, 4, Digest("c")));
        var catalog = await StateAsync(second);
        Assert.NotEqual(after.CatalogSeq, catalog.CatalogSeq);
        Assert.Equal(await StateAsync(), catalog);
        Assert.Equal([new KeyValuePair<string, string>("grin", "smile")], await second.ListAliasesAsync(Ct));
        Assert.Equal([BeachId], (await second.ListCollectionsAsync(Ct)).Select(c => c.Id));

        await CatchUpAsync();
        Assert.Equal([IdOf(2)], engine.Search(string.Empty, new SearchRequest(10), Ct).Ids);

        // And the other way round.
        var first = await StateAsync();
        var c = Sidecar(3, "smile");
        await using (var tx = await second.BeginAsync(Ct))
        {
            await tx.UpsertMediaAsync(c, false, StampFor(c), Ct);
            await tx.CommitAsync(Ct);
        }

        Assert.Equal(await StateAsync(second), await StateAsync());
        Assert.Equal([IdOf(3)], IdsOf(await ReadDocumentsAsync(first.ChangeSeq)));
        await CatchUpAsync();
        Assert.Equal([IdOf(3)], engine.Search("grin", new SearchRequest(10), Ct).Ids);

        // Uncommitted writes are not seen.
        var committed = await StateAsync(second);
        await using (var tx = await Index.BeginAsync(Ct))
        {
            await tx.UpsertMediaAsync(Sidecar(4, "d"), false, StampFor(Sidecar(4)), Ct);
            await tx.RemoveMediaAsync(IdOf(2), Ct);
            await tx.SetVocabularyAsync(new Vocabulary(), null, Ct);

            Assert.Equal(committed, await StateAsync(second));
            Assert.Empty(await ReadDocumentsAsync(committed.ChangeSeq, second));
            Assert.Empty(await second.RemovedSinceAsync(committed.ChangeSeq, Ct));
            Assert.NotEmpty(await second.ListAliasesAsync(Ct));
        }

        Assert.Equal(committed, await StateAsync(second));

        // A clear committed by one instance is a new epoch for the other.
        await WriteAsync(async tx =>
        {
            await tx.ClearAsync(Ct);
            await tx.UpsertMediaAsync(Sidecar(5, "e"), false, StampFor(Sidecar(5)), Ct);
        });
        var cleared = await StateAsync(second);
        Assert.NotEqual(committed.Epoch, cleared.Epoch);
        Assert.Equal(await StateAsync(), cleared);
        Assert.Equal([IdOf(5)], IdsOf(await ReadDocumentsAsync(0, second)));

        async Task CatchUpAsync()
        {
            var state = await StateAsync(second);
            foreach (var key in await second.RemovedSinceAsync(seq, Ct))
            {
                engine.Remove(key);
            }

            await foreach (var doc in second.ReadSearchDocumentsAsync(seq, Ct))
            {
                engine.Upsert(doc);
            }

            engine.SetAliases(await second.ListAliasesAsync(Ct));
            engine.SetCollections((await second.ListCollectionsAsync(Ct)).Select(x => (x.Id, x.Name)));
            seq = state.ChangeSeq;
        }
    }

    private Task<IndexChangeState> StateAsync(ILibraryIndex? index = null) => (index ?? Index).GetChangeStateAsync(Ct);

    private static Dictionary<string, SearchDocument> ById(IEnumerable<SearchDocument> docs) =>
        docs.ToDictionary(d => d.Id, StringComparer.Ordinal);

    private static Dictionary<string, int> KeysById(IEnumerable<SearchDocument> docs) =>
        docs.ToDictionary(d => d.Id, d => d.Key, StringComparer.Ordinal);

    private static string[] IdsOf(IEnumerable<SearchDocument> docs) => Sorted(docs.Select(d => d.Id));

    private static Vocabulary AliasVocabulary()
    {
        var vocabulary = new Vocabulary();
        vocabulary.Aliases["grin"] = new AliasInfo { To = "smile", CreatedAt = T0 };
        return vocabulary;
    }

    private static TagSuggestion Suggestion(string tag, string status) =>
        new() { Tag = tag, Status = status, Confidence = 0.9, Model = "tagger", ModelVersion = "1", CreatedAt = T0 };
}
