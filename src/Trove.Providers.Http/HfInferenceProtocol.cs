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

/// <summary>
/// The HuggingFace image-to-image task: the image bytes as the body, or with a prompt or parameters
/// <c>{"inputs":"BASE64","parameters":{"prompt":…,…}}</c>; the answer is the image itself.
/// </summary>
internal static class HfImageToImage
{
    /// <summary>What the answer may be, best first; JSON is how services fail.</summary>
    public const string Accept = "image/png, image/jpeg, image/webp, application/json;q=0.5";

    /// <summary>The body and its content type: the bare image when there is nothing else to say, else the JSON form.</summary>
    public static (byte[] Body, string ContentType) Body(TransformRequest request, string imageType)
    {
        var prompt = string.IsNullOrWhiteSpace(request.Prompt) ? null : request.Prompt;
        var parameters = request.Parameters is { Count: > 0 } p ? p : null;
        if (prompt is null && parameters is null)
        {
            return (request.Image.Data, imageType);
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("inputs", Convert.ToBase64String(request.Image.Data));
            json.WriteStartObject("parameters");
            if (prompt is not null)
            {
                json.WriteString("prompt", prompt);
            }

            foreach (var (name, value) in (parameters ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (prompt is not null && name == "prompt")
                {
                    continue;
                }

                json.WritePropertyName(name);
                WriteValue(json, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return (buffer.ToArray(), "application/json");
    }

    /// <summary>A value that is valid JSON (<c>25</c>, <c>7.5</c>, <c>true</c>, <c>{"width":512,"height":512}</c>, <c>"42"</c>) goes as that JSON; any other as a string.</summary>
    private static void WriteValue(Utf8JsonWriter json, string? value)
    {
        if (value is null)
        {
            json.WriteNullValue();
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(value);
            document.RootElement.WriteTo(json);
        }
        catch (JsonException)
        {
            json.WriteStringValue(value);
        }
    }

    /// <summary>The image formats accepted, by media type, and the bytes each begins with.</summary>
    public static string? FormatOf(string mediaType) => mediaType.ToLowerInvariant() switch
    {
        "image/png" => "PNG",
        "image/jpeg" or "image/jpg" => "JPEG",
        "image/webp" => "WebP",
        _ => null,
    };

    /// <summary>The format the bytes are (by their magic number), or null.</summary>
    public static string? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return "PNG";
        }

        if (data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "JPEG";
        }

        return data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8) ? "WebP" : null;
    }

    public static string MediaTypeOf(string format) => format switch
    {
        "PNG" => "image/png",
        "JPEG" => "image/jpeg",
        _ => "image/webp",
    };

    /// <summary>
    /// A 2xx answer: the image, or why it is not one (a JSON or HTML answer, an image type with other bytes).
    /// </summary>
    public static AttemptResult Read(ProviderCall call, byte[] body, string? mediaType, int status)
    {
        var type = string.IsNullOrWhiteSpace(mediaType) ? null : mediaType.Trim();
        var format = type is null ? null : FormatOf(type);
        if (format is null)
        {
            var what = type ?? "no Content-Type";
            var question = type is not null && type.Contains("html", StringComparison.OrdinalIgnoreCase)
                ? "is the URL the inference API's base URL?"
                : "is this an image-to-image model?";
            var said = type is not null && type.Contains("json", StringComparison.OrdinalIgnoreCase) && ServiceErrors.Message(body, type, call.Key) is { Length: > 0 } m
                ? $" It said: {m}"
                : string.Empty;
            return AttemptResult.Fail(FailureKind.NotImage, retryable: false, status, message: $"{what}, not an image: {question}{said}", mediaType: type);
        }

        if (body.Length == 0)
        {
            return AttemptResult.Fail(FailureKind.NotImage, retryable: false, status, message: $"{type} with an empty body", mediaType: type);
        }

        var actual = Sniff(body);
        if (actual != format)
        {
            var begins = Convert.ToHexString(body, 0, Math.Min(body.Length, 8));
            var description = actual is null ? $"its body is not a {format} image (it begins with 0x{begins})" : $"its body is a {actual} image, not {format}";
            return AttemptResult.Fail(FailureKind.NotImage, retryable: false, status, message: $"{type}, but {description}", mediaType: type);
        }

        return AttemptResult.Success(new TransformReply(body, MediaTypeOf(format), TimeSpan.Zero, 0), status);
    }
}
