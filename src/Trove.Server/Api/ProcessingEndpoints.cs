using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Restoration;
using Trove.Domain;
using Trove.Domain.Models;
using Trove.Server.Auth;
using Trove.Server.Pages;

namespace Trove.Server.Api;

/// <summary>An active upscaler or restorer with the parameters a run starts from (a form's defaults).</summary>
public sealed record ProcessingModelResponse(
    string Id, string? Name, string Kind, string ActiveVersion, string Provider, string? Problem, ProcessingParametersResponse? Parameters);

public sealed record ProcessingParametersResponse(int Scale, int TileSize, int TileOverlap, string Layout, string Range, string Channels, long MaxInputPixels, int Pad, string? Prompt)
{
    public static ProcessingParametersResponse From(UpscalerParameters p) => new(
        p.Scale, p.TileSize, p.TileOverlap, p.Layout == TensorLayout.Nhwc ? "nhwc" : "nchw",
        p.Range switch { PixelRange.ZeroTo255 => "0-255", PixelRange.MinusOneToOne => "-1-1", _ => "0-1" },
        p.Bgr ? "bgr" : "rgb", p.MaxInputPixels, p.Pad, p.Prompt);
}

/// <summary>POST /api/media/{id}/processing: which model (ID or ID@VERSION; null: the one active), parameter overrides, keep.</summary>
public sealed record ProcessingRequest(string? Model, IReadOnlyDictionary<string, string>? Parameters, bool? Keep);

public sealed record ProcessingUrls(string MediaThumbnail, string? ResultThumbnail, string? Compare, string Job);

/// <summary>One run in the processing history.</summary>
public sealed record ProcessingRunResponse(
    string Job, string Status, string By, string Media, string Model, IReadOnlyDictionary<string, string> Parameters, bool Keep,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, double? QueuedSeconds, double? Seconds,
    string? Phase, long Done, long? Total, string? Result, bool Existing, int? Width, int? Height, string? ResultState,
    DateTimeOffset? ExpiresAt, string? Error, ProcessingUrls Urls)
{
    public static ProcessingRunResponse From(ProcessingRun r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(
            r.Job, r.Status, r.By, r.Media, r.Model, r.Parameters, r.Keep, r.CreatedAt, r.StartedAt, r.FinishedAt, r.QueuedSeconds, r.Seconds,
            r.Phase, r.Done, r.Total, r.Result, r.Existing, r.Width, r.Height, r.ResultState, r.ExpiresAt, r.Error,
            new ProcessingUrls(
                MediaEndpoints.ThumbnailUrl(r.Media, 256),
                r.Result is { } result ? MediaEndpoints.ThumbnailUrl(result, 256) : null,
                r.Result is { } compared ? $"/media/{compared}/compare" : null,
                $"/api/jobs/{r.Job}"));
    }
}

public sealed record ProcessingHistoryResponse(IReadOnlyList<ProcessingRunResponse> Runs);

public sealed record DerivationResponse(string Id, string Model, string Version, IReadOnlyDictionary<string, string> Parameters, DateTimeOffset At, string? By, bool Kept, DateTimeOffset? ExpiresAt)
{
    public static DerivationResponse From(DerivationInfo d) => new(d.Id, d.Model, d.Version, d.Parameters, d.At, d.By, d.Kept, d.Kept ? null : d.ExpiresAt);
}

public sealed record LineageOriginalResponse(string Id, string State, string ThumbnailUrl);

public sealed record LineageDerivativeResponse(
    string Id, string State, string? Model, string? Version, IReadOnlyDictionary<string, string>? Parameters, DateTimeOffset? At, bool? Kept, DateTimeOffset? ExpiresAt, string ThumbnailUrl);

