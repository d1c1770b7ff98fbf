using Trove.Domain;

namespace Trove.Application.Masks;

public sealed record MaskView(string Id, string Category, int? Width, int? Height, string Path);

public sealed record MaskListing(string ImageId, IReadOnlyList<MaskView> Masks);

/// <summary>Masks are media of kind "mask" with a mask-of relation to their image (import them with --mask-of).</summary>
public sealed class MaskService(TroveLibrary library)
{
    public async Task<MaskListing> ListAsync(string idOrPrefix, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        return new MaskListing(id, await MasksOfAsync(library, id, ct).ConfigureAwait(false));
    }

    internal static async Task<IReadOnlyList<MaskView>> MasksOfAsync(TroveLibrary library, string imageId, CancellationToken ct)
    {
        var result = new List<MaskView>();
        foreach (var maskId in await library.Index.ReferencingAsync(imageId, RelationTypes.MaskOf, ct).ConfigureAwait(false))
        {
            var stored = library.Files.TryReadSidecar(maskId);
            if (stored is null || stored.InTrash || stored.Sidecar.Kind != MediaKinds.Mask)
            {
                continue;
            }

            var s = stored.Sidecar;
            result.Add(new MaskView(maskId, s.Mask?.Category ?? "mask", s.Original.Width, s.Original.Height, library.Layout.OriginalPath(maskId, s.Original.Ext)));
        }

        return result.OrderBy(m => m.Category, StringComparer.Ordinal).ThenBy(m => m.Id, StringComparer.Ordinal).ToList();
    }
}
