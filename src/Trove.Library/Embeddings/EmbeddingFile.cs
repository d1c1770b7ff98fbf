using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Trove.Domain;

namespace Trove.Library.Embeddings;

/// <summary>One media's embedding as stored: the media id (its SHA-256) and the vector.</summary>
public sealed record EmbeddingRecord(string Id, float[] Vector);

/// <summary>Where a scan ended (the next one starts there) and the checksum of the last record it passed.</summary>
public sealed record EmbeddingScan(long End, uint LastChecksum, IReadOnlyList<EmbeddingFileProblem> Problems);

/// <summary>A problem found reading an embedding file (the records around it are still read).</summary>
public sealed record EmbeddingFileProblem(string Type, long Offset, string Message);

/// <summary>What an embedding file holds: the newest vector of each media, and what was wrong with the file.</summary>
public sealed record EmbeddingSet(string Reference, int Dimensions, IReadOnlyDictionary<string, float[]> Vectors, long Records, IReadOnlyList<EmbeddingFileProblem> Problems)
{
    /// <summary>Records that were superseded by a newer one of the same media (what compaction would drop).</summary>
    public long Superseded => Records - Vectors.Count;
}

/// <summary>
/// The file that keeps one embedder version's vectors (docs/library-format.md, "Embeddings"): derived data that a rebuild
/// of the index does not recompute, and that costs only recomputation when deleted. Layout (little-endian):
/// <list type="bullet">
/// <item>a header: magic <c>TROVEEMB</c>, format 1, element type 1 (float16), the dimension, the model reference
/// (<c>ID@VERSION</c>, UTF-8) and a CRC-32 of the header, so a file renamed or copied under another model is refused;</item>
/// <item>fixed-size records: the 32-byte media id, the vector as float16, and a CRC-32 of both.</item>
/// </list>
/// Appends add whole records at the end and are flushed before they count; a record torn by a crash (short, or failing
/// its CRC) is reported and skipped when read, and cut off by the next append. The same media appended again
/// supersedes its earlier record. <see cref="Compact"/> rewrites the newest records of the media to keep into a
/// temporary file and renames it over the old one, so a crash leaves either file, never a mix.
/// Writers hold the library write lock; readers may read at any time (they see whole records only).
/// </summary>
public static class EmbeddingFile
{
    public const string Extension = ".vec";
    private const int FormatVersion = 1;
    private const byte Float16 = 1;
    private const int IdBytes = 32;
    private const int MaxReferenceBytes = 1024;
    private static ReadOnlySpan<byte> Magic => "TROVEEMB"u8;

    /// <summary>Bytes of one record of <paramref name="dimensions"/>.</summary>
    public static int RecordBytes(int dimensions) => IdBytes + (2 * dimensions) + 4;

    /// <summary>Reads every whole, intact record; a missing file is an empty set.</summary>
    /// <exception cref="TroveException">embeddings-invalid: the header is not an embedding file of this model reference and dimension.</exception>
    public static EmbeddingSet Read(string path, string reference, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(path);
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        long records = 0;
        var scan = Scan(path, reference, dimensions, 0, (id, vector) =>
        {
            vectors[id] = vector;
            records++;
        });
        return new EmbeddingSet(reference, dimensions, vectors, records, scan.Problems);
    }

