using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Index.Conformance;

public abstract partial class LibraryIndexConformanceTests
{
    [Fact]
    public async Task Perceptual_hashes_are_listed_for_library_images_only_with_all_64_bits()
    {
        var a = Sidecar(1);
        a.Original = new OriginalInfo { Ext = "jpg", MediaType = "image/jpeg", Size = 10, Width = 40, Height = 30, PHash = "ffffffffffffffff", DHash = "8000000000000001" };
        var b = Sidecar(2);
        b.Original = new OriginalInfo { Ext = "jpg", MediaType = "image/jpeg", Size = 20, Width = 4, Height = 3, PHash = "0123456789abcdef", DHash = "fedcba9876543210" };
        var noHash = Sidecar(3);
        var mask = Sidecar(4);
        mask.Kind = MediaKinds.Mask;
        mask.Mask = new MaskInfo { Source = a.Id, Category = "person" };
        mask.Original = new OriginalInfo { Ext = "png", MediaType = "image/png", Size = 5, PHash = "00000000000000ff", DHash = "00000000000000ff" };
        mask.Relations.Add(new RelationEntry { Type = RelationTypes.MaskOf, Target = a.Id });
        var trashed = Sidecar(5);
        trashed.Original = new OriginalInfo { Ext = "jpg", MediaType = "image/jpeg", Size = 5, PHash = "00000000000000ff", DHash = "00000000000000ff" };
        await UpsertAsync(a);
        await UpsertAsync(b);
        await UpsertAsync(noHash);
        await UpsertAsync(mask);
        await UpsertTrashAsync(trashed);

        var hashes = await Index.ListPerceptualHashesAsync(Ct);

        Assert.Equal([a.Id, b.Id], hashes.Select(h => h.Id));
        Assert.Equal(ulong.MaxValue, hashes[0].PHash);
        Assert.Equal(0x8000000000000001UL, hashes[0].DHash);
        Assert.Equal((40, 30, 10L), (hashes[0].Width, hashes[0].Height, hashes[0].Size));
        Assert.Equal(0x0123456789abcdefUL, hashes[1].PHash);
        Assert.Equal(0xfedcba9876543210UL, hashes[1].DHash);
        Assert.Equal([mask.Id], await Index.ReferencingAsync(a.Id, RelationTypes.MaskOf, Ct));
        Assert.Empty(await Index.ReferencingAsync(a.Id, RelationTypes.DuplicateOf, Ct));
    }
}
