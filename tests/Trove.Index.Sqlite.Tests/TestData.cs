using System.Security.Cryptography;
using System.Text;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;

namespace Trove.Index.Sqlite.Tests;

/// <summary>Media ids, sidecars and stamps for the SQLite-specific tests.</summary>
internal static class TestData
{
    public static readonly DateTimeOffset T0 = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static string IdOf(int n) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("media-" + n)));

    public static MediaSidecar Sidecar(int n, params string[] tags) => new()
    {
        Id = IdOf(n),
        Revision = 1,
        Original = new OriginalInfo { Ext = "jpg", MediaType = "image/jpeg", Size = 1000 },
        CreatedAt = T0,
        UpdatedAt = T0,
        Tags = [.. tags.Select(t => new TagEntry { Name = t, AddedAt = T0 })],
    };

    public static FileStamp Stamp(MediaSidecar sidecar) => new(100, T0.UtcTicks, sidecar.Id[..32]);

    public static async Task UpsertAsync(ILibraryIndex index, params MediaSidecar[] sidecars)
    {
        await using var tx = await index.BeginAsync(CancellationToken.None);
        foreach (var sidecar in sidecars)
        {
            await tx.UpsertMediaAsync(sidecar, false, Stamp(sidecar), CancellationToken.None);
        }

        await tx.CommitAsync(CancellationToken.None);
    }
}
