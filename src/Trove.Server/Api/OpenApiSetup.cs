using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Trove.Server.Api;

/// <summary>The OpenAPI document (/api/openapi/v1.json): title, version, and the two ways to authenticate.</summary>
internal static class OpenApiSetup
{
    public static void Configure(OpenApiOptions options)
    {
        options.ShouldInclude = d => d.RelativePath?.StartsWith("api", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Trove API",
                Version = "v1",
                Description = "JSON API of a Trove image library. Errors are RFC 9457 problem details with a stable 'code' and a 'hint'. " +
                    "Authenticate with 'Authorization: Bearer trove_…' (API tokens) or a browser session cookie plus the X-CSRF-TOKEN header on changes. See docs/api.md.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API token (trove_…), created under Users → Tokens or with 'trove users token NAME'.",
            };
            document.Components.SecuritySchemes["session"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Cookie,
                Name = Auth.Authentication.CookieName,
                Description = "Browser session from POST /api/auth/login or the sign-in page; changes also need the X-CSRF-TOKEN header.",
            };
            return Task.CompletedTask;
        });
    }
}
