using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Trove.Domain.Embeddings;

namespace Trove.Domain.Tests.Embeddings;

/// <summary>
/// Expected ids are worked out by hand from the small vocabulary below (ids are positions in <see cref="Tokens"/>), by
/// following CLIP's rules: the merges are applied lowest rank first, and "&lt;/w&gt;" marks the last symbol of a word.
/// </summary>
public sealed class ClipTokenizerTests : IDisposable
{
    // Byte symbols in GPT-2's alphabet: "é" is C3 A9 → "Ã©"; "😀" is F0 9F 98 80 → "ð" "Ł" "ĺ" "Ģ" (0x9F, 0x98 and 0x80
    // are not printable, so they take U+0100 + their rank among the unprintable bytes: 65, 58 and 34).
    // "z" is missing on purpose, and the merge "o o</w>" makes "oo</w>", which is missing too.
    private static readonly string[] Tokens =
    [
        "c", "a", "t", "h", "e", "l", "o", "i", "s", "'", "!", "f", "&", "<", "2", "0", "4", "3",
        "Ã", "©", "ð", "Ł", "ĺ", "Ģ",
        "t</w>", "o</w>", "s</w>", "!</w>", "&</w>", "<</w>", "2</w>", "0</w>", "4</w>", "3</w>", "©</w>", "Ģ</w>", "a</w>",
        "ca", "cat</w>", "he", "ll", "hell", "hello</w>", "it</w>", "'s</w>", "!!", "!!!</w>", "Ã©</w>",
        "<|startoftext|>", "<|endoftext|>",
    ];

    private static readonly string[] Merges =
    [
        "c a", "ca t</w>", "h e", "l l", "he ll", "hell o</w>", "i t</w>", "' s</w>", "! !", "!! !</w>", "Ã ©</w>", "o o</w>",
    ];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly int S = Id("<|startoftext|>");
    private static readonly int E = Id("<|endoftext|>");

    private readonly string directory = Directory.CreateTempSubdirectory("trove-clip-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static int Id(string token)
    {
        var id = Array.IndexOf(Tokens, token);
        Assert.True(id >= 0, token);
        return id;
    }

    private static int[] Ids(params string[] tokens) => [S, .. tokens.Select(Id), E];

    private ClipTokenizer Load(ClipTokenizerOptions? options = null, string[]? merges = null, string[]? tokens = null)
    {
        var vocabPath = Path.Combine(directory, "vocab.json");
        var mergesPath = Path.Combine(directory, "merges.txt");
        var vocab = (tokens ?? Tokens).Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);
        File.WriteAllText(vocabPath, JsonSerializer.Serialize(vocab, Indented));
        File.WriteAllText(mergesPath, "#version: 0.2\n" + string.Join('\n', merges ?? Merges) + "\n");
        return ClipTokenizer.LoadHuggingFace(vocabPath, mergesPath, options);
    }

