using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.RateLimiting;
using Polly.Timeout;
using Trove.Application.Providers;
using Trove.Domain.Models;

namespace Trove.Providers.Http;

/// <summary>
/// Remote inference over HTTP: OpenAI-compatible chat completions and HuggingFace inference endpoints, through
/// IHttpClientFactory and a Polly pipeline per provider that every caller in the process shares (concurrency limit,
/// requests per minute, a cool-down after 429, retries with Retry-After or backoff, a per-attempt timeout).
/// Failures are <see cref="ProviderException"/>s with a specific code; the API key is read from the environment at each
/// call, sent only as <c>Authorization: Bearer</c>, and never logged nor shown.
/// </summary>
public sealed class HttpRemoteModels : IRemoteModels, IDisposable
{
    /// <summary>The named HttpClient (see <see cref="HttpRemoteModelsServiceCollectionExtensions.AddTroveProviderClient"/>).</summary>
    public const string ClientName = "Trove.Providers";

    public const string UserAgent = "Trove/1.0";

    /// <summary>What <see cref="TestAsync"/> asks an OpenAI-compatible provider, with at most <see cref="ProbeMaxTokens"/> tokens.</summary>
    public const string ProbePrompt = "What colour is this image? Answer with one word.";

    public const int ProbeMaxTokens = 5;

    private readonly IHttpClientFactory _clients;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HttpRemoteModelsOptions _options;
    private readonly ProviderLanes _lanes;
    private readonly IDisposable? _owned;

    private HttpRemoteModels(IHttpClientFactory clients, ILoggerFactory loggerFactory, TimeProvider time, HttpRemoteModelsOptions? options, IDisposable? owned)
    {
        _clients = clients;
        _logger = loggerFactory.CreateLogger("Trove.Providers.Http");
        _time = time;
        _options = options ?? HttpRemoteModelsOptions.Default;
        _lanes = ProviderLanes.For(time);
        _owned = owned;
    }

    public RemoteStatus Status { get; } = new(true, null);

    /// <summary>For hosts without dependency injection (the CLI): builds its own IHttpClientFactory with the Trove client.</summary>
    public static HttpRemoteModels Create(ILoggerFactory? loggerFactory = null, TimeProvider? time = null, HttpRemoteModelsOptions? options = null)
    {
        var services = new ServiceCollection();
        services.AddTroveProviderClient();
        var provider = services.BuildServiceProvider();
        return new HttpRemoteModels(provider.GetRequiredService<IHttpClientFactory>(), loggerFactory ?? NullLoggerFactory.Instance, time ?? TimeProvider.System, options, provider);
    }

    /// <summary>
    /// For hosts with dependency injection: uses their factory (register the client with
    /// <see cref="HttpRemoteModelsServiceCollectionExtensions.AddTroveProviderClient"/>, or all of it with
    /// <see cref="HttpRemoteModelsServiceCollectionExtensions.AddHttpRemoteModels"/>).
    /// </summary>
    public static HttpRemoteModels Create(IHttpClientFactory clients, ILoggerFactory? loggerFactory = null, TimeProvider? time = null, HttpRemoteModelsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(clients);
        return new HttpRemoteModels(clients, loggerFactory ?? NullLoggerFactory.Instance, time ?? TimeProvider.System, options, null);
    }

    public async Task<CaptionReply> CaptionAsync(ProviderDefinition provider, CaptionRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(request);
        var call = provider.Kind == ProviderKinds.HfInference
            ? NewCall(provider, "caption", HfInferenceProtocol.Endpoint(provider.Url, provider.Model), request.Image.Data, ImageType(request.Image), ReadHfCaption)
            : NewCall(provider, "caption", OpenAiProtocol.Endpoint(provider.Url), OpenAiProtocol.CaptionBody(provider.Model, request), "application/json", ReadOpenAiCaption);
        var result = await ExecuteAsync(call, call.Lane.Pipeline, ct).ConfigureAwait(false);
        return new CaptionReply((string)result.Payload!, call.Elapsed, call.Attempts);
    }

