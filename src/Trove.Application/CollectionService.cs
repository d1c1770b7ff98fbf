using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Application;

public sealed record CollectionView(IndexedCollection Collection, IReadOnlyList<string> Members);

/// <summary>
/// Named, ordered sets of media. The collection file holds name, description and tags; membership and order
/// live in each member's sidecar (a sparse position), so adding or moving a member rewrites one sidecar.
/// </summary>
public sealed class CollectionService(TroveLibrary library)
{
    public const long PositionStep = 1024;

    public async Task<IndexedCollection> CreateAsync(string name, string? description, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var clean = CleanName(name);
        if (await FindAsync(clean, ct).ConfigureAwait(false) is not null)
        {
            throw new TroveUsageException("collection-exists", $"A collection named '{clean}' already exists.");
        }

        var collection = await CreateInSessionAsync(session, clean, description, ct).ConfigureAwait(false);
        return ToIndexed(collection, 0);
    }

    internal async Task<CollectionDefinition> GetOrCreateAsync(WriteSession session, string name, CancellationToken ct)
    {
        var clean = CleanName(name);
        var found = await FindAsync(clean, ct).ConfigureAwait(false);
        return found is not null
            ? library.Files.ReadCollection(library.Layout.CollectionPath(found.Id)).Collection
            : await CreateInSessionAsync(session, clean, null, ct).ConfigureAwait(false);
    }

    public async Task<IndexedCollection> RenameAsync(string name, string newName, CancellationToken ct)
    {
        var clean = CleanName(newName);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var collection = await RequireDefinitionAsync(name, ct).ConfigureAwait(false);
        var clash = await FindAsync(clean, ct).ConfigureAwait(false);
        if (clash is not null && clash.Id != collection.Id)
        {
            throw new TroveUsageException("collection-exists", $"A collection named '{clean}' already exists.");
        }

        collection.Name = clean;
        await session.SaveCollectionAsync(collection, ct).ConfigureAwait(false);
        session.Audit("collection.rename", collection.Id, clean);
        return ToIndexed(collection, -1);
    }

    public async Task<IndexedCollection> DescribeAsync(string name, string? description, IReadOnlyList<string>? tags, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var collection = await RequireDefinitionAsync(name, ct).ConfigureAwait(false);
        if (description is not null)
        {
            collection.Description = description.Length == 0 ? null : description;
        }

        if (tags is not null)
        {
            collection.Tags = tags.Select(TagNames.Normalize).Distinct(StringComparer.Ordinal).ToList();
        }

        await session.SaveCollectionAsync(collection, ct).ConfigureAwait(false);
        session.Audit("collection.describe", collection.Id);
        return ToIndexed(collection, -1);
    }

    /// <summary>
    /// Renames and/or describes a collection in one write: null leaves a field as it is, an empty description clears it,
    /// tags replace the collection's tags.
    /// </summary>
    public async Task<IndexedCollection> UpdateAsync(string name, string? newName, string? description, IReadOnlyList<string>? tags, CancellationToken ct)
    {
        var clean = newName is null ? null : CleanName(newName);
        var normalizedTags = tags?.Select(TagNames.Normalize).Distinct(StringComparer.Ordinal).ToList();
        await using (var session = await library.BeginWriteAsync(ct).ConfigureAwait(false))
        {
            var collection = await RequireDefinitionAsync(name, ct).ConfigureAwait(false);
            if (clean is not null && clean != collection.Name)
            {
                var clash = await FindAsync(clean, ct).ConfigureAwait(false);
                if (clash is not null && clash.Id != collection.Id)
                {
                    throw new TroveUsageException("collection-exists", $"A collection named '{clean}' already exists.");
                }

                session.Audit("collection.rename", collection.Id, clean);
                collection.Name = clean;
            }

            if (description is not null)
            {
                collection.Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
            }

            if (normalizedTags is not null)
            {
                collection.Tags = normalizedTags;
            }

            await session.SaveCollectionAsync(collection, ct).ConfigureAwait(false);
            session.Audit("collection.describe", collection.Id);
            name = collection.Id;
        }

        return await RequireAsync(name, ct).ConfigureAwait(false);
    }

