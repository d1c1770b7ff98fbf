using Trove.Application.Ports;
using Trove.Application.Similarity;
using Trove.Domain;
using Trove.Domain.Similarity;
using Xunit.Abstractions;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Imaging;

using TestImages = Trove.Testing.TestImages;

/// <summary>
/// Near-duplicates on real files through real libvips: a photo and a re-encoded, a resized and a slightly cropped copy
/// of the same pixels are one group; unrelated photos are not; similar:, merge and its refusals.
/// <para>
/// About crops: a 64-bit DCT pHash is not very tolerant of cropping. Measured on <see cref="TestImages.Photo"/> at
/// 640×480 (seeds 500–519), cutting 2% off each edge moves the hash by 2–10 bits (19 of 20 within 8), but 4% off each
/// edge by 2–16 bits (median 9; only 9 of 20 within 8) — the same with a box-filtered 32×32 sample taken from full
/// resolution, so it is the hash, not the sampling. The 2%-cropped copy is therefore expected at the default distance
/// of 8 and the 4%-cropped one (16 bits for this seed) only at a wider distance.
/// </para>
/// </summary>
public sealed class NearDuplicateTests(ITestOutputHelper output)
{
    private const int Seed = 500;
    private const int Width = 640;
    private const int Height = 480;

    /// <summary>A distance wide enough for the 4%-cropped copy and still far below unrelated photos (28–32 bits apart).</summary>
    private const int WideDistance = 20;

    /// <summary>The original, its copies and five unrelated photos, imported.</summary>
    private sealed record Family(string Original, string Reencoded, string Resized, string Cropped, string Cropped4, IReadOnlyList<string> Unrelated)
    {
        /// <summary>The copies within the default distance.</summary>
        public IReadOnlyList<string> Copies => [Reencoded, Resized, Cropped];

        /// <summary>The original and the copies within the default distance.</summary>
        public IReadOnlyList<string> Near => [Original, Reencoded, Resized, Cropped];

        public IReadOnlyList<string> All => [Original, Reencoded, Resized, Cropped, Cropped4];
    }

    private static EncodedImage Cropped(string path, double fraction)
    {
        int dx = (int)Math.Round(Width * fraction), dy = (int)Math.Round(Height * fraction);
        var image = Vips.Value.Render(path, new RenderRequest(new PixelRect(dx, dy, Width - (2 * dx), Height - (2 * dy)), null, ImageFormat.Jpeg, 75, ImageLimits.Default), Ct);
        Assert.Equal((Width - (2 * dx), Height - (2 * dy)), (image.Width, image.Height));
        return image;
    }

    private static async Task<Family> ImportFamilyAsync(TestLibrary lib)
    {
        var vips = Vips.Value;
        var dir = Path.Combine(lib.Sources, "family");
        Directory.CreateDirectory(dir);
        var original = Path.Combine(dir, "original.jpg");
        TestImages.WriteJpeg(original, TestImages.Photo(Seed, Width, Height), 90);

        // The copies come from the same pixels: the original file re-encoded, resized and cropped by libvips.
        var reencoded = vips.Render(original, new RenderRequest(null, null, ImageFormat.Jpeg, 60, ImageLimits.Default), Ct);
        var resized = vips.Render(original, new RenderRequest(null, Width / 2, ImageFormat.Jpeg, 75, ImageLimits.Default), Ct);
        Assert.Equal((Width / 2, Height / 2), (resized.Width, resized.Height));
        File.WriteAllBytes(Path.Combine(dir, "reencoded.jpg"), reencoded.Data);
        File.WriteAllBytes(Path.Combine(dir, "resized.jpg"), resized.Data);
        File.WriteAllBytes(Path.Combine(dir, "cropped.jpg"), Cropped(original, 0.02).Data);
        File.WriteAllBytes(Path.Combine(dir, "cropped4.jpg"), Cropped(original, 0.04).Data);

        var others = Path.Combine(lib.Sources, "others");
        Directory.CreateDirectory(others);
        for (var i = 1; i <= 5; i++)
        {
            TestImages.WriteJpeg(Path.Combine(others, $"other{i}.jpg"), TestImages.Photo(Seed + (i * 7919), Width, Height), 90);
        }

        var report = await lib.Media.ImportAsync([dir, others], new ImportOptions([], null, false), null, Ct);
        Assert.Empty(report.Failed);
        Assert.Equal(10, report.Imported);
        var byName = report.Media.Select(lib.ReadSidecar).ToDictionary(s => s.Original.OriginalName!, s => s.Id);
        return new Family(
            byName["original.jpg"], byName["reencoded.jpg"], byName["resized.jpg"], byName["cropped.jpg"], byName["cropped4.jpg"],
            Enumerable.Range(1, 5).Select(i => byName[$"other{i}.jpg"]).ToList());
    }

    private static ulong PHashOf(TestLibrary lib, string id)
    {
        Assert.True(PerceptualHash.TryParseHex(lib.ReadSidecar(id).Original.PHash, out var hash));
        return hash;
    }