    public async Task<ClassifyReply> ClassifyAsync(ProviderDefinition provider, ClassifyRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(request);
        var call = provider.Kind == ProviderKinds.HfInference
            ? NewCall(provider, "classify", HfInferenceProtocol.Endpoint(provider.Url, provider.Model), request.Image.Data, ImageType(request.Image), ReadHfLabels)
            : NewCall(provider, "classify", OpenAiProtocol.Endpoint(provider.Url), OpenAiProtocol.ClassifyBody(provider.Model, request), "application/json", ReadOpenAiLabels);
        var result = await ExecuteAsync(call, call.Lane.Pipeline, ct).ConfigureAwait(false);
        return new ClassifyReply((IReadOnlyList<RemoteLabel>)result.Payload!, call.Elapsed, call.Attempts);
    }

    /// <summary>
    /// Image-to-image over the HuggingFace inference protocol: <c>POST {url}/models/{model}</c> with the image as the
    /// body (or, with a prompt or parameters, <c>{"inputs":BASE64,"parameters":{…}}</c>), answered by the image itself,
    /// through the same pipeline as the other calls. An answer that is not a PNG, JPEG or WebP (by its Content-Type
    /// and its bytes), or larger than <see cref="HttpRemoteModelsOptions.MaxImageResponseBytes"/>, is a bad response.
    /// An OpenAI-compatible provider cannot do this: <see cref="ProviderErrors.Unsupported"/>, and nothing is sent.
    /// </summary>
    public async Task<TransformReply> TransformAsync(ProviderDefinition provider, TransformRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Image);
        if (provider.Kind == ProviderKinds.OpenAi)
        {
            throw ProviderFailures.TransformUnsupported(provider);
        }

