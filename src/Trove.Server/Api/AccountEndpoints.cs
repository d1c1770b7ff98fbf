using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Trove.Application.Accounts;
using Trove.Server.Auth;

namespace Trove.Server.Api;

public sealed record LoginRequest(string Name, string Password);

public sealed record UserResponse(long Id, string Name, string Role, DateTimeOffset CreatedAt, bool Disabled)
{
    public static UserResponse From(UserAccount u) => new(u.Id, u.Name, Roles.Name(u.Role), u.CreatedAt, u.Disabled);
}

public sealed record MeResponse(long Id, string Name, string Role, string? CsrfToken);

public sealed record TokenRequest(string? Name);

public sealed record TokenResponse(long Id, long UserId, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public static TokenResponse From(ApiToken t) => new(t.Id, t.UserId, t.Name, t.Prefix, t.CreatedAt, t.LastUsedAt, t.RevokedAt);
}

/// <summary>The token as issued: <see cref="Token"/> is shown this once.</summary>
public sealed record IssuedTokenResponse(long Id, string Name, string Prefix, string Token);

public sealed record CreateUserRequest(string Name, string Role, string? Password);

public sealed record CreatedUserResponse(UserResponse User, IssuedTokenResponse Token);

public sealed record UpdateUserRequest(string? Role, string? Password, bool? Disabled);

public sealed record PasswordRequest(string Current, string Password);

