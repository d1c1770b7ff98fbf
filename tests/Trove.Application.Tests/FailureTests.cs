using Trove.Domain;
using Trove.Library;
using Xunit.Abstractions;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

/// <summary>Whether this process may mount (tmpfs, bind mounts): true as root in a container or VM.</summary>
public static class Privileges
{
    private static readonly Lazy<string?> Reason = new(Probe);

    /// <summary>Null when mounting works, else why the test must be skipped.</summary>
    public static string? SkipReason => Reason.Value;

    private static string? Probe()
    {
        using var dir = new TempDirectory();
        var (code, output) = Shell.Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.Path);
        if (code != 0)
        {
            return $"needs permission to mount (tmpfs, read-only bind mounts); 'mount -t tmpfs' failed: {output.Trim()}";
        }

        Shell.Run("umount", dir.Path);
        return null;
    }
}

public sealed class PrivilegedFactAttribute : FactAttribute
{
    public PrivilegedFactAttribute()
    {
        if (Privileges.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

public sealed class PrivilegedTheoryAttribute : TheoryAttribute
{
    public PrivilegedTheoryAttribute()
    {
        if (Privileges.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Makes a folder read-only for Trove: a read-only bind mount (or, failing that, chattr +i), undone on dispose.</summary>
public sealed class ReadOnlyFolder : IDisposable
{
    private readonly string _path;
    private readonly bool _mounted;

    private ReadOnlyFolder(string path, bool mounted)
    {
        _path = path;
        _mounted = mounted;
    }

    public string Method => _mounted ? "read-only bind mount" : "chattr +i";

    /// <summary>Exposes <paramref name="source"/> read-only at <paramref name="target"/> (which may be the same folder).</summary>
    public static ReadOnlyFolder Create(string source, string target)
    {
        Directory.CreateDirectory(target);
        if (Shell.Run("mount", "--bind", source, target).ExitCode == 0)
        {
            if (Shell.Run("mount", "-o", "remount,ro,bind", target).ExitCode == 0)
            {
                return new ReadOnlyFolder(target, mounted: true);
            }

            Shell.Run("umount", target);
        }

        if (source != target)
        {
            throw new InvalidOperationException("chattr cannot expose a folder at another path");
        }

        Shell.MustRun("chattr", "-R", "+i", source);
        return new ReadOnlyFolder(source, mounted: false);
    }

    public void Dispose()
    {
        if (_mounted)
        {
            if (Shell.Run("umount", _path).ExitCode != 0)
            {
                Shell.MustRun("umount", "-l", _path);
            }
        }
        else
        {
            Shell.MustRun("chattr", "-R", "-i", _path);
        }
    }
}

public sealed class ReadOnlyLibraryTests
{
    [PrivilegedFact]
    public async Task Opening_a_read_only_library_fails_with_library_read_only_and_changes_nothing()
    {
        string root;
        List<string> ids;
        await using (var t = await CreateAsync())
        {
            ids = await t.ImportPngsAsync([1, 2], "x");
            await t.CloseAsync();
            root = t.Root;

            var view = Path.Combine(Path.GetDirectoryName(root)!, "read-only-view");
            var before = FileTree.Snapshot(root);
            using (ReadOnlyFolder.Create(root, view))
            {
                var ex = await Assert.ThrowsAsync<TroveException>(() => TroveLibrary.OpenAsync(view, Environment(), null, Ct));
                Assert.Equal("library-read-only", ex.Code);
                Assert.Contains(view, ex.Message, StringComparison.Ordinal);
                Assert.NotNull(ex.Hint);
                Assert.Equal(before, FileTree.Snapshot(view));
            }

            Assert.Equal(before, FileTree.Snapshot(root));
            await t.ReopenAsync();
            Assert.Equal(ids.Order(StringComparer.Ordinal), await t.SearchIdsAsync("x order:id"));
        }
    }

    [PrivilegedFact]
    public async Task Writes_to_an_open_library_that_became_read_only_fail_with_library_read_only()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2], "x");
        var newFile = t.WriteSource("new.png", TestImages.Png(3));
        var before = FileTree.LibraryData(t.Root);

        using (var ro = ReadOnlyFolder.Create(t.Root, t.Root))
        {
            var tag = await Assert.ThrowsAsync<TroveException>(() => t.Tags.AddAsync(ids[0], ["y"], Ct));
            Assert.Equal("library-read-only", tag.Code);
            var import = await Assert.ThrowsAsync<TroveException>(() => t.Media.ImportAsync([newFile], new ImportOptions([], null, false), null, Ct));
            Assert.Equal("library-read-only", import.Code);
            var delete = await Assert.ThrowsAsync<TroveException>(() => t.Media.DeleteAsync([ids[1]], Ct));
            Assert.Equal("library-read-only", delete.Code);

            // Reading still works.
            Assert.Equal(2, (await t.Search.SearchAsync("x", 10, 0, Ct)).Total);
            Assert.Equal(before, FileTree.LibraryData(t.Root));
        }

        Assert.Equal(before, FileTree.LibraryData(t.Root));
        await t.Tags.AddAsync(ids[0], ["y"], Ct);
        Assert.Equal([ids[0]], await t.SearchIdsAsync("y"));
    }
}

public sealed class DiskFullTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly ITestOutputHelper _output;
    private readonly string _mount;
    private bool _mounted;

    public DiskFullTests(ITestOutputHelper output)
    {
        _output = output;
        _mount = _temp.Combine("tiny");
        Directory.CreateDirectory(_mount);
    }

    public void Dispose()
    {
        if (_mounted && Shell.Run("umount", _mount).ExitCode != 0)
        {
            Shell.Run("umount", "-l", _mount);
        }

        _temp.Dispose();
    }

    /// <summary>Small files fill the index first (SQLite reports it); large ones fail while being copied in.</summary>
    [PrivilegedTheory]
    [InlineData(24)]
    [InlineData(200)]
    public async Task Import_onto_a_full_disk_fails_with_disk_full_and_leaves_every_saved_sidecar_intact(int side)
    {
        Shell.MustRun("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", _mount);
        _mounted = true;

        await using var t = await CreateAtAsync(Path.Combine(_mount, "library"), _temp.Combine("sources"));
        var imported = new List<string>();
        TroveException? failure = null;
        for (var i = 0; i < 2000 && failure is null; i++)
        {
            var path = t.WriteSource($"{i}.png", TestImages.NoisePng(i, side, side));
            try
            {
                var report = await t.Media.ImportAsync([path], new ImportOptions(["filler"], null, false), null, Ct);
                if (report.Failed.Count > 0)
                {
                    Assert.Contains("space", report.Failed[0].Error, StringComparison.OrdinalIgnoreCase);
                    break;
                }

                imported.Add(Assert.Single(report.Media));
            }
            catch (TroveException ex)
            {
                failure = ex;
            }
        }

        Assert.NotNull(failure);
        _output.WriteLine($"after {imported.Count} imports: {failure.Code}: {failure.Message} ({failure.InnerException?.GetType().Name})");
        Assert.Equal("disk-full", failure.Code);
        Assert.NotEmpty(imported);

        // Every sidecar that was saved reads back, and its original is whole.
        foreach (var entry in t.Library.Files.EnumerateMediaFiles().Where(e => e.IsSidecar))
        {
            var sidecar = SidecarSerializer.Deserialize(await File.ReadAllBytesAsync(entry.Path), entry.Path, entry.MediaId);
            Assert.Equal(sidecar.Id, TestImages.Sha256(await File.ReadAllBytesAsync(t.OriginalPath(sidecar.Id))));
        }

        foreach (var id in imported)
        {
            Assert.Equal(["filler"], t.TagsOf(id));
        }

        var check = await t.Check.CheckAsync(repair: false, verifyHashes: true, null, Ct);
        Assert.DoesNotContain(check.Problems, p => p.Type.StartsWith("sidecar-", StringComparison.Ordinal) && p.Type != "sidecar-changed");
        Assert.DoesNotContain(check.Problems, p => p.Type is "original-hash-mismatch" or "missing-original" or "newer-schema");
    }
}
