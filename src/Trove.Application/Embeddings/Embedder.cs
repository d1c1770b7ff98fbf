using Trove.Application.Inference;
using Trove.Domain;
using Trove.Domain.Embeddings;
using Trove.Domain.Models;
using Trove.Domain.Similarity;

namespace Trove.Application.Embeddings;

/// <summary>The library's embedder: the first embedder in models.json with an active local version.</summary>
public sealed record ActiveEmbedder(ModelDefinition Model, ModelVersionEntry Version, EmbedderParameters Parameters)
{
    /// <summary><c>model@version</c>: what embeddings, suggestions and near-duplicates name as their source.</summary>
    public string Reference => $"{Model.Id}@{Version.Version}";

    /// <summary>The file role of the text encoder in <see cref="ModelVersionEntry.Files"/>.</summary>
    public const string TextFile = "text";

    public const string VocabFile = "vocab";

    public const string MergesFile = "merges";

    public const string BpeFile = "bpe";

    /// <summary>The active embedder, or null when the library has none.</summary>
    public static ActiveEmbedder? Of(TroveLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        var model = library.Files.ReadModels().Models.FirstOrDefault(m => m.Kind == ModelKinds.Embedder && ModelProviders.IsLocal(m.Provider) && m.ActiveVersion is not null);
        return model is null ? null : new ActiveEmbedder(model, model.ActiveVersion!, EmbedderParameters.Parse(model.Parameters, model.Id));
    }

    /// <summary>The active embedder, or the error a semantic query or an embed job gives without one.</summary>
    public static ActiveEmbedder Require(TroveLibrary library) => Of(library) ?? throw new TroveException(
        "no-embedder",
        "The library has no embedder, so there are no embeddings to compare.",
        "Register a CLIP-style embedder: trove models add clip --kind embedder --file visual.onnx --text-file textual.onnx --vocab vocab.json --merges merges.txt (docs/semantic-search.md).");
}

/// <summary>
/// A loaded CLIP-style embedder: the image encoder (<c>[N,3,S,S]</c> float → <c>[N,D]</c>), the text encoder
/// (<c>[N,context]</c> token ids, and an attention mask when it takes one → <c>[N,D]</c>) and the tokenizer. Outputs are
/// L2-normalised here. Thread-safe; dispose to free the sessions.
/// </summary>
public sealed class Embedder : IDisposable
{
    private readonly IInferenceSession _image;
    private readonly IInferenceSession? _text;
    private readonly ClipTokenizer? _tokenizer;
    private readonly string _imageInput;
    private readonly int _imageOutput;
    private readonly int _textOutput;

    private Embedder(ActiveEmbedder active, IInferenceSession image, IInferenceSession? text, ClipTokenizer? tokenizer)
    {
        Active = active;
        _image = image;
        _text = text;
        _tokenizer = tokenizer;
        var file = Path.GetFileName(active.Version.File);
        if (image.Signature.Inputs.Count != 1 || image.Signature.Inputs[0].Rank != 4 || image.Signature.Inputs[0].ElementType != TensorElementType.Float32)
        {
            throw Signature($"the image encoder {file} must take one float tensor [N,3,{active.Parameters.Size},{active.Parameters.Size}], but takes {Describe(image.Signature.Inputs)}");
        }

        _imageInput = image.Signature.Inputs[0].Name;
        _imageOutput = EmbeddingOutput(image.Signature, "image_embeds", file);
        Dimensions = (int)image.Signature.Outputs[_imageOutput].Shape[1];
        if (text is not null)
        {
            var textName = Path.GetFileName(active.Version.Files?[ActiveEmbedder.TextFile]) ?? "text encoder";
            if (!text.Signature.Inputs.All(i => i.ElementType is TensorElementType.Int64 or TensorElementType.Int32 && i.Rank == 2))
            {
                throw Signature($"the text encoder {textName} must take token ids [N,{active.Parameters.ContextLength}] (int64 or int32), but takes {Describe(text.Signature.Inputs)}");
            }

            _textOutput = EmbeddingOutput(text.Signature, "text_embeds", textName);
            var textDims = text.Signature.Outputs[_textOutput].Shape[1];
            if (Dimensions > 0 && textDims > 0 && textDims != Dimensions)
            {
                throw Signature($"the image encoder gives {Dimensions}-d embeddings but the text encoder {textDims}-d; they must map into the same space");
            }

            Dimensions = Dimensions > 0 ? Dimensions : (int)textDims;
        }

        if (Dimensions <= 0)
        {
            throw Signature($"the image encoder {file} does not declare its embedding size (output [N,D] with a fixed D)");
        }
    }

    private readonly Dictionary<string, float[]> _prompts = new(StringComparer.Ordinal);

    public ActiveEmbedder Active { get; }

    public int Dimensions { get; }

    /// <summary>Whether text queries can be embedded (a text encoder and a tokenizer are registered).</summary>
    public bool HasText => _text is not null && _tokenizer is not null;

    /// <summary>Loads the active version's files (relative names are relative to the library).</summary>
    /// <exception cref="TroveException">model-file-missing, model-signature, or the tokenizer's file errors.</exception>
    /// <exception cref="InferenceException">inference-unavailable, model-invalid.</exception>
    public static Embedder Load(TroveLibrary library, ActiveEmbedder active)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(active);
        var registry = new Models.ModelRegistry(library);
        string Resolve(string role, string file)
        {
            var path = registry.Resolve(file);
            return File.Exists(path) ? path : throw new TroveException("model-file-missing", $"Embedder '{active.Reference}': its {role} {path} does not exist.", "Put the file back, or register the embedder again (trove models add).");
        }