/// <summary>Sign-in, the current account and its tokens, and (admins) users.</summary>
public static class AccountEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("Accounts");
        auth.MapPost("/login", LoginAsync).AllowAnonymous().WithSummary("Sign in: sets the session cookie (rate-limited per address)");
        auth.MapPost("/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(Authentication.CookieScheme).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).AllowAnonymous().WithSummary("Sign out (ends the session cookie)");

        var me = api.MapGroup("/me").WithTags("Accounts");
        me.MapGet("/", Me).WithSummary("The signed-in account, and an antiforgery token for cookie sessions");
        me.MapPost("/password", ChangePasswordAsync).WithSummary("Change your own password (needs the current one); ends your other sessions, renews this one and answers its new antiforgery token");
        me.MapGet("/tokens", async (HttpContext context, AccountService accounts, CancellationToken ct) =>
            TypedResults.Ok((await accounts.ListTokensAsync(SignedIn(context).UserId, ct).ConfigureAwait(false)).Select(TokenResponse.From).ToList()))
            .WithSummary("Your API tokens");
        me.MapPost("/tokens", async (HttpContext context, TokenRequest request, AccountService accounts, CancellationToken ct) =>
        {
            var issued = await accounts.IssueTokenAsync(SignedIn(context).UserId, request.Name ?? "token", ct).ConfigureAwait(false);
            return TypedResults.Created($"/api/me/tokens/{issued.Token.Id}", Issued(issued));
        }).WithSummary("Create an API token (its secret is in this response only)");
        me.MapDelete("/tokens/{tokenId:long}", async (HttpContext context, long tokenId, AccountService accounts, AccountCache cache, CancellationToken ct) =>
        {
            await accounts.RevokeTokenAsync(tokenId, SignedIn(context).UserId, ct).ConfigureAwait(false);
            cache.Clear();
            return TypedResults.NoContent();
        }).WithSummary("Revoke one of your tokens");

        var users = api.MapGroup("/users").WithTags("Users").RequireAuthorization(Policies.Admin);
        users.MapGet("/", async (AccountService accounts, CancellationToken ct) =>
            TypedResults.Ok((await accounts.ListAsync(ct).ConfigureAwait(false)).Select(UserResponse.From).ToList()))
            .WithSummary("All accounts (admin)");
        users.MapPost("/", CreateUserAsync).WithSummary("Create an account (admin); answers with a first API token, shown once");
        users.MapPatch("/{name}", UpdateUserAsync).WithSummary("Change role, password or disabled (admin)");
        users.MapDelete("/{name}", async (string name, AccountService accounts, AccountCache cache, CancellationToken ct) =>
        {
            await accounts.DeleteAsync(name, ct).ConfigureAwait(false);
            cache.Clear();
            return TypedResults.NoContent();
        }).WithSummary("Delete an account and its tokens (admin)");
        users.MapGet("/{name}/tokens", async (string name, AccountService accounts, CancellationToken ct) =>
        {
            var user = await accounts.GetAsync(name, ct).ConfigureAwait(false);
            return TypedResults.Ok((await accounts.ListTokensAsync(user.Id, ct).ConfigureAwait(false)).Select(TokenResponse.From).ToList());
        }).WithSummary("An account's API tokens (admin)");
        users.MapPost("/{name}/tokens", async (string name, TokenRequest request, AccountService accounts, CancellationToken ct) =>
        {
            var user = await accounts.GetAsync(name, ct).ConfigureAwait(false);
            var issued = await accounts.IssueTokenAsync(user.Id, request.Name ?? "token", ct).ConfigureAwait(false);
            return TypedResults.Created($"/api/users/{user.Name}/tokens", Issued(issued));
        }).WithSummary("Create an API token for an account (admin)");
        users.MapDelete("/tokens/{tokenId:long}", async (long tokenId, AccountService accounts, AccountCache cache, CancellationToken ct) =>
        {
            await accounts.RevokeTokenAsync(tokenId, null, ct).ConfigureAwait(false);
            cache.Clear();
            return TypedResults.NoContent();
        }).WithSummary("Revoke any token (admin)");
    }

    /// <summary>Signs a browser in (used by the sign-in page too). Null when the name or password is wrong.</summary>
    public static async Task<UserAccount?> SignInAsync(HttpContext context, AccountService accounts, string name, string password, bool remember)
    {
        var user = await accounts.SignInAsync(name, password, context.RequestAborted).ConfigureAwait(false);
        if (user is null)
        {
            var logger = context.RequestServices.GetService(typeof(ILoggerFactory)) is ILoggerFactory f ? f.CreateLogger("Trove.Server") : null;
            if (logger is not null)
            {
                ServerLog.SignInFailed(logger, name.Length > 64 ? name[..64] : name, context.Connection.RemoteIpAddress?.ToString());
            }

            return null;
        }

        var principal = new ClaimsPrincipal(Policies.Identity(user, Authentication.CookieScheme));
        await context.SignInAsync(Authentication.CookieScheme, principal, new AuthenticationProperties { IsPersistent = remember }).ConfigureAwait(false);
        context.User = principal;
        return user;
    }

    private static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> LoginAsync(HttpContext context, LoginRequest request, AccountService accounts, LoginThrottle throttle, IAntiforgery antiforgery)
    {
        if (!throttle.TryAttempt(context, out var retry))
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Problem(429, "rate-limited", "Too many sign-in attempts from this address; wait a minute.");
        }

        var user = await SignInAsync(context, accounts, request.Name ?? string.Empty, request.Password ?? string.Empty, remember: true).ConfigureAwait(false);
        if (user is null)
        {
            return Problem(401, "bad-credentials", "Wrong user name or password (or the account is disabled).");
        }

        var tokens = antiforgery.GetAndStoreTokens(context);
        return TypedResults.Ok(new MeResponse(user.Id, user.Name, Roles.Name(user.Role), tokens.RequestToken));
    }

    private static Ok<MeResponse> Me(HttpContext context, IAntiforgery antiforgery)
    {
        var p = context.Principal();
        var csrf = Policies.IsSignedIn(context.User) && context.Request.Headers.Authorization.Count == 0 ? antiforgery.GetAndStoreTokens(context).RequestToken : null;
        return TypedResults.Ok(new MeResponse(p.UserId, p.Name, Roles.Name(p.Role), csrf));
    }

    private static async Task<Ok<MeResponse>> ChangePasswordAsync(HttpContext context, PasswordRequest request, AccountService accounts, AccountCache cache, IAntiforgery antiforgery, CancellationToken ct)
    {
        var user = await accounts.ChangeOwnPasswordAsync(SignedIn(context), request.Current ?? string.Empty, request.Password ?? string.Empty, ct).ConfigureAwait(false);
        cache.Clear();

        // The new stamp ends every session of the account — except this one, which is renewed when it made the change.
        // Its antiforgery token is tied to the old identity, so the answer carries a new one.
        string? csrf = null;
        if (context.Request.Headers.Authorization.Count == 0 && Policies.IsSignedIn(context.User))
        {
            var principal = new ClaimsPrincipal(Policies.Identity(user, Authentication.CookieScheme));
            await context.SignInAsync(Authentication.CookieScheme, principal).ConfigureAwait(false);
            context.User = principal;
            csrf = antiforgery.GetAndStoreTokens(context).RequestToken;
        }

        return TypedResults.Ok(new MeResponse(user.Id, user.Name, Roles.Name(user.Role), csrf));
    }

    private static async Task<Created<CreatedUserResponse>> CreateUserAsync(CreateUserRequest request, AccountService accounts, CancellationToken ct)
    {
        var user = await accounts.CreateAsync(request.Name ?? string.Empty, Roles.Parse(request.Role ?? string.Empty), request.Password, ct).ConfigureAwait(false);
        var issued = await accounts.IssueTokenAsync(user.Id, "first", ct).ConfigureAwait(false);
        return TypedResults.Created($"/api/users/{user.Name}", new CreatedUserResponse(UserResponse.From(user), Issued(issued)));
    }

    private static async Task<Ok<UserResponse>> UpdateUserAsync(HttpContext context, string name, UpdateUserRequest request, AccountService accounts, AccountCache cache, CancellationToken ct)
    {
        var user = await accounts.GetAsync(name, ct).ConfigureAwait(false);
        if (request.Role is { } role)
        {
            user = await accounts.SetRoleAsync(user.Name, Roles.Parse(role), ct).ConfigureAwait(false);
        }

        if (request.Password is { } password)
        {
            user = await accounts.SetPasswordAsync(user.Name, password, ct).ConfigureAwait(false);
        }

        if (request.Disabled is { } disabled)
        {
            user = await accounts.SetDisabledByAsync(context.Principal(), user.Name, disabled, ct).ConfigureAwait(false);
        }

        cache.Clear();
        return TypedResults.Ok(UserResponse.From(user));
    }

    private static Principal SignedIn(HttpContext context) =>
        context.Principal() is { UserId: > 0 } p ? p : throw new Trove.Domain.TroveException("unauthenticated-not-found", "Sign in first.");

    private static IssuedTokenResponse Issued(IssuedToken t) => new(t.Token.Id, t.Token.Name, t.Token.Prefix, t.Secret);

    private static ProblemHttpResult Problem(int status, string code, string detail) => TypedResults.Problem(Problems.Create(status, code, detail, null));
}
