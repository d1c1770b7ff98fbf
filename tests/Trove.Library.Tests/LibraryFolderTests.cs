using Trove.Domain;

namespace Trove.Library.Tests;

public sealed class LibraryFolderTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private LibraryLayout WriteManifest(string json)
    {
        var layout = new LibraryLayout(_dir.Path);
        File.WriteAllText(layout.ManifestPath, json);
        return layout;
    }

    [Theory]
    [InlineData(Durability.Durable)]
    [InlineData(Durability.Fast)]
    public void Init_creates_the_folders_and_a_manifest_that_reads_back(Durability durability)
    {
        var root = _dir.Combine("lib");
        var manifest = LibraryFolder.Init(root, Now, "alice", "My Pictures", durability);

        Assert.Equal(LibraryManifest.FormatName, manifest.Format);
        Assert.Equal(LibraryManifest.CurrentFormatVersion, manifest.FormatVersion);
        Assert.Equal(32, manifest.Id.Length);
        Assert.True(MediaId.IsLowerHex(manifest.Id));

        var layout = new LibraryLayout(root);
        foreach (var dir in new[] { layout.MediaDir, layout.TrashDir, layout.CollectionsDir, layout.IndexDir, layout.StateDir, layout.CacheDir, layout.TempDir, layout.LocksDir })
        {
            Assert.True(Directory.Exists(dir), dir);
        }

        var read = LibraryFolder.ReadManifest(layout);
        Assert.Equal(manifest.Id, read.Id);
        Assert.Equal("My Pictures", read.Name);
        Assert.Equal("alice", read.CreatedBy);
        Assert.Equal(Now, read.CreatedAt);
        Assert.Equal(LibraryManifest.CurrentFormatVersion, read.FormatVersion);

        Assert.DoesNotContain(Directory.EnumerateFiles(root), AtomicFile.IsTempFile);
    }

    [Fact]
    public void Init_accepts_an_existing_empty_folder()
    {
        var manifest = LibraryFolder.Init(_dir.Path, Now, null, null, Durability.Fast);
        Assert.True(File.Exists(Path.Combine(_dir.Path, LibraryLayout.ManifestFileName)));
        Assert.Null(manifest.Name);
    }

    [Fact]
    public void Two_libraries_get_different_ids()
    {
        var a = LibraryFolder.Init(_dir.Combine("a"), Now, null, null, Durability.Fast);
        var b = LibraryFolder.Init(_dir.Combine("b"), Now, null, null, Durability.Fast);
        Assert.NotEqual(a.Id, b.Id);
    }

    [Theory]
    [InlineData("photo.jpg", false)]
    [InlineData("sub", true)]
    [InlineData(".hidden", false)]
    public void Init_refuses_a_non_empty_folder_that_is_not_a_library(string entry, bool isDirectory)
    {
        if (isDirectory)
        {
            Directory.CreateDirectory(_dir.Combine(entry));
        }
        else
        {
            File.WriteAllText(_dir.Combine(entry), "x");
        }

        var ex = Assert.Throws<TroveException>(() => LibraryFolder.Init(_dir.Path, Now, null, null, Durability.Fast));
        Assert.Equal("folder-not-empty", ex.Code);
        Assert.Contains(_dir.Path, ex.Message);
        Assert.NotNull(ex.Hint);
        Assert.False(File.Exists(Path.Combine(_dir.Path, LibraryLayout.ManifestFileName)));
        Assert.False(Directory.Exists(_dir.Combine("media")));
    }

    [Fact]
    public void Init_refuses_a_folder_that_is_already_a_library()
    {
        var first = LibraryFolder.Init(_dir.Path, Now, null, "first", Durability.Fast);

        var ex = Assert.Throws<TroveException>(() => LibraryFolder.Init(_dir.Path, Now, null, "second", Durability.Fast));
        Assert.Equal("already-a-library", ex.Code);
        Assert.Equal(first.Id, LibraryFolder.ReadManifest(new LibraryLayout(_dir.Path)).Id);
    }

    [Fact]
    public void Init_refuses_a_path_that_is_a_file()
    {
        var file = _dir.Combine("file");
        File.WriteAllText(file, "x");
        var ex = Assert.Throws<TroveException>(() => LibraryFolder.Init(file, Now, null, null, Durability.Fast));
        Assert.Equal("not-a-directory", ex.Code);
    }

    [Fact]
    public void Init_wraps_io_failures()
    {
        // A file in the way of the parent folder makes creating the library impossible.
        var file = _dir.Combine("file");
        File.WriteAllText(file, "x");
        var ex = Assert.Throws<TroveException>(() => LibraryFolder.Init(Path.Combine(file, "lib"), Now, null, null, Durability.Fast));
        Assert.Equal("init-failed", ex.Code);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public void ReadManifest_refuses_a_missing_folder()
    {
        var ex = Assert.Throws<TroveException>(() => LibraryFolder.ReadManifest(new LibraryLayout(_dir.Combine("nope"))));
        Assert.Equal("library-not-found", ex.Code);
    }

    [Fact]
    public void ReadManifest_refuses_a_folder_that_is_not_a_library()
    {
        File.WriteAllText(_dir.Combine("photo.jpg"), "x");
        var ex = Assert.Throws<TroveException>(() => LibraryFolder.ReadManifest(new LibraryLayout(_dir.Path)));
        Assert.Equal("not-a-library", ex.Code);
        Assert.Contains(LibraryLayout.ManifestFileName, ex.Message);
    }

    [Fact]
    public void ReadManifest_refuses_another_format()
    {
        var layout = WriteManifest("""{ "format": "something-else", "formatVersion": 1, "id": "x" }""");
        var ex = Assert.Throws<TroveException>(() => LibraryFolder.ReadManifest(layout));
        Assert.Equal("not-a-library", ex.Code);
        Assert.Contains("'something-else'", ex.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(100)]
    public void ReadManifest_refuses_a_newer_format_version(int version)
    {
        var layout = WriteManifest($$"""{ "format": "trove-library", "formatVersion": {{version}}, "id": "x", "futureField": true }""");
        var ex = Assert.Throws<TroveException>(() => LibraryFolder.ReadManifest(layout));
        Assert.Equal("library-too-new", ex.Code);
        Assert.Contains($"version {version}", ex.Message);
        Assert.Contains("Upgrade Trove", ex.Hint);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ReadManifest_refuses_an_invalid_format_version(int version)
    {
        var layout = WriteManifest($$"""{ "format": "trove-library", "formatVersion": {{version}}, "id": "x" }""");
        var ex = Assert.Throws<TroveException>(() => LibraryFolder.ReadManifest(layout));
        Assert.Equal("not-a-library", ex.Code);
        Assert.Contains("invalid formatVersion", ex.Message);
    }

    [Fact]
    public void ReadManifest_reports_malformed_json_with_its_line()
    {
        var layout = WriteManifest("{\n  \"format\": \"trove-library\",\n  \"formatVersion\": 1\n  \"id\": \"x\"\n}\n");
        var ex = Assert.Throws<FileFormatException>(() => LibraryFolder.ReadManifest(layout));
        Assert.Equal("manifest-malformed", ex.Code);
        Assert.Equal(layout.ManifestPath, ex.FilePath);
        Assert.Equal(4, ex.Line);
        Assert.Equal(3, ex.Column);
        Assert.StartsWith($"{layout.ManifestPath}:4:3: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadManifest_reports_a_wrong_typed_field_with_its_line()
    {
        var layout = WriteManifest("{\n  \"format\": \"trove-library\",\n  \"formatVersion\": \"one\"\n}\n");
        var ex = Assert.Throws<FileFormatException>(() => LibraryFolder.ReadManifest(layout));
        Assert.Equal("manifest-malformed", ex.Code);
        Assert.Equal(3, ex.Line);
        Assert.Contains("$.formatVersion", ex.Detail);
    }

    [Fact]
    public void ReadManifest_refuses_a_manifest_that_is_null()
    {
        var layout = WriteManifest("null");
        var ex = Assert.Throws<FileFormatException>(() => LibraryFolder.ReadManifest(layout));
        Assert.Equal("manifest-malformed", ex.Code);
    }
}