    /// <summary>Appends media to a collection (media already in it keep their place).</summary>
    public async Task<CollectionView> AddAsync(string name, IReadOnlyList<string> ids, CancellationToken ct)
    {
        var resolved = await new MediaService(library).ResolveAllAsync(ids, ct).ConfigureAwait(false);
        await using (var session = await library.BeginWriteAsync(ct).ConfigureAwait(false))
        {
            var collection = await RequireAsync(name, ct).ConfigureAwait(false);
            var position = await NextPositionAsync(library, collection.Id, ct).ConfigureAwait(false);
            foreach (var id in resolved)
            {
                var stored = session.Read(id);
                if (stored.Sidecar.Collections.Exists(c => c.Collection == collection.Id))
                {
                    continue;
                }

                stored.Sidecar.Collections.Add(new CollectionMembership { Collection = collection.Id, Position = position, AddedAt = session.Now, AddedBy = library.Actor });
                position += PositionStep;
                await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
                session.Audit("collection.add", collection.Id, id);
            }
        }

        return await ShowAsync(name, ct).ConfigureAwait(false);
    }

    public async Task<CollectionView> RemoveAsync(string name, IReadOnlyList<string> ids, CancellationToken ct)
    {
        var resolved = await new MediaService(library).ResolveAllAsync(ids, ct).ConfigureAwait(false);
        await using (var session = await library.BeginWriteAsync(ct).ConfigureAwait(false))
        {
            var collection = await RequireAsync(name, ct).ConfigureAwait(false);
            foreach (var id in resolved)
            {
                var stored = session.Read(id);
                if (stored.Sidecar.Collections.RemoveAll(c => c.Collection == collection.Id) > 0)
                {
                    await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
                    session.Audit("collection.remove", collection.Id, id);
                }
            }
        }

        return await ShowAsync(name, ct).ConfigureAwait(false);
    }

    /// <summary>Moves a member to a 1-based position. Usually rewrites one sidecar; renumbers all when there is no gap left.</summary>
    public async Task<CollectionView> MoveAsync(string name, string idOrPrefix, int toPosition, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(idOrPrefix, ct).ConfigureAwait(false);
        await using (var session = await library.BeginWriteAsync(ct).ConfigureAwait(false))
        {
            var collection = await RequireAsync(name, ct).ConfigureAwait(false);
            var members = (await library.Index.CollectionMembersAsync(collection.Id, ct).ConfigureAwait(false)).ToList();
            var index = members.FindIndex(m => m.MediaId == id);
            if (index < 0)
            {
                throw new TroveUsageException("not-a-member", $"Media {id[..12]} is not in collection '{collection.Name}'.");
            }

            if (toPosition < 1 || toPosition > members.Count)
            {
                throw new TroveUsageException("bad-position", $"Position must be between 1 and {members.Count} for '{collection.Name}'.");
            }

            var moving = members[index];
            members.RemoveAt(index);
            var slot = toPosition - 1;
            var before = slot > 0 ? members[slot - 1].Position : (long?)null;
            var after = slot < members.Count ? members[slot].Position : (long?)null;
            long? newPosition = (before, after) switch
            {
                (null, null) => 0,
                (null, { } a) => a - PositionStep,
                ({ } b, null) => b + PositionStep,
                ({ } b, { } a) when a - b > 1 => b + ((a - b) / 2),
                _ => null,
            };

            if (newPosition is { } p)
            {
                await SetPositionAsync(session, id, collection.Id, p, ct).ConfigureAwait(false);
            }
            else
            {
                members.Insert(slot, moving);
                for (var i = 0; i < members.Count; i++)
                {
                    await SetPositionAsync(session, members[i].MediaId, collection.Id, (i + 1) * PositionStep, ct).ConfigureAwait(false);
                }
            }

            session.Audit("collection.move", collection.Id, $"{id} to {toPosition}");
        }

        return await ShowAsync(name, ct).ConfigureAwait(false);
    }

