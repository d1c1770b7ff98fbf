using Microsoft.AspNetCore.Routing;

namespace Trove.Server.Api;

public static class MediaEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        _ = api;
    }
}