        var files = active.Version.Files ?? [];
        var imagePath = Resolve("image encoder", active.Version.File);
        var textPath = files.TryGetValue(ActiveEmbedder.TextFile, out var t) ? Resolve("text encoder", t) : null;
        ClipTokenizer? tokenizer = null;
        if (files.TryGetValue(ActiveEmbedder.BpeFile, out var bpe))
        {
            tokenizer = ClipTokenizer.LoadClipBpe(Resolve("BPE file", bpe), active.Parameters.TokenizerOptions);
        }
        else if (files.TryGetValue(ActiveEmbedder.VocabFile, out var vocab) && files.TryGetValue(ActiveEmbedder.MergesFile, out var merges))
        {
            tokenizer = ClipTokenizer.LoadHuggingFace(Resolve("vocabulary", vocab), Resolve("merges file", merges), active.Parameters.TokenizerOptions);
        }

        var image = library.Inference.Load(imagePath, new InferenceSessionOptions());
        IInferenceSession? text = null;
        try
        {
            text = textPath is null ? null : library.Inference.Load(textPath, new InferenceSessionOptions());
            return new Embedder(active, image, text, tokenizer);
        }
        catch
        {
            image.Dispose();
            text?.Dispose();
            throw;
        }
    }

    /// <summary>Embeds a batch of prepared image tensors (<paramref name="count"/> × 3 × S × S floats): one unit vector each.</summary>
    public float[][] EmbedImages(ReadOnlyMemory<float> tensors, int count, CancellationToken ct)
    {
        var size = Active.Parameters.Size;
        var outputs = _image.Run([new InputTensor(_imageInput, tensors, [count, 3, size, size])], ct);
        return Split(outputs[_imageOutput], count);
    }

    /// <summary>The unit vector of a text query.</summary>
    /// <exception cref="TroveException">no-text-encoder when the embedder was registered without one.</exception>
    public float[] EmbedText(string text, CancellationToken ct)
    {
        if (_text is null || _tokenizer is null)
        {
            throw new TroveException(
                "no-text-encoder",
                $"The embedder '{Active.Reference}' has no text encoder{(_text is null ? string.Empty : " tokenizer")}, so semantic:\"…\" cannot be answered (like:ID still can).",
                "Register the version again with --text-file textual.onnx and --vocab vocab.json --merges merges.txt (or --bpe bpe_simple_vocab_16e6.txt.gz).");
        }

        var context = _tokenizer.ContextLength;
        var ids = new long[context];
        var mask = new long[context];
        _tokenizer.EncodeInto<long>(text, ids, mask);
        var inputs = new List<InputTensor>();
        foreach (var input in _text.Signature.Inputs)
        {
            var isMask = input.Name.Contains("mask", StringComparison.OrdinalIgnoreCase);
            inputs.Add(InputTensor.Int64(input.Name, isMask ? mask : ids, [1, context]));
        }

        var outputs = _text.Run(inputs, ct);
        return Split(outputs[_textOutput], 1)[0];
    }

    /// <summary>
    /// The unit vectors of many fixed texts (zero-shot prompts), each computed once while this embedder is loaded and
    /// then answered from memory.
    /// </summary>
    public float[][] EmbedPrompts(IReadOnlyList<string> prompts, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var result = new float[prompts.Count][];
        for (var i = 0; i < prompts.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            lock (_prompts)
            {
                if (_prompts.TryGetValue(prompts[i], out var known))
                {
                    result[i] = known;
                    continue;
                }
            }

            var vector = EmbedText(prompts[i], ct);
            lock (_prompts)
            {
                _prompts[prompts[i]] = vector;
            }

            result[i] = vector;
        }

        return result;
    }

    public void Dispose()
    {
        _image.Dispose();
        _text?.Dispose();
    }

    private float[][] Split(OutputTensor output, int count)
    {
        if (output.Shape.Count != 2 || output.Shape[0] != count || output.Shape[1] != Dimensions)
        {
            throw Signature($"the model gave {output.Name} [{string.Join(",", output.Shape)}] for {count} inputs; [{count},{Dimensions}] was expected");
        }

        var result = new float[count][];
        for (var i = 0; i < count; i++)
        {
            result[i] = UnitVector.TryNormalize(output.Data.AsSpan(i * Dimensions, Dimensions))
                ?? throw new TroveException("embedding-invalid", $"Embedder '{Active.Reference}' gave a zero or non-finite embedding.");
        }

        return result;
    }

    // The output holding the embeddings: the one with the conventional name, else the first of shape [N,D].
    private int EmbeddingOutput(ModelSignature signature, string conventional, string file)
    {
        for (var i = 0; i < signature.Outputs.Count; i++)
        {
            if (signature.Outputs[i].Name == conventional && signature.Outputs[i].Rank == 2)
            {
                return i;
            }
        }

        for (var i = 0; i < signature.Outputs.Count; i++)
        {
            if (signature.Outputs[i].Rank == 2)
            {
                return i;
            }
        }

        throw Signature($"{file} gives no embedding of shape [N,D] (its outputs are {Describe(signature.Outputs)})");
    }

    private TroveException Signature(string what) => new("model-signature", $"Embedder '{Active.Reference}': {what}.", "See docs/semantic-search.md, \"Installing a real CLIP\".");

    private static string Describe(IReadOnlyList<TensorInfo> tensors) =>
        string.Join(", ", tensors.Select(t => $"{t.Name} {t.ElementType} [{string.Join(",", t.Shape)}]"));
}