    /// <summary>
    /// Streams the intact records from byte <paramref name="from"/> (0 = the first record) to the end, without holding
    /// them all: for readers that keep the vectors elsewhere and later read what was appended since
    /// (<see cref="EmbeddingScan.End"/>, where the next scan starts). A missing file has nothing to scan.
    /// </summary>
    public static EmbeddingScan Scan(string path, string reference, int dimensions, long from, Action<string, float[]> record)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(record);
        var problems = new List<EmbeddingFileProblem>();
        if (!File.Exists(path))
        {
            return new EmbeddingScan(0, 0, problems);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        var start = ReadHeader(stream, path, reference, dimensions);
        var size = RecordBytes(dimensions);
        var offset = Math.Max(start, from);
        if (offset > stream.Length)
        {
            throw new TroveException("embeddings-invalid", $"{path} is shorter ({stream.Length} bytes) than what was read of it before ({offset}); it was replaced.");
        }

        stream.Position = offset;
        var buffer = new byte[size];
        uint last = 0;
        while (true)
        {
            var read = stream.ReadAtLeast(buffer, size, throwOnEndOfStream: false);
            if (read == 0)
            {
                break;
            }

            if (read < size)
            {
                problems.Add(new EmbeddingFileProblem("embeddings-torn-record", offset, $"{path}: {read} bytes at offset {offset} are the start of a record that was never finished (a crash while appending); they are ignored."));
                break;
            }

            var crc = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(size - 4));
            if (Crc32.HashToUInt32(buffer.AsSpan(0, size - 4)) != crc)
            {
                problems.Add(new EmbeddingFileProblem("embeddings-bad-record", offset, $"{path}: the record at offset {offset} fails its checksum; it is ignored (the media will be embedded again)."));
            }
            else
            {
                var vector = new float[dimensions];
                for (var i = 0; i < dimensions; i++)
                {
                    vector[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(buffer.AsSpan(IdBytes + (2 * i)));
                }

                record(Convert.ToHexStringLower(buffer, 0, IdBytes), vector);
            }

            last = crc;
            offset += size;
        }

        return new EmbeddingScan(offset, last, problems);
    }

    /// <summary>
    /// The checksum stored in the record that ends at byte <paramref name="end"/>, or null when there is none: a reader
    /// that scanned up to <paramref name="end"/> checks it before scanning on, to see that the file is still the one it
    /// read (compaction writes a new file).
    /// </summary>
    public static uint? ChecksumBefore(string path, int dimensions, long end)
    {
        var size = RecordBytes(dimensions);
        if (!File.Exists(path) || end < size)
        {
            return null;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 16);
        if (stream.Length < end)
        {
            return null;
        }

        Span<byte> crc = stackalloc byte[4];
        stream.Position = end - 4;
        return stream.ReadAtLeast(crc, 4, throwOnEndOfStream: false) == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(crc) : null;
    }

    /// <summary>
    /// Appends records (creating the file with its header when missing), after cutting off a torn record a crash left at
    /// the end. Durable: flushed to disk before it returns.
    /// </summary>
    public static void Append(string path, string reference, int dimensions, IReadOnlyList<EmbeddingRecord> records, Durability durability)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(records);
        var size = RecordBytes(dimensions);
        var payload = new byte[checked(size * records.Count)];
        for (var r = 0; r < records.Count; r++)
        {
            Encode(records[r], dimensions, payload.AsSpan(r * size, size));
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var created = !File.Exists(path);
        using (var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, 1 << 16))
        {
            long start;
            if (stream.Length == 0)
            {
                stream.Write(Header(reference, dimensions));
                start = stream.Length;
            }
            else
            {
                start = ReadHeader(stream, path, reference, dimensions);
            }

            var whole = start + ((stream.Length - start) / size * size);
            if (whole != stream.Length)
            {
                stream.SetLength(whole);
            }

            stream.Seek(whole, SeekOrigin.Begin);
            stream.Write(payload);
            stream.Flush(flushToDisk: durability == Durability.Durable);
        }

