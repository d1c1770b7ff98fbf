using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace Trove.Server.Hosting;

/// <summary>
/// The UI's CSS, JavaScript and icons, embedded in the assembly (wwwroot/ and htmx from the Makefile) and served at
/// <c>/static/…</c>. Pages link them with <see cref="Url"/>, which adds a content hash so they can be cached forever.
/// </summary>
public static class StaticAssets
{
    private const string Prefix = "wwwroot/";
    private static readonly ConcurrentDictionary<string, Asset?> Cache = new(StringComparer.Ordinal);
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static bool HasHtmx => Find("lib/htmx.min.js") is not null;

    /// <summary>"/static/app.js?v=3f2a…" (or the bare path when the file is missing).</summary>
    public static string Url(string path) => Find(path) is { } asset ? $"/static/{path}?v={asset.Hash}" : $"/static/{path}";

    public static IEndpointRouteBuilder MapStaticAssets(this IEndpointRouteBuilder app)
    {
        app.MapGet("/static/{**path}", (HttpContext context, string path) =>
        {
            if (Find(path) is not { } asset)
            {
                return Results.NotFound();
            }

            var headers = context.Response.Headers;
            headers.CacheControl = context.Request.Query["v"] == asset.Hash ? "public, max-age=31536000, immutable" : "no-cache";
            headers.ETag = $"\"{asset.Hash}\"";
            if (context.Request.Headers.IfNoneMatch == $"\"{asset.Hash}\"")
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }

            return Results.Bytes(asset.Data, asset.ContentType);
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static Asset? Find(string path) => Cache.GetOrAdd(path, static p =>
    {
        if (p.Contains("..", StringComparison.Ordinal))
        {
            return null;
        }

        using var stream = typeof(StaticAssets).Assembly.GetManifestResourceStream(Prefix + p);
        if (stream is null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var data = buffer.ToArray();
        var type = ContentTypes.TryGetContentType(p, out var t) ? t : "application/octet-stream";
        if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal))
        {
            type += "; charset=utf-8";
        }

        return new Asset(data, type, Convert.ToHexStringLower(SHA256.HashData(data))[..12]);
    });

    private sealed record Asset(byte[] Data, string ContentType, string Hash);
}
