using System.Text.Json;
using Trove.Testing;

namespace Trove.Cli.Tests;

/// <summary>A WD14-like tagger generated in code (real ONNX model, Danbooru-style label file) copied into a library.</summary>
internal static class GeneratedTagger
{
    /// <summary>"photo" scores 0.9 on every image, "outdoors" 0.1: one label above threshold per image.</summary>
    public static readonly string[] Labels = ["photo", "outdoors"];

    public const int Size = 32;

    /// <summary>Writes models/wd14/model.onnx and selected_tags.csv into the library; answers their library-relative paths.</summary>
    public static (string Model, string Labels) Write(string library)
    {
        var folder = Path.Combine(library, "models", "wd14");
        Directory.CreateDirectory(folder);
        OnnxModels.Write(Path.Combine(folder, "model.onnx"), OnnxModels.Tagger(Labels, [ColourRule.Constant(0.9f), ColourRule.Constant(0.1f)], size: Size));
        File.WriteAllText(Path.Combine(folder, "selected_tags.csv"), OnnxModels.SelectedTagsCsv(Labels));
        return ("models/wd14/model.onnx", "models/wd14/selected_tags.csv");
    }

    /// <summary>The --parameters of a Danbooru-vocabulary tagger at this size.</summary>
    public static string Parameters(string extra = "") =>
        "{\"vocabulary\": \"danbooru\", \"autoSuggest\": false, \"preprocessing\": {\"size\": " + Size + "}" + extra + "}";
}

/// <summary>`trove models add --vocabulary-policy` and `trove models set`: what lands in models.json and what the command says.</summary>
[Collection(InProcessCollection.Name)]
public sealed class ModelCommandsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Library => _temp.Combine("library");

    public void Dispose() => _temp.Dispose();

    private JsonElement ModelsJson()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Library, "models.json")));
        return doc.RootElement.Clone();
    }

    private JsonElement Parameters(string id) =>
        ModelsJson().GetProperty("models").EnumerateArray().Single(m => m.GetProperty("id").GetString() == id).GetProperty("parameters");

    [Fact]
    public async Task Models_add_stores_the_vocabulary_policy_in_the_parameters_and_says_which_policy_is_in_force()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var (model, labels) = GeneratedTagger.Write(Library);

        // The flag lands in models.json as the "unmapped" parameter, beside the others.
        var added = (await Cli.InAsync(Library, "models", "add", "wd14", "--kind", "tagger", "--file", model, "--labels", labels, "--version", "v3",
            "--parameters", GeneratedTagger.Parameters(), "--vocabulary-policy", "create", "--json")).ShouldSucceed().Json;
        Assert.Equal("create", added.GetProperty("parameters").GetProperty("unmapped").GetString());
        var policy = added.GetProperty("vocabularyPolicy");
        Assert.Equal(("create", "parameters", false, 2, 2), (policy.GetProperty("policy").GetString(), policy.GetProperty("from").GetString(), policy.GetProperty("default").GetBoolean(), policy.GetProperty("labels").GetInt32(), policy.GetProperty("usable").GetInt32()));
        var stored = Parameters("wd14");
        Assert.Equal("create", stored.GetProperty("unmapped").GetString());
        Assert.Equal("danbooru", stored.GetProperty("vocabulary").GetString());
        Assert.Equal(GeneratedTagger.Size, stored.GetProperty("preprocessing").GetProperty("size").GetInt32());

        // A new version with only the flag keeps the model's other parameters.
        var v4 = (await Cli.InAsync(Library, "models", "add", "wd14", "--kind", "tagger", "--file", model, "--labels", labels, "--version", "v4", "--vocabulary-policy", "existing")).ShouldSucceed();
        Assert.Contains("Vocabulary policy: existing (set in its parameters)", v4.Stdout, StringComparison.Ordinal);
        stored = Parameters("wd14");
        Assert.Equal(("existing", "danbooru"), (stored.GetProperty("unmapped").GetString(), stored.GetProperty("vocabulary").GetString()));

        // Without the flag the default applies, and the command says so and what it means on a fresh library.
        var plain = (await Cli.InAsync(Library, "models", "add", "plain", "--kind", "tagger", "--file", model, "--labels", labels, "--parameters", GeneratedTagger.Parameters())).ShouldSucceed();
        Assert.Contains("Vocabulary policy: existing (the default", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("on a fresh library it suggests nothing", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("0 of its 2 labels are tags in this library now", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("trove models set plain --vocabulary-policy create", plain.Stdout, StringComparison.Ordinal);
        Assert.False(Parameters("plain").TryGetProperty("unmapped", out _));

        // `models set` changes the policy of a registered tagger and keeps the rest.
        var set = (await Cli.InAsync(Library, "models", "set", "plain", "--vocabulary-policy", "create", "--json")).ShouldSucceed().Json;
        Assert.Equal("create", set.GetProperty("vocabularyPolicy").GetProperty("policy").GetString());
        Assert.Equal(("create", "danbooru"), (Parameters("plain").GetProperty("unmapped").GetString(), Parameters("plain").GetProperty("vocabulary").GetString()));
    }

    [Fact]
    public async Task A_vocabulary_policy_that_conflicts_with_the_parameters_or_makes_no_sense_is_a_usage_error()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var (model, labels) = GeneratedTagger.Write(Library);
        string[] add = ["models", "add", "wd14", "--kind", "tagger", "--file", model, "--labels", labels];

        var conflict = await Cli.InAsync(Library, [.. add, "--parameters", GeneratedTagger.Parameters(", \"unmapped\": \"existing\""), "--vocabulary-policy", "create", "--json"]);
        conflict.ShouldExit(2);
        Assert.Equal("conflicting-options", conflict.ErrorCode());
        Assert.Contains("--parameters sets \"unmapped\": \"existing\" but --vocabulary-policy is create", conflict.Stderr, StringComparison.Ordinal);

        // The same value twice is no conflict.
        (await Cli.InAsync(Library, [.. add, "--parameters", GeneratedTagger.Parameters(", \"unmapped\": \"create\""), "--vocabulary-policy", "create"])).ShouldSucceed();

        var unknown = await Cli.InAsync(Library, "models", "add", "other", "--kind", "tagger", "--file", model, "--labels", labels, "--vocabulary-policy", "maybe", "--json");
        unknown.ShouldExit(2);
        Assert.Equal("bad-vocabulary-policy", unknown.ErrorCode());

        // ignore keeps only mapped labels: without a vocabulary to map them there would never be a suggestion.
        var pointless = await Cli.InAsync(Library, "models", "add", "other", "--kind", "tagger", "--file", model, "--labels", labels,
            "--parameters", "{\"preprocessing\": {\"size\": " + GeneratedTagger.Size + "}}", "--vocabulary-policy", "ignore", "--json");
        pointless.ShouldExit(2);
        Assert.Equal("model-parameters-invalid", pointless.ErrorCode());
        Assert.Equal(["wd14"], ModelsJson().GetProperty("models").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
    }
}
