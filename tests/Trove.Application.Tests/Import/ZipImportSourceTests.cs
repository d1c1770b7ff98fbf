using System.IO.Compression;
using Trove.Application.Import;
using Trove.Library;

namespace Trove.Application.Tests.Import;

public sealed class ZipImportSourceTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Staging => _temp.Combine("staging");

    public void Dispose() => _temp.Dispose();

    private string WriteZip(byte[] zip, string name = "set.zip")
    {
        var path = _temp.Combine(name);
        File.WriteAllBytes(path, zip);
        return path;
    }

    private List<ZipItem> ReadAll(string zipPath, ImportLimits? limits = null)
    {
        using var source = ZipImportSource.Open(zipPath, Staging, limits);
        return [.. source.ReadItems()];
    }

    private List<string> StagedFiles() => FileTree.Files(Staging);

    [Fact]
    public void Images_in_folders_are_extracted_in_name_order_to_random_temp_files_and_metadata_files_are_not_candidates()
    {
        var png1 = TestImages.Png(1);
        var png2 = TestImages.Png(2);
        var png3 = TestImages.Png(3);
        var when = new DateTimeOffset(2021, 6, 5, 4, 3, 2, TimeSpan.Zero).ToLocalTime();
        var zipPath = WriteZip(TestZips.Build(
            new ZipEntrySpec("b/two.png", png2),
            ZipEntrySpec.Folder("a/"),
            new ZipEntrySpec("a/one.png", png1) { LastWriteTime = when },
            ZipEntrySpec.Text("a/one.txt", "1girl, solo"),
            ZipEntrySpec.Text("a/one.json", "{}"),
            ZipEntrySpec.Text("a/one.caption", "a caption"),
            ZipEntrySpec.Text("a/one.xmp", "<x/>"),
            new ZipEntrySpec("__MACOSX/a/._one.png", [0, 5, 22, 7]),
            new ZipEntrySpec("a/.DS_Store", [1, 2, 3]),
            new ZipEntrySpec("top.png", png3) { Level = CompressionLevel.NoCompression }));

        using var source = ZipImportSource.Open(zipPath, Staging);
        Assert.Equal(10, source.EntryCount);
        var items = source.ReadItems().ToList();

        Assert.Equal(["a/one.png", "b/two.png", "top.png"], items.Select(i => i.EntryName));
        Assert.Equal($"{zipPath}!a/one.png", items[0].DisplayPath);
        Assert.All(items, i => Assert.True(i.IsExtracted, i.ToString()));
        Assert.Equal([png1, png2, png3], items.Select(i => File.ReadAllBytes(i.TempFilePath!)));
        Assert.Equal([png1.Length, png2.Length, png3.Length], items.Select(i => (int)i.Size));
        Assert.Equal(when.ToUnixTimeSeconds(), items[0].LastWriteTime.ToUnixTimeSeconds(), 2.0);
        foreach (var item in items)
        {
            var name = Path.GetFileName(item.TempFilePath!);
            Assert.Equal(Path.GetFullPath(Staging), Path.GetDirectoryName(Path.GetFullPath(item.TempFilePath!)));
            Assert.DoesNotContain("one", name, StringComparison.Ordinal);
            Assert.DoesNotContain("two", name, StringComparison.Ordinal);
            Assert.DoesNotContain("top", name, StringComparison.Ordinal);
            Assert.True(AtomicFile.IsTempFile(name), name);
        }

        Assert.Equal(3, StagedFiles().Count);
        foreach (var item in items)
        {
            item.Dispose();
            item.Dispose();
            Assert.False(item.IsExtracted);
        }

        Assert.Empty(StagedFiles());
    }

    [Fact]
    public async Task Enumeration_is_in_name_order_with_refusals_in_place()
    {
        var zipPath = WriteZip(TestZips.Build(
            new ZipEntrySpec("x/2.png", TestImages.Png(2)),
            new ZipEntrySpec("x/1.png", TestImages.Png(1)),
            new ZipEntrySpec("../evil.png", TestImages.Png(3))));

        using var source = ZipImportSource.Open(zipPath, Staging);
        var items = source.ReadItems().ToList();

        Assert.Equal(["../evil.png", "x/1.png", "x/2.png"], items.Select(i => i.EntryName));
        Assert.Equal(ZipRefusal.UnsafePath, items[0].Refusal);
        Assert.Equal(TestImages.Png(1), await File.ReadAllBytesAsync(items[1].TempFilePath!));
        Assert.Equal(TestImages.Png(2), await File.ReadAllBytesAsync(items[2].TempFilePath!));
        items.ForEach(i => i.Dispose());
        Assert.Empty(StagedFiles());
    }

    [Theory]
    [InlineData("../evil.png", ZipRefusal.UnsafePath)]
    [InlineData("a/../../evil.png", ZipRefusal.UnsafePath)]
    [InlineData(@"..\evil.png", ZipRefusal.UnsafePath)]
    [InlineData(@"a\..\..\evil.png", ZipRefusal.UnsafePath)]
    [InlineData("/etc/x.png", ZipRefusal.AbsolutePath)]
    [InlineData(@"C:\Windows\x.png", ZipRefusal.AbsolutePath)]
    [InlineData("c:/x.png", ZipRefusal.AbsolutePath)]
    [InlineData(@"\\server\share\x.png", ZipRefusal.AbsolutePath)]
    public void Unsafe_and_absolute_paths_are_refused_while_the_rest_imports(string name, ZipRefusal expected)
    {
        var good = TestImages.Png(7);
        var zipPath = WriteZip(TestZips.Build(new ZipEntrySpec(name, TestImages.Png(8)), new ZipEntrySpec("ok/good.png", good)));

        var items = ReadAll(zipPath);

        var bad = Assert.Single(items, i => !i.IsExtracted);
        Assert.Equal(expected, bad.Refusal);
        Assert.Contains(expected == ZipRefusal.UnsafePath ? "zip-slip" : "absolute path", bad.RefusalReason, StringComparison.Ordinal);
        Assert.Null(bad.TempFilePath);
        var ok = Assert.Single(items, i => i.IsExtracted);
        Assert.Equal(good, File.ReadAllBytes(ok.TempFilePath!));
        Assert.Single(StagedFiles());
        Assert.False(File.Exists(_temp.Combine("evil.png")));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_temp.Path)!, "evil.png")));
        ok.Dispose();
    }

    [Fact]
    public void A_symlink_entry_is_refused()
    {
        var zipPath = WriteZip(TestZips.Build(
            new ZipEntrySpec("link.png", "/etc/passwd"u8.ToArray()) { ExternalAttributes = unchecked((int)(0xA1FFu << 16)) },
            new ZipEntrySpec("real.png", TestImages.Png(1)) { ExternalAttributes = unchecked((int)(0x81A4u << 16)) }));

        var items = ReadAll(zipPath);

        Assert.Equal(ZipRefusal.Symlink, items[0].Refusal);
        Assert.Contains("symbolic link", items[0].RefusalReason, StringComparison.Ordinal);
        Assert.True(items[1].IsExtracted);
        items[1].Dispose();
    }

    [Fact]
    public void An_encrypted_entry_is_refused()
    {
        var zip = TestZips.Build(new ZipEntrySpec("secret.png", TestImages.Png(1)), new ZipEntrySpec("visible.png", TestImages.Png(2)));
        TestZips.MarkEncrypted(zip, "secret.png");

        var items = ReadAll(WriteZip(zip));

        Assert.Equal(ZipRefusal.Encrypted, items[0].Refusal);
        Assert.Contains("encrypted", items[0].RefusalReason, StringComparison.Ordinal);
        Assert.True(items[1].IsExtracted);
        items[1].Dispose();
    }

    [Fact]
    public void A_zip_bomb_entry_is_refused_by_its_compression_ratio_while_the_others_import()
    {
        var zipPath = WriteZip(TestZips.Build(
            new ZipEntrySpec("a.png", TestImages.Png(1)),
            new ZipEntrySpec("bomb.png", new byte[50 * 1024 * 1024]),
            new ZipEntrySpec("c.png", TestImages.Png(2))));

        var items = ReadAll(zipPath);

        Assert.Equal(["a.png", "bomb.png", "c.png"], items.Select(i => i.EntryName));
        Assert.Equal(ZipRefusal.CompressionRatio, items[1].Refusal);
        Assert.Contains("zip bomb", items[1].RefusalReason, StringComparison.Ordinal);
        Assert.Contains("MaxCompressionRatio", items[1].RefusalReason, StringComparison.Ordinal);
        Assert.Equal(50 * 1024 * 1024, items[1].Size);
        Assert.True(items[0].IsExtracted);
        Assert.True(items[2].IsExtracted);
        Assert.Equal(2, StagedFiles().Count);
        items.ForEach(i => i.Dispose());
    }

    [Fact]
    public void An_entry_larger_than_MaxEntrySize_is_refused()
    {
        var big = TestImages.NoisePng(1, 40, 40);
        var zipPath = WriteZip(TestZips.Build(new ZipEntrySpec("big.png", big), new ZipEntrySpec("small.png", TestImages.Png(1))));

        var items = ReadAll(zipPath, new ImportLimits { MaxEntrySize = 1000 });

        Assert.Equal(ZipRefusal.TooLarge, items[0].Refusal);
        Assert.Contains("1,000 bytes allowed per file", items[0].RefusalReason, StringComparison.Ordinal);
        Assert.True(items[1].IsExtracted);
        items[1].Dispose();
    }

    [Fact]
    public void Extraction_stops_when_the_running_total_would_exceed_MaxTotalSize()
    {
        var images = Enumerable.Range(1, 4).Select(i => TestImages.NoisePng(i, 10, 10)).ToList();
        var zipPath = WriteZip(TestZips.Build([.. images.Select((png, i) => new ZipEntrySpec($"{i}.png", png))]));
        var limit = images[0].Length + images[1].Length + (images[2].Length / 2);

        var items = ReadAll(zipPath, new ImportLimits { MaxTotalSize = limit });

        Assert.Equal(4, items.Count);
        Assert.True(items[0].IsExtracted);
        Assert.True(items[1].IsExtracted);
        Assert.All(items.Skip(2), i => Assert.Equal(ZipRefusal.TotalSizeLimit, i.Refusal));
        Assert.All(items.Skip(2), i => Assert.Contains("extraction stopped at '2.png'", i.RefusalReason, StringComparison.Ordinal));
        Assert.Equal(2, StagedFiles().Count);
        items.ForEach(i => i.Dispose());
    }

    [Fact]
    public void An_archive_with_more_entries_than_MaxArchiveEntries_is_refused_before_its_directory_is_read()
    {
        var zipPath = WriteZip(TestZips.Build([.. Enumerable.Range(0, 5).Select(i => new ZipEntrySpec($"{i}.png", TestImages.Png(i)))]));

        using var source = ZipImportSource.Open(zipPath, Staging, new ImportLimits { MaxArchiveEntries = 4 });
        var item = Assert.Single(source.ReadItems());

        Assert.Equal(5, source.EntryCount);
        Assert.Equal(ZipRefusal.EntryCountLimit, item.Refusal);
        Assert.Equal(zipPath, item.DisplayPath);
        Assert.Contains("5 entries, more than the 4 allowed", item.RefusalReason, StringComparison.Ordinal);
        Assert.Empty(StagedFiles());

        var exactly = ReadAll(zipPath, new ImportLimits { MaxArchiveEntries = 5 });
        Assert.Equal(5, exactly.Count(i => i.IsExtracted));
        exactly.ForEach(i => i.Dispose());
    }

    [Fact]
    public void A_stored_entry_holding_more_than_its_header_declares_is_aborted_while_streaming()
    {
        var payload = TestImages.NoisePng(5, 100, 100);
        var zip = TestZips.Build(
            new ZipEntrySpec("liar.png", payload) { Level = CompressionLevel.NoCompression },
            new ZipEntrySpec("honest.png", TestImages.Png(1)));
        TestZips.PatchUncompressedSize(zip, "liar.png", 1000);

        var items = ReadAll(WriteZip(zip));

        Assert.Equal(ZipRefusal.SizeMismatch, items[1].Refusal);
        Assert.Contains("more data than the 1,000 bytes its header declares", items[1].RefusalReason, StringComparison.Ordinal);
        Assert.Equal("honest.png", items[0].EntryName);
        Assert.True(items[0].IsExtracted);
        Assert.Single(StagedFiles());
        items.ForEach(i => i.Dispose());
    }

    [Fact]
    public void A_deflated_entry_whose_header_understates_its_size_fails_the_crc_check()
    {
        var payload = TestImages.NoisePng(6, 100, 100);
        var zip = TestZips.Build(new ZipEntrySpec("liar.png", payload));
        TestZips.PatchUncompressedSize(zip, "liar.png", 1000);

        var item = Assert.Single(ReadAll(WriteZip(zip)));

        Assert.False(item.IsExtracted);
        Assert.True(item.Refusal is ZipRefusal.Damaged or ZipRefusal.SizeMismatch, item.ToString());
        Assert.Empty(StagedFiles());
    }

    [Fact]
    public void The_copy_helper_counts_bytes_and_stops_past_the_limit()
    {
        var data = new byte[200_000];
        Random.Shared.NextBytes(data);

        using (var exact = new MemoryStream())
        {
            Assert.Equal(data.Length, LimitedCopy.Copy(new MemoryStream(data), exact, data.Length, null, CancellationToken.None));
            Assert.Equal(data, exact.ToArray());
        }

        using var output = new MemoryStream();
        var ex = Assert.Throws<SizeLimitExceededException>(() => LimitedCopy.Copy(new MemoryStream(data), output, 70_000, null, CancellationToken.None));
        Assert.Equal(70_000, ex.Limit);
        Assert.True(output.Length <= 70_000, $"wrote {output.Length} bytes past the limit");

        var crc = new Crc32();
        LimitedCopy.Copy(new MemoryStream(data), Stream.Null, long.MaxValue, crc, CancellationToken.None);
        Assert.Equal(Crc32.Compute(data), crc.Value);
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
    }

    [Fact]
    public void Nested_archives_are_not_expanded()
    {
        var inner = TestZips.Build(new ZipEntrySpec("inner.png", TestImages.Png(1)));
        var zipPath = WriteZip(TestZips.Build(new ZipEntrySpec("more/inner.zip", inner), new ZipEntrySpec("outer.png", TestImages.Png(2))));

        var items = ReadAll(zipPath);

        Assert.Equal(ZipRefusal.NestedArchive, items[0].Refusal);
        Assert.Contains("not expanded", items[0].RefusalReason, StringComparison.Ordinal);
        Assert.Equal("outer.png", items[1].EntryName);
        items.ForEach(i => i.Dispose());
    }

    [Fact]
    public void A_file_that_is_not_a_zip_is_refused_at_open()
    {
        var path = WriteZip(TestImages.Png(1), "not-a.zip");
        var ex = Assert.Throws<InvalidDataException>(() => ZipImportSource.Open(path, Staging));
        Assert.Contains("not a ZIP archive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_declared_entry_count_comes_from_the_end_of_central_directory()
    {
        var zip = TestZips.Build([.. Enumerable.Range(0, 7).Select(i => ZipEntrySpec.Text($"{i}.txt", "x"))]);
        Assert.Equal(7, ZipImportSource.DeclaredEntryCount(new MemoryStream(zip)));
        Assert.Null(ZipImportSource.DeclaredEntryCount(new MemoryStream(TestImages.Png(1))));
    }

    [Fact]
    public void Metadata_files_beside_an_entry_are_read_on_demand_within_the_sidecar_limit()
    {
        var zipPath = WriteZip(TestZips.Build(
            new ZipEntrySpec("set/pic.png", TestImages.Png(1)),
            ZipEntrySpec.Text("set/pic.txt", "1girl, solo, long hair"),
            ZipEntrySpec.Text("set/pic.png.txt", "creator:someone\nseries:some show"),
            ZipEntrySpec.Text("set/pic.json", """{"rating": "q", "source": "https://example.com/post/1"}"""),
            ZipEntrySpec.Text("set/PIC2.CAPTION", "caption with odd case"),
            new ZipEntrySpec("set/pic2.png", TestImages.Png(2)),
            ZipEntrySpec.Text("other/pic.txt", "not, this, one"),
            new ZipEntrySpec("set/big.png", TestImages.Png(3)),
            ZipEntrySpec.Text("set/big.txt", new string('x', 5000))));

        using var source = ZipImportSource.Open(zipPath, Staging);
        var items = source.ReadItems().ToList();
        var reader = new ImportMetadataReader(new ImportLimits { MaxSidecarSize = 4096 });

        var pic = reader.ReadZipItem(items.Single(i => i.EntryName == "set/pic.png"));
        Assert.Equal(
            [new("1girl", null), new("solo", null), new("long_hair", null), new("someone", "artist"), new("some_show", "copyright"), new("questionable", "rating")],
            pic.Tags);
        Assert.Equal("questionable", pic.Rating);
        Assert.Equal(["https://example.com/post/1"], pic.SourceUrls);
        Assert.Equal([$"{zipPath}!set/pic.txt", $"{zipPath}!set/pic.png.txt", $"{zipPath}!set/pic.json"], pic.Files);
        Assert.Empty(pic.Warnings);

        var pic2 = reader.ReadZipItem(items.Single(i => i.EntryName == "set/pic2.png"));
        Assert.Equal("caption with odd case", Assert.Single(pic2.Captions).Text);

        var big = reader.ReadZipItem(items.Single(i => i.EntryName == "set/big.png"));
        Assert.Empty(big.Tags);
        var warning = Assert.Single(big.Warnings);
        Assert.Contains("set/big.txt is 5,000 bytes, more than the 4,096 bytes allowed", warning, StringComparison.Ordinal);

        items.ForEach(i => i.Dispose());
    }
}
