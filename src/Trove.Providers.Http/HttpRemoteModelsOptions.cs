namespace Trove.Providers.Http;

/// <summary>
/// How <see cref="HttpRemoteModels"/> waits between attempts. The per-provider limits (timeout, attempts, concurrency,
/// requests per minute) come from providers.json; these are the process-wide rules around them.
/// </summary>
public sealed record HttpRemoteModelsOptions
{
    public static HttpRemoteModelsOptions Default { get; } = new();

    /// <summary>The first backoff delay when the service gives no Retry-After (exponential with jitter after it).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest computed backoff delay.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest a 429's Retry-After is honoured for one wait (a longer one waits this long and tries again).</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The longest a 503 "model is loading" estimated_time is waited for at once.</summary>
    public TimeSpan MaxLoadingWait { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Answers larger than this are refused as bad responses (a caption or a label list is a few kilobytes).</summary>
    public int MaxResponseBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Image answers (image-to-image) larger than this are refused as bad responses: an upscaled photo is tens of megabytes at most.</summary>
    public int MaxImageResponseBytes { get; init; } = 256 * 1024 * 1024;
}
