using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Trove.Testing;

/// <summary>Which protocol a request to the <see cref="FakeProviderServer"/> spoke (by its path).</summary>
public enum FakeProtocol
{
    /// <summary>Any other path: answered 404 like a real server, without using a behaviour.</summary>
    Unknown,

    /// <summary><c>POST …/chat/completions</c> with a JSON body.</summary>
    OpenAi,

    /// <summary><c>POST /models/{model}</c> with the image bytes as the body (or JSON <c>{"inputs":BASE64,"parameters":{…}}</c>).</summary>
    HfInference,
}

/// <summary>
/// A remote model provider for tests: a real Kestrel server on 127.0.0.1 (a free port) speaking the OpenAI
/// chat-completions protocol (<c>POST /v1/chat/completions</c>, or any path ending in <c>/chat/completions</c>) and the
/// HuggingFace inference protocol (<c>POST /models/{model}</c>) as the real services do — paths, bodies, error shapes,
/// Retry-After, the 503 "model is loading" body. Every request is recorded (<see cref="Requests"/>) and answered by
/// the next queued <see cref="Behaviour"/> or else <see cref="Default"/>.
/// <code>
/// await using var fake = await FakeProviderServer.StartAsync();
/// fake.Enqueue(Behaviour.RateLimited(retryAfter: 1));
/// fake.Default = Behaviour.Caption("a beach");
/// // provider.Url = fake.OpenAiUrl (…/v1) or fake.HfUrl; then assert on fake.Requests, fake.MaxInFlight…
/// </code>
/// Test projects that link this file need <c>&lt;FrameworkReference Include="Microsoft.AspNetCore.App" /&gt;</c>.
/// </summary>
public sealed class FakeProviderServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Behaviour> _queue = new();
    private readonly List<FakeRequest> _requests = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
    private readonly Lock _lock = new();
    private int _inFlight;
    private int _maxInFlight;

    private FakeProviderServer(WebApplication app, TimeProvider clock)
    {
        _app = app;
        Clock = clock;
    }

    /// <summary>The clock the server records with and waits on (<see cref="Latency"/>, <see cref="Behaviour.Delayed"/>, Retry-After dates).</summary>
    public TimeProvider Clock { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The base URL an OpenAI-compatible client is given: <c>http://127.0.0.1:PORT/v1</c>.</summary>
    public string OpenAiUrl => BaseUrl.ToString().TrimEnd('/') + "/v1";

    /// <summary>The base URL a HuggingFace inference client is given (it adds <c>/models/{model}</c>).</summary>
    public string HfUrl => BaseUrl.ToString().TrimEnd('/');

    /// <summary>What answers when the queue is empty (a caption, "a grey square", unless set).</summary>
    public Behaviour Default { get; set; } = Behaviour.Caption("a grey square");

    /// <summary>A fixed delay before every answer (on <see cref="Clock"/>, cut short when the client gives up): a service's own inference time.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Requests being answered right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The most requests that were being answered at once (a request leaves just before its last byte is sent).</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>The requests so far, in arrival order.</summary>
    public IReadOnlyList<FakeRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts the server; <paramref name="clock"/> defaults to the system clock.</summary>
    public static async Task<FakeProviderServer> StartAsync(TimeProvider? clock = null, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeProviderServer(app, clock ?? TimeProvider.System);
        app.Run(server.HandleAsync);
        await app.StartAsync(ct);
        server.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    /// <summary>Queues behaviours for the next requests, in order; after them <see cref="Default"/> answers.</summary>
    public void Enqueue(params Behaviour[] behaviours)
    {
        ArgumentNullException.ThrowIfNull(behaviours);
        foreach (var behaviour in behaviours)
        {
            _queue.Enqueue(behaviour);
        }
    }

    /// <summary>Queues the same behaviour <paramref name="count"/> times.</summary>
    public void Enqueue(Behaviour behaviour, int count)
    {
        for (var i = 0; i < count; i++)
        {
            _queue.Enqueue(behaviour);
        }
    }

    /// <summary>Completes once at least <paramref name="count"/> requests have arrived (for synchronising without sleeps).</summary>
    public Task WaitForRequestsAsync(int count, CancellationToken ct = default)
    {
        TaskCompletionSource done;
        lock (_lock)
        {
            if (_requests.Count >= count)
            {
                return Task.CompletedTask;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, done));
        }

        return done.Task.WaitAsync(ct);
    }

    /// <summary>Forgets the requests and the gauge (the queue and the default stay).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _requests.Clear();
        }

        Volatile.Write(ref _maxInFlight, Volatile.Read(ref _inFlight));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext http)
    {
        var inFlight = Interlocked.Increment(ref _inFlight);
        for (var max = Volatile.Read(ref _maxInFlight); inFlight > max; max = Volatile.Read(ref _maxInFlight))
        {
            if (Interlocked.CompareExchange(ref _maxInFlight, inFlight, max) == max)
            {
                break;
            }
        }

        var reply = new FakeReply(http, this);
        FakeRequest? request = null;
        try
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body, http.RequestAborted);
            var protocol = ProtocolOf(http.Request);
            var behaviour = protocol == FakeProtocol.Unknown ? Behaviour.NoSuchPath : _queue.TryDequeue(out var next) ? next : Default;
            request = FakeRequest.Parse(http, protocol, body.ToArray(), Clock.GetUtcNow(), behaviour.Name);
            reply.Request = request;
            Record(request);
            if (Latency > TimeSpan.Zero)
            {
                await Task.Delay(Latency, Clock, http.RequestAborted);
            }

            await behaviour.Respond(reply);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            request?.MarkAborted();
        }
        finally
        {
            reply.Leave();
        }
    }

    private static FakeProtocol ProtocolOf(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return FakeProtocol.Unknown;
        }

        var path = request.Path.Value ?? string.Empty;
        if (path.EndsWith("/chat/completions", StringComparison.Ordinal))
        {
            return FakeProtocol.OpenAi;
        }

        return path.StartsWith("/models/", StringComparison.Ordinal) && path.Length > "/models/".Length ? FakeProtocol.HfInference : FakeProtocol.Unknown;
    }

    private void Record(FakeRequest request)
    {
        List<TaskCompletionSource> done = [];
        lock (_lock)
        {
            request.Index = _requests.Count;
            _requests.Add(request);
            _waiters.RemoveAll(w =>
            {
                if (_requests.Count < w.Count)
                {
                    return false;
                }

                done.Add(w.Done);
                return true;
            });
        }

        done.ForEach(d => d.TrySetResult());
    }

    internal void LeaveGauge() => Interlocked.Decrement(ref _inFlight);
}

