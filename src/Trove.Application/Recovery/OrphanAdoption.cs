using Trove.Application.Import;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application.Recovery;

/// <summary>Orphan originals (an import or purge interrupted between the original and its sidecar) are kept, never deleted.</summary>
internal static class OrphanAdoption
{
    /// <summary>Gives an orphan original a fresh sidecar (nothing people entered is known for it).</summary>
    public static async Task<bool> AdoptAsync(WriteSession session, string id, MediaFileEntry orphan, CancellationToken ct)
    {
        var head = new byte[MediaTypes.SniffLength];
        int read;
        await using (var stream = File.OpenRead(orphan.Path))
        {
            read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        }

        var detected = MediaTypes.Sniff(head.AsSpan(0, read));
        var ext = Path.GetExtension(orphan.FileName).TrimStart('.').ToLowerInvariant();
        var sidecar = new MediaSidecar
        {
            Id = id,
            Original = new OriginalInfo { Ext = ext, MediaType = detected?.MediaType ?? MediaTypes.FromExtension(ext), Size = orphan.Size },
            Uploader = session.Library.Actor,
            CreatedAt = session.Now,
            UpdatedAt = session.Now,
        };
        if (orphan.InTrash)
        {
            sidecar.Deleted = new DeletionInfo { At = session.Now, By = session.Library.Actor };
        }

        if (session.Library.Imaging.Status.Available)
        {
            try
            {
                var analysis = ImageFacts.Analyze(session.Library, orphan.Path, ct);
                ImageFacts.Apply(sidecar.Original, analysis);
                ImageFacts.WriteThumbnail(session.Library, id, analysis.Thumbnail);
            }
            catch (ImageException)
            {
                // Adopted all the same: the file is kept; 'trove show' tells what it is.
            }
        }

        await session.SaveAsync(sidecar, orphan.InTrash, ct).ConfigureAwait(false);
        return true;
    }
}
