using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class TrashTests
{
    [Fact]
    public async Task Delete_moves_files_to_the_trash_and_restore_brings_them_back()
    {
        await using var t = await CreateAsync();
        var bytes = TestImages.Png(1);
        var id = await t.ImportOneAsync(bytes, "a.png", ["tagged"]);
        var other = (await t.ImportPngsAsync([2], "tagged"))[0];

        var moved = await t.Media.DeleteAsync([id[..12]], Ct);

        Assert.Equal([id], moved);
        var shard = Path.Combine(t.Root, "trash", id[..2], id[2..4]);
        Assert.True(File.Exists(Path.Combine(shard, id + ".json")));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(shard, id + ".png")));
        Assert.False(File.Exists(t.SidecarPath(id)));
        Assert.False(File.Exists(t.OriginalPath(id)));
        var sidecar = t.ReadSidecar(id);
        Assert.NotNull(sidecar.Deleted);
        Assert.Equal("test", sidecar.Deleted!.By);

        Assert.Equal([other], await t.SearchIdsAsync("tagged"));
        Assert.Equal([other], await t.SearchIdsAsync(""));
        Assert.True((await t.Media.ShowAsync(id, Ct)).InTrash);
        Assert.Equal(1, await t.Library.Index.CountMediaAsync(inTrash: true, Ct));

        // Deleting again is a no-op.
        Assert.Empty(await t.Media.DeleteAsync([id], Ct));

        var restored = await t.Media.RestoreAsync([id], Ct);

        Assert.Equal([id], restored);
        Assert.True(File.Exists(t.SidecarPath(id)));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(t.OriginalPath(id)));
        Assert.False(File.Exists(Path.Combine(shard, id + ".json")));
        Assert.False(File.Exists(Path.Combine(shard, id + ".png")));
        Assert.Null(t.ReadSidecar(id).Deleted);
        Assert.Equal(["tagged"], t.TagsOf(id));
        Assert.Equal(new[] { id, other }.Order(StringComparer.Ordinal), (await t.SearchIdsAsync("tagged")).Order(StringComparer.Ordinal));
        Assert.Empty(await t.Media.RestoreAsync([id], Ct));
    }

    [Fact]
    public async Task Purge_removes_trashed_files_for_good()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3], "x");
        await t.Media.DeleteAsync([ids[0], ids[1]], Ct);

        var purged = await t.Media.PurgeAsync([ids[0]], Ct);
        Assert.Equal([ids[0]], purged);
        Assert.False(File.Exists(t.SidecarPath(ids[0], trash: true)));
        Assert.False(File.Exists(t.OriginalPath(ids[0], trash: true)));
        Assert.True(File.Exists(t.SidecarPath(ids[1], trash: true)));
        var gone = await Assert.ThrowsAsync<TroveException>(() => t.Media.ShowAsync(ids[0], Ct));
        Assert.Equal("media-not-found", gone.Code);

        // No ids: the whole trash.
        Assert.Equal([ids[1]], await t.Media.PurgeAsync([], Ct));
        Assert.Empty(FileTree.Files(t.Layout.TrashDir));
        Assert.Equal(0, await t.Library.Index.CountMediaAsync(inTrash: true, Ct));
        Assert.Equal([ids[2]], await t.SearchIdsAsync("x"));
    }

    [Fact]
    public async Task Purge_of_a_media_not_in_the_trash_is_refused()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        var before = FileTree.LibraryData(t.Root);

        var ex = await Assert.ThrowsAsync<TroveException>(() => t.Media.PurgeAsync([id], Ct));

        Assert.Equal("not-in-trash", ex.Code);
        Assert.Contains(id, ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, FileTree.LibraryData(t.Root));
        Assert.Equal([id], await t.SearchIdsAsync(""));
    }

    [Fact]
    public async Task Unknown_and_ambiguous_ids_are_reported()
    {
        await using var t = await CreateAsync();
        await t.ImportPngsAsync([1]);
        var unknown = await Assert.ThrowsAsync<TroveException>(() => t.Media.DeleteAsync(["abcdef0123"], Ct));
        Assert.Equal("media-not-found", unknown.Code);
        var invalid = await Assert.ThrowsAsync<TroveUsageException>(() => t.Media.DeleteAsync(["xyz"], Ct));
        Assert.Equal("invalid-id", invalid.Code);
    }
}
