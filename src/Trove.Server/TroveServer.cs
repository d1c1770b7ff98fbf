using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Crops;
using Trove.Application.Export;
using Trove.Application.Jobs;
using Trove.Application.Masks;
using Trove.Application.Search;
using Trove.Application.Similarity;
using Trove.Application.Thumbnails;
using Trove.Server.Api;
using Trove.Server.Auth;
using Trove.Server.Hosting;

namespace Trove.Server;

/// <summary>
/// The HTTP face of Trove: the JSON API under /api (docs/api.md, OpenAPI at /api/openapi/v1.json) and the web UI
/// (Razor Pages), over one open library. Endpoints and pages only translate HTTP to the application services the CLI
/// uses. Binds to loopback unless told otherwise.
/// </summary>
public static class TroveServer
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const string UploadRateLimit = "upload";

    /// <summary>Builds the app over an open library (not started). Tests use it with <c>http://127.0.0.1:0</c>.</summary>
    public static WebApplication Build(TroveLibrary library, ServerSettings settings, ILoggerFactory? loggerFactory = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(TroveServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(Enum.TryParse<LogLevel>(settings.LogLevel, true, out var level) ? level : LogLevel.Warning);
        // Keys live in the library's state folder, which is as private as the library itself; no encryptor to configure.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        // The host logs a failed start (e.g. the port is taken) with its stack trace before rethrowing; the caller reports
        // the exception (RunAsync: one line for an address in use). Its other errors are rethrown too.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.WebHost.UseUrls(settings.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = settings.MaxUploadRequestBytes);

        var services = builder.Services;
        if (loggerFactory is not null)
        {
            services.AddSingleton(loggerFactory);
        }

        services.AddSingleton(settings);
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton(library);
        services.AddSingleton(library.Time);
        AddApplication(services, library);

        services.AddDataProtection()
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(library.Layout.StateDir, "keys")))
            .SetApplicationName("trove");
        Authentication.Add(services, settings);
        services.AddAuthorization(o => Policies.Add(o, settings));
        services.AddAntiforgery(o =>
        {
            o.HeaderName = RequestGuards.CsrfHeader;
            o.Cookie.Name = "trove_csrf";
            o.Cookie.SecurePolicy = settings.SecureCookies ? Microsoft.AspNetCore.Http.CookieSecurePolicy.Always : Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
        });
        services.AddRateLimiter(o => AddRateLimits(o, settings));
        services.Configure<FormOptions>(o =>
        {
            o.MultipartBodyLengthLimit = settings.MaxUploadRequestBytes;
            o.ValueCountLimit = 1024;
        });
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull);
        services.AddOpenApi("v1", o => OpenApiSetup.Configure(o));
        services.AddRazorPages(o =>
        {
            o.Conventions.AuthorizeFolder("/", Policies.Read);
            o.Conventions.AllowAnonymousToPage("/Login");
            o.Conventions.AllowAnonymousToPage("/Denied");
            o.Conventions.AllowAnonymousToPage("/Error");
        });

        var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = Problems.HandleAsync,
        });
        app.UseStatusCodePages(async ctx =>
        {
            var http = ctx.HttpContext;
            if (Authentication.IsApi(http.Request) && http.Response.ContentLength is null && string.IsNullOrEmpty(http.Response.ContentType))
            {
                var status = http.Response.StatusCode;
                await Problems.WriteAsync(http, status, status == 404 ? "not-found" : status == 405 ? "method-not-allowed" : "http-" + status, status == 404 ? $"There is no API endpoint at {http.Request.Path}." : $"The request was refused ({status}).", status == 404 ? "See /api/openapi/v1.json for the endpoints." : null).ConfigureAwait(false);
            }
        });
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            if (!Authentication.IsApi(context.Request))
            {
                headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'";
            }

            await next(context).ConfigureAwait(false);
        });
        app.UseRouting();
        app.UseAuthentication();
        app.UseApiAntiforgery();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseActor();
        app.UseAntiforgery();

        app.MapStaticAssets();
        app.MapOpenApi("/api/openapi/{documentName}.json").AllowAnonymous();
        ApiEndpoints.Map(app);
        app.MapRazorPages();

        if (!StaticAssets.HasHtmx)
        {
            ServerLog.HtmxMissing(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Trove.Server"));
        }

        return app;
    }

    /// <summary>
    /// Serves until <paramref name="ct"/> is cancelled. On first run, creates the admin account and announces how to sign in
    /// (only once the server listens, so that a failed start never swallows the one-time password). Throws
    /// <see cref="ServerAddressInUseException"/> when another program listens on the address.
    /// </summary>
    public static async Task RunAsync(TroveLibrary library, ServerSettings settings, Action<string> announce, CancellationToken ct)
    {
        var app = Build(library, settings);
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(ct).ConfigureAwait(false);
            }
            catch (IOException ex) when (ServerAddressInUseException.From(settings.Urls, ex) is { } busy)
            {
                throw busy;
            }

            var first = await new AccountService(library).EnsureFirstAdminAsync(ct).ConfigureAwait(false);
            foreach (var address in app.Urls)
            {
                announce($"Trove is serving {library.Layout.Root} on {address}");
            }

            if (first is not null)
            {
                announce($"First run: sign in at {app.Urls.FirstOrDefault() ?? settings.Urls}/login as '{first.User.Name}' with password {first.Password}");
                announce("  (shown only this once — change it on the Users page, or later with: trove users passwd admin)");
            }

            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
        }
    }

    private static void AddApplication(IServiceCollection services, TroveLibrary library)
    {
        services.AddSingleton(new MediaService(library));
        services.AddSingleton(new TagService(library));
        services.AddSingleton(new CaptionService(library));
        services.AddSingleton(new Application.Restoration.ProcessingService(library));
        services.AddSingleton(new CollectionService(library));
        services.AddSingleton(new CropService(library));
        services.AddSingleton(new Trove.Application.Faces.PeopleService(library));
        services.AddSingleton(new MaskService(library));
        services.AddSingleton(new SearchService(library));
        services.AddSingleton(new MediaCards(library));
        services.AddSingleton(new Trove.Application.Tags.TagAutocomplete(library));
        services.AddSingleton(new ThumbnailService(library));
        services.AddSingleton(new NearDuplicateService(library));
        services.AddSingleton(new ExportService(library));
        services.AddSingleton(new AccountService(library));
        services.AddSingleton(new Trove.Application.Models.ModelRegistry(library));
        services.AddSingleton(new Trove.Application.Tagging.SuggestionService(library));
        services.AddSingleton(new Trove.Application.Tagging.SuggestionQueries(library));
        services.AddSingleton(new Trove.Application.Captioning.CaptionQueries(library));
        services.AddSingleton(new Trove.Application.Providers.ProviderRegistry(library));
        // The server runs a job worker for every kind of job (docs/architecture.md, "Jobs"); `trove worker` adds more.
        services.AddSingleton(sp => new JobWorker(library, JobCatalog.Handlers(library), sp.GetRequiredService<ILoggerFactory>().CreateLogger("Trove.Jobs")));
        services.AddSingleton(sp => new JobRunner(library, sp.GetRequiredService<JobWorker>()));
        services.AddHostedService(sp => new JobWorkerHost(sp.GetRequiredService<JobWorker>()));
    }

    private static void AddRateLimits(RateLimiterOptions o, ServerSettings settings)
    {
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.OnRejected = async (ctx, ct) =>
        {
            if (ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
            {
                ctx.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await Problems.WriteAsync(ctx.HttpContext, 429, "rate-limited", "Too many attempts; wait a minute and try again.", null).ConfigureAwait(false);
        };
        o.AddPolicy(UploadRateLimit, ctx => RateLimitPartition.GetFixedWindowLimiter(
            ctx.Principal().Name,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = settings.UploadsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    /// <summary>Starts the job worker with the host and hands its running jobs back to the queue when the host stops.</summary>
    private sealed class JobWorkerHost(JobWorker worker) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            worker.Start();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => worker.StopAsync(cancellationToken);
    }
}
