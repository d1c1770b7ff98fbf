using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Trove.Domain.Embeddings;

/// <summary>How <see cref="ClipTokenizer.Encode(string)"/> fills the positions after the end token.</summary>
public enum ClipPadding
{
    /// <summary>Id 0, as OpenAI's <c>clip.tokenize</c> does.</summary>
    Zero,

    /// <summary>The end token's id, as HuggingFace's <c>CLIPTokenizer</c> (pad token <c>&lt;|endoftext|&gt;</c>) does.</summary>
    EndToken,
}

public sealed record ClipTokenizerOptions
{
    public const int DefaultContextLength = 77;

    public const int DefaultCacheCapacity = 8192;

    /// <summary>Positions per encoded text, start and end tokens included (CLIP: 77).</summary>
    public int ContextLength { get; init; } = DefaultContextLength;

    public ClipPadding Padding { get; init; } = ClipPadding.Zero;

    /// <summary>An explicit pad id; overrides <see cref="Padding"/>.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>How many distinct words keep their BPE result; 0 turns the cache off.</summary>
    public int CacheCapacity { get; init; } = DefaultCacheCapacity;
}

/// <summary>One text encoded for a CLIP text encoder: <see cref="ContextLength"/> ids and the matching mask.</summary>
public sealed class ClipEncoding(int[] inputIds, int[] attentionMask, int length)
{
    public IReadOnlyList<int> InputIds { get; } = inputIds;

    /// <summary>1 for the start token, the text's tokens and the end token; 0 for padding.</summary>
    public IReadOnlyList<int> AttentionMask { get; } = attentionMask;

    /// <summary>Positions that are not padding.</summary>
    public int Length { get; } = length;

    public int ContextLength => InputIds.Count;
}

/// <summary>
/// CLIP's byte-level BPE text tokenizer, as OpenAI's <c>simple_tokenizer.py</c> and HuggingFace's <c>CLIPTokenizer</c>
/// define it (docs/semantic-search.md, "Tokenizer"): HTML unescaped twice, whitespace collapsed, trimmed and lower-cased;
/// split by CLIP's pattern; every piece's UTF-8 bytes mapped to the printable byte alphabet, <c>&lt;/w&gt;</c> appended to
/// the last symbol and the lowest-ranked pair merged until none applies. Immutable once built and safe to share between
/// threads; results per word are kept in a bounded cache.
/// </summary>
public sealed partial class ClipTokenizer
{
    public const string StartToken = "<|startoftext|>";

    public const string EndToken = "<|endoftext|>";

    public const string EndOfWord = "</w>";

    /// <summary>The merges <c>simple_tokenizer.py</c> reads from <c>bpe_simple_vocab_16e6.txt</c>: 49152 − 256 − 2.</summary>
    public const int ClipMergeCount = 49152 - 256 - 2;

    private const string InvalidCode = "tokenizer-invalid";

    /// <summary>Words longer than this are tokenised every time rather than cached.</summary>
    private const int MaxCachedWordLength = 64;

    private const int StackLimit = 256;

    private static readonly char[] ByteToChar = BuildByteAlphabet();

    private readonly Dictionary<long, Merge> merges;
    private readonly int[] vocabIdBySymbol;
    private readonly int cacheCapacity;
    private readonly ConcurrentDictionary<string, int[]> cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> cacheLookup;

    /// <summary>Builds a tokenizer from a vocabulary (token → id) and merges in rank order.</summary>
    public ClipTokenizer(
        IReadOnlyDictionary<string, int> vocabulary,
        IEnumerable<(string Left, string Right)> merges,
        ClipTokenizerOptions? options = null)
        : this(vocabulary, merges, options, "the vocabulary")
    {
    }

