namespace Trove.Testing;

/// <summary>
/// The generated CLIP-signature pair the semantic-search tests register: an image encoder whose embedding is the image's
/// CLIP-normalised mean colour (<see cref="OnnxModels.ClipImageEncoder"/>) and a text encoder that maps "red", "green"
/// and "blue" to the directions pure colours get (<see cref="OnnxModels.ClipTextEncoder"/>), with its tokenizer files.
/// </summary>
public static class ClipPair
{
    /// <summary>The image encoder's input side (small, so tests run fast).</summary>
    public const int Size = 32;

    /// <summary>The words the vocabulary holds whole.</summary>
    public static ClipVocabulary Vocabulary { get; } = new("red", "green", "blue", "photo", "of", "dog");

    /// <summary>The direction the image encoder gives a pure colour after CLIP's normalisation: + on its channel, − on the others.</summary>
    public static float[] Direction(int channel) => [.. Enumerable.Range(0, 4).Select(c => c == channel ? 1f : c == 3 ? 0f : -1f)];

    /// <summary>Writes both models and the tokenizer files into <paramref name="folder"/>; returns their paths.</summary>
    public static (string Image, string Text, string Vocab, string Merges) Write(string folder, string suffix = "")
    {
        Directory.CreateDirectory(folder);
        var rows = new Dictionary<int, float[]>
        {
            [Vocabulary.Word("red")] = Direction(0),
            [Vocabulary.Word("green")] = Direction(1),
            [Vocabulary.Word("blue")] = Direction(2),
            [Vocabulary.Start] = [0, 0, 0, 0.05f], // every text has a start token: never a zero vector
        };
        var image = OnnxModels.Write(Path.Combine(folder, $"visual{suffix}.onnx"), OnnxModels.ClipImageEncoder(Size));
        var text = OnnxModels.Write(Path.Combine(folder, $"textual{suffix}.onnx"), OnnxModels.ClipTextEncoder(Vocabulary.Count, rows));
        var (vocab, merges) = Vocabulary.Write(folder);
        return (image, text, vocab, merges);
    }
}
