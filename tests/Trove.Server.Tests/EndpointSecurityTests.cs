using System.Net;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Trove.Server.Tests;

/// <summary>
/// Walks every API endpoint the host actually maps (not a hand-kept list), so a new endpoint that forgets its policy
/// fails here: anonymous callers get 401 except on the documented public endpoints, and viewers get 403 on every
/// change except to their own account.
/// </summary>
public sealed class EndpointSecurityTests : IAsyncLifetime
{
    private static readonly HashSet<string> Public = new(StringComparer.Ordinal)
    {
        "GET /api/health",
        "GET /api/openapi/{documentName}.json",
        "POST /api/auth/login",
        "POST /api/auth/logout",
        "GET /api/models",
        "GET /api/models/{id}",
    };

    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(imaging: false);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Every_endpoint_but_the_public_ones_refuses_anonymous_callers()
    {
        var endpoints = ApiEndpoints();
        Assert.True(endpoints.Count > 50, $"only {endpoints.Count} API endpoints found");
        var failures = new List<string>();
        using var client = _server.Anonymous();
        foreach (var (method, pattern) in endpoints)
        {
            using var response = await client.SendAsync(Request(method, pattern));
            var key = $"{method} {pattern}";
            var refused = response.StatusCode == HttpStatusCode.Unauthorized
                && (await response.Content.ReadAsStringAsync()).Contains("\"code\":\"unauthenticated\"", StringComparison.Ordinal);
            var expected = Public.Contains(key) ? !refused : refused;
            if (!expected)
            {
                failures.Add($"{key} → {(int)response.StatusCode}");
            }
        }

        Assert.True(failures.Count == 0, "Unexpected answers to anonymous callers:\n" + string.Join('\n', failures));
    }

    [Fact]
    public async Task Viewers_cannot_change_anything_but_their_own_account()
    {
        var failures = new List<string>();
        var viewer = _server.As("vic");
        foreach (var (method, pattern) in ApiEndpoints().Where(e => e.Method is not ("GET" or "HEAD")))
        {
            if (pattern.StartsWith("/api/auth/", StringComparison.Ordinal) || pattern.StartsWith("/api/me/", StringComparison.Ordinal))
            {
                continue;
            }

            using var response = await viewer.SendAsync(Request(method, pattern));
            if (response.StatusCode != HttpStatusCode.Forbidden)
            {
                failures.Add($"{method} {pattern} → {(int)response.StatusCode}");
            }
        }

        Assert.True(failures.Count == 0, "Changes a viewer was not refused (403):\n" + string.Join('\n', failures));
    }

    [Fact]
    public async Task Admin_only_endpoints_refuse_moderators_and_members()
    {
        foreach (var user in new[] { "mod", "alice" })
        {
            var client = _server.As(user);
            foreach (var (method, pattern) in ApiEndpoints().Where(e => e.Pattern.StartsWith("/api/users", StringComparison.Ordinal) || e.Pattern == "/api/trash/purge"))
            {
                using var response = await client.SendAsync(Request(method, pattern));
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{user}: {method} {pattern} → {(int)response.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task Moderator_only_endpoints_refuse_members()
    {
        var alice = _server.As("alice");
        var moderatorOnly = new[]
        {
            ("GET", "/api/duplicates"), ("POST", "/api/duplicates/merge"), ("POST", "/api/tags/aliases"), ("POST", "/api/tags/implications"),
            ("PUT", "/api/tags/{name}"), ("POST", "/api/categories"), ("PATCH", "/api/collections/{name}"), ("DELETE", "/api/collections/{name}"),
        };
        foreach (var (method, pattern) in moderatorOnly)
        {
            Assert.Contains((method, pattern), ApiEndpoints());
            using var response = await alice.SendAsync(Request(method, pattern));
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {pattern} → {(int)response.StatusCode}");
        }
    }

    private List<(string Method, string Pattern)> ApiEndpoints() =>
        _server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (m, Normalize(e.RoutePattern.RawText!))))
            .Distinct()
            .OrderBy(e => e.Item2, StringComparer.Ordinal)
            .ToList();

    // Route constraints are dropped ({tokenId:long} → {tokenId}) so patterns read as in docs/api.md.
    private static string Normalize(string pattern)
    {
        var text = new StringBuilder();
        var inConstraint = false;
        foreach (var c in pattern)
        {
            if (c == ':' && text.ToString().LastIndexOf('{') > text.ToString().LastIndexOf('}'))
            {
                inConstraint = true;
                continue;
            }

            if (c == '}')
            {
                inConstraint = false;
            }

            if (!inConstraint)
            {
                text.Append(c);
            }
        }

        return text.ToString().Replace("{**", "{", StringComparison.Ordinal).Replace("{*", "{", StringComparison.Ordinal).TrimEnd('/');
    }

    private static HttpRequestMessage Request(string method, string pattern)
    {
        var path = System.Text.RegularExpressions.Regex.Replace(pattern, "\\{([^}]+)\\}", m => m.Groups[1].Value switch
        {
            "id" => new string('a', 64),
            "documentName" => "v1",
            var n when n.EndsWith("Id", StringComparison.Ordinal) && n != "captionId" => n == "jobId" ? "0123456789abcdef01234567" : "1",
            "captionId" => "1",
            _ => "x",
        });
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is not ("GET" or "HEAD" or "DELETE"))
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        return request;
    }
}