        ct.ThrowIfCancellationRequested();
        var (body, contentType) = HfImageToImage.Body(request, ImageType(request.Image));
        var call = NewCall(provider, "transform", HfInferenceProtocol.Endpoint(provider.Url, provider.Model), body, contentType, parse: null,
            readRaw: HfImageToImage.Read, accept: HfImageToImage.Accept, maxResponseBytes: _options.MaxImageResponseBytes);
        var result = await ExecuteAsync(call, call.Lane.Pipeline, ct).ConfigureAwait(false);
        var image = (TransformReply)result.Payload!;
        return image with { Elapsed = call.Elapsed, Attempts = call.Attempts };
    }

    /// <summary>
    /// One request with a 32×32 grey JPEG (an OpenAI-compatible provider is asked for at most 5 tokens), through the
    /// provider's limits but without retries. Reports the latency or the exact failure; throws only when cancelled.
    /// </summary>
    public async Task<ProviderProbe> TestAsync(ProviderDefinition provider, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var started = _time.GetTimestamp();
        try
        {
            var image = new RemoteImage(ProbeImage.Jpeg(), "image/jpeg", ProbeImage.Size, ProbeImage.Size);
            var call = provider.Kind == ProviderKinds.HfInference
                ? NewCall(provider, "test", HfInferenceProtocol.Endpoint(provider.Url, provider.Model), image.Data, "image/jpeg", ReadHfProbe,
                    readRaw: ReadHfImageProbe, maxResponseBytes: _options.MaxImageResponseBytes)
                : NewCall(provider, "test", OpenAiProtocol.Endpoint(provider.Url),
                    OpenAiProtocol.CaptionBody(provider.Model, new CaptionRequest(image, ProbePrompt, ProbeMaxTokens, 0)), "application/json", ReadOpenAiProbe);
            var result = await ExecuteAsync(call, call.Lane.Probe, ct).ConfigureAwait(false);
            var latency = _time.GetElapsedTime(started);
            var answer = (string)result.Payload!;
            var said = answer.Length > 0 ? $": \"{Redaction.OneLine(answer, call.Key, 80)}\"" : " (with no text)";
            return new ProviderProbe(provider.Name, true, latency, result.Status, null,
                $"Provider '{provider.Name}' ({provider.Kind}, model '{provider.Model}' at {call.DisplayUrl}) answered in {(long)latency.TotalMilliseconds} ms{said}.");
        }
        catch (ProviderException e)
        {
            return new ProviderProbe(provider.Name, false, _time.GetElapsedTime(started), e.Status, e.Code, e.Hint is null ? e.Message : $"{e.Message} {e.Hint}");
        }
    }

    public void Dispose() => _owned?.Dispose();

    /// <summary>
    /// One GraphQL query (<c>POST {url}</c> with <c>{"query", "variables"}</c>), the key (when the provider names its
    /// variable) in <paramref name="keyHeader"/>, through the provider's lane (rate limit, cool-down, retries, timeout).
    /// Answers <c>data</c>; a GraphQL <c>errors</c> array is a failure naming the first message (retried only when it
    /// says the service is busy), so is an answer without <c>data</c>.
    /// </summary>
    public async Task<JsonElement> GraphQlAsync(ProviderDefinition provider, string operation, string query, System.Text.Json.Nodes.JsonObject variables, string keyHeader, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var body = JsonSerializer.SerializeToUtf8Bytes(new System.Text.Json.Nodes.JsonObject { ["query"] = query, ["variables"] = variables.DeepClone() });
        var call = NewCall(provider, operation, new Uri(provider.Url), body, "application/json", ReadGraphQl, keyHeader: keyHeader, keyScheme: string.Empty);
        var result = await ExecuteAsync(call, call.Lane.Pipeline, ct).ConfigureAwait(false);
        return (JsonElement)result.Payload!;
    }

    private static AttemptResult ReadGraphQl(ProviderCall call, JsonElement root, int status)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
        {
            var first = errors[0];
            var message = first.ValueKind == JsonValueKind.Object && first.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() ?? "?" : first.ToString();
            var busy = message.Contains("rate limit", StringComparison.OrdinalIgnoreCase) || message.Contains("too many", StringComparison.OrdinalIgnoreCase);
            return AttemptResult.Fail(busy ? FailureKind.RateLimited : FailureKind.BadResponse, retryable: busy, status,
                message: $"the GraphQL answer has {errors.GetArrayLength()} error(s): {Redaction.OneLine(message, call.Key, 200)}");
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            return AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, message: "the GraphQL answer has no \"data\"");
        }

        return AttemptResult.Success(data.Clone(), status);
    }

    private ProviderCall NewCall(
        ProviderDefinition provider,
        string operation,
        Uri endpoint,
        byte[] body,
        string contentType,
        Func<ProviderCall, JsonElement, int, AttemptResult>? parse,
        Func<ProviderCall, byte[], string?, int, AttemptResult?>? readRaw = null,
        string accept = "application/json",
        int? maxResponseBytes = null,
        string keyHeader = "Authorization",
        string keyScheme = "Bearer ")
    {
        var client = _clients.CreateClient(ClientName);
        client.Timeout = Timeout.InfiniteTimeSpan; // the pipeline's per-attempt timeout rules
        return new ProviderCall
        {
            Provider = provider,
            Operation = operation,
            Endpoint = endpoint,
            DisplayUrl = Redaction.Display(endpoint),
            Key = ReadKey(provider),
            Body = body,
            ContentType = contentType,
            Parse = parse,
            ReadRaw = readRaw,
            Accept = accept,
            MaxResponseBytes = maxResponseBytes,
            KeyHeader = keyHeader,
            KeyScheme = keyScheme,
            Client = client,
            Lane = _lanes.Get(provider, _options),
            Logger = _logger,
            Options = _options,
            Started = _time.GetTimestamp(),
        };
    }

    /// <summary>Checks the provider and reads its key; called before anything is sent.</summary>
    private static string? ReadKey(ProviderDefinition provider)
    {
        if (provider.Validate() is { Count: > 0 } errors)
        {
            throw ProviderFailures.Invalid(provider, errors);
        }

        if (provider.ApiKeyEnv is not { Length: > 0 } variable)
        {
            return null;
        }

        var key = Environment.GetEnvironmentVariable(variable)?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            throw ProviderFailures.KeyMissing(provider, variable);
        }

        if (key.Any(c => c is < '!' or > '~'))
        {
            throw ProviderFailures.KeyUnusable(provider, variable);
        }

        return key;
    }

    private async Task<AttemptResult> ExecuteAsync(ProviderCall call, ResiliencePipeline<AttemptResult> pipeline, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(ProviderLane.CallKey, call);
        AttemptResult result;
        try
        {
            result = await pipeline.ExecuteAsync(static (context, call) => ProviderCall.SendOnceAsync(context, call), context, call).ConfigureAwait(false);
        }
        catch (Exception e) when (ct.IsCancellationRequested)
        {
            Log.Cancelled(_logger, call.Provider.Name, call.Operation, call.Attempts, (long)call.Elapsed.TotalMilliseconds);
            if (e is OperationCanceledException)
            {
                throw;
            }

            throw new OperationCanceledException("The call to the provider was cancelled.", e, ct);
        }
        catch (TimeoutRejectedException e)
        {
            throw Failed(call, ProviderFailures.Timeout(call, e));
        }
        catch (RateLimiterRejectedException e)
        {
            throw Failed(call, ProviderFailures.Unexpected(call, e));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Failed(call, ProviderFailures.Unexpected(call, e));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (!result.Ok)
        {
            throw Failed(call, ProviderFailures.From(call, result));
        }

        Log.Succeeded(_logger, call.Provider.Name, call.Operation, result.Status, call.Attempts, (long)call.Elapsed.TotalMilliseconds);
        return result;
    }

    private ProviderException Failed(ProviderCall call, ProviderException e)
    {
        Log.Failed(_logger, call.Provider.Name, call.Operation, e.Code, e.Status, call.Attempts, (long)call.Elapsed.TotalMilliseconds);
        return e;
    }

    private static string ImageType(RemoteImage image) => string.IsNullOrWhiteSpace(image.MediaType) ? "image/jpeg" : image.MediaType;

    private static AttemptResult ReadOpenAiCaption(ProviderCall call, JsonElement root, int status)
    {
        if (!OpenAiProtocol.TryReadContent(root, out var content, out var finish, out var problem))
        {
            return AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, message: problem);
        }

        var text = content.Trim();
        return text.Length == 0
            ? AttemptResult.Fail(FailureKind.Empty, retryable: false, status, finishReason: finish)
            : AttemptResult.Success(text, status);
    }

    private static AttemptResult ReadOpenAiLabels(ProviderCall call, JsonElement root, int status)
    {
        if (!OpenAiProtocol.TryReadContent(root, out var content, out var finish, out var problem))
        {
            return AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, message: problem);
        }

        if (content.Trim().Length == 0)
        {
            return AttemptResult.Fail(FailureKind.Empty, retryable: false, status, finishReason: finish);
        }

        var labels = LabelParser.Parse(content);
        if (labels is null)
        {
            return AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status,
                message: $"the model's answer is not tags as JSON (\"{Redaction.OneLine(content, call.Key, 120)}\"{(finish == "length" ? ", cut off by the token limit" : string.Empty)})");
        }

        return labels.Count == 0
            ? AttemptResult.Fail(FailureKind.Empty, retryable: false, status, finishReason: finish)
            : AttemptResult.Success(labels, status);
    }

    private static AttemptResult ReadHfCaption(ProviderCall call, JsonElement root, int status)
    {
        if (!HfInferenceProtocol.TryReadCaption(root, out var caption, out var problem))
        {
            return AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, message: problem);
        }

        var text = caption.Trim();
        return text.Length == 0 ? AttemptResult.Fail(FailureKind.Empty, retryable: false, status) : AttemptResult.Success(text, status);
    }

    private static AttemptResult ReadHfLabels(ProviderCall call, JsonElement root, int status)
    {
        if (!HfInferenceProtocol.TryReadLabels(root, out var labels, out var problem))
        {
            return AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, message: problem);
        }

        return labels.Count == 0
            ? AttemptResult.Fail(FailureKind.Empty, retryable: false, status)
            : AttemptResult.Success(labels.OrderByDescending(l => l.Score).ThenBy(l => l.Label, StringComparer.Ordinal).ToList(), status);
    }

    /// <summary>A probe only needs a well-formed answer: an empty text from 5 tokens is still an answer.</summary>
    private static AttemptResult ReadOpenAiProbe(ProviderCall call, JsonElement root, int status) =>
        OpenAiProtocol.TryReadContent(root, out var content, out _, out var problem)
            ? AttemptResult.Success(content.Trim(), status)
            : AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, message: problem);

    /// <summary>An image-to-image model answers an image (even to Accept: application/json): that is an answer too; anything else is read as JSON.</summary>
    private static AttemptResult? ReadHfImageProbe(ProviderCall call, byte[] body, string? mediaType, int status) =>
        mediaType is not null && HfImageToImage.FormatOf(mediaType) is not null && HfImageToImage.Read(call, body, mediaType, status) is { Ok: true } image
            ? AttemptResult.Success(string.Create(CultureInfo.InvariantCulture, $"an image ({((TransformReply)image.Payload!).MediaType}, {ProviderCall.Size(body.Length)})"), status)
            : null;

    /// <summary>An hf-inference model answers a caption or labels, depending on its task: either will do.</summary>
    private static AttemptResult ReadHfProbe(ProviderCall call, JsonElement root, int status)
    {
        if (HfInferenceProtocol.TryReadCaption(root, out var caption, out _))
        {
            return AttemptResult.Success(caption.Trim(), status);
        }

        if (HfInferenceProtocol.TryReadLabels(root, out var labels, out _))
        {
            var best = labels.OrderByDescending(l => l.Score).FirstOrDefault();
            return AttemptResult.Success(best is null ? string.Empty : $"{best.Label} {best.Score:0.00}", status);
        }

        return AttemptResult.Fail(FailureKind.BadResponse, retryable: false, status, message: "expected a caption ([{\"generated_text\": …}]) or labels ([{\"label\": …, \"score\": …}])");
    }
}

