using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Trove.Domain;

namespace Trove.Server;

/// <summary>
/// Errors as RFC 9457 problem details: <c>{"type","title","status","detail","code","hint"}</c>, where <c>code</c> is the
/// same stable code the CLI prints and <c>hint</c> says what to do. docs/api.md lists the codes and statuses.
/// </summary>
public static class Problems
{
    public static int StatusOf(TroveException ex) => ex.Code switch
    {
        "forbidden" or "wrong-password" => StatusCodes.Status403Forbidden,
        "library-busy" => StatusCodes.Status503ServiceUnavailable,
        "disk-full" => StatusCodes.Status507InsufficientStorage,
        "upload-too-large" => StatusCodes.Status413PayloadTooLarge,
        "unsupported-media-type" => StatusCodes.Status415UnsupportedMediaType,
        var c when c.EndsWith("-not-found", StringComparison.Ordinal) => StatusCodes.Status404NotFound,
        var c when c.EndsWith("-exists", StringComparison.Ordinal) || c is "conflict" or "has-derived" or "person-name-taken" => StatusCodes.Status409Conflict,
        _ when ex.IsUsageError => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status422UnprocessableEntity,
    };

    public static ProblemDetails Create(int status, string code, string detail, string? hint)
    {
        var problem = new ProblemDetails
        {
            Type = $"https://trove.invalid/problems/{code}",
            Title = Title(status),
            Status = status,
            Detail = detail,
        };
        problem.Extensions["code"] = code;
        if (hint is not null)
        {
            problem.Extensions["hint"] = hint;
        }

        return problem;
    }

    /// <summary>A problem as a typed result, for endpoints that refuse something themselves.</summary>
    public static IResult Result(int status, string code, string detail, string? hint = null) =>
        TypedResults.Problem(Create(status, code, detail, hint));

    public static IResult Result(TroveException ex) => Result(StatusOf(ex), ex.Code, ex.Message, ex.Hint);

    public static async Task WriteAsync(HttpContext context, int status, string code, string detail, string? hint)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        await JsonSerializer.SerializeAsync(context.Response.Body, Create(status, code, detail, hint), JsonSerializerOptions.Web, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Turns exceptions escaping an endpoint into problem details (pages get the error page).</summary>
    public static async Task HandleAsync(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (status, code, detail, hint) = error switch
        {
            TroveException te => (StatusOf(te), te.Code, te.Message, te.Hint),
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == 413 ? "upload-too-large" : "bad-request", bad.Message, (string?)null),
            InvalidDataException or IOException { Source: "Microsoft.AspNetCore.WebUtilities" } => (400, "bad-multipart", $"The request body is malformed: {error.Message}", "Let your HTTP client build the form (curl -F, FormData, MultipartFormDataContent)."),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, "cancelled", "The request was cancelled.", null),
            _ => (500, "internal-error", "Something went wrong on the server; the details are in its log.", "Nothing was half-written: library files are replaced atomically."),
        };
        if (status == 500 && error is not null)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Trove.Server");
            ServerLog.Unhandled(logger, context.Request.Method, context.Request.Path, error);
        }

        await WriteAsync(context, status, code, detail, hint).ConfigureAwait(false);
    }

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        401 => "Not signed in",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Conflict",
        413 => "Too large",
        415 => "Unsupported media type",
        422 => "Cannot be done",
        429 => "Too many requests",
        503 => "Busy",
        507 => "Disk full",
        _ => "Error",
    };
}
