using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Polly;
using Trove.Domain.Models;

namespace Trove.Providers.Http;

/// <summary>One call to a provider (all its attempts): where it goes, what it sends, how the answer is read.</summary>
internal sealed class ProviderCall
{
    private int _attempts;

    public required ProviderDefinition Provider { get; init; }

    /// <summary>caption, classify or test (for logs).</summary>
    public required string Operation { get; init; }

    public required Uri Endpoint { get; init; }

    /// <summary>The endpoint without user info or query, as messages show it.</summary>
    public required string DisplayUrl { get; init; }

    /// <summary>The API key, read from the environment when the call began; only ever put in the Authorization header.</summary>
    public required string? Key { get; init; }

    public required byte[] Body { get; init; }

    public required string ContentType { get; init; }

    /// <summary>Reads a 2xx JSON answer into the payload, or a failure (bad shape, empty).</summary>
    public Func<ProviderCall, JsonElement, int, AttemptResult>? Parse { get; init; }

    /// <summary>Reads a 2xx answer as bytes (body, media type, status) before any JSON: a result, or null to read it as JSON with <see cref="Parse"/>.</summary>
    public Func<ProviderCall, byte[], string?, int, AttemptResult?>? ReadRaw { get; init; }

    /// <summary>The header the key goes in and what precedes it: <c>Authorization: Bearer KEY</c>, or a stash-box's <c>ApiKey: KEY</c>.</summary>
    public string KeyHeader { get; init; } = "Authorization";

    public string KeyScheme { get; init; } = "Bearer ";

    /// <summary>The Accept header.</summary>
    public string Accept { get; init; } = "application/json";

    /// <summary>The largest answer read (null: <see cref="HttpRemoteModelsOptions.MaxResponseBytes"/>).</summary>
    public int? MaxResponseBytes { get; init; }

    public int ResponseLimit => MaxResponseBytes ?? Options.MaxResponseBytes;

    public required HttpClient Client { get; init; }

    public required ProviderLane Lane { get; init; }

    public required ILogger Logger { get; init; }

    public required HttpRemoteModelsOptions Options { get; init; }

    public required long Started { get; init; }

    public int Attempts => Volatile.Read(ref _attempts);

    public TimeSpan Elapsed => Lane.Time.GetElapsedTime(Started);

    public void OnRetry(string outcome, TimeSpan delay) =>
        Log.Retrying(Logger, Provider.Name, Operation, Attempts, outcome, (long)delay.TotalMilliseconds);

    /// <summary>The pipeline's callback: one HTTP request, its whole answer read and classified. Cancellation propagates.</summary>
    public static async ValueTask<AttemptResult> SendOnceAsync(ResilienceContext context, ProviderCall call)
    {
        Interlocked.Increment(ref call._attempts);
        var ct = context.CancellationToken;
        using var request = new HttpRequestMessage(HttpMethod.Post, call.Endpoint);
        var content = new ByteArrayContent(call.Body);
        content.Headers.ContentType = new MediaTypeHeaderValue(call.ContentType);
        request.Content = content;
        request.Headers.TryAddWithoutValidation("Accept", call.Accept);
        request.Headers.TryAddWithoutValidation("User-Agent", HttpRemoteModels.UserAgent);
        if (call.Key is { } key)
        {
            request.Headers.TryAddWithoutValidation(call.KeyHeader, call.KeyScheme + key);
        }

        HttpResponseMessage response;
        try
        {
            response = await call.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (!ct.IsCancellationRequested)
        {
            return AttemptResult.Fail(FailureKind.Unreachable, retryable: true, message: Redaction.OneLine(Describe(e), call.Key), exception: e);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var reason = response.ReasonPhrase;
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            byte[] body;
            try
            {
                body = await ReadBodyAsync(response.Content, call.ResponseLimit, ct).ConfigureAwait(false);
            }
            catch (InvalidDataException)
            {
                return AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, reason,
                    $"the answer is larger than {Size(call.ResponseLimit)}");
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
            {
                return AttemptResult.Fail(FailureKind.Truncated, retryable: true, status, reason, Redaction.OneLine(Describe(e), call.Key), exception: e);
            }

            return Classify(call, response, status, reason, mediaType, body);
        }
    }

    private static AttemptResult Classify(ProviderCall call, HttpResponseMessage response, int status, string? reason, string? mediaType, byte[] body)
    {
        if (status is >= 200 and < 300 && call.ReadRaw?.Invoke(call, body, mediaType, status) is { } raw)
        {
            return raw;
        }

        if (status is >= 200 and < 300)
        {
            var html = mediaType is not null && mediaType.Contains("html", StringComparison.OrdinalIgnoreCase);
            JsonDocument? document = null;
            if (!html)
            {
                try
                {
                    document = JsonDocument.Parse(body);
                }
                catch (JsonException)
                {
                }
            }

            if (document is null)
            {
                return mediaType is not null && !IsJson(mediaType)
                    ? AttemptResult.Fail(FailureKind.NotJson, retryable: false, status, reason, mediaType: mediaType)
                    : AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, reason,
                        body.Length == 0 ? "the body is empty" : "the body is not valid JSON", mediaType: mediaType);
            }

            using (document)
            {
                return call.Parse is { } parse
                    ? parse(call, document.RootElement, status)
                    : AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, reason, "a JSON answer where none was expected", mediaType: mediaType);
            }
        }

