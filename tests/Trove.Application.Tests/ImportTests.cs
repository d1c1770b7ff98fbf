using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class ImportTests
{
    [Fact]
    public async Task Import_of_files_and_nested_folders_stores_each_original_under_its_sha256()
    {
        await using var t = await CreateAsync();
        var png1 = TestImages.Png(1);
        var png2 = TestImages.Png(2);
        var jpg = TestImages.Jpeg(3);
        var single = t.WriteSource("single.png", png1);
        t.WriteSource("folder/a.png", png2);
        t.WriteSource("folder/deeper/still/b.jpg", jpg);
        t.WriteSource("folder/notes.txt", "metadata, not media"u8.ToArray());

        var report = await t.Media.ImportAsync([single, Path.Combine(t.Sources, "folder")], new ImportOptions([], null, DryRun: false), null, Ct);

        Assert.Empty(report.Failed);
        Assert.Equal(3, report.Imported);
        Assert.Equal(0, report.Duplicates);
        Assert.False(report.DryRun);
        var expected = new[] { (png1, "png"), (png2, "png"), (jpg, "jpg") };
        Assert.Equal(expected.Select(e => TestImages.Sha256(e.Item1)).Order(StringComparer.Ordinal), report.Media.Order(StringComparer.Ordinal));

        foreach (var (bytes, ext) in expected)
        {
            var id = TestImages.Sha256(bytes);
            var original = Path.Combine(t.Root, "media", id[..2], id[2..4], $"{id}.{ext}");
            Assert.True(File.Exists(original), $"missing {original}");
            Assert.Equal(bytes, await File.ReadAllBytesAsync(original));
            Assert.True(File.Exists(Path.Combine(t.Root, "media", id[..2], id[2..4], $"{id}.json")));
            Assert.Equal(0, (int)(File.GetUnixFileMode(original) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)));

            var sidecar = t.ReadSidecar(id);
            Assert.Equal(id, sidecar.Id);
            Assert.Equal(ext, sidecar.Original.Ext);
            Assert.Equal(bytes.Length, sidecar.Original.Size);
            Assert.Equal(1, sidecar.Revision);
        }

        Assert.Equal("image/jpeg", t.ReadSidecar(TestImages.Sha256(jpg)).Original.MediaType);
        Assert.Equal("b.jpg", t.ReadSidecar(TestImages.Sha256(jpg)).Original.OriginalName);
        Assert.Empty(Directory.EnumerateFileSystemEntries(t.Layout.TempDir));
        Assert.Equal(3, (await t.Search.SearchAsync("", 10, 0, Ct)).Total);
    }

    [Fact]
    public async Task Originals_are_never_modified_by_later_edits()
    {
        await using var t = await CreateAsync();
        var bytes = TestImages.Png(10);
        var id = await t.ImportOneAsync(bytes, "x.png", ["one"]);
        var original = t.OriginalPath(id);
        var mtime = File.GetLastWriteTimeUtc(original);

        await t.Tags.AddAsync(id, ["two"], Ct);
        await t.Captions.AddAsync(id, "a caption", primary: true, Ct);
        await t.Collections.CreateAsync("set", null, Ct);
        await t.Collections.AddAsync("set", [id], Ct);
        await t.Media.DeleteAsync([id], Ct);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(t.OriginalPath(id, trash: true)));
        await t.Media.RestoreAsync([id], Ct);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(original));
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(original));
    }

    [Fact]
    public async Task Reimport_is_a_no_op_that_counts_duplicates()
    {
        await using var t = await CreateAsync();
        t.WriteSource("set/a.png", TestImages.Png(1));
        t.WriteSource("set/b.png", TestImages.Png(2));
        var folder = Path.Combine(t.Sources, "set");
        var first = await t.Media.ImportAsync([folder], new ImportOptions(["tag"], null, false), null, Ct);
        Assert.Equal(2, first.Imported);
        var before = FileTree.LibraryData(t.Root);

        var second = await t.Media.ImportAsync([folder], new ImportOptions(["tag"], null, false), null, Ct);

        Assert.Equal(0, second.Imported);
        Assert.Equal(2, second.Duplicates);
        Assert.Empty(second.Failed);
        Assert.Equal(first.Media.Order(StringComparer.Ordinal), second.Media.Order(StringComparer.Ordinal));
        Assert.Equal(before, FileTree.LibraryData(t.Root));
        Assert.All(second.Media, id => Assert.Equal(1, t.ReadSidecar(id).Revision));
    }

    [Fact]
    public async Task Duplicate_import_with_new_tags_merges_them()
    {
        await using var t = await CreateAsync();
        var bytes = TestImages.Png(5);
        var id = await t.ImportOneAsync(bytes, "a.png", ["Old Tag"]);
        Assert.Equal(["old_tag"], t.TagsOf(id));

        var path = t.WriteSource("again/a-copy.png", bytes);
        var report = await t.Media.ImportAsync([path], new ImportOptions(["new_tag", "old_tag"], null, false), null, Ct);

        Assert.Equal(0, report.Imported);
        Assert.Equal(1, report.Duplicates);
        Assert.Equal(["old_tag", "new_tag"], t.TagsOf(id));
        Assert.Equal(2, t.ReadSidecar(id).Revision);
        Assert.Equal("a.png", t.ReadSidecar(id).Original.OriginalName);
        Assert.Equal([id], await t.SearchIdsAsync("new_tag"));
    }

    [Fact]
    public async Task Bad_files_are_reported_with_reasons_and_the_import_continues()
    {
        await using var t = await CreateAsync();
        t.WriteSource("mix/1-good.png", TestImages.Png(1));
        var empty = t.WriteSource("mix/2-empty.png", []);
        var text = t.WriteSource("mix/3-text.jpg", "This is just some text, honestly.\n"u8.ToArray());
        var binary = t.WriteSource("mix/4-blob.bin", [0x00, 0x01, 0x02, 0x03, 0x00, 0x10, 0x20, 0x30, 0x7F, 0x00]);
        t.WriteSource("mix/5-good.jpg", TestImages.Jpeg(2));
        var missing = Path.Combine(t.Sources, "does-not-exist.png");

        var report = await t.Media.ImportAsync([Path.Combine(t.Sources, "mix"), missing], new ImportOptions([], null, false), null, Ct);

        Assert.Equal(2, report.Imported);
        Assert.Equal(4, report.Failed.Count);
        string ReasonFor(string path) => Assert.Single(report.Failed, f => f.Path == path).Error;
        Assert.Equal("empty file (0 bytes)", ReasonFor(empty));
        Assert.Equal("named .jpg but the content is text, not an image", ReasonFor(text));
        Assert.StartsWith("the content is not a recognised image format", ReasonFor(binary), StringComparison.Ordinal);
        Assert.Equal("no such file or folder", ReasonFor(missing));
        Assert.Equal(2, (await t.Search.SearchAsync("", 10, 0, Ct)).Total);
        Assert.Empty(Directory.EnumerateFileSystemEntries(t.Layout.TempDir));
        // Exactly two media: a sidecar and an original each.
        Assert.Equal(4, FileTree.Files(t.Layout.MediaDir).Count);
    }

    [Fact]
    public async Task Dry_run_reports_what_would_happen_and_writes_nothing()
    {
        await using var t = await CreateAsync();
        var existing = await t.ImportOneAsync(TestImages.Png(1), "a.png");
        t.WriteSource("dry/a.png", TestImages.Png(1));
        t.WriteSource("dry/b.png", TestImages.Png(2));
        t.WriteSource("dry/c.jpg", TestImages.Jpeg(3));
        var before = FileTree.LibraryData(t.Root);

        var report = await t.Media.ImportAsync([Path.Combine(t.Sources, "dry")], new ImportOptions(["x"], "New Set", DryRun: true), null, Ct);

        Assert.True(report.DryRun);
        Assert.Equal(2, report.Imported);
        Assert.Equal(1, report.Duplicates);
        Assert.Contains(existing, report.Media);
        Assert.Equal(before, FileTree.LibraryData(t.Root));
        Assert.Empty(Directory.EnumerateFileSystemEntries(t.Layout.TempDir));
        Assert.Empty(await t.Collections.ListAsync(Ct));
        Assert.Equal(1, (await t.Search.SearchAsync("", 10, 0, Ct)).Total);
        Assert.Equal("a.png", t.ReadSidecar(existing).Original.OriginalName);
        Assert.Empty(t.TagsOf(existing));
    }

    [Fact]
    public async Task Collection_option_creates_then_extends_a_collection_in_import_order()
    {
        await using var t = await CreateAsync();
        var first = new[] { t.WriteSource("c/1.png", TestImages.Png(1)), t.WriteSource("c/2.png", TestImages.Png(2)) };
        var r1 = await t.Media.ImportAsync(first, new ImportOptions([], "Holiday", false), null, Ct);
        var collection = Assert.Single(await t.Collections.ListAsync(Ct));
        Assert.Equal("Holiday", collection.Name);
        Assert.Equal(r1.Media, (await t.Collections.ShowAsync("holiday", Ct)).Members);

        // An existing media not yet in the collection joins it at the end, in import order, like new ones.
        var outsider = await t.ImportOneAsync(TestImages.Png(50), "outsider.png");
        var second = new[]
        {
            t.WriteSource("d/3.png", TestImages.Png(3)),
            t.WriteSource("d/outsider-again.png", TestImages.Png(50)),
            t.WriteSource("d/4.png", TestImages.Png(4)),
            t.WriteSource("d/5.png", TestImages.Png(5)),
        };
        var r2 = await t.Media.ImportAsync(second, new ImportOptions([], "HOLIDAY", false), null, Ct);
        Assert.Equal(3, r2.Imported);
        Assert.Equal(1, r2.Duplicates);
        Assert.Single(await t.Collections.ListAsync(Ct));

        var view = await t.Collections.ShowAsync("Holiday", Ct);
        Assert.Equal([.. r1.Media, .. r2.Media], view.Members);
        Assert.Contains(outsider, view.Members);
        Assert.Equal(6, view.Members.Count);
        var positions = view.Members.Select(id => t.ReadSidecar(id).Collections.Single().Position).ToList();
        Assert.Equal(positions.Distinct().Count(), positions.Count);
        Assert.Equal(positions.Order(), positions);
    }

    [Fact]
    public async Task Importing_a_trashed_file_restores_it()
    {
        await using var t = await CreateAsync();
        var bytes = TestImages.Png(7);
        var id = await t.ImportOneAsync(bytes, "a.png", ["kept"]);
        await t.Media.DeleteAsync([id], Ct);
        Assert.True(File.Exists(t.SidecarPath(id, trash: true)));
        Assert.Empty(await t.SearchIdsAsync("kept"));

        var path = t.WriteSource("back/a.png", bytes);
        var report = await t.Media.ImportAsync([path], new ImportOptions(["more"], null, false), null, Ct);

        Assert.Equal([id], report.Media);
        Assert.Empty(report.Failed);
        Assert.True(File.Exists(t.SidecarPath(id)));
        Assert.True(File.Exists(t.OriginalPath(id)));
        Assert.False(File.Exists(t.SidecarPath(id, trash: true)));
        Assert.False(File.Exists(t.OriginalPath(id, trash: true)));
        Assert.Null(t.ReadSidecar(id).Deleted);
        Assert.Equal(["kept", "more"], t.TagsOf(id));
        Assert.Equal([id], await t.SearchIdsAsync("kept more"));
    }

    [Fact]
    public async Task Import_tags_are_normalised_and_invalid_ones_are_refused_before_anything_is_written()
    {
        await using var t = await CreateAsync();
        var path = t.WriteSource("a.png", TestImages.Png(1));
        var ex = await Assert.ThrowsAsync<TroveUsageException>(() => t.Media.ImportAsync([path], new ImportOptions(["width:3"], null, false), null, Ct));
        Assert.Equal("invalid-tag", ex.Code);
        Assert.Empty(FileTree.Files(t.Layout.MediaDir));
    }
}
