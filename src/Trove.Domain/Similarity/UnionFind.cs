namespace Trove.Domain.Similarity;

/// <summary>Disjoint sets with path compression and union by size (not thread-safe; callers lock it).</summary>
public sealed class UnionFind
{
    private readonly int[] parent;
    private readonly int[] size;

    public UnionFind(int count)
    {
        parent = new int[count];
        size = new int[count];
        for (var i = 0; i < count; i++)
        {
            parent[i] = i;
            size[i] = 1;
        }
    }

    public int Find(int x)
    {
        var root = x;
        while (parent[root] != root)
        {
            root = parent[root];
        }

        while (parent[x] != root)
        {
            var next = parent[x];
            parent[x] = root;
            x = next;
        }

        return root;
    }

    public void Union(int a, int b)
    {
        a = Find(a);
        b = Find(b);
        if (a == b)
        {
            return;
        }

        if (size[a] < size[b])
        {
            (a, b) = (b, a);
        }

        parent[b] = a;
        size[a] += size[b];
    }

    public int SizeOfRoot(int root) => size[root];

    /// <summary>The size of the set holding <paramref name="x"/>.</summary>
    public int SizeOf(int x) => size[Find(x)];
}
