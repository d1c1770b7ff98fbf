using System.Globalization;
using System.Text.Json;
using Trove.Application.Providers;

namespace Trove.Providers.Http;

/// <summary>
/// Reads the labels a chat model wrote, tolerantly: <c>{"tags":[{"tag":…,"score":…}]}</c> as asked, but also a bare
/// array, a <c>{"tag": score}</c> object, plain strings (score 1), JSON in a Markdown code fence or after some prose.
/// </summary>
internal static class LabelParser
{
    private static readonly string[] ListNames = ["tags", "labels", "results", "predictions", "items"];
    private static readonly string[] NameNames = ["tag", "label", "name", "text"];
    private static readonly string[] ScoreNames = ["score", "confidence", "probability", "prob", "p"];

    /// <summary>The labels (best first, one per name), or null when the text holds no usable JSON.</summary>
    public static List<RemoteLabel>? Parse(string content)
    {
        foreach (var candidate in Candidates(content))
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(candidate, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            }
            catch (JsonException)
            {
                continue;
            }

            using (document)
            {
                var labels = new List<RemoteLabel>();
                if (Read(document.RootElement, labels, depth: 0))
                {
                    return [.. labels
                        .GroupBy(l => l.Label, StringComparer.Ordinal)
                        .Select(g => g.MaxBy(l => l.Score)!)
                        .OrderByDescending(l => l.Score)
                        .ThenBy(l => l.Label, StringComparer.Ordinal)];
                }
            }
        }

        return null;
    }

    /// <summary>A JSON score: a number or a numeric string, 0–1 (a percentage over 1 is divided by 100).</summary>
    public static bool TryScore(JsonElement element, out double score)
    {
        score = 0;
        var ok = element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetDouble(out score),
            JsonValueKind.String => double.TryParse(element.GetString()?.Trim().TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out score),
            _ => false,
        };
        if (!ok || double.IsNaN(score) || double.IsInfinity(score))
        {
            return false;
        }

        if (score > 1 && score <= 100)
        {
            score /= 100;
        }

        score = Math.Clamp(score, 0, 1);
        return true;
    }

    private static IEnumerable<string> Candidates(string content)
    {
        var text = content.Trim();
        yield return text;

        // ```json … ``` (the fence may have a language after it).
        var fence = text.IndexOf("```", StringComparison.Ordinal);
        if (fence >= 0)
        {
            var start = text.IndexOf('\n', fence);
            var end = start < 0 ? -1 : text.IndexOf("```", start, StringComparison.Ordinal);
            if (start >= 0 && end > start)
            {
                yield return text[(start + 1)..end].Trim();
            }
        }

        // JSON after or between prose: from the first bracket to the last matching one.
        var first = text.IndexOfAny(['{', '[']);
        if (first >= 0)
        {
            var last = text.LastIndexOf(text[first] == '{' ? '}' : ']');
            if (last > first)
            {
                yield return text[first..(last + 1)];
            }
        }
    }

    private static bool Read(JsonElement element, List<RemoteLabel> labels, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                var any = false;
                foreach (var item in element.EnumerateArray())
                {
                    any |= ReadItem(item, labels);
                }

                return any || element.GetArrayLength() == 0;
            case JsonValueKind.Object:
                if (depth == 0)
                {
                    foreach (var name in ListNames)
                    {
                        if (TryGetProperty(element, name, out var list))
                        {
                            return list.ValueKind is JsonValueKind.Array or JsonValueKind.Object && Read(list, labels, depth + 1);
                        }
                    }
                }

                if (ReadItem(element, labels))
                {
                    return true;
                }

                // {"beach": 0.9, "sea": 0.7}
                var found = false;
                foreach (var property in element.EnumerateObject())
                {
                    if (TryScore(property.Value, out var score) && !string.IsNullOrWhiteSpace(property.Name))
                    {
                        labels.Add(new RemoteLabel(property.Name.Trim(), score));
                        found = true;
                    }
                }

                return found || !element.EnumerateObject().Any();
            default:
                return false;
        }
    }

    private static bool ReadItem(JsonElement item, List<RemoteLabel> labels)
    {
        switch (item.ValueKind)
        {
            case JsonValueKind.String when !string.IsNullOrWhiteSpace(item.GetString()):
                labels.Add(new RemoteLabel(item.GetString()!.Trim(), 1));
                return true;
            case JsonValueKind.Array when item.GetArrayLength() == 2 && item[0].ValueKind == JsonValueKind.String && TryScore(item[1], out var pairScore):
                labels.Add(new RemoteLabel(item[0].GetString()!.Trim(), pairScore));
                return true;
            case JsonValueKind.Object:
                string? name = null;
                foreach (var key in NameNames)
                {
                    if (TryGetProperty(item, key, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString()))
                    {
                        name = value.GetString()!.Trim();
                        break;
                    }
                }

                if (name is null)
                {
                    return false;
                }

                var score = 1.0;
                foreach (var key in ScoreNames)
                {
                    if (TryGetProperty(item, key, out var value) && TryScore(value, out score))
                    {
                        break;
                    }

                    score = 1.0;
                }

                labels.Add(new RemoteLabel(name, score));
                return true;
            default:
                return false;
        }
    }

    private static bool TryGetProperty(JsonElement element, string name, out JsonElement value)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
