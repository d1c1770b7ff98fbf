using Trove.Domain;

namespace Trove.Application.Tagging;

/// <summary>What happens to a model label that no mapping names.</summary>
public enum UnmappedPolicy
{
    /// <summary>Not suggested.</summary>
    Ignore,

    /// <summary>Suggested under its normalised name even when the library has no such tag yet (approving creates it).</summary>
    Create,

    /// <summary>Suggested under its normalised name only when the library already knows that tag (or alias).</summary>
    Existing,
}

/// <summary>How a label was turned into one of our tags (or why not).</summary>
public enum MappingKind
{
    /// <summary>An explicit mapping names the internal tag.</summary>
    Mapped,

    /// <summary>An explicit mapping says to ignore it.</summary>
    Ignored,

    /// <summary>No mapping, and the policy (ignore, or existing with an unknown name) drops it.</summary>
    Unmapped,

    /// <summary>No mapping; its normalised name is a tag the library knows.</summary>
    Existing,

    /// <summary>No mapping; policy create: its normalised name, new to the library.</summary>
    Created,

    /// <summary>No mapping, and its name cannot be a Trove tag (e.g. starts with '-'); map it explicitly.</summary>
    Invalid,
}

public readonly record struct MappingResult(string? Tag, MappingKind Kind, string? Reason = null);

/// <summary>
/// The mapping of one external vocabulary (a <see cref="Source"/> such as "danbooru") to the library's tags:
/// external tag → internal tag, or ignored; and the <see cref="Unmapped"/> policy for everything else. Stored as
/// <c>mappings/&lt;source&gt;.json</c> in the library (docs/library-format.md).
/// </summary>
public sealed class TagMappingSet
{
    public const string RatingPrefix = "rating_";

    private readonly SortedDictionary<string, string> _map = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _ignore = new(StringComparer.Ordinal);

    public TagMappingSet(string source, UnmappedPolicy unmapped = UnmappedPolicy.Existing)
    {
        Source = source;
        Unmapped = unmapped;
    }

    /// <summary>For models over the library's own vocabulary: no mappings; labels are our tags when the library knows them.</summary>
    public static TagMappingSet Identity { get; } = new(string.Empty, UnmappedPolicy.Existing);

    public string Source { get; }

    public UnmappedPolicy Unmapped { get; set; }

    /// <summary>External key → internal tag.</summary>
    public IReadOnlyDictionary<string, string> Map => _map;

    /// <summary>External keys explicitly ignored.</summary>
    public IReadOnlySet<string> Ignored => _ignore;

    public int Count => _map.Count + _ignore.Count;

    /// <summary>How external names are compared: trimmed, lowercase, runs of spaces as one '_' (Danbooru spelling).</summary>
    public static string Key(string external)
    {
        ArgumentNullException.ThrowIfNull(external);
        var parts = external.Trim().ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return string.Join('_', parts);
    }

    /// <summary>The internal tag an external one maps to (null = ignore it), or whether it has no mapping.</summary>
    public bool TryGet(string external, out string? internalTag)
    {
        var key = Key(external);
        if (_ignore.Contains(key))
        {
            internalTag = null;
            return true;
        }

        return _map.TryGetValue(key, out internalTag);
    }

    /// <summary>Maps <paramref name="external"/> to <paramref name="internalTag"/> (normalised), or ignores it when null.</summary>
    /// <returns>Whether anything changed.</returns>
    public bool Set(string external, string? internalTag)
    {
        var key = Key(external);
        if (key.Length == 0)
        {
            throw new TroveUsageException("invalid-mapping", "An external tag cannot be empty.");
        }

        if (internalTag is null)
        {
            var removed = _map.Remove(key);
            return _ignore.Add(key) || removed;
        }

        var name = TagNames.Normalize(internalTag);
        var wasIgnored = _ignore.Remove(key);
        if (_map.TryGetValue(key, out var old) && old == name)
        {
            return wasIgnored;
        }

        _map[key] = name;
        return true;
    }

    public bool Remove(string external)
    {
        var key = Key(external);
        return _map.Remove(key) | _ignore.Remove(key);
    }