    private ClipTokenizer(
        IReadOnlyDictionary<string, int> vocabulary,
        IEnumerable<(string Left, string Right)> mergeList,
        ClipTokenizerOptions? options,
        string vocabularySource)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(mergeList);
        options ??= new ClipTokenizerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ContextLength, 2, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.CacheCapacity, nameof(options));

        StartTokenId = SpecialId(vocabulary, StartToken, vocabularySource);
        EndTokenId = SpecialId(vocabulary, EndToken, vocabularySource);
        UnknownTokenId = EndTokenId;
        ContextLength = options.ContextLength;
        PadTokenId = options.PadTokenId ?? (options.Padding == ClipPadding.EndToken ? EndTokenId : 0);
        VocabularySize = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
        cacheCapacity = options.CacheCapacity;
        cacheLookup = cache.GetAlternateLookup<ReadOnlySpan<char>>();

        // Symbols are interned: 0–255 are the bytes, 256–511 the bytes ending a word, then every merge's parts and result.
        var symbols = new List<string>(512);
        var symbolIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var suffix = 0; suffix < 2; suffix++)
        {
            for (var b = 0; b < 256; b++)
            {
                var symbol = suffix == 0 ? ByteToChar[b].ToString() : ByteToChar[b] + EndOfWord;
                symbolIds[symbol] = symbols.Count;
                symbols.Add(symbol);
            }
        }

        int Intern(string symbol)
        {
            if (!symbolIds.TryGetValue(symbol, out var id))
            {
                id = symbols.Count;
                symbolIds[symbol] = id;
                symbols.Add(symbol);
            }

            return id;
        }

        merges = [];
        var rank = 0;
        foreach (var (left, right) in mergeList)
        {
            var l = Intern(left);
            var r = Intern(right);
            // As in the reference (a dict built from the list), a repeated pair keeps its last rank.
            merges[Key(l, r)] = new Merge(rank++, Intern(left + right));
        }

        MergeCount = rank;
        vocabIdBySymbol = new int[symbols.Count];
        for (var i = 0; i < symbols.Count; i++)
        {
            vocabIdBySymbol[i] = vocabulary.TryGetValue(symbols[i], out var id) ? id : -1;
        }
    }

    public int StartTokenId { get; }

    public int EndTokenId { get; }

    /// <summary>What a symbol missing from the vocabulary becomes: the end token, as in HuggingFace's CLIPTokenizer.</summary>
    public int UnknownTokenId { get; }

    public int PadTokenId { get; }

    public int ContextLength { get; }

    /// <summary>The highest id in the vocabulary plus one.</summary>
    public int VocabularySize { get; }

    public int MergeCount { get; }

    /// <summary>
    /// The ids of <paramref name="text"/> between the start and end tokens, truncated so that both fit in
    /// <see cref="ContextLength"/>, without padding.
    /// </summary>
    public int[] EncodeUnpadded(string text)
    {
        Span<int> ids = ContextLength <= StackLimit ? stackalloc int[ContextLength] : new int[ContextLength];
        var length = EncodeCore(text, ids);
        return ids[..length].ToArray();
    }

    /// <summary><see cref="ContextLength"/> ids (start, text, end, padding) and the attention mask.</summary>
    public ClipEncoding Encode(string text)
    {
        var ids = new int[ContextLength];
        var mask = new int[ContextLength];
        var length = EncodeInto<int>(text, ids, mask);
        return new ClipEncoding(ids, mask, length);
    }

    /// <summary>
    /// Writes <see cref="ContextLength"/> ids and mask values into a row of the caller's tensor (int32 or int64 alike)
    /// and returns how many positions are not padding. Allocates nothing once the words are cached.
    /// </summary>
    public int EncodeInto<T>(string text, Span<T> inputIds, Span<T> attentionMask)
        where T : IBinaryInteger<T>
    {
        if (inputIds.Length != ContextLength)
        {
            throw new ArgumentException($"expected {ContextLength} positions, got {inputIds.Length}", nameof(inputIds));
        }

        if (attentionMask.Length != ContextLength && !attentionMask.IsEmpty)
        {
            throw new ArgumentException($"expected {ContextLength} positions or none, got {attentionMask.Length}", nameof(attentionMask));
        }

        Span<int> ids = ContextLength <= StackLimit ? stackalloc int[ContextLength] : new int[ContextLength];
        var length = EncodeCore(text, ids);
        var pad = T.CreateTruncating(PadTokenId);
        for (var i = 0; i < ContextLength; i++)
        {
            inputIds[i] = i < length ? T.CreateTruncating(ids[i]) : pad;
        }

        if (!attentionMask.IsEmpty)
        {
            attentionMask[..length].Fill(T.One);
            attentionMask[length..].Fill(T.Zero);
        }

        return length;
    }

    /// <summary>The BPE ids of <paramref name="text"/> alone: no start or end token, no truncation.</summary>
    public int[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var decoded = Unescape(text);
        var rented = ArrayPool<char>.Shared.Rent(decoded.Length * 2);
        try
        {
            var cleaned = Clean(decoded, rented);
            // Every token covers at least one UTF-8 byte, so this bounds the count.
            var ids = new int[Encoding.UTF8.GetByteCount(cleaned)];
            var count = TokenizeCleaned(cleaned, ids);
            return count == ids.Length ? ids : ids[..count];
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    private int EncodeCore(string text, Span<int> ids)
    {
        ArgumentNullException.ThrowIfNull(text);
        ids[0] = StartTokenId;
        var decoded = Unescape(text);
        var count = 0;
        char[]? rented = null;
        Span<char> buffer = decoded.Length <= StackLimit / 2
            ? stackalloc char[StackLimit]
            : rented = ArrayPool<char>.Shared.Rent(decoded.Length * 2);
        try
        {
            // Truncation as HuggingFace's: the text keeps ContextLength − 2 tokens, the end token stays last.
            count = TokenizeCleaned(Clean(decoded, buffer), ids[1..^1]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }

        ids[count + 1] = EndTokenId;
        return count + 2;
    }

    /// <summary>ftfy's repairs aside, <c>basic_clean</c>: HTML entities unescaped twice.</summary>
    private static string Unescape(string text) =>
        text.Contains('&') ? System.Net.WebUtility.HtmlDecode(System.Net.WebUtility.HtmlDecode(text)) : text;

    /// <summary>Whitespace runs become one space, the ends are trimmed, then invariant lower case.</summary>
    private static ReadOnlySpan<char> Clean(string text, Span<char> buffer)
    {
        var collapsed = buffer[..text.Length];
        var n = 0;
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = n > 0;
                continue;
            }

            if (pendingSpace)
            {
                collapsed[n++] = ' ';
                pendingSpace = false;
            }

            collapsed[n++] = c;
        }

        var lowered = buffer.Slice(text.Length, n);
        collapsed[..n].ToLowerInvariant(lowered);
        return lowered;
    }

    /// <summary>Writes the tokens of an already cleaned text, stopping when <paramref name="ids"/> is full.</summary>
    private int TokenizeCleaned(ReadOnlySpan<char> text, Span<int> ids)
    {
        var count = 0;
        foreach (var match in Pieces().EnumerateMatches(text))
        {
            if (count == ids.Length)
            {
                break;
            }

            var piece = text.Slice(match.Index, match.Length);
            if (piece.SequenceEqual(StartToken))
            {
                ids[count++] = StartTokenId;
                continue;
            }

            if (piece.SequenceEqual(EndToken))
            {
                ids[count++] = EndTokenId;
                continue;
            }

            if (cacheCapacity > 0 && cacheLookup.TryGetValue(piece, out var cached))
            {
                count += CopyUpTo(cached, ids[count..]);
                continue;
            }

            count += EncodeWord(piece, ids[count..]);
        }

        return count;
    }

    private static int CopyUpTo(ReadOnlySpan<int> source, Span<int> destination)
    {
        var n = Math.Min(source.Length, destination.Length);
        source[..n].CopyTo(destination);
        return n;
    }

    /// <summary>BPE of one piece: its bytes as symbols, the last one ending the word, merged lowest rank first.</summary>
    private int EncodeWord(ReadOnlySpan<char> piece, Span<int> destination)
    {
        var byteCount = Encoding.UTF8.GetByteCount(piece);
        byte[]? rentedBytes = null;
        int[]? rentedSymbols = null;
        Span<byte> bytes = byteCount <= StackLimit ? stackalloc byte[StackLimit] : rentedBytes = ArrayPool<byte>.Shared.Rent(byteCount);
        Span<int> word = byteCount <= StackLimit ? stackalloc int[StackLimit] : rentedSymbols = ArrayPool<int>.Shared.Rent(byteCount);
        try
        {
            Encoding.UTF8.GetBytes(piece, bytes);
            for (var i = 0; i < byteCount; i++)
            {
                word[i] = bytes[i];
            }

            word[byteCount - 1] += 256;
            var n = MergeAll(word[..byteCount]);
            for (var i = 0; i < n; i++)
            {
                var id = vocabIdBySymbol[word[i]];
                word[i] = id < 0 ? UnknownTokenId : id;
            }

            if (cacheCapacity > 0 && piece.Length <= MaxCachedWordLength)
            {
                if (cache.Count >= cacheCapacity)
                {
                    // Bounded: start over rather than track recency; queries repeat few words.
                    cache.Clear();
                }

                cacheLookup.TryAdd(piece, word[..n].ToArray());
            }

            return CopyUpTo(word[..n], destination);
        }
        finally
        {
            if (rentedBytes is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedBytes);
            }

            if (rentedSymbols is not null)
            {
                ArrayPool<int>.Shared.Return(rentedSymbols);
            }
        }
    }

    /// <summary>Merges the lowest-ranked adjacent pair, every occurrence left to right, until no pair has a rank.</summary>
    private int MergeAll(Span<int> word)
    {
        var n = word.Length;
        while (n > 1)
        {
            var best = new Merge(int.MaxValue, -1);
            int bestLeft = -1, bestRight = -1;
            for (var i = 0; i < n - 1; i++)
            {
                if (merges.TryGetValue(Key(word[i], word[i + 1]), out var merge) && merge.Rank < best.Rank)
                {
                    best = merge;
                    bestLeft = word[i];
                    bestRight = word[i + 1];
                }
            }

            if (best.Result < 0)
            {
                break;
            }

            var o = 0;
            for (var i = 0; i < n;)
            {
                if (i < n - 1 && word[i] == bestLeft && word[i + 1] == bestRight)
                {
                    word[o++] = best.Result;
                    i += 2;
                }
                else
                {
                    word[o++] = word[i++];
                }
            }

            n = o;
        }

        return n;
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private static int SpecialId(IReadOnlyDictionary<string, int> vocabulary, string token, string source) =>
        vocabulary.TryGetValue(token, out var id)
            ? id
            : throw new TroveException(InvalidCode, $"{source} has no {token} token", "use the vocabulary published with the text encoder");

    /// <summary>
    /// GPT-2's reversible byte alphabet: printable Latin-1 bytes stand for themselves, the other 68 bytes take the code
    /// points from U+0100 on, in byte order.
    /// </summary>
    private static char[] BuildByteAlphabet()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            map[b] = IsPrintableByte(b) ? (char)b : (char)next++;
        }

        return map;
    }

    private static bool IsPrintableByte(int b) => b is (>= '!' and <= '~') or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);

    /// <summary>The byte symbols in the reference's order (printable ones first), the start of a merges-only vocabulary.</summary>
    private static IEnumerable<char> ByteSymbolsInReferenceOrder()
    {
        for (var b = 0; b < 256; b++)
        {
            if (IsPrintableByte(b))
            {
                yield return ByteToChar[b];
            }
        }

        for (var b = 0; b < 256; b++)
        {
            if (!IsPrintableByte(b))
            {
                yield return ByteToChar[b];
            }
        }
    }

    /// <summary>Loads HuggingFace's <c>vocab.json</c> (token → id) and <c>merges.txt</c> (one pair a line, in rank order).</summary>
    public static ClipTokenizer LoadHuggingFace(string vocabJsonPath, string mergesTxtPath, ClipTokenizerOptions? options = null)
    {
        using var vocab = OpenFile(vocabJsonPath);
        using var merges = OpenFile(mergesTxtPath);
        return LoadHuggingFace(vocab, merges, options, vocabJsonPath, mergesTxtPath);
    }

    /// <summary>As <see cref="LoadHuggingFace(string, string, ClipTokenizerOptions?)"/>; the names are for error messages.</summary>
    public static ClipTokenizer LoadHuggingFace(
        Stream vocabJson,
        Stream mergesTxt,
        ClipTokenizerOptions? options = null,
        string vocabName = "vocab.json",
        string mergesName = "merges.txt")
    {
        ArgumentNullException.ThrowIfNull(vocabJson);
        ArgumentNullException.ThrowIfNull(mergesTxt);
        var vocabulary = ReadVocabulary(vocabJson, vocabName);
        var merges = ReadMerges(mergesTxt, mergesName, int.MaxValue, headerAlways: false);
        return new ClipTokenizer(vocabulary, merges, options, vocabName);
    }

    /// <summary>
    /// Loads OpenAI's <c>bpe_simple_vocab_16e6.txt</c>, gzipped or not: merges only (the first <paramref name="maxMerges"/>
    /// after the header line); the vocabulary is built as <c>simple_tokenizer.py</c> builds it.
    /// </summary>
    public static ClipTokenizer LoadClipBpe(string path, ClipTokenizerOptions? options = null, int maxMerges = ClipMergeCount)
    {
        using var stream = OpenFile(path);
        return LoadClipBpe(stream, path, options, maxMerges);
    }

    /// <summary>As <see cref="LoadClipBpe(string, ClipTokenizerOptions?, int)"/>; the name is for error messages.</summary>
    public static ClipTokenizer LoadClipBpe(Stream stream, string name = "bpe_simple_vocab_16e6.txt", ClipTokenizerOptions? options = null, int maxMerges = ClipMergeCount)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(maxMerges);
        using var buffered = new MemoryStream();
        stream.CopyTo(buffered);
        buffered.Position = 0;
        var gzipped = buffered.Length >= 2 && buffered.GetBuffer()[0] == 0x1F && buffered.GetBuffer()[1] == 0x8B;
        List<(string Left, string Right)> merges;
        try
        {
            using var text = gzipped ? new GZipStream(buffered, CompressionMode.Decompress, leaveOpen: true) : (Stream)buffered;
            merges = ReadMerges(text, name, maxMerges, headerAlways: true);
        }
        catch (InvalidDataException e)
        {
            throw new TroveException(InvalidCode, $"{name}: not a valid gzip file ({e.Message})", inner: e);
        }

        // simple_tokenizer.py: the bytes, the bytes ending a word, every merge's result, then the two special tokens.
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var id = 0;
        var byteSymbols = ByteSymbolsInReferenceOrder().ToArray();
        foreach (var c in byteSymbols)
        {
            vocabulary[c.ToString()] = id++;
        }

        foreach (var c in byteSymbols)
        {
            vocabulary[c + EndOfWord] = id++;
        }

        foreach (var (left, right) in merges)
        {
            vocabulary[left + right] = id++;
        }

        vocabulary[StartToken] = id++;
        vocabulary[EndToken] = id;
        return new ClipTokenizer(vocabulary, merges, options, name);
    }

    private static FileStream OpenFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TroveException("tokenizer-missing", $"{path} does not exist", "download the tokenizer files published with the text encoder", e);
        }
    }

    /// <summary>
    /// Merge lines "a b" in rank order. The first line is a header if it holds <c>#version</c> (HuggingFace) or always
    /// (<c>simple_tokenizer.py</c> drops it unread); blank lines are skipped; reading stops after <paramref name="maxMerges"/>.
    /// </summary>
    private static List<(string Left, string Right)> ReadMerges(Stream stream, string name, int maxMerges, bool headerAlways)
    {
        var merges = new List<(string Left, string Right)>();
        using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var lineNumber = 0;
        try
        {
            while (merges.Count < maxMerges && reader.ReadLine() is { } line)
            {
                lineNumber++;
                if ((lineNumber == 1 && (headerAlways || line.Contains("#version", StringComparison.Ordinal))) || string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2)
                {
                    throw new TroveException(
                        InvalidCode,
                        $"{name} line {lineNumber}: expected two symbols separated by a space, found \"{Shorten(line)}\"",
                        "each merge line is \"LEFT RIGHT\"; use the merges file published with the text encoder");
                }

                merges.Add((parts[0], parts[1]));
            }
        }
        catch (DecoderFallbackException e)
        {
            throw new TroveException(InvalidCode, $"{name} line {lineNumber + 1}: not UTF-8", inner: e);
        }

        return merges;
    }

    private static Dictionary<string, int> ReadVocabulary(Stream stream, string name)
    {
        using var buffered = new MemoryStream();
        stream.CopyTo(buffered);
        ReadOnlySpan<byte> json = buffered.GetBuffer().AsSpan(0, (int)buffered.Length);
        if (json.StartsWith("\uFEFF"u8))
        {
            json = json[3..];
        }

        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid(name, json, reader, "expected an object of token → id");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var token = reader.GetString()!;
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var id) || id < 0)
                {
                    throw Invalid(name, json, reader, $"the id of \"{Shorten(token)}\" is not a non-negative integer");
                }

                vocabulary[token] = id;
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                throw Invalid(name, json, reader, "expected an object of token → id");
            }
        }
        catch (JsonException e)
        {
            throw new TroveException(InvalidCode, $"{name} line {e.LineNumber + 1}: not valid JSON ({e.Message})", inner: e);
        }

        return vocabulary;
    }

    private static TroveException Invalid(string name, ReadOnlySpan<byte> json, Utf8JsonReader reader, string what)
    {
        var line = json[..(int)Math.Min(reader.TokenStartIndex, json.Length)].Count((byte)'\n') + 1;
        return new TroveException(InvalidCode, $"{name} line {line}: {what}", "use the vocab.json published with the text encoder");
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pieces();

    private readonly record struct Merge(int Rank, int Result);
}
