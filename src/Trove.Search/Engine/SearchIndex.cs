using System.Globalization;
using Trove.Search.Query;

namespace Trove.Search.Engine;

/// <summary>
/// The in-memory search engine: inverted indexes (tags, caption words, types, uploaders, collections, pending
/// suggestions) as <see cref="Postings"/>, numeric columns scanned with SIMD for range metatags, perceptual hashes for
/// <c>similar:</c>, and sorted views for paging. Documents are addressed by their key (a bit position). Built from the
/// index database at startup and kept in step with it (see <c>SearchCatchUp</c> in the application layer).
/// Thread-safe: searches run concurrently under a read lock; updates take the write lock.
/// </summary>
public sealed partial class SearchIndex : IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Facet _tags = new(StringComparer.Ordinal);
    private readonly Facet _types = new(StringComparer.Ordinal);
    private readonly Facet _kinds = new(StringComparer.Ordinal);
    private readonly Facet _uploaders = new(StringComparer.Ordinal);
    private readonly Facet _collections = new(StringComparer.Ordinal);
    private readonly Facet _suggested = new(StringComparer.Ordinal);
    private readonly Facet _captionStatuses = new(StringComparer.Ordinal);
    private readonly Facet _derivedFrom = new(StringComparer.Ordinal);
    private readonly Facet _derivedModel = new(StringComparer.Ordinal);
    private readonly Facet _people = new(StringComparer.Ordinal);
    private readonly Facet _suggestedPeople = new(StringComparer.Ordinal);
    private readonly Postings _hasFace = new();
    private readonly Postings _unknownFace = new();
    private readonly CaptionIndex _captions = new();
    private readonly Postings _hasCaption = new();
    private readonly Postings _hasCrop = new();
    private readonly Postings _derived = new();
    private readonly Postings _hasSuggestions = new();
    private readonly Dictionary<ulong, int> _byId = [];
    private readonly Dictionary<string, int> _byIdOverflow = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _maskSources = [];
    private Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private List<(string Id, string Name)> _collectionNames = [];
    private List<(string Id, IReadOnlyList<string> Names)> _personNames = [];

    private int _capacity;
    private int _count;
    private ulong[] _present = [];
    private ulong[] _live = [];
    private ulong[] _hashed = [];
    private ulong[] _ids = [];
    private int[] _width = [];
    private int[] _height = [];
    private int[] _ratio = [];
    private int[] _tagCount = [];
    private int[] _faceCount = [];
    private long[] _pixels = [];
    private long[] _size = [];
    private long[] _created = [];
    private long[] _taken = [];
    private ulong[] _phash = [];
    private ulong[] _dhash = [];

    /// <summary>Documents in the engine (library and trash).</summary>
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Number of 64-document words a result bitset needs.</summary>
    private int Words => (_capacity + 63) >> 6;

    /// <summary>Makes room for keys below <paramref name="keys"/> up front (avoids regrowing during a cold build).</summary>
    public void Reserve(int keys)
    {
        _lock.EnterWriteLock();
        try
        {
            Grow(keys - 1);
            _capacity = Math.Max(_capacity, keys);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public void Upsert(SearchDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        if (doc.Key < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(doc), "Document keys are non-negative.");
        }

        if (!Trove.Domain.MediaId.IsValid(doc.Id))
        {
            throw new ArgumentException($"Media id '{doc.Id}' is not 64 lowercase hex characters.", nameof(doc));
        }

        _lock.EnterWriteLock();
        try
        {
            var d = doc.Key;
            RemoveLocked(d);
            Grow(d);
            _capacity = Math.Max(_capacity, d + 1);
            var universe = _capacity;
            Bits.Set(_present, d);
            if (!doc.InTrash)
            {
                Bits.Set(_live, d);
            }

            _count++;
            SetId(d, doc.Id);
            _width[d] = doc.Width ?? -1;
            _height[d] = doc.Height ?? -1;
            _pixels[d] = doc.Width is { } w && doc.Height is { } h ? (long)w * h : -1;
            _ratio[d] = doc.Width is { } rw && doc.Height is { } rh && rh > 0 ? (int)Metatags.RatioHundredths((decimal)rw / rh) : -1;
            _size[d] = doc.Size;
            _created[d] = doc.CreatedAt;
            _taken[d] = doc.TakenAt ?? long.MinValue;
            _tagCount[d] = doc.Tags.Count;
            _faceCount[d] = doc.FaceCount;
            if (doc.PHash is { } p && doc.DHash is { } dh)
            {
                _phash[d] = p;
                _dhash[d] = dh;
                Bits.Set(_hashed, d);
            }

            _tags.Set(d, doc.Tags, universe);
            _types.Set(d, doc.Type.Length == 0 ? [] : [NormalizeType(doc.Type)], universe);
            _kinds.Set(d, [doc.Kind], universe);
            _uploaders.Set(d, doc.Uploader is { Length: > 0 } u ? [u.ToLowerInvariant()] : [], universe);
            _collections.Set(d, doc.Collections, universe);
            _suggested.Set(d, doc.PendingSuggestions, universe);
            _captionStatuses.Set(d, doc.CaptionStatuses.Distinct(StringComparer.Ordinal).ToList(), universe);
            _captions.Set(d, doc.Captions, universe);
            SetFlag(_hasCaption, d, doc.Captions.Any(c => !string.IsNullOrWhiteSpace(c)), universe);
            SetFlag(_hasCrop, d, doc.CropCount > 0, universe);
            SetFlag(_derived, d, doc.DerivedFrom is not null, universe);
            _derivedFrom.Set(d, doc.DerivedFrom is { } from ? [from] : [], universe);
            _derivedModel.Set(d, doc.DerivedModel is { } model ? [model] : [], universe);
            SetFlag(_hasSuggestions, d, doc.PendingSuggestions.Count > 0, universe);
            SetFlag(_hasFace, d, doc.FaceCount > 0, universe);
            SetFlag(_unknownFace, d, doc.HasUnknownFace, universe);
            _people.Set(d, doc.People, universe);
            _suggestedPeople.Set(d, doc.SuggestedPeople, universe);
            if (doc.MaskSource is { } source)
            {
                _maskSources[d] = source;
            }

            Touch(d);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public void Remove(int key)
    {
        _lock.EnterWriteLock();
        try
        {
            RemoveLocked(key);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Forgets every document (before a full reload).</summary>
    public void Clear()
    {
        _lock.EnterWriteLock();
        try
        {
            for (var d = 0; d < _capacity; d++)
            {
                RemoveLocked(d);
            }

            _views.Clear();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Replaces the alias table (alias → canonical tag).</summary>
    public void SetAliases(IEnumerable<KeyValuePair<string, string>> aliases)
    {
        var map = new Dictionary<string, string>(aliases, StringComparer.Ordinal);
        _lock.EnterWriteLock();
        try
        {
            _aliases = map;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Replaces the collection catalog (for <c>collection:NAME</c>).</summary>
    public void SetCollections(IEnumerable<(string Id, string Name)> collections)
    {
        var list = collections.ToList();
        _lock.EnterWriteLock();
        try
        {
            _collectionNames = list;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Replaces the people catalog (for <c>person:NAME</c>): each person's id with its name and aliases.</summary>
    public void SetPeople(IEnumerable<(string Id, IReadOnlyList<string> Names)> people)
    {
        var list = people.ToList();
        _lock.EnterWriteLock();
        try
        {
            _personNames = list;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Media with a confirmed (or, with <paramref name="suggested"/>, a suggested) face of each person, by person id.</summary>
    public IReadOnlyDictionary<string, int> PersonCounts(bool suggested = false)
    {
        _lock.EnterReadLock();
        try
        {
            var facet = suggested ? _suggestedPeople : _people;
            var result = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var o = 0; o < facet.ValueCount; o++)
            {
                var postings = facet.Postings(o);
                var live = 0;
                if (postings.IsDense)
                {
                    var dense = postings.Dense;
                    for (var w = 0; w < dense.Length && w < _live.Length; w++)
                    {
                        live += System.Numerics.BitOperations.PopCount(dense[w] & _live[w]);
                    }
                }
                else
                {
                    foreach (var doc in postings.List)
                    {
                        live += Bits.Get(_live, doc) ? 1 : 0;
                    }
                }

                if (live > 0)
                {
                    result[facet.Name(o)] = live;
                }
            }

            return result;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Approximate bytes held by the engine's structures.</summary>
    public long EstimateBytes()
    {
        _lock.EnterReadLock();
        try
        {
            long bytes = (_present.Length + _live.Length + _hashed.Length + _ids.Length + _phash.Length + _dhash.Length) * 8L;
            bytes += (_width.Length + _height.Length + _ratio.Length + _tagCount.Length + _faceCount.Length) * 4L;
            bytes += (_pixels.Length + _size.Length + _created.Length + _taken.Length) * 8L;
            bytes += _tags.Bytes + _types.Bytes + _kinds.Bytes + _uploaders.Bytes + _collections.Bytes + _suggested.Bytes + _captionStatuses.Bytes + _derivedFrom.Bytes + _derivedModel.Bytes + _people.Bytes + _suggestedPeople.Bytes + _captions.Bytes;
            bytes += _hasCaption.Bytes + _hasCrop.Bytes + _derived.Bytes + _hasSuggestions.Bytes + (_byId.Count * 24L);
            lock (_views)
            {
                bytes += _views.Values.Sum(v => v.Bytes);
            }

            return bytes;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Tag names in use with their document counts (library and trash), for autocomplete and wildcards.</summary>
    public IReadOnlyList<(string Tag, int Count)> TagCounts()
    {
        _lock.EnterReadLock();
        try
        {
            var result = new List<(string, int)>(_tags.ValueCount);
            for (var o = 0; o < _tags.ValueCount; o++)
            {
                if (_tags.Postings(o).Count > 0)
                {
                    result.Add((_tags.Name(o), _tags.Postings(o).Count));
                }
            }

            return result;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public void Dispose() => _lock.Dispose();

    internal static string NormalizeType(string ext)
    {
        var e = ext.TrimStart('.').ToLowerInvariant();
        return Metatags.Types.TryGetValue(e, out var t) ? t : e;
    }

    private static void SetFlag(Postings postings, int doc, bool on, int universe)
    {
        if (on)
        {
            postings.Add(doc, universe);
        }
        else
        {
            postings.Remove(doc, universe);
        }
    }

    private void RemoveLocked(int d)
    {
        if (!Bits.Get(_present, d))
        {
            return;
        }

        var universe = _capacity;
        Bits.Clear(_present, d);
        Bits.Clear(_live, d);
        Bits.Clear(_hashed, d);
        _count--;
        var first = _ids[d * 4];
        if (_byId.TryGetValue(first, out var owner) && owner == d)
        {
            _byId.Remove(first);
        }
        else
        {
            _byIdOverflow.Remove(IdAt(d));
        }

        _tags.Clear(d, universe);
        _types.Clear(d, universe);
        _kinds.Clear(d, universe);
        _uploaders.Clear(d, universe);
        _collections.Clear(d, universe);
        _suggested.Clear(d, universe);
        _captionStatuses.Clear(d, universe);
        _captions.Clear(d, universe);
        _hasCaption.Remove(d, universe);
        _hasCrop.Remove(d, universe);
        _derived.Remove(d, universe);
        _derivedFrom.Clear(d, universe);
        _derivedModel.Clear(d, universe);
        _hasSuggestions.Remove(d, universe);
        _hasFace.Remove(d, universe);
        _unknownFace.Remove(d, universe);
        _people.Clear(d, universe);
        _suggestedPeople.Clear(d, universe);
        _faceCount[d] = 0;
        _maskSources.Remove(d);
        Touch(d);
    }

    private void SetId(int d, string id)
    {
        if (id.Length != 64)
        {
            throw new ArgumentException($"Media id '{id}' is not 64 hex characters.", nameof(id));
        }

        for (var k = 0; k < 4; k++)
        {
            _ids[(d * 4) + k] = ulong.Parse(id.AsSpan(k * 16, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }

        if (!_byId.TryAdd(_ids[d * 4], d))
        {
            _byIdOverflow[id] = d;
        }
    }

    internal string IdAt(int d) => string.Create(64, (_ids, d), static (span, s) =>
    {
        for (var k = 0; k < 4; k++)
        {
            s._ids[(s.d * 4) + k].TryFormat(span.Slice(k * 16, 16), out _, "x16", CultureInfo.InvariantCulture);
        }
    });

    /// <summary>The document with this full id, or −1.</summary>
    private int FindId(string id)
    {
        if (id.Length != 64 || !ulong.TryParse(id.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var first))
        {
            return -1;
        }

        if (_byId.TryGetValue(first, out var d) && IdAt(d) == id)
        {
            return d;
        }

        return _byIdOverflow.TryGetValue(id, out d) ? d : -1;
    }

    /// <summary>Compares two documents by id (hex order).</summary>
    private int CompareIds(int a, int b)
    {
        for (var k = 0; k < 4; k++)
        {
            var c = _ids[(a * 4) + k].CompareTo(_ids[(b * 4) + k]);
            if (c != 0)
            {
                return c;
            }
        }

        return 0;
    }

    private void Grow(int d)
    {
        var slots = _width.Length;
        if (d < slots)
        {
            return;
        }

        var n = Math.Max(d + 1, Math.Max(1024, slots * 2));
        var words = (n + 63) >> 6;
        Array.Resize(ref _present, words);
        Array.Resize(ref _live, words);
        Array.Resize(ref _hashed, words);
        Array.Resize(ref _ids, n * 4);
        Array.Resize(ref _width, n);
        Array.Resize(ref _height, n);
        Array.Resize(ref _ratio, n);
        Array.Resize(ref _tagCount, n);
        Array.Resize(ref _faceCount, n);
        Array.Resize(ref _pixels, n);
        Array.Resize(ref _size, n);
        Array.Resize(ref _created, n);
        Array.Resize(ref _taken, n);
        Array.Resize(ref _phash, n);
        Array.Resize(ref _dhash, n);
        _tags.Reserve(n);
        _captions.Reserve(n);
    }
}
