using Trove.Application.Ports;
using Trove.Domain;
using Trove.Domain.Similarity;

namespace Trove.Application.Similarity;

public sealed record DuplicateMember(string Id, int Width, int Height, long Size);

public sealed record DuplicateGroup(IReadOnlyList<DuplicateMember> Members)
{
    public IEnumerable<string> Ids => Members.Select(m => m.Id);
}

public sealed record SimilarMedia(string Id, int Distance, int DHashDistance, int Width, int Height, long Size);

public sealed record MergeReport(string Kept, IReadOnlyList<string> Trashed, IReadOnlyList<string> TagsAdded, int CaptionsAdded, int CollectionsAdded);

/// <summary>
/// Near-duplicates by perceptual hash (pHash within the distance, dHash as a sanity check; see
/// <see cref="NearDuplicateCriteria"/>): groups across the library, neighbours of one image, and merging a group.
/// </summary>
public sealed class NearDuplicateService(TroveLibrary library)
{
    public const int MaxDistance = 24;

    /// <summary>All groups of near-duplicates among library images (not the trash), largest first, then by first id.</summary>
    public async Task<IReadOnlyList<DuplicateGroup>> FindGroupsAsync(int distance, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        var criteria = Criteria(distance);
        var hashes = await library.Index.ListPerceptualHashesAsync(ct).ConfigureAwait(false);
        var byId = hashes.ToDictionary(h => h.Id, StringComparer.Ordinal);
        using var index = NearDuplicateIndex.Build(hashes.Select(h => (h.Id, h.PHash, h.DHash)));
        var total = hashes.Count;
        var groups = index.FindGroups(criteria, ct, progress is null ? null : new Progress<long>(done => progress.Report(new ProgressInfo("Comparing", done, total))));
        return groups
            .Select(g => new DuplicateGroup(g.Select(id => byId[id]).Select(h => new DuplicateMember(h.Id, h.Width, h.Height, h.Size)).ToList()))
            .OrderByDescending(g => g.Members.Count)
            .ThenBy(g => g.Members[0].Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Images within the distance of one image (itself excluded), nearest first.</summary>
    public async Task<IReadOnlyList<SimilarMedia>> SimilarAsync(string idOrPrefix, int distance, int limit, CancellationToken ct)
    {
        var criteria = Criteria(distance);
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        var sidecar = library.Files.ReadSidecar(id).Sidecar;
        if (!PerceptualHash.TryParseHex(sidecar.Original.PHash, out var p) || !PerceptualHash.TryParseHex(sidecar.Original.DHash, out var d))
        {
            throw new TroveException(
                "no-perceptual-hash",
                $"Media {id[..12]} has no perceptual hash yet, so similar images cannot be looked up.",
                "Run 'trove check --repair' with libvips installed to compute missing hashes.");
        }

        if (!criteria.IsInformative(p))
        {
            // A flat picture (one colour, a plain ramp) looks like every other flat picture: no meaningful neighbours.
            return [];
        }

        var hashes = await library.Index.ListPerceptualHashesAsync(ct).ConfigureAwait(false);
        var byId = hashes.ToDictionary(h => h.Id, StringComparer.Ordinal);
        using var index = NearDuplicateIndex.Build(hashes.Select(h => (h.Id, h.PHash, h.DHash)));
        return index.Query(p, d, criteria, limit, excludeId: id)
            .Select(n =>
            {
                var h = byId[n.Id];
                return new SimilarMedia(n.Id, n.PHashDistance, n.DHashDistance, h.Width, h.Height, h.Size);
            })
            .ToList();
    }

    /// <summary>
    /// Merges near-duplicates into one: <paramref name="keep"/> (or the best: most pixels, then largest file, then oldest)
    /// receives the union of the others' tags, captions, collections and metadata; the others get a duplicate-of relation
    /// to it and go to the trash (restorable).
    /// </summary>
    public async Task<MergeReport> MergeAsync(IReadOnlyList<string> idsOrPrefixes, string? keep, CancellationToken ct)
    {
        var ids = await new MediaService(library).ResolveAllAsync(idsOrPrefixes, ct).ConfigureAwait(false);
        string? keepId = keep is null ? null : await library.ResolveIdAsync(keep, ct).ConfigureAwait(false);
        if (keepId is not null && !ids.Contains(keepId, StringComparer.Ordinal))
        {
            ids.Insert(0, keepId);
        }

        if (ids.Count < 2)
        {
            throw new TroveUsageException("merge-needs-two", "Merging needs at least two different media.", "Give the ids of a group from 'trove dupes'.");
        }

        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = ids.Select(session.Read).ToList();
        foreach (var s in stored.Where(s => s.InTrash))
        {
            throw new TroveUsageException("merge-trashed", $"Media {s.Sidecar.Id[..12]} is in the trash.", $"Restore it first with 'trove restore {s.Sidecar.Id[..12]}', or leave it out.");
        }

        foreach (var s in stored.Where(s => s.Sidecar.Kind != MediaKinds.Image))
        {
            throw new TroveUsageException("merge-not-image", $"Media {s.Sidecar.Id[..12]} is a {s.Sidecar.Kind}; only images are merged.");
        }

        var keeper = keepId is not null
            ? stored.Single(s => s.Sidecar.Id == keepId).Sidecar
            : stored.Select(s => s.Sidecar)
                .OrderByDescending(s => (long)(s.Original.Width ?? 0) * (s.Original.Height ?? 0))
                .ThenByDescending(s => s.Original.Size)
                .ThenBy(s => s.CreatedAt)
                .ThenBy(s => s.Id, StringComparer.Ordinal)
                .First();
        var now = session.Now;
        var tagsAdded = new List<string>();
        int captionsAdded = 0, collectionsAdded = 0;
        var others = stored.Select(s => s.Sidecar).Where(s => s.Id != keeper.Id).ToList();
        foreach (var other in others)
        {
            foreach (var tag in other.Tags.Where(t => !keeper.HasTag(t.Name)))
            {
                keeper.Tags.Add(new TagEntry { Name = tag.Name, AddedAt = now, AddedBy = library.Actor, Source = TagSources.Merge, Via = other.Id });
                tagsAdded.Add(tag.Name);
            }

            foreach (var caption in other.Captions.Where(c => !keeper.Captions.Exists(k => k.Text == c.Text)))
            {
                var next = keeper.NextCaptionId();
                keeper.Captions.Add(new CaptionEntry
                {
                    Id = next, Text = caption.Text, Primary = caption.IsApproved && !keeper.Captions.Exists(c => c.IsApproved), Source = caption.Source, Model = caption.Model,
                    ModelVersion = caption.ModelVersion, Status = caption.Status, GeneratedText = caption.GeneratedText, ReviewedBy = caption.ReviewedBy, ReviewedAt = caption.ReviewedAt,
                    CreatedAt = caption.CreatedAt, CreatedBy = caption.CreatedBy, UpdatedAt = now,
                });
                captionsAdded++;
            }

            foreach (var membership in other.Collections.Where(m => !keeper.Collections.Exists(k => k.Collection == m.Collection)))
            {
                // Takes the duplicate's place in the collection.
                keeper.Collections.Add(new CollectionMembership { Collection = membership.Collection, Position = membership.Position, AddedAt = now, AddedBy = library.Actor });
                collectionsAdded++;
            }

            foreach (var (key, value) in other.Metadata)
            {
                keeper.Metadata.TryAdd(key, value);
            }

            keeper.Original.TakenAt ??= other.Original.TakenAt;
        }

        tagsAdded.AddRange(TagApplier.ApplyVocabulary(keeper, session.Vocabulary, library.Actor, now));
        await session.SaveAsync(keeper, inTrash: false, ct).ConfigureAwait(false);
        session.Audit("merge", keeper.Id, $"kept; merged {string.Join(", ", others.Select(o => o.Id[..12]))}");

        foreach (var other in others)
        {
            other.Relations.RemoveAll(r => r.Type == RelationTypes.DuplicateOf);
            other.Relations.Add(new RelationEntry { Type = RelationTypes.DuplicateOf, Target = keeper.Id, CreatedAt = now, CreatedBy = library.Actor });
            other.Deleted = new DeletionInfo { At = now, By = library.Actor };
            await session.MoveAsync(other, toTrash: true, ct).ConfigureAwait(false);
            session.Audit("delete", other.Id, $"duplicate of {keeper.Id}");
        }

        return new MergeReport(keeper.Id, others.Select(o => o.Id).ToList(), tagsAdded.Distinct(StringComparer.Ordinal).ToList(), captionsAdded, collectionsAdded);
    }

    internal static NearDuplicateCriteria Criteria(int distance)
    {
        if (distance is < 0 or > MaxDistance)
        {
            throw new TroveUsageException("bad-distance", $"--distance must be between 0 and {MaxDistance} (bits of 64 that may differ; default {NearDuplicateCriteria.DefaultMaxDistance}).");
        }

        return new NearDuplicateCriteria(distance);
    }
}
