using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Trove.Application.Faces;
using Trove.Application.Jobs;
using Trove.Application.Models;
using Trove.Domain.Models;
using Trove.Testing;
using static Trove.Testing.FacePictures;

namespace Trove.Server.Tests;

/// <summary>
/// Faces and people through the real host (issue 17): uploads scanned by the generated SCRFD detector and ArcFace
/// embedder through real ONNX Runtime and libvips, then the people and faces endpoints — listing, naming, merge, split,
/// reject, confirm, cover, hide, face images, person: search — with the roles each needs.
/// </summary>
public sealed class PeopleApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartWithOnnxAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task RegisterAsync()
    {
        var registry = new ModelRegistry(_server.Library);
        var detector = OnnxModels.Write(Path.Combine(_server.Scratch, "scrfd.onnx"), OnnxModels.FaceDetector());
        var embedder = OnnxModels.Write(Path.Combine(_server.Scratch, "arcface.onnx"), OnnxModels.FaceEmbedder());
        await registry.AddAsync(new ModelAddRequest("scrfd", ModelKinds.FaceDetector, detector, "1", Parameters: new JsonObject { ["autoFaces"] = false }), CancellationToken.None);
        await registry.AddAsync(new ModelAddRequest("arcface", ModelKinds.FaceEmbedder, embedder, "1"), CancellationToken.None);
    }

    private async Task<string> UploadAsync(string user, string name, params FaceSquare[] squares)
    {
        var path = WritePng(Path.Combine(_server.Scratch, name + ".png"), squares);
        return await Uploads.UploadOneAsync(_server.As(user), name + ".png", await File.ReadAllBytesAsync(path));
    }

    private async Task<JsonNode> GetAsync(string user, string url) => await TestServer.JsonAsync(await _server.As(user).GetAsync(new Uri(url, UriKind.Relative)));

    private Task<HttpResponseMessage> SendAsync(string user, HttpMethod method, string url, object body) =>
        _server.As(user).SendAsync(new HttpRequestMessage(method, new Uri(url, UriKind.Relative)) { Content = JsonContent.Create(body) });

    private async Task<List<string>> FindAsync(string q) =>
        [.. (await GetAsync("vic", "/api/search?q=" + Uri.EscapeDataString(q)))["items"]!.AsArray().Select(i => (string)i!["id"]!).Order(StringComparer.Ordinal)];

    private static List<string> Sorted(params string[] ids) => [.. ids.Order(StringComparer.Ordinal)];

    private async Task<string> FaceAtAsync(string media, int x, int y) =>
        (string)(await GetAsync("vic", $"/api/media/{media}/faces"))["faces"]!.AsArray()
            .Single(f => (int)f!["box"]!["x"]! == x && (int)f!["box"]!["y"]! == y)!["id"]!;

    [Fact]
    public async Task People_are_listed_named_merged_split_and_corrected_through_the_api_with_roles_enforced()
    {
        await RegisterAsync();
        var (a, b, c, d, e) = await ImportTwoPeopleAsync((name, squares) => UploadAsync(name is "d" or "e" ? "bob" : "alice", name, squares));

        // Detection is queued by moderators only; the job kind is faces.
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync("alice", HttpMethod.Post, "/api/faces/detect", new { query = "" })).StatusCode);
        var queued = await TestServer.JsonAsync(await SendAsync("mod", HttpMethod.Post, "/api/faces/detect", new { query = "" }));
        Assert.Equal(5, (int)queued["media"]!);
        Assert.Equal("scrfd@1", (string?)queued["detector"]);
        Assert.Equal("faces", (string?)queued["jobs"]![0]!["kind"]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var finished = await JobQueue.Of(_server.Library).WhenFinishedAsync((string)queued["jobs"]![0]!["id"]!, timeout.Token);
        Assert.Equal(JobStatus.Succeeded, finished.Status);
        var job = await GetAsync("mod", $"/api/jobs/{finished.Id}");
        Assert.Equal(7, (int)job["result"]!["usable"]!);

        // The media's faces and the face images.
        var faces = await GetAsync("vic", $"/api/media/{b[..12]}/faces");
        Assert.Equal(b, (string?)faces["id"]);
        Assert.Equal("scrfd@1", (string?)faces["detector"]);
        var face = faces["faces"]![0]!;
        Assert.Equal($"{b}#1", (string?)face["id"]);
        Assert.Equal(96, (int)face["box"]!["x"]!);
        Assert.Equal("suggested", (string?)face["status"]);
        var image = await _server.As("vic").GetAsync(new Uri($"/api/media/{b}/faces/1/image?size=64", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/webp", image.Content.Headers.ContentType?.MediaType);
        var bytes = await image.Content.ReadAsByteArrayAsync();
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
        await TestServer.ProblemAsync(await _server.As("vic").GetAsync(new Uri($"/api/media/{b}/faces/9/image", UriKind.Relative)), HttpStatusCode.NotFound, "face-not-found");

        var people = (await GetAsync("vic", "/api/people"))["people"]!.AsArray();
        Assert.Equal(2, people.Count);
        Assert.All(people, p => Assert.Equal(3, (int)p!["suggested"]!));
        var red = (string)face["person"]!;
        var green = (string)(await GetAsync("vic", $"/api/media/{d}/faces"))["faces"]![0]!["person"]!;

        // Naming is for moderators; it confirms the group's faces and person: finds them.
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync("alice", HttpMethod.Patch, $"/api/people/{red}", new { name = "Alice" })).StatusCode);
        var named = await TestServer.JsonAsync(await SendAsync("mod", HttpMethod.Patch, $"/api/people/{red}", new { name = "Alice Liddell", addAliases = new[] { "Alice" }, externalIds = new Dictionary<string, string> { ["stashdb"] = "7c1e" } }));
        Assert.Equal(3, (int)named["confirmed"]!);
        Assert.Equal("Alice Liddell", (string?)named["person"]!["name"]);
        Assert.Equal("7c1e", (string?)named["person"]!["externalIds"]!["stashdb"]);
        Assert.Equal(Sorted(a, b, c), await FindAsync("person:alice"));
        await TestServer.ProblemAsync(await SendAsync("mod", HttpMethod.Patch, $"/api/people/{green}", new { name = "alice liddell" }), HttpStatusCode.Conflict, "person-name-taken");
        // A request with one bad part changes nothing: the name is not given when the cover is refused.
        await TestServer.ProblemAsync(await SendAsync("mod", HttpMethod.Patch, $"/api/people/{green}", new { name = "Bob", cover = $"{b}#1" }), HttpStatusCode.BadRequest, "cover-not-confirmed");
        Assert.Null(_server.Library.People.Get(green)!.Name);
        await TestServer.ProblemAsync(await _server.As("vic").GetAsync(new Uri("/api/people/Nobody", UriKind.Relative)), HttpStatusCode.NotFound, "person-not-found");
        var detail = await GetAsync("vic", "/api/people/alice");
        Assert.Equal(red, (string?)detail["person"]!["id"]);
        Assert.Equal(3, detail["faces"]!.AsArray().Count);

        // Merge and split back: the un-merge.
        await TestServer.JsonAsync(await SendAsync("mod", HttpMethod.Patch, $"/api/people/{green}", new { name = "Bob" }));
        var merged = await TestServer.JsonAsync(await SendAsync("mod", HttpMethod.Post, "/api/people/Bob/merge", new { into = "Alice Liddell" }));
        Assert.Equal(3, (int)merged["moved"]!);
        Assert.Equal(Sorted(a, b, c, d, e), await FindAsync("person:alice"));
        await TestServer.JsonAsync(await SendAsync("mod", HttpMethod.Patch, "/api/people/alice", new { removeAliases = new[] { "Bob" } }));
        var greens = new[] { await FaceAtAsync(a, 416, 416), await FaceAtAsync(d, 96, 96), await FaceAtAsync(e, 416, 96) };
        var split = await TestServer.JsonAsync(await SendAsync("mod", HttpMethod.Post, "/api/people/split", new { faces = greens, newName = "Bob" }));
        Assert.Equal(3, (int)split["moved"]!);
        Assert.Equal(Sorted(a, d, e), await FindAsync("person:bob"));

        // Members decide about faces in their own uploads only; every face is checked before anything changes.
        var cRed = await FaceAtAsync(c, 416, 96);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync("bob", HttpMethod.Post, "/api/people/alice/reject", new { faces = new[] { cRed } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync("alice", HttpMethod.Post, "/api/people/alice/reject", new { faces = new[] { cRed, greens[1] } })).StatusCode);
        Assert.Equal(Sorted(a, b, c), await FindAsync("person:alice"));
        Assert.Equal(1, (int)(await TestServer.JsonAsync(await SendAsync("alice", HttpMethod.Post, "/api/people/alice/reject", new { faces = new[] { cRed } })))["changed"]!);
        Assert.Equal(Sorted(a, b), await FindAsync("person:alice"));
        await TestServer.JsonAsync(await SendAsync("mod", HttpMethod.Post, "/api/faces/cluster", new { }));
        await TestServer.ProblemAsync(await SendAsync("alice", HttpMethod.Post, "/api/faces/confirm", new { faces = new[] { "nonsense" } }), HttpStatusCode.BadRequest, "bad-face");
        Assert.Equal(1, (int)(await TestServer.JsonAsync(await SendAsync("alice", HttpMethod.Post, "/api/faces/confirm", new { faces = new[] { cRed }, person = "Alice" })))["changed"]!);
        Assert.Equal(Sorted(a, b, c), await FindAsync("person:alice"));

        // Cover and hide; not-face on the lone blue face empties has:unknown-face.
        var covered = await TestServer.JsonAsync(await SendAsync("mod", HttpMethod.Patch, "/api/people/alice", new { cover = $"{b}#1", hidden = true }));
        Assert.Equal($"{b}#1", (string?)covered["person"]!["cover"]);
        Assert.True((bool)covered["person"]!["hidden"]!);
        Assert.Single((await GetAsync("vic", "/api/people"))["people"]!.AsArray());
        Assert.Equal(2, (await GetAsync("vic", "/api/people?hidden=true"))["people"]!.AsArray().Count);
        Assert.Equal(Sorted(c), await FindAsync("has:unknown-face"));
        var blue = await FaceAtAsync(c, 96, 416);
        Assert.Equal(1, (int)(await TestServer.JsonAsync(await SendAsync("alice", HttpMethod.Post, "/api/faces/not-face", new { faces = new[] { blue } })))["changed"]!);
        Assert.Empty(await FindAsync("has:unknown-face"));
        Assert.Empty((await GetAsync("vic", "/api/faces/suggestions"))["faces"]!.AsArray());
    }
}
