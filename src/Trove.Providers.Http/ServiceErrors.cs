using System.Text;
using System.Text.Json;

namespace Trove.Providers.Http;

/// <summary>Reads what a service said when it failed, in the shapes real services use.</summary>
internal static class ServiceErrors
{
    /// <summary>
    /// The message of an error body: OpenAI <c>{"error":{"message":…}}</c>, HuggingFace <c>{"error":"…"}</c> (or a list),
    /// vLLM <c>{"object":"error","message":…}</c>, FastAPI <c>{"detail":…}</c>; plain text as it is. Never the whole
    /// of a long body, never an HTML page, always without the key.
    /// </summary>
    public static string? Message(ReadOnlySpan<byte> body, string? mediaType, string? key)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var text = FromJson(document.RootElement);
            return text is null ? null : Redaction.OneLine(text, key);
        }
        catch (JsonException)
        {
        }

        if (mediaType is not null && mediaType.Contains("html", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var plain = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 4096)]);
        return plain.TrimStart().StartsWith('<') ? null : Redaction.OneLine(plain, key);
    }

    /// <summary>The <c>estimated_time</c> (seconds) of a HuggingFace "model is loading" answer, when it is one.</summary>
    public static bool IsLoading(ReadOnlySpan<byte> body, out double? estimatedSeconds)
    {
        estimatedSeconds = null;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            if (root.TryGetProperty("estimated_time", out var estimate) && estimate.ValueKind == JsonValueKind.Number && estimate.TryGetDouble(out var seconds))
            {
                estimatedSeconds = seconds is >= 0 and < 1e6 ? seconds : null;
                return true;
            }

            return FromJson(root) is { } message && message.Contains("loading", StringComparison.OrdinalIgnoreCase);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? FromJson(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.String)
        {
            return root.GetString();
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (root.TryGetProperty("error", out var error))
        {
            switch (error.ValueKind)
            {
                case JsonValueKind.String:
                    return error.GetString();
                case JsonValueKind.Object:
                    if (error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                    {
                        var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                        return code is null ? message.GetString() : $"{message.GetString()} ({code})";
                    }

                    break;
                case JsonValueKind.Array:
                    return string.Join("; ", error.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()));
            }
        }

        if (root.TryGetProperty("message", out var top) && top.ValueKind == JsonValueKind.String)
        {
            return top.GetString();
        }

        if (root.TryGetProperty("detail", out var detail))
        {
            if (detail.ValueKind == JsonValueKind.String)
            {
                return detail.GetString();
            }

            if (detail.ValueKind == JsonValueKind.Array)
            {
                return string.Join("; ", detail.EnumerateArray()
                    .Select(d => d.ValueKind == JsonValueKind.Object && d.TryGetProperty("msg", out var msg) && msg.ValueKind == JsonValueKind.String ? msg.GetString() : null)
                    .Where(m => m is not null));
            }
        }

        return null;
    }
}
