using Trove.Search.Query;

namespace Trove.Search.Engine;

/// <summary>
/// Full text over captions: an inverted index word → documents, plus each document's word sequence (captions
/// separated by a marker) to confirm phrases and to remove a document exactly.
/// </summary>
internal sealed class CaptionIndex
{
    private const int Separator = -1;
    private readonly TermTable _words = new(StringComparer.Ordinal);
    private int[][] _tokens = [];
    private (string Word, int Ordinal)[]? _sorted;

    public int Ordinal(string word) => _words.Find(word);

    public Postings Postings(int ordinal) => _words.Postings(ordinal);

    public void Reserve(int capacity)
    {
        if (capacity > _tokens.Length)
        {
            Array.Resize(ref _tokens, capacity);
        }
    }

    public void Set(int doc, IReadOnlyList<string> captions, int universe)
    {
        Clear(doc, universe);
        if (captions.Count == 0)
        {
            return;
        }

        var tokens = new List<int>();
        foreach (var caption in captions)
        {
            if (tokens.Count > 0)
            {
                tokens.Add(Separator);
            }

            CaptionTokenizer.Split(caption, w => tokens.Add(GetOrAdd(w)));
        }

        var seq = tokens.ToArray();
        foreach (var o in seq.Where(o => o != Separator).Distinct())
        {
            _words.Postings(o).Add(doc, universe);
        }

        DocSlots.Ensure(ref _tokens, doc);
        _tokens[doc] = seq;
    }

    public void Clear(int doc, int universe)
    {
        if (doc >= _tokens.Length || _tokens[doc] is not { } seq)
        {
            return;
        }

        foreach (var o in seq.Where(o => o != Separator).Distinct())
        {
            _words.Postings(o).Remove(doc, universe);
        }

        _tokens[doc] = null!;
    }

    /// <summary>Ordinals of indexed words starting with <paramref name="prefix"/> that some document has.</summary>
    public List<int> WithPrefix(string prefix, int limit, out bool truncated)
    {
        _sorted ??= [.. _words.All.OrderBy(p => p.Name, StringComparer.Ordinal)];
        var sorted = _sorted;
        var lo = 0;
        var hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(sorted[mid].Word, prefix) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        var result = new List<int>();
        truncated = false;
        for (var i = lo; i < sorted.Length && sorted[i].Word.StartsWith(prefix, StringComparison.Ordinal); i++)
        {
            if (_words.Postings(sorted[i].Ordinal).Count == 0)
            {
                continue;
            }

            if (result.Count == limit)
            {
                truncated = true;
                break;
            }

            result.Add(sorted[i].Ordinal);
        }

        return result;
    }

    /// <summary>
    /// Whether the document's captions contain the words in a row (the last position may be any of
    /// <paramref name="lastAlternatives"/> when it is a prefix).
    /// </summary>
    public bool ContainsPhrase(int doc, ReadOnlySpan<int> words, IReadOnlySet<int>? lastAlternatives)
    {
        if (doc >= _tokens.Length || _tokens[doc] is not { } seq)
        {
            return false;
        }

        var n = words.Length + (lastAlternatives is null ? 0 : 1);
        for (var start = 0; start + n <= seq.Length; start++)
        {
            var ok = true;
            for (var k = 0; k < words.Length; k++)
            {
                if (seq[start + k] != words[k])
                {
                    ok = false;
                    break;
                }
            }

            if (ok && (lastAlternatives is null || lastAlternatives.Contains(seq[start + words.Length])))
            {
                return true;
            }
        }

        return false;
    }

    public long Bytes => DocSlots.Bytes(_tokens) + _words.Bytes;

    private int GetOrAdd(string word)
    {
        var o = _words.GetOrAdd(word, out var added);
        if (added)
        {
            _sorted = null;
        }

        return o;
    }
}
