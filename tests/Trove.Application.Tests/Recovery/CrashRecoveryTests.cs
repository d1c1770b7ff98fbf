using Trove.Library;
using Trove.Library.Recovery;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Recovery;

/// <summary>Whoever comes after a process that died mid-write sweeps what it left, so check is clean without --repair.</summary>
public sealed class CrashRecoveryTests
{
    /// <summary>This process's pid with another start time: a process that is gone (its pid since recycled).</summary>
    public static ProcessOwner DeadOwner => ProcessOwner.Current with { StartTicks = ProcessOwner.Current.StartTicks + 1 };

    private static readonly TroveOptions NoReconcile = new() { Durability = Durability.Fast, ReconcileOnOpen = false };

    /// <summary>What a process killed in the middle of an import and an upload leaves, as its real code names it.</summary>
    private sealed record Debris(string Marker, string StagedImport, string UploadFolder, string SidecarTemp, string VocabularyTemp, string CacheTemp, string Orphan, byte[] OrphanBytes);

    private static async Task<Debris> LeaveDebrisAsync(TestLibrary t, string existing)
    {
        var layout = t.Layout;
        var token = DeadOwner.Token;
        Directory.CreateDirectory(layout.WritersDir);
        var marker = Path.Combine(layout.WritersDir, token + "-0badc0de");
        await File.WriteAllTextAsync(marker, "pid … opened the library", Ct);
        var staged = Path.Combine(layout.TempDir, $"import-{token}-{Guid.NewGuid():N}{AtomicFile.TempMarker}");
        await File.WriteAllTextAsync(staged, "half an image", Ct);
        var upload = Path.Combine(layout.TempDir, $"upload-{token}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(upload, "0"));
        await File.WriteAllTextAsync(Path.Combine(upload, "0", "beach.jpg"), "partial upload", Ct);
        var sidecarTemp = Path.Combine(layout.ShardDir(existing), $".{existing}.json{AtomicFile.TempMarker}-{token}-abcd1234");
        await File.WriteAllTextAsync(sidecarTemp, "{ \"schema\": 2, \"id\"", Ct);
        var vocabularyTemp = Path.Combine(layout.Root, $".vocabulary.json{AtomicFile.TempMarker}-{token}-abcd1234");
        await File.WriteAllTextAsync(vocabularyTemp, "{", Ct);
        var cacheDir = Path.Combine(layout.CacheDir, "thumbs", "256", existing[..2]);
        Directory.CreateDirectory(cacheDir);
        var cacheTemp = Path.Combine(cacheDir, $".{existing}.webp{AtomicFile.TempMarker}-{token}-abcd1234");
        await File.WriteAllTextAsync(cacheTemp, "RIFF", Ct);

        // The original was moved into place and the process died before writing its sidecar.
        var orphanBytes = TestImages.Png(4242);
        var orphan = TestImages.Sha256(orphanBytes);
        Directory.CreateDirectory(layout.ShardDir(orphan));
        await File.WriteAllBytesAsync(layout.OriginalPath(orphan, "png"), orphanBytes, Ct);
        return new Debris(marker, staged, upload, sidecarTemp, vocabularyTemp, cacheTemp, orphan, orphanBytes);
    }

    [Fact]
    public async Task The_next_write_session_sweeps_what_a_dead_process_left_and_adopts_its_orphan()
    {
        await using var t = await CreateAsync(NoReconcile);
        var existing = (await t.ImportPngsAsync([1]))[0];
        var debris = await LeaveDebrisAsync(t, existing);
        // Files of live processes (this one) are in use and must survive every sweep.
        var inUse = TempNames.StagingFile(t.Layout, "import");
        await File.WriteAllTextAsync(inUse, "being copied right now", Ct);
        var inUseFolder = TempNames.StagingFolder(t.Layout, "upload");
        Directory.CreateDirectory(inUseFolder);
        var inUseSidecar = TempNames.Beside(t.SidecarPath(existing));
        await File.WriteAllTextAsync(inUseSidecar, "{", Ct);
        await t.ReopenAsync(NoReconcile);

        // Read-only: check reports the dead process's debris (not what is in use) and changes nothing.
        var before = await t.Check.CheckAsync(repair: false, verifyHashes: false, null, Ct);
        Assert.Equal(
            ["orphan-original", "stale-temp-file", "stale-temp-file", "stale-temp-folder"],
            before.Problems.Select(p => p.Type).Order(StringComparer.Ordinal));
        Assert.True(File.Exists(debris.StagedImport));

        // Any write: the first session after the dead process's marker sweeps.
        await t.Tags.AddAsync(existing, ["kept"], Ct);

        Assert.False(File.Exists(debris.Marker));
        Assert.False(File.Exists(debris.StagedImport));
        Assert.False(Directory.Exists(debris.UploadFolder));
        Assert.False(File.Exists(debris.SidecarTemp));
        Assert.False(File.Exists(debris.VocabularyTemp));
        Assert.False(File.Exists(debris.CacheTemp));
        Assert.True(File.Exists(inUse));
        Assert.True(Directory.Exists(inUseFolder));
        Assert.True(File.Exists(inUseSidecar));
        var adopted = t.ReadSidecar(debris.Orphan);
        Assert.Equal("png", adopted.Original.Ext);
        Assert.Equal(debris.OrphanBytes.Length, adopted.Original.Size);
        Assert.Contains(debris.Orphan, await t.SearchIdsAsync(""));
        Assert.Equal(["kept"], t.TagsOf(existing));

        var audit = await t.Library.State.ReadAuditAsync(100, Ct);
        Assert.Contains(audit, a => a.Action == "recover" && a.Target == debris.Orphan);
        Assert.Contains(audit, a => a.Action == "recover" && a.Target == "library" && a.Detail!.Contains("4 temporary files", StringComparison.Ordinal));

        var after = await t.Check.CheckAsync(repair: false, verifyHashes: true, null, Ct);
        Assert.Empty(after.Problems);
    }

    [Fact]
    public async Task Without_a_dead_marker_the_media_tree_is_not_walked_but_tmp_is_swept_on_open()
    {
        await using var t = await CreateAsync(NoReconcile);
        var existing = (await t.ImportPngsAsync([1]))[0];
        var debris = await LeaveDebrisAsync(t, existing);
        File.Delete(debris.Marker);

        await t.ReopenAsync(new TroveOptions { Durability = Durability.Fast });
        Assert.False(File.Exists(debris.StagedImport));
        Assert.False(Directory.Exists(debris.UploadFolder));

        await t.Tags.AddAsync(existing, ["kept"], Ct);
        Assert.True(File.Exists(debris.SidecarTemp));
        Assert.False(File.Exists(t.SidecarPath(debris.Orphan)));

        // check --repair still cleans up what no marker announced.
        var repair = await t.Check.CheckAsync(repair: true, verifyHashes: false, null, Ct);
        Assert.Equal(["orphan-original", "stale-temp-file"], repair.Problems.Select(p => p.Type).Order(StringComparer.Ordinal));
        Assert.All(repair.Problems, p => Assert.True(p.Repaired));
    }

    [Fact]
    public async Task Another_machines_marker_and_files_are_left_alone()
    {
        await using var t = await CreateAsync(NoReconcile);
        var existing = (await t.ImportPngsAsync([1]))[0];
        var foreign = DeadOwner with { Host = ProcessOwner.Current.Host == "00000000" ? "11111111" : "00000000" };
        Directory.CreateDirectory(t.Layout.WritersDir);
        var marker = Path.Combine(t.Layout.WritersDir, foreign.Token + "-0badc0de");
        await File.WriteAllTextAsync(marker, "a server on another machine", Ct);
        var staged = Path.Combine(t.Layout.TempDir, $"import-{foreign.Token}-{Guid.NewGuid():N}{AtomicFile.TempMarker}");
        await File.WriteAllTextAsync(staged, "being copied over there", Ct);

        await t.ReopenAsync(new TroveOptions { Durability = Durability.Fast });
        await t.Tags.AddAsync(existing, ["kept"], Ct);

        Assert.True(File.Exists(marker));
        Assert.True(File.Exists(staged));
        Assert.Empty((await t.Check.CheckAsync(repair: false, verifyHashes: false, null, Ct)).Problems);
    }

    [Fact]
    public async Task An_open_library_has_a_marker_and_closing_removes_it()
    {
        await using var t = await CreateAsync();
        var marker = Assert.Single(Directory.GetFiles(t.Layout.WritersDir));
        Assert.StartsWith(ProcessOwner.Current.Token + "-", Path.GetFileName(marker), StringComparison.Ordinal);

        // Each open library has its own marker, so closing one leaves the other's.
        var second = await t.OpenSecondAsync();
        Assert.Equal(2, Directory.GetFiles(t.Layout.WritersDir).Length);
        await second.DisposeAsync();
        Assert.Equal([marker], Directory.GetFiles(t.Layout.WritersDir));
    }
}
