using Trove.Application.Ports;
using Trove.Domain;
using Trove.Library;
using Trove.Search.Query;

namespace Trove.Index.Conformance;

public abstract partial class LibraryIndexConformanceTests
{
    /// <summary>a [cat, dog], b [cat, bird], c [dog, bird], d [fish]; e (trash) has every tag.</summary>
    private async Task<(string A, string B, string C, string D, string E)> SeedAnimalsAsync()
    {
        var a = Sidecar(1, "cat", "dog");
        var b = Sidecar(2, "cat", "bird");
        var c = Sidecar(3, "dog", "bird");
        var d = Sidecar(4, "fish");
        var e = Sidecar(5, "cat", "dog", "bird", "fish");
        await UpsertAsync(a, b, c, d);
        await UpsertTrashAsync(e);
        return (a.Id, b.Id, c.Id, d.Id, e.Id);
    }

    [Fact]
    public async Task Search_requires_every_group_and_any_tag_within_a_group()
    {
        var (a, b, c, d, _) = await SeedAnimalsAsync();

        Assert.Equal(Sorted([a, b]), Sorted(await SearchAllAsync("cat")));
        Assert.Equal([a], await SearchAllAsync("cat dog"));
        Assert.Equal(Sorted([a, b]), Sorted(await SearchAllAsync("cat (dog or bird)")));
        Assert.Equal(Sorted([a, b, d]), Sorted(await SearchAllAsync("cat or fish")));
        Assert.Equal([c], await SearchAllAsync("dog bird"));
        Assert.Equal(Sorted([a, c]), Sorted(await SearchAllAsync("dog dog")));
        Assert.Empty(await SearchAllAsync("cat dog bird"));
        Assert.Empty(await SearchAllAsync("fish (cat or dog or bird)"));
    }

    [Fact]
    public async Task Search_without_terms_returns_all_library_media()
    {
        var (a, b, c, d, _) = await SeedAnimalsAsync();

        Assert.Equal(Sorted([a, b, c, d]), Sorted(await SearchAllAsync(string.Empty)));
    }

    [Fact]
    public async Task Search_excludes_media_with_any_negated_tag()
    {
        var (a, b, c, d, _) = await SeedAnimalsAsync();

        Assert.Equal(Sorted([a, d]), Sorted(await SearchAllAsync("-bird")));
        Assert.Equal([d], await SearchAllAsync("-bird -dog"));
        Assert.Equal([b], await SearchAllAsync("cat -dog"));
        Assert.Empty(await SearchAllAsync("cat -cat"));
        Assert.Equal(Sorted([a, b, c, d]), Sorted(await SearchAllAsync("-unknown_tag")));
    }

    [Fact]
    public async Task Search_for_an_unknown_tag_matches_nothing()
    {
        await SeedAnimalsAsync();

        var page = await SearchAsync("unknown_tag");

        Assert.Equal(0, page.Total);
        Assert.Empty(page.Ids);
        Assert.Empty(await SearchAllAsync("cat unknown_tag"));
    }

    [Fact]
    public async Task Search_filters_by_kind()
    {
        var image = Sidecar(1, "x");
        var mask = Sidecar(2, "x");
        mask.Kind = MediaKinds.Mask;
        mask.Mask = new MaskInfo { Source = image.Id, Category = "person" };
        var trashedMask = Sidecar(3, "x");
        trashedMask.Kind = MediaKinds.Mask;
        await UpsertAsync(image, mask);
        await UpsertTrashAsync(trashedMask);

        Assert.Equal([mask.Id], await SearchAllAsync("kind:mask"));
        Assert.Equal([image.Id], await SearchAllAsync("kind:image"));
        Assert.Equal([mask.Id], await SearchAllAsync("x kind:mask"));
        var error = await Assert.ThrowsAsync<TroveUsageException>(() => SearchAsync("kind:video"));
        Assert.Equal(QueryErrors.Invalid, error.Code);
    }

