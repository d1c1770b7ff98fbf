using Trove.Application.Embeddings;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Domain.Similarity;

namespace Trove.Application.Similarity;

public sealed record DuplicateMember(string Id, int Width, int Height, long Size);

/// <summary>What makes two images near-duplicates.</summary>
public enum DuplicateBasis
{
    /// <summary>Perceptual hashes within a Hamming distance (crops, re-encodes, resizes of the same picture).</summary>
    PerceptualHash,

    /// <summary>Embeddings of the library's embedder at least <c>duplicateScore</c> similar (also edits, recolours, watermarks).</summary>
    Embedding,

    /// <summary>Either: a group joins images linked by one or the other.</summary>
    Both,
}

/// <param name="By">What linked the group: <c>phash</c>, <c>embedding</c>, or <c>phash+embedding</c>.</param>
/// <param name="Score">The weakest embedding link inside the group (null when no embedding linked it).</param>
public sealed record DuplicateGroup(IReadOnlyList<DuplicateMember> Members, string By = DuplicateGroup.ByPerceptualHash, float? Score = null)
{
    public const string ByPerceptualHash = "phash";
    public const string ByEmbedding = "embedding";

    public IEnumerable<string> Ids => Members.Select(m => m.Id);
}

/// <param name="Score">The embedding similarity, when found by embedding (pHash distances are then -1).</param>
public sealed record SimilarMedia(string Id, int Distance, int DHashDistance, int Width, int Height, long Size, float? Score = null);

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

    /// <summary>
    /// Groups of near-duplicates by <paramref name="by"/>: perceptual hash within <paramref name="distance"/>, and/or
    /// embeddings of the active embedder at least <paramref name="minScore"/> similar (default: its <c>duplicateScore</c>,
    /// 0.95). Images are linked pair by pair and a group is everything linked together (single linkage).
    /// </summary>
    /// <exception cref="TroveException">no-embedder when <paramref name="by"/> needs embeddings and none is registered.</exception>
    public async Task<IReadOnlyList<DuplicateGroup>> FindGroupsAsync(DuplicateBasis by, int distance, float? minScore, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        if (by == DuplicateBasis.PerceptualHash)
        {
            return await FindGroupsAsync(distance, progress, ct).ConfigureAwait(false);
        }

        var active = ActiveEmbedder.Of(library) ?? throw new TroveUsageException(
            "no-embedder",
            "Near-duplicates by embedding need an embedder, and the library has none.",
            "Register a CLIP-style embedder (docs/semantic-search.md), embed the library with 'trove embed \"\"', or use --by phash.");
        var score = minScore ?? active.Parameters.DuplicateScore;
        if (score is < -1 or > 1 || float.IsNaN(score))
        {
            throw new TroveUsageException("bad-min-score", $"--min-score is {score}; a cosine similarity is between -1 and 1 (default {active.Parameters.DuplicateScore}).");
        }

        var hashes = await library.Index.ListPerceptualHashesAsync(ct).ConfigureAwait(false);
        var byId = hashes.ToDictionary(h => h.Id, StringComparer.Ordinal);
        var links = new UnionFind(hashes.Count);
        var position = new Dictionary<string, int>(hashes.Count, StringComparer.Ordinal);
        foreach (var (i, h) in hashes.Index())
        {
            position[h.Id] = i;
        }

        var byHash = new bool[hashes.Count];
        if (by == DuplicateBasis.Both)
        {
            foreach (var group in await FindGroupsAsync(distance, progress, ct).ConfigureAwait(false))
            {
                var first = position[group.Members[0].Id];
                foreach (var m in group.Members)
                {
                    links.Union(first, position[m.Id]);
                    byHash[position[m.Id]] = true;
                }
            }
        }

        // The embeddings of the listed images, compared pair by pair in the vector index (slots are engine keys).
        var embedder = library.Embeddings.Get(active);
        var engine = await library.Search.ReadyAsync(library.Index, ct).ConfigureAwait(false);
        var pairs = library.Search.Vectors.Read(engine, active.Reference, embedder.Dimensions, library.Embeddings.PathOf(active), index =>
        {
            var keys = hashes.Select(h => engine.KeyOf(h.Id)).Where(k => k >= 0).ToList();
            var filter = new ulong[(keys.DefaultIfEmpty(0).Max() / 64) + 1];
            foreach (var key in keys)
            {
                filter[key >> 6] |= 1UL << (key & 63);
            }

            var total = hashes.Count;
            return index.SimilarPairs(filter, score, progress: progress is null ? null : done => progress.Report(new ProgressInfo("Comparing embeddings", done, total)), ct: ct);
        });
        var weakest = new Dictionary<int, float>();
        var linked = new List<(int A, int B, float Score)>(pairs.Count);
        foreach (var (a, b, s) in pairs)
        {
            if (engine.IdOf(a) is { } ia && engine.IdOf(b) is { } ib && position.TryGetValue(ia, out var pa) && position.TryGetValue(ib, out var pb))
            {
                links.Union(pa, pb);
                linked.Add((pa, pb, s));
            }
        }

        foreach (var (a, _, s) in linked)
        {
            var root = links.Find(a);
            weakest[root] = weakest.TryGetValue(root, out var w) ? Math.Min(w, s) : s;
        }

        var groups = new Dictionary<int, List<int>>();
        for (var i = 0; i < hashes.Count; i++)
        {
            var root = links.Find(i);
            if (root != i || links.SizeOf(i) > 1)
            {
                (groups.TryGetValue(root, out var list) ? list : groups[root] = []).Add(i);
            }
        }

        return groups
            .Where(g => g.Value.Count > 1)
            .Select(g =>
            {
                var members = g.Value.Select(i => byId[hashes[i].Id]).Select(h => new DuplicateMember(h.Id, h.Width, h.Height, h.Size)).ToList();
                var viaEmbedding = weakest.TryGetValue(g.Key, out var w);
                var viaHash = g.Value.Any(i => byHash[i]);
                var basis = (viaHash, viaEmbedding) switch
                {
                    (true, true) => DuplicateGroup.ByPerceptualHash + "+" + DuplicateGroup.ByEmbedding,
                    (true, false) => DuplicateGroup.ByPerceptualHash,
                    _ => DuplicateGroup.ByEmbedding,
                };
                return new DuplicateGroup(members, basis, viaEmbedding ? MathF.Round(w, 4) : null);
            })
            .OrderByDescending(g => g.Members.Count)
            .ThenBy(g => g.Members[0].Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Images whose embedding is at least <paramref name="minScore"/> (default: the embedder's <c>duplicateScore</c>)
    /// similar to one image's, most similar first (itself excluded).
    /// </summary>
    public async Task<IReadOnlyList<SimilarMedia>> SimilarByEmbeddingAsync(string idOrPrefix, float? minScore, int limit, CancellationToken ct)
    {
        var active = ActiveEmbedder.Of(library) ?? throw new TroveUsageException(
            "no-embedder",
            "Similar images by embedding need an embedder, and the library has none.",
            "Register a CLIP-style embedder (docs/semantic-search.md), or leave out --by embedding.");
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        var score = minScore ?? active.Parameters.DuplicateScore;
        var query = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"like:{id} min-score:{score:0.####}");
        var found = await new Search.SearchService(library).SearchAsync(query, new Trove.Search.Engine.SearchRequest(Math.Clamp(limit, 1, Search.SearchService.MaxLimit), 0), ct).ConfigureAwait(false);
        var hashes = (await library.Index.ListPerceptualHashesAsync(ct).ConfigureAwait(false)).ToDictionary(h => h.Id, StringComparer.Ordinal);
        return found.Ids.Select((other, i) =>
        {
            hashes.TryGetValue(other, out var h);
            return new SimilarMedia(other, -1, -1, h?.Width ?? 0, h?.Height ?? 0, h?.Size ?? 0, found.Scores?[i]);
        }).ToList();
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