/// <summary>One request the fake received, parsed as its protocol says.</summary>
public sealed class FakeRequest
{
    private int _aborted;

    public int Index { get; internal set; }

    /// <summary>When it arrived, on the server's clock.</summary>
    public DateTimeOffset At { get; init; }

    public required string Method { get; init; }

    public required string Path { get; init; }

    public FakeProtocol Protocol { get; init; }

    /// <summary>All request headers (names case-insensitive; repeated values joined with ", ").</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    public string? ContentType { get; init; }

    public required byte[] Body { get; init; }

    /// <summary>The JSON body of an OpenAI request.</summary>
    public JsonNode? Json { get; init; }

    /// <summary>The model: <c>model</c> of an OpenAI body, the path after <c>/models/</c> for hf-inference.</summary>
    public string? Model { get; init; }

    /// <summary>The text part of the user message (OpenAI), or <c>parameters.prompt</c> of an hf-inference JSON body.</summary>
    public string? Prompt { get; init; }

    /// <summary><c>parameters</c> of an hf-inference JSON body (image-to-image with a prompt or parameters).</summary>
    public JsonObject? Parameters { get; init; }

    public int? MaxTokens { get; init; }

    public double? Temperature { get; init; }

    /// <summary><c>response_format.type</c> (OpenAI), e.g. json_object.</summary>
    public string? ResponseFormat { get; init; }

    /// <summary>The image's media type: from the data URI (OpenAI) or the Content-Type (hf-inference raw bytes); null for an hf-inference JSON body.</summary>
    public string? ImageMediaType { get; init; }

    /// <summary>The image bytes: the data URI decoded (OpenAI), the body (hf-inference), or <c>inputs</c> base64-decoded (hf-inference JSON).</summary>
    public byte[]? Image { get; init; }

    /// <summary>The data URI as sent (OpenAI).</summary>
    public string? ImageUrl { get; init; }

    /// <summary>The name of the behaviour that answered.</summary>
    public required string Behaviour { get; init; }

