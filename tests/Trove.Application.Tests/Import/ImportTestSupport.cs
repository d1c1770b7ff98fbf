using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Trove.Application.Tests.Import;

/// <summary>One entry of a test ZIP archive.</summary>
public sealed record ZipEntrySpec(string Name, byte[] Content)
{
    public CompressionLevel Level { get; init; } = CompressionLevel.Optimal;

    public int? ExternalAttributes { get; init; }

    public DateTimeOffset? LastWriteTime { get; init; }

    public static ZipEntrySpec Text(string name, string text) => new(name, Encoding.UTF8.GetBytes(text));

    public static ZipEntrySpec Folder(string name) => new(name, []);
}

/// <summary>Writes ZIP archives for tests, including hostile ones (patched headers).</summary>
public static class TestZips
{
    public static byte[] Build(params ZipEntrySpec[] entries)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var spec in entries)
            {
                var entry = zip.CreateEntry(spec.Name, spec.Level);
                if (spec.ExternalAttributes is { } attributes)
                {
                    entry.ExternalAttributes = attributes;
                }

                if (spec.LastWriteTime is { } time)
                {
                    entry.LastWriteTime = time;
                }

                if (!spec.Name.EndsWith('/'))
                {
                    using var stream = entry.Open();
                    stream.Write(spec.Content);
                }
            }
        }

        return memory.ToArray();
    }

    /// <summary>Makes the local and central headers of <paramref name="entryName"/> claim another uncompressed size.</summary>
    public static void PatchUncompressedSize(byte[] zip, string entryName, uint size)
    {
        foreach (var (offset, central) in Headers(zip, entryName))
        {
            BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(offset + (central ? 24 : 22)), size);
        }
    }

    /// <summary>Sets the "encrypted" bit of the general-purpose flags of <paramref name="entryName"/>.</summary>
    public static void MarkEncrypted(byte[] zip, string entryName)
    {
        foreach (var (offset, central) in Headers(zip, entryName))
        {
            zip[offset + (central ? 8 : 6)] |= 1;
        }
    }

    private static List<(int Offset, bool Central)> Headers(byte[] zip, string entryName)
    {
        var name = Encoding.UTF8.GetBytes(entryName);
        var found = new List<(int, bool)>();
        for (var i = 0; i + 46 < zip.Length; i++)
        {
            var signature = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i));
            if (signature == 0x04034B50 && zip.AsSpan(i + 30, name.Length).SequenceEqual(name) && BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(i + 26)) == name.Length)
            {
                found.Add((i, false));
            }
            else if (signature == 0x02014B50 && zip.AsSpan(i + 46, name.Length).SequenceEqual(name) && BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(i + 28)) == name.Length)
            {
                found.Add((i, true));
            }
        }

        Assert.Equal(2, found.Count);
        return found;
    }
}

/// <summary>
/// JPEG files with real embedded metadata: a tiny valid baseline JPEG (8×8 black, made once with
/// <c>vips black x.jpg[strip] 8 8</c>) with APP1 Exif, APP1 XMP and APP13 Photoshop/IPTC segments spliced in
/// after SOI.
/// </summary>
public static class TestJpegs
{
    public static readonly byte[] Plain = Convert.FromBase64String(
        "/9j/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAAIAAgBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APn+v//Z");

    /// <summary><see cref="Plain"/> with <paramref name="segments"/> inserted right after SOI.</summary>
    public static byte[] With(params byte[][] segments)
    {
        var output = new List<byte>(Plain[..2]);
        foreach (var segment in segments)
        {
            output.AddRange(segment);
        }

        output.AddRange(Plain[2..]);
        return [.. output];
    }

    public static byte[] Segment(byte marker, byte[] payload)
    {
        Assert.True(payload.Length + 2 <= ushort.MaxValue);
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = marker;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return segment;
    }

    /// <summary>APP1 "Exif": a little-endian TIFF with IFD0 entries and an Exif sub-IFD.</summary>
    public static byte[] Exif(IReadOnlyList<TiffEntry> ifd0, IReadOnlyList<TiffEntry> exifIfd) =>
        Segment(0xE1, [.. "Exif\0\0"u8, .. Tiff(ifd0, exifIfd)]);