    [Theory]
    [InlineData("cat", new[] { "cat</w>" })]
    [InlineData("cats", new[] { "ca", "t", "s</w>" })] // "ca t</w>" only merges a word-final t
    [InlineData("cat cat cat", new[] { "cat</w>", "cat</w>", "cat</w>" })]
    [InlineData("hello", new[] { "hello</w>" })]
    [InlineData("hello!!!", new[] { "hello</w>", "!!!</w>" })]
    [InlineData("hello!!!!", new[] { "hello</w>", "!!", "!", "!</w>" })] // "! !" merges left to right, without overlap
    [InlineData("it's", new[] { "it</w>", "'s</w>" })]
    [InlineData("2024", new[] { "2</w>", "0</w>", "2</w>", "4</w>" })]
    [InlineData("é", new[] { "Ã©</w>" })]
    [InlineData("café", new[] { "ca", "f", "Ã©</w>" })]
    [InlineData("😀", new[] { "ð", "Ł", "ĺ", "Ģ</w>" })]
    [InlineData("cat 😀!", new[] { "cat</w>", "ð", "Ł", "ĺ", "Ģ", "!</w>" })] // one run of symbols
    [InlineData("cat &amp; hello", new[] { "cat</w>", "&</w>", "hello</w>" })]
    [InlineData("&amp;amp;", new[] { "&</w>" })] // unescaped twice
    [InlineData("&lt;3", new[] { "<</w>", "3</w>" })]
    [InlineData("  cat \t\n\u00A0 hello  ", new[] { "cat</w>", "hello</w>" })]
    [InlineData("CAT Hello", new[] { "cat</w>", "hello</w>" })]
    [InlineData("CAFÉ", new[] { "ca", "f", "Ã©</w>" })]
    [InlineData("", new string[0])]
    [InlineData(" \t\n ", new string[0])]
    public void Encodes_fixed_strings_to_the_ids_worked_out_by_hand(string text, string[] tokens)
    {
        var tokenizer = Load();

        Assert.Equal(Ids(tokens), tokenizer.EncodeUnpadded(text));
        Assert.Equal(tokens.Select(Id), tokenizer.Tokenize(text));
    }

    [Fact]
    public void Repeated_words_come_out_the_same_from_the_cache()
    {
        var tokenizer = Load();
        var first = tokenizer.EncodeUnpadded("cats hello cats");
        var again = tokenizer.EncodeUnpadded("cats hello cats");

        Assert.Equal(Ids("ca", "t", "s</w>", "hello</w>", "ca", "t", "s</w>"), first);
        Assert.Equal(first, again);
    }

    [Fact]
    public void A_tiny_cache_and_concurrent_callers_change_nothing()
    {
        string[] texts = ["cat", "cats", "hello!!!", "it's 2024", "café 😀", "hello cat", "&amp;", "!!!!"];
        var expected = texts.Select(t => Load().EncodeUnpadded(t)).ToArray();
        var shared = Load(new ClipTokenizerOptions { CacheCapacity = 2 });

        Parallel.For(0, 2000, i =>
        {
            var k = i % texts.Length;
            Assert.Equal(expected[k], shared.EncodeUnpadded(texts[k]));
        });
        var uncached = Load(new ClipTokenizerOptions { CacheCapacity = 0 });
        Assert.All(texts.Zip(expected), p => Assert.Equal(p.Second, uncached.EncodeUnpadded(p.First)));
    }

    [Fact]
    public void Symbols_missing_from_the_vocabulary_become_the_end_token()
    {
        var tokenizer = Load();

        Assert.Equal(E, tokenizer.UnknownTokenId);
        Assert.Equal([S, E, E], tokenizer.EncodeUnpadded("z")); // no "z</w>"
        Assert.Equal([S, E, E], tokenizer.EncodeUnpadded("oo")); // "o o</w>" → "oo</w>", not in the vocabulary
        Assert.Equal([S, Id("cat</w>"), E, E, Id("c"), Id("a</w>"), E], tokenizer.EncodeUnpadded("cat zoo ca")); // z, oo</w>
    }

    [Fact]
    public void Special_tokens_in_the_text_are_kept_whole()
    {
        var tokenizer = Load();

        Assert.Equal([S, S, Id("cat</w>"), E, E], tokenizer.EncodeUnpadded("<|startoftext|>cat<|endoftext|>"));
    }

    [Fact]
    public void Long_input_is_truncated_to_the_context_length_with_the_end_token_last()
    {
        var tokenizer = Load();
        var text = string.Join(' ', Enumerable.Repeat("cat", 100));

        var ids = tokenizer.EncodeUnpadded(text);
        Assert.Equal(77, ids.Length);
        Assert.Equal(S, ids[0]);
        Assert.All(ids[1..76], id => Assert.Equal(Id("cat</w>"), id));
        Assert.Equal(E, ids[76]);

        var padded = tokenizer.Encode(text);
        Assert.Equal(77, padded.Length);
        Assert.Equal(ids, padded.InputIds);
        Assert.All(padded.AttentionMask, m => Assert.Equal(1, m));

        Assert.Equal(100, tokenizer.Tokenize(text).Length);
    }

