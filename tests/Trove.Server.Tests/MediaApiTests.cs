using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Trove.Application;
using Trove.Testing;

namespace Trove.Server.Tests;

public sealed class MediaApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private byte[] _jpeg = null!;
    private string _id = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _jpeg = Uploads.Jpeg(_server, 100, 400, 300);
        _id = await Uploads.UploadOneAsync(_server.As("alice"), "Sunset Photo.jpg", _jpeg, tags: "sunset,sky");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Detail_describes_the_media_with_urls_tags_and_masks()
    {
        var maskPath = Path.Combine(_server.Scratch, "mask.png");
        TestImages.WritePng(maskPath, TestImages.Solid(400, 300, 255));
        using (_server.Library.ActAs("alice"))
        {
            var report = await new MediaService(_server.Library).ImportAsync([maskPath], new ImportOptions([], null, false, MaskOf: _id, MaskCategory: "person"), null, CancellationToken.None);
            Assert.Equal(1, report.Imported);
        }

        var detail = await TestServer.JsonAsync(await _server.As("vic").GetAsync($"/api/media/{_id[..10]}"));
        Assert.Equal(_id, (string?)detail["id"]);
        Assert.Equal("image", (string?)detail["kind"]);
        Assert.Equal("image/jpeg", (string?)detail["mediaType"]);
        Assert.Equal("jpg", (string?)detail["ext"]);
        Assert.Equal(400, (int)detail["width"]!);
        Assert.Equal(300, (int)detail["height"]!);
        Assert.Equal(_jpeg.Length, (long)detail["size"]!);
        Assert.Equal("Sunset Photo.jpg", (string?)detail["originalName"]);
        Assert.Equal("alice", (string?)detail["uploader"]);
        Assert.False((bool)detail["inTrash"]!);
        var tags = detail["tags"]!.AsArray();
        Assert.Equal(["sky", "sunset"], tags.Select(t => (string)t!["name"]!));
        Assert.All(tags, t =>
        {
            Assert.Equal("general", (string?)t!["category"]);
            Assert.Equal("import", (string?)t["source"]);
            Assert.Equal("alice", (string?)t["addedBy"]);
            Assert.NotNull(t["addedAt"]);
        });
        Assert.Equal($"/api/media/{_id}/original", (string?)detail["urls"]!["original"]);
        Assert.Equal($"/api/media/{_id}/thumbnail?size=256", (string?)detail["urls"]!["thumbnail"]);
        var mask = Assert.Single(detail["masks"]!.AsArray());
        Assert.Equal("person", (string?)mask!["category"]);

        var maskDetail = await TestServer.JsonAsync(await _server.As("vic").GetAsync($"/api/media/{mask["id"]}"));
        Assert.Equal("mask", (string?)maskDetail["kind"]);
        Assert.Equal(_id, (string?)maskDetail["maskOf"]!["id"]);
        Assert.Equal("person", (string?)maskDetail["maskOf"]!["category"]);
        Assert.Contains(maskDetail["relations"]!.AsArray(), r => (string?)r!["type"] == "mask-of" && (string?)r["target"] == _id);
    }

    [Fact]
    public async Task Original_supports_ranges_etag_and_immutable_caching()
    {
        var vic = _server.As("vic");
        using var full = await vic.GetAsync($"/api/media/{_id}/original");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(_jpeg, await full.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/jpeg", full.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"\"{_id}\"", full.Headers.ETag?.Tag);
        Assert.False(full.Headers.ETag!.IsWeak);
        Assert.Equal("bytes", Assert.Single(full.Headers.AcceptRanges));
        var cache = full.Headers.CacheControl!;
        Assert.True(cache.Private);
        Assert.Equal(TimeSpan.FromDays(365), cache.MaxAge);
        Assert.Contains(cache.Extensions, e => e.Name == "immutable");
        Assert.Equal("inline", full.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("Sunset Photo.jpg", full.Content.Headers.ContentDisposition?.FileNameStar);

        using var range = new HttpRequestMessage(HttpMethod.Get, $"/api/media/{_id}/original");
        range.Headers.Range = new RangeHeaderValue(100, 199);
        using var partial = await vic.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(_jpeg[100..200], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(100, partial.Content.Headers.ContentRange?.From);
        Assert.Equal(_jpeg.Length, partial.Content.Headers.ContentRange?.Length);
        Assert.Equal($"\"{_id}\"", partial.Headers.ETag?.Tag);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/media/{_id}/original");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{_id}\""));
        using var notModified = await vic.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var stale = new HttpRequestMessage(HttpMethod.Get, $"/api/media/{_id}/original");
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"0000\""));
        Assert.Equal(HttpStatusCode.OK, (await vic.SendAsync(stale)).StatusCode);
    }

    [Fact]
    public async Task Thumbnails_are_webp_immutable_and_conditional()
    {
        var vic = _server.As("vic");
        foreach (var size in new[] { 256, 512 })
        {
            using var response = await vic.GetAsync($"/api/media/{_id}/thumbnail?size={size}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/webp", response.Content.Headers.ContentType?.MediaType);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
            Assert.Equal("WEBP", System.Text.Encoding.ASCII.GetString(bytes, 8, 4));
            Assert.Contains(response.Headers.CacheControl!.Extensions, e => e.Name == "immutable");
            var etag = response.Headers.ETag!;
            Assert.Contains(_id, etag.Tag, StringComparison.Ordinal);

            using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/media/{_id}/thumbnail?size={size}");
            conditional.Headers.IfNoneMatch.Add(etag);
            Assert.Equal(HttpStatusCode.NotModified, (await vic.SendAsync(conditional)).StatusCode);
        }

        // Without a size: the grid size.
        using var grid = await vic.GetAsync($"/api/media/{_id}/thumbnail");
        Assert.Equal(HttpStatusCode.OK, grid.StatusCode);
        Assert.Contains("-256-", grid.Headers.ETag!.Tag, StringComparison.Ordinal);

        var problem = await TestServer.ProblemAsync(await vic.GetAsync($"/api/media/{_id}/thumbnail?size=300"), HttpStatusCode.BadRequest, "bad-size");
        Assert.Contains("256, 512, 1024", (string)problem["detail"]!, StringComparison.Ordinal);
        await TestServer.ProblemAsync(await vic.GetAsync($"/api/media/{_id}/thumbnail?size=big"), HttpStatusCode.BadRequest, "bad-size");
    }

    [Fact]
    public async Task Thumbnails_need_libvips_unless_already_made()
    {
        await using var bare = await TestServer.StartAsync(imaging: false);
        var id = await Uploads.UploadOneAsync(bare.As("alice"), "plain.jpg", Uploads.Jpeg(bare, 101));
        var problem = await TestServer.ProblemAsync(await bare.As("alice").GetAsync($"/api/media/{id}/thumbnail?size=512"), HttpStatusCode.ServiceUnavailable, "imaging-unavailable");
        Assert.Contains("libvips", (string)problem["hint"]!, StringComparison.Ordinal);

        // The original needs no pixels.
        Assert.Equal(HttpStatusCode.OK, (await bare.As("alice").GetAsync($"/api/media/{id}/original")).StatusCode);
    }

    [Theory]
    [InlineData("zzzz", HttpStatusCode.BadRequest)]
    [InlineData("..%2F..%2Fetc%2Fpasswd", HttpStatusCode.BadRequest)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", HttpStatusCode.NotFound)]
    [InlineData("abcdef01", HttpStatusCode.NotFound)]
    public async Task Forged_ids_are_problems_never_server_errors(string id, HttpStatusCode status)
    {
        var mod = _server.As("mod");
        foreach (var path in new[] { "", "/original", "/thumbnail?size=256", "/similar" })
        {
            var problem = await TestServer.ProblemAsync(await mod.GetAsync($"/api/media/{id}{path}"), status);
            Assert.Equal(status == HttpStatusCode.NotFound ? "media-not-found" : "invalid-id", (string?)problem["code"]);
        }

        await TestServer.ProblemAsync(await mod.DeleteAsync($"/api/media/{id}"), status);
        await TestServer.ProblemAsync(await mod.PostAsync($"/api/media/{id}/restore", null), status);
    }

    [Fact]
    public async Task Delete_then_restore_through_the_api()
    {
        var id = await Uploads.UploadOneAsync(_server.As("alice"), "temp.jpg", Uploads.Jpeg(_server, 102));

        // Members change only their own uploads.
        await TestServer.ProblemAsync(await _server.As("bob").DeleteAsync($"/api/media/{id}"), HttpStatusCode.Forbidden, "forbidden");
        await TestServer.ProblemAsync(await _server.As("vic").DeleteAsync($"/api/media/{id}"), HttpStatusCode.Forbidden, "forbidden");

        var deleted = await TestServer.JsonAsync(await _server.As("alice").DeleteAsync($"/api/media/{id}"));
        Assert.True((bool)deleted["inTrash"]!);
        Assert.Equal(0, await Uploads.CountAsync(_server, $"id:{id[..12]}"));

        // The trash is for moderators to see: others get 404, as if it were gone.
        await TestServer.ProblemAsync(await _server.As("bob").GetAsync($"/api/media/{id}"), HttpStatusCode.NotFound, "media-not-found");
        await TestServer.ProblemAsync(await _server.As("alice").GetAsync($"/api/media/{id}/original"), HttpStatusCode.NotFound, "media-not-found");
        await TestServer.ProblemAsync(await _server.As("vic").GetAsync($"/api/media/{id}/thumbnail"), HttpStatusCode.NotFound, "media-not-found");
        var seen = await TestServer.JsonAsync(await _server.As("mod").GetAsync($"/api/media/{id}"));
        Assert.True((bool)seen["inTrash"]!);
        Assert.Equal("alice", (string?)seen["deletedBy"]);
        using (var original = await _server.As("mod").GetAsync($"/api/media/{id}/original"))
        {
            Assert.Equal(HttpStatusCode.OK, original.StatusCode);
        }

        await TestServer.ProblemAsync(await _server.As("bob").PostAsync($"/api/media/{id}/restore", null), HttpStatusCode.Forbidden, "forbidden");
        var restored = await TestServer.JsonAsync(await _server.As("alice").PostAsync($"/api/media/{id}/restore", null));
        Assert.False((bool)restored["inTrash"]!);
        Assert.Equal(1, await Uploads.CountAsync(_server, $"id:{id[..12]}"));
        Assert.False((bool)(await TestServer.JsonAsync(await _server.As("bob").GetAsync($"/api/media/{id}")))["inTrash"]!);
    }

    [Fact]
    public async Task Moderators_delete_any_media_and_only_admins_purge()
    {
        var keep = await Uploads.UploadOneAsync(_server.As("bob"), "keep.jpg", Uploads.Jpeg(_server, 103));
        var gone = await Uploads.UploadOneAsync(_server.As("bob"), "gone.jpg", Uploads.Jpeg(_server, 104));
        await TestServer.JsonAsync(await _server.As("mod").DeleteAsync($"/api/media/{keep}"));
        await TestServer.JsonAsync(await _server.As("mod").DeleteAsync($"/api/media/{gone}"));

        await TestServer.ProblemAsync(await _server.As("mod").PostAsJsonAsync("/api/trash/purge", new { ids = new[] { gone } }), HttpStatusCode.Forbidden, "forbidden");
        await TestServer.ProblemAsync(await _server.As("admin").PostAsJsonAsync("/api/trash/purge", new { ids = new[] { _id } }), (HttpStatusCode)422, "not-in-trash");

        var purged = await TestServer.JsonAsync(await _server.As("admin").PostAsJsonAsync("/api/trash/purge", new { ids = new[] { gone } }));
        Assert.Equal([gone], purged["purged"]!.AsArray().Select(p => (string)p!));
        await TestServer.ProblemAsync(await _server.As("admin").GetAsync($"/api/media/{gone}"), HttpStatusCode.NotFound, "media-not-found");
        Assert.True((bool)(await TestServer.JsonAsync(await _server.As("admin").GetAsync($"/api/media/{keep}")))["inTrash"]!);

        // No body: the whole trash.
        var all = await TestServer.JsonAsync(await _server.As("admin").PostAsync("/api/trash/purge", null));
        Assert.Equal([keep], all["purged"]!.AsArray().Select(p => (string)p!));
        Assert.False(File.Exists(_server.Library.Layout.OriginalPath(keep, "jpg", trash: true)));
    }

    [Fact]
    public async Task The_openapi_document_lists_the_media_search_and_export_endpoints()
    {
        var paths = (await TestServer.JsonAsync(await _server.Anonymous().GetAsync("/api/openapi/v1.json")))["paths"]!.AsObject();
        foreach (var path in new[]
        {
            "/api/media", "/api/media/{id}", "/api/media/{id}/original", "/api/media/{id}/thumbnail", "/api/media/{id}/similar",
            "/api/media/{id}/restore", "/api/trash/purge", "/api/search", "/api/tags/autocomplete", "/api/exports",
            "/api/exports/{jobId}/download", "/api/jobs", "/api/jobs/{id}", "/api/jobs/{id}/cancel",
        })
        {
            Assert.True(paths.ContainsKey(path) || paths.ContainsKey(path + "/"), $"{path} is not in the OpenAPI document");
        }
    }

    [Fact]
    public async Task Similar_finds_a_resized_copy()
    {
        var smaller = Uploads.Jpeg(_server, 100, 200, 150);
        var copy = await Uploads.UploadOneAsync(_server.As("bob"), "small.jpg", smaller);
        await Uploads.UploadOneAsync(_server.As("bob"), "other.jpg", Uploads.Jpeg(_server, 105, 400, 300));

        var similar = await TestServer.JsonAsync(await _server.As("vic").GetAsync($"/api/media/{_id}/similar?distance=8"));
        Assert.Equal(_id, (string?)similar["id"]);
        var item = Assert.Single(similar["items"]!.AsArray());
        Assert.Equal(copy, (string?)item!["id"]);
        Assert.True((int)item["distance"]! <= 8);
        Assert.Equal(200, (int)item["width"]!);
        Assert.Equal($"/api/media/{copy}/thumbnail?size=256", (string?)item["thumbnail"]);

        await TestServer.ProblemAsync(await _server.As("vic").GetAsync($"/api/media/{_id}/similar?distance=99"), HttpStatusCode.BadRequest, "bad-distance");
    }
}
