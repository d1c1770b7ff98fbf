using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Trove.Testing;

namespace Trove.Server.Tests;

/// <summary>Building and sending uploads (multipart, as curl -F or a browser's FormData would).</summary>
internal static class Uploads
{
    public static byte[] Jpeg(TestServer server, int seed, int width = 160, int height = 120) =>
        File.ReadAllBytes(server.WriteJpeg($"upload-{seed}-{width}x{height}.jpg", seed, width, height));

    public static byte[] Png(TestServer server, int seed, int width = 120, int height = 90)
    {
        var path = Path.Combine(server.Scratch, $"upload-{seed}.png");
        TestImages.WritePng(path, TestImages.Photo(seed, width, height));
        return File.ReadAllBytes(path);
    }

    public static MultipartFormDataContent Form(IEnumerable<(string Name, byte[] Bytes)> files, string? tags = null, string? collection = null)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", name);
        }

        if (tags is not null)
        {
            form.Add(new StringContent(tags), "tags");
        }

        if (collection is not null)
        {
            form.Add(new StringContent(collection), "collection");
        }

        return form;
    }

    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, IEnumerable<(string Name, byte[] Bytes)> files, string? tags = null, string? collection = null)
    {
        using var form = Form(files, tags, collection);
        return await client.PostAsync("/api/media", form);
    }

    /// <summary>Uploads and returns the response JSON (asserting success).</summary>
    public static async Task<JsonNode> UploadAsync(HttpClient client, params (string Name, byte[] Bytes)[] files) =>
        await TestServer.JsonAsync(await PostAsync(client, files));

    /// <summary>Uploads one file and returns its id (imported or duplicate).</summary>
    public static async Task<string> UploadOneAsync(HttpClient client, string name, byte[] bytes, string? tags = null)
    {
        var report = await TestServer.JsonAsync(await PostAsync(client, [(name, bytes)], tags));
        var item = report["items"]![0]!;
        Assert.True((string?)item["status"] is "imported" or "duplicate", item.ToJsonString());
        return (string)item["id"]!;
    }

    /// <summary>Staging folders of uploads still in the library's tmp/ (there should be none after a request).</summary>
    public static IReadOnlyList<string> Leftovers(TestServer server) =>
        Directory.Exists(server.Library.Layout.TempDir)
            ? Directory.EnumerateFileSystemEntries(server.Library.Layout.TempDir).Where(p => Path.GetFileName(p).StartsWith("upload-", StringComparison.Ordinal)).ToList()
            : [];

    public static async Task<long> CountAsync(TestServer server, string query = "")
    {
        var result = await TestServer.JsonAsync(await server.As("admin").GetAsync($"/api/search?q={Uri.EscapeDataString(query)}&limit=0"));
        return (long)result["total"]!;
    }
}