    [Fact]
    public void Truncation_cuts_inside_a_word_as_the_reference_does()
    {
        var tokenizer = Load(new ClipTokenizerOptions { ContextLength = 5 });

        Assert.Equal(Ids("cat</w>", "ca", "t"), tokenizer.EncodeUnpadded("cat cats"));
        Assert.Equal(Ids("cat</w>", "cat</w>", "cat</w>"), tokenizer.EncodeUnpadded("cat cat cat cat"));
    }

    [Fact]
    public void Pads_with_zero_by_default_with_an_attention_mask()
    {
        var tokenizer = Load();

        var encoding = tokenizer.Encode("cat");

        Assert.Equal(0, tokenizer.PadTokenId);
        Assert.Equal(3, encoding.Length);
        Assert.Equal(77, encoding.ContextLength);
        Assert.Equal([S, Id("cat</w>"), E, .. Enumerable.Repeat(0, 74)], encoding.InputIds);
        Assert.Equal([1, 1, 1, .. Enumerable.Repeat(0, 74)], encoding.AttentionMask);
    }

    [Fact]
    public void Pads_with_the_end_token_or_an_explicit_id_when_asked()
    {
        var hf = Load(new ClipTokenizerOptions { Padding = ClipPadding.EndToken });
        Assert.Equal([S, E, .. Enumerable.Repeat(E, 75)], hf.Encode("").InputIds);

        var explicitPad = Load(new ClipTokenizerOptions { PadTokenId = 7, ContextLength = 6, Padding = ClipPadding.EndToken });
        Assert.Equal([S, Id("it</w>"), E, 7, 7, 7], explicitPad.Encode("it").InputIds);
    }

    [Fact]
    public void Encodes_into_int64_rows_of_a_batch()
    {
        var tokenizer = Load(new ClipTokenizerOptions { ContextLength = 8 });
        var ids = new long[16];
        var mask = new long[16];

        Assert.Equal(4, tokenizer.EncodeInto<long>("it's", ids.AsSpan(0, 8), mask.AsSpan(0, 8)));
        Assert.Equal(3, tokenizer.EncodeInto<long>("cat", ids.AsSpan(8, 8), mask.AsSpan(8, 8)));

        long[] expectedIds = [S, Id("it</w>"), Id("'s</w>"), E, 0, 0, 0, 0, S, Id("cat</w>"), E, 0, 0, 0, 0, 0];
        Assert.Equal(expectedIds, ids);
        Assert.Equal([1L, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0], mask);
        Assert.Throws<ArgumentException>(() => tokenizer.EncodeInto<long>("cat", ids.AsSpan(0, 7), mask.AsSpan(0, 7)));
    }

