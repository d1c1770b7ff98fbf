using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Trove.Domain;
using Trove.Index.Sqlite;
using Trove.Library;

namespace Trove.Bench;

/// <summary>
/// The synthetic library of make bench-search, written straight into an index database through the real port (no
/// images, no sidecar files): Zipf-distributed tags over a large vocabulary, a few wildcard-friendly tag families,
/// realistic sizes/types/dates and short Zipf captions. Deterministic for a given (count, tags, per-media).
/// </summary>
internal static class SearchData
{
    /// <summary>Bump when generation changes: cached databases of another version are not reused.</summary>
    public const string Version = "v1";

    /// <summary>Words of the captions (Zipf over this list, most frequent first).</summary>
    public const int CaptionVocabulary = 3_000;

    /// <summary>
    /// Tag families with realistic names (so wildcards like <c>*_hair</c> stand for hundreds of tags): rank % 100 picks
    /// the family, rank / 100 the word (real words first, then made-up ones).
    /// </summary>
    private static readonly (int Residue, string Prefix, string Suffix, string[] Words)[] Families =
    [
        (7, string.Empty, "_hair", ["long", "short", "black", "brown", "blonde", "blue", "red", "white", "grey", "pink", "purple", "green", "silver", "orange", "messy", "wavy", "curly", "braided"]),
        (13, string.Empty, "_eyes", ["blue", "brown", "green", "red", "purple", "yellow", "grey", "closed", "aqua", "orange", "pink", "black", "heterochromatic"]),
        (29, "long_", string.Empty, ["sleeves", "skirt", "coat", "dress", "legs", "fingernails", "shadow", "exposure", "table", "road", "bridge"]),
        (41, "blue_", string.Empty, ["sky", "shirt", "dress", "flower", "car", "door", "ribbon", "jacket", "water", "theme", "hour", "wall"]),
        (53, string.Empty, "_background", ["white", "simple", "grey", "black", "blurry", "gradient", "outdoor", "indoor", "pink", "blue", "starry", "abstract"]),
    ];

    private static readonly string[] RealCaptionWords =
    [
        "a", "the", "of", "with", "in", "on", "and", "at", "her", "his", "is", "near", "under", "over", "from", "by", "two",
        "three", "small", "large", "old", "young", "girl", "boy", "woman", "man", "cat", "dog", "bird", "horse", "tree",
        "flower", "house", "street", "car", "river", "lake", "mountain", "sky", "cloud", "sun", "moon", "night", "morning",
        "evening", "rain", "snow", "beach", "forest", "city", "road", "bridge", "window", "door", "table", "chair", "book",
        "hat", "dress", "shirt", "red", "blue", "green", "white", "black", "yellow", "bright", "dark", "sitting", "standing",
        "walking", "running", "holding", "looking", "smiling", "wearing", "reading", "playing", "field", "garden", "park",
        "light", "shadow", "water", "boat", "train", "station", "market", "kitchen", "room", "wall", "painting", "photo",
        "close", "view", "portrait", "landscape", "background", "front", "behind", "next", "top", "side", "left", "right",
    ];

    public static string TagName(int rank)
    {
        foreach (var (residue, prefix, suffix, words) in Families)
        {
            if (rank % 100 == residue)
            {
                var i = rank / 100;
                return prefix + (i < words.Length ? words[i] : PseudoWord(i + 100)) + suffix;
            }
        }

        return "tag_" + rank.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The caption vocabulary: a hundred real words, then pronounceable made-up ones.</summary>
    public static string[] CaptionWords()
    {
        var words = new List<string>(CaptionVocabulary);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var w in RealCaptionWords)
        {
            if (seen.Add(w))
            {
                words.Add(w);
            }
        }

        for (var i = 0; words.Count < CaptionVocabulary; i++)
        {
            var w = PseudoWord(i);
            if (seen.Add(w))
            {
                words.Add(w);
            }
        }

        return [.. words];
    }

    /// <summary>"bake", "zomiru": the number spelt in base 70 as consonant-vowel syllables (two or more; unique per number).</summary>
    private static string PseudoWord(int n)
    {
        const string consonants = "bdfgklmnprstvz";
        const string vowels = "aeiou";
        var sb = new StringBuilder(8);
        for (var k = 0; k < 2 || n > 0; k++)
        {
            var s = n % 70;
            n /= 70;
            sb.Append(consonants[s / 5]).Append(vowels[s % 5]);
        }

        return sb.ToString();
    }

