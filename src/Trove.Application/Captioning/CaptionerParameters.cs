using System.Text.Json.Nodes;
using Trove.Domain;

namespace Trove.Application.Captioning;

/// <summary>How a captioner writes: a sentence, or a comma-separated list of tags.</summary>
public static class CaptionStyles
{
    public const string Natural = "natural";
    public const string Tags = "tags";

    public static IReadOnlyList<string> All { get; } = [Natural, Tags];
}

/// <summary>
/// A captioner's settings, from the <c>parameters</c> of its entry in models.json (docs/models.md, "Captioners"):
/// <code>{ "style": "natural", "prompt": "…", "maxTokens": 300, "temperature": 0.2 }</code>
/// Everything is optional; the default prompt asks for the kind of caption image-model training wants.
/// </summary>
public sealed record CaptionerParameters(string Style, string Prompt, int MaxTokens, double Temperature)
{
    public const int DefaultMaxTokens = 300;
    public const double DefaultTemperature = 0.2;

    /// <summary>For training captions: what is there, plainly, without preamble or judgement.</summary>
    public const string NaturalPrompt =
        "Write one caption for this image, for training an image generation model. Describe in one to three plain sentences "
        + "what is visible: the main subject and its appearance, clothing or materials, pose or action, the setting and background, "
        + "lighting, colours and composition, and the medium (photo, painting, 3D render, sketch). Start with the subject. "
        + "Do not start with \"This image\" or \"The image shows\", do not guess names, emotions or intentions, and add nothing "
        + "that is not visible. Answer with the caption only.";

    /// <summary>A comma-separated tag list, most important first.</summary>
    public const string TagsPrompt =
        "List what is visible in this image as short lowercase tags separated by commas, most important first: the subject, "
        + "its attributes, clothing or materials, action, setting, lighting, colours, composition and medium. Use one to three "
        + "words per tag, no sentences, no duplicates, at most 40 tags. Answer with the tag list only.";

    public static CaptionerParameters Default { get; } = new(CaptionStyles.Natural, NaturalPrompt, DefaultMaxTokens, DefaultTemperature);

    /// <exception cref="TroveUsageException">model-parameters-invalid, naming the field.</exception>
    public static CaptionerParameters Parse(JsonObject? parameters, string model)
    {
        if (parameters is null)
        {
            return Default;
        }

        var reader = new Models.ParameterReader(parameters, model, "Captioners");
        reader.OnlyFields(["style", "prompt", "maxTokens", "temperature"], "a captioner");

        var style = reader.Text("style")?.Trim().ToLowerInvariant() ?? CaptionStyles.Natural;
        if (!CaptionStyles.All.Contains(style, StringComparer.Ordinal))
        {
            throw reader.Bad("style", $"is '{style}'; use natural (sentences) or tags (a comma-separated list)");
        }

        var prompt = reader.Text("prompt");
        if (prompt is not null && string.IsNullOrWhiteSpace(prompt))
        {
            throw reader.Bad("prompt", "is empty; leave it out for the default prompt");
        }

        var maxTokens = reader.Number("maxTokens") ?? DefaultMaxTokens;
        if (maxTokens < 1 || maxTokens > 8192 || maxTokens != Math.Floor(maxTokens))
        {
            throw reader.Bad("maxTokens", $"is {maxTokens}; use a whole number 1–8192");
        }

        var temperature = reader.Number("temperature") ?? DefaultTemperature;
        if (temperature < 0 || temperature > 2)
        {
            throw reader.Bad("temperature", $"is {temperature}; use 0–2");
        }

        return new CaptionerParameters(style, prompt?.Trim() ?? (style == CaptionStyles.Tags ? TagsPrompt : NaturalPrompt), (int)maxTokens, temperature);
    }

    /// <summary>
    /// What to store of a model's answer: whitespace folded, surrounding quotes and a leading "Caption:" removed; for
    /// the tags style, one comma-separated list without empty or repeated items. Empty when nothing is left.
    /// </summary>
    public string Clean(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var text = string.Join(' ', answer.Split((char[])['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
        foreach (var prefix in (string[])["Caption:", "caption:", "Tags:", "tags:"])
        {
            if (text.StartsWith(prefix, StringComparison.Ordinal))
            {
                text = text[prefix.Length..].TrimStart();
            }
        }

        if (text.Length >= 2 && text[0] is '"' or '\u201C' or '\'' && text[^1] is '"' or '\u201D' or '\'')
        {
            text = text[1..^1].Trim();
        }

        if (Style == CaptionStyles.Tags)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var tags = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(t => t.TrimEnd('.').ToLowerInvariant())
                .Where(t => t.Length > 0 && seen.Add(t));
            text = string.Join(", ", tags);
        }

        return text;
    }
}
