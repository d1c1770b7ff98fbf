using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests;

public sealed class CaptionTests
{
    private static string Describe(IEnumerable<CaptionEntry> captions) =>
        string.Join(" | ", captions.Select(c => $"{c.Id}{(c.Primary ? "*" : string.Empty)}:{c.Text}"));

    [Fact]
    public async Task Add_list_primary_remove_keep_one_primary_and_stable_numbers()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];

        // The first caption becomes primary even when not asked.
        var first = await t.Captions.AddAsync(id, "  a red square  ", primary: false, Ct);
        Assert.Equal("1*:a red square", Describe(first.Captions));

        await t.Captions.AddAsync(id, "second", primary: false, Ct);
        await t.Captions.AddAsync(id, "third", primary: true, Ct);
        Assert.Equal("1:a red square | 2:second | 3*:third", Describe((await t.Captions.ListAsync(id, Ct)).Captions));

        await t.Captions.MarkPrimaryAsync(id, 2, Ct);
        Assert.Equal("1:a red square | 2*:second | 3:third", Describe(t.ReadSidecar(id).Captions));

        // Removing a non-last caption keeps the others' numbers; new ones continue after the highest.
        await t.Captions.RemoveAsync(id, 1, Ct);
        await t.Captions.AddAsync(id, "fourth", primary: false, Ct);
        Assert.Equal("2*:second | 3:third | 4:fourth", Describe(t.ReadSidecar(id).Captions));

        // Removing the primary promotes the first remaining caption.
        await t.Captions.RemoveAsync(id, 2, Ct);
        var listing = await t.Captions.ListAsync(id[..8], Ct);
        Assert.Equal(id, listing.Id);
        Assert.Equal("3*:third | 4:fourth", Describe(listing.Captions));
        Assert.Single(listing.Captions, c => c.Primary);
    }

    [Fact]
    public async Task Set_edits_a_manual_primary_or_adds_one()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];

        await t.Captions.SetAsync(id, "hello", Ct);
        Assert.Equal("1*:hello", Describe(t.ReadSidecar(id).Captions));

        await t.Captions.SetAsync(id, "hello again", Ct);
        var captions = t.ReadSidecar(id).Captions;
        Assert.Equal("1*:hello again", Describe(captions));
        Assert.NotNull(captions[0].UpdatedAt);

        // A primary that did not come from a person (e.g. a model) is kept; set adds a new manual primary.
        t.EditSidecarJson(id, json => json["captions"]![0]!["source"] = "model");
        await t.ReopenAsync();
        await t.Captions.SetAsync(id, "by hand", Ct);
        captions = t.ReadSidecar(id).Captions;
        Assert.Equal("1:hello again | 2*:by hand", Describe(captions));
        Assert.Equal("model", captions[0].Source);
        Assert.Equal(CaptionSources.Manual, captions[1].Source);
    }

    [Fact]
    public async Task Bad_caption_requests_are_refused_without_writing()
    {
        await using var t = await CreateAsync();
        var id = (await t.ImportPngsAsync([1]))[0];
        await t.Captions.AddAsync(id, "only", primary: true, Ct);
        var before = await File.ReadAllBytesAsync(t.SidecarPath(id));

        var empty = await Assert.ThrowsAsync<TroveUsageException>(() => t.Captions.AddAsync(id, "   ", primary: false, Ct));
        Assert.Equal("empty-caption", empty.Code);
        var missing = await Assert.ThrowsAsync<TroveUsageException>(() => t.Captions.RemoveAsync(id, 7, Ct));
        Assert.Equal("caption-not-found", missing.Code);
        Assert.Contains("#7", missing.Message, StringComparison.Ordinal);
        Assert.Contains("#1", missing.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TroveUsageException>(() => t.Captions.MarkPrimaryAsync(id, 9, Ct));

        Assert.Equal(before, await File.ReadAllBytesAsync(t.SidecarPath(id)));
    }
}