    /// <summary>Cumulative Zipf (s = 1) weights over <paramref name="n"/> ranks, for sampling with a binary search.</summary>
    private static double[] Zipf(int n)
    {
        var cumulative = new double[n];
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            sum += 1.0 / (i + 1);
            cumulative[i] = sum;
        }

        return cumulative;
    }

    private static int Sample(double[] cumulative, Random random)
    {
        var x = random.NextDouble() * cumulative[^1];
        var k = Array.BinarySearch(cumulative, x);
        return Math.Min(cumulative.Length - 1, k < 0 ? ~k : k);
    }

    /// <summary>
    /// Makes sure the index database exists (generating it into a temporary file renamed when complete, so an
    /// interrupted run never leaves a half-written cache behind). Returns whether it was generated in this run.
    /// </summary>
    public static async Task<bool> EnsureIndexAsync(string path, int count, int tagCount, int perMedia, int batch)
    {
        if (File.Exists(path))
        {
            Console.WriteLine($"index database: reusing {path} ({new FileInfo(path).Length / 1048576.0:N0} MiB)");
            return false;
        }

        var temp = path + ".tmp";
        DeleteDatabase(temp);
        Console.WriteLine($"index database: generating {count:N0} media into {temp} (transactions of {batch:N0})");
        var clock = Stopwatch.StartNew();
        var index = await SqliteIndexFactory.OpenPathAsync(temp, CancellationToken.None);
        await using (index)
        {
            var generator = new Generator(count, tagCount, perMedia);
            var written = 0;
            var lastReport = Stopwatch.GetTimestamp();
            while (written < count)
            {
                var n = Math.Min(batch, count - written);
                var tx = await index.BeginAsync(CancellationToken.None);
                await using (tx)
                {
                    for (var i = 0; i < n; i++)
                    {
                        var (sidecar, inTrash) = generator.Next();
                        var stamp = new FileStamp(1_000 + (sidecar.Tags.Count * 60), sidecar.UpdatedAt.UtcTicks, "synthetic");
                        await tx.UpsertMediaAsync(sidecar, inTrash, stamp, CancellationToken.None);
                    }

                    await tx.CommitAsync(CancellationToken.None);
                }

                written += n;
                if (Stopwatch.GetElapsedTime(lastReport).TotalSeconds >= 10 || written == count)
                {
                    lastReport = Stopwatch.GetTimestamp();
                    Console.WriteLine($"  {written,12:N0} media  {clock.Elapsed.TotalSeconds,7:0.0} s  {written / clock.Elapsed.TotalSeconds,8:N0} media/s");
                }
            }
        }

        SqliteConnection.ClearAllPools();
        foreach (var leftover in new[] { temp + "-wal", temp + "-shm" })
        {
            // Closing the last connection checkpoints the WAL into the database; an empty leftover can go.
            if (File.Exists(leftover))
            {
                File.Delete(leftover);
            }
        }

        File.Move(temp, path);
        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"index database: generated {count:N0} media in {seconds:0.0} s ({count / seconds:N0} media/s), {new FileInfo(path).Length / 1048576.0:N0} MiB");
        return true;
    }

    public static void DeleteDatabase(string path)
    {
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm", "-journal" })
        {
            if (File.Exists(path + suffix))
            {
                File.Delete(path + suffix);
            }
        }
    }

    /// <summary>Produces the media one at a time, in key order, from one seeded random sequence.</summary>
    internal sealed class Generator
    {
        private static readonly DateTimeOffset Start = new(2023, 1, 1, 0, 0, 0, TimeSpan.Zero);
        private static readonly (string Ext, string MediaType, double BytesPerPixelLo, double BytesPerPixelHi)[] Formats =
        [
            ("jpg", "image/jpeg", 0.20, 0.60),
            ("png", "image/png", 0.90, 2.50),
            ("webp", "image/webp", 0.12, 0.35),
        ];

        private static readonly (int W, int H)[] Aspects = [(1, 1), (4, 3), (3, 2), (16, 9), (2, 1), (3, 4), (2, 3), (9, 16), (5, 4)];

        private readonly Random _random = new(20_240_601);
        private readonly double[] _tagZipf;
        private readonly double[] _wordZipf;
        private readonly string[] _tagNames;
        private readonly string[] _words = CaptionWords();
        private readonly long[] _created;
        private readonly int _perMedia;
        private readonly byte[] _idBytes = new byte[32];
        private readonly HashSet<int> _picked = [];
        private int _next;

        public Generator(int count, int tagCount, int perMedia)
        {
            _perMedia = perMedia;
            _tagZipf = Zipf(tagCount);
            _wordZipf = Zipf(_words.Length);
            _tagNames = [.. Enumerable.Range(0, tagCount).Select(TagName)];

            // Creation times: unique milliseconds spread evenly over three years, then shuffled across keys, as after a
            // rebuild (keys then follow the order the sidecars were found in, not the order they were added).
            var span = (Start.AddYears(3) - Start).TotalMilliseconds;
            var slot = span / count;
            _created = new long[count];
            for (var i = 0; i < count; i++)
            {
                _created[i] = Start.ToUnixTimeMilliseconds() + (long)(i * slot) + _random.NextInt64(Math.Max(1, (long)slot));
            }

            _random.Shuffle(_created);
        }

        public (MediaSidecar Sidecar, bool InTrash) Next()
        {
            var r = _random;
            r.NextBytes(_idBytes);
            var id = Convert.ToHexStringLower(_idBytes);
            var created = DateTimeOffset.FromUnixTimeMilliseconds(_created[_next++]);

            // Long side log-uniform in 400..6000 px, a common aspect ratio, 60 % landscape.
            var longSide = (int)Math.Round(400 * Math.Pow(15, r.NextDouble()));
            var (aw, ah) = Aspects[r.Next(Aspects.Length)];
            var (big, small) = aw >= ah ? (aw, ah) : (ah, aw);
            var shortSide = Math.Max(1, (int)Math.Round((double)longSide * small / big));
            var landscape = r.NextDouble() < 0.6;
            var (width, height) = landscape ? (longSide, shortSide) : (shortSide, longSide);
            var roll = r.NextDouble();
            var format = Formats[roll < 0.65 ? 0 : roll < 0.90 ? 1 : 2];
            var bpp = format.BytesPerPixelLo + (r.NextDouble() * (format.BytesPerPixelHi - format.BytesPerPixelLo));
            var size = 8_000 + (long)(width * (long)height * bpp);

            var sidecar = new MediaSidecar
            {
                Id = id,
                Revision = 1,
                Original = new OriginalInfo
                {
                    Ext = format.Ext,
                    MediaType = format.MediaType,
                    Size = size,
                    Width = width,
                    Height = height,
                    OriginalName = $"IMG_{_next:D7}.{format.Ext}",
                },
                Uploader = "bench",
                CreatedAt = created,
                UpdatedAt = created,
            };

            // About perMedia distinct tags (±20 %), Zipf over the vocabulary.
            var spread = Math.Max(0, _perMedia / 5);
            var want = Math.Min(_tagNames.Length, Math.Max(1, _perMedia - spread + r.Next((2 * spread) + 1)));
            _picked.Clear();
            while (_picked.Count < want)
            {
                _picked.Add(Sample(_tagZipf, r));
            }

            foreach (var t in _picked)
            {
                sidecar.Tags.Add(new TagEntry { Name = _tagNames[t], AddedAt = created, AddedBy = "bench", Source = TagSources.Import });
            }

            // 95 % have one short caption: 5-12 words, Zipf over the caption vocabulary.
            if (r.NextDouble() < 0.95)
            {
                var words = 5 + r.Next(8);
                var text = new StringBuilder();
                for (var w = 0; w < words; w++)
                {
                    if (w > 0)
                    {
                        text.Append(' ');
                    }

                    text.Append(_words[Sample(_wordZipf, r)]);
                }

                sidecar.Captions.Add(new CaptionEntry { Id = 1, Text = text.ToString(), Primary = true, Source = CaptionSources.Import, CreatedAt = created, CreatedBy = "bench" });
            }

            // 3 % in the trash.
            var inTrash = r.NextDouble() < 0.03;
            if (inTrash)
            {
                sidecar.Deleted = new DeletionInfo { At = created.AddDays(1), By = "bench" };
            }

            return (sidecar, inTrash);
        }
    }
}
