using Trove.Domain;

namespace Trove.Application;

/// <summary>Applies the vocabulary's rules to a sidecar: aliases resolve to their target, implications add their parents.</summary>
public static class TagApplier
{
    /// <summary>Adds tags (normalised, alias-resolved) and everything they imply. Returns the names actually added.</summary>
    public static List<string> Add(MediaSidecar sidecar, Vocabulary vocabulary, IEnumerable<string> names, string source, string? actor, DateTimeOffset now)
    {
        var added = new List<string>();
        foreach (var raw in names)
        {
            var name = vocabulary.Resolve(TagNames.Normalize(raw));
            if (!sidecar.HasTag(name))
            {
                sidecar.Tags.Add(new TagEntry { Name = name, AddedAt = now, AddedBy = actor, Source = source, Via = name != TagNames.Normalize(raw) ? TagNames.Normalize(raw) : null });
                added.Add(name);
            }
        }

        added.AddRange(ApplyVocabulary(sidecar, vocabulary, actor, now));
        return added;
    }

    /// <summary>
    /// Makes a sidecar obey the vocabulary: alias names are replaced by their targets, and implied parents are added.
    /// Returns the names that were added. Used after alias/implication changes and by check --repair.
    /// </summary>
    public static List<string> ApplyVocabulary(MediaSidecar sidecar, Vocabulary vocabulary, string? actor, DateTimeOffset now)
    {
        var added = new List<string>();
        for (var i = 0; i < sidecar.Tags.Count; i++)
        {
            var tag = sidecar.Tags[i];
            if (vocabulary.Aliases.TryGetValue(tag.Name, out var alias))
            {
                sidecar.Tags.RemoveAt(i--);
                if (!sidecar.HasTag(alias.To))
                {
                    sidecar.Tags.Insert(i + 1, new TagEntry { Name = alias.To, AddedAt = now, AddedBy = actor, Source = TagSources.Alias, Via = tag.Name });
                    added.Add(alias.To);
                    i++;
                }
            }
        }

        foreach (var (parent, child) in vocabulary.ImpliedParents(sidecar.Tags.Select(t => t.Name)))
        {
            sidecar.Tags.Add(new TagEntry { Name = parent, AddedAt = now, AddedBy = actor, Source = TagSources.Implication, Via = child });
            added.Add(parent);
        }

        return added;
    }

    /// <summary>What <see cref="ApplyVocabulary"/> would change, without changing anything.</summary>
    public static (List<string> AliasNames, List<string> MissingParents) Violations(MediaSidecar sidecar, Vocabulary vocabulary)
    {
        var names = sidecar.Tags.Select(t => t.Name).ToList();
        var aliasNames = names.Where(vocabulary.Aliases.ContainsKey).ToList();
        var resolved = names.Select(vocabulary.Resolve).Distinct(StringComparer.Ordinal);
        var missing = vocabulary.ImpliedParents(resolved).Keys.Where(p => !names.Contains(p, StringComparer.Ordinal)).ToList();
        return (aliasNames, missing);
    }
}
