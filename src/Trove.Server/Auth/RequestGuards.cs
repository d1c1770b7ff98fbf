using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Trove.Application;

namespace Trove.Server.Auth;

/// <summary>Per-request middleware: who is acting (for uploads, provenance and the audit log) and CSRF protection of the API.</summary>
public static class RequestGuards
{
    public const string CsrfHeader = "X-CSRF-TOKEN";

    /// <summary>
    /// Changes made with a browser session (cookie) must carry the antiforgery token in <see cref="CsrfHeader"/>
    /// (pages put it in every form and htmx request). Token-authenticated scripts are exempt: a bearer token is never
    /// sent by a browser on its own.
    /// </summary>
    public static IApplicationBuilder UseApiAntiforgery(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (Authentication.IsApi(request)
            && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method)
            && request.Headers.Authorization.Count == 0
            && request.Cookies.ContainsKey(Authentication.CookieName))
        {
            var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(context).ConfigureAwait(false))
            {
                ServerLog.CsrfRefused(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Trove.Server"), request.Method, request.Path);
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "csrf-failed", "This change came with a browser session but without a valid antiforgery token.", $"Send the token from the page's <meta name=\"csrf-token\"> in the {CsrfHeader} header, or use an API token.").ConfigureAwait(false);
                return;
            }
        }

        await next(context).ConfigureAwait(false);
    });

    /// <summary>Attributes everything a request changes to its account.</summary>
    public static IApplicationBuilder UseActor(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var library = context.RequestServices.GetRequiredService<TroveLibrary>();
        using (library.ActAs(context.Principal().Name))
        {
            await next(context).ConfigureAwait(false);
        }
    });
}
