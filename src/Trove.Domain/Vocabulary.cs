namespace Trove.Domain;

/// <summary>
/// The tag vocabulary: categories, per-tag info, aliases and implications. Stored as one file in the
/// library; these methods enforce its rules (no alias chains, no implication cycles).
/// </summary>
public sealed class Vocabulary
{
    public const int CurrentSchema = 1;

    public static readonly IReadOnlyList<string> BuiltinCategories =
        ["general", "character", "copyright", "artist", "meta", "rating"];

    public const string DefaultCategory = "general";

    public int Schema { get; set; } = CurrentSchema;

    /// <summary>User-defined categories (the built-in ones are always present).</summary>
    public List<string> Categories { get; set; } = [];

    public SortedDictionary<string, TagInfo> Tags { get; set; } = new(StringComparer.Ordinal);

    /// <summary>FROM → TO. Kept flat: no TO is itself a FROM.</summary>
    public SortedDictionary<string, AliasInfo> Aliases { get; set; } = new(StringComparer.Ordinal);

    public List<Implication> Implications { get; set; } = [];

    public IEnumerable<string> AllCategories => BuiltinCategories.Concat(Categories);

    public bool CategoryExists(string name) => AllCategories.Contains(name, StringComparer.Ordinal);

    public string CategoryOf(string tag) => Tags.TryGetValue(tag, out var info) && info.Category is { } c ? c : DefaultCategory;

    /// <summary>The canonical name for a tag: its alias target if it is an alias, else itself.</summary>
    public string Resolve(string tag) => Aliases.TryGetValue(tag, out var a) ? a.To : tag;

    /// <summary>All tags implied by <paramref name="tags"/> (transitively), not including the tags themselves.</summary>
    public IReadOnlyDictionary<string, string> ImpliedParents(IEnumerable<string> tags)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var have = new HashSet<string>(tags, StringComparer.Ordinal);
        var queue = new Queue<string>(have);
        var parentsOf = ParentsByChild();
        while (queue.Count > 0)
        {
            var child = queue.Dequeue();
            if (!parentsOf.TryGetValue(child, out var parents))
            {
                continue;
            }

            foreach (var parent in parents)
            {
                if (have.Add(parent))
                {
                    result[parent] = child;
                    queue.Enqueue(parent);
                }
            }
        }

