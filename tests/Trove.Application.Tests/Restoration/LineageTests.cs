using System.Text.Json.Nodes;
using Trove.Domain;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Restoration;

/// <summary>Derived media carry their lineage in the files; the index and search follow it, and a rebuild keeps it.</summary>
public sealed class LineageTests
{
    /// <summary>Marks <paramref name="derived"/> as made from <paramref name="original"/> by a model, both directions, as a restore does.</summary>
    private static async Task DeriveAsync(TestLibrary t, string original, string derived, string model, string version, IReadOnlyDictionary<string, string> parameters)
    {
        await using var session = await t.Library.BeginWriteAsync(Ct);
        var result = session.Read(derived);
        result.Sidecar.DerivedFrom = new DerivationInfo { Id = original, Model = model, Version = version, Parameters = new(parameters.ToDictionary(), StringComparer.Ordinal), At = session.Now, By = "test" };
        result.Sidecar.Relations.Add(new RelationEntry { Type = RelationTypes.DerivedFrom, Target = original, CreatedAt = session.Now, CreatedBy = "test" });
        await session.SaveAsync(result.Sidecar, result.InTrash, Ct);
        var source = session.Read(original);
        source.Sidecar.Relations.Add(new RelationEntry { Type = RelationTypes.Derivative, Target = derived, CreatedAt = session.Now, CreatedBy = "test" });
        await session.SaveAsync(source.Sidecar, source.InTrash, Ct);
    }

    [Fact]
    public async Task Derived_derivedfrom_and_model_find_media_by_their_lineage_and_survive_a_rebuild()
    {
        await using var t = await CreateAsync();
        var ids = await t.ImportPngsAsync([1, 2, 3, 4]);
        await DeriveAsync(t, ids[0], ids[1], "swin2sr", "x2", new Dictionary<string, string> { ["scale"] = "2" });
        await DeriveAsync(t, ids[0], ids[2], "esrgan", "v1", new Dictionary<string, string> { ["scale"] = "4" });

        async Task Check()
        {
            string[] Sorted(params string[] x) => [.. x.Order(StringComparer.Ordinal)];
            Assert.Equal(Sorted(ids[1], ids[2]), (await t.SearchIdsAsync("derived:yes")).Order(StringComparer.Ordinal));
            Assert.Equal(Sorted(ids[0], ids[3]), (await t.SearchIdsAsync("derived:no")).Order(StringComparer.Ordinal));
            Assert.Equal(Sorted(ids[1], ids[2]), (await t.SearchIdsAsync($"derivedfrom:{ids[0][..8]}")).Order(StringComparer.Ordinal));
            Assert.Equal([ids[1]], await t.SearchIdsAsync("model:swin2sr"));
            Assert.Equal([ids[2]], await t.SearchIdsAsync($"derivedfrom:{ids[0]} -model:swin2sr"));
            Assert.Empty(await t.SearchIdsAsync($"derivedfrom:{ids[3][..6]}"));
        }

        await Check();
        await RebuildService.RebuildAsync(t.Library, null, Ct);
        await Check();

        var json = JsonNode.Parse(await File.ReadAllTextAsync(t.SidecarPath(ids[1])))!["derivedFrom"]!;
        Assert.Equal(ids[0], (string?)json["id"]);
        Assert.Equal("swin2sr", (string?)json["model"]);
        Assert.Equal("x2", (string?)json["version"]);
        Assert.Equal("2", (string?)json["parameters"]!["scale"]);
        Assert.Contains(t.ReadSidecar(ids[0]).Relations, r => r.Type == RelationTypes.Derivative && r.Target == ids[1]);
    }

    [Theory]
    [InlineData("derived:maybe", "derived: takes yes or no")]
    [InlineData("derivedfrom:abc", "derivedfrom: takes a media id")]
    [InlineData("derivedfrom:xyz123", "derivedfrom: takes a media id")]
    public async Task Bad_lineage_terms_name_the_term(string query, string message)
    {
        await using var t = await CreateAsync();
        var ex = await Assert.ThrowsAsync<TroveUsageException>(() => t.SearchIdsAsync(query));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_run_is_the_same_original_model_version_and_parameters()
    {
        var info = new DerivationInfo { Id = "a", Model = "m", Version = "1", Parameters = new(StringComparer.Ordinal) { ["scale"] = "2", ["tile"] = "256" } };
        Assert.True(info.SameRun("a", "m", "1", new Dictionary<string, string> { ["tile"] = "256", ["scale"] = "2" }));
        Assert.False(info.SameRun("a", "m", "1", new Dictionary<string, string> { ["scale"] = "2" }));
        Assert.False(info.SameRun("a", "m", "2", new Dictionary<string, string> { ["tile"] = "256", ["scale"] = "2" }));
        Assert.False(info.SameRun("b", "m", "1", new Dictionary<string, string> { ["tile"] = "256", ["scale"] = "2" }));
    }
}