    [Fact]
    public async Task Search_filters_by_id_prefix()
    {
        var ab0 = IdWithPrefix("ab0", 1);
        var abf = IdWithPrefix("abf", 2);
        var ac = IdWithPrefix("ac", 3);
        var abTrash = IdWithPrefix("ab5", 4);
        await UpsertAsync(Sidecar(ab0, "x"), Sidecar(abf), Sidecar(ac, "x"));
        await UpsertTrashAsync(Sidecar(abTrash, "x"));

        Assert.Equal(Sorted([ab0, abf]), Sorted(await SearchAllAsync("id:ab")));
        Assert.Equal([ab0], await SearchAllAsync("x id:ab"));
        Assert.Equal([abf], await SearchAllAsync("id:" + abf));
        Assert.Equal(Sorted([ab0, abf, ac]), Sorted(await SearchAllAsync("id:a")));
        Assert.Empty(await SearchAllAsync("id:ab5"));
        Assert.Empty(await SearchAllAsync("id:b"));
    }

    [Fact]
    public async Task Search_can_be_restricted_to_a_set_of_ids()
    {
        await UpsertAsync(Sidecar(1, "cat"));
        await UpsertAsync(Sidecar(2, "cat"));
        await UpsertAsync(Sidecar(3, "dog"));

        var page = await SearchAsync($"(id:{IdOf(1)} or id:{IdOf(3)}) cat");

        Assert.Equal([IdOf(1)], page.Ids);
        Assert.Equal(1, page.Total);
    }

    [Fact]
    public async Task Search_filters_by_collection()
    {
        var a = Sidecar(1, "x");
        a.Collections = [Member(BeachId, 1)];
        var b = Sidecar(2, "y");
        b.Collections = [Member(BeachId, 2), Member(AlpsId, 1)];
        var c = Sidecar(3, "x");
        var trashed = Sidecar(4, "x");
        trashed.Collections = [Member(BeachId, 3)];

        // collection: resolves names and ids through the catalog, so both collections are defined.
        await UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(1, 1, Digest("b")));
        await UpsertCollectionAsync(Collection(AlpsId, "Alps"), new FileStamp(2, 2, Digest("a")));
        await UpsertAsync(a, b, c);
        await UpsertTrashAsync(trashed);

