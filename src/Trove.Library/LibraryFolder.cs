using Trove.Domain;

namespace Trove.Library;

/// <summary>Creates and recognises library folders.</summary>
public static class LibraryFolder
{
    public static LibraryManifest Init(string path, DateTimeOffset now, string? createdBy, string? name, Durability durability)
    {
        var layout = new LibraryLayout(path);
        if (File.Exists(layout.Root))
        {
            throw new TroveException("not-a-directory", $"{layout.Root} is a file, not a folder.", "Choose a new or empty folder for the library.");
        }

        if (File.Exists(layout.ManifestPath))
        {
            throw new TroveException("already-a-library", $"{layout.Root} is already a Trove library.", "Use it with --library, or choose another folder.");
        }

        if (Directory.Exists(layout.Root) && Directory.EnumerateFileSystemEntries(layout.Root).Any())
        {
            throw new TroveException(
                "folder-not-empty",
                $"{layout.Root} is not empty and is not a Trove library.",
                "Create the library in a new or empty folder, then 'trove import' your files into it.");
        }

        try
        {
            foreach (var dir in new[] { layout.Root, layout.MediaDir, layout.TrashDir, layout.CollectionsDir, layout.IndexDir, layout.StateDir, layout.CacheDir, layout.TempDir, layout.LocksDir })
            {
                Directory.CreateDirectory(dir);
            }

            var manifest = new LibraryManifest { Id = Guid.NewGuid().ToString("N"), CreatedAt = now, CreatedBy = createdBy, Name = name };
            // The manifest is written last: a folder without it is not (yet) a library.
            AtomicFile.WriteAllBytes(layout.ManifestPath, LibraryJson.Serialize(manifest), durability);
            return manifest;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TroveException("init-failed", $"Cannot create a library in {layout.Root}: {ex.Message}", "Check that the parent folder exists and is writable.", ex);
        }
    }

    /// <summary>Reads and checks the manifest; refuses folders that are not libraries or are newer than this Trove.</summary>
    public static LibraryManifest ReadManifest(LibraryLayout layout)
    {
        if (!Directory.Exists(layout.Root))
        {
            throw new TroveException("library-not-found", $"There is no folder at {layout.Root}.", $"Create a library with 'trove init --library {layout.Root}'.");
        }

        if (!File.Exists(layout.ManifestPath))
        {
            throw new TroveException(
                "not-a-library",
                $"{layout.Root} is not a Trove library (it has no {LibraryLayout.ManifestFileName}).",
                $"Create one with 'trove init --library DIR', or point --library / TROVE_LIBRARY at an existing library.");
        }

        var manifest = LibraryJson.ReadManifest(File.ReadAllBytes(layout.ManifestPath), layout.ManifestPath);
        if (manifest.Format != LibraryManifest.FormatName)
        {
            throw new TroveException("not-a-library", $"{layout.ManifestPath} says format '{manifest.Format}', not '{LibraryManifest.FormatName}'.");
        }

        if (manifest.FormatVersion > LibraryManifest.CurrentFormatVersion)
        {
            throw new TroveException(
                "library-too-new",
                $"{layout.Root} uses library format version {manifest.FormatVersion}; this Trove understands up to version {LibraryManifest.CurrentFormatVersion}.",
                "Upgrade Trove. The library has not been touched.");
        }

        if (manifest.FormatVersion < 1)
        {
            throw new TroveException("not-a-library", $"{layout.ManifestPath} has an invalid formatVersion {manifest.FormatVersion}.");
        }

        return manifest;
    }
}