        if (created && durability == Durability.Durable)
        {
            NativeFileSystem.FsyncDirectory(Path.GetDirectoryName(path)!);
        }
    }

    /// <summary>
    /// Rewrites the file with only the newest record of each media <paramref name="keep"/> accepts (media that left the
    /// library, superseded and damaged records go), atomically. Answers how many records remain; a missing file stays missing.
    /// </summary>
    public static int Compact(string path, string reference, int dimensions, Func<string, bool> keep, Durability durability)
    {
        ArgumentNullException.ThrowIfNull(keep);
        if (!File.Exists(path))
        {
            return 0;
        }

        var set = Read(path, reference, dimensions);
        var size = RecordBytes(dimensions);
        var kept = set.Vectors.Where(v => keep(v.Key)).OrderBy(v => v.Key, StringComparer.Ordinal).ToList();
        var header = Header(reference, dimensions);
        var data = new byte[checked(header.Length + (size * kept.Count))];
        header.CopyTo(data, 0);
        for (var i = 0; i < kept.Count; i++)
        {
            Encode(new EmbeddingRecord(kept[i].Key, kept[i].Value), dimensions, data.AsSpan(header.Length + (i * size), size));
        }

        AtomicFile.WriteAllBytes(path, data, durability);
        return kept.Count;
    }

    private static void Encode(EmbeddingRecord record, int dimensions, Span<byte> target)
    {
        if (record.Vector.Length != dimensions)
        {
            throw new ArgumentException($"The embedding of {record.Id} has {record.Vector.Length} dimensions, not {dimensions}.", nameof(record));
        }

        if (!MediaId.IsValid(record.Id) || Convert.FromHexString(record.Id) is not { Length: IdBytes } id)
        {
            throw new ArgumentException($"'{record.Id}' is not a media id.", nameof(record));
        }

        id.CopyTo(target);
        for (var i = 0; i < dimensions; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(target[(IdBytes + (2 * i))..], (Half)record.Vector[i]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(target[^4..], Crc32.HashToUInt32(target[..^4]));
    }

    private static byte[] Header(string reference, int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        var name = Encoding.UTF8.GetBytes(reference);
        if (name.Length > MaxReferenceBytes)
        {
            throw new ArgumentException("The model reference is too long for an embedding file.", nameof(reference));
        }

        var header = new byte[Magic.Length + 2 + 1 + 1 + 4 + 2 + name.Length + 4];
        var span = header.AsSpan();
        Magic.CopyTo(span);
        var at = Magic.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], FormatVersion);
        span[at + 2] = Float16;
        BinaryPrimitives.WriteInt32LittleEndian(span[(at + 4)..], dimensions);
        BinaryPrimitives.WriteUInt16LittleEndian(span[(at + 8)..], (ushort)name.Length);
        name.CopyTo(span[(at + 10)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[^4..], Crc32.HashToUInt32(span[..^4]));
        return header;
    }

    /// <summary>Checks the header against what the caller expects; answers where the records start.</summary>
    /// <summary>The dimension the file's header declares (for readers that do not know it, e.g. <c>trove check</c>).</summary>
    /// <exception cref="TroveException">embeddings-invalid: no readable header.</exception>
    public static int ReadDimensions(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64);
        var fixedPart = new byte[Magic.Length + 10];
        if (stream.ReadAtLeast(fixedPart, fixedPart.Length, throwOnEndOfStream: false) < fixedPart.Length || !fixedPart.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw Invalid(path, "it does not start with an embedding file header");
        }

        return BinaryPrimitives.ReadInt32LittleEndian(fixedPart.AsSpan(Magic.Length + 4));
    }

    private static long ReadHeader(Stream stream, string path, string reference, int dimensions)
    {
        stream.Seek(0, SeekOrigin.Begin);
        var fixedPart = new byte[Magic.Length + 10];
        if (stream.ReadAtLeast(fixedPart, fixedPart.Length, throwOnEndOfStream: false) < fixedPart.Length || !fixedPart.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw Invalid(path, "it does not start with an embedding file header");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart.AsSpan(Magic.Length));
        if (version != FormatVersion || fixedPart[Magic.Length + 2] != Float16)
        {
            throw Invalid(path, $"it is format {version} (element type {fixedPart[Magic.Length + 2]}); this Trove reads format {FormatVersion} (float16)");
        }

        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart.AsSpan(Magic.Length + 8));
        var rest = new byte[nameLength + 4];
        if (nameLength > MaxReferenceBytes || stream.ReadAtLeast(rest, rest.Length, throwOnEndOfStream: false) < rest.Length)
        {
            throw Invalid(path, "its header is cut short");
        }

        var whole = fixedPart.Concat(rest.AsSpan(0, nameLength).ToArray()).ToArray();
        if (Crc32.HashToUInt32(whole) != BinaryPrimitives.ReadUInt32LittleEndian(rest.AsSpan(nameLength)))
        {
            throw Invalid(path, "its header fails its checksum");
        }

        var storedDimensions = BinaryPrimitives.ReadInt32LittleEndian(fixedPart.AsSpan(Magic.Length + 4));
        var storedReference = Encoding.UTF8.GetString(rest, 0, nameLength);
        if (storedReference != reference || storedDimensions != dimensions)
        {
            throw Invalid(path, $"it holds {storedDimensions}-d embeddings of {storedReference}, not {dimensions}-d of {reference}");
        }

        return whole.Length + 4;
    }

    private static TroveException Invalid(string path, string why) => new(
        "embeddings-invalid",
        $"{path} is not usable: {why}.",
        "Embeddings are derived data: delete the file and run 'trove embed \"\"' to compute them again.");
}