        Assert.Equal(Sorted([a.Id, b.Id]), Sorted(await SearchAllAsync("collection:" + BeachId)));
        Assert.Equal(Sorted([a.Id, b.Id]), Sorted(await SearchAllAsync("collection:beach")));
        Assert.Equal([a.Id], await SearchAllAsync("x collection:" + BeachId));
        Assert.Equal([b.Id], await SearchAllAsync("collection:" + AlpsId));
        Assert.Empty(await SearchAllAsync("collection:ffffffffffff"));
    }

    [Fact]
    public async Task Search_orders_deterministically_with_the_id_as_tie_break()
    {
        // Ties on every sort key, so the id tie-break decides between some of them.
        var specs = new (int N, int Hours, long Size, int Tags)[]
        {
            (1, 1, 300, 1), (2, 2, 100, 3), (3, 2, 300, 3), (4, 0, 200, 0), (5, 2, 300, 3), (6, 1, 50, 2), (7, 3, 300, 1),
        };
        var media = new List<MediaSidecar>();
        foreach (var (n, hours, size, tags) in specs)
        {
            var sidecar = Sidecar(n, [.. Enumerable.Range(0, tags).Select(i => "tag" + i)]);
            sidecar.CreatedAt = T0.AddHours(hours);
            sidecar.UpdatedAt = T0.AddDays(10 - n); // must not influence the order
            sidecar.Original.Size = size;
            media.Add(sidecar);
        }

        await UpsertAsync([.. media]);
        var trashed = Sidecar(8, "tag0", "tag1", "tag2", "tag3", "tag4");
        trashed.CreatedAt = T0.AddHours(10);
        trashed.Original.Size = 10_000;
        await UpsertTrashAsync(trashed);

        var byId = media.OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
        var expected = new Dictionary<string, IEnumerable<MediaSidecar>>(StringComparer.Ordinal)
        {
            ["order:newest"] = byId.OrderByDescending(m => m.CreatedAt),
            ["order:oldest"] = byId.OrderBy(m => m.CreatedAt),
            ["order:id"] = byId,
            ["order:filesize"] = byId.OrderByDescending(m => m.Original.Size),
            ["order:tagcount"] = byId.OrderByDescending(m => m.Tags.Count),
        };

        foreach (var (order, sorted) in expected)
        {
            var page = await SearchAsync(order, limit: 100);
            Assert.Equal(media.Count, page.Total);
            Assert.Equal(sorted.Select(m => m.Id), page.Ids);
        }
    }

    [Fact]
    public async Task Newest_is_the_default_order()
    {
        var older = Sidecar(1);
        older.CreatedAt = T0;
        var newer = Sidecar(2);
        newer.CreatedAt = T0.AddSeconds(1);
        await UpsertAsync(older, newer);

        Assert.Equal([newer.Id, older.Id], (await SearchAsync(string.Empty)).Ids);
    }

    [Fact]
    public async Task Search_pages_with_limit_and_offset_and_reports_the_exact_total()
    {
        var media = new List<MediaSidecar>();
        for (var n = 0; n < 25; n++)
        {
            var sidecar = Sidecar(n, n % 2 == 0 ? ["even", "all"] : ["odd", "all"]);
            sidecar.CreatedAt = T0.AddHours(n % 7);
            media.Add(sidecar);
        }

        await UpsertAsync([.. media]);
        await UpsertTrashAsync(Sidecar(100, "all", "even"));

        var expected = media.OrderByDescending(m => m.CreatedAt).ThenBy(m => m.Id, StringComparer.Ordinal).Select(m => m.Id).ToList();
        var paged = new List<string>();
        for (var offset = 0; offset < 30; offset += 10)
        {
            var page = await SearchAsync("all order:newest", limit: 10, offset: offset);
            Assert.Equal(25, page.Total);
            Assert.Equal(Math.Min(10, 25 - offset), page.Ids.Count);
            paged.AddRange(page.Ids);
        }

        Assert.Equal(expected, paged);

        var beyond = await SearchAsync("all", limit: 10, offset: 40);
        Assert.Equal(25, beyond.Total);
        Assert.Empty(beyond.Ids);

        var even = await SearchAsync("even order:id", limit: 5, offset: 10);
        Assert.Equal(13, even.Total);
        Assert.Equal(media.Where((_, n) => n % 2 == 0).Select(m => m.Id).Order(StringComparer.Ordinal).Skip(10).Take(5), even.Ids);
    }

    [Fact]
    public async Task Search_never_returns_trashed_media()
    {
        var live = Sidecar(IdWithPrefix("ab", 1), "x");
        live.Collections = [Member(BeachId, 1)];
        var trashed = Sidecar(IdWithPrefix("ab", 2), "x");
        trashed.Collections = [Member(BeachId, 2)];
        trashed.CreatedAt = T0.AddYears(1);
        trashed.Original.Size = 1_000_000;
        await UpsertCollectionAsync(Collection(BeachId, "Beach"), new FileStamp(1, 1, Digest("b")));
        await UpsertAsync(live);
        await UpsertTrashAsync(trashed);

        var queries = new List<string>
        {
            string.Empty,
            "x",
            "-nope",
            "kind:image",
            "id:ab",
            "id:" + trashed.Id,
            "collection:" + BeachId,
        };
        queries.AddRange(Metatags.Orders.Select(o => "order:" + o));

        foreach (var query in queries)
        {
            var page = await SearchAsync(query);
            Assert.DoesNotContain(trashed.Id, page.Ids);
            Assert.Equal(page.Ids.Count, page.Total);
        }
    }
}