    [Fact]
    public void Encoding_cached_words_allocates_nothing()
    {
        var tokenizer = Load();
        var ids = new long[77];
        var mask = new long[77];
        const string query = "hello cat it's hello cats 2024 hello!!! cat cat café";
        tokenizer.EncodeInto<long>(query, ids, mask);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            tokenizer.EncodeInto<long>(query, ids, mask);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Reads_the_original_clip_merges_file_gzipped_and_builds_its_vocabulary()
    {
        // The vocabulary simple_tokenizer.py builds: the 188 printable bytes (! = 0, a = 64, Ã = 127, © = 102, ð = 172),
        // then the 68 others (0x01 = 189, 0x80 = 222, 0x98 = 246, 0x9F = 253), then all of them with </w> (+ 256),
        // then one id per merge from 512, then <|startoftext|>, <|endoftext|>.
        var path = Path.Combine(directory, "bpe_simple_vocab_16e6.txt.gz");
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gz.Write("\"bpe_simple_vocab_16e6.txt#version: 0.2\nc a\nca t</w>\nh e</w>\n"u8);
        }

        var two = ClipTokenizer.LoadClipBpe(path, maxMerges: 2);
        Assert.Equal(2, two.MergeCount);
        Assert.Equal(514, two.StartTokenId);
        Assert.Equal(515, two.EndTokenId);
        Assert.Equal(516, two.VocabularySize);
        Assert.Equal([514, 513, 515], two.EncodeUnpadded("cat"));
        Assert.Equal([514, 66, 320, 515], two.EncodeUnpadded("ca")); // c, a</w>
        Assert.Equal([514, 71, 324, 515], two.EncodeUnpadded("he")); // the third merge is past the limit
        Assert.Equal([514, 127, 358, 515], two.EncodeUnpadded("é")); // Ã, ©</w>
        Assert.Equal([514, 172, 253, 246, 478, 515], two.EncodeUnpadded("😀")); // ð Ł ĺ Ģ</w>
        Assert.Equal([514, 445, 515], two.EncodeUnpadded("\u0001")); // a control byte, ending the word

        var all = ClipTokenizer.LoadClipBpe(path);
        Assert.Equal(3, all.MergeCount);
        Assert.Equal([515, 514, 516], all.EncodeUnpadded("he"));

        using var plain = new MemoryStream("#version: 0.2\nc a\n"u8.ToArray());
        var uncompressed = ClipTokenizer.LoadClipBpe(plain);
        Assert.Equal([513, 512, 339, 514], uncompressed.EncodeUnpadded("cat")); // ca, t</w> (t = 83)
    }

    [Fact]
    public void A_malformed_merges_line_is_an_error_naming_the_file_and_line()
    {
        var e = Assert.Throws<TroveException>(() => Load(merges: ["c a", "ca t</w>", "bad", "h e"]));

        Assert.Equal("tokenizer-invalid", e.Code);
        Assert.Contains("merges.txt line 4", e.Message, StringComparison.Ordinal); // line 1 is the header
        Assert.Contains("\"bad\"", e.Message, StringComparison.Ordinal);

        using var clip = new MemoryStream("any header\nc a\nx y z\n"u8.ToArray());
        var clipError = Assert.Throws<TroveException>(() => ClipTokenizer.LoadClipBpe(clip, "bpe.txt"));
        Assert.Contains("bpe.txt line 3", clipError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_vocabulary_is_an_error_naming_the_file_and_line()
    {
        using var merges = new MemoryStream("#version: 0.2\n"u8.ToArray());
        using var vocab = new MemoryStream("{\n  \"a\": 0,\n  \"b\": \"one\"\n}"u8.ToArray());
        var e = Assert.Throws<TroveException>(() => ClipTokenizer.LoadHuggingFace(vocab, merges));
        Assert.Equal("tokenizer-invalid", e.Code);
        Assert.Contains("vocab.json line 3", e.Message, StringComparison.Ordinal);

        using var broken = new MemoryStream("{\n  \"a\": 0,\n  \"b\" 1\n}"u8.ToArray());
        merges.Position = 0;
        var json = Assert.Throws<TroveException>(() => ClipTokenizer.LoadHuggingFace(broken, merges));
        Assert.Contains("vocab.json line 3", json.Message, StringComparison.Ordinal);

        var noSpecials = Assert.Throws<TroveException>(() => Load(tokens: ["c", "a", "<|startoftext|>"]));
        Assert.Equal("tokenizer-invalid", noSpecials.Code);
        Assert.Contains("<|endoftext|>", noSpecials.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var missing = Path.Combine(directory, "nope", "vocab.json");
        var e = Assert.Throws<TroveException>(() => ClipTokenizer.LoadHuggingFace(missing, missing));

        Assert.Equal("tokenizer-missing", e.Code);
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }
}
