using System.Security.Cryptography;
using Trove.Domain;

namespace Trove.Library;

/// <summary>What the index remembers about a file to notice later changes: size, mtime and a content digest.</summary>
public sealed record FileStamp(long Size, long MtimeTicks, string Digest)
{
    public static string DigestOf(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes))[..32];

    public bool SameStat(long size, long mtimeTicks) => Size == size && MtimeTicks == mtimeTicks;
}

/// <summary>A sidecar read from disk with its stamp and where it lives.</summary>
public sealed record StoredSidecar(MediaSidecar Sidecar, bool InTrash, FileStamp Stamp);

/// <summary>
/// File-level operations on a library: every write is atomic and, by default, durable.
/// Callers hold the <see cref="LibraryWriteLock"/> for anything that writes.
/// </summary>
public sealed class LibraryFiles(LibraryLayout layout, Durability durability)
{
    public LibraryLayout Layout { get; } = layout;

    public Durability Durability { get; } = durability;

    public static FileStamp StampOf(string path, ReadOnlySpan<byte> bytes)
    {
        var info = new FileInfo(path);
        return new FileStamp(info.Length, info.LastWriteTimeUtc.Ticks, FileStamp.DigestOf(bytes));
    }

    /// <summary>Reads a media's sidecar from the library or the trash; null if neither has it.</summary>
    public StoredSidecar? TryReadSidecar(string id)
    {
        foreach (var trash in (ReadOnlySpan<bool>)[false, true])
        {
            var path = Layout.SidecarPath(id, trash);
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (FileNotFoundException)
            {
                continue;
            }
            catch (DirectoryNotFoundException)
            {
                continue;
            }

            var sidecar = SidecarSerializer.Deserialize(bytes, Layout.Relative(path), id);
            return new StoredSidecar(sidecar, trash, StampOf(path, bytes));
        }

        return null;
    }

    public StoredSidecar ReadSidecar(string id) =>
        TryReadSidecar(id) ?? throw new TroveException("media-not-found", $"Media {id} has no sidecar in the library or the trash.", "Run 'trove check' to compare the index with the files.");

    public FileStamp WriteSidecar(MediaSidecar sidecar, bool trash)
    {
        var path = Layout.SidecarPath(sidecar.Id, trash);
        var bytes = SidecarSerializer.Serialize(sidecar);
        AtomicFile.WriteAllBytes(path, bytes, Durability);
        return StampOf(path, bytes);
    }

    /// <summary>Moves a media's files between the library and the trash: new sidecar first, then the original, then the old sidecar.</summary>
    public FileStamp MoveMedia(MediaSidecar sidecar, bool toTrash)
    {
        var stamp = WriteSidecar(sidecar, toTrash);
        var from = Layout.OriginalPath(sidecar.Id, sidecar.Original.Ext, !toTrash);
        var to = Layout.OriginalPath(sidecar.Id, sidecar.Original.Ext, toTrash);
        if (File.Exists(from))
        {
            AtomicFile.MoveIntoPlace(from, to, overwrite: true, Durability);
        }

        var oldSidecar = Layout.SidecarPath(sidecar.Id, !toTrash);
        if (File.Exists(oldSidecar))
        {
            AtomicFile.Delete(oldSidecar, Durability);
        }

        return stamp;
    }

