using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Application.Providers;

/// <summary>An image as sent to a remote provider: already downscaled (or the original, when the provider allows it).</summary>
public sealed record RemoteImage(byte[] Data, string MediaType, int Width, int Height);

/// <summary>Ask for a caption: the prompt, and how long and how varied the answer may be.</summary>
public sealed record CaptionRequest(RemoteImage Image, string Prompt, int MaxTokens, double Temperature);

/// <summary>Ask for labels with confidences (a remote tagger). For an OpenAI-compatible provider the prompt asks for JSON.</summary>
public sealed record ClassifyRequest(RemoteImage Image, string Prompt, int MaxTokens);

/// <summary>A caption as the provider wrote it (trimmed), with how long the call took over all attempts.</summary>
public sealed record CaptionReply(string Text, TimeSpan Elapsed, int Attempts);

/// <summary>One label with its score (0–1), as a remote tagger returned it.</summary>
public sealed record RemoteLabel(string Label, double Score);

public sealed record ClassifyReply(IReadOnlyList<RemoteLabel> Labels, TimeSpan Elapsed, int Attempts);

/// <summary>
/// Ask for a new image made from this one (image-to-image: restoration, upscaling, an instructed edit). Without a
/// prompt or parameters the image bytes are the whole request; with them they go along as the task's parameters
/// (the prompt as <c>prompt</c>; a value that is valid JSON is sent as that JSON, any other as a string).
/// </summary>
public sealed record TransformRequest(RemoteImage Image, string? Prompt, IReadOnlyDictionary<string, string>? Parameters);

/// <summary>The image the provider answered (its bytes checked to be the PNG, JPEG or WebP it said), with how long the call took over all attempts.</summary>
public sealed record TransformReply(byte[] Data, string MediaType, TimeSpan Elapsed, int Attempts);

/// <summary>What <c>trove providers test</c> found: it answered (and how fast), or the exact failure.</summary>
public sealed record ProviderProbe(string Provider, bool Ok, TimeSpan Latency, int? Status, string? Code, string Message);

/// <summary>
/// Remote inference (OpenAI-compatible and HuggingFace-style services), implemented at the edge with
/// HttpClientFactory and Polly (Trove.Providers.Http). Every call honours the provider's timeout, attempts,
/// concurrency and requests-per-minute, shared by all callers in this process. Failures are
/// <see cref="ProviderException"/>s with a specific code; an API key never appears in one.
/// </summary>
public interface IRemoteModels
{
    /// <summary>Whether remote calls can be made in this host, and if not why.</summary>
    RemoteStatus Status { get; }

    Task<CaptionReply> CaptionAsync(ProviderDefinition provider, CaptionRequest request, CancellationToken ct);

    Task<ClassifyReply> ClassifyAsync(ProviderDefinition provider, ClassifyRequest request, CancellationToken ct);

    /// <summary>
    /// Image-to-image (hf-inference providers only): the image the model made from <paramref name="request"/>'s. A
    /// provider whose protocol cannot do it fails at once with <see cref="ProviderErrors.Unsupported"/> (permanent), sending nothing.
    /// </summary>
    Task<TransformReply> TransformAsync(ProviderDefinition provider, TransformRequest request, CancellationToken ct);

    /// <summary>Sends one tiny request (a 32×32 grey image, a few tokens) and reports latency or the exact failure; never throws for the provider's faults.</summary>
    Task<ProviderProbe> TestAsync(ProviderDefinition provider, CancellationToken ct);
}

public sealed record RemoteStatus(bool Available, string? Message);

/// <summary>
/// A remote provider failed. <see cref="TroveException.Code"/> is one of <see cref="ProviderErrors"/>;
/// <see cref="Permanent"/> failures (authentication, unknown model) end a job at once, the others are per item.
/// </summary>
public sealed class ProviderException(string code, string message, string? hint = null, bool permanent = false, int? status = null, int attempts = 1, Exception? inner = null)
    : TroveException(code, message, hint, inner)
{
    /// <summary>Retrying will not help (the key is wrong, the model does not exist): stop the whole job.</summary>
    public bool Permanent { get; } = permanent;

    /// <summary>The HTTP status of the last answer, if there was one.</summary>
    public int? Status { get; } = status;

    public int Attempts { get; } = attempts;
}

/// <summary>The codes of <see cref="ProviderException"/> (docs/models.md, "When a provider fails").</summary>
public static class ProviderErrors
{
    /// <summary>401/403: the key is missing, wrong or lacks permission. Permanent.</summary>
    public const string Auth = "provider-auth";

    /// <summary>The environment variable named by apiKeyEnv is not set. Permanent.</summary>
    public const string KeyMissing = "provider-key-missing";

    /// <summary>404: the service does not know the model (or the URL is not its API). Permanent.</summary>
    public const string ModelNotFound = "provider-model-not-found";

    /// <summary>429 on every attempt.</summary>
    public const string RateLimited = "provider-rate-limited";

    /// <summary>503 "model is loading" on every attempt (or longer than the wait allowed).</summary>
    public const string Loading = "provider-loading";

    /// <summary>No answer within the timeout on every attempt.</summary>
    public const string Timeout = "provider-timeout";

    /// <summary>Connection refused, DNS failure, TLS failure, reset before an answer.</summary>
    public const string Unreachable = "provider-unreachable";

    /// <summary>An answer that is not what the protocol says: truncated, not JSON, wrong content type, wrong shape.</summary>
    public const string BadResponse = "provider-bad-response";

    /// <summary>The model answered with an empty caption (or no labels where labels were asked for).</summary>
    public const string EmptyCaption = "provider-empty-caption";

    /// <summary>Another 4xx/5xx (400 bad request, 500…), with the service's own message.</summary>
    public const string Failed = "provider-error";

    /// <summary>The model names a provider that providers.json does not have. Permanent.</summary>
    public const string NotFound = "provider-not-found";

    /// <summary>The provider's protocol cannot do what was asked (image-to-image on an OpenAI-compatible provider). Permanent; nothing is sent.</summary>
    public const string Unsupported = "provider-unsupported";
}

/// <summary>Where remote calls are not configured (tests that do not need them, hosts without HTTP).</summary>
public sealed class UnavailableRemoteModels(string message) : IRemoteModels
{
    public RemoteStatus Status { get; } = new(false, message);

    public Task<CaptionReply> CaptionAsync(ProviderDefinition provider, CaptionRequest request, CancellationToken ct) => throw Fail();

    public Task<ClassifyReply> ClassifyAsync(ProviderDefinition provider, ClassifyRequest request, CancellationToken ct) => throw Fail();

    public Task<TransformReply> TransformAsync(ProviderDefinition provider, TransformRequest request, CancellationToken ct) => throw Fail();

    public Task<ProviderProbe> TestAsync(ProviderDefinition provider, CancellationToken ct) =>
        Task.FromResult(new ProviderProbe(provider?.Name ?? "?", false, TimeSpan.Zero, null, "remote-unavailable", Status.Message ?? "Remote providers are not available."));

    private ProviderException Fail() => new("remote-unavailable", Status.Message ?? "Remote providers are not available in this host.", permanent: true);
}