/// <summary>A media's lineage both ways (on GET /api/media/{id} and from keep/discard).</summary>
public sealed record LineageResponse(DerivationResponse? DerivedFrom, LineageOriginalResponse? Original, IReadOnlyList<LineageDerivativeResponse> Derivatives)
{
    public static LineageResponse From(LineageView lineage)
    {
        ArgumentNullException.ThrowIfNull(lineage);
        return new(
            lineage.DerivedFrom is { } from ? DerivationResponse.From(from) : null,
            lineage.Original is { } o ? new LineageOriginalResponse(o.Id, o.State, MediaEndpoints.ThumbnailUrl(o.Id, 256)) : null,
            lineage.Derivatives.Select(d => new LineageDerivativeResponse(
                d.Id, d.State, d.Derivation?.Model, d.Derivation?.Version, d.Derivation?.Parameters, d.Derivation?.At, d.Derivation?.Kept, d.ExpiresAt,
                MediaEndpoints.ThumbnailUrl(d.Id, 256))).ToList());
    }
}

/// <summary>A result after keep or discard: where it is now and its lineage.</summary>
public sealed record ResultStateResponse(string Id, bool InTrash, LineageResponse Lineage);

/// <summary>
/// Restoration and upscaling (docs/models.md, "Upscalers and restorers"): the models a run can use, queueing a run on one
/// media, the processing history (members: their own runs; moderators and admins: everyone's), and keeping or
/// discarding a result (whoever made it, or moderators).
/// </summary>
public static class ProcessingEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var processing = api.MapGroup("/processing").WithTags("Processing");
        processing.MapGet("/models", (TroveLibrary library) => TypedResults.Ok(Models(library)))
            .WithSummary("The active upscalers and restorers, with the parameters a run starts from");

        processing.MapGet("/", async (HttpContext context, string? mine, string? limit, ProcessingService service, CancellationToken ct) =>
        {
            var viewer = context.Principal();
            var onlyMine = (mine ?? "false").Trim().ToLowerInvariant() switch
            {
                "true" or "1" or "yes" => true,
                "false" or "0" or "no" or "" => false,
                _ => throw new TroveUsageException("bad-parameter", $"mine={mine} is not true or false.", "Use ?mine=true for your own runs only."),
            };
            var by = onlyMine || viewer.Role < Role.Moderator ? viewer.Name : null;
            var runs = await service.HistoryAsync(by, MediaEndpoints.QueryInt(limit, "limit", 50, 1, 1000), ct).ConfigureAwait(false);
            return TypedResults.Ok(new ProcessingHistoryResponse(runs.Select(ProcessingRunResponse.From).ToList()));
        }).WithSummary("The processing history, newest first: your runs (?mine=true), or everyone's for moderators and admins; ?limit=50");

        processing.MapGet("/{job}", async (HttpContext context, string job, ProcessingService service, CancellationToken ct) =>
            TypedResults.Ok(ProcessingRunResponse.From(await VisibleRunAsync(context.Principal(), service, job, ct).ConfigureAwait(false))))
            .WithSummary("One run: status, progress (tiles), result and what became of it, or the error (yours, or any for moderators)");

        var media = api.MapGroup("/media").WithTags("Processing");
        media.MapPost("/{id}/processing", async (HttpContext context, string id, ProcessingRequest? request, MediaService mediaService, TroveLibrary library, ProcessingService service, CancellationToken ct) =>
        {
            var view = await mediaService.ShowVisibleAsync(id, context.Principal(), ct).ConfigureAwait(false);
            var parameters = request?.Parameters ?? new Dictionary<string, string>();
            var (_, job) = await RestoreJobs.EnqueueAsync(library, new RestoreRequest(view.Sidecar.Id, request?.Model, parameters, request?.Keep ?? false), ct).ConfigureAwait(false);
            var run = await service.GetAsync(job.Id, ct).ConfigureAwait(false) ?? throw new TroveException("job-not-found", $"The run {job.Id} was queued but cannot be read back.");
            return TypedResults.Accepted($"/api/processing/{job.Id}", ProcessingRunResponse.From(run));
        }).RequireAuthorization(Policies.Member)
            .WithSummary("Run an upscaler or restorer on an image: 202 with the queued run (Location: /api/processing/{job}); the result is a new, derived media");

        media.MapPost("/{id}/keep", async (HttpContext context, string id, TroveLibrary library, ProcessingService service, CancellationToken ct) =>
        {
            var resolved = await EnsureCanDecideAsync(context, library, id, ct).ConfigureAwait(false);
            await service.KeepAsync(resolved, ct).ConfigureAwait(false);
            return TypedResults.Ok(State(library, resolved));
        }).RequireAuthorization(Policies.Member)
            .WithSummary("Keep a result: it no longer expires (whoever made it, or moderators)");

        media.MapPost("/{id}/discard", async (HttpContext context, string id, TroveLibrary library, ProcessingService service, CancellationToken ct) =>
        {
            var resolved = await EnsureCanDecideAsync(context, library, id, ct).ConfigureAwait(false);
            await service.DiscardAsync(resolved, ct).ConfigureAwait(false);
            return TypedResults.Ok(State(library, resolved));
        }).RequireAuthorization(Policies.Member)
            .WithSummary("Discard a result now: it goes to the trash (whoever made it, or moderators)");
    }

    /// <summary>Parses ?derived= of DELETE /api/media/{id}: absent asks (409 has-derived when there are derived media).</summary>
    public static DerivedMedia DerivedChoice(string? derived) => (derived ?? string.Empty).Trim().ToLowerInvariant() switch
    {
        "" => DerivedMedia.Ask,
        "trash" => DerivedMedia.WithDerived,
        "keep" => DerivedMedia.KeepDerived,
        _ => throw new TroveUsageException("bad-parameter", $"derived={derived} is not a choice for derived media.", "Use ?derived=trash (move them to the trash too) or ?derived=keep (delete only the original)."),
    };

    private static List<ProcessingModelResponse> Models(TroveLibrary library) =>
        library.Files.ReadModels().Models
            .Where(m => RestoreService.Kinds.Contains(m.Kind) && m.ActiveVersion is not null)
            .OrderBy(m => m.Id, StringComparer.Ordinal)
            .Select(m =>
            {
                try
                {
                    var parameters = RestoreService.Parameters(new ResolvedRestorer(m, m.ActiveVersion!, null), new Dictionary<string, string>());
                    return new ProcessingModelResponse(m.Id, m.Name, m.Kind, m.ActiveVersion!.Version, m.Provider, null, ProcessingParametersResponse.From(parameters));
                }
                catch (TroveException ex)
                {
                    return new ProcessingModelResponse(m.Id, m.Name, m.Kind, m.ActiveVersion!.Version, m.Provider, ex.Message, null);
                }
            })
            .ToList();

    private static async Task<ProcessingRun> VisibleRunAsync(Principal viewer, ProcessingService service, string job, CancellationToken ct) =>
        await service.GetAsync(job, ct).ConfigureAwait(false) is { } run && (viewer.Role >= Role.Moderator || string.Equals(run.By, viewer.Name, StringComparison.OrdinalIgnoreCase))
            ? run
            : throw new TroveException("job-not-found", $"There is no run '{(job.Length > 64 ? job[..64] + "…" : job)}' (or it is someone else's).", "List your runs with GET /api/processing.");

    private static async Task<string> EnsureCanDecideAsync(HttpContext context, TroveLibrary library, string id, CancellationToken ct)
    {
        var resolved = await library.ResolveIdAsync(id, ct).ConfigureAwait(false);
        var stored = library.Files.ReadSidecar(resolved);
        if (!RestoreText.CanDecide(context.Principal(), stored.Sidecar))
        {
            throw Permissions.Forbidden($"keep or discard {resolved[..12]} (members may decide only on the results they made)");
        }

        return resolved;
    }

    private static ResultStateResponse State(TroveLibrary library, string id)
    {
        var stored = library.Files.ReadSidecar(id);
        return new ResultStateResponse(id, stored.InTrash, LineageResponse.From(LineageView.Of(library, stored.Sidecar)));
    }
}
