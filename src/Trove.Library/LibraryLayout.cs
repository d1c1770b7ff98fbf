namespace Trove.Library;

/// <summary>
/// Where everything lives inside a library folder. See docs/library-format.md.
/// Media are sharded by the first two and next two hex characters of their SHA-256
/// (65,536 leaf folders: about 15 media per folder at a million images).
/// </summary>
public sealed class LibraryLayout
{
    public const string ManifestFileName = "trove.json";
    public const string VocabularyFileName = "vocabulary.json";
    public const string ModelsFileName = "models.json";
    public const string ProvidersFileName = "providers.json";
    public const string SidecarExtension = ".json";

    public LibraryLayout(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    public string ManifestPath => Path.Combine(Root, ManifestFileName);

    public string VocabularyPath => Path.Combine(Root, VocabularyFileName);

    public string CollectionsDir => Path.Combine(Root, "collections");

    /// <summary>The model registry (see docs/models.md).</summary>
    public string ModelsPath => Path.Combine(Root, ModelsFileName);

    /// <summary>Remote model providers (see docs/models.md, "Providers"); holds no secrets.</summary>
    public string ProvidersPath => Path.Combine(Root, ProvidersFileName);

    /// <summary>Where <c>trove models add --copy</c> keeps model files inside the library.</summary>
    public string ModelFilesDir => Path.Combine(Root, "models");

    public string MediaDir => Path.Combine(Root, "media");

    public string TrashDir => Path.Combine(Root, "trash");

    /// <summary>Rebuildable index (safe to delete).</summary>
    public string IndexDir => Path.Combine(Root, "index");

    /// <summary>State that is not derivable from the files (accounts, tokens, jobs, audit log): back it up.</summary>
    public string StateDir => Path.Combine(Root, "state");

    /// <summary>Thumbnails, renders: safe to delete.</summary>
    public string CacheDir => Path.Combine(Root, "cache");

    /// <summary>Staging area for files being imported or uploaded; what a dead process left is swept by the next one.</summary>
    public string TempDir => Path.Combine(Root, "tmp");

    /// <summary>Embeddings per embedder version: derived data that an index rebuild keeps (deleting it costs only recomputation).</summary>
    public string EmbeddingsDir => Path.Combine(Root, "embeddings");

    /// <summary>
    /// <c>embeddings/MODEL/VERSION.vec</c>; characters of the version other than letters, digits, '-', '_' and '.' (and a
    /// leading '.') are written as %XX, so any version name makes one plain file name.
    /// </summary>
    public string EmbeddingPath(string model, string version)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(version);
        var name = new System.Text.StringBuilder(version.Length);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(version))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' || (c == '.' && name.Length > 0)))
            {
                name.Append(c);
            }
            else
            {
                name.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return Path.Combine(EmbeddingsDir, Path.GetFileName(model), name + Embeddings.EmbeddingFile.Extension);
    }

    public string LocksDir => Path.Combine(Root, "locks");

    public string WriteLockPath => Path.Combine(LocksDir, "write.lock");

    /// <summary>One marker per process that has the library open (see <see cref="Recovery.WriterMarkers"/>).</summary>
    public string WritersDir => Path.Combine(LocksDir, "writers");

    public string IndexDatabasePath => Path.Combine(IndexDir, "index.db");

    public string StateDatabasePath => Path.Combine(StateDir, "state.db");

    public string ShardDir(string id, bool trash = false) =>
        Path.Combine(trash ? TrashDir : MediaDir, id[..2], id[2..4]);

    public string SidecarPath(string id, bool trash = false) => Path.Combine(ShardDir(id, trash), id + SidecarExtension);

    public string OriginalPath(string id, string ext, bool trash = false) =>
        Path.Combine(ShardDir(id, trash), ext.Length == 0 ? id : id + "." + ext);

    /// <summary>Cached thumbnail: cache/thumbs/{size}/ab/{id}.{ext} (safe to delete; regenerated on demand).</summary>
    public string ThumbnailPath(string id, int size, string ext) =>
        Path.Combine(CacheDir, "thumbs", size.ToString(System.Globalization.CultureInfo.InvariantCulture), id[..2], id + "." + ext);

    /// <summary>Cached crop render: cache/crops/ab/{id}-{key}.{ext}, where key identifies rectangle, size and format.</summary>
    public string CropRenderPath(string id, string key, string ext) =>
        Path.Combine(CacheDir, "crops", id[..2], id + "-" + key + "." + ext);

    /// <summary>People, one file each (docs/faces.md).</summary>
    public string PeopleDir => Path.Combine(Root, "people");

    public string PersonPath(string personId) => Path.Combine(PeopleDir, personId + ".json");

    public string CollectionPath(string collectionId) => Path.Combine(CollectionsDir, collectionId + ".json");

    /// <summary>A path relative to the library root, with forward slashes, for messages and JSON output.</summary>
    public string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');
}
