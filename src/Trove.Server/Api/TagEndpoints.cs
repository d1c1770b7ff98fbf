using Microsoft.AspNetCore.Routing;

namespace Trove.Server.Api;

public static class TagEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        _ = api;
    }
}
