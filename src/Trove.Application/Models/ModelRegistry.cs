using System.Text.Json.Nodes;
using Trove.Application.Inference;
using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Application.Models;

/// <summary>What registering a model takes (CLI <c>trove models add</c>, later the API).</summary>
/// <param name="VocabularyPolicy">
/// A tagger's policy for labels no mapping names (<c>--vocabulary-policy</c>): stored as the <c>unmapped</c> parameter.
/// Without <paramref name="Parameters"/>, a new version of an existing model keeps the model's other parameters.
/// </param>
public sealed record ModelAddRequest(
    string Id,
    string Kind,
    string File,
    string Version,
    string? Name = null,
    string? Labels = null,
    string? Description = null,
    string? Category = null,
    IReadOnlyList<string>? Tags = null,
    JsonObject? Parameters = null,
    JsonObject? Metrics = null,
    bool Activate = true,
    string Provider = ModelProviders.Onnx,
    Tagging.UnmappedPolicy? VocabularyPolicy = null)
{
    /// <summary>Further files by role (embedders: text, vocab, merges or bpe; see <see cref="ModelVersionEntry.Files"/>).</summary>
    public IReadOnlyDictionary<string, string>? Files { get; init; }
}

/// <summary>One problem found when checking a model version against its files and the runtime.</summary>
public sealed record ModelProblem(string Model, string Version, string Code, string Message);

