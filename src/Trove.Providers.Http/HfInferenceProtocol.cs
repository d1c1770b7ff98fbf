using System.Text.Json;
using Trove.Application.Providers;

namespace Trove.Providers.Http;

/// <summary>
/// The HuggingFace inference protocol: <c>POST {base}/models/{model}</c> with the image bytes as the body; captions
/// come back as <c>[{"generated_text":…}]</c>, labels as <c>[{"label":…,"score":…}]</c>.
/// </summary>
internal static class HfInferenceProtocol
{
    public static Uri Endpoint(string url, string model)
    {
        var builder = new UriBuilder(url);
        var segments = model.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString);
        builder.Path = builder.Path.TrimEnd('/') + "/models/" + string.Join('/', segments);
        return builder.Uri;
    }

    /// <summary>The caption of <c>[{"generated_text":…}]</c> or <c>{"generated_text":…}</c>.</summary>
    public static bool TryReadCaption(JsonElement root, out string caption, out string? problem)
    {
        caption = string.Empty;
        problem = null;
        var item = root;
        if (root.ValueKind == JsonValueKind.Array)
        {
            if (root.GetArrayLength() == 0)
            {
                // An empty list is an empty caption.
                return true;
            }

            item = root[0];
        }

        if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("generated_text", out var text))
        {
            if (text.ValueKind == JsonValueKind.String)
            {
                caption = text.GetString() ?? string.Empty;
                return true;
            }

            if (text.ValueKind == JsonValueKind.Null)
            {
                return true;
            }
        }

        problem = "expected [{\"generated_text\": \"…\"}]";
        return false;
    }

    /// <summary>The labels of <c>[{"label":…,"score":…},…]</c> (also nested one level, as some pipelines answer for a batch of one).</summary>
    public static bool TryReadLabels(JsonElement root, out List<RemoteLabel> labels, out string? problem)
    {
        labels = [];
        problem = null;
        var list = root;
        if (list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0 && list[0].ValueKind == JsonValueKind.Array)
        {
            list = list[0];
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            problem = "expected [{\"label\": \"…\", \"score\": 0.9}, …]";
            return false;
        }

        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("label", out var label) || label.ValueKind != JsonValueKind.String
                || !item.TryGetProperty("score", out var score) || !LabelParser.TryScore(score, out var value))
            {
                problem = "expected [{\"label\": \"…\", \"score\": 0.9}, …]";
                return false;
            }

            if (!string.IsNullOrWhiteSpace(label.GetString()))
            {
                labels.Add(new RemoteLabel(label.GetString()!.Trim(), value));
            }
        }

        return true;
    }
}
