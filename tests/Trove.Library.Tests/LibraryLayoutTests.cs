namespace Trove.Library.Tests;

public class LibraryLayoutTests
{
    private static readonly string Id = "abcdef" + new string('1', 58);
    private readonly LibraryLayout _layout = new("/lib");

    [Fact]
    public void Root_is_made_absolute()
    {
        var relative = new LibraryLayout("some/lib");
        Assert.True(Path.IsPathFullyQualified(relative.Root));
        Assert.Equal(Path.GetFullPath("some/lib"), relative.Root);
        Assert.Equal("/lib", new LibraryLayout("/lib/x/..").Root);
    }

    [Fact]
    public void Well_known_paths_are_under_the_root()
    {
        Assert.Equal("/lib/trove.json", _layout.ManifestPath);
        Assert.Equal("/lib/vocabulary.json", _layout.VocabularyPath);
        Assert.Equal("/lib/collections", _layout.CollectionsDir);
        Assert.Equal("/lib/media", _layout.MediaDir);
        Assert.Equal("/lib/trash", _layout.TrashDir);
        Assert.Equal("/lib/index/index.db", _layout.IndexDatabasePath);
        Assert.Equal("/lib/state/state.db", _layout.StateDatabasePath);
        Assert.Equal("/lib/cache", _layout.CacheDir);
        Assert.Equal("/lib/tmp", _layout.TempDir);
        Assert.Equal("/lib/locks/write.lock", _layout.WriteLockPath);
        Assert.Equal("/lib/collections/0123456789ab.json", _layout.CollectionPath("0123456789ab"));
    }

    [Fact]
    public void Media_are_sharded_by_the_first_two_and_next_two_characters()
    {
        Assert.Equal("/lib/media/ab/cd", _layout.ShardDir(Id));
        Assert.Equal($"/lib/media/ab/cd/{Id}.json", _layout.SidecarPath(Id));
        Assert.Equal($"/lib/media/ab/cd/{Id}.jpg", _layout.OriginalPath(Id, "jpg"));
    }

    [Fact]
    public void Trash_uses_the_same_sharding()
    {
        Assert.Equal("/lib/trash/ab/cd", _layout.ShardDir(Id, trash: true));
        Assert.Equal($"/lib/trash/ab/cd/{Id}.json", _layout.SidecarPath(Id, trash: true));
        Assert.Equal($"/lib/trash/ab/cd/{Id}.png", _layout.OriginalPath(Id, "png", trash: true));
    }

    [Fact]
    public void Original_without_extension_is_just_the_id()
    {
        Assert.Equal($"/lib/media/ab/cd/{Id}", _layout.OriginalPath(Id, string.Empty));
    }

    [Fact]
    public void Relative_gives_forward_slash_paths_from_the_root()
    {
        Assert.Equal($"media/ab/cd/{Id}.json", _layout.Relative(_layout.SidecarPath(Id)));
        Assert.Equal("trove.json", _layout.Relative(_layout.ManifestPath));
    }
}