    /// <summary>
    /// The internal tag for a model label: an explicit mapping first, then the <see cref="Unmapped"/> policy on its
    /// normalised name. Unmapped rating labels are named <c>rating_&lt;label&gt;</c> (rating_general, rating_explicit…).
    /// </summary>
    /// <param name="external">The model's label.</param>
    /// <param name="category">The label's category (rating labels get the rating_ prefix).</param>
    /// <param name="isKnown">Whether the library knows a tag or alias of that name (for <see cref="UnmappedPolicy.Existing"/>).</param>
    public MappingResult Resolve(string external, string category, Func<string, bool> isKnown)
    {
        ArgumentNullException.ThrowIfNull(isKnown);
        var key = Key(external);
        if (_ignore.Contains(key))
        {
            return new MappingResult(null, MappingKind.Ignored);
        }

        if (_map.TryGetValue(key, out var mapped))
        {
            return new MappingResult(mapped, MappingKind.Mapped);
        }

        if (Unmapped == UnmappedPolicy.Ignore)
        {
            return new MappingResult(null, MappingKind.Unmapped, "no mapping (policy: ignore)");
        }

        var candidate = category == "rating" && !key.StartsWith("rating", StringComparison.Ordinal) ? RatingPrefix + key : key;
        if (!TagNames.TryNormalize(candidate, out var name, out var error))
        {
            return new MappingResult(null, MappingKind.Invalid, error);
        }

        if (isKnown(name))
        {
            return new MappingResult(name, MappingKind.Existing);
        }

        return Unmapped == UnmappedPolicy.Create
            ? new MappingResult(name, MappingKind.Created)
            : new MappingResult(null, MappingKind.Unmapped, $"no mapping and the library has no tag '{name}' (policy: existing)");
    }

    public static string PolicyName(UnmappedPolicy policy) => policy switch
    {
        UnmappedPolicy.Ignore => "ignore",
        UnmappedPolicy.Create => "create",
        _ => "existing",
    };

    public static bool TryParsePolicy(string? text, out UnmappedPolicy policy)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "ignore":
                policy = UnmappedPolicy.Ignore;
                return true;
            case "create":
                policy = UnmappedPolicy.Create;
                return true;
            case "existing" or "normalized" or "normalised":
                policy = UnmappedPolicy.Existing;
                return true;
            default:
                policy = UnmappedPolicy.Existing;
                return false;
        }
    }

    internal TagMappingFile ToFile() => new()
    {
        Source = Source,
        Unmapped = PolicyName(Unmapped),
        Map = new SortedDictionary<string, string>(_map, StringComparer.Ordinal),
        Ignore = [.. _ignore],
    };

    internal static TagMappingSet FromFile(TagMappingFile file, string path, string expectedSource)
    {
        Trove.Library.FileFormatException Invalid(string detail) => new("mappings-invalid", path, detail);

        if (file.Source != expectedSource)
        {
            throw Invalid($"\"source\" is '{file.Source}' but the file is named for '{expectedSource}'");
        }

        if (!TryParsePolicy(file.Unmapped, out var policy))
        {
            throw Invalid($"\"unmapped\" must be \"ignore\", \"create\" or \"existing\", found '{file.Unmapped}'");
        }

        var set = new TagMappingSet(file.Source, policy);
        foreach (var (external, target) in file.Map)
        {
            var key = Key(external);
            if (key.Length == 0)
            {
                throw Invalid("\"map\" has an empty external tag");
            }

            if (!TagNames.TryNormalize(target, out var name, out var error))
            {
                throw Invalid($"\"map\".\"{external}\": {error}");
            }

            set._map[key] = name;
        }

        foreach (var external in file.Ignore)
        {
            var key = Key(external ?? string.Empty);
            if (key.Length == 0)
            {
                throw Invalid("\"ignore\" has an empty external tag");
            }

            if (set._map.TryGetValue(key, out var target))
            {
                throw Invalid($"'{key}' is both mapped (to '{target}') and ignored; keep one");
            }

            set._ignore.Add(key);
        }

        return set;
    }
}
