using Trove.Application.Models;
using Trove.Domain;
using Trove.Domain.Models;
using Trove.Library;
using static Trove.Application.Tests.TestLibrary;

namespace Trove.Application.Tests.Models;

public sealed class ModelRegistryTests
{
    private static (string Model, string Labels) Files(TestLibrary t, int labels = 3)
    {
        var dir = Path.Combine(t.Library.Layout.Root, "models", "wd14");
        Directory.CreateDirectory(dir);
        var model = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(model, [1, 2, 3]);
        var csv = Path.Combine(dir, "selected_tags.csv");
        File.WriteAllText(csv, "tag_id,name,category,count\r\n" + string.Concat(Enumerable.Range(0, labels).Select(i => $"{i},tag_{i},0,10\r\n")));
        return (model, csv);
    }

    [Fact]
    public async Task Versions_are_added_activated_and_saved_in_models_json()
    {
        await using var t = await CreateAsync();
        var (model, labels) = Files(t);
        var registry = new ModelRegistry(t.Library);

        var added = await registry.AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, "models/wd14/model.onnx", "v1", "WD14", "models/wd14/selected_tags.csv"), Ct);
        Assert.Equal("v1", added.ActiveVersion?.Version);
        Assert.NotNull(added.ActiveVersion?.DeployedAt);

        await registry.AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, model, "v2", Labels: labels, Activate: false), Ct);
        Assert.Equal("v1", (await registry.GetAsync("wd14", Ct)).ActiveVersion?.Version);
        await registry.ActivateAsync("wd14", "v2", Ct);

        var reread = LibraryJson.ReadModels(await File.ReadAllBytesAsync(t.Library.Layout.ModelsPath, Ct), "models.json");
        var saved = Assert.Single(reread.Models);
        Assert.Equal(["v1", "v2"], saved.Versions.Select(v => v.Version));
        Assert.Equal("v2", saved.ActiveVersion?.Version);
        Assert.Equal(model, registry.Resolve(saved.Versions[1].File));
        Assert.Equal(Path.Combine(t.Library.Layout.Root, "models", "wd14", "model.onnx"), registry.Resolve(saved.Versions[0].File));
    }

    [Fact]
    public async Task Missing_files_and_bad_names_are_refused_and_nothing_is_saved()
    {
        await using var t = await CreateAsync();
        var (model, labels) = Files(t);
        var registry = new ModelRegistry(t.Library);

        var missing = await Assert.ThrowsAsync<TroveException>(() => registry.AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, "/nowhere/model.onnx", "v1", Labels: labels), Ct));
        Assert.Equal("model-file-missing", missing.Code);
        Assert.Contains("/nowhere/model.onnx", missing.Message, StringComparison.Ordinal);
        var noLabels = await Assert.ThrowsAsync<TroveException>(() => registry.AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, model, "v1"), Ct));
        Assert.Equal("labels-missing", noLabels.Code);
        Assert.Equal("bad-model-id", (await Assert.ThrowsAsync<TroveUsageException>(() => registry.AddAsync(new ModelAddRequest("WD 14", ModelKinds.Tagger, model, "v1", Labels: labels), Ct))).Code);
        Assert.Equal("bad-model-kind", (await Assert.ThrowsAsync<TroveUsageException>(() => registry.AddAsync(new ModelAddRequest("wd14", "painter", model, "v1", Labels: labels), Ct))).Code);
        Assert.False(File.Exists(t.Library.Layout.ModelsPath));

        await registry.AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, model, "v1", Labels: labels), Ct);
        Assert.Equal("model-version-exists", (await Assert.ThrowsAsync<TroveException>(() => registry.AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, model, "v1", Labels: labels), Ct))).Code);
        Assert.Equal("model-version-not-found", (await Assert.ThrowsAsync<TroveException>(() => registry.ActivateAsync("wd14", "v9", Ct))).Code);
        Assert.Equal("model-not-found", (await Assert.ThrowsAsync<TroveException>(() => registry.GetAsync("other", Ct))).Code);
    }

    [Fact]
    public async Task Without_onnx_runtime_the_check_says_so_instead_of_failing()
    {
        await using var t = await CreateAsync();
        var (model, labels) = Files(t);
        var registry = new ModelRegistry(t.Library);
        await registry.AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, model, "v1", Labels: labels), Ct);
        var problem = Assert.Single(await registry.CheckAsync(Ct));
        Assert.Equal("inference-unavailable", problem.Code);

        File.Delete(model);
        Assert.Equal("model-file-missing", Assert.Single(await registry.CheckAsync(Ct)).Code);
    }

    [Fact]
    public async Task A_hand_edited_models_json_with_mistakes_is_reported_with_where()
    {
        await using var t = await CreateAsync();
        var registry = new ModelRegistry(t.Library);
        await File.WriteAllTextAsync(t.Library.Layout.ModelsPath, "{\n  \"schema\": 1,\n  \"models\": [ { \"id\": \"a\", \"name\": \"A\", \"kind\": \"tagger\",\n  \"versions\": [ { \"version\": \"1\", \"file\": \"a.onnx\", \"active\": true }, { \"version\": \"2\", \"file\": \"b.onnx\", \"active\": true } ] } ]\n}", Ct);
        var invalid = await Assert.ThrowsAsync<FileFormatException>(() => registry.ListAsync(Ct));
        Assert.Equal("models-invalid", invalid.Code);
        Assert.Contains("2 active versions", invalid.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(t.Library.Layout.ModelsPath, "{\n  \"schema\": 1,\n  \"models\": [ oops ]\n}", Ct);
        var malformed = await Assert.ThrowsAsync<FileFormatException>(() => registry.ListAsync(Ct));
        Assert.Equal("models-malformed", malformed.Code);
        Assert.Equal(3, malformed.Line);
    }

    [Fact]
    public async Task Tagger_parameters_with_a_mistake_are_refused_naming_the_field()
    {
        await using var t = await CreateAsync();
        var (model, labels) = Files(t);
        var parameters = new System.Text.Json.Nodes.JsonObject { ["thresholds"] = new System.Text.Json.Nodes.JsonObject { ["general"] = "high" } };
        var ex = await Assert.ThrowsAnyAsync<TroveException>(() => new ModelRegistry(t.Library).AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, model, "v1", Labels: labels, Parameters: parameters), Ct));
        Assert.Contains("general", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(t.Library.Layout.ModelsPath));
    }

    [Fact]
    public async Task A_label_file_with_a_broken_row_is_refused_with_its_line()
    {
        await using var t = await CreateAsync();
        var (model, labels) = Files(t);
        await File.AppendAllTextAsync(labels, "7,,0,10\r\n", Ct);
        var ex = await Assert.ThrowsAnyAsync<TroveException>(() => new ModelRegistry(t.Library).AddAsync(new ModelAddRequest("wd14", ModelKinds.Tagger, model, "v1", Labels: labels), Ct));
        Assert.Contains("selected_tags.csv:5", ex.Message, StringComparison.Ordinal);
    }
}
