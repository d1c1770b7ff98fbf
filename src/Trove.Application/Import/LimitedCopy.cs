using System.Buffers;

namespace Trove.Application.Import;

/// <summary>
/// Copies a stream while counting bytes, and stops as soon as the source delivers more than a limit. Sizes
/// in archive headers are claims; this is how they are enforced.
/// </summary>
internal static class LimitedCopy
{
    private const int BufferSize = 1 << 16;

    /// <summary>
    /// Copies at most <paramref name="limit"/> bytes; throws <see cref="SizeLimitExceededException"/> if the
    /// source has more. Errors writing <paramref name="destination"/> surface as <see cref="StagingWriteException"/>
    /// so that callers can tell a damaged source from a full disk.
    /// </summary>
    public static long Copy(Stream source, Stream destination, long limit, Crc32? crc, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var read = source.Read(buffer, 0, NextChunk(total, limit));
                if (read == 0)
                {
                    return total;
                }

                total += read;
                if (total > limit)
                {
                    throw new SizeLimitExceededException(limit);
                }

                crc?.Append(buffer.AsSpan(0, read));
                try
                {
                    destination.Write(buffer, 0, read);
                }
                catch (IOException ex)
                {
                    throw new StagingWriteException(ex);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads a whole (small) stream, refusing more than <paramref name="limit"/> bytes.</summary>
    public static byte[] ReadAll(Stream source, long limit, string displayPath)
    {
        using var memory = new MemoryStream();
        try
        {
            Copy(source, memory, limit, null, CancellationToken.None);
        }
        catch (SizeLimitExceededException)
        {
            throw new InvalidDataException($"{displayPath} is larger than the {limit:N0} bytes allowed for a metadata file");
        }

        return memory.ToArray();
    }

    // Ask for one byte more than the limit allows, so that a source that is exactly at the limit ends
    // cleanly and one that goes past it is caught without reading a whole extra buffer.
    private static int NextChunk(long total, long limit) => (int)Math.Clamp(limit - total + 1, 1, BufferSize);
}

/// <summary>The source delivered more bytes than allowed.</summary>
internal sealed class SizeLimitExceededException(long limit)
    : IOException($"more than {limit:N0} bytes")
{
    public long Limit { get; } = limit;
}

/// <summary>Writing the extracted copy failed (disk full, permissions): a problem of this machine, not of the source.</summary>
internal sealed class StagingWriteException(IOException inner)
    : IOException($"cannot write to the staging folder: {inner.Message}", inner);
