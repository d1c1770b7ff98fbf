using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class CollectionTests
{
    [Fact]
    public async Task Create_refuses_a_duplicate_name_case_insensitively()
    {
        await using var t = await CreateAsync();
        var created = await t.Collections.CreateAsync("  Summer 2024 ", "Beach trip", Ct);
        Assert.Equal("Summer 2024", created.Name);
        Assert.Equal("Beach trip", created.Description);
        Assert.Matches("^[0-9a-f]{12}$", created.Id);
        Assert.True(File.Exists(t.Layout.CollectionPath(created.Id)));

        var ex = await Assert.ThrowsAsync<TroveUsageException>(() => t.Collections.CreateAsync("summer 2024", null, Ct));
        Assert.Equal("collection-exists", ex.Code);
        Assert.Single(await t.Collections.ListAsync(Ct));
        Assert.Single(Directory.EnumerateFiles(t.Layout.CollectionsDir));

        var bad = await Assert.ThrowsAsync<TroveUsageException>(() => t.Collections.CreateAsync("   ", null, Ct));
        Assert.Equal("invalid-collection-name", bad.Code);
    }

    [Fact]
    public async Task Rename_and_describe_rewrite_only_the_collection_file()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2]);
        var c = await t.Collections.CreateAsync("Draft", null, Ct);
        await t.Collections.CreateAsync("Other", null, Ct);
        await t.Collections.AddAsync("draft", ids, Ct);
        var sidecars = ids.Select(id => File.ReadAllBytes(t.SidecarPath(id))).ToList();

        var renamed = await t.Collections.RenameAsync("DRAFT", "Final", Ct);
        Assert.Equal(c.Id, renamed.Id);
        Assert.Equal("Final", renamed.Name);
        var clash = await Assert.ThrowsAsync<TroveUsageException>(() => t.Collections.RenameAsync("final", "OTHER", Ct));
        Assert.Equal("collection-exists", clash.Code);
        await Assert.ThrowsAsync<TroveException>(() => t.Collections.ShowAsync("Draft", Ct));

        await t.Collections.DescribeAsync("final", "The chosen ones", ["Best Of", "best_of", "picks"], Ct);
        var listed = (await t.Collections.ListAsync(Ct)).Single(x => x.Id == c.Id);
        Assert.Equal("Final", listed.Name);
        Assert.Equal("The chosen ones", listed.Description);
        Assert.Equal(["best_of", "picks"], listed.Tags);
        Assert.Equal(2, listed.MemberCount);

        // Only the description is cleared; tags stay when not given.
        await t.Collections.DescribeAsync("final", string.Empty, null, Ct);
        listed = (await t.Collections.ListAsync(Ct)).Single(x => x.Id == c.Id);
        Assert.Null(listed.Description);
        Assert.Equal(["best_of", "picks"], listed.Tags);

        Assert.Equal(sidecars, ids.Select(id => File.ReadAllBytes(t.SidecarPath(id))).ToList());
        Assert.Equal(ids, (await t.Collections.ShowAsync(c.Id, Ct)).Members);
    }

    [Fact]
    public async Task Add_preserves_order_and_remove_drops_members()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3, 4]);
        await t.Collections.CreateAsync("set", null, Ct);

        await t.Collections.AddAsync("set", [ids[2], ids[0]], Ct);
        var view = await t.Collections.AddAsync("set", [ids[3], ids[2][..10], ids[1]], Ct);

        Assert.Equal([ids[2], ids[0], ids[3], ids[1]], view.Members);
        Assert.Single(t.ReadSidecar(ids[2]).Collections);

        view = await t.Collections.RemoveAsync("set", [ids[0], ids[3]], Ct);
        Assert.Equal([ids[2], ids[1]], view.Members);
        Assert.Empty(t.ReadSidecar(ids[0]).Collections);
        Assert.Equal(new[] { ids[2], ids[1] }.Order(StringComparer.Ordinal), await t.SearchIdsAsync("collection:set order:id"));
    }

    [Fact]
    public async Task Move_to_first_middle_and_last_rewrites_one_sidecar()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3, 4, 5]);
        await t.Collections.CreateAsync("seq", null, Ct);
        await t.Collections.AddAsync("seq", ids, Ct);
        var (a, b, c, d, e) = (ids[0], ids[1], ids[2], ids[3], ids[4]);

        var view = await t.Collections.MoveAsync("seq", e, 1, Ct);
        Assert.Equal([e, a, b, c, d], view.Members);

        view = await t.Collections.MoveAsync("seq", a, 5, Ct);
        Assert.Equal([e, b, c, d, a], view.Members);

        var revisions = ids.ToDictionary(id => id, id => t.ReadSidecar(id).Revision);
        view = await t.Collections.MoveAsync("seq", d, 2, Ct);
        Assert.Equal([e, d, b, c, a], view.Members);
        Assert.Equal([d], ids.Where(id => t.ReadSidecar(id).Revision != revisions[id]));

        // Moving to its own place is allowed and keeps the order.
        view = await t.Collections.MoveAsync("seq", b, 3, Ct);
        Assert.Equal([e, d, b, c, a], view.Members);

        var notMember = (await t.ImportPngsAsync([9]))[0];
        Assert.Equal("not-a-member", (await Assert.ThrowsAsync<TroveUsageException>(() => t.Collections.MoveAsync("seq", notMember, 1, Ct))).Code);
        Assert.Equal("bad-position", (await Assert.ThrowsAsync<TroveUsageException>(() => t.Collections.MoveAsync("seq", a, 6, Ct))).Code);
        Assert.Equal("bad-position", (await Assert.ThrowsAsync<TroveUsageException>(() => t.Collections.MoveAsync("seq", a, 0, Ct))).Code);
    }

    [Fact]
    public async Task Move_renumbers_everything_when_positions_have_no_gap()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3, 4]);
        var collection = await t.Collections.CreateAsync("tight", null, Ct);
        await t.Collections.AddAsync("tight", ids, Ct);

        // Someone renumbered the positions by hand to consecutive integers.
        for (var i = 0; i < ids.Count; i++)
        {
            var position = i + 1;
            t.EditSidecarJson(ids[i], json => json["collections"]![0]!["position"] = position);
        }

        await t.ReopenAsync();
        Assert.Equal(ids, (await t.Collections.ShowAsync("tight", Ct)).Members);

        // Last to the middle: its neighbours are at 1 and 2, so there is no room between them.
        var view = await t.Collections.MoveAsync("tight", ids[3], 2, Ct);

        Assert.Equal([ids[0], ids[3], ids[1], ids[2]], view.Members);
        var positions = view.Members.Select(id => t.ReadSidecar(id).Collections.Single(m => m.Collection == collection.Id).Position).ToList();
        Assert.Equal([1024L, 2048L, 3072L, 4096L], positions);

        // The index agrees with the files after a reopen.
        await t.ReopenAsync();
        Assert.Equal(view.Members, (await t.Collections.ShowAsync("tight", Ct)).Members);
    }

    [Fact]
    public async Task Delete_keeps_members_in_the_library()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3], "kept");
        var c = await t.Collections.CreateAsync("temporary", null, Ct);
        await t.Collections.AddAsync("temporary", ids, Ct);

        var count = await t.Collections.DeleteAsync("Temporary", Ct);

        Assert.Equal(3, count);
        Assert.False(File.Exists(t.Layout.CollectionPath(c.Id)));
        Assert.Empty(await t.Collections.ListAsync(Ct));
        Assert.All(ids, id =>
        {
            Assert.True(File.Exists(t.OriginalPath(id)));
            Assert.Empty(t.ReadSidecar(id).Collections);
        });
        Assert.Equal(3, (await t.Search.SearchAsync("kept", 10, 0, Ct)).Total);
        var missing = await Assert.ThrowsAsync<TroveException>(() => t.Collections.ShowAsync("temporary", Ct));
        Assert.Equal("collection-not-found", missing.Code);
    }

    [Fact]
    public async Task Trashed_members_are_hidden_from_the_collection_view_and_count()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3]);
        await t.Collections.CreateAsync("set", null, Ct);
        await t.Collections.AddAsync("set", ids, Ct);

        await t.Media.DeleteAsync([ids[1]], Ct);

        Assert.Equal([ids[0], ids[2]], (await t.Collections.ShowAsync("set", Ct)).Members);
        Assert.Equal(2, (await t.Collections.ListAsync(Ct)).Single().MemberCount);
        await t.Media.RestoreAsync([ids[1]], Ct);
        Assert.Equal(ids, (await t.Collections.ShowAsync("set", Ct)).Members);
    }
}
