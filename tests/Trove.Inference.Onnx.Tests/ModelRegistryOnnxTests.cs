using Trove.Application;
using Trove.Application.Models;
using Trove.Domain;
using Trove.Domain.Models;
using Trove.Index.Sqlite;
using Trove.Library;
using Trove.Testing;

namespace Trove.Inference.Onnx.Tests;

/// <summary>The registry's checks against real models loaded by the real runtime: label count and input rank.</summary>
public sealed class ModelRegistryOnnxTests : IAsyncLifetime
{
    private static readonly string[] Labels = ["red", "green", "blue"];
    private readonly TempFolder _folder = new();
    private TroveLibrary _library = null!;

    public async Task InitializeAsync()
    {
        var env = LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), new TroveOptions { Durability = Durability.Fast }) with { Inference = Ort.Engine };
        var path = Path.Combine(_folder.Path, "library");
        TroveLibrary.Init(path, env);
        _library = await TroveLibrary.OpenAsync(path, env, null, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _library.DisposeAsync();
        _folder.Dispose();
    }

    private string Csv(params string[] labels)
    {
        var path = Path.Combine(_folder.Path, $"tags-{labels.Length}.csv");
        File.WriteAllText(path, OnnxModels.SelectedTagsCsv(labels));
        return path;
    }

    [Fact]
    public async Task A_tagger_whose_labels_fit_its_outputs_is_registered_and_checks_clean()
    {
        var model = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, [ColourRule.Red, ColourRule.Green, ColourRule.Blue], size: 64));
        var registry = new ModelRegistry(_library);
        await registry.AddAsync(new ModelAddRequest("colours", ModelKinds.Tagger, model, "v1", Labels: Csv(Labels)), CancellationToken.None);
        Assert.Empty(await registry.CheckAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Label_count_that_differs_from_the_output_width_is_refused()
    {
        var model = _folder.Write("tagger.onnx", OnnxModels.Tagger(Labels, [ColourRule.Red, ColourRule.Green, ColourRule.Blue], size: 64));
        var registry = new ModelRegistry(_library);
        var ex = await Assert.ThrowsAsync<TroveException>(() => registry.AddAsync(new ModelAddRequest("colours", ModelKinds.Tagger, model, "v1", Labels: Csv("red", "green")), CancellationToken.None));
        Assert.Equal("labels-mismatch", ex.Code);
        Assert.Contains("2 labels", ex.Message, StringComparison.Ordinal);
        Assert.Contains("3 scores", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await registry.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_model_that_does_not_take_an_image_tensor_is_refused_as_a_tagger()
    {
        var model = _folder.Write("identity.onnx", OnnxModels.Identity([-1, 3]));
        var ex = await Assert.ThrowsAsync<TroveException>(() => new ModelRegistry(_library).AddAsync(new ModelAddRequest("flat", ModelKinds.Tagger, model, "v1", Labels: Csv(Labels)), CancellationToken.None));
        Assert.Equal("model-signature", ex.Code);
        Assert.Contains("rank 4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_is_not_a_model_is_refused_with_its_name()
    {
        var path = Path.Combine(_folder.Path, "broken.onnx");
        await File.WriteAllTextAsync(path, "not a model");
        var ex = await Assert.ThrowsAsync<TroveException>(() => new ModelRegistry(_library).AddAsync(new ModelAddRequest("broken", ModelKinds.Tagger, path, "v1", Labels: Csv(Labels)), CancellationToken.None));
        Assert.Equal("model-invalid", ex.Code);
        Assert.Contains("broken.onnx", ex.Message, StringComparison.Ordinal);
    }
}