    public string? Authorization => Headers.TryGetValue("Authorization", out var value) ? value : null;

    public int ImageSize => Image?.Length ?? 0;

    /// <summary>The client gave up (timeout, cancellation) before the answer was complete.</summary>
    public bool Aborted => Volatile.Read(ref _aborted) != 0;

    internal void MarkAborted() => Volatile.Write(ref _aborted, 1);

    internal static FakeRequest Parse(HttpContext http, FakeProtocol protocol, byte[] body, DateTimeOffset at, string behaviour)
    {
        var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var path = http.Request.Path.Value ?? string.Empty;
        var contentType = http.Request.ContentType;
        if (protocol == FakeProtocol.HfInference && contentType is not null && contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            JsonNode? hfJson = null;
            byte[]? inputs = null;
            try
            {
                hfJson = JsonNode.Parse(body);
                inputs = hfJson?["inputs"] is JsonValue value && value.TryGetValue<string>(out var base64) ? Convert.FromBase64String(base64) : null;
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
            }

            var parameters = hfJson?["parameters"] as JsonObject;
            return new FakeRequest
            {
                At = at,
                Method = http.Request.Method,
                Path = path,
                Protocol = protocol,
                Headers = headers,
                ContentType = contentType,
                Body = body,
                Json = hfJson,
                Model = Uri.UnescapeDataString(path["/models/".Length..]),
                Prompt = parameters?["prompt"] is JsonValue promptValue && promptValue.TryGetValue<string>(out var promptText) ? promptText : null,
                Parameters = parameters,
                Image = inputs,
                Behaviour = behaviour,
            };
        }

        if (protocol == FakeProtocol.HfInference)
        {
            return new FakeRequest
            {
                At = at,
                Method = http.Request.Method,
                Path = path,
                Protocol = protocol,
                Headers = headers,
                ContentType = contentType,
                Body = body,
                Model = Uri.UnescapeDataString(path["/models/".Length..]),
                ImageMediaType = contentType,
                Image = body,
                Behaviour = behaviour,
            };
        }

        JsonNode? json = null;
        try
        {
            json = body.Length == 0 ? null : JsonNode.Parse(body);
        }
        catch (JsonException)
        {
        }

        string? prompt = null, imageUrl = null, mediaType = null;
        byte[]? image = null;
        if (json?["messages"] is JsonArray messages && messages.Count > 0 && messages[0]?["content"] is JsonArray parts)
        {
            foreach (var part in parts)
            {
                switch ((string?)part?["type"])
                {
                    case "text":
                        prompt = (string?)part!["text"];
                        break;
                    case "image_url":
                        imageUrl = (string?)part!["image_url"]?["url"];
                        if (imageUrl is not null && imageUrl.StartsWith("data:", StringComparison.Ordinal) && imageUrl.IndexOf(";base64,", StringComparison.Ordinal) is var comma and > 0)
                        {
                            mediaType = imageUrl[5..comma];
                            image = Convert.FromBase64String(imageUrl[(comma + ";base64,".Length)..]);
                        }

                        break;
                }
            }
        }

        return new FakeRequest
        {
            At = at,
            Method = http.Request.Method,
            Path = path,
            Protocol = protocol,
            Headers = headers,
            ContentType = contentType,
            Body = body,
            Json = json,
            Model = (string?)json?["model"],
            Prompt = prompt,
            MaxTokens = json?["max_tokens"] is JsonValue tokens && tokens.TryGetValue<int>(out var t) ? t : null,
            Temperature = json?["temperature"] is JsonValue temperature && temperature.TryGetValue<double>(out var d) ? d : null,
            ResponseFormat = (string?)json?["response_format"]?["type"],
            ImageUrl = imageUrl,
            ImageMediaType = mediaType,
            Image = image,
            Behaviour = behaviour,
        };
    }
}

/// <summary>What a <see cref="Behaviour"/> answers with: the request, and ways to write the answer or break the connection.</summary>
public sealed class FakeReply
{
    private readonly FakeProviderServer _server;
    private int _left;

    internal FakeReply(HttpContext http, FakeProviderServer server)
    {
        Http = http;
        _server = server;
    }

    public HttpContext Http { get; }

    public FakeRequest Request { get; internal set; } = null!;

    public FakeProtocol Protocol => Request.Protocol;

    public TimeProvider Clock => _server.Clock;

    public CancellationToken Aborted => Http.RequestAborted;

