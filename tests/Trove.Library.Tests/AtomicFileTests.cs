using System.Text;

namespace Trove.Library.Tests;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string[] FilesIn(string dir) => Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Theory]
    [InlineData(Durability.Durable)]
    [InlineData(Durability.Fast)]
    public void WriteAllBytes_creates_the_file_and_leaves_no_temp_files(Durability durability)
    {
        var path = _dir.Combine("a.json");
        AtomicFile.WriteAllBytes(path, "hello"u8, durability);

        Assert.Equal("hello", File.ReadAllText(path));
        Assert.Equal(["a.json"], FilesIn(_dir.Path));
    }

    [Theory]
    [InlineData(Durability.Durable)]
    [InlineData(Durability.Fast)]
    public void WriteAllBytes_replaces_existing_content_entirely(Durability durability)
    {
        var path = _dir.Combine("a.json");
        File.WriteAllText(path, "a much longer original content");

        AtomicFile.WriteAllBytes(path, "new"u8, durability);

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["a.json"], FilesIn(_dir.Path));

        AtomicFile.WriteAllBytes(path, ReadOnlySpan<byte>.Empty, durability);
        Assert.Equal(0, new FileInfo(path).Length);
        Assert.Equal(["a.json"], FilesIn(_dir.Path));
    }

    [Theory]
    [InlineData(Durability.Durable)]
    [InlineData(Durability.Fast)]
    public void WriteAllBytes_creates_missing_folders(Durability durability)
    {
        var path = _dir.Combine("x", "y", "z.bin");
        var data = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        AtomicFile.WriteAllBytes(path, data, durability);

        Assert.Equal(data, File.ReadAllBytes(path));
        Assert.Equal(["z.bin"], FilesIn(_dir.Combine("x", "y")));
    }

    [Fact]
    public void WriteAllBytes_replaces_the_inode_so_an_open_reader_keeps_the_old_content()
    {
        var path = _dir.Combine("a.txt");
        File.WriteAllText(path, "old");
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        AtomicFile.WriteAllBytes(path, "new"u8, Durability.Fast);

        using var sr = new StreamReader(reader, Encoding.UTF8);
        Assert.Equal("old", sr.ReadToEnd());
        Assert.Equal("new", File.ReadAllText(path));
    }

    [Fact]
    public void WriteAllBytes_cleans_up_its_temp_file_when_the_rename_fails()
    {
        // The target is a non-empty directory: the rename over it fails.
        var target = _dir.Combine("target");
        Directory.CreateDirectory(Path.Combine(target, "inner"));

        Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllBytes(target, "x"u8, Durability.Fast));

        Assert.Equal(["target"], FilesIn(_dir.Path));
        Assert.Equal(["inner"], FilesIn(target));
    }

    [Theory]
    [InlineData(".a.json.trove-tmp-123-abcdef12", true)]
    [InlineData("/some/dir/.x.trove-tmp", true)]
    [InlineData("a.json", false)]
    [InlineData("trove-tmp", false)]
    public void IsTempFile_recognises_the_temp_marker(string path, bool expected)
    {
        Assert.Equal(expected, AtomicFile.IsTempFile(path));
    }

    [Theory]
    [InlineData(Durability.Durable)]
    [InlineData(Durability.Fast)]
    public void MoveIntoPlace_moves_across_folders_and_overwrites_when_asked(Durability durability)
    {
        var source = _dir.Combine("tmp", "staged");
        Directory.CreateDirectory(Path.GetDirectoryName(source)!);
        File.WriteAllText(source, "payload");
        var target = _dir.Combine("media", "ab", "file");

        AtomicFile.MoveIntoPlace(source, target, overwrite: false, durability);
        Assert.False(File.Exists(source));
        Assert.Equal("payload", File.ReadAllText(target));

        File.WriteAllText(source, "second");
        Assert.Throws<IOException>(() => AtomicFile.MoveIntoPlace(source, target, overwrite: false, durability));
        Assert.Equal("payload", File.ReadAllText(target));

        AtomicFile.MoveIntoPlace(source, target, overwrite: true, durability);
        Assert.Equal("second", File.ReadAllText(target));
    }

    [Theory]
    [InlineData(Durability.Durable)]
    [InlineData(Durability.Fast)]
    public void Delete_removes_the_file(Durability durability)
    {
        var path = _dir.Combine("a");
        File.WriteAllText(path, "x");
        AtomicFile.Delete(path, durability);
        Assert.False(File.Exists(path));
    }
}
