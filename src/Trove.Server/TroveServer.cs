using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trove.Application;

namespace Trove.Server;

/// <summary>
/// The HTTP face of Trove. For now: a status page and a health endpoint over a real, open library;
/// the API and web UI arrive with the server issue. Binds to loopback unless told otherwise.
/// </summary>
public static class TroveServer
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static async Task RunAsync(TroveLibrary library, string? urls, Action<string> announce, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(urls ?? DefaultUrl);
        builder.Services.AddSingleton(library);
        builder.Services.AddSingleton<TimeProvider>(library.Time);

        var app = builder.Build();
        var gate = new SemaphoreSlim(1, 1);

        app.MapGet("/api/health", async (CancellationToken token) =>
        {
            var stats = await LibraryStatusAsync(library, gate, token).ConfigureAwait(false);
            return Results.Json(new HealthResponse("ok", library.Manifest.Id, stats.Media, stats.Trash, library.Index.Engine, ImagingText(library)));
        });

        app.MapGet("/", async (CancellationToken token) =>
        {
            var stats = await LibraryStatusAsync(library, gate, token).ConfigureAwait(false);
            var html = $$"""
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                <title>Trove</title>
                <style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222}
                code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px} dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}</style>
                </head><body>
                <h1>Trove</h1>
                <p>The library is open and served. The web UI arrives in a coming release; until then use the <code>./trove</code> command line.</p>
                <dl>
                <dt>Library</dt><dd><code>{{WebUtility.HtmlEncode(library.Layout.Root)}}</code></dd>
                <dt>Media</dt><dd>{{stats.Media}}</dd>
                <dt>In trash</dt><dd>{{stats.Trash}}</dd>
                <dt>Index</dt><dd>{{library.Index.Engine}}</dd>
                <dt>Imaging</dt><dd>{{WebUtility.HtmlEncode(ImagingText(library))}}</dd>
                </dl>
                <p><a href="/api/health">/api/health</a></p>
                </body></html>
                """;
            return Results.Content(html, "text/html; charset=utf-8");
        });

        await app.StartAsync(ct).ConfigureAwait(false);
        foreach (var address in app.Urls)
        {
            announce(address);
        }

        try
        {
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<(long Media, long Trash)> LibraryStatusAsync(TroveLibrary library, SemaphoreSlim gate, CancellationToken ct)
    {
        // One index connection per library: requests take turns until the server issue brings a pool.
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await ReconcileService.ReconcileAsync(library, waitForLock: false, ct).ConfigureAwait(false);
            return (await library.Index.CountMediaAsync(false, ct).ConfigureAwait(false), await library.Index.CountMediaAsync(true, ct).ConfigureAwait(false));
        }
        finally
        {
            gate.Release();
        }
    }

    private sealed record HealthResponse(string Status, string Library, long Media, long Trash, string Index, string Imaging);

    /// <summary>"libvips 8.14.1", or what to install when pixels cannot be processed.</summary>
    private static string ImagingText(TroveLibrary library) =>
        library.Imaging.Status is { Available: true } status ? $"libvips {status.Version}" : library.Imaging.Status.Message ?? "unavailable";
}