    /// <summary>The key the client sent (the Authorization header without "Bearer ").</summary>
    public string SentKey => Request.Authorization is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : Request.Authorization ?? string.Empty;

    /// <summary>Writes a whole answer (leaving the in-flight gauge just before the bytes go out).</summary>
    public async Task WriteAsync(int status, string contentType, string body, IDictionary<string, string>? headers = null)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Http.Response.StatusCode = status;
        Http.Response.ContentType = contentType;
        Http.Response.ContentLength = bytes.Length;
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            Http.Response.Headers[name] = value;
        }

        Leave();
        await Http.Response.Body.WriteAsync(bytes, Aborted);
    }

    /// <summary>Writes a whole binary answer; without <paramref name="declareLength"/> it goes chunked (no Content-Length).</summary>
    public async Task WriteBytesAsync(int status, string contentType, byte[] body, bool declareLength = true)
    {
        ArgumentNullException.ThrowIfNull(body);
        Http.Response.StatusCode = status;
        Http.Response.ContentType = contentType;
        if (declareLength)
        {
            Http.Response.ContentLength = body.Length;
        }

        Leave();
        await Http.Response.Body.WriteAsync(body, Aborted);
    }

    public Task WriteJsonAsync(int status, JsonNode body, IDictionary<string, string>? headers = null) =>
        WriteAsync(status, "application/json", body.ToJsonString(), headers);

    /// <summary>
    /// Writes <paramref name="bytes"/> to the connection's socket as they are (bypassing Kestrel's response), then
    /// shuts the sending side (the client reads them, then the end of the stream) and drops the connection.
    /// </summary>
    public async Task SendRawAndCloseAsync(byte[] bytes)
    {
        var socket = Http.Features.Get<IConnectionSocketFeature>()?.Socket
            ?? throw new InvalidOperationException("The connection has no socket (not Kestrel's socket transport).");
        Leave();
        await socket.SendAsync(bytes, SocketFlags.None, Aborted);
        socket.Shutdown(SocketShutdown.Send);
        Http.Abort();
    }

    /// <summary>Breaks the connection (a TCP reset to the client).</summary>
    public void Abort()
    {
        Leave();
        Http.Abort();
    }

    internal void Leave()
    {
        if (Interlocked.Exchange(ref _left, 1) == 0)
        {
            _server.LeaveGauge();
        }
    }
}

/// <summary>
/// How the <see cref="FakeProviderServer"/> answers one request, in the shape of the protocol the request spoke:
/// captions, labels, the failures real services produce, and broken transports.
/// </summary>
public sealed class Behaviour
{
    private Behaviour(string name, Func<FakeReply, Task> respond)
    {
        Name = name;
        Respond = respond;
    }

    public string Name { get; }

    public Func<FakeReply, Task> Respond { get; }

    internal static Behaviour NoSuchPath { get; } = new("no-such-path", reply =>
        reply.WriteJsonAsync(404, new JsonObject { ["error"] = new JsonObject { ["message"] = $"Not found: {reply.Request.Path}", ["type"] = "not_found" } }));

    /// <summary>Your own answer.</summary>
    public static Behaviour Custom(string name, Func<FakeReply, Task> respond) => new(name, respond);

    /// <summary>A caption: a chat completion whose content is <paramref name="text"/> (as text parts when <paramref name="asParts"/>), or <c>[{"generated_text":…}]</c>.</summary>
    public static Behaviour Caption(string text, bool asParts = false, string finishReason = "stop") => new($"caption:{text}", reply =>
        reply.Protocol == FakeProtocol.HfInference
            ? reply.WriteJsonAsync(200, new JsonArray(new JsonObject { ["generated_text"] = text }))
            : reply.WriteJsonAsync(200, Completion(reply, asParts
                ? new JsonArray(text.Split(' ').Select((word, i) => (JsonNode)new JsonObject { ["type"] = "text", ["text"] = i == 0 ? word : " " + word }).ToArray())
                : JsonValue.Create(text), finishReason)));

    /// <summary>An empty caption (content "" / generated_text "").</summary>
    public static Behaviour EmptyCaption(string finishReason = "stop") => Caption(string.Empty, finishReason: finishReason);

    /// <summary>A chat completion with exactly this assistant content (for a chat model's labels in any shape).</summary>
    public static Behaviour Content(string content, string finishReason = "stop") => new("content", reply =>
        reply.WriteJsonAsync(200, Completion(reply, JsonValue.Create(content), finishReason)));

