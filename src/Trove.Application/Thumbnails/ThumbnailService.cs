using Trove.Domain;
using Trove.Library;

namespace Trove.Application.Thumbnails;

public sealed record ThumbnailFile(string MediaId, int Size, string Path, string MediaType, bool Created);

/// <summary>Cached thumbnails (cache/thumbs/SIZE/): made at import for the grid size, on first request for the others.</summary>
public sealed class ThumbnailService(TroveLibrary library)
{
    public async Task<ThumbnailFile> GetAsync(string idOrPrefix, int size, CancellationToken ct)
    {
        var settings = library.Options.Imaging;
        if (!settings.ThumbnailSizes.Contains(size))
        {
            throw new TroveUsageException("bad-size", $"Thumbnail size {size} is not offered; the sizes are {string.Join(", ", settings.ThumbnailSizes)}.");
        }

        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        var path = library.Layout.ThumbnailPath(id, size, Ports.ImageFormats.Extension(settings.ThumbnailFormat));
        if (File.Exists(path))
        {
            return new ThumbnailFile(id, size, path, Ports.ImageFormats.MediaType(settings.ThumbnailFormat), Created: false);
        }

        var stored = library.Files.ReadSidecar(id);
        var original = library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash);
        var thumb = library.Imaging.Thumbnail(original, size, settings.ThumbnailFormat, settings.Limits, ct);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, thumb.Data, Durability.Fast);
        return new ThumbnailFile(id, size, path, thumb.MediaType, Created: true);
    }
}
