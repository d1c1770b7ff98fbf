using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Trove.Application.Accounts;

namespace Trove.Server.Auth;

/// <summary>
/// Two ways in: browser sessions (an HTTP-only cookie, with antiforgery tokens on every change) and API tokens
/// (<c>Authorization: Bearer trove_…</c>) for scripts. A request with an Authorization header is judged by the token
/// alone. Sessions end when the account's password, role or status changes (its stamp).
/// </summary>
public static class Authentication
{
    public const string Scheme = "trove";
    public const string CookieScheme = "trove-cookie";
    public const string TokenScheme = "trove-token";
    public const string CookieName = "trove_session";

    public static void Add(IServiceCollection services, ServerSettings settings)
    {
        services.AddSingleton<AccountCache>();
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Cookie or token", o => o.ForwardDefaultSelector = ctx =>
                ctx.Request.Headers.Authorization.Count > 0 ? TokenScheme : CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, TokenHandler>(TokenScheme, null)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = settings.SecureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = settings.SessionIdleTimeout;
                o.SlidingExpiration = true;
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.AccessDeniedPath = "/denied";
                o.Events = new CookieAuthenticationEvents
                {
                    OnValidatePrincipal = ValidateSessionAsync,
                    OnRedirectToLogin = ctx => ApiOr(ctx, StatusCodes.Status401Unauthorized),
                    OnRedirectToAccessDenied = ctx => ApiOr(ctx, StatusCodes.Status403Forbidden),
                };
            });
    }

    public static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    /// <summary>The session is valid while its account exists, is enabled and has the stamp it had at sign-in.</summary>
    private static async Task ValidateSessionAsync(CookieValidatePrincipalContext ctx)
    {
        var cache = ctx.HttpContext.RequestServices.GetRequiredService<AccountCache>();
        var principal = ctx.Principal;
        var id = principal is null ? -1 : Policies.Principal(principal).UserId;
        var user = id > 0 ? await cache.UserAsync(id, ctx.HttpContext.RequestAborted).ConfigureAwait(false) : null;
        if (user is null || user.Disabled || user.Stamp != principal!.FindFirst(Policies.StampClaim)?.Value)
        {
            ctx.RejectPrincipal();
            await ctx.HttpContext.SignOutAsync(CookieScheme).ConfigureAwait(false);
        }
    }

    // APIs answer 401/403 with problem details; pages redirect to sign-in or the "not allowed" page.
    private static Task ApiOr(RedirectContext<CookieAuthenticationOptions> ctx, int status)
    {
        if (IsApi(ctx.Request))
        {
            return Problems.WriteAsync(ctx.HttpContext, status, status == 401 ? "unauthenticated" : "forbidden", status == 401 ? "Sign in or send an API token." : "Your role does not allow this.", null);
        }

        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    /// <summary><c>Authorization: Bearer trove_…</c>. Unknown, revoked or malformed tokens fail (401), never fall back to the cookie.</summary>
    private sealed class TokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AccountCache cache)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return AuthenticateResult.Fail("Only 'Authorization: Bearer <token>' is accepted.");
            }

            var user = await cache.TokenAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted).ConfigureAwait(false);
            return user is null
                ? AuthenticateResult.Fail("The API token is unknown or revoked.")
                : AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(Policies.Identity(user, TokenScheme)), TokenScheme));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.WriteAsync(Context, 401, "unauthenticated", "The API token is missing, unknown or revoked.", "Create a token under Users → Tokens or with 'trove users token NAME'.");
        }

        protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
            Problems.WriteAsync(Context, 403, "forbidden", "Your role does not allow this.", null);
    }
}

/// <summary>
/// Accounts and tokens looked up per request, remembered for a few seconds. Changes made through this server clear
/// it at once; changes made by the CLI in another process take effect within <see cref="Lifetime"/>.
/// </summary>
public sealed class AccountCache(AccountService accounts, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<long, (UserAccount? User, long At)> _users = new();
    private readonly ConcurrentDictionary<string, (UserAccount? User, long At)> _tokens = new(StringComparer.Ordinal);

    public async Task<UserAccount?> UserAsync(long id, CancellationToken ct)
    {
        if (_users.TryGetValue(id, out var hit) && Fresh(hit.At))
        {
            return hit.User;
        }

        UserAccount? user;
        try
        {
            user = await accounts.GetAsync(id, ct).ConfigureAwait(false);
        }
        catch (Trove.Domain.TroveException ex) when (ex.Code == "user-not-found")
        {
            user = null;
        }

        _users[id] = (user, time.GetTimestamp());
        return user;
    }

    public async Task<UserAccount?> TokenAsync(string secret, CancellationToken ct)
    {
        var key = AccountService.HashToken(secret);
        if (_tokens.TryGetValue(key, out var hit) && Fresh(hit.At))
        {
            return hit.User;
        }

        var user = await accounts.AuthenticateTokenAsync(secret, ct).ConfigureAwait(false);
        if (_tokens.Count > 10_000)
        {
            _tokens.Clear();
        }

        _tokens[key] = (user, time.GetTimestamp());
        return user;
    }

    /// <summary>Forget everything (after any account or token change).</summary>
    public void Clear()
    {
        _users.Clear();
        _tokens.Clear();
    }

    private bool Fresh(long at) => time.GetElapsedTime(at) < Lifetime;
}