    /// <summary>Labels: <c>[{"label":…,"score":…}]</c> (hf-inference) or a completion whose content is <c>{"tags":[{"tag":…,"score":…}]}</c>.</summary>
    public static Behaviour Labels(params (string Label, double Score)[] labels) => new("labels", reply =>
    {
        if (reply.Protocol == FakeProtocol.HfInference)
        {
            return reply.WriteJsonAsync(200, new JsonArray(labels.Select(l => (JsonNode)new JsonObject { ["label"] = l.Label, ["score"] = l.Score }).ToArray()));
        }

        var tags = new JsonObject { ["tags"] = new JsonArray(labels.Select(l => (JsonNode)new JsonObject { ["tag"] = l.Label, ["score"] = l.Score }).ToArray()) };
        return reply.WriteJsonAsync(200, Completion(reply, JsonValue.Create(tags.ToJsonString()), "stop"));
    });

    /// <summary>429 Too Many Requests, with <c>Retry-After: SECONDS</c> when given.</summary>
    public static Behaviour RateLimited(int? retryAfter = null) => new(retryAfter is { } s ? $"429 retry-after {s}" : "429", reply =>
        reply.WriteJsonAsync(429, Error(reply, "Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded"),
            retryAfter is { } seconds ? new Dictionary<string, string> { ["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture) } : null));

    /// <summary>429 with <c>Retry-After</c> as an HTTP date <paramref name="after"/> from now (on the server's clock).</summary>
    public static Behaviour RateLimitedUntil(TimeSpan after) => new($"429 retry-after date +{after.TotalSeconds}s", reply =>
        reply.WriteJsonAsync(429, Error(reply, "Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded"),
            new Dictionary<string, string> { ["Retry-After"] = (reply.Clock.GetUtcNow() + after).ToString("R", CultureInfo.InvariantCulture) }));

    /// <summary>503 with HuggingFace's body <c>{"error":"Model … is currently loading","estimated_time":…}</c>.</summary>
    public static Behaviour Loading(double estimatedTime) => new($"503 loading {estimatedTime}", reply =>
        reply.WriteJsonAsync(503, new JsonObject
        {
            ["error"] = $"Model {reply.Request.Model} is currently loading",
            ["estimated_time"] = estimatedTime,
        }));

    /// <summary>401, its message echoing the key the client sent (as careless services do).</summary>
    public static Behaviour Unauthorized() => new("401", reply =>
        reply.WriteJsonAsync(401, Error(reply, $"Incorrect API key provided: {reply.SentKey}. Authorization: {reply.Request.Authorization}", "invalid_request_error", "invalid_api_key")));

    /// <summary>403, also echoing the key.</summary>
    public static Behaviour Forbidden() => new("403", reply =>
        reply.WriteJsonAsync(403, Error(reply, $"The key {reply.SentKey} may not use model {reply.Request.Model}.", "invalid_request_error", "model_not_allowed")));

    /// <summary>404: the service does not know the model.</summary>
    public static Behaviour ModelNotFound() => new("404", reply =>
        reply.WriteJsonAsync(404, reply.Protocol == FakeProtocol.HfInference
            ? new JsonObject { ["error"] = $"Model {reply.Request.Model} does not exist" }
            : Error(reply, $"The model `{reply.Request.Model}` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found")));

    /// <summary>400 with the service's own message.</summary>
    public static Behaviour BadRequest(string message) => new("400", reply =>
        reply.WriteJsonAsync(400, Error(reply, message, "invalid_request_error", null)));

    /// <summary>A 5xx (500 by default) with a message.</summary>
    public static Behaviour ServerError(int status = 500, string message = "The server had an error while processing your request.") => new($"{status}", reply =>
        reply.WriteJsonAsync(status, Error(reply, message, "server_error", null)));

    /// <summary>Any status, content type and body.</summary>
    public static Behaviour Raw(int status, string contentType, string body, IDictionary<string, string>? headers = null) => new($"raw {status}", reply =>
        reply.WriteAsync(status, contentType, body, headers));

    /// <summary>
    /// Image-to-image: 200 with these image bytes as <paramref name="mediaType"/> (chunked, without a Content-Length,
    /// unless <paramref name="declareLength"/>).
    /// </summary>
    public static Behaviour Image(byte[] data, string mediaType = "image/png", bool declareLength = true) => new($"image {mediaType} {data.Length} bytes", reply =>
        reply.WriteBytesAsync(200, mediaType, data, declareLength));

    /// <summary>
    /// Image-to-image: 200 with the request's own image back — the raw body as its Content-Type, or the decoded
    /// <c>inputs</c> of a JSON body as the type its bytes are — so a test can check the image made the round trip.
    /// </summary>
    public static Behaviour EchoImage() => new("echo image", reply =>
    {
        var image = reply.Request.Image ?? [];
        return reply.WriteBytesAsync(200, reply.Request.ImageMediaType ?? SniffImage(image) ?? "application/octet-stream", image);
    });

    /// <summary>200 with an image Content-Type but bytes that are no image (a JSON error, as a misconfigured handler sends).</summary>
    public static Behaviour NotAnImage(string mediaType = "image/png", string body = "{\"error\":\"the handler returned text\"}") => new($"not an image ({mediaType})", reply =>
        reply.WriteBytesAsync(200, mediaType, Encoding.UTF8.GetBytes(body)));

    /// <summary>200 with an HTML page (what a web UI or a proxy answers at the wrong URL).</summary>
    public static Behaviour Html() => Raw(200, "text/html; charset=utf-8",
        "<!DOCTYPE html><html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>");

    /// <summary>No answer at all until the client gives up (longer than any client timeout; ends when the request is aborted).</summary>
    public static Behaviour Hang() => new("hang", async reply =>
        await Task.Delay(Timeout.InfiniteTimeSpan, reply.Aborted));

    /// <summary>Waits <paramref name="delay"/> (on the server's clock, cut short when the client gives up), then answers as <paramref name="then"/>.</summary>
    public static Behaviour Delayed(TimeSpan delay, Behaviour then) => new($"delayed {delay.TotalMilliseconds} ms, {then.Name}", async reply =>
    {
        await Task.Delay(delay, reply.Clock, reply.Aborted);
        await then.Respond(reply);
    });

    /// <summary>The connection is reset before any answer.</summary>
    public static Behaviour Reset() => new("reset", reply =>
    {
        reply.Abort();
        return Task.CompletedTask;
    });

    /// <summary>
    /// 200 declaring a Content-Length larger than what it sends, then the connection closes (FIN): a body that ends
    /// early, as when a proxy or the service dies mid-answer. The bytes go straight to the socket so that the client
    /// surely receives the headers and the first half of the body before the end.
    /// </summary>
    /// <remarks>The body is a chat completion unless <paramref name="body"/> (e.g. a PNG) and its <paramref name="contentType"/> are given.</remarks>
    public static Behaviour Truncated(byte[]? body = null, string contentType = "application/json") => new("truncated", async reply =>
    {
        var full = body ?? Encoding.UTF8.GetBytes(Completion(reply, JsonValue.Create("a caption that will never arrive whole"), "stop").ToJsonString());
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nContent-Length: {full.Length}\r\nDate: {reply.Clock.GetUtcNow():R}\r\n\r\n");
        await reply.SendRawAndCloseAsync([.. head, .. full.AsSpan(0, full.Length / 2)]);
    });

    /// <summary>image/png, image/jpeg or image/webp by the magic number, or null.</summary>
    private static string? SniffImage(ReadOnlySpan<byte> data) =>
        data.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) ? "image/png"
        : data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "image/jpeg"
        : data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8) ? "image/webp"
        : null;

    private static JsonObject Completion(FakeReply reply, JsonNode? content, string finishReason) => new()
    {
        ["id"] = $"chatcmpl-fake-{reply.Request.Index}",
        ["object"] = "chat.completion",
        ["created"] = reply.Clock.GetUtcNow().ToUnixTimeSeconds(),
        ["model"] = reply.Request.Model,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
            ["finish_reason"] = finishReason,
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 85, ["completion_tokens"] = 7, ["total_tokens"] = 92 },
    };

    /// <summary>An error body: OpenAI's <c>{"error":{"message","type","param","code"}}</c>, HuggingFace's <c>{"error":"…"}</c>.</summary>
    private static JsonObject Error(FakeReply reply, string message, string type, string? code) =>
        reply.Protocol == FakeProtocol.HfInference
            ? new JsonObject { ["error"] = message }
            : new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code } };
}
