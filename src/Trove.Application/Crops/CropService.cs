using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application.Crops;

public sealed record CropListing(string Id, int? Width, int? Height, IReadOnlyList<CropEntry> Crops);

/// <summary>A rendered crop in the cache (safe to delete; rendered again on demand).</summary>
public sealed record RenderedCrop(string MediaId, string Crop, string Path, int Width, int Height, string MediaType);

/// <summary>
/// Crops are stored rectangles (in the image as people see it, i.e. after EXIF orientation), rendered on demand and cached
/// under cache/crops/. The original is never changed.
/// </summary>
public sealed class CropService(TroveLibrary library)
{
    public const int MaxNameLength = 64;

    public static PixelRect ParseRect(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 4)
        {
            throw new TroveUsageException("bad-rect", $"--rect '{text}' must be four numbers X,Y,W,H (e.g. 10,20,300,400).");
        }

        var names = new[] { "X", "Y", "W", "H" };
        var values = new int[4];
        for (var i = 0; i < 4; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new TroveUsageException("bad-rect", $"--rect '{text}': {names[i]} is '{parts[i]}', not a whole number ≥ 0.");
            }
        }

        var rect = new PixelRect(values[0], values[1], values[2], values[3]);
        Validate(rect);
        return rect;
    }

    /// <summary>A rectangle starts at or after the top-left corner and is at least one pixel wide and high.</summary>
    public static void Validate(PixelRect rect)
    {
        if (rect.X < 0 || rect.Y < 0)
        {
            throw new TroveUsageException("bad-rect", $"Crop {rect.X},{rect.Y},{rect.W},{rect.H}: X and Y must be 0 or more.");
        }

        if (rect.W < 1 || rect.H < 1)
        {
            throw new TroveUsageException("bad-rect", $"Crop {rect.X},{rect.Y},{rect.W},{rect.H}: width and height must be at least 1.");
        }
    }

    public static string NormalizeName(string raw)
    {
        var name = raw.Trim().ToLowerInvariant().Replace(' ', '_');
        if (name.Length == 0 || name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw new TroveUsageException("bad-crop-name", $"Crop name '{raw}' must be 1–{MaxNameLength} letters, digits, '_' or '-'.");
        }

        return name;
    }

    /// <summary>Adds (or with <paramref name="replace"/>, redefines) a named crop, checked against the image's bounds.</summary>
    public async Task<CropListing> AddAsync(string idOrPrefix, string name, PixelRect rect, bool replace, CancellationToken ct)
    {
        var cropName = NormalizeName(name);
        Validate(rect);
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = session.Read(id);
        var sidecar = stored.Sidecar;
        var (width, height) = EnsureSize(sidecar, stored.InTrash, ct);
        if ((long)rect.X + rect.W > width || (long)rect.Y + rect.H > height)
        {
            throw new TroveUsageException(
                "crop-out-of-bounds",
                $"Crop {rect.X},{rect.Y},{rect.W},{rect.H} reaches {(long)rect.X + rect.W},{(long)rect.Y + rect.H}, outside the {width}×{height} image {id[..12]}.",
                $"X+W must be ≤ {width} and Y+H ≤ {height}.");
        }

        var existing = sidecar.Crops.Find(c => c.Name == cropName);
        if (existing is not null && !replace)
        {
            throw new TroveUsageException("crop-exists", $"Media {id[..12]} already has a crop named '{cropName}'.", "Use --replace to redefine it, or 'trove crop remove' first.");
        }

        if (existing is not null)
        {
            sidecar.Crops.Remove(existing);
        }

        sidecar.Crops.Add(new CropEntry { Name = cropName, X = rect.X, Y = rect.Y, W = rect.W, H = rect.H, CreatedAt = session.Now, CreatedBy = library.Actor });
        await session.SaveAsync(sidecar, stored.InTrash, ct).ConfigureAwait(false);
        session.Audit(existing is null ? "crop.add" : "crop.replace", id, $"{cropName} {rect.X},{rect.Y},{rect.W},{rect.H}");
        return new CropListing(id, width, height, sidecar.Crops);
    }

    public async Task<CropListing> RemoveAsync(string idOrPrefix, string name, CancellationToken ct)
    {
        var cropName = NormalizeName(name);
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = session.Read(id);
        var sidecar = stored.Sidecar;
        if (sidecar.Crops.RemoveAll(c => c.Name == cropName) == 0)
        {
            throw new TroveUsageException("crop-not-found", $"Media {id[..12]} has no crop named '{cropName}'" + Existing(sidecar), $"List them with 'trove crop list {id[..12]}'.");
        }

        await session.SaveAsync(sidecar, stored.InTrash, ct).ConfigureAwait(false);
        session.Audit("crop.remove", id, cropName);
        return new CropListing(id, sidecar.Original.Width, sidecar.Original.Height, sidecar.Crops);
    }

    public async Task<CropListing> ListAsync(string idOrPrefix, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        var sidecar = library.Files.ReadSidecar(id).Sidecar;
        return new CropListing(id, sidecar.Original.Width, sidecar.Original.Height, sidecar.Crops);
    }

    /// <summary>Renders a crop (optionally limited to <paramref name="maxSize"/> on its longest side) into the cache and returns the file.</summary>
    public async Task<RenderedCrop> RenderAsync(string idOrPrefix, string name, int? maxSize, ImageFormat format, CancellationToken ct)
    {
        var cropName = NormalizeName(name);
        if (maxSize is < 1)
        {
            throw new TroveUsageException("bad-size", $"--size {maxSize} must be at least 1 (pixels on the longest side).");
        }

        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        var stored = library.Files.ReadSidecar(id);
        var crop = stored.Sidecar.Crops.Find(c => c.Name == cropName)
            ?? throw new TroveUsageException("crop-not-found", $"Media {id[..12]} has no crop named '{cropName}'" + Existing(stored.Sidecar), $"List them with 'trove crop list {id[..12]}'.");
        var original = library.Layout.OriginalPath(id, stored.Sidecar.Original.Ext, stored.InTrash);
        var rendered = Render(library, id, original, new PixelRect(crop.X, crop.Y, crop.W, crop.H), maxSize, format, quality: 92, ct);
        return rendered with { Crop = cropName };
    }

    /// <summary>Renders a rectangle of an original through the cache (key: rectangle, size, format).</summary>
    internal static RenderedCrop Render(TroveLibrary library, string id, string originalPath, PixelRect rect, int? maxSize, ImageFormat format, int quality, CancellationToken ct)
    {
        var ext = ImageFormats.Extension(format);
        var keyText = string.Create(CultureInfo.InvariantCulture, $"{rect.X},{rect.Y},{rect.W},{rect.H},{maxSize},{format},{quality}");
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(keyText)))[..16];
        var path = library.Layout.CropRenderPath(id, key, ext);
        var mediaType = ImageFormats.MediaType(format);
        var (w, h) = Fit(rect.W, rect.H, maxSize);
        if (File.Exists(path))
        {
            return new RenderedCrop(id, string.Empty, path, w, h, mediaType);
        }

        var image = library.Imaging.Render(originalPath, new RenderRequest(rect, maxSize, format, quality, library.Options.Imaging.Limits), ct);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, image.Data, Durability.Fast);
        return new RenderedCrop(id, string.Empty, path, image.Width, image.Height, mediaType);
    }

    internal static (int W, int H) Fit(int w, int h, int? maxSize)
    {
        if (maxSize is not { } max || Math.Max(w, h) <= max)
        {
            return (w, h);
        }

        var scale = (double)max / Math.Max(w, h);
        return (Math.Max(1, (int)Math.Round(w * scale)), Math.Max(1, (int)Math.Round(h * scale)));
    }

    /// <summary>The displayed size of a media, probing the original when the sidecar predates probing.</summary>
    private (int Width, int Height) EnsureSize(MediaSidecar sidecar, bool inTrash, CancellationToken ct)
    {
        if (sidecar.Original is { Width: { } w, Height: { } h })
        {
            return (w, h);
        }

        if (!library.Imaging.Status.Available)
        {
            throw new TroveException("imaging-unavailable", $"The size of {sidecar.Id[..12]} is not known yet, so the crop cannot be checked. {library.Imaging.Status.Message}");
        }

        var info = library.Imaging.Probe(library.Layout.OriginalPath(sidecar.Id, sidecar.Original.Ext, inTrash), library.Options.Imaging.Limits, ct);
        sidecar.Original.Width = info.DisplayWidth;
        sidecar.Original.Height = info.DisplayHeight;
        sidecar.Original.Format ??= info.Format;
        return (info.DisplayWidth, info.DisplayHeight);
    }

    private static string Existing(MediaSidecar sidecar) =>
        sidecar.Crops.Count == 0 ? " (it has none)." : $" (it has {string.Join(", ", sidecar.Crops.Select(c => c.Name))}).";
}
