using Trove.Domain.Similarity;

namespace Trove.Domain.Faces;

/// <summary>
/// DBSCAN over a similarity graph (docs/faces.md, "Clustering"): a face with at least <c>minFaces − 1</c> neighbours
/// within the cluster distance is a core face; core faces that are neighbours share a cluster (<see cref="UnionFind"/>);
/// a face that is not core joins the cluster of its most similar core neighbour; the rest stay unclustered. Immich's
/// defaults: at least 3 faces, a maximum cosine distance of 0.5. The graph's edges come from the vector index (all pairs
/// at or above the similarity), so the work grows with the edges, not with the square of the faces.
/// </summary>
public static class FaceClustering
{
    /// <summary>A cluster label per face (0, 1, …; −1 = not clustered), clusters numbered by their first face.</summary>
    public static int[] Dbscan(int count, IEnumerable<(int A, int B, float Score)> pairs, int minFaces, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentOutOfRangeException.ThrowIfLessThan(minFaces, 1);
        var edges = pairs as IReadOnlyCollection<(int A, int B, float Score)> ?? pairs.ToList();
        var degree = new int[count];
        foreach (var (a, b, _) in edges)
        {
            degree[a]++;
            degree[b]++;
        }

        bool Core(int i) => degree[i] + 1 >= minFaces;
        var sets = new UnionFind(count);
        var n = 0;
        foreach (var (a, b, _) in edges)
        {
            if ((++n & 0xFFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            if (Core(a) && Core(b))
            {
                sets.Union(a, b);
            }
        }

        // Border faces: the most similar core neighbour decides.
        var border = new int[count];
        var borderScore = new float[count];
        Array.Fill(border, -1);
        Array.Fill(borderScore, float.MinValue);
        foreach (var (a, b, score) in edges)
        {
            Offer(a, b, score);
            Offer(b, a, score);
        }

        void Offer(int face, int neighbour, float score)
        {
            if (!Core(face) && Core(neighbour) && score > borderScore[face])
            {
                border[face] = neighbour;
                borderScore[face] = score;
            }
        }

        var labels = new int[count];
        var byRoot = new Dictionary<int, int>();
        for (var i = 0; i < count; i++)
        {
            var anchor = Core(i) ? i : border[i];
            if (anchor < 0)
            {
                labels[i] = -1;
                continue;
            }

            var root = sets.Find(anchor);
            if (!byRoot.TryGetValue(root, out var label))
            {
                label = byRoot.Count;
                byRoot[root] = label;
            }

            labels[i] = label;
        }

        return labels;
    }
}
