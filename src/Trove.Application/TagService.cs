using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Application;

public sealed record TagChange(string Id, IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<string> Tags);

public sealed record VocabularyChange(string Summary, int MediaUpdated);

/// <summary>
/// A tag as looked up: <see cref="AliasFrom"/> is the name asked for when it was an alias; <see cref="ImpliesAll"/> is
/// every tag it implies, transitively; <see cref="ImpliedBy"/> the tags that imply it directly.
/// </summary>
public sealed record TagLookup(TagCount Tag, string? AliasFrom, IReadOnlyList<string> ImpliesAll, IReadOnlyList<string> ImpliedBy);

public sealed record TagListing(IReadOnlyList<TagCount> Tags, IReadOnlyList<string> Categories);

/// <summary>Tags on media, and the vocabulary: categories, descriptions, aliases, implications.</summary>
public sealed class TagService(TroveLibrary library)
{
    public async Task<TagChange> AddAsync(string idOrPrefix, IReadOnlyList<string> tags, CancellationToken ct)
    {
        var names = tags.Select(TagNames.Normalize).ToList();
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = session.Read(id);
        var added = TagApplier.Add(stored.Sidecar, session.Vocabulary, names, TagSources.Manual, library.Actor, session.Now);
        if (added.Count > 0)
        {
            await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
            session.Audit("tag.add", id, string.Join(' ', added));
        }

        return new TagChange(id, added, [], stored.Sidecar.Tags.Select(t => t.Name).ToList());
    }

    public async Task<TagChange> RemoveAsync(string idOrPrefix, IReadOnlyList<string> tags, CancellationToken ct)
    {
        var names = tags.Select(TagNames.Normalize).ToList();
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = session.Read(id);
        var sidecar = stored.Sidecar;
        var removed = RemoveFrom(sidecar, session.Vocabulary, names);
        if (removed.Count > 0)
        {
            await session.SaveAsync(sidecar, stored.InTrash, ct).ConfigureAwait(false);
            session.Audit("tag.remove", id, string.Join(' ', removed));
        }

        return new TagChange(id, [], removed, sidecar.Tags.Select(t => t.Name).ToList());
    }

    /// <summary>
    /// Removes and adds tags on one media in one write (removals first, so a tag may be swapped for another). A tag may
    /// not be named in both lists.
    /// </summary>
    public async Task<TagChange> ChangeAsync(string idOrPrefix, IReadOnlyList<string> add, IReadOnlyList<string> remove, CancellationToken ct)
    {
        var adding = add.Select(TagNames.Normalize).ToList();
        var removing = remove.Select(TagNames.Normalize).ToList();
        var both = adding.Intersect(removing, StringComparer.Ordinal).ToList();
        if (both.Count > 0)
        {
            throw new TroveUsageException("tag-add-and-remove", $"'{both[0]}' is both added and removed; name each tag in one list only.");
        }

        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var stored = session.Read(id);
        var sidecar = stored.Sidecar;
        var removed = RemoveFrom(sidecar, session.Vocabulary, removing);
        var added = TagApplier.Add(sidecar, session.Vocabulary, adding, TagSources.Manual, library.Actor, session.Now);
        if (removed.Count > 0 || added.Count > 0)
        {
            await session.SaveAsync(sidecar, stored.InTrash, ct).ConfigureAwait(false);
            if (removed.Count > 0)
            {
                session.Audit("tag.remove", id, string.Join(' ', removed));
            }

            if (added.Count > 0)
            {
                session.Audit("tag.add", id, string.Join(' ', added));
            }
        }

        return new TagChange(id, added, removed, sidecar.Tags.Select(t => t.Name).ToList());
    }