public sealed class UploadSecurityTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Multi_file_upload_imports_images_and_reports_a_disguised_text_file()
    {
        var jpeg = Uploads.Jpeg(_server, 1);
        var png = Uploads.Png(_server, 2);
        var text = Encoding.UTF8.GetBytes("this is not a picture, just words\n");
        var report = await TestServer.JsonAsync(await Uploads.PostAsync(_server.As("alice"), [("photo.jpg", jpeg), ("drawing.png", png), ("notes.jpg", text)], tags: "cat, Outdoor", collection: "holiday"));

        Assert.Equal(2, (int)report["imported"]!);
        Assert.Equal(0, (int)report["duplicates"]!);
        Assert.Equal(1, (int)report["failed"]!);
        var items = report["items"]!.AsArray();
        Assert.Equal(["photo.jpg", "drawing.png", "notes.jpg"], items.Select(i => (string)i!["name"]!));
        Assert.Equal(["imported", "imported", "failed"], items.Select(i => (string)i!["status"]!));
        Assert.Equal(Sha256(jpeg), (string?)items[0]!["id"]);
        Assert.Equal(Sha256(png), (string?)items[1]!["id"]);
        Assert.Null(items[2]!["id"]);
        Assert.Contains("text, not an image", (string)items[2]!["error"]!, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Library.Layout.Root, report.ToJsonString(), StringComparison.Ordinal);

        // Tags (normalised) and the collection apply to every imported file; the uploader is the account.
        var detail = await TestServer.JsonAsync(await _server.As("vic").GetAsync($"/api/media/{items[0]!["id"]}"));
        Assert.Equal("alice", (string?)detail["uploader"]);
        Assert.Equal("photo.jpg", (string?)detail["originalName"]);
        Assert.Equal(["cat", "outdoor"], detail["tags"]!.AsArray().Select(t => (string)t!["name"]!));
        Assert.Equal("holiday", (string?)detail["collections"]![0]!["name"]);
        Assert.Equal("image/png", (string?)(await TestServer.JsonAsync(await _server.As("vic").GetAsync($"/api/media/{items[1]!["id"]}")))["mediaType"]);
        Assert.Empty(Uploads.Leftovers(_server));
    }

    [Fact]
    public async Task A_duplicate_upload_answers_the_existing_id()
    {
        var jpeg = Uploads.Jpeg(_server, 3);
        var first = await Uploads.UploadOneAsync(_server.As("alice"), "a.jpg", jpeg);

        var again = await TestServer.JsonAsync(await Uploads.PostAsync(_server.As("bob"), [("b.jpg", jpeg), ("c.jpg", jpeg)]));
        Assert.Equal(0, (int)again["imported"]!);
        Assert.Equal(2, (int)again["duplicates"]!);
        Assert.All(again["items"]!.AsArray(), i =>
        {
            Assert.Equal("duplicate", (string?)i!["status"]);
            Assert.Equal(first, (string?)i["id"]);
        });

        // The same file twice in one new upload: the first is imported, the second is its duplicate.
        var fresh = Uploads.Jpeg(_server, 4);
        var twice = await TestServer.JsonAsync(await Uploads.PostAsync(_server.As("bob"), [("x.jpg", fresh), ("y.jpg", fresh)]));
        Assert.Equal(["imported", "duplicate"], twice["items"]!.AsArray().Select(i => (string)i!["status"]!));

        // The media keeps its first uploader.
        var detail = await TestServer.JsonAsync(await _server.As("alice").GetAsync($"/api/media/{first}"));
        Assert.Equal("alice", (string?)detail["uploader"]);
        Assert.Equal("a.jpg", (string?)detail["originalName"]);
    }

    [Fact]
    public async Task Viewers_cannot_upload_and_anonymous_clients_are_not_signed_in()
    {
        var jpeg = Uploads.Jpeg(_server, 5);
        await TestServer.ProblemAsync(await Uploads.PostAsync(_server.As("vic"), [("v.jpg", jpeg)]), HttpStatusCode.Forbidden, "forbidden");
        await TestServer.ProblemAsync(await Uploads.PostAsync(_server.Anonymous(), [("v.jpg", jpeg)]), HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal(0, await Uploads.CountAsync(_server, $"id:{Sha256(jpeg)[..12]}"));
    }

    [Fact]
    public async Task Cookie_sessions_upload_only_with_the_antiforgery_header()
    {
        var jpeg = Uploads.Jpeg(_server, 6);
        var forged = await _server.SessionAsync("alice", sendCsrf: false);
        await TestServer.ProblemAsync(await Uploads.PostAsync(forged, [("s.jpg", jpeg)]), HttpStatusCode.Forbidden, "csrf-failed");
        Assert.Equal(0, await Uploads.CountAsync(_server, $"id:{Sha256(jpeg)[..12]}"));

        var session = await _server.SessionAsync("alice");
        var id = await Uploads.UploadOneAsync(session, "s.jpg", jpeg);
        Assert.Equal(Sha256(jpeg), id);
    }

    [Fact]
    public async Task A_browser_form_with_the_token_as_a_form_field_uploads_too()
    {
        // Without the header, the antiforgery check reads the token from the form (buffering it); the upload then
        // takes the files from that form, with the same limits.
        var session = await _server.SessionAsync("bob", sendCsrf: false);
        var me = await TestServer.JsonAsync(await session.GetAsync("/api/me"));
        var jpeg = Uploads.Jpeg(_server, 31);
        using var form = Uploads.Form([("form.jpg", jpeg), ("form.txt", Encoding.UTF8.GetBytes("words"))], tags: "from_form");
        form.Add(new StringContent((string)me["csrfToken"]!), "__RequestVerificationToken");
        var report = await TestServer.JsonAsync(await session.PostAsync("/api/media", form));
        Assert.Equal(["imported", "failed"], report["items"]!.AsArray().Select(i => (string)i!["status"]!));
        var detail = await TestServer.JsonAsync(await session.GetAsync($"/api/media/{Sha256(jpeg)}"));
        Assert.Equal("bob", (string?)detail["uploader"]);
        Assert.Equal("from_form", (string?)detail["tags"]![0]!["name"]);
        Assert.Empty(Uploads.Leftovers(_server));
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_is_415()
    {
        var alice = _server.As("alice");
        await TestServer.ProblemAsync(await alice.PostAsJsonAsync("/api/media", new { files = "a.jpg" }), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        using var urlencoded = new FormUrlEncodedContent([new("tags", "cat")]);
        await TestServer.ProblemAsync(await alice.PostAsync("/api/media", urlencoded), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        using var raw = new ByteArrayContent(Uploads.Jpeg(_server, 7));
        await TestServer.ProblemAsync(await alice.PostAsync("/api/media", raw), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task A_form_without_files_is_400()
    {
        using var form = new MultipartFormDataContent { { new StringContent("cat"), "tags" } };
        await TestServer.ProblemAsync(await _server.As("alice").PostAsync("/api/media", form), HttpStatusCode.BadRequest, "no-files");
    }

    [Fact]
    public async Task Path_traversal_in_file_names_is_neutralised()
    {
        var root = Path.GetDirectoryName(_server.Library.Layout.Root)!;
        var jpeg = Uploads.Jpeg(_server, 8);
        var png = Uploads.Png(_server, 9);
        var gif = Uploads.Jpeg(_server, 10);
        var report = await TestServer.JsonAsync(await Uploads.PostAsync(
            _server.As("alice"),
            [("../../evil.jpg", jpeg), ("..\\..\\..\\windows.png", png), ("..", gif)]));

        var items = report["items"]!.AsArray();
        Assert.Equal(["evil.jpg", "windows.png", "upload"], items.Select(i => (string)i!["name"]!));
        Assert.All(items, i => Assert.Equal("imported", (string?)i!["status"]));
        var detail = await TestServer.JsonAsync(await _server.As("alice").GetAsync($"/api/media/{items[0]!["id"]}"));
        Assert.Equal("evil.jpg", (string?)detail["originalName"]);

        // Nothing was written outside the library, and nothing of the upload stays in tmp/.
        Assert.Empty(Directory.EnumerateFiles(root, "evil.jpg", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(root, "*windows.png", SearchOption.AllDirectories));
        Assert.Empty(Uploads.Leftovers(_server));
    }

    [Fact]
    public async Task File_names_lose_control_characters_and_stay_short()
    {
        Assert.Equal("evil.jpg", Trove.Application.Import.UploadBatch.SafeFileName("/etc/../../evil.jpg"));
        Assert.Equal("ab.jpg", Trove.Application.Import.UploadBatch.SafeFileName("a\u0000b\r\n.jpg"));
        Assert.Equal("upload", Trove.Application.Import.UploadBatch.SafeFileName("...."));
        Assert.Equal("upload", Trove.Application.Import.UploadBatch.SafeFileName("  "));
        Assert.Equal("hidden.jpg", Trove.Application.Import.UploadBatch.SafeFileName(".hidden.jpg"));
        var longName = Trove.Application.Import.UploadBatch.SafeFileName(new string('é', 300) + ".png");
        Assert.EndsWith(".png", longName, StringComparison.Ordinal);
        Assert.True(Encoding.UTF8.GetByteCount(longName) <= Trove.Application.Import.UploadBatch.MaxNameBytes);

        var id = await Uploads.UploadOneAsync(_server.As("alice"), "bad\u0001name.jpg", Uploads.Jpeg(_server, 11));
        var detail = await TestServer.JsonAsync(await _server.As("alice").GetAsync($"/api/media/{id}"));
        Assert.Equal("badname.jpg", (string?)detail["originalName"]);
    }

    [Fact]
    public async Task Archives_are_refused_as_items_not_expanded()
    {
        var zipPath = Path.Combine(_server.Scratch, "pack.zip");
        using (var zip = System.IO.Compression.ZipFile.Open(zipPath, System.IO.Compression.ZipArchiveMode.Create))
        {
            var entry = zip.CreateEntry("inside.jpg");
            await using var s = entry.Open();
            await s.WriteAsync(Uploads.Jpeg(_server, 12));
        }

        var inside = Sha256(Uploads.Jpeg(_server, 12));
        var report = await Uploads.UploadAsync(_server.As("alice"), ("pack.jpg", await File.ReadAllBytesAsync(zipPath)));
        Assert.Equal("failed", (string?)report["items"]![0]!["status"]);
        Assert.Contains("ZIP", (string)report["items"]![0]!["error"]!, StringComparison.Ordinal);
        Assert.Equal(0, await Uploads.CountAsync(_server, $"id:{inside[..12]}"));
    }

    [Fact]
    public async Task An_oversized_file_is_413_and_nothing_of_the_upload_is_imported()
    {
        await using var small = await TestServer.StartAsync(s => s.MaxUploadFileBytes = 20_000);
        var fits = Uploads.Jpeg(small, 13, 64, 48);
        var big = Uploads.Jpeg(small, 14, 1200, 900);
        Assert.True(fits.Length < 20_000 && big.Length > 20_000, $"{fits.Length} / {big.Length}");

        var problem = await TestServer.ProblemAsync(await Uploads.PostAsync(small.As("alice"), [("fits.jpg", fits), ("big.jpg", big)]), HttpStatusCode.RequestEntityTooLarge, "upload-too-large");
        Assert.Contains("big.jpg", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Equal(0, await Uploads.CountAsync(small));
        Assert.Empty(Uploads.Leftovers(small));

        // The limit is per file: the small one alone goes through.
        Assert.Equal(Sha256(fits), await Uploads.UploadOneAsync(small.As("alice"), "fits.jpg", fits));
    }

    [Fact]
    public async Task A_request_over_the_total_limit_is_413_and_nothing_is_imported()
    {
        var files = Enumerable.Range(40, 4).Select(i => ($"t{i}.jpg", Uploads.Jpeg(_server, i, 240, 180))).ToList();
        var limit = files.Sum(f => f.Item2.Length) - 1000;
        Assert.True(files.All(f => f.Item2.Length < limit / 2));
        await using var small = await TestServer.StartAsync(s => s.MaxUploadRequestBytes = limit);

        await TestServer.ProblemAsync(await Uploads.PostAsync(small.As("alice"), files), HttpStatusCode.RequestEntityTooLarge, "upload-too-large");
        Assert.Equal(0, await Uploads.CountAsync(small));
        Assert.Empty(Uploads.Leftovers(small));
    }

    [Fact]
    public async Task Too_many_files_are_refused_before_anything_is_imported()
    {
        await using var few = await TestServer.StartAsync(s => s.MaxUploadFiles = 2);
        var files = Enumerable.Range(20, 3).Select(i => ($"f{i}.jpg", Uploads.Jpeg(few, i, 48, 36))).ToList();
        var problem = await TestServer.ProblemAsync(await Uploads.PostAsync(few.As("alice"), files), HttpStatusCode.BadRequest, "too-many-files");
        Assert.Contains("at most 2", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Equal(0, await Uploads.CountAsync(few));
        Assert.Empty(Uploads.Leftovers(few));
    }

    [Fact]
    public async Task Uploads_are_rate_limited_per_account()
    {
        await using var strict = await TestServer.StartAsync(s => s.UploadsPerMinute = 1);
        var jpeg = Uploads.Jpeg(strict, 30, 48, 36);
        await Uploads.UploadOneAsync(strict.As("alice"), "one.jpg", jpeg);
        var refused = await Uploads.PostAsync(strict.As("alice"), [("two.jpg", jpeg)]);
        await TestServer.ProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(refused.Headers.RetryAfter is not null);

        // Another account has its own allowance.
        await Uploads.UploadOneAsync(strict.As("bob"), "three.jpg", jpeg);
    }

    internal static string Sha256(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
}

/// <summary>Malformed bodies and decompression bombs: refused with a problem or a failed item, never a 500, nothing stored.</summary>
public sealed class MalformedUploadTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("/api/media")]
    [InlineData("/api/media/{id}/masks")]
    public async Task A_truncated_multipart_body_is_a_400_problem_and_nothing_is_stored(string url)
    {
        var target = (await _server.ImportAsync("alice", _server.WriteJpeg("target.jpg", 9)))[0];
        url = url.Replace("{id}", target, StringComparison.Ordinal);
        var jpeg = Uploads.Jpeg(_server, 3);
        var body = new MemoryStream();
        var head = Encoding.ASCII.GetBytes("--XYZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n");
        body.Write(head);
        body.Write(jpeg.AsSpan(0, jpeg.Length / 2));
        using var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=XYZ");

        var response = await _server.As("alice").PostAsync(url, content);

        await TestServer.ProblemAsync(response, HttpStatusCode.BadRequest, "bad-multipart");
        Assert.Equal(1, await _server.Library.Index.CountMediaAsync(false, CancellationToken.None));
        var temp = _server.Library.Layout.TempDir;
        Assert.True(!Directory.Exists(temp) || !Directory.EnumerateFileSystemEntries(temp, "upload-*").Any(), "an upload staging folder was left behind");
    }

    [Fact]
    public async Task A_multipart_body_without_a_boundary_is_refused()
    {
        using var content = new ByteArrayContent(Encoding.ASCII.GetBytes("not really multipart"));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data");
        var response = await _server.As("alice").PostAsync("/api/media", content);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"got {(int)response.StatusCode}");
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pixel_bomb_is_a_failed_item_with_the_reason()
    {
        var path = Path.Combine(_server.Scratch, "bomb.png");
        TestImages.WritePngBomb(path, 60_000, 60_000);
        var report = await Uploads.UploadAsync(_server.As("alice"), ("bomb.png", File.ReadAllBytes(path)));
        var item = report["items"]![0]!;
        Assert.Equal("failed", (string?)item["status"]);
        Assert.Contains("pixel", (string?)item["error"], StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await _server.Library.Index.CountMediaAsync(false, CancellationToken.None));
    }
}
