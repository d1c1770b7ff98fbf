using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Trove.Application.Accounts;

namespace Trove.Server.Auth;

/// <summary>Authorization policies by role (each includes the roles above it). Ownership rules are in <see cref="Permissions"/>.</summary>
public static class Policies
{
    /// <summary>Search, view, download: any account, or anyone when anonymous reading is on.</summary>
    public const string Read = "read";
    public const string Member = "member";
    public const string Moderator = "moderator";
    public const string Admin = "admin";

    /// <summary>The model listing: public unless configured otherwise.</summary>
    public const string Models = "models";

    public const string AnonymousName = "anonymous";

    internal const string UserIdClaim = "trove:uid";
    internal const string StampClaim = "trove:stamp";

    public static void Add(AuthorizationOptions options, ServerSettings settings)
    {
        options.AddPolicy(Read, p => p.RequireAssertion(ctx => settings.AnonymousRead || IsSignedIn(ctx.User)));
        options.AddPolicy(Models, p => p.RequireAssertion(ctx => settings.ModelsPublic || settings.AnonymousRead || IsSignedIn(ctx.User)));
        options.AddPolicy(Member, p => p.RequireAssertion(ctx => AtLeast(ctx.User, Role.Member)));
        options.AddPolicy(Moderator, p => p.RequireAssertion(ctx => AtLeast(ctx.User, Role.Moderator)));
        options.AddPolicy(Admin, p => p.RequireAssertion(ctx => AtLeast(ctx.User, Role.Admin)));
    }

    public static ClaimsIdentity Identity(UserAccount user, string scheme) => new(
        [
            new Claim(ClaimTypes.Name, user.Name),
            new Claim(ClaimTypes.Role, Roles.Name(user.Role)),
            new Claim(UserIdClaim, user.Id.ToString(CultureInfo.InvariantCulture)),
            new Claim(StampClaim, user.Stamp),
        ],
        scheme,
        ClaimTypes.Name,
        ClaimTypes.Role);

    public static bool IsSignedIn(ClaimsPrincipal user) => user.FindFirst(UserIdClaim) is not null;

    /// <summary>The account behind a request (an anonymous viewer when not signed in).</summary>
    public static Principal Principal(this HttpContext context) => Principal(context.User);

    public static Principal Principal(ClaimsPrincipal user) =>
        user.FindFirst(UserIdClaim) is { } id && long.TryParse(id.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            ? new Principal(uid, user.Identity?.Name ?? "?", Roles.TryParse(user.FindFirst(ClaimTypes.Role)?.Value, out var role) ? role : Role.Viewer)
            : new Principal(-1, AnonymousName, Role.Viewer);

    private static bool AtLeast(ClaimsPrincipal user, Role role) => IsSignedIn(user) && Principal(user).Role >= role;
}