    /// <summary>APP1 XMP: "http://ns.adobe.com/xap/1.0/\0" followed by the packet.</summary>
    public static byte[] Xmp(string packet) =>
        Segment(0xE1, [.. "http://ns.adobe.com/xap/1.0/\0"u8, .. Encoding.UTF8.GetBytes(packet)]);

    /// <summary>APP13 "Photoshop 3.0" with one 8BIM IPTC-NAA resource (0x0404) holding the records (UTF-8 declared by 1:90).</summary>
    public static byte[] Iptc(params (byte Record, byte DataSet, string Value)[] records)
    {
        var iptc = new List<byte>();
        void Add(byte record, byte dataSet, byte[] value)
        {
            iptc.AddRange([0x1C, record, dataSet, (byte)(value.Length >> 8), (byte)value.Length]);
            iptc.AddRange(value);
        }

        Add(1, 90, [0x1B, 0x25, 0x47]); // coded character set: UTF-8
        foreach (var (record, dataSet, value) in records)
        {
            Add(record, dataSet, Encoding.UTF8.GetBytes(value));
        }

        var resource = new List<byte>();
        resource.AddRange("8BIM"u8.ToArray());
        resource.AddRange([0x04, 0x04]); // IPTC-NAA
        resource.AddRange([0x00, 0x00]); // empty Pascal name, padded to even
        var size = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, iptc.Count);
        resource.AddRange(size);
        resource.AddRange(iptc);
        if (iptc.Count % 2 == 1)
        {
            resource.Add(0);
        }

        return Segment(0xED, [.. "Photoshop 3.0\0"u8, .. resource]);
    }

    public static TiffEntry Ascii(ushort tag, string value) => new(tag, 2, [.. Encoding.ASCII.GetBytes(value), 0], value.Length + 1);

    public static TiffEntry Short(ushort tag, ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return new(tag, 3, bytes, 1);
    }

    /// <summary>Windows XP* tags: UTF-16LE text as BYTE values.</summary>
    public static TiffEntry WindowsText(ushort tag, string value)
    {
        byte[] bytes = [.. Encoding.Unicode.GetBytes(value), 0, 0];
        return new(tag, 1, bytes, bytes.Length);
    }

    private static byte[] Tiff(IReadOnlyList<TiffEntry> ifd0, IReadOnlyList<TiffEntry> exifIfd)
    {
        const ushort ExifPointer = 0x8769;
        var main = ifd0.Append(new TiffEntry(ExifPointer, 4, new byte[4], 1)).OrderBy(e => e.Tag).ToList();
        var sub = exifIfd.OrderBy(e => e.Tag).ToList();
        var ifd0Offset = 8;
        var exifOffset = ifd0Offset + IfdSize(main.Count);
        var dataOffset = exifOffset + IfdSize(sub.Count);

        var data = new List<byte>();
        var output = new List<byte> { (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0 };
        void WriteIfd(List<TiffEntry> entries)
        {
            output.AddRange(LittleEndian16((ushort)entries.Count));
            foreach (var entry in entries)
            {
                output.AddRange(LittleEndian16(entry.Tag));
                output.AddRange(LittleEndian16(entry.Type));
                output.AddRange(LittleEndian32((uint)entry.Count));
                var value = entry.Tag == ExifPointer ? LittleEndian32((uint)exifOffset) : entry.Value;
                if (value.Length <= 4)
                {
                    output.AddRange(value);
                    output.AddRange(new byte[4 - value.Length]);
                }
                else
                {
                    if (data.Count % 2 == 1)
                    {
                        data.Add(0);
                    }

                    output.AddRange(LittleEndian32((uint)(dataOffset + data.Count)));
                    data.AddRange(value);
                }
            }

            output.AddRange(LittleEndian32(0)); // no next IFD
        }

        WriteIfd(main);
        WriteIfd(sub);
        output.AddRange(data);
        return [.. output];
    }

    private static int IfdSize(int entries) => 2 + (12 * entries) + 4;

    private static byte[] LittleEndian16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] LittleEndian32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }
}

/// <summary>One TIFF/EXIF IFD entry: tag, TIFF type (1 BYTE, 2 ASCII, 3 SHORT, 4 LONG), count and raw little-endian value bytes.</summary>
public sealed record TiffEntry(ushort Tag, ushort Type, byte[] Value, int Count);
