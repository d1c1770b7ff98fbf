using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Imaging.Vips;
using Trove.Index.Sqlite;
using Trove.Library;
using Trove.Server;
using Trove.Testing;

namespace Trove.Server.Tests;

/// <summary>
/// A real Trove server for tests: a fresh library in a temporary folder (SQLite index, libvips imaging), the real
/// ASP.NET Core host on a free loopback port, and one account per role with a password and an API token.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string Password = "correct horse battery";

    private static readonly Lazy<IImageEngine> Vips = new(() => VipsImageEngine.Create(new VipsOptions()));
    private readonly string _root;
    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private readonly List<HttpClient> _clients = [];

    private TestServer(string root, TroveLibrary library, WebApplication app, Uri address)
    {
        _root = root;
        Library = library;
        App = app;
        Address = address;
    }

    public TroveLibrary Library { get; }

    public WebApplication App { get; }

    public Uri Address { get; }

    /// <summary>Where tests may write files of their own (deleted with the server).</summary>
    public string Scratch => Path.Combine(_root, "scratch");

    /// <summary>Accounts made at start, by name: admin, mod (moderator), alice and bob (members), vic (viewer).</summary>
    public static readonly IReadOnlyDictionary<string, Role> Accounts = new Dictionary<string, Role>
    {
        ["admin"] = Role.Admin,
        ["mod"] = Role.Moderator,
        ["alice"] = Role.Member,
        ["bob"] = Role.Member,
        ["vic"] = Role.Viewer,
    };

    private static readonly Lazy<Trove.Application.Inference.IInferenceEngine> Onnx = new(() => Trove.Inference.Onnx.OnnxInferenceEngine.Create(new Trove.Inference.Onnx.OnnxOptions()));

    /// <summary>The real ONNX Runtime, one per test process; a test that needs it fails with what to install when it is missing.</summary>
    public static Trove.Application.Inference.IInferenceEngine RequireOnnx()
    {
        Assert.True(Onnx.Value.Status.Available, $"ONNX Runtime is needed for this test (make deps): {Onnx.Value.Status.Message}");
        return Onnx.Value;
    }

    /// <summary>A server whose library runs models on the real ONNX Runtime.</summary>
    public static Task<TestServer> StartWithOnnxAsync(Action<ServerSettings>? configure = null) => StartAsync(configure, inference: RequireOnnx());

    /// <param name="library">Changes to the library's options (e.g. suggestion settings) before it opens.</param>
    /// <param name="inference">The inference engine (e.g. the real ONNX Runtime); by default none is available.</param>
    /// <param name="remote">Remote model providers (e.g. the real HTTP client against a fake provider); by default none.</param>
    public static async Task<TestServer> StartAsync(Action<ServerSettings>? configure = null, bool imaging = true, Action<TroveOptions>? library = null, Trove.Application.Inference.IInferenceEngine? inference = null, Trove.Application.Providers.IRemoteModels? remote = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "trove-server-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(Path.Combine(root, "scratch"));
        var options = new TroveOptions { Durability = Durability.Fast };
        options.Accounts.PasswordIterations = 1000;
        library?.Invoke(options);
        var env = LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), options, actor: "test-host");
        if (imaging)
        {
            env = env with { Imaging = Vips.Value };
        }

        if (inference is not null)
        {
            env = env with { Inference = inference };
        }

        if (remote is not null)
        {
            env = env with { Remote = remote };
        }

        var libraryPath = Path.Combine(root, "library");
        TroveLibrary.Init(libraryPath, env);
        var opened = await TroveLibrary.OpenAsync(libraryPath, env, null, CancellationToken.None);
        var settings = new ServerSettings { Urls = "http://127.0.0.1:0", LoginPerMinute = 10_000, UploadsPerMinute = 10_000 };
        configure?.Invoke(settings);
        var app = TroveServer.Build(opened, settings);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var server = new TestServer(root, opened, app, address);
        var accounts = new AccountService(opened);
        foreach (var (name, role) in Accounts)
        {
            var user = await accounts.CreateAsync(name, role, Password, CancellationToken.None);
            server._tokens[name] = (await accounts.IssueTokenAsync(user.Id, "tests", CancellationToken.None)).Secret;
        }

        return server;
    }

    public string TokenOf(string user) => _tokens[user];

    /// <summary>A client without credentials.</summary>
    public HttpClient Anonymous()
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Address };
        _clients.Add(client);
        return client;
    }

    /// <summary>A client that sends the account's API token.</summary>
    public HttpClient As(string user)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _tokens[user]);
        return client;
    }

    /// <summary>A browser-like client: signed in with a session cookie, sending the antiforgery token on changes (unless told not to).</summary>
    public async Task<HttpClient> SessionAsync(string user, bool sendCsrf = true)
    {
        var cookies = new CookieContainer();
        var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = Address };
        _clients.Add(client);
        using var login = await client.PostAsJsonAsync("/api/auth/login", new { name = user, password = Password });
        login.EnsureSuccessStatusCode();
        var me = await login.Content.ReadFromJsonAsync<JsonObject>();
        if (sendCsrf)
        {
            client.DefaultRequestHeaders.Add("X-CSRF-TOKEN", (string)me!["csrfToken"]!);
        }

        return client;
    }

    /// <summary>Writes a generated photo-like JPEG into the scratch folder and returns its path.</summary>
    public string WriteJpeg(string name, int seed, int width = 320, int height = 240)
    {
        var path = Path.Combine(Scratch, name);
        TestImages.WriteJpeg(path, TestImages.Photo(seed, width, height));
        return path;
    }

    /// <summary>Imports files directly through the application (as <paramref name="uploader"/>) and returns their ids.</summary>
    public async Task<IReadOnlyList<string>> ImportAsync(string uploader, params string[] paths)
    {
        using (Library.ActAs(uploader))
        {
            var report = await new MediaService(Library).ImportAsync(paths, new ImportOptions([], null, false), null, CancellationToken.None);
            return report.Media;
        }
    }

    /// <summary>Adds a caption the way a captioner model writes one (pending review) and returns its number.</summary>
    public async Task<int> AddGeneratedCaptionAsync(string id, string text, string model = "florence", string version = "2")
    {
        await using var session = await Library.BeginWriteAsync(CancellationToken.None);
        var stored = session.Read(id);
        var number = stored.Sidecar.NextCaptionId();
        stored.Sidecar.Captions.Add(new CaptionEntry
        {
            Id = number,
            Text = text,
            Source = CaptionSources.Model,
            Model = model,
            ModelVersion = version,
            Status = CaptionStatus.Pending,
            CreatedAt = session.Now,
            CreatedBy = "worker",
        });
        await session.SaveAsync(stored.Sidecar, stored.InTrash, CancellationToken.None);
        return number;
    }

    /// <summary>The media's captions as stored in its sidecar.</summary>
    public IReadOnlyList<CaptionEntry> CaptionsOf(string id) => Library.Files.ReadSidecar(id).Sidecar.Captions;

    public static async Task<JsonNode> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Asserts a problem-details answer with this status and code.</summary>
    public static async Task<JsonNode> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? code = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString() ?? string.Empty, StringComparison.Ordinal);
        var problem = JsonNode.Parse(text)!;
        if (code is not null)
        {
            Assert.Equal(code, (string?)problem["code"]);
        }

        return problem;
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await App.StopAsync();
        await App.DisposeAsync();
        await Library.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
