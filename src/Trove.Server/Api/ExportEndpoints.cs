using Microsoft.AspNetCore.Routing;

namespace Trove.Server.Api;

public static class ExportEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        _ = api;
    }
}