    private static List<string> Sorted(IEnumerable<string> ids) => ids.Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Copies_of_one_photo_form_one_group_and_unrelated_photos_none()
    {
        await using var lib = await CreateWithImagingAsync();
        var family = await ImportFamilyAsync(lib);

        // The observed distances, for the record (and for anyone tuning the default of 8).
        var original = PHashOf(lib, family.Original);
        foreach (var (name, id) in new[] { ("re-encoded q60", family.Reencoded), ("resized 50%", family.Resized), ("cropped 2%", family.Cropped), ("cropped 4%", family.Cropped4) })
        {
            output.WriteLine($"pHash distance original → {name}: {PerceptualHash.Distance(original, PHashOf(lib, id))}");
        }

        var nearest = family.Unrelated.Min(id => PerceptualHash.Distance(original, PHashOf(lib, id)));
        output.WriteLine($"pHash distance original → nearest unrelated: {nearest}");
        Assert.True(nearest > WideDistance, $"an unrelated photo is only {nearest} bits away");

        var service = new NearDuplicateService(lib.Library);
        var groups = await service.FindGroupsAsync(NearDuplicateCriteria.DefaultMaxDistance, null, Ct);
        var group = Assert.Single(groups);
        Assert.Equal(Sorted(family.Near), Sorted(group.Ids.Where(id => id != family.Cropped4)));
        Assert.DoesNotContain(group.Ids, family.Unrelated.Contains);
        var first = group.Members.Single(m => m.Id == family.Original);
        Assert.Equal((Width, Height), (first.Width, first.Height));
        Assert.Equal(new FileInfo(lib.OriginalPath(family.Original, "jpg")).Length, first.Size);

        var wide = Assert.Single(await service.FindGroupsAsync(WideDistance, null, Ct));
        Assert.Equal(Sorted(family.All), Sorted(wide.Ids));
    }

