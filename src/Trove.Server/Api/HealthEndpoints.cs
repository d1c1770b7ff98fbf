using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Trove.Application;

namespace Trove.Server.Api;

public sealed record HealthResponse(string Status, string Library, long Media, long Trash, string Index, string Imaging, string Inference, bool WebUi);

/// <summary>GET /api/health: public, for monitors and the "is it up" question.</summary>
public static class HealthEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/health", async Task<Ok<HealthResponse>> (TroveLibrary library, CancellationToken ct) =>
        {
            var media = await library.Index.CountMediaAsync(false, ct).ConfigureAwait(false);
            var trash = await library.Index.CountMediaAsync(true, ct).ConfigureAwait(false);
            return TypedResults.Ok(new HealthResponse("ok", library.Manifest.Id, media, trash, library.Index.Engine, ImagingText(library), InferenceText(library), Hosting.StaticAssets.HasHtmx));
        })
        .AllowAnonymous()
        .WithTags("Health")
        .WithSummary("Whether the server is up, and what it serves");
    }

    /// <summary>"ONNX Runtime 1.30.0", or what to install when models cannot run.</summary>
    public static string InferenceText(TroveLibrary library) =>
        library.Inference.Status is { Available: true } status ? $"ONNX Runtime {status.Version}" : library.Inference.Status.Message ?? "unavailable";

    /// <summary>"libvips 8.14.1", or what to install when pixels cannot be processed.</summary>
    public static string ImagingText(TroveLibrary library) =>
        library.Imaging.Status is { Available: true } status ? $"libvips {status.Version}" : library.Imaging.Status.Message ?? "unavailable";
}