    /// <summary>Removes a trashed media for good: sidecar first (so a crash leaves an orphan, never a sidecar without its file).</summary>
    public void Purge(MediaSidecar sidecar)
    {
        var sidecarPath = Layout.SidecarPath(sidecar.Id, trash: true);
        if (File.Exists(sidecarPath))
        {
            AtomicFile.Delete(sidecarPath, Durability);
        }

        var original = Layout.OriginalPath(sidecar.Id, sidecar.Original.Ext, trash: true);
        if (File.Exists(original))
        {
            File.SetUnixFileMode(original, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            AtomicFile.Delete(original, Durability);
        }
    }

    public Vocabulary ReadVocabulary(out FileStamp? stamp)
    {
        var path = Layout.VocabularyPath;
        if (!File.Exists(path))
        {
            stamp = null;
            return new Vocabulary();
        }

        var bytes = File.ReadAllBytes(path);
        stamp = StampOf(path, bytes);
        return LibraryJson.ReadVocabulary(bytes, Layout.Relative(path));
    }

    public FileStamp WriteVocabulary(Vocabulary vocabulary)
    {
        var bytes = LibraryJson.Serialize(vocabulary);
        AtomicFile.WriteAllBytes(Layout.VocabularyPath, bytes, Durability);
        return StampOf(Layout.VocabularyPath, bytes);
    }

    /// <summary>The model registry (empty when models.json does not exist yet).</summary>
    public Trove.Domain.Models.ModelCatalog ReadModels()
    {
        var path = Layout.ModelsPath;
        return File.Exists(path) ? LibraryJson.ReadModels(File.ReadAllBytes(path), Layout.Relative(path)) : new Trove.Domain.Models.ModelCatalog();
    }

    public void WriteModels(Trove.Domain.Models.ModelCatalog catalog) =>
        AtomicFile.WriteAllBytes(Layout.ModelsPath, LibraryJson.Serialize(catalog), Durability);

    /// <summary>The remote providers (empty when providers.json does not exist yet).</summary>
    public Trove.Domain.Models.ProviderCatalog ReadProviders()
    {
        var path = Layout.ProvidersPath;
        return File.Exists(path) ? LibraryJson.ReadProviders(File.ReadAllBytes(path), Layout.Relative(path)) : new Trove.Domain.Models.ProviderCatalog();
    }

    public void WriteProviders(Trove.Domain.Models.ProviderCatalog catalog) =>
        AtomicFile.WriteAllBytes(Layout.ProvidersPath, LibraryJson.Serialize(catalog), Durability);

    public (CollectionDefinition Collection, FileStamp Stamp) ReadCollection(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return (LibraryJson.ReadCollection(bytes, Layout.Relative(path)), StampOf(path, bytes));
    }

    public FileStamp WriteCollection(CollectionDefinition collection)
    {
        var path = Layout.CollectionPath(collection.Id);
        var bytes = LibraryJson.Serialize(collection);
        AtomicFile.WriteAllBytes(path, bytes, Durability);
        return StampOf(path, bytes);
    }

    public void DeleteCollection(string collectionId)
    {
        var path = Layout.CollectionPath(collectionId);
        if (File.Exists(path))
        {
            AtomicFile.Delete(path, Durability);
        }
    }

    /// <summary>A person, or null when there is no such file.</summary>
    /// <exception cref="FileFormatException">person-malformed, person-invalid.</exception>
    public Trove.Domain.Faces.Person? TryReadPerson(string personId)
    {
        var path = Layout.PersonPath(personId);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        return LibraryJson.ReadPerson(bytes, Layout.Relative(path));
    }

    public void WritePerson(Trove.Domain.Faces.Person person)
    {
        ArgumentNullException.ThrowIfNull(person);
        AtomicFile.WriteAllBytes(Layout.PersonPath(person.Id), LibraryJson.Serialize(person), Durability);
    }

    public void DeletePerson(string personId)
    {
        var path = Layout.PersonPath(personId);
        if (File.Exists(path))
        {
            AtomicFile.Delete(path, Durability);
        }
    }

    /// <summary>The people files (not temporary ones), in name order.</summary>
    public IEnumerable<string> PersonFiles() =>
        Directory.Exists(Layout.PeopleDir)
            ? Directory.EnumerateFiles(Layout.PeopleDir, "*.json").Where(p => !AtomicFile.IsTempFile(p)).Order(StringComparer.Ordinal)
            : [];

    public IEnumerable<string> CollectionFiles() =>
        Directory.Exists(Layout.CollectionsDir)
            ? Directory.EnumerateFiles(Layout.CollectionsDir, "*.json").Where(p => !AtomicFile.IsTempFile(p)).Order(StringComparer.Ordinal)
            : [];

    /// <summary>Every file under media/ and trash/ with its size and mtime, from directory listings (no reads).</summary>
    public IEnumerable<MediaFileEntry> EnumerateMediaFiles()
    {
        foreach (var trash in new[] { false, true })
        {
            var root = trash ? Layout.TrashDir : Layout.MediaDir;
            if (!Directory.Exists(root))
            {
                continue;
            }

            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false, ReturnSpecialDirectories = false };
            var entries = new System.IO.Enumeration.FileSystemEnumerable<MediaFileEntry>(
                root,
                (ref System.IO.Enumeration.FileSystemEntry e) => new MediaFileEntry(e.ToFullPath(), e.FileName.ToString(), e.Length, e.LastWriteTimeUtc.UtcTicks, trash),
                options)
            {
                ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => !e.IsDirectory,
            };
            foreach (var entry in entries)
            {
                yield return entry;
            }
        }
    }
}

public sealed record MediaFileEntry(string Path, string FileName, long Size, long MtimeTicks, bool InTrash)
{
    public bool IsSidecar => FileName.EndsWith(LibraryLayout.SidecarExtension, StringComparison.Ordinal) && !IsTemp;

    public bool IsTemp => AtomicFile.IsTempFile(FileName);

    /// <summary>The media id this file belongs to (file name up to the first dot), or null if it is not named like one.</summary>
    public string? MediaId
    {
        get
        {
            var name = IsTemp ? FileName.TrimStart('.') : FileName;
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            var id = dot < 0 ? name : name[..dot];
            return Domain.MediaId.IsValid(id) ? id : null;
        }
    }
}
