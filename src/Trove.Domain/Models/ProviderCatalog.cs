namespace Trove.Domain.Models;

/// <summary>The protocols a remote provider speaks.</summary>
public static class ProviderKinds
{
    /// <summary>Local ONNX Runtime: the built-in provider named <c>onnx</c>, never stored in providers.json.</summary>
    public const string Onnx = "onnx";

    /// <summary>An OpenAI-compatible API: <c>POST /v1/chat/completions</c> with the image as an <c>image_url</c> data URI (OpenAI, vLLM, llama.cpp server, Ollama, LM Studio…).</summary>
    public const string OpenAi = "openai";

    /// <summary>A HuggingFace-style inference endpoint: <c>POST /models/{model}</c> with the image bytes as the body.</summary>
    public const string HfInference = "hf-inference";

    public static IReadOnlyList<string> Remote { get; } = [OpenAi, HfInference];

    public static IReadOnlyList<string> All { get; } = [Onnx, OpenAi, HfInference];
}

/// <summary>
/// The library's remote model providers, <c>providers.json</c> at the library root (docs/models.md, "Providers").
/// Holds where a service is and how hard to push it — never a secret: an API key is named by the environment
/// variable that holds it.
/// </summary>
public sealed class ProviderCatalog
{
    public const int CurrentSchema = 1;

    public int Schema { get; set; } = CurrentSchema;

    public List<ProviderDefinition> Providers { get; set; } = [];

    public ProviderDefinition? Find(string name) => Providers.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));

    /// <summary>Problems that make the file unusable, each naming the provider it concerns.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var provider in Providers)
        {
            foreach (var error in provider.Validate())
            {
                errors.Add($"provider '{provider.Name}': {error}");
            }

            if (!seen.Add(provider.Name))
            {
                errors.Add($"provider '{provider.Name}' is listed twice");
            }
        }

        return errors;
    }
}

/// <summary>One remote inference service and the limits Trove keeps to when calling it.</summary>
public sealed class ProviderDefinition
{
    public const int DefaultTimeoutSeconds = 60;
    public const int DefaultMaxConcurrency = 4;
    public const int DefaultMaxAttempts = 4;
    public const int DefaultImageMaxSide = 1024;
    public const int DefaultImageQuality = 90;

    /// <summary>How models refer to it (<c>trove models add … --provider NAME</c>).</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary><see cref="ProviderKinds.OpenAi"/> or <see cref="ProviderKinds.HfInference"/>.</summary>
    public string Kind { get; set; } = ProviderKinds.OpenAi;

    /// <summary>Base URL, e.g. <c>http://127.0.0.1:8000/v1</c> (OpenAI-compatible) or <c>https://api-inference.huggingface.co</c>.</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>The model name the service knows (sent as <c>model</c>, or in the path for hf-inference).</summary>
    public string Model { get; set; } = string.Empty;

    /// <summary>The name of the environment variable holding the API key (the key itself is never stored). Null: no key.</summary>
    public string? ApiKeyEnv { get; set; }

    public int TimeoutSeconds { get; set; } = DefaultTimeoutSeconds;

    /// <summary>Requests in flight at once from this process, over all jobs and workers.</summary>
    public int MaxConcurrency { get; set; } = DefaultMaxConcurrency;

    /// <summary>Requests per minute from this process (null: no limit beyond the concurrency).</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Attempts per request, the first included (429, 503 loading, 5xx, timeouts and connection failures are retried).</summary>
    public int MaxAttempts { get; set; } = DefaultMaxAttempts;

    /// <summary>Images are sent downscaled to this longest side, as JPEG.</summary>
    public int ImageMaxSide { get; set; } = DefaultImageMaxSide;

    public int ImageQuality { get; set; } = DefaultImageQuality;

    /// <summary>Send the original file instead of a downscaled copy (off: originals never leave the machine).</summary>
    public bool SendOriginals { get; set; }

    public string? Description { get; set; }

    public static bool IsValidName(string? name) => ModelDefinition.IsValidId(name) && name != ProviderKinds.Onnx;

    public static bool IsValidEnvironmentName(string? name) =>
        name is { Length: > 0 and <= 128 } && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!IsValidName(Name))
        {
            errors.Add("names are 1–64 lowercase letters, digits, '-', '_' or '.', and not 'onnx' (the built-in local provider)");
        }

        if (!ProviderKinds.Remote.Contains(Kind, StringComparer.Ordinal))
        {
            errors.Add($"unknown kind '{Kind}' (use {string.Join(" or ", ProviderKinds.Remote)})");
        }

        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            errors.Add($"url '{Url}' is not an absolute http(s) URL without credentials (put a key in an environment variable and name it with apiKeyEnv)");
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            errors.Add("names no model");
        }

        if (ApiKeyEnv is not null && !IsValidEnvironmentName(ApiKeyEnv))
        {
            errors.Add($"apiKeyEnv '{ApiKeyEnv}' is not an environment variable name (letters, digits and '_'); it names the variable, it is not the key");
        }

        Range(errors, "timeoutSeconds", TimeoutSeconds, 1, 3600);
        Range(errors, "maxConcurrency", MaxConcurrency, 1, 256);
        if (RequestsPerMinute is { } rpm)
        {
            Range(errors, "requestsPerMinute", rpm, 1, 1_000_000);
        }

        Range(errors, "maxAttempts", MaxAttempts, 1, 20);
        Range(errors, "imageMaxSide", ImageMaxSide, 32, 8192);
        Range(errors, "imageQuality", ImageQuality, 1, 100);
        return errors;
    }

    private static void Range(List<string> errors, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{name} is {value}; use {min}–{max}");
        }
    }
}