/// <summary>
/// The model registry of a library (<c>models.json</c>): list, add versions, activate one, remove, and check that each
/// active version's files exist and fit together — the model loads, a tagger takes one image tensor (rank 4) and its
/// label file has as many labels as the model has outputs. Checks that need ONNX Runtime are skipped (and said so)
/// when it is missing.
/// </summary>
public sealed class ModelRegistry(TroveLibrary library)
{
    public Task<IReadOnlyList<ModelDefinition>> ListAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<ModelDefinition>>(library.Files.ReadModels().Models);
    }

    public async Task<ModelDefinition> GetAsync(string id, CancellationToken ct) =>
        (await ListAsync(ct).ConfigureAwait(false)).FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal))
        ?? throw new TroveException("model-not-found", $"There is no model '{id}' in {Trove.Library.LibraryLayout.ModelsFileName}.", "List models with 'trove models list'.");

    /// <summary>The absolute path of a file named in the registry (relative names are relative to the library root).</summary>
    public string Resolve(string file) => Path.IsPathRooted(file) ? file : Path.GetFullPath(Path.Combine(library.Layout.Root, file));

    /// <summary>Adds a model, or a new version of an existing one, after checking its files; activates it unless told not to.</summary>
    public async Task<ModelDefinition> AddAsync(ModelAddRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!ModelDefinition.IsValidId(request.Id))
        {
            throw new TroveUsageException("bad-model-id", $"'{request.Id}' is not a valid model id.", "Use 1–64 lowercase letters, digits, '-', '_' or '.'.");
        }

        if (!ModelKinds.All.Contains(request.Kind, StringComparer.Ordinal))
        {
            throw new TroveUsageException("bad-model-kind", $"Unknown model kind '{request.Kind}'.", $"Use one of: {string.Join(", ", ModelKinds.All)}.");
        }

        if (request.VocabularyPolicy is { } asked)
        {
            if (request.Kind != ModelKinds.Tagger)
            {
                throw new TroveUsageException("bad-vocabulary-policy", $"A vocabulary policy is for taggers; '{request.Id}' is a {request.Kind}.", "Leave out --vocabulary-policy.");
            }

            if (request.Parameters?[Tagging.TaggerParameters.UnmappedParameter] is { } given
                && (given is not JsonValue v || !v.TryGetValue<string>(out var text) || !Tagging.TagMappingSet.TryParsePolicy(text, out var stated) || stated != asked))
            {
                throw new TroveUsageException(
                    "conflicting-options",
                    $"--parameters sets \"{Tagging.TaggerParameters.UnmappedParameter}\": {given.ToJsonString()} but --vocabulary-policy is {Tagging.TagMappingSet.PolicyName(asked)}.",
                    "Give the vocabulary policy once: either --vocabulary-policy or \"unmapped\" in --parameters.");
            }
        }

        if (request.Kind == ModelKinds.Tagger && (request.Parameters is not null || request.VocabularyPolicy is null))
        {
            // Settings are checked now, so that a typo is refused at registration rather than at the first suggestion job
            // (a policy alone joins the model's parameters of before: checked once merged, below).
            Tagging.TaggerParameters.Parse(WithPolicy(request.Parameters, request.VocabularyPolicy), request.Id);
        }

        if (request.Kind == ModelKinds.Captioner)
        {
            Captioning.CaptionerParameters.Parse(request.Parameters, request.Id);
        }
        else if (request.Kind is ModelKinds.Upscaler or ModelKinds.Restorer)
        {
            Restoration.UpscalerParameters.Parse(request.Parameters, request.Id);
        }
        else if (request.Kind == ModelKinds.FaceDetector)
        {
            Faces.FaceDetectorParameters.Parse(request.Parameters, request.Id);
        }
        else if (request.Kind == ModelKinds.FaceEmbedder)
        {
            Faces.FaceEmbedderParameters.Parse(request.Parameters, request.Id);
        }
        else if (request.Kind == ModelKinds.Embedder)
        {
            var embedder = Embeddings.EmbedderParameters.Parse(request.Parameters, request.Id);
            if (embedder.ZeroShot.Enabled && request.Files?.ContainsKey(Embeddings.ActiveEmbedder.TextFile) != true)
            {
                throw new TroveUsageException("zero-shot-needs-text", $"Embedder '{request.Id}': zeroShot compares images with text prompts, so it needs the text encoder.", "Add --text-file textual.onnx with its tokenizer (--vocab/--merges or --bpe), or leave zeroShot off.");
            }
        }

        if (request.Files is { Count: > 0 } extra)
        {
            if (request.Kind != ModelKinds.Embedder)
            {
                throw new TroveUsageException("conflicting-options", $"--text-file, --vocab, --merges and --bpe are for embedders; '{request.Id}' is a {request.Kind}.");
            }

            if (extra.ContainsKey(Embeddings.ActiveEmbedder.VocabFile) != extra.ContainsKey(Embeddings.ActiveEmbedder.MergesFile))
            {
                throw new TroveUsageException("tokenizer-incomplete", "A CLIP tokenizer needs both --vocab vocab.json and --merges merges.txt (or --bpe bpe_simple_vocab_16e6.txt.gz alone).");
            }

            if (extra.ContainsKey(Embeddings.ActiveEmbedder.TextFile) && extra.Count == 1)
            {
                throw new TroveUsageException("tokenizer-missing", "A text encoder needs its tokenizer: add --vocab vocab.json --merges merges.txt (or --bpe bpe_simple_vocab_16e6.txt.gz).");
            }
        }

        CheckProvider(request);
        var version = new ModelVersionEntry
        {
            Version = string.IsNullOrWhiteSpace(request.Version) ? "1" : request.Version.Trim(),
            File = request.File,
            Labels = request.Labels,
            Files = request.Files is { Count: > 0 } named ? new Dictionary<string, string>(named, StringComparer.Ordinal) : null,
            Metrics = request.Metrics,
        };
        var problems = Check(request.Id, request.Kind, request.Provider, version, request.Parameters ?? library.Files.ReadModels().Find(request.Id)?.Parameters);
        if (problems.FirstOrDefault(p => p.Code != "inference-unavailable") is { } problem)
        {
            throw new TroveException(problem.Code, problem.Message, "Nothing was registered. Fix the file or the options and run the command again.");
        }

        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var catalog = library.Files.ReadModels();
        var model = catalog.Find(request.Id);
        if (model is null)
        {
            model = new ModelDefinition { Id = request.Id, Kind = request.Kind, Provider = request.Provider };
            catalog.Models.Add(model);
        }
        else if (model.Kind != request.Kind)
        {
            throw new TroveException("conflict", $"Model '{model.Id}' is a {model.Kind}, not a {request.Kind}.", "Use another id for a different kind of model.");
        }
        else if (model.Provider != request.Provider)
        {
            throw new TroveException("conflict", $"Model '{model.Id}' runs on '{model.Provider}', not '{request.Provider}'.", "Use another id for the model on another provider.");
        }

        if (model.Versions.Any(v => v.Version == version.Version))
        {
            throw new TroveException("model-version-exists", $"Model '{model.Id}' already has a version '{version.Version}'.", "Give the new file another --version.");
        }

        model.Name = request.Name ?? (string.IsNullOrWhiteSpace(model.Name) ? request.Id : model.Name);
        model.Description = request.Description ?? model.Description;
        model.Category = request.Category ?? model.Category;
        model.Tags = request.Tags?.ToList() ?? model.Tags;
        var parameters = WithPolicy(request.Parameters ?? model.Parameters, request.VocabularyPolicy);
        if (request.VocabularyPolicy is not null)
        {
            // Merged into the model's parameters of before: checked again as a whole.
            Tagging.TaggerParameters.Parse(parameters, request.Id);
        }

        model.Parameters = parameters;
        model.Versions.Add(version);
        if (request.Activate || model.Versions.Count == 1)
        {
            Activate(model, version.Version);
        }

        session.SaveModels(catalog);
        session.Audit("model-add", model.Id, version.Version);
        return model;
    }

    /// <summary>
    /// Sets a registered tagger's vocabulary policy (its <c>unmapped</c> parameter; the other parameters stay). Running
    /// workers pick it up at their next job.
    /// </summary>
    public async Task<ModelDefinition> SetVocabularyPolicyAsync(string id, Tagging.UnmappedPolicy policy, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var catalog = library.Files.ReadModels();
        var model = catalog.Find(id) ?? throw new TroveException("model-not-found", $"There is no model '{id}'.", "List models with 'trove models list'.");
        if (model.Kind != ModelKinds.Tagger)
        {
            throw new TroveUsageException("bad-vocabulary-policy", $"A vocabulary policy is for taggers; '{id}' is a {model.Kind}.");
        }

        var parameters = WithPolicy(model.Parameters, policy);
        Tagging.TaggerParameters.Parse(parameters, model.Id);
        model.Parameters = parameters;
        session.SaveModels(catalog);
        session.Audit("model-set", model.Id, $"{Tagging.TaggerParameters.UnmappedParameter}={Tagging.TagMappingSet.PolicyName(policy)}");
        return model;
    }

    /// <summary>
    /// A model on a remote provider: the provider must exist, the kind must be one that runs remotely (captioners and
    /// taggers), and there is no file to give. A local model needs its file; a local captioner is not supported yet.
    /// </summary>
    private void CheckProvider(ModelAddRequest request)
    {
        if (ModelProviders.IsLocal(request.Provider))
        {
            if (string.IsNullOrWhiteSpace(request.File))
            {
                throw new TroveUsageException("model-file-missing", $"Model '{request.Id}' runs locally and needs --file model.onnx.", "Or register it on a remote provider with --provider NAME ('trove providers list').");
            }

            if (request.Kind == ModelKinds.Captioner)
            {
                throw new TroveUsageException(
                    "captioner-local-unsupported",
                    "Captioners run on a remote provider for now (an OpenAI-compatible or hf-inference service); a local ONNX image-to-text model is not supported.",
                    "Add a provider ('trove providers add NAME --kind openai --url URL --model M') and register the captioner with --provider NAME.");
            }

            return;
        }

        if (!ModelProviders.IsValid(request.Provider))
        {
            throw new TroveUsageException("bad-provider", $"'{request.Provider}' is neither 'onnx' nor a provider name.", "List providers with 'trove providers list'.");
        }

        new Providers.ProviderRegistry(library).Get(request.Provider);
        if (request.Kind is not (ModelKinds.Captioner or ModelKinds.Tagger or ModelKinds.Upscaler or ModelKinds.Restorer))
        {
            throw new TroveUsageException("remote-kind-unsupported", $"A {request.Kind} cannot run on a remote provider; captioners, taggers, upscalers and restorers can.", "Register it as a local ONNX file with --file.");
        }

        if (!string.IsNullOrWhiteSpace(request.File))
        {
            throw new TroveUsageException("conflicting-options", $"Model '{request.Id}' runs on provider '{request.Provider}', so it has no --file.", "Leave out --file (the provider's settings name the remote model).");
        }
    }

    /// <summary>Makes one version the active one (the others stay registered).</summary>
    public async Task<ModelDefinition> ActivateAsync(string id, string versionName, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var catalog = library.Files.ReadModels();
        var model = catalog.Find(id) ?? throw new TroveException("model-not-found", $"There is no model '{id}'.", "List models with 'trove models list'.");
        var version = model.Versions.FirstOrDefault(v => v.Version == versionName)
            ?? throw new TroveException("model-version-not-found", $"Model '{id}' has no version '{versionName}' (it has {string.Join(", ", model.Versions.Select(v => v.Version))}).");
        if (Check(model.Id, model.Kind, model.Provider, version, model.Parameters).FirstOrDefault(p => p.Code != "inference-unavailable") is { } problem)
        {
            throw new TroveException(problem.Code, problem.Message, "The active version was not changed.");
        }

        Activate(model, version.Version);
        session.SaveModels(catalog);
        session.Audit("model-activate", model.Id, version.Version);
        return model;
    }

    public async Task RemoveAsync(string id, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var catalog = library.Files.ReadModels();
        var model = catalog.Find(id) ?? throw new TroveException("model-not-found", $"There is no model '{id}'.", "List models with 'trove models list'.");
        catalog.Models.Remove(model);
        session.SaveModels(catalog);
        session.Audit("model-remove", model.Id);
    }

    /// <summary>Checks every model's active version; an empty list means everything loads and fits.</summary>
    public async Task<IReadOnlyList<ModelProblem>> CheckAsync(CancellationToken ct)
    {
        var problems = new List<ModelProblem>();
        foreach (var model in await ListAsync(ct).ConfigureAwait(false))
        {
            if (model.ActiveVersion is { } version)
            {
                problems.AddRange(Check(model.Id, model.Kind, model.Provider, version, model.Parameters));
            }
        }

        return problems;
    }

    // The parameters with "unmapped" set to the policy (a copy; the given object is left as it is), or as they are.
    private static JsonObject? WithPolicy(JsonObject? parameters, Tagging.UnmappedPolicy? policy)
    {
        if (policy is not { } p)
        {
            return parameters;
        }

        var copy = parameters?.DeepClone() as JsonObject ?? [];
        copy[Tagging.TaggerParameters.UnmappedParameter] = Tagging.TagMappingSet.PolicyName(p);
        return copy;
    }

    private void Activate(ModelDefinition model, string version)
    {
        foreach (var v in model.Versions)
        {
            v.Active = v.Version == version;
            if (v.Active)
            {
                v.DeployedAt = library.Now;
            }
        }
    }

    private List<ModelProblem> Check(string id, string kind, string provider, ModelVersionEntry version, JsonObject? parameters = null)
    {
        var problems = new List<ModelProblem>();
        void Add(string code, string message) => problems.Add(new ModelProblem(id, version.Version, code, message));
        if (provider != ModelProviders.Onnx)
        {
            return problems;
        }

        var file = Resolve(version.File);
        if (!System.IO.File.Exists(file))
        {
            Add("model-file-missing", $"Model '{id}' version '{version.Version}': the model file {file} does not exist.");
            return problems;
        }

        int? labels = null;
        if (version.Labels is { } labelFile)
        {
            var path = Resolve(labelFile);
            if (!System.IO.File.Exists(path))
            {
                Add("labels-missing", $"Model '{id}' version '{version.Version}': the label file {path} does not exist.");
                return problems;
            }

            try
            {
                labels = Tagging.TaggerLabelSet.Load(path).Count;
            }
            catch (Trove.Library.FileFormatException ex)
            {
                Add(ex.Code, $"Model '{id}' version '{version.Version}': {ex.Message}");
                return problems;
            }
        }
        else if (kind == ModelKinds.Tagger)
        {
            Add("labels-missing", $"Model '{id}' version '{version.Version}': a tagger needs a label file (selected_tags.csv).");
            return problems;
        }

        foreach (var (role, name) in version.Files ?? [])
        {
            if (!System.IO.File.Exists(Resolve(name)))
            {
                Add("model-file-missing", $"Model '{id}' version '{version.Version}': its {role} file {Resolve(name)} does not exist.");
                return problems;
            }
        }

        if (!library.Inference.Status.Available)
        {
            Add("inference-unavailable", $"Model '{id}' version '{version.Version}' was not loaded to check it: {library.Inference.Status.Message}");
            return problems;
        }

        if (kind == ModelKinds.Embedder)
        {
            try
            {
                var model = library.Files.ReadModels().Find(id);
                var definition = new ModelDefinition { Id = id, Kind = kind, Parameters = model?.Parameters, Versions = [version] };
                using var embedder = Embeddings.Embedder.Load(library, new Embeddings.ActiveEmbedder(definition, version, Embeddings.EmbedderParameters.Parse(definition.Parameters, id)));
            }
            catch (Exception ex) when (ex is TroveException or InferenceException)
            {
                var code = ex switch { TroveException t => t.Code, InferenceException i => i.Code, _ => "model-invalid" };
                Add(code, $"Model '{id}' version '{version.Version}': {ex.Message}");
            }

            return problems;
        }

        if (kind is ModelKinds.FaceDetector or ModelKinds.FaceEmbedder)
        {
            try
            {
                var definition = new ModelDefinition { Id = id, Kind = kind, Parameters = parameters, Versions = [version] };
                using IDisposable loaded = kind == ModelKinds.FaceDetector
                    ? Faces.FaceDetector.Load(library, definition, version, Faces.FaceDetectorParameters.Parse(definition.Parameters, id))
                    : Faces.FaceEmbedder.Load(library, definition, version, Faces.FaceEmbedderParameters.Parse(definition.Parameters, id));
            }
            catch (Exception ex) when (ex is TroveException or InferenceException)
            {
                var code = ex switch { TroveException t => t.Code, InferenceException i => i.Code, _ => "model-invalid" };
                Add(code, $"Model '{id}' version '{version.Version}': {ex.Message}");
            }

            return problems;
        }

        try
        {
            using var session = library.Inference.Load(file, new InferenceSessionOptions(1));
            var signature = session.Signature;
            if (kind == ModelKinds.Tagger)
            {
                if (signature.Inputs.Count != 1 || signature.Inputs[0].Rank != 4)
                {
                    Add("model-signature", $"Model '{id}' version '{version.Version}': a tagger takes one image tensor of rank 4 ([N,H,W,3] or [N,3,H,W]), but {Path.GetFileName(file)} takes {Describe(signature.Inputs)}.");
                }
                else if (signature.Outputs.Count == 0 || signature.Outputs[0].Shape.Count != 2)
                {
                    Add("model-signature", $"Model '{id}' version '{version.Version}': a tagger gives scores of shape [N,labels], but {Path.GetFileName(file)} gives {Describe(signature.Outputs)}.");
                }
                else if (labels is { } count && signature.Outputs[0].Shape[1] is var width && width > 0 && width != count)
                {
                    Add("labels-mismatch", $"Model '{id}' version '{version.Version}': the label file has {count} labels but the model gives {width} scores.");
                }
            }
        }
        catch (InferenceException ex)
        {
            Add(ex.Code, $"Model '{id}' version '{version.Version}': {ex.Message}");
        }

        return problems;
    }

    private static string Describe(IReadOnlyList<TensorInfo> tensors) =>
        string.Join(", ", tensors.Select(t => $"{t.Name} [{string.Join(",", t.Shape)}]"));

}