    [Fact]
    public async Task Similar_finds_the_copies_nearest_first_and_the_similar_metatag_returns_them()
    {
        await using var lib = await CreateWithImagingAsync();
        var family = await ImportFamilyAsync(lib);
        var service = new NearDuplicateService(lib.Library);

        var similar = await service.SimilarAsync(family.Original[..8], NearDuplicateCriteria.DefaultMaxDistance, 100, Ct);
        Assert.Equal(Sorted(family.Copies), Sorted(similar.Select(s => s.Id).Where(id => id != family.Cropped4)));
        Assert.Equal(similar.Select(s => s.Distance).Order(), similar.Select(s => s.Distance));
        Assert.All(similar, s => Assert.InRange(s.Distance, 0, NearDuplicateCriteria.DefaultMaxDistance));
        var resized = similar.Single(s => s.Id == family.Resized);
        Assert.Equal((Width / 2, Height / 2), (resized.Width, resized.Height));
        Assert.Equal(Sorted(family.All.Skip(1)), Sorted((await service.SimilarAsync(family.Original, WideDistance, 100, Ct)).Select(s => s.Id)));
        Assert.Single(await service.SimilarAsync(family.Original, WideDistance, 1, Ct));

        // similar:ID6 (a 6-character prefix) through the search service: exactly the neighbours, not the image itself.
        var found = await lib.SearchIdsAsync($"similar:{family.Original[..6]}");
        Assert.Equal(Sorted(similar.Select(s => s.Id)), Sorted(found));
        Assert.DoesNotContain(family.Original, found);

        // Combined with other terms it is one more condition.
        await lib.Tags.AddAsync(family.Resized, ["keep_me"], Ct);
        Assert.Equal([family.Resized], await lib.SearchIdsAsync($"similar:{family.Original[..6]} keep_me"));
        Assert.Empty(await lib.SearchIdsAsync($"similar:{family.Unrelated[0][..6]}"));

        // Two similar: terms are both conditions (intersection), not "the last one wins".
        Assert.Empty(await lib.SearchIdsAsync($"similar:{family.Original[..6]} similar:{family.Unrelated[0][..6]}"));
        var nearResized = (await service.SimilarAsync(family.Resized, NearDuplicateCriteria.DefaultMaxDistance, 100, Ct)).Select(s => s.Id);
        Assert.Equal(
            Sorted(similar.Select(s => s.Id).Intersect(nearResized)),
            Sorted(await lib.SearchIdsAsync($"similar:{family.Original[..6]} similar:{family.Resized[..6]}")));

        // Too short a prefix is a usage error naming the term.
        var bad = await Assert.ThrowsAsync<TroveUsageException>(() => lib.SearchIdsAsync($"similar:{family.Original[..3]}"));
        Assert.Contains("similar:", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Merge_keeps_the_largest_unions_metadata_and_trashes_the_rest_restorably()
    {
        await using var lib = await CreateWithImagingAsync();
        var family = await ImportFamilyAsync(lib);
        await lib.Tags.AddAsync(family.Original, ["sunset"], Ct);
        await lib.Tags.AddAsync(family.Reencoded, ["beach", "sunset"], Ct);
        await lib.Tags.AddAsync(family.Cropped, ["sea"], Ct);
        await lib.Captions.SetAsync(family.Resized, "A beach at sunset.", Ct);
        await lib.Captions.SetAsync(family.Cropped, "Waves and sand.", Ct);
        await lib.Collections.CreateAsync("Holiday", null, Ct);
        await lib.Collections.AddAsync("Holiday", [family.Unrelated[0], family.Cropped], Ct);

        var merged = family.All.Skip(1).Append(family.Original).ToList();
        var report = await new NearDuplicateService(lib.Library).MergeAsync(merged.Select(id => id[..10]).ToList(), null, Ct);

        // The 640×480 original has the most pixels (the cropped copies are 614×460 and 588×442, the resized one 320×240).
        Assert.Equal(family.Original, report.Kept);
        Assert.Equal(Sorted(family.All.Skip(1)), Sorted(report.Trashed));
        Assert.Equal(["beach", "sea"], report.TagsAdded.Order(StringComparer.Ordinal));
        Assert.Equal(2, report.CaptionsAdded);
        Assert.Equal(1, report.CollectionsAdded);

        var keeper = lib.ReadSidecar(family.Original);
        Assert.Equal(["beach", "sea", "sunset"], keeper.Tags.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal(TagSources.Merge, keeper.Tags.Single(t => t.Name == "sea").Source);
        Assert.Equal(["A beach at sunset.", "Waves and sand."], keeper.Captions.Select(c => c.Text).Order(StringComparer.Ordinal));
        Assert.Single(keeper.Captions, c => c.Primary);
        Assert.Single(keeper.Collections);
        var holiday = await lib.Collections.ShowAsync("Holiday", Ct);
        Assert.Contains(family.Original, holiday.Members);
        Assert.DoesNotContain(family.Cropped, holiday.Members);
        Assert.Equal([family.Original], await lib.SearchIdsAsync("sea beach sunset"));

        foreach (var id in family.All.Skip(1))
        {
            var stored = lib.Library.Files.ReadSidecar(id);
            Assert.True(stored.InTrash, $"{id[..8]} is not in the trash");
            var relation = Assert.Single(stored.Sidecar.Relations, r => r.Type == RelationTypes.DuplicateOf);
            Assert.Equal(family.Original, relation.Target);
        }

        // Nothing is left to group; the trash is restorable and the relation stays on record.
        Assert.Empty(await new NearDuplicateService(lib.Library).FindGroupsAsync(NearDuplicateCriteria.DefaultMaxDistance, null, Ct));
        Assert.Equal([family.Resized], await lib.Media.RestoreAsync([family.Resized], Ct));
        var restored = lib.Library.Files.ReadSidecar(family.Resized);
        Assert.False(restored.InTrash);
        Assert.Equal(family.Original, Assert.Single(restored.Sidecar.Relations).Target);
        Assert.Contains(family.Resized, await lib.SearchIdsAsync(""));
    }

    [Fact]
    public async Task Merge_keeps_the_one_asked_for()
    {
        await using var lib = await CreateWithImagingAsync();
        var family = await ImportFamilyAsync(lib);
        await lib.Tags.AddAsync(family.Original, ["original_tag"], Ct);

        // --keep need not be repeated among the ids.
        var report = await new NearDuplicateService(lib.Library).MergeAsync([family.Original, family.Reencoded], family.Resized[..8], Ct);

        Assert.Equal(family.Resized, report.Kept);
        Assert.Equal(new[] { family.Original, family.Reencoded }.Order(StringComparer.Ordinal), report.Trashed.Order(StringComparer.Ordinal));
        Assert.Contains("original_tag", lib.TagsOf(family.Resized));
        Assert.True(lib.Library.Files.ReadSidecar(family.Original).InTrash);
        Assert.False(lib.Library.Files.ReadSidecar(family.Cropped).InTrash);
    }

    [Fact]
    public async Task Merging_trashed_or_single_media_is_a_usage_error_and_changes_nothing()
    {
        await using var lib = await CreateWithImagingAsync();
        var family = await ImportFamilyAsync(lib);
        var service = new NearDuplicateService(lib.Library);
        await lib.Media.DeleteAsync([family.Cropped], Ct);
        var before = FileTree.LibraryData(lib.Root);

        var trashed = await Assert.ThrowsAsync<TroveUsageException>(() => service.MergeAsync([family.Original, family.Cropped], null, Ct));
        Assert.Equal("merge-trashed", trashed.Code);
        Assert.Contains(family.Cropped[..12], trashed.Message, StringComparison.Ordinal);

        var single = await Assert.ThrowsAsync<TroveUsageException>(() => service.MergeAsync([family.Original], null, Ct));
        Assert.Equal("merge-needs-two", single.Code);
        var same = await Assert.ThrowsAsync<TroveUsageException>(() => service.MergeAsync([family.Original, family.Original[..8]], family.Original, Ct));
        Assert.Equal("merge-needs-two", same.Code);

        var distance = await Assert.ThrowsAsync<TroveUsageException>(() => service.FindGroupsAsync(NearDuplicateService.MaxDistance + 1, null, Ct));
        Assert.Equal("bad-distance", distance.Code);

        Assert.Equal(before, FileTree.LibraryData(lib.Root));
    }
}
