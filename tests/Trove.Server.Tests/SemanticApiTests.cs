using System.Net;
using System.Text.Json.Nodes;
using Trove.Application.Embeddings;
using Trove.Application.Models;
using Trove.Domain.Models;
using Trove.Testing;

namespace Trove.Server.Tests;

/// <summary>
/// Semantic search and near-duplicates by embedding through the real host (issue 16): uploads embedded by the generated
/// CLIP pair through real ONNX Runtime, then GET /api/search with semantic:/like: returns a score per item, and the
/// duplicate and similar endpoints answer by embedding.
/// </summary>
public sealed class SemanticApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartWithOnnxAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task RegisterAsync()
    {
        var (image, text, vocab, merges) = ClipPair.Write(Path.Combine(_server.Scratch, "clip"));
        await new ModelRegistry(_server.Library).AddAsync(
            new ModelAddRequest("clip", ModelKinds.Embedder, image, "1", Parameters: new JsonObject { ["size"] = ClipPair.Size, ["autoEmbed"] = false })
            {
                Files = new Dictionary<string, string> { ["text"] = text, ["vocab"] = vocab, ["merges"] = merges },
            },
            CancellationToken.None);
    }

    private async Task<string> UploadAsync(string name, byte r, byte g, byte b, int width = 48)
    {
        var path = Path.Combine(_server.Scratch, name + ".jpg");
        TestImages.WriteJpeg(path, TestImages.Solid(width, ClipPair.Size, r, g, b));
        return await Uploads.UploadOneAsync(_server.As("alice"), name + ".jpg", await File.ReadAllBytesAsync(path));
    }

    private async Task<(HttpStatusCode Status, JsonNode Body)> GetAsync(string user, string url)
    {
        var response = await _server.As(user).GetAsync(new Uri(url, UriKind.Relative));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task Semantic_queries_return_a_score_per_item_and_duplicates_and_similar_answer_by_embedding()
    {
        var red = await UploadAsync("red", 230, 20, 20);
        var red2 = await UploadAsync("red-again", 226, 24, 22, width: 40);
        var blue = await UploadAsync("blue", 20, 20, 230);

        // Before an embedder exists the term is refused by name, and so is grouping by embedding.
        var (status, problem) = await GetAsync("vic", "/api/search?q=" + Uri.EscapeDataString("semantic:red"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("no-embedder", (string?)problem["code"]);
        Assert.Contains("semantic:red", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync("mod", "/api/duplicates?by=embedding")).Status);

        await RegisterAsync();
        var embedded = await new EmbedRunner(_server.Library).RunAsync([red, red2, blue], force: false, null, CancellationToken.None);
        Assert.Equal(3, embedded.Embedded);

        var (ok, found) = await GetAsync("vic", "/api/search?q=" + Uri.EscapeDataString("semantic:red") + "&limit=2");
        Assert.Equal(HttpStatusCode.OK, ok);
        var items = found["items"]!.AsArray();
        Assert.Equal(2, items.Count);
        Assert.Equal(3, (int)found["total"]!);
        Assert.All(items, i => Assert.True((double)i!["score"]! > 0.9, i!.ToJsonString()));
        Assert.Equal(new[] { red, red2 }.Order(StringComparer.Ordinal), items.Select(i => (string)i!["id"]!).Order(StringComparer.Ordinal));
        var next = (string?)found["next"];
        Assert.NotNull(next);
        var last = (await GetAsync("vic", "/api/search?q=" + Uri.EscapeDataString("semantic:red") + "&limit=2&cursor=" + Uri.EscapeDataString(next))).Body["items"]!.AsArray();
        Assert.Equal(blue, (string?)Assert.Single(last)!["id"]);
        Assert.True((double)last[0]!["score"]! < 0.2);

        // A plain query has no scores.
        Assert.All((await GetAsync("vic", "/api/search?q=")).Body["items"]!.AsArray(), i => Assert.Null(i!["score"]));

        // like: leaves the media itself out.
        var like = (await GetAsync("vic", $"/api/search?q=like:{red[..10]}")).Body["items"]!.AsArray();
        Assert.Equal(red2, (string?)like[0]!["id"]);
        Assert.DoesNotContain(red, like.Select(i => (string?)i!["id"]));

        var (dupStatus, dupes) = await GetAsync("mod", "/api/duplicates?by=embedding");
        Assert.Equal(HttpStatusCode.OK, dupStatus);
        Assert.Equal("embedding", (string?)dupes["by"]);
        Assert.Equal(0.95, (double)dupes["minScore"]!, 3);
        var group = Assert.Single(dupes["groups"]!.AsArray())!.AsArray();
        Assert.Equal(new[] { red, red2 }.Order(StringComparer.Ordinal), group.Select(m => (string)m!["id"]!).Order(StringComparer.Ordinal));
        var link = Assert.Single(dupes["links"]!.AsArray())!;
        Assert.Equal("embedding", (string?)link["by"]);
        Assert.True((double)link["score"]! >= 0.95);
        Assert.Empty((await GetAsync("mod", "/api/duplicates")).Body["groups"]!.AsArray());
        Assert.Equal("bad-minScore", (string?)(await GetAsync("mod", "/api/duplicates?by=embedding&minScore=2")).Body["code"]);
        Assert.Equal("bad-by", (string?)(await GetAsync("mod", "/api/duplicates?by=colour")).Body["code"]);

        var (simStatus, similar) = await GetAsync("vic", $"/api/media/{red}/similar?by=embedding");
        Assert.Equal(HttpStatusCode.OK, simStatus);
        Assert.Equal("embedding", (string?)similar["by"]);
        var item = Assert.Single(similar["items"]!.AsArray())!;
        Assert.Equal(red2, (string?)item["id"]);
        Assert.Null(item["distance"]);
        Assert.True((double)item["score"]! >= 0.95);
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync("vic", $"/api/media/{red}/similar?by=both")).Status);

        // The duplicates page offers the choice once an embedder exists and names what linked each group.
        var session = await _server.SessionAsync("mod");
        var page = await PageRequests.PageAsync(session, "/duplicates?by=embedding");
        Assert.Contains("data-testid=\"by\"", page, StringComparison.Ordinal);
        Assert.Contains("<span data-testid=\"linked\">embedding &#x2265; 0.9", page, StringComparison.Ordinal);
        Assert.Contains(red, page, StringComparison.Ordinal);
        Assert.Contains("No near-duplicates", await PageRequests.PageAsync(session, "/duplicates?by=phash"), StringComparison.Ordinal);
    }
}
