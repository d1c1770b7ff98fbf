using Trove.Application.Ports;
using Trove.Library;

namespace Trove.Index.Conformance;

public abstract partial class LibraryIndexConformanceTests
{
    private const string BeachId = "0123456789ab";
    private const string AlpsId = "ba9876543210";

    [Fact]
    public async Task Collections_are_listed_with_metadata_stamps_and_library_member_counts()
    {
        var beach = Collection(BeachId, "Beach trip", "Summer 2024", "beach", "summer");
        var alps = Collection(AlpsId, "Alps");
        alps.CreatedAt = T0.AddDays(-3);
        alps.UpdatedAt = T0.AddDays(-2).AddMilliseconds(5);
        var beachStamp = new FileStamp(120, T0.UtcTicks, Digest("beach"));
        var alpsStamp = new FileStamp(80, T0.AddDays(1).UtcTicks, Digest("alps"));
        await UpsertCollectionAsync(beach, beachStamp);
        await UpsertCollectionAsync(alps, alpsStamp);

        var m1 = Sidecar(1);
        m1.Collections = [Member(BeachId, 20)];
        var m2 = Sidecar(2);
        m2.Collections = [Member(BeachId, 10)];
        var m3 = Sidecar(3);
        m3.Collections = [Member(BeachId, 5)];
        var m4 = Sidecar(4);
        m4.Collections = [Member(BeachId, 30), Member(AlpsId, 1)];
        await UpsertAsync(m1, m2, m4);
        await UpsertTrashAsync(m3);

        var collections = (await Index.ListCollectionsAsync(Ct)).ToDictionary(c => c.Id, StringComparer.Ordinal);
        Assert.Equal(2, collections.Count);

        var listedBeach = collections[BeachId];
        Assert.Equal("Beach trip", listedBeach.Name);
        Assert.Equal("Summer 2024", listedBeach.Description);
        Assert.Equal(["beach", "summer"], listedBeach.Tags);
        Assert.Equal(beach.CreatedAt, listedBeach.CreatedAt);
        Assert.Equal(beach.UpdatedAt, listedBeach.UpdatedAt);
        Assert.Equal(3, listedBeach.MemberCount); // m3 is in the trash

        var listedAlps = collections[AlpsId];
        Assert.Equal("Alps", listedAlps.Name);
        Assert.Null(listedAlps.Description);
        Assert.Empty(listedAlps.Tags);
        Assert.Equal(alps.CreatedAt, listedAlps.CreatedAt);
        Assert.Equal(alps.UpdatedAt, listedAlps.UpdatedAt);
        Assert.Equal(1, listedAlps.MemberCount);

        var stamps = await Index.GetCollectionStampsAsync(Ct);
        Assert.Equal(2, stamps.Count);
        Assert.Equal(beachStamp, stamps[BeachId]);
        Assert.Equal(alpsStamp, stamps[AlpsId]);
    }

    [Fact]
    public async Task A_collection_without_members_has_a_zero_count()
    {
        await UpsertCollectionAsync(Collection(BeachId, "Empty"), new FileStamp(1, 2, Digest("c")));

        var collection = Assert.Single(await Index.ListCollectionsAsync(Ct));
        Assert.Equal(0, collection.MemberCount);
        Assert.Empty(await Index.CollectionMembersAsync(BeachId, Ct));
    }

    [Fact]
    public async Task Upserting_a_collection_again_replaces_it()
    {
        await UpsertCollectionAsync(Collection(BeachId, "Beach", "old", "a"), new FileStamp(1, 1, Digest("1")));
        var renamed = Collection(BeachId, "Seaside", null, "b", "c");
        renamed.UpdatedAt = T0.AddDays(5);
        var stamp = new FileStamp(2, 2, Digest("2"));
        await UpsertCollectionAsync(renamed, stamp);

        var collection = Assert.Single(await Index.ListCollectionsAsync(Ct));
        Assert.Equal(BeachId, collection.Id);
        Assert.Equal("Seaside", collection.Name);
        Assert.Null(collection.Description);
        Assert.Equal(["b", "c"], collection.Tags);
        Assert.Equal(renamed.UpdatedAt, collection.UpdatedAt);
        Assert.Equal(stamp, Assert.Single(await Index.GetCollectionStampsAsync(Ct)).Value);
    }

    [Fact]
    public async Task Removing_a_collection_removes_it_and_its_stamp()
    {
        await UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(1, 1, Digest("1")));
        await UpsertCollectionAsync(Collection(AlpsId, "Alps"), new FileStamp(2, 2, Digest("2")));

        await WriteAsync(async tx =>
        {
            await tx.RemoveCollectionAsync(AlpsId, Ct);
            await tx.RemoveCollectionAsync("ffffffffffff", Ct); // unknown: no-op
        });

        Assert.Equal(BeachId, Assert.Single(await Index.ListCollectionsAsync(Ct)).Id);
        Assert.Equal(BeachId, Assert.Single(await Index.GetCollectionStampsAsync(Ct)).Key);
    }

    [Fact]
    public async Task CollectionMembers_are_in_position_order_and_include_trash()
    {
        var ids = new[] { IdOf(1), IdOf(2), IdOf(3), IdOf(4) };
        long[] positions = [300, 100, 50, 200];
        for (var i = 0; i < ids.Length; i++)
        {
            var sidecar = Sidecar(ids[i]);
            sidecar.Collections = [Member(BeachId, positions[i]), Member(AlpsId, 1000 - positions[i])];
            if (i == 2)
            {
                await UpsertTrashAsync(sidecar);
            }
            else
            {
                await UpsertAsync(sidecar);
            }
        }

        await UpsertAsync(Sidecar(5)); // not a member

        Assert.Equal(
            [
                new CollectionMember(ids[2], 50, true),
                new CollectionMember(ids[1], 100, false),
                new CollectionMember(ids[3], 200, false),
                new CollectionMember(ids[0], 300, false),
            ],
            await Index.CollectionMembersAsync(BeachId, Ct));
        Assert.Equal([ids[0], ids[3], ids[1], ids[2]], (await Index.CollectionMembersAsync(AlpsId, Ct)).Select(m => m.MediaId));
        Assert.Empty(await Index.CollectionMembersAsync("ffffffffffff", Ct));
    }

    [Fact]
    public async Task CollectionMembers_follow_position_changes()
    {
        var a = Sidecar(1);
        a.Collections = [Member(BeachId, 10)];
        var b = Sidecar(2);
        b.Collections = [Member(BeachId, 20)];
        await UpsertAsync(a, b);

        a.Revision = 2;
        a.Collections = [Member(BeachId, 30)];
        await UpsertAsync(a);

        Assert.Equal([b.Id, a.Id], (await Index.CollectionMembersAsync(BeachId, Ct)).Select(m => m.MediaId));
        Assert.Equal(30, (await Index.CollectionMembersAsync(BeachId, Ct))[1].Position);
    }
}
