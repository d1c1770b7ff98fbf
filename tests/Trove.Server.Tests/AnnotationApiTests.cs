using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Trove.Testing;

namespace Trove.Server.Tests;

public sealed class AnnotationApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _alices = null!;
    private string _bobs = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _alices = (await _server.ImportAsync("alice", _server.WriteJpeg("alice.jpg", seed: 1)))[0];
        _bobs = (await _server.ImportAsync("bob", _server.WriteJpeg("bob.jpg", seed: 2)))[0];
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Member_tags_own_upload_but_gets_403_on_someone_elses()
    {
        var alice = _server.As("alice");
        var change = await TestServer.JsonAsync(await alice.PostAsJsonAsync($"/api/media/{_alices[..10]}/tags", new { add = new[] { "Red Sky", "cat" } }));
        Assert.Equal(_alices, (string?)change["id"]);
        Assert.Equal(["cat", "red_sky"], Names(change["added"]).Order());
        Assert.Equal(["cat", "red_sky"], Names(change["tags"]).Order());

        var swapped = await TestServer.JsonAsync(await alice.PostAsJsonAsync($"/api/media/{_alices}/tags", new { add = new[] { "dog" }, remove = new[] { "cat" } }));
        Assert.Equal(["dog"], Names(swapped["added"]));
        Assert.Equal(["cat"], Names(swapped["removed"]));
        Assert.Equal(["dog", "red_sky"], Names(swapped["tags"]).Order());

        var problem = await TestServer.ProblemAsync(await alice.PostAsJsonAsync($"/api/media/{_bobs}/tags", new { add = new[] { "vandalism" } }), HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains("own uploads", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Empty(_server.Library.Files.ReadSidecar(_bobs).Sidecar.Tags);
    }

    [Fact]
    public async Task Moderator_edits_any_media_and_the_sidecar_records_who()
    {
        var mod = _server.As("mod");
        foreach (var id in new[] { _alices, _bobs })
        {
            await TestServer.JsonAsync(await mod.PostAsJsonAsync($"/api/media/{id}/tags", new { add = new[] { "reviewed" } }));
            await TestServer.JsonAsync(await mod.PostAsJsonAsync($"/api/media/{id}/captions", new { text = "Checked by a moderator." }));
            await TestServer.JsonAsync(await mod.PutAsJsonAsync($"/api/media/{id}/crops/face", new { x = 0, y = 0, w = 10, h = 10 }));
        }

        var bobs = _server.Library.Files.ReadSidecar(_bobs).Sidecar;
        Assert.Equal("mod", bobs.Tags.Single(t => t.Name == "reviewed").AddedBy);
        Assert.Equal("mod", bobs.Captions.Single().CreatedBy);
        Assert.Equal("mod", bobs.Crops.Single().CreatedBy);
    }

    [Fact]
    public async Task Viewer_gets_403_and_anonymous_401_on_every_change()
    {
        var changes = Changes(_alices);
        var vic = _server.As("vic");
        using var anonymous = _server.Anonymous();
        foreach (var make in changes)
        {
            using var asViewer = make();
            var label = $"{asViewer.Method} {asViewer.RequestUri}";
            var refused = await vic.SendAsync(asViewer);
            Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, $"{label} as viewer: {(int)refused.StatusCode}");
            await TestServer.ProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");

            using var asAnonymous = make();
            await TestServer.ProblemAsync(await anonymous.SendAsync(asAnonymous), HttpStatusCode.Unauthorized, "unauthenticated");
        }

        foreach (var read in new[] { "captions", "crops", "masks" })
        {
            await TestServer.ProblemAsync(await anonymous.GetAsync($"/api/media/{_alices}/{read}"), HttpStatusCode.Unauthorized);
            await TestServer.JsonAsync(await vic.GetAsync($"/api/media/{_alices}/{read}"));
        }

        var sidecar = _server.Library.Files.ReadSidecar(_alices).Sidecar;
        Assert.Empty(sidecar.Tags);
        Assert.Empty(sidecar.Captions);
        Assert.Empty(sidecar.Crops);
    }

    [Fact]
    public async Task Cookie_session_changes_need_the_csrf_header()
    {
        var withToken = await _server.SessionAsync("alice");
        await TestServer.JsonAsync(await withToken.PostAsJsonAsync($"/api/media/{_alices}/tags", new { add = new[] { "ok" } }));
        var withoutToken = await _server.SessionAsync("alice", sendCsrf: false);
        await TestServer.ProblemAsync(await withoutToken.PostAsJsonAsync($"/api/media/{_alices}/tags", new { add = new[] { "forged" } }), HttpStatusCode.Forbidden, "csrf-failed");
        using var upload = MaskForm(MaskPng(320, 240, 255), "mask.png", "person");
        await TestServer.ProblemAsync(await withoutToken.PostAsync($"/api/media/{_alices}/masks", upload), HttpStatusCode.Forbidden, "csrf-failed");
        Assert.Equal(["ok"], _server.Library.Files.ReadSidecar(_alices).Sidecar.Tags.Select(t => t.Name));
    }

    [Fact]
    public async Task Removing_an_implied_tag_is_refused_with_the_child_named()
    {
        var alice = _server.As("alice");
        await TestServer.JsonAsync(await _server.As("mod").PostAsJsonAsync("/api/tags/implications", new { child = "kitten", parent = "cat" }));
        var added = await TestServer.JsonAsync(await alice.PostAsJsonAsync($"/api/media/{_alices}/tags", new { add = new[] { "kitten" } }));
        Assert.Equal(["cat", "kitten"], Names(added["tags"]).Order());
        var problem = await TestServer.ProblemAsync(await alice.PostAsJsonAsync($"/api/media/{_alices}/tags", new { remove = new[] { "cat" } }), HttpStatusCode.BadRequest, "tag-implied");
        Assert.Contains("kitten", (string?)problem["detail"], StringComparison.Ordinal);
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync($"/api/media/{_alices}/tags", new { add = new[] { "-bad" } }), HttpStatusCode.BadRequest, "invalid-tag");
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync($"/api/media/{_alices}/tags", new { add = new[] { "x" }, remove = new[] { "x" } }), HttpStatusCode.BadRequest, "tag-add-and-remove");
    }

    [Fact]
    public async Task Captions_are_added_listed_made_primary_and_deleted()
    {
        var alice = _server.As("alice");
        var first = await alice.PostAsJsonAsync($"/api/media/{_alices}/captions", new { text = "  A red sky over the sea.  " });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.EndsWith($"/api/media/{_alices}/captions/1", first.Headers.Location?.ToString(), StringComparison.Ordinal);
        await TestServer.JsonAsync(await alice.PostAsJsonAsync($"/api/media/{_alices}/captions", new { text = "Sunset." }));

        var listed = await TestServer.JsonAsync(await alice.GetAsync($"/api/media/{_alices}/captions"));
        var captions = listed["captions"]!.AsArray();
        Assert.Equal(2, captions.Count);
        Assert.Equal("A red sky over the sea.", (string?)captions[0]!["text"]);
        Assert.True((bool)captions[0]!["primary"]!);
        Assert.False((bool)captions[1]!["primary"]!);
        Assert.Equal("alice", (string?)captions[1]!["createdBy"]);

        var switched = await TestServer.JsonAsync(await alice.PutAsync($"/api/media/{_alices}/captions/2/primary", null));
        Assert.Equal(2, (int)switched["captions"]!.AsArray().Single(c => (bool)c!["primary"]!)!["id"]!);

        var afterDelete = await TestServer.JsonAsync(await alice.DeleteAsync($"/api/media/{_alices}/captions/2"));
        var left = afterDelete["captions"]!.AsArray().Single()!;
        Assert.Equal(1, (int)left["id"]!);
        Assert.True((bool)left["primary"]!);
        Assert.Equal("A red sky over the sea.", _server.Library.Files.ReadSidecar(_alices).Sidecar.PrimaryCaption?.Text);

        await TestServer.ProblemAsync(await alice.DeleteAsync($"/api/media/{_alices}/captions/9"), HttpStatusCode.NotFound, "caption-not-found");
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync($"/api/media/{_alices}/captions", new { text = "   " }), HttpStatusCode.BadRequest, "empty-caption");
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync($"/api/media/{_bobs}/captions", new { text = "not mine" }), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Crop_outside_the_image_is_400_with_the_image_size()
    {
        var alice = _server.As("alice");
        var problem = await TestServer.ProblemAsync(await alice.PutAsJsonAsync($"/api/media/{_alices}/crops/face", new { x = 300, y = 10, w = 50, h = 50 }), HttpStatusCode.BadRequest, "crop-out-of-bounds");
        Assert.Contains("320×240", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Contains("X+W must be ≤ 320", (string?)problem["hint"], StringComparison.Ordinal);

        var missing = await TestServer.ProblemAsync(await alice.PutAsJsonAsync($"/api/media/{_alices}/crops/face", new { x = 0, y = 0, w = 10 }), HttpStatusCode.BadRequest, "bad-rect");
        Assert.Contains("missing: h", (string?)missing["detail"], StringComparison.Ordinal);
        await TestServer.ProblemAsync(await alice.PutAsJsonAsync($"/api/media/{_alices}/crops/face", new { x = -1, y = 0, w = 10, h = 10 }), HttpStatusCode.BadRequest, "bad-rect");
        await TestServer.ProblemAsync(await alice.PutAsJsonAsync($"/api/media/{_alices}/crops/bad%20name!", new { x = 0, y = 0, w = 10, h = 10 }), HttpStatusCode.BadRequest, "bad-crop-name");
        await TestServer.ProblemAsync(await alice.PutAsync($"/api/media/{_alices}/crops/face", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.Empty(_server.Library.Files.ReadSidecar(_alices).Sidecar.Crops);
    }

    [Fact]
    public async Task Crop_renders_at_its_size_with_etag_and_private_caching()
    {
        var alice = _server.As("alice");
        var listing = await TestServer.JsonAsync(await alice.PutAsJsonAsync($"/api/media/{_alices}/crops/Face", new { x = 20, y = 30, w = 100, h = 60 }));
        var crop = listing["crops"]!.AsArray().Single()!;
        Assert.Equal("face", (string?)crop["name"]);
        Assert.Equal(320, (int)listing["width"]!);
        var url = (string)crop["image"]!;
        Assert.Equal($"/api/media/{_alices}/crops/face/image", url);

        var png = await alice.GetAsync(url + "?format=png");
        Assert.Equal(HttpStatusCode.OK, png.StatusCode);
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        Assert.Equal((100, 60), PngSize(await png.Content.ReadAsByteArrayAsync()));
        Assert.True(png.Headers.CacheControl is { Private: true, MaxAge: not null }, $"Cache-Control: {png.Headers.CacheControl}");
        var etag = png.Headers.ETag;
        Assert.NotNull(etag);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, url + "?format=png");
        conditional.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await alice.SendAsync(conditional)).StatusCode);

        var small = await alice.GetAsync(url + "?format=png&size=50");
        Assert.Equal((50, 30), PngSize(await small.Content.ReadAsByteArrayAsync()));
        Assert.NotEqual(etag, small.Headers.ETag);

        var jpeg = await _server.As("vic").GetAsync(url + "?format=jpeg");
        Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType?.MediaType);
        var bytes = await jpeg.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xFF, 0xD8], bytes[..2]);
        Assert.Equal("image/webp", (await alice.GetAsync(url)).Content.Headers.ContentType?.MediaType);

        // Redefining the crop changes what the same URL answers, and its tag.
        await TestServer.JsonAsync(await alice.PutAsJsonAsync($"/api/media/{_alices}/crops/face", new { x = 0, y = 0, w = 40, h = 80 }));
        using var stale = new HttpRequestMessage(HttpMethod.Get, url + "?format=png");
        stale.Headers.IfNoneMatch.Add(etag);
        var redefined = await alice.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, redefined.StatusCode);
        Assert.Equal((40, 80), PngSize(await redefined.Content.ReadAsByteArrayAsync()));

        await TestServer.ProblemAsync(await alice.GetAsync(url + "?format=gif"), HttpStatusCode.BadRequest, "bad-format");
        await TestServer.ProblemAsync(await alice.GetAsync(url + "?size=0"), HttpStatusCode.BadRequest, "bad-size");
        await TestServer.ProblemAsync(await alice.GetAsync(url + "?size=big"), HttpStatusCode.BadRequest, "bad-size");
        await TestServer.ProblemAsync(await alice.GetAsync($"/api/media/{_alices}/crops/nope/image"), HttpStatusCode.NotFound, "crop-not-found");

        var removed = await TestServer.JsonAsync(await alice.DeleteAsync($"/api/media/{_alices}/crops/face"));
        Assert.Empty(removed["crops"]!.AsArray());
        await TestServer.ProblemAsync(await alice.DeleteAsync($"/api/media/{_alices}/crops/face"), HttpStatusCode.NotFound, "crop-not-found");
    }

    [Fact]
    public async Task Mask_upload_imports_a_linked_mask_from_a_sanitised_temporary_file()
    {
        var alice = _server.As("alice");
        using var form = MaskForm(MaskPng(320, 240, 255), "../../../escape.png", "Person");
        var uploaded = await TestServer.JsonAsync(await alice.PostAsync($"/api/media/{_alices}/masks", form));
        var maskId = (string)uploaded["id"]!;
        Assert.Equal("imported", (string?)uploaded["status"]);
        Assert.Equal(_alices, (string?)uploaded["imageId"]);
        Assert.Equal("person", (string?)uploaded["category"]);

        var masks = await TestServer.JsonAsync(await _server.As("vic").GetAsync($"/api/media/{_alices}/masks"));
        var mask = masks["masks"]!.AsArray().Single()!;
        Assert.Equal(maskId, (string?)mask["id"]);
        Assert.Equal("person", (string?)mask["category"]);
        Assert.Equal(320, (int)mask["width"]!);
        Assert.Equal($"/api/media/{maskId}/original", (string?)mask["urls"]!["original"]);
        Assert.DoesNotContain(_server.Library.Layout.Root, masks.ToJsonString(), StringComparison.Ordinal);

        var sidecar = _server.Library.Files.ReadSidecar(maskId).Sidecar;
        Assert.Equal("mask", sidecar.Kind);
        Assert.Equal(_alices, sidecar.Mask?.Source);
        Assert.Equal("alice", sidecar.Uploader);
        Assert.Equal("escape.png", sidecar.Original.OriginalName);

        // Nothing escaped the temporary folder, and nothing was left in it.
        Assert.False(File.Exists(Path.Combine(_server.Library.Layout.Root, "escape.png")));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_server.Library.Layout.Root)!, "escape.png")));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_server.Library.Layout.TempDir), p => Path.GetFileName(p).StartsWith("upload-", StringComparison.Ordinal));

        var again = await TestServer.JsonAsync(await alice.PostAsync($"/api/media/{_alices}/masks", MaskForm(MaskPng(320, 240, 255), "same.png", "person")));
        Assert.Equal("duplicate", (string?)again["status"]);
        Assert.Equal(maskId, (string?)again["id"]);
    }

    [Fact]
    public async Task Mask_upload_is_refused_when_it_does_not_fit_or_is_not_ones_own()
    {
        var alice = _server.As("alice");
        var misfit = await TestServer.ProblemAsync(await alice.PostAsync($"/api/media/{_alices}/masks", MaskForm(MaskPng(100, 300, 200), "tall.png", "person")), HttpStatusCode.UnprocessableEntity, "mask-rejected");
        Assert.Contains("100×300", (string?)misfit["detail"], StringComparison.Ordinal);
        await TestServer.ProblemAsync(await alice.PostAsync($"/api/media/{_bobs}/masks", MaskForm(MaskPng(320, 240, 128), "m.png", "person")), HttpStatusCode.Forbidden, "forbidden");
        var json = await TestServer.ProblemAsync(await alice.PostAsJsonAsync($"/api/media/{_alices}/masks", new { file = "nope" }), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        Assert.Contains("multipart/form-data", (string?)json["detail"], StringComparison.Ordinal);
        using (var noFile = new MultipartFormDataContent { { new StringContent("person"), "category" } })
        {
            await TestServer.ProblemAsync(await alice.PostAsync($"/api/media/{_alices}/masks", noFile), HttpStatusCode.BadRequest, "missing-file");
        }

        using var text = new MultipartFormDataContent { { new ByteArrayContent("just words"u8.ToArray()), "file", "notes.png" } };
        await TestServer.ProblemAsync(await alice.PostAsync($"/api/media/{_alices}/masks", text), HttpStatusCode.UnprocessableEntity, "mask-rejected");
        // A file already in the library as an ordinary image cannot become a mask as well.
        using var existing = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(Path.Combine(_server.Scratch, "alice.jpg"))), "file", "alice.jpg" } };
        await TestServer.ProblemAsync(await alice.PostAsync($"/api/media/{_alices}/masks", existing), HttpStatusCode.Conflict, "conflict");
        Assert.Empty((await TestServer.JsonAsync(await alice.GetAsync($"/api/media/{_alices}/masks")))["masks"]!.AsArray());
    }

    [Theory]
    [InlineData("zzzz", HttpStatusCode.BadRequest, "invalid-id")]
    [InlineData("..%2f..%2fetc", HttpStatusCode.BadRequest, "invalid-id")]
    [InlineData("..%2F..%2F..%2Fstate", HttpStatusCode.BadRequest, "invalid-id")]
    [InlineData("abcdef0123456789", HttpStatusCode.NotFound, "media-not-found")]
    public async Task Forged_ids_are_problems_never_server_errors(string id, HttpStatusCode status, string code)
    {
        var mod = _server.As("mod");
        foreach (var path in new[] { "captions", "crops", "masks", "crops/face/image" })
        {
            await TestServer.ProblemAsync(await mod.GetAsync($"/api/media/{id}/{path}"), status, code);
        }

        foreach (var make in Changes(id))
        {
            using var request = make();
            await TestServer.ProblemAsync(await mod.SendAsync(request), status, code);
        }
    }

    private List<Func<HttpRequestMessage>> Changes(string id) =>
    [
        () => new HttpRequestMessage(HttpMethod.Post, $"/api/media/{id}/tags") { Content = JsonContent.Create(new { add = new[] { "x" } }) },
        () => new HttpRequestMessage(HttpMethod.Post, $"/api/media/{id}/captions") { Content = JsonContent.Create(new { text = "x" }) },
        () => new HttpRequestMessage(HttpMethod.Put, $"/api/media/{id}/captions/1/primary"),
        () => new HttpRequestMessage(HttpMethod.Delete, $"/api/media/{id}/captions/1"),
        () => new HttpRequestMessage(HttpMethod.Put, $"/api/media/{id}/crops/face") { Content = JsonContent.Create(new { x = 0, y = 0, w = 5, h = 5 }) },
        () => new HttpRequestMessage(HttpMethod.Delete, $"/api/media/{id}/crops/face"),
        () => new HttpRequestMessage(HttpMethod.Post, $"/api/media/{id}/masks") { Content = MaskForm(MaskPng(320, 240, 64), "m.png", "person") },
    ];

    private static IEnumerable<string> Names(JsonNode? array) => array!.AsArray().Select(n => (string)n!);

    private byte[] MaskPng(int width, int height, byte value)
    {
        var path = Path.Combine(_server.Scratch, $"mask-{Guid.NewGuid():n}.png");
        TestImages.WritePng(path, TestImages.Solid(width, height, value));
        return File.ReadAllBytes(path);
    }

    private static MultipartFormDataContent MaskForm(byte[] png, string fileName, string category)
    {
        var file = new ByteArrayContent(png);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return new MultipartFormDataContent { { file, "file", fileName }, { new StringContent(category), "category" } };
    }

    /// <summary>Width and height from a PNG's IHDR chunk.</summary>
    private static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
