using System.Text;
using Trove.Domain;

namespace Trove.Library.Tests;

public sealed class LibraryFilesTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 2, 3, 4, 5, 6, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();
    private readonly LibraryLayout _layout;
    private readonly LibraryFiles _files;

    public LibraryFilesTests()
    {
        LibraryFolder.Init(_dir.Path, Now, null, null, Durability.Fast);
        _layout = new LibraryLayout(_dir.Path);
        _files = new LibraryFiles(_layout, Durability.Fast);
    }

    public void Dispose() => _dir.Dispose();

    private static MediaSidecar Sidecar(string id, string ext = "jpg") => new()
    {
        Id = id,
        Revision = 1,
        Original = new OriginalInfo { Ext = ext, MediaType = MediaTypes.FromExtension(ext), Size = 3 },
        CreatedAt = Now,
        UpdatedAt = Now,
        Tags = [new TagEntry { Name = "cat", AddedAt = Now }],
        Captions = [new CaptionEntry { Id = 1, Text = "A cat.", Primary = true, CreatedAt = Now }],
    };

    private string PutOriginal(string id, string ext, bool trash = false)
    {
        var path = _layout.OriginalPath(id, ext, trash);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [1, 2, 3]);
        return path;
    }

    [Theory]
    [InlineData(Durability.Durable)]
    [InlineData(Durability.Fast)]
    public void WriteSidecar_then_TryReadSidecar_round_trips(Durability durability)
    {
        var files = new LibraryFiles(_layout, durability);
        var id = TestIds.WithPrefix("abcd");
        var stamp = files.WriteSidecar(Sidecar(id), trash: false);

        var path = _layout.SidecarPath(id);
        Assert.Equal(Path.Combine(_dir.Path, "media", "ab", "cd", id + ".json"), path);
        Assert.True(File.Exists(path));
        Assert.Equal(new FileInfo(path).Length, stamp.Size);
        Assert.Equal(FileStamp.DigestOf(File.ReadAllBytes(path)), stamp.Digest);
        Assert.Equal(32, stamp.Digest.Length);

        var stored = files.TryReadSidecar(id);
        Assert.NotNull(stored);
        Assert.False(stored.InTrash);
        Assert.Equal(stamp, stored.Stamp);
        Assert.Equal(id, stored.Sidecar.Id);
        Assert.Equal(1, stored.Sidecar.Revision);
        Assert.Equal("jpg", stored.Sidecar.Original.Ext);
        Assert.Equal("cat", Assert.Single(stored.Sidecar.Tags).Name);
        Assert.Equal("A cat.", stored.Sidecar.PrimaryCaption!.Text);
        Assert.Equal(SidecarSerializer.Serialize(Sidecar(id)), File.ReadAllBytes(path));
        Assert.DoesNotContain(Directory.EnumerateFiles(_layout.ShardDir(id)), AtomicFile.IsTempFile);
    }

    [Fact]
    public void WriteSidecar_overwrites_and_the_stamp_changes_with_the_content()
    {
        var id = TestIds.Of('a');
        var s = Sidecar(id);
        var first = _files.WriteSidecar(s, trash: false);
        s.Revision = 2;
        s.Tags.Add(new TagEntry { Name = "dog", AddedAt = Now });
        var second = _files.WriteSidecar(s, trash: false);

        Assert.NotEqual(first.Digest, second.Digest);
        var stored = _files.ReadSidecar(id);
        Assert.Equal(2, stored.Sidecar.Revision);
        Assert.Equal(["cat", "dog"], stored.Sidecar.Tags.Select(t => t.Name));
        Assert.Equal(second, stored.Stamp);
    }

    [Fact]
    public void TryReadSidecar_returns_null_when_neither_library_nor_trash_has_it()
    {
        Assert.Null(_files.TryReadSidecar(TestIds.Of('b')));

        var ex = Assert.Throws<TroveException>(() => _files.ReadSidecar(TestIds.Of('b')));
        Assert.Equal("media-not-found", ex.Code);
    }

    [Fact]
    public void TryReadSidecar_finds_a_sidecar_in_the_trash()
    {
        var id = TestIds.Of('c');
        _files.WriteSidecar(Sidecar(id), trash: true);

        var stored = _files.TryReadSidecar(id);
        Assert.NotNull(stored);
        Assert.True(stored.InTrash);
    }

    [Fact]
    public void TryReadSidecar_reports_broken_files_with_the_library_relative_path()
    {
        var id = TestIds.WithPrefix("1234");
        var path = _layout.SidecarPath(id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "{\n  \"schema\": 2,\n  oops\n}");

        var ex = Assert.Throws<FileFormatException>(() => _files.TryReadSidecar(id));
        Assert.Equal("sidecar-malformed", ex.Code);
        Assert.Equal($"media/12/34/{id}.json", ex.FilePath);
        Assert.Equal(3, ex.Line);
    }

    [Fact]
    public void TryReadSidecar_refuses_a_sidecar_stored_under_another_id()
    {
        var id = TestIds.Of('d');
        var other = TestIds.Of('e');
        var path = _layout.SidecarPath(id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, SidecarSerializer.Serialize(Sidecar(other)));

        var ex = Assert.Throws<FileFormatException>(() => _files.TryReadSidecar(id));
        Assert.Equal("sidecar-invalid", ex.Code);
    }

    [Theory]
    [InlineData(Durability.Durable)]
    [InlineData(Durability.Fast)]
    public void MoveMedia_to_trash_and_back_moves_sidecar_and_original(Durability durability)
    {
        var files = new LibraryFiles(_layout, durability);
        var id = TestIds.WithPrefix("beef");
        var sidecar = Sidecar(id, "png");
        files.WriteSidecar(sidecar, trash: false);
        PutOriginal(id, "png");

        sidecar.Deleted = new DeletionInfo { At = Now, By = "alice" };
        var trashStamp = files.MoveMedia(sidecar, toTrash: true);

        Assert.False(File.Exists(_layout.SidecarPath(id)));
        Assert.False(File.Exists(_layout.OriginalPath(id, "png")));
        Assert.True(File.Exists(_layout.SidecarPath(id, trash: true)));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(_layout.OriginalPath(id, "png", trash: true)));
        Assert.StartsWith(Path.Combine(_dir.Path, "trash", "be", "ef"), _layout.SidecarPath(id, trash: true), StringComparison.Ordinal);

        var inTrash = files.ReadSidecar(id);
        Assert.True(inTrash.InTrash);
        Assert.Equal(trashStamp, inTrash.Stamp);
        Assert.Equal("alice", inTrash.Sidecar.Deleted!.By);

        sidecar.Deleted = null;
        files.MoveMedia(sidecar, toTrash: false);

        Assert.True(File.Exists(_layout.SidecarPath(id)));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(_layout.OriginalPath(id, "png")));
        Assert.False(File.Exists(_layout.SidecarPath(id, trash: true)));
        Assert.False(File.Exists(_layout.OriginalPath(id, "png", trash: true)));

        var restored = files.ReadSidecar(id);
        Assert.False(restored.InTrash);
        Assert.Null(restored.Sidecar.Deleted);
    }

    [Fact]
    public void MoveMedia_without_an_original_still_moves_the_sidecar()
    {
        var id = TestIds.Of('f');
        var sidecar = Sidecar(id);
        _files.WriteSidecar(sidecar, trash: false);

        _files.MoveMedia(sidecar, toTrash: true);

        Assert.False(File.Exists(_layout.SidecarPath(id)));
        Assert.True(_files.ReadSidecar(id).InTrash);
    }

    [Fact]
    public void Purge_removes_the_trashed_sidecar_and_original_even_when_read_only()
    {
        var id = TestIds.Of('9');
        var sidecar = Sidecar(id);
        _files.WriteSidecar(sidecar, trash: true);
        var original = PutOriginal(id, "jpg", trash: true);
        File.SetUnixFileMode(original, UnixFileMode.UserRead);

        _files.Purge(sidecar);

        Assert.False(File.Exists(_layout.SidecarPath(id, trash: true)));
        Assert.False(File.Exists(original));
        Assert.Null(_files.TryReadSidecar(id));
    }

    [Fact]
    public void EnumerateMediaFiles_lists_library_and_trash_files_with_their_media_ids()
    {
        var a = TestIds.WithPrefix("aa11");
        var b = TestIds.WithPrefix("bb22");
        var c = TestIds.WithPrefix("cc33");
        _files.WriteSidecar(Sidecar(a), trash: false);
        PutOriginal(a, "jpg");
        PutOriginal(b, string.Empty);
        _files.WriteSidecar(Sidecar(c, "webp"), trash: true);
        PutOriginal(c, "webp", trash: true);
        File.WriteAllText(Path.Combine(_layout.ShardDir(a), "notes.txt"), "hello");

        var entries = _files.EnumerateMediaFiles().ToList();
        var byName = entries.ToDictionary(e => e.FileName, StringComparer.Ordinal);

        Assert.Equal(6, entries.Count);

        var aSidecar = byName[a + ".json"];
        Assert.True(aSidecar.IsSidecar);
        Assert.False(aSidecar.IsTemp);
        Assert.False(aSidecar.InTrash);
        Assert.Equal(a, aSidecar.MediaId);
        Assert.Equal(_layout.SidecarPath(a), aSidecar.Path);
        Assert.Equal(new FileInfo(aSidecar.Path).Length, aSidecar.Size);
        Assert.Equal(File.GetLastWriteTimeUtc(aSidecar.Path).Ticks, aSidecar.MtimeTicks);

        var aOriginal = byName[a + ".jpg"];
        Assert.False(aOriginal.IsSidecar);
        Assert.Equal(a, aOriginal.MediaId);
        Assert.Equal(3, aOriginal.Size);

        var bOriginal = byName[b];
        Assert.False(bOriginal.IsSidecar);
        Assert.Equal(b, bOriginal.MediaId);

        Assert.True(byName[c + ".json"].InTrash);
        Assert.True(byName[c + ".json"].IsSidecar);
        Assert.Equal(c, byName[c + ".webp"].MediaId);
        Assert.True(byName[c + ".webp"].InTrash);

        var stray = byName["notes.txt"];
        Assert.Null(stray.MediaId);
        Assert.False(stray.IsSidecar);
    }

    [Fact]
    public void EnumerateMediaFiles_flags_temp_files()
    {
        var id = TestIds.WithPrefix("dd44");
        var shard = _layout.ShardDir(id);
        Directory.CreateDirectory(shard);
        var tempName = "." + id + ".json" + AtomicFile.TempMarker + "-1234-abcdef12";
        File.WriteAllText(Path.Combine(shard, tempName), "{}");

        var entry = Assert.Single(_files.EnumerateMediaFiles());
        Assert.Equal(tempName, entry.FileName);
        Assert.True(entry.IsTemp);
        Assert.False(entry.IsSidecar);
        Assert.Equal(id, entry.MediaId);
    }

    [Fact]
    public void MediaFileEntry_ids_come_from_the_name_up_to_the_first_dot()
    {
        var id = TestIds.WithPrefix("abcdef7");
        Assert.Equal(id, new MediaFileEntry("p", id + ".tar.gz", 0, 0, false).MediaId);
        Assert.Null(new MediaFileEntry("p", id.ToUpperInvariant() + ".jpg", 0, 0, false).MediaId);
        Assert.Null(new MediaFileEntry("p", id[..10] + ".jpg", 0, 0, false).MediaId);
        Assert.Null(new MediaFileEntry("p", ".hidden", 0, 0, false).MediaId);
    }

    [Fact]
    public void EnumerateMediaFiles_is_empty_when_the_folders_are_missing()
    {
        var files = new LibraryFiles(new LibraryLayout(_dir.Combine("nothing-here")), Durability.Fast);
        Assert.Empty(files.EnumerateMediaFiles());
        Assert.Empty(files.CollectionFiles());
    }

    [Fact]
    public void Vocabulary_is_empty_when_missing_and_round_trips()
    {
        var empty = _files.ReadVocabulary(out var noStamp);
        Assert.Null(noStamp);
        Assert.Empty(empty.Aliases);

        var v = new Vocabulary();
        v.AddCategory("place");
        v.SetCategory("paris", "place");
        v.AddAlias("nyc", "new_york", Now, "alice");
        v.AddImplication("paris", "france", Now, null);
        var written = _files.WriteVocabulary(v);

        var read = _files.ReadVocabulary(out var stamp);
        Assert.Equal(written, stamp);
        Assert.Equal(["place"], read.Categories);
        Assert.Equal("place", read.CategoryOf("paris"));
        Assert.Equal("new_york", read.Resolve("nyc"));
        Assert.Equal("alice", read.Aliases["nyc"].CreatedBy);
        var imp = Assert.Single(read.Implications);
        Assert.Equal(("paris", "france"), (imp.Child, imp.Parent));
    }

    [Fact]
    public void Vocabulary_that_breaks_the_rules_is_refused_on_read()
    {
        File.WriteAllText(_layout.VocabularyPath, """
            {
              "schema": 1,
              "aliases": { "a": { "to": "b" }, "b": { "to": "c" } },
              "implications": [ { "child": "x", "parent": "y" }, { "child": "y", "parent": "x" } ]
            }
            """);
        var ex = Assert.Throws<FileFormatException>(() => _files.ReadVocabulary(out _));
        Assert.Equal("vocabulary-invalid", ex.Code);
        Assert.Equal("vocabulary.json", ex.FilePath);
        Assert.Contains("points at another alias", ex.Message);
        Assert.Contains("implication cycle: x → y → x", ex.Message);
    }

    [Fact]
    public void Vocabulary_with_a_newer_schema_is_refused()
    {
        File.WriteAllText(_layout.VocabularyPath, """{ "schema": 2 }""");
        var ex = Assert.Throws<FileFormatException>(() => _files.ReadVocabulary(out _));
        Assert.Equal("newer-schema", ex.Code);
    }

    [Fact]
    public void Collections_round_trip_are_listed_and_deleted()
    {
        var c = new CollectionDefinition { Id = "0123456789ab", Name = "Trip", Tags = ["travel"], CreatedAt = Now, UpdatedAt = Now };
        _files.WriteCollection(c);
        File.WriteAllText(Path.Combine(_layout.CollectionsDir, ".x.json" + AtomicFile.TempMarker + "-1-2"), "{}");

        var path = Assert.Single(_files.CollectionFiles());
        Assert.Equal(_layout.CollectionPath("0123456789ab"), path);
        var (read, _) = _files.ReadCollection(path);
        Assert.Equal("Trip", read.Name);
        Assert.Equal(["travel"], read.Tags);

        _files.DeleteCollection("0123456789ab");
        Assert.Empty(_files.CollectionFiles());
        _files.DeleteCollection("0123456789ab");
    }

    [Fact]
    public void Collection_whose_id_does_not_match_its_file_name_is_refused()
    {
        var path = _layout.CollectionPath("aaaaaaaaaaaa");
        File.WriteAllBytes(path, LibraryJson.Serialize(new CollectionDefinition { Id = "bbbbbbbbbbbb", Name = "x" }));
        var ex = Assert.Throws<FileFormatException>(() => _files.ReadCollection(path));
        Assert.Equal("collection-invalid", ex.Code);
        Assert.Equal("collections/aaaaaaaaaaaa.json", ex.FilePath);
    }

    [Fact]
    public void StampOf_records_size_mtime_and_a_digest_of_the_bytes()
    {
        var path = _dir.Combine("f");
        var bytes = Encoding.UTF8.GetBytes("content");
        File.WriteAllBytes(path, bytes);
        var stamp = LibraryFiles.StampOf(path, bytes);

        Assert.Equal(bytes.Length, stamp.Size);
        Assert.Equal(File.GetLastWriteTimeUtc(path).Ticks, stamp.MtimeTicks);
        Assert.Equal(FileStamp.DigestOf(bytes), stamp.Digest);
        Assert.True(stamp.SameStat(bytes.Length, stamp.MtimeTicks));
        Assert.False(stamp.SameStat(bytes.Length + 1, stamp.MtimeTicks));
        Assert.NotEqual(FileStamp.DigestOf("other"u8), stamp.Digest);
    }
}