    /// <summary>Removes the (alias-resolved) tags from a sidecar; refuses to remove a tag that a remaining tag implies.</summary>
    private static List<string> RemoveFrom(MediaSidecar sidecar, Vocabulary vocabulary, IReadOnlyList<string> names)
    {
        var id = sidecar.Id;
        var removing = names.Select(vocabulary.Resolve).Where(sidecar.HasTag).Distinct(StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
        var remaining = sidecar.Tags.Select(t => t.Name).Where(n => !removing.Contains(n)).ToList();
        var stillImplied = vocabulary.ImpliedParents(remaining);
        foreach (var name in removing)
        {
            if (stillImplied.TryGetValue(name, out var child))
            {
                throw new TroveUsageException(
                    "tag-implied",
                    $"'{name}' cannot be removed from {id[..12]}: it is implied by '{child}', which stays.",
                    $"Remove '{child}' as well, or remove the implication with 'trove tags unimply'.");
            }
        }

        sidecar.Tags.RemoveAll(t => removing.Contains(t.Name));
        return removing.Order(StringComparer.Ordinal).ToList();
    }

    public async Task<TagListing> ListAsync(CancellationToken ct)
    {
        var tags = await library.Index.ListTagsAsync(ct).ConfigureAwait(false);
        var vocabulary = library.Files.ReadVocabulary(out _);
        return new TagListing(tags, vocabulary.AllCategories.ToList());
    }

    /// <summary>One tag with its count, category, description, implications and aliases; an alias is answered with its canonical tag.</summary>
    public async Task<TagLookup> GetAsync(string nameRaw, CancellationToken ct)
    {
        var name = TagNames.Normalize(nameRaw);
        var vocabulary = library.Files.ReadVocabulary(out _);
        var canonical = vocabulary.Resolve(name);
        var tags = await library.Index.ListTagsAsync(ct).ConfigureAwait(false);
        var found = tags.FirstOrDefault(t => t.Name == canonical)
            ?? throw new TroveException("tag-not-found", $"There is no tag '{name}' (no media carries it and the vocabulary does not name it).", "List tags with 'trove tags list'.");
        return new TagLookup(
            found,
            canonical == name ? null : name,
            vocabulary.ImpliedParents([canonical]).Keys.Order(StringComparer.Ordinal).ToList(),
            vocabulary.Implications.Where(i => i.Parent == canonical).Select(i => i.Child).Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>Sets a tag's category and/or description in one write (null leaves a field as it is; an empty description clears it).</summary>
    public async Task<VocabularyChange> UpdateAsync(string tagRaw, string? categoryRaw, string? description, CancellationToken ct)
    {
        var tag = TagNames.Normalize(tagRaw);
        var category = categoryRaw is null ? null : TagNames.Normalize(categoryRaw);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        if (category is not null)
        {
            session.Vocabulary.SetCategory(tag, category);
        }

        if (description is not null)
        {
            session.Vocabulary.SetDescription(tag, description);
        }

        if (category is null && description is null)
        {
            return new VocabularyChange($"'{session.Vocabulary.Resolve(tag)}' unchanged", 0);
        }

        await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
        var canonical = session.Vocabulary.Resolve(tag);
        session.Audit("tags.update", canonical, category);
        return new VocabularyChange($"'{canonical}' updated", 0);
    }

    public async Task<Vocabulary> VocabularyAsync(CancellationToken ct)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        return library.Files.ReadVocabulary(out _);
    }

    /// <summary>
    /// FROM becomes an alias of TO: every media with FROM is retagged TO, and FROM resolves to TO from now on.
    /// Re-running it after an interruption finishes the retagging.
    /// </summary>
    public async Task<VocabularyChange> AliasAsync(string fromRaw, string toRaw, CancellationToken ct)
    {
        var from = TagNames.Normalize(fromRaw);
        var to = TagNames.Normalize(toRaw);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var vocabulary = session.Vocabulary;
        if (!(vocabulary.Aliases.TryGetValue(from, out var existing) && existing.To == vocabulary.Resolve(to)))
        {
            to = vocabulary.AddAlias(from, to, session.Now, library.Actor);
            await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
        }
        else
        {
            to = existing.To;
        }

        session.Audit("tags.alias", from, to);
        var updated = await ApplyToMediaAsync(session, [from, to], ct).ConfigureAwait(false);
        return new VocabularyChange($"'{from}' is now an alias of '{to}'", updated);
    }

    public async Task<VocabularyChange> UnaliasAsync(string fromRaw, CancellationToken ct)
    {
        var from = TagNames.Normalize(fromRaw);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        session.Vocabulary.RemoveAlias(from);
        await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
        session.Audit("tags.unalias", from);
        return new VocabularyChange($"'{from}' is no longer an alias", 0);
    }

    /// <summary>CHILD implies PARENT: applied now to every media with CHILD (transitively), and on every future tagging.</summary>
    public async Task<VocabularyChange> ImplyAsync(string childRaw, string parentRaw, CancellationToken ct)
    {
        var child = TagNames.Normalize(childRaw);
        var parent = TagNames.Normalize(parentRaw);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var vocabulary = session.Vocabulary;
        var (c, p) = (vocabulary.Resolve(child), vocabulary.Resolve(parent));
        if (!vocabulary.Implications.Exists(i => i.Child == c && i.Parent == p))
        {
            vocabulary.AddImplication(child, parent, session.Now, library.Actor);
            await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
        }

        session.Audit("tags.imply", c, p);
        var updated = await ApplyToMediaAsync(session, [c], ct).ConfigureAwait(false);
        return new VocabularyChange($"'{c}' now implies '{p}'", updated);
    }

    /// <summary>Removes CHILD → PARENT. Media keep the parent tags they already have.</summary>
    public async Task<VocabularyChange> UnimplyAsync(string childRaw, string parentRaw, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        session.Vocabulary.RemoveImplication(TagNames.Normalize(childRaw), TagNames.Normalize(parentRaw));
        await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
        session.Audit("tags.unimply", childRaw, parentRaw);
        return new VocabularyChange($"'{childRaw}' no longer implies '{parentRaw}'", 0);
    }

    public async Task<VocabularyChange> SetCategoryAsync(string tagRaw, string categoryRaw, bool create, CancellationToken ct)
    {
        var tag = TagNames.Normalize(tagRaw);
        var category = TagNames.Normalize(categoryRaw);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        if (create && !session.Vocabulary.CategoryExists(category))
        {
            session.Vocabulary.AddCategory(category);
        }

        session.Vocabulary.SetCategory(tag, category);
        await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
        session.Audit("tags.category", tag, category);
        return new VocabularyChange($"'{session.Vocabulary.Resolve(tag)}' is in category '{category}'", 0);
    }

    public async Task<VocabularyChange> AddCategoryAsync(string categoryRaw, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        session.Vocabulary.AddCategory(categoryRaw);
        await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
        session.Audit("tags.category-add", categoryRaw);
        return new VocabularyChange($"category '{TagNames.Normalize(categoryRaw)}' created", 0);
    }

    public async Task<VocabularyChange> DescribeAsync(string tagRaw, string? description, CancellationToken ct)
    {
        var tag = TagNames.Normalize(tagRaw);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        session.Vocabulary.SetDescription(tag, description);
        await session.SaveVocabularyAsync(ct).ConfigureAwait(false);
        session.Audit("tags.describe", tag);
        return new VocabularyChange($"description of '{session.Vocabulary.Resolve(tag)}' updated", 0);
    }

    /// <summary>Re-applies aliases and implications to every media carrying one of <paramref name="tags"/>.</summary>
    internal static async Task<int> ApplyToMediaAsync(WriteSession session, IReadOnlyCollection<string> tags, CancellationToken ct)
    {
        var ids = await session.Library.Index.MediaWithAnyTagAsync(tags, ct).ConfigureAwait(false);
        var updated = 0;
        foreach (var id in ids)
        {
            var stored = session.TryRead(id);
            if (stored is null)
            {
                continue;
            }

            var before = string.Join(' ', stored.Sidecar.Tags.Select(t => t.Name));
            TagApplier.ApplyVocabulary(stored.Sidecar, session.Vocabulary, session.Library.Actor, session.Now);
            if (before != string.Join(' ', stored.Sidecar.Tags.Select(t => t.Name)))
            {
                await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
                updated++;
            }
        }

        return updated;
    }
}
