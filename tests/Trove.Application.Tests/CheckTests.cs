using System.Text.Json.Nodes;
using Trove.Library;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class CheckTests
{
    private static readonly TroveOptions NoReconcile = new() { Durability = Durability.Fast, ReconcileOnOpen = false };

    private static readonly string[] NotRepairable = ["sidecar-malformed", "newer-schema", "missing-original", "original-hash-mismatch"];

    private static Dictionary<string, List<string>> TypesById(CheckReport report) =>
        report.Problems.GroupBy(p => p.Id ?? "-").ToDictionary(g => g.Key, g => g.Select(p => p.Type).Order(StringComparer.Ordinal).ToList());

    [Fact]
    public async Task Healthy_library_has_no_problems()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3], "a");
        await t.Tags.ImplyAsync("a", "b", Ct);
        await t.Collections.CreateAsync("c", null, Ct);
        await t.Collections.AddAsync("c", ids, Ct);
        await t.Media.DeleteAsync([ids[0]], Ct);

        var report = await t.Check.CheckAsync(repair: false, verifyHashes: true, null, Ct);

        Assert.Empty(report.Problems);
        Assert.Equal(3, report.MediaChecked);
        Assert.Equal(0, report.Unresolved);
    }

    [Fact]
    public async Task Every_problem_type_is_detected_and_repair_fixes_the_repairable_ones()
    {
        await using var t = await CreateAsync(NoReconcile);
        var ids = await t.ImportPngsAsync(Enumerable.Range(1, 9));
        var (malformed, newer, missing, altered, edited, vanished, unimplied, dangling, healthy) =
            (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7], ids[8]);
        await t.Tags.AddAsync(unimplied, ["child"], Ct);
        await t.Tags.ImplyAsync("child", "parent", Ct);
        Assert.Equal(["child", "parent"], t.TagsOf(unimplied));
        await t.CloseAsync();

        // Malformed: break the "revision" line of a sidecar.
        var malformedPath = t.SidecarPath(malformed);
        var lines = (await File.ReadAllTextAsync(malformedPath)).Split('\n');
        var badLine = Array.FindIndex(lines, l => l.Contains("\"revision\"", StringComparison.Ordinal));
        Assert.True(badLine > 0);
        lines[badLine] = lines[badLine].Replace(",", " oops,", StringComparison.Ordinal);
        await File.WriteAllTextAsync(malformedPath, string.Join('\n', lines));

        // Newer schema than this Trove reads.
        t.EditSidecarJson(newer, json => json["schema"] = 99);

        // Missing original.
        File.Delete(t.OriginalPath(missing));

        // Original modified after import (same size, different bytes).
        var alteredPath = t.OriginalPath(altered);
        File.SetUnixFileMode(alteredPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var bytes = await File.ReadAllBytesAsync(alteredPath);
        bytes[^5] ^= 0xFF;
        await File.WriteAllBytesAsync(alteredPath, bytes);

        // Orphan original (an import interrupted before its sidecar was written).
        var orphanBytes = TestImages.Png(100);
        var orphan = TestImages.Sha256(orphanBytes);
        Directory.CreateDirectory(t.Layout.ShardDir(orphan));
        await File.WriteAllBytesAsync(t.OriginalPath(orphan), orphanBytes);

        // Stale temporary files of a process that is gone, in the staging folder and in a shard; one of this process is in use.
        var dead = Recovery.CrashRecoveryTests.DeadOwner.Token;
        var tempInTmp = Path.Combine(t.Layout.TempDir, $"import-{dead}-{Guid.NewGuid():N}{AtomicFile.TempMarker}");
        await File.WriteAllTextAsync(tempInTmp, "half an image");
        var inUse = Trove.Library.Recovery.TempNames.StagingFile(t.Layout, "import");
        await File.WriteAllTextAsync(inUse, "being copied right now");
        var tempInShard = Path.Combine(t.Layout.ShardDir(healthy), $".{healthy}.json{AtomicFile.TempMarker}-{dead}-abcd1234");
        await File.WriteAllTextAsync(tempInShard, "{ \"schema\": 2, \"id\"");

        // Sidecar edited outside Trove (and the library opened without reconciling).
        t.EditSidecarJson(edited, json => json["tags"]!.AsArray().Add(new JsonObject { ["name"] = "by_hand", ["addedAt"] = "2024-01-01T00:00:00Z" }));

        // Media removed by hand: the index still lists it.
        File.Delete(t.SidecarPath(vanished));
        File.Delete(t.OriginalPath(vanished));

        // An implied parent removed by hand.
        t.EditSidecarJson(unimplied, json =>
        {
            var tags = json["tags"]!.AsArray();
            tags.Remove(tags.Single(x => (string?)x!["name"] == "parent"));
        });

        // Membership of a collection that does not exist.
        t.EditSidecarJson(dangling, json => json["collections"]!.AsArray().Add(new JsonObject { ["collection"] = "0123456789ab", ["position"] = 1024, ["addedAt"] = "2024-01-01T00:00:00Z" }));

        await t.ReopenAsync(NoReconcile);
        var report = await t.Check.CheckAsync(repair: false, verifyHashes: true, null, Ct);

        var byId = TypesById(report);
        Assert.Equal(["sidecar-malformed"], byId[malformed]);
        var malformedProblem = report.Problems.Single(p => p.Id == malformed);
        Assert.Equal(badLine + 1, malformedProblem.Line);
        Assert.NotNull(malformedProblem.Column);
        Assert.EndsWith($"{malformed}.json", malformedProblem.Path, StringComparison.Ordinal);
        Assert.False(malformedProblem.Repairable);
        Assert.Equal(["newer-schema"], byId[newer]);
        Assert.Contains("99", report.Problems.Single(p => p.Id == newer).Message, StringComparison.Ordinal);
        Assert.Equal(["missing-original"], byId[missing]);
        Assert.Equal(["original-hash-mismatch"], byId[altered]);
        Assert.Equal(["orphan-original"], byId[orphan]);
        Assert.Equal(["sidecar-changed"], byId[edited]);
        Assert.Equal(["index-extra"], byId[vanished]);
        Assert.Equal(["implication-missing", "sidecar-changed"], byId[unimplied]);
        Assert.Contains("parent", report.Problems.Single(p => p.Id == unimplied && p.Type == "implication-missing").Message, StringComparison.Ordinal);
        Assert.Equal(["dangling-collection", "sidecar-changed"], byId[dangling]);
        Assert.Contains("0123456789ab", report.Problems.Single(p => p.Id == dangling && p.Type == "dangling-collection").Message, StringComparison.Ordinal);
        Assert.Equal(["stale-temp-file", "stale-temp-file"], byId["-"]);
        Assert.False(byId.ContainsKey(healthy));
        Assert.All(report.Problems, p => Assert.False(p.Repaired));
        Assert.All(report.Problems, p => Assert.Equal(!NotRepairable.Contains(p.Type), p.Repairable));
        Assert.True(File.Exists(tempInTmp));

        var repair = await t.Check.CheckAsync(repair: true, verifyHashes: true, null, Ct);

        Assert.True(repair.Repaired);
        Assert.All(repair.Problems, p => Assert.Equal(p.Repairable, p.Repaired));
        Assert.Equal(
            new[] { "dangling-collection", "implication-missing", "index-extra", "orphan-original", "sidecar-changed", "stale-temp-file" },
            repair.Problems.Where(p => p.Repaired).Select(p => p.Type).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(NotRepairable.Length, repair.Unresolved);

        var after = await t.Check.CheckAsync(repair: false, verifyHashes: true, null, Ct);

        Assert.Equal(
            new[] { (malformed, "sidecar-malformed"), (newer, "newer-schema"), (missing, "missing-original"), (altered, "original-hash-mismatch") }.OrderBy(x => x.Item1, StringComparer.Ordinal),
            after.Problems.Select(p => (p.Id!, p.Type)).OrderBy(x => x.Item1, StringComparer.Ordinal));
        Assert.All(after.Problems, p => Assert.False(p.Repairable));

        // What the repairs did (and did not: a file in use stays).
        Assert.True(File.Exists(inUse));
        Assert.False(File.Exists(tempInTmp));
        Assert.False(File.Exists(tempInShard));
        Assert.Equal(["child", "parent"], t.TagsOf(unimplied));
        Assert.Empty(t.ReadSidecar(dangling).Collections);
        Assert.Contains("by_hand", t.TagsOf(edited));
        Assert.Equal([edited], await t.SearchIdsAsync("by_hand"));
        Assert.Null(await t.Library.Index.GetMediaAsync(vanished, Ct));
        var adopted = t.ReadSidecar(orphan);
        Assert.Equal("png", adopted.Original.Ext);
        Assert.Equal("image/png", adopted.Original.MediaType);
        Assert.Equal(orphanBytes.Length, adopted.Original.Size);
        Assert.Contains(orphan, await t.SearchIdsAsync(""));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(alteredPath));
    }

    [Fact]
    public async Task Changed_original_size_is_reported_without_hashing()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        var path = t.OriginalPath(id);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.AppendAllTextAsync(path, "trailing bytes");

        var report = await t.Check.CheckAsync(repair: false, verifyHashes: false, null, Ct);

        var problem = Assert.Single(report.Problems);
        Assert.Equal("original-changed", problem.Type);
        Assert.Equal(id, problem.Id);
    }

    [Fact]
    public async Task Malformed_vocabulary_is_reported_with_its_line()
    {
        await using var t = await CreateAsync();
        await t.ImportPngsAsync([1], "a");
        await t.Tags.DescribeAsync("a", "first", Ct);
        await File.WriteAllTextAsync(t.Layout.VocabularyPath, "{\n  \"schema\": 1,\n  \"tags\": {\n    \"a\": { \"description\": \"first\" \n  }\n");

        var report = await t.Check.CheckAsync(repair: true, verifyHashes: false, null, Ct);

        var problem = Assert.Single(report.Problems);
        Assert.Equal("vocabulary-malformed", problem.Type);
        Assert.NotNull(problem.Line);
        Assert.InRange(problem.Line!.Value, 4, 6);
        Assert.False(problem.Repaired);
    }

    [Fact]
    public async Task Upload_staging_folders_older_than_an_hour_are_stale_and_repair_removes_only_those()
    {
        await using var t = await CreateAsync();
        var old = Path.Combine(t.Library.Layout.TempDir, "upload-old");
        var fresh = Path.Combine(t.Library.Layout.TempDir, "upload-fresh");
        Directory.CreateDirectory(old);
        Directory.CreateDirectory(fresh);
        await File.WriteAllTextAsync(Path.Combine(old, "a.jpg"), "partial", Ct);
        Directory.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-2));

        var report = await t.Check.CheckAsync(repair: true, verifyHashes: false, null, Ct);

        var problem = Assert.Single(report.Problems);
        Assert.Equal("stale-temp-folder", problem.Type);
        Assert.True(problem.Repaired);
        Assert.False(Directory.Exists(old));
        Assert.True(Directory.Exists(fresh));
    }
}