        return result;
    }

    public Dictionary<string, List<string>> ParentsByChild()
    {
        var map = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var imp in Implications)
        {
            if (!map.TryGetValue(imp.Child, out var list))
            {
                map[imp.Child] = list = [];
            }

            list.Add(imp.Parent);
        }

        return map;
    }

    public void AddCategory(string raw)
    {
        var name = TagNames.Normalize(raw);
        if (CategoryExists(name))
        {
            throw new TroveUsageException("category-exists", $"Category '{name}' already exists.");
        }

        Categories.Add(name);
    }

    public void SetCategory(string tag, string category)
    {
        if (!CategoryExists(category))
        {
            throw new TroveUsageException(
                "unknown-category",
                $"There is no tag category '{category}'. Categories: {string.Join(", ", AllCategories)}.",
                $"Create it first with 'trove tags category-add {category}'.");
        }

        tag = Resolve(tag);
        Info(tag).Category = category == DefaultCategory ? null : category;
        Prune(tag);
    }

    public void SetDescription(string tag, string? description)
    {
        tag = Resolve(tag);
        Info(tag).Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        Prune(tag);
    }

    /// <summary>Makes FROM an alias of TO. Returns the canonical target actually used.</summary>
    public string AddAlias(string from, string to, DateTimeOffset at, string? by)
    {
        var target = Resolve(to);
        if (from == target)
        {
            throw new TroveUsageException(
                "alias-cycle",
                from == to ? $"Cannot alias '{from}' to itself." : $"Cannot alias '{from}' to '{to}': '{to}' is already an alias of '{from}'.");
        }

        to = target;

        if (Aliases.TryGetValue(from, out var existing))
        {
            throw new TroveUsageException(
                "alias-exists",
                $"'{from}' is already an alias of '{existing.To}'.",
                $"Remove it first with 'trove tags unalias {from}'.");
        }

        // Implications naming FROM are rewritten to TO.
        var rewritten = new List<Implication>();
        foreach (var imp in Implications)
        {
            var child = imp.Child == from ? to : imp.Child;
            var parent = imp.Parent == from ? to : imp.Parent;
            if (child != parent && !rewritten.Exists(r => r.Child == child && r.Parent == parent))
            {
                rewritten.Add(new Implication { Child = child, Parent = parent, CreatedAt = imp.CreatedAt, CreatedBy = imp.CreatedBy });
            }
        }

        // Merging FROM into TO must not close an implication cycle (e.g. TO → X → FROM); check before changing anything.
        var original = Implications;
        Implications = rewritten;
        foreach (var imp in rewritten)
        {
            if (FindPath(imp.Parent, imp.Child) is { } back)
            {
                Implications = original;
                throw new TroveUsageException(
                    "implication-cycle",
                    $"Cannot alias '{from}' to '{to}': it would make an implication cycle: {string.Join(" → ", back.Prepend(imp.Child))}.",
                    "Remove one of the implications in the cycle first.");
            }
        }

        // Anything that pointed at FROM now points at TO: aliases stay one hop.
        foreach (var key in Aliases.Where(kv => kv.Value.To == from).Select(kv => kv.Key).ToList())
        {
            Aliases[key].To = to;
        }

        Aliases[from] = new AliasInfo { To = to, CreatedAt = at, CreatedBy = by };

        // FROM's category and description carry over when TO has none.
        if (Tags.Remove(from, out var fromInfo))
        {
            var toInfo = Info(to);
            toInfo.Category ??= fromInfo.Category;
            toInfo.Description ??= fromInfo.Description;
            Prune(to);
        }

        return to;
    }

    public void RemoveAlias(string from)
    {
        if (!Aliases.Remove(from))
        {
            throw new TroveUsageException("alias-not-found", $"'{from}' is not an alias.");
        }
    }

    /// <summary>Adds CHILD → PARENT (both resolved through aliases); refuses cycles, naming them.</summary>
    public Implication AddImplication(string child, string parent, DateTimeOffset at, string? by)
    {
        child = Resolve(child);
        parent = Resolve(parent);
        if (child == parent)
        {
            throw new TroveUsageException("implication-cycle", $"A tag cannot imply itself ('{child}').");
        }

        if (Implications.Exists(i => i.Child == child && i.Parent == parent))
        {
            throw new TroveUsageException("implication-exists", $"'{child}' already implies '{parent}'.");
        }

        var path = FindPath(parent, child);
        if (path is not null)
        {
            var cycle = string.Join(" → ", path.Prepend(child));
            throw new TroveUsageException(
                "implication-cycle",
                $"'{child}' → '{parent}' would make a cycle: {cycle}.",
                "Remove one of the implications in the cycle first.");
        }

        var imp = new Implication { Child = child, Parent = parent, CreatedAt = at, CreatedBy = by };
        Implications.Add(imp);
        return imp;
    }

    public void RemoveImplication(string child, string parent)
    {
        child = Resolve(child);
        parent = Resolve(parent);
        if (Implications.RemoveAll(i => i.Child == child && i.Parent == parent) == 0)
        {
            throw new TroveUsageException("implication-not-found", $"'{child}' does not imply '{parent}'.");
        }
    }

    /// <summary>Checks invariants of a vocabulary read from disk (which may have been edited by hand).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        foreach (var (from, alias) in Aliases)
        {
            if (Aliases.ContainsKey(alias.To))
            {
                errors.Add($"alias '{from}' → '{alias.To}' points at another alias; aliases must point at a canonical tag");
            }
        }

        foreach (var imp in Implications)
        {
            if (Aliases.ContainsKey(imp.Child) || Aliases.ContainsKey(imp.Parent))
            {
                errors.Add($"implication '{imp.Child}' → '{imp.Parent}' names an alias; use the canonical tag");
            }

            var back = FindPath(imp.Parent, imp.Child);
            if (back is not null)
            {
                errors.Add($"implication cycle: {string.Join(" → ", back.Prepend(imp.Child))}");
            }
        }

        foreach (var (tag, info) in Tags)
        {
            if (info.Category is { } c && !CategoryExists(c))
            {
                errors.Add($"tag '{tag}' has unknown category '{c}'");
            }
        }

        return errors.Distinct().ToList();
    }

    private List<string>? FindPath(string from, string to)
    {
        var parentsOf = ParentsByChild();
        var previous = new Dictionary<string, string>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        queue.Enqueue(from);
        var seen = new HashSet<string>(StringComparer.Ordinal) { from };
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (node == to)
            {
                var path = new List<string> { to };
                while (path[^1] != from)
                {
                    path.Add(previous[path[^1]]);
                }

                path.Reverse();
                return path;
            }

            if (parentsOf.TryGetValue(node, out var parents))
            {
                foreach (var p in parents.Where(seen.Add))
                {
                    previous[p] = node;
                    queue.Enqueue(p);
                }
            }
        }

        return null;
    }

    private TagInfo Info(string tag)
    {
        if (!Tags.TryGetValue(tag, out var info))
        {
            Tags[tag] = info = new TagInfo();
        }

        return info;
    }

    private void Prune(string tag)
    {
        if (Tags.TryGetValue(tag, out var info) && info.Category is null && info.Description is null)
        {
            Tags.Remove(tag);
        }
    }
}

public sealed class TagInfo
{
    /// <summary>Null means the default category (general).</summary>
    public string? Category { get; set; }

    public string? Description { get; set; }
}

public sealed class AliasInfo
{
    public string To { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }
}

public sealed class Implication
{
    public string Child { get; set; } = string.Empty;

    public string Parent { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }
}

/// <summary>A named, ordered set of media (photoset, project) with its own metadata.</summary>
public sealed class CollectionDefinition
{
    public const int CurrentSchema = 1;

    public int Schema { get; set; } = CurrentSchema;

    /// <summary>Stable id (12 hex characters); members refer to it, so renaming rewrites one file.</summary>
    public string Id { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public string? Description { get; set; }

    public List<string> Tags { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
