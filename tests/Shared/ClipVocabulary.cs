using System.Text.Json;

namespace Trove.Testing;

/// <summary>
/// A small CLIP tokenizer vocabulary for tests, written as HuggingFace's vocab.json + merges.txt: id 0 is "!" (the pad
/// id OpenAI's tokenizer uses), then every letter alone and word-final, then the merges that build each of
/// <c>words</c> whole from the end (so "red" is one token, "red&lt;/w&gt;"), then the start and end tokens.
/// </summary>
public sealed class ClipVocabulary
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _merges = [];

    public ClipVocabulary(params string[] words)
    {
        Add("!");
        for (var c = 'a'; c <= 'z'; c++)
        {
            Add(c.ToString());
            Add(c + "</w>");
        }

        // Each word is built from its end: "d</w>" ← "e d</w>" ← "r ed</w>". Every merge's right side is word-final, so
        // in any word only the last pair can merge: the words never steal each other's merges.
        foreach (var word in words)
        {
            var suffix = word[^1] + "</w>";
            for (var i = word.Length - 2; i >= 0; i--)
            {
                var merge = $"{word[i]} {suffix}";
                if (!_merges.Contains(merge))
                {
                    _merges.Add(merge);
                }

                suffix = word[i] + suffix;
                Add(suffix);
            }
        }

        Add("<|startoftext|>");
        Add("<|endoftext|>");
    }

    /// <summary>Tokens in all (the text encoder's table size).</summary>
    public int Count => _ids.Count;

    /// <summary>The id of a whole word (its word-final token).</summary>
    public int Word(string word) => _ids[word + "</w>"];

    public int Start => _ids["<|startoftext|>"];

    /// <summary>Writes vocab.json and merges.txt into <paramref name="directory"/>; returns their paths.</summary>
    public (string Vocab, string Merges) Write(string directory)
    {
        var vocab = Path.Combine(directory, "vocab.json");
        var merges = Path.Combine(directory, "merges.txt");
        File.WriteAllText(vocab, JsonSerializer.Serialize(_ids));
        File.WriteAllText(merges, "#version: 0.2\n" + string.Join('\n', _merges) + "\n");
        return (vocab, merges);
    }

    private void Add(string token) => _ids.TryAdd(token, _ids.Count);
}
