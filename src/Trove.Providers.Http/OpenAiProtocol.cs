using System.Buffers;
using System.Text.Json;
using Trove.Application.Providers;

namespace Trove.Providers.Http;

/// <summary>
/// The OpenAI chat-completions protocol with an image (OpenAI, vLLM, llama.cpp server, Ollama, LM Studio…):
/// <c>POST {base}/chat/completions</c> with the image as an <c>image_url</c> data URI.
/// </summary>
internal static class OpenAiProtocol
{
    /// <summary>The instruction added to a classify prompt that does not already spell out the JSON it wants.</summary>
    public const string TagsFormat =
        "Answer with JSON only, in the form {\"tags\":[{\"tag\":\"…\",\"score\":0.0-1.0}]}: one entry per tag, score being your confidence.";

    /// <summary><c>{url}/chat/completions</c> when the URL's path ends with <c>/v1</c>, else <c>{url}/v1/chat/completions</c> (a full endpoint URL is kept).</summary>
    public static Uri Endpoint(string url)
    {
        var builder = new UriBuilder(url);
        var path = builder.Path.TrimEnd('/');
        if (path.EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase))
        {
            builder.Path = path;
        }
        else if (path.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            builder.Path = path + "/chat/completions";
        }
        else
        {
            builder.Path = path + "/v1/chat/completions";
        }

        return builder.Uri;
    }

    public static byte[] CaptionBody(string model, CaptionRequest request) =>
        Body(model, request.Prompt, request.Image, request.MaxTokens, request.Temperature, json: false);

    public static byte[] ClassifyBody(string model, ClassifyRequest request)
    {
        var prompt = request.Prompt.Contains("\"tags\"", StringComparison.Ordinal) ? request.Prompt : request.Prompt.TrimEnd() + "\n\n" + TagsFormat;
        return Body(model, prompt.Trim(), request.Image, request.MaxTokens, 0, json: true);
    }

    private static byte[] Body(string model, string prompt, RemoteImage image, int maxTokens, double temperature, bool json)
    {
        var buffer = new ArrayBufferWriter<byte>(image.Data.Length * 4 / 3 + 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            writer.WriteStartArray("messages");
            writer.WriteStartObject();
            writer.WriteString("role", "user");
            writer.WriteStartArray("content");
            writer.WriteStartObject();
            writer.WriteString("type", "text");
            writer.WriteString("text", prompt);
            writer.WriteEndObject();
            writer.WriteStartObject();
            writer.WriteString("type", "image_url");
            writer.WriteStartObject("image_url");
            writer.WriteString("url", "data:" + MediaType(image) + ";base64," + Convert.ToBase64String(image.Data));
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteNumber("max_tokens", maxTokens);
            writer.WriteNumber("temperature", temperature);
            if (json)
            {
                writer.WriteStartObject("response_format");
                writer.WriteString("type", "json_object");
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string MediaType(RemoteImage image) => string.IsNullOrWhiteSpace(image.MediaType) ? "image/jpeg" : image.MediaType;

    /// <summary>
    /// The assistant's text from <c>{"choices":[{"message":{"content":…},"finish_reason":…}]}</c>: a string, or an array
    /// of <c>{"type":"text","text":…}</c> parts. Null content (a refusal, or a reasoning model that ran out of tokens) is empty.
    /// </summary>
    public static bool TryReadContent(JsonElement root, out string content, out string? finishReason, out string? problem)
    {
        content = string.Empty;
        finishReason = null;
        problem = null;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
        {
            problem = "there is no \"choices\" array";
            return false;
        }

        if (choices.GetArrayLength() == 0)
        {
            problem = "\"choices\" is empty";
            return false;
        }

        var choice = choices[0];
        if (choice.ValueKind != JsonValueKind.Object || !choice.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
        {
            problem = "choices[0] has no \"message\" object";
            return false;
        }

        if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
        {
            finishReason = finish.GetString();
        }

        if (!message.TryGetProperty("content", out var value) || value.ValueKind is JsonValueKind.Null)
        {
            return true;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                content = value.GetString() ?? string.Empty;
                return true;
            case JsonValueKind.Array:
                var parts = new List<string>();
                foreach (var part in value.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.String)
                    {
                        parts.Add(part.GetString() ?? string.Empty);
                    }
                    else if (part.ValueKind == JsonValueKind.Object
                        && (!part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() is "text" or "output_text")
                        && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        parts.Add(text.GetString() ?? string.Empty);
                    }
                }

                content = string.Join(string.Empty, parts);
                return true;
            default:
                problem = $"choices[0].message.content is a {value.ValueKind.ToString().ToLowerInvariant()}, not text";
                return false;
        }
    }
}