        var message = ServiceErrors.Message(body, mediaType, call.Key);
        var retryAfter = RetryAfter(response, call.Lane.Time);
        switch (status)
        {
            case 429:
            {
                var wait = retryAfter is { } asked ? Min(asked, call.Options.MaxRetryAfter) : (TimeSpan?)null;
                if (wait is { } w)
                {
                    call.Pause(status, w);
                }

                return AttemptResult.Fail(FailureKind.RateLimited, retryable: true, status, reason, message, wait);
            }

            case 503 when ServiceErrors.IsLoading(body, out var estimate):
            {
                var wait = retryAfter ?? (estimate is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
                wait = wait is { } w ? Min(w, call.Options.MaxLoadingWait) : null;
                if (wait is { } pause)
                {
                    call.Pause(status, pause);
                }

                return AttemptResult.Fail(FailureKind.Loading, retryable: true, status, reason, message, wait, estimatedSeconds: estimate);
            }

            case 401 or 403:
                return AttemptResult.Fail(FailureKind.Auth, retryable: false, status, reason, message);
            case 404:
                return AttemptResult.Fail(FailureKind.ModelNotFound, retryable: false, status, reason, message);
            case >= 300 and < 400:
                var location = response.Headers.Location is { } target
                    ? Redaction.Display(target.IsAbsoluteUri ? target : new Uri(call.Endpoint, target))
                    : null;
                return AttemptResult.Fail(FailureKind.Redirect, retryable: false, status, reason, location);
            case 408 or >= 500:
                return AttemptResult.Fail(FailureKind.ServerError, retryable: true, status, reason, message,
                    retryAfter is { } later ? Min(later, call.Options.MaxRetryAfter) : null);
            default:
                return AttemptResult.Fail(FailureKind.ClientError, retryable: false, status, reason, message);
        }
    }

    private void Pause(int status, TimeSpan wait)
    {
        if (Lane.Gate.PauseUntil(Lane.Time.GetUtcNow() + wait))
        {
            Log.Paused(Logger, Provider.Name, status, (long)wait.TotalMilliseconds);
        }
    }

    private static bool IsJson(string mediaType) =>
        mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("text/json", StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>A byte count as people read it: 256 MiB, 64 KiB, 1000 bytes.</summary>
    internal static string Size(long bytes) => bytes switch
    {
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MiB"),
        >= 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
        >= 1024 when bytes % 1024 == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };

    /// <summary>Retry-After as seconds or an HTTP date (or the retry-after-ms some APIs add), never negative.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0 && ms < 1e9)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContent content, int limit, CancellationToken ct)
    {
        if (content.Headers.ContentLength is { } length && length > limit)
        {
            throw new InvalidDataException("The answer is too large.");
        }

        var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream(content.Headers.ContentLength is { } declared and > 0 ? (int)declared : 0);
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw new InvalidDataException("The answer is too large.");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    /// <summary>The transport's message and its innermost cause ("Connection refused (127.0.0.1:9)", "The response ended prematurely").</summary>
    private static string Describe(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        // Some causes carry only a code for a message ("ResponseEnded"); those add nothing.
        return ReferenceEquals(inner, e) || !inner.Message.Contains(' ', StringComparison.Ordinal) || e.Message.Contains(inner.Message, StringComparison.Ordinal)
            ? e.Message
            : $"{e.Message} ({inner.Message})";
    }
}
