using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Trove.Server.Auth;

namespace Trove.Server.Api;

/// <summary>
/// The JSON API under /api. Every group requires at least <see cref="Policies.Read"/>; changes require the role named
/// on each endpoint, and media-level changes also pass <see cref="MediaAccess"/>. Endpoints call the application
/// services and map their results to JSON; they hold no rules of their own.
/// </summary>
public static class ApiEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization(Policies.Read);
        HealthEndpoints.Map(api);
        AccountEndpoints.Map(api);
        MediaEndpoints.Map(api);
        AnnotationEndpoints.Map(api);
        SearchEndpoints.Map(api);
        TagEndpoints.Map(api);
        CollectionEndpoints.Map(api);
        DuplicateEndpoints.Map(api);
        ExportEndpoints.Map(api);
        SuggestionEndpoints.Map(api);
        CaptionEndpoints.Map(api);
        PeopleEndpoints.Map(api);
        ProcessingEndpoints.Map(api);
        ModelEndpoints.Map(app);
    }
}