/// <summary>Registration for hosts with dependency injection.</summary>
public static class HttpRemoteModelsServiceCollectionExtensions
{
    /// <summary>
    /// The named HttpClient Trove calls providers with: no redirects (an API key must not follow one), any compression,
    /// pooled connections renewed every few minutes (DNS changes), no timeout of its own (the pipeline's per-attempt
    /// timeout rules) and no request logging (headers carry the key).
    /// </summary>
    public static IHttpClientBuilder AddTroveProviderClient(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services
            .AddHttpClient(HttpRemoteModels.ClientName, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd(HttpRemoteModels.UserAgent);
            })
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.All,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                UseCookies = false,
                UseProxy = true,
            })
            .RemoveAllLoggers();
    }

    /// <summary>Registers the client and <see cref="IRemoteModels"/> as <see cref="HttpRemoteModels"/> (a singleton; TimeProvider and logging from the container when there).</summary>
    public static IServiceCollection AddHttpRemoteModels(this IServiceCollection services, HttpRemoteModelsOptions? options = null)
    {
        services.AddTroveProviderClient();
        services.AddSingleton(sp => HttpRemoteModels.Create(
            sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>(),
            options));
        services.AddSingleton<IRemoteModels>(sp => sp.GetRequiredService<HttpRemoteModels>());
        return services;
    }
}
