using Trove.Domain;

namespace Trove.Application.Tags;

/// <summary>One completion: the canonical tag, its category and use count, and the alias that was typed (if any).</summary>
public sealed record TagCompletion(string Name, string Category, long Count, string? Alias);

/// <summary>
/// Tag completion for search boxes and tag editors: tags (and aliases, answered with their canonical tag) whose name
/// starts with the typed prefix, most used first; then tags where a later word starts with it (<c>hair</c> →
/// <c>long_hair</c>). Counts come from the in-memory search engine, so they are current. The sorted name list is
/// rebuilt only when the library changed.
/// </summary>
public sealed class TagAutocomplete(TroveLibrary library) : IDisposable
{
    public const int MaxLimit = 100;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Snapshot? _snapshot;

    public async Task<IReadOnlyList<TagCompletion>> CompleteAsync(string? typed, int limit, CancellationToken ct)
    {
        limit = Math.Clamp(limit, 1, MaxLimit);
        var prefix = (typed ?? string.Empty).Trim().ToLowerInvariant().Replace(' ', '_');
        if (prefix.StartsWith('-'))
        {
            prefix = prefix[1..];
        }

        if (prefix.Length == 0)
        {
            return [];
        }

        var snapshot = await SnapshotAsync(ct).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var prefixed = new List<TagCompletion>();
        foreach (var (name, i) in snapshot.Range(prefix))
        {
            var entry = snapshot.Entries[i];
            var canonical = entry.AliasOf ?? name;
            if (seen.Add(canonical))
            {
                prefixed.Add(new TagCompletion(canonical, snapshot.CategoryOf(canonical), snapshot.CountOf(canonical), entry.AliasOf is null ? null : name));
            }
        }

        var result = prefixed.OrderByDescending(c => c.Count).ThenBy(c => c.Name, StringComparer.Ordinal).Take(limit).ToList();
        if (result.Count < limit)
        {
            var inner = "_" + prefix;
            result.AddRange(snapshot.Entries
                .Where(e => e.AliasOf is null && !seen.Contains(e.Name) && e.Name.Contains(inner, StringComparison.Ordinal))
                .OrderByDescending(e => e.Count).ThenBy(e => e.Name, StringComparer.Ordinal)
                .Take(limit - result.Count)
                .Select(e => new TagCompletion(e.Name, snapshot.CategoryOf(e.Name), e.Count, null)));
        }

        return result;
    }

    private async Task<Snapshot> SnapshotAsync(CancellationToken ct)
    {
        var engine = await library.Search.ReadyAsync(library.Index, ct).ConfigureAwait(false);
        var state = await library.Index.GetChangeStateAsync(ct).ConfigureAwait(false);
        var key = (state.Epoch, state.ChangeSeq, state.CatalogSeq);
        if (_snapshot is { } current && current.Key == key)
        {
            return current;
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_snapshot is { } again && again.Key == key)
            {
                return again;
            }

            var vocabulary = library.Files.ReadVocabulary(out _);
            var counts = engine.TagCounts().ToDictionary(t => t.Tag, t => (long)t.Count, StringComparer.Ordinal);
            var entries = new List<Entry>(counts.Count + vocabulary.Aliases.Count);
            entries.AddRange(counts.Select(c => new Entry(c.Key, c.Value, null)));
            foreach (var name in vocabulary.Tags.Keys.Where(n => !counts.ContainsKey(n)))
            {
                entries.Add(new Entry(name, 0, null));
            }

            foreach (var (alias, info) in vocabulary.Aliases)
            {
                entries.Add(new Entry(alias, counts.GetValueOrDefault(info.To), info.To));
            }

            entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            _snapshot = new Snapshot(key, entries.ToArray(), counts, vocabulary);
            return _snapshot;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private sealed record Entry(string Name, long Count, string? AliasOf);

    private sealed record Snapshot((string, long, long) Key, Entry[] Entries, Dictionary<string, long> Counts, Vocabulary Vocabulary)
    {
        public string CategoryOf(string tag) => Vocabulary.CategoryOf(tag);

        public long CountOf(string tag) => Counts.GetValueOrDefault(tag);

        /// <summary>Entries whose name starts with the prefix (binary search to the first, then forward), at most 5,000.</summary>
        public IEnumerable<(string Name, int Index)> Range(string prefix)
        {
            int lo = 0, hi = Entries.Length;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (string.CompareOrdinal(Entries[mid].Name, prefix) < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            for (var i = lo; i < Entries.Length && i - lo < 5000 && Entries[i].Name.StartsWith(prefix, StringComparison.Ordinal); i++)
            {
                yield return (Entries[i].Name, i);
            }
        }
    }
}
