using Trove.Application.Inference;
using Trove.Domain.Faces;
using Trove.Library.Embeddings;

namespace Trove.Application.Faces;

/// <summary>
/// A library's face models, loaded once and kept until their files or settings change (replaced ones are freed when the
/// library closes), and the face embeddings file of the active embedder version (<c>embeddings/MODEL/VERSION.vec</c>,
/// keyed by <see cref="FaceKeys"/>).
/// </summary>
public sealed class LibraryFaces(TroveLibrary library) : IDisposable
{
    private readonly LoadedModelCache<FaceDetector> _detector = new();
    private readonly LoadedModelCache<FaceEmbedder> _embedder = new();

    public FaceDetector Detector(ActiveFaceModels active)
    {
        ArgumentNullException.ThrowIfNull(active);
        return _detector.Get(Key(active.Detector, active.DetectorVersion), () => FaceDetector.Load(library, active.Detector, active.DetectorVersion, active.DetectorParameters));
    }

    public FaceEmbedder Embedder(ActiveFaceModels active)
    {
        ArgumentNullException.ThrowIfNull(active);
        var (model, version) = active.RequireEmbedder();
        return _embedder.Get(Key(model, version), () => FaceEmbedder.Load(library, model, version, active.EmbedderParameters));
    }

    /// <summary>Where the face embeddings of the active embedder version are stored.</summary>
    public string PathOf(ActiveFaceModels active)
    {
        ArgumentNullException.ThrowIfNull(active);
        var (model, version) = active.RequireEmbedder();
        return library.Layout.EmbeddingPath(model.Id, version.Version);
    }

    /// <summary>Appends face embeddings under the library write lock.</summary>
    public async Task StoreAsync(ActiveFaceModels active, int dimensions, IReadOnlyList<EmbeddingRecord> records, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        await using (await library.BeginWriteAsync(ct).ConfigureAwait(false))
        {
            EmbeddingFile.Append(PathOf(active), active.EmbedderReference!, dimensions, records, library.Options.Durability);
        }
    }

    /// <summary>Every stored face embedding of the active embedder version, by face key.</summary>
    public IReadOnlyDictionary<string, float[]> ReadAll(ActiveFaceModels active)
    {
        var path = PathOf(active);
        if (!File.Exists(path))
        {
            return new Dictionary<string, float[]>(StringComparer.Ordinal);
        }

        return EmbeddingFile.Read(path, active.EmbedderReference!, EmbeddingFile.ReadDimensions(path)).Vectors;
    }

    public void Dispose()
    {
        _detector.Dispose();
        _embedder.Dispose();
    }

    private static string Key(Domain.Models.ModelDefinition model, Domain.Models.ModelVersionEntry version) =>
        string.Join('\n', model.Id, version.Version, version.File, model.Parameters?.ToJsonString() ?? string.Empty);
}

/// <summary>
/// The people files (<c>people/*.json</c>), read once and again whenever the folder changes (every write renames a file
/// into it, which changes the folder's modification time — also when another process wrote it).
/// </summary>
public sealed class PeopleDirectory(TroveLibrary library)
{
    private readonly Lock _sync = new();
    private (long Stamp, long Local, IReadOnlyList<Person> People)? _cache;
    private long _local;

    /// <summary>Changes whenever the people change (for the search engine's catalog).</summary>
    public (long Stamp, long Local) Version => (FolderStamp(), Interlocked.Read(ref _local));

    /// <summary>Every person, by id. A damaged file is skipped here and reported by <c>trove check</c>.</summary>
    public IReadOnlyList<Person> All()
    {
        var stamp = FolderStamp();
        var local = Interlocked.Read(ref _local);
        lock (_sync)
        {
            if (_cache is { } c && c.Stamp == stamp && c.Local == local)
            {
                return c.People;
            }
        }

        var people = new List<Person>();
        foreach (var path in library.Files.PersonFiles())
        {
            try
            {
                if (library.Files.TryReadPerson(Path.GetFileNameWithoutExtension(path)) is { } person)
                {
                    people.Add(person);
                }
            }
            catch (Trove.Library.FileFormatException)
            {
                // reported by 'trove check'
            }
        }

        lock (_sync)
        {
            _cache = (stamp, local, people);
        }

        return people;
    }

    public Person? Get(string id) => Person.IsValidId(id) ? All().FirstOrDefault(p => p.Id == id) : null;

    /// <summary>Called after this process wrote a person (the folder's time may not have moved within its resolution).</summary>
    public void Changed() => Interlocked.Increment(ref _local);

    private long FolderStamp()
    {
        var dir = library.Layout.PeopleDir;
        return Directory.Exists(dir) ? Directory.GetLastWriteTimeUtc(dir).Ticks : 0;
    }
}