    /// <summary>Deletes a collection; its members stay in the library. Memberships go first, the file last.</summary>
    public async Task<int> DeleteAsync(string name, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var collection = await RequireAsync(name, ct).ConfigureAwait(false);
        var members = await library.Index.CollectionMembersAsync(collection.Id, ct).ConfigureAwait(false);
        foreach (var member in members)
        {
            var stored = session.TryRead(member.MediaId);
            if (stored is not null && stored.Sidecar.Collections.RemoveAll(c => c.Collection == collection.Id) > 0)
            {
                await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
            }
        }

        await session.DeleteCollectionAsync(collection.Id, ct).ConfigureAwait(false);
        session.Audit("collection.delete", collection.Id, collection.Name);
        return members.Count;
    }

    public Task<IReadOnlyList<IndexedCollection>> ListAsync(CancellationToken ct) => library.Index.ListCollectionsAsync(ct);

    public async Task<CollectionView> ShowAsync(string name, CancellationToken ct)
    {
        var collection = await RequireAsync(name, ct).ConfigureAwait(false);
        var members = await library.Index.CollectionMembersAsync(collection.Id, ct).ConfigureAwait(false);
        return new CollectionView(collection, members.Where(m => !m.InTrash).Select(m => m.MediaId).ToList());
    }

    internal static async Task<long> NextPositionAsync(TroveLibrary library, string collectionId, CancellationToken ct)
    {
        var members = await library.Index.CollectionMembersAsync(collectionId, ct).ConfigureAwait(false);
        return members.Count == 0 ? PositionStep : members[^1].Position + PositionStep;
    }

    public async Task<IndexedCollection?> FindAsync(string name, CancellationToken ct)
    {
        var all = await library.Index.ListCollectionsAsync(ct).ConfigureAwait(false);
        var clean = name.Trim();
        return all.FirstOrDefault(c => string.Equals(c.Name, clean, StringComparison.OrdinalIgnoreCase))
            ?? all.FirstOrDefault(c => c.Id == clean);
    }

    private async Task<IndexedCollection> RequireAsync(string name, CancellationToken ct) =>
        await FindAsync(name, ct).ConfigureAwait(false)
        ?? throw new TroveException("collection-not-found", $"There is no collection named '{name}'.", "List collections with 'trove collection list'.");

    private async Task<CollectionDefinition> RequireDefinitionAsync(string name, CancellationToken ct)
    {
        var found = await RequireAsync(name, ct).ConfigureAwait(false);
        return library.Files.ReadCollection(library.Layout.CollectionPath(found.Id)).Collection;
    }

    private async Task<CollectionDefinition> CreateInSessionAsync(WriteSession session, string name, string? description, CancellationToken ct)
    {
        var collection = new CollectionDefinition
        {
            Id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)),
            Name = name,
            Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim(),
            CreatedAt = session.Now,
            CreatedBy = library.Actor,
        };
        await session.SaveCollectionAsync(collection, ct).ConfigureAwait(false);
        session.Audit("collection.create", collection.Id, name);
        return collection;
    }

    private static async Task SetPositionAsync(WriteSession session, string id, string collectionId, long position, CancellationToken ct)
    {
        var stored = session.Read(id);
        var membership = stored.Sidecar.Collections.Find(c => c.Collection == collectionId);
        if (membership is not null && membership.Position != position)
        {
            membership.Position = position;
            await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
        }
    }

    private static string CleanName(string name)
    {
        var clean = name.Trim();
        if (clean.Length is 0 or > 200 || clean.Any(char.IsControl))
        {
            throw new TroveUsageException("invalid-collection-name", $"'{name}' is not a usable collection name (1–200 printable characters).");
        }

        return clean;
    }

    private static IndexedCollection ToIndexed(CollectionDefinition c, long members) =>
        new(c.Id, c.Name, c.Description, c.Tags, c.CreatedAt, c.UpdatedAt, members);
}
