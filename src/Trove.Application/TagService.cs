using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Application;

public sealed record TagChange(string Id, IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<string> Tags);

public sealed record VocabularyChange(string Summary, int MediaUpdated);

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
        var vocabulary = session.Vocabulary;
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

        if (removing.Count > 0)
        {
            sidecar.Tags.RemoveAll(t => removing.Contains(t.Name));
            await session.SaveAsync(sidecar, stored.InTrash, ct).ConfigureAwait(false);
            session.Audit("tag.remove", id, string.Join(' ', removing));
        }

        return new TagChange(id, [], removing.Order(StringComparer.Ordinal).ToList(), sidecar.Tags.Select(t => t.Name).ToList());
    }

    public async Task<TagListing> ListAsync(CancellationToken ct)
    {
        var tags = await library.Index.ListTagsAsync(ct).ConfigureAwait(false);
        var vocabulary = library.Files.ReadVocabulary(out _);
        return new TagListing(tags, vocabulary.AllCategories.ToList());
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
