using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Trove.Server.Tests;

public sealed class AccountApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(imaging: false);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Health_is_public_and_reports_the_library()
    {
        var health = await TestServer.JsonAsync(await _server.Anonymous().GetAsync("/api/health"));
        Assert.Equal("ok", (string?)health["status"]);
        Assert.Equal(_server.Library.Manifest.Id, (string?)health["library"]);
    }

    [Fact]
    public async Task Anonymous_requests_are_refused_with_401_problem()
    {
        await TestServer.ProblemAsync(await _server.Anonymous().GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task Anonymous_read_can_be_switched_on()
    {
        await using var open = await TestServer.StartAsync(s => s.AnonymousRead = true, imaging: false);
        var me = await TestServer.JsonAsync(await open.Anonymous().GetAsync("/api/me"));
        Assert.Equal("anonymous", (string?)me["name"]);
        await TestServer.ProblemAsync(await open.Anonymous().GetAsync("/api/users"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Token_identifies_the_account_and_revocation_ends_it()
    {
        var alice = _server.As("alice");
        var me = await TestServer.JsonAsync(await alice.GetAsync("/api/me"));
        Assert.Equal("alice", (string?)me["name"]);
        Assert.Equal("member", (string?)me["role"]);
        Assert.Null(me["csrfToken"]);

        var issued = await TestServer.JsonAsync(await alice.PostAsJsonAsync("/api/me/tokens", new { name = "script" }));
        var secret = (string)issued["token"]!;
        Assert.StartsWith("trove_", secret, StringComparison.Ordinal);
        var listed = await TestServer.JsonAsync(await alice.GetAsync("/api/me/tokens"));
        Assert.DoesNotContain(secret, listed.ToJsonString(), StringComparison.Ordinal);

        using var script = _server.Anonymous();
        script.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync($"/api/me/tokens/{(long)issued["id"]!}")).StatusCode);
        await TestServer.ProblemAsync(await script.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task Unknown_token_is_refused_even_with_a_cookie()
    {
        var session = await _server.SessionAsync("alice");
        session.DefaultRequestHeaders.Authorization = new("Bearer", "trove_forged");
        await TestServer.ProblemAsync(await session.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Wrong_password_is_401_and_names_no_detail_about_which_part()
    {
        using var client = _server.Anonymous();
        var problem = await TestServer.ProblemAsync(await client.PostAsJsonAsync("/api/auth/login", new { name = "alice", password = "nope" }), HttpStatusCode.Unauthorized, "bad-credentials");
        var unknown = await TestServer.ProblemAsync(await client.PostAsJsonAsync("/api/auth/login", new { name = "nobody", password = "nope" }), HttpStatusCode.Unauthorized, "bad-credentials");
        Assert.Equal((string?)problem["detail"], (string?)unknown["detail"]);
    }

    [Fact]
    public async Task Login_is_rate_limited_per_address()
    {
        await using var strict = await TestServer.StartAsync(s => s.LoginPerMinute = 3, imaging: false);
        using var client = strict.Anonymous();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/auth/login", new { name = "alice", password = "wrong" })).StatusCode);
        }

        var limited = await client.PostAsJsonAsync("/api/auth/login", new { name = "alice", password = TestServer.Password });
        await TestServer.ProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(limited.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task Cookie_session_changes_need_the_antiforgery_token()
    {
        var withToken = await _server.SessionAsync("alice");
        Assert.Equal(HttpStatusCode.Created, (await withToken.PostAsJsonAsync("/api/me/tokens", new { name = "a" })).StatusCode);

        var withoutToken = await _server.SessionAsync("alice", sendCsrf: false);
        await TestServer.ProblemAsync(await withoutToken.PostAsJsonAsync("/api/me/tokens", new { name = "b" }), HttpStatusCode.Forbidden, "csrf-failed");
        withoutToken.DefaultRequestHeaders.Add("X-CSRF-TOKEN", "forged");
        await TestServer.ProblemAsync(await withoutToken.PostAsJsonAsync("/api/me/tokens", new { name = "c" }), HttpStatusCode.Forbidden, "csrf-failed");
    }

    [Fact]
    public async Task Password_change_ends_other_sessions()
    {
        var session = await _server.SessionAsync("bob");
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/api/me")).StatusCode);
        var admin = _server.As("admin");
        var updated = await TestServer.JsonAsync(await admin.PatchAsJsonAsync("/api/users/bob", new { password = "another long password" }));
        Assert.Equal("bob", (string?)updated["name"]);
        await TestServer.ProblemAsync(await session.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Admin_manages_users_and_others_cannot()
    {
        var admin = _server.As("admin");
        var created = await TestServer.JsonAsync(await admin.PostAsJsonAsync("/api/users", new { name = "carol", role = "moderator", password = "a long enough password" }));
        Assert.Equal("moderator", (string?)created["user"]!["role"]);
        var token = (string)created["token"]!["token"]!;
        using var carol = _server.Anonymous();
        carol.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Equal("carol", (string?)(await TestServer.JsonAsync(await carol.GetAsync("/api/me")))["name"]);

        await TestServer.ProblemAsync(await admin.PostAsJsonAsync("/api/users", new { name = "carol", role = "member" }), HttpStatusCode.Conflict, "user-exists");
        await TestServer.ProblemAsync(await admin.PostAsJsonAsync("/api/users", new { name = "../etc", role = "member" }), HttpStatusCode.BadRequest, "bad-user-name");
        await TestServer.ProblemAsync(await admin.PostAsJsonAsync("/api/users", new { name = "dan", role = "overlord" }), HttpStatusCode.BadRequest, "bad-role");
        await TestServer.ProblemAsync(await admin.PatchAsJsonAsync("/api/users/admin", new { disabled = true }), HttpStatusCode.Conflict);

        foreach (var user in new[] { "mod", "alice", "vic" })
        {
            await TestServer.ProblemAsync(await _server.As(user).GetAsync("/api/users"), HttpStatusCode.Forbidden, "forbidden");
        }

        var users = (JsonArray)(await TestServer.JsonAsync(await admin.GetAsync("/api/users")));
        Assert.Contains(users, u => (string?)u!["name"] == "carol");
        Assert.DoesNotContain("password", users.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Disabled_accounts_lose_tokens_and_sessions()
    {
        var vic = _server.As("vic");
        Assert.Equal(HttpStatusCode.OK, (await vic.GetAsync("/api/me")).StatusCode);
        await TestServer.JsonAsync(await _server.As("admin").PatchAsJsonAsync("/api/users/vic", new { disabled = true }));
        await TestServer.ProblemAsync(await vic.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task OpenApi_document_describes_the_api()
    {
        var doc = await TestServer.JsonAsync(await _server.Anonymous().GetAsync("/api/openapi/v1.json"));
        Assert.Equal("Trove API", (string?)doc["info"]!["title"]);
        Assert.NotNull(doc["paths"]!["/api/health"]);
        Assert.NotNull(doc["components"]!["securitySchemes"]!["bearer"]);
    }

    [Fact]
    public async Task Unknown_api_path_is_a_404_problem()
    {
        await TestServer.ProblemAsync(await _server.As("admin").GetAsync("/api/nothing-here"), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Changing_your_own_password_keeps_this_session_and_ends_the_others()
    {
        var here = await _server.SessionAsync("alice");
        var elsewhere = await _server.SessionAsync("alice");
        await TestServer.ProblemAsync(await here.PostAsJsonAsync("/api/me/password", new { current = "not it", password = "a new long password" }), HttpStatusCode.Forbidden, "wrong-password");
        await TestServer.ProblemAsync(await here.PostAsJsonAsync("/api/me/password", new { current = TestServer.Password, password = "short" }), HttpStatusCode.BadRequest, "weak-password");

        var changed = await TestServer.JsonAsync(await here.PostAsJsonAsync("/api/me/password", new { current = TestServer.Password, password = "a new long password" }));

        Assert.Equal("alice", (string?)(await TestServer.JsonAsync(await here.GetAsync("/api/me")))["name"]);
        here.DefaultRequestHeaders.Remove("X-CSRF-TOKEN");
        here.DefaultRequestHeaders.Add("X-CSRF-TOKEN", (string)changed["csrfToken"]!);
        Assert.Equal(HttpStatusCode.Created, (await here.PostAsJsonAsync("/api/me/tokens", new { name = "after" })).StatusCode);
        await TestServer.ProblemAsync(await elsewhere.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        using var client = _server.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/auth/login", new { name = "alice", password = "a new long password" })).StatusCode);
    }
}
