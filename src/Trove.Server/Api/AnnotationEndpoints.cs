using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using Trove.Application;
using Trove.Application.Crops;
using Trove.Application.Masks;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Api;

public sealed record TagChangeRequest(IReadOnlyList<string>? Add, IReadOnlyList<string>? Remove);

public sealed record TagChangeResponse(string Id, IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<string> Tags)
{
    public static TagChangeResponse From(TagChange c) => new(c.Id, c.Added, c.Removed, c.Tags);
}

public sealed record CaptionRequest(string? Text, bool? Primary);

/// <summary>A caption: <see cref="Status"/> approved, pending or rejected; for generated ones the model, version and review.</summary>
public sealed record CaptionResponse(
    int Id, string Text, bool Primary, string Source, string? Model, DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset? UpdatedAt,
    string Status = CaptionStatus.Approved, string? Version = null, string? GeneratedText = null, string? ReviewedBy = null, DateTimeOffset? ReviewedAt = null)
{
    public static CaptionResponse From(CaptionEntry c) =>
        new(c.Id, c.Text, c.Primary, c.Source, c.Model, c.CreatedAt, c.CreatedBy, c.UpdatedAt, c.EffectiveStatus, c.ModelVersion, c.GeneratedText, c.ReviewedBy, c.ReviewedAt);
}

public sealed record CaptionListResponse(string Id, IReadOnlyList<CaptionResponse> Captions)
{
    public static CaptionListResponse From(CaptionListing l) => new(l.Id, l.Captions.Select(CaptionResponse.From).ToList());
}

public sealed record CropRequest(int? X, int? Y, int? W, int? H);

/// <summary>A crop with the URL that renders it.</summary>
public sealed record CropResponse(string Name, int X, int Y, int W, int H, DateTimeOffset CreatedAt, string? CreatedBy, string Image);

public sealed record CropListResponse(string Id, int? Width, int? Height, IReadOnlyList<CropResponse> Crops)
{
    public static CropListResponse From(CropListing l) => new(
        l.Id,
        l.Width,
        l.Height,
        l.Crops.Select(c => new CropResponse(c.Name, c.X, c.Y, c.W, c.H, c.CreatedAt, c.CreatedBy, AnnotationEndpoints.CropImageUrl(l.Id, c.Name))).ToList());
}

/// <summary>Where to fetch a mask (it is a media of its own).</summary>
public sealed record MaskUrls(string Original, string Thumbnail)
{
    public static MaskUrls Of(string id) => new($"/api/media/{id}/original", $"/api/media/{id}/thumbnail?size=256");
}

public sealed record MaskResponse(string Id, string Category, int? Width, int? Height, MaskUrls Urls)
{
    public static MaskResponse From(MaskView m) => new(m.Id, m.Category, m.Width, m.Height, MaskUrls.Of(m.Id));
}

public sealed record MaskListResponse(string ImageId, IReadOnlyList<MaskResponse> Masks)
{
    public static MaskListResponse From(MaskListing l) => new(l.ImageId, l.Masks.Select(MaskResponse.From).ToList());
}

/// <summary>The outcome of a mask upload: <see cref="Status"/> is "imported", or "duplicate" when the file was already in the library.</summary>
public sealed record MaskUploadResponse(string ImageId, string Id, string Status, string Category, IReadOnlyList<MaskResponse> Masks);

/// <summary>
/// What people attach to one media: tags, captions, crops (stored rectangles, rendered on demand) and masks. Reading needs
/// <see cref="Policies.Read"/>; every change needs a member and passes <see cref="MediaAccess"/> (members change their own
/// uploads, moderators any).
/// </summary>
public static class AnnotationEndpoints
{
    /// <summary>How long a browser may reuse a rendered crop without asking; crops can be redefined, so keep it short.</summary>
    public const int CropMaxAgeSeconds = 60;

    public static string CropImageUrl(string id, string crop) => $"/api/media/{id}/crops/{Uri.EscapeDataString(crop)}/image";

    public static void Map(RouteGroupBuilder api)
    {
        var media = api.MapGroup("/media/{id}");

        media.MapPost("/tags", async (HttpContext context, string id, TagChangeRequest request, MediaService mediaService, TagService tags, CancellationToken ct) =>
        {
            var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
            var change = await tags.ChangeAsync(resolved, request.Add ?? [], request.Remove ?? [], ct).ConfigureAwait(false);
            return TypedResults.Ok(TagChangeResponse.From(change));
        }).RequireAuthorization(Policies.Member).WithTags("Tags").WithSummary("Add and/or remove tags of one media (one write; implications apply)");

        var captions = media.MapGroup("/captions").WithTags("Captions");
        captions.MapGet("/", async (string id, CaptionService service, CancellationToken ct) =>
            TypedResults.Ok(CaptionListResponse.From(await service.ListAsync(id, ct).ConfigureAwait(false))))
            .WithSummary("The captions of one media (one is primary: it is exported)");
        captions.MapPost("/", async (HttpContext context, string id, CaptionRequest request, MediaService mediaService, CaptionService service, CancellationToken ct) =>
        {
            var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
            var listing = await service.AddAsync(resolved, request.Text ?? string.Empty, request.Primary ?? false, ct).ConfigureAwait(false);
            var added = listing.Captions.MaxBy(c => c.Id)!;
            return TypedResults.Created($"/api/media/{resolved}/captions/{added.Id}", CaptionListResponse.From(listing));
        }).RequireAuthorization(Policies.Member).WithSummary("Add a manual caption (the first one, or one sent with primary=true, becomes primary)");
        captions.MapPut("/{captionId:int}/primary", async (HttpContext context, string id, int captionId, MediaService mediaService, CaptionService service, CancellationToken ct) =>
        {
            var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
            return TypedResults.Ok(CaptionListResponse.From(await service.MarkPrimaryAsync(resolved, captionId, ct).ConfigureAwait(false)));
        }).RequireAuthorization(Policies.Member).WithSummary("Make a caption the primary one");
        captions.MapDelete("/{captionId:int}", async (HttpContext context, string id, int captionId, MediaService mediaService, CaptionService service, CancellationToken ct) =>
        {
            var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
            return TypedResults.Ok(CaptionListResponse.From(await service.RemoveAsync(resolved, captionId, ct).ConfigureAwait(false)));
        }).RequireAuthorization(Policies.Member).WithSummary("Delete a caption (if it was primary, the next one becomes primary)");

        var crops = media.MapGroup("/crops").WithTags("Crops");
        crops.MapGet("/", async (string id, CropService service, CancellationToken ct) =>
            TypedResults.Ok(CropListResponse.From(await service.ListAsync(id, ct).ConfigureAwait(false))))
            .WithSummary("The named crops of one media (rectangles in displayed pixels)");
        crops.MapPut("/{name}", async (HttpContext context, string id, string name, CropRequest request, MediaService mediaService, CropService service, CancellationToken ct) =>
        {
            var rect = RectOf(request);
            var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
            return TypedResults.Ok(CropListResponse.From(await service.AddAsync(resolved, name, rect, replace: true, ct).ConfigureAwait(false)));
        }).RequireAuthorization(Policies.Member).WithSummary("Define or redefine a named crop {x,y,w,h}; it must lie inside the image");
        crops.MapDelete("/{name}", async (HttpContext context, string id, string name, MediaService mediaService, CropService service, CancellationToken ct) =>
        {
            var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
            return TypedResults.Ok(CropListResponse.From(await service.RemoveAsync(resolved, name, ct).ConfigureAwait(false)));
        }).RequireAuthorization(Policies.Member).WithSummary("Delete a named crop");
        crops.MapGet("/{name}/image", CropImageAsync)
            .Produces<Stream>(StatusCodes.Status200OK, "image/webp", "image/jpeg", "image/png")
            .WithSummary("The crop rendered (size = longest side in pixels; format webp, jpeg or png); ETag and short private caching");

        var masks = media.MapGroup("/masks").WithTags("Masks");
        masks.MapGet("/", async (string id, MaskService service, CancellationToken ct) =>
            TypedResults.Ok(MaskListResponse.From(await service.ListAsync(id, ct).ConfigureAwait(false))))
            .WithSummary("The masks of an image (media of kind mask, by category)");
        // The form is read in the handler (no IFormFile parameter and no .Accepts(), whose routing check would answer
        // other content types with a bare 415): cookie sessions are held to X-CSRF-TOKEN by UseApiAntiforgery.
        masks.MapPost("/", UploadMaskAsync)
            .RequireAuthorization(Policies.Member)
            .RequireRateLimiting(TroveServer.UploadRateLimit)
            .WithSummary("Upload a mask of this image (multipart: file, category); it must have the image's size or shape");
    }

    private static PixelRect RectOf(CropRequest request)
    {
        if (request.X is not { } x || request.Y is not { } y || request.W is not { } w || request.H is not { } h)
        {
            var missing = new[] { ("x", request.X), ("y", request.Y), ("w", request.W), ("h", request.H) }.Where(p => p.Item2 is null).Select(p => p.Item1);
            throw new TroveUsageException("bad-rect", $"A crop needs x, y, w and h (whole pixels); missing: {string.Join(", ", missing)}.", "Send e.g. {\"x\":10,\"y\":20,\"w\":300,\"h\":400}.");
        }

        var rect = new PixelRect(x, y, w, h);
        CropService.Validate(rect);
        return rect;
    }

    private static async Task<IResult> CropImageAsync(HttpContext context, string id, string name, string? size, string? format, CropService service, CancellationToken ct)
    {
        var imageFormat = ParseFormat(format);
        int? maxSize = string.IsNullOrWhiteSpace(size) ? null : MediaEndpoints.QueryInt(size, "size", 0, 1, int.MaxValue);
        var rendered = await service.RenderAsync(id, name, maxSize, imageFormat, ct).ConfigureAwait(false);
        // The render's cache key names rectangle, size and format: a redefined crop gets a new tag.
        var key = Path.GetFileNameWithoutExtension(rendered.Path);
        var tag = new EntityTagHeaderValue("\"" + key[(key.LastIndexOf('-') + 1)..] + "\"");
        context.Response.Headers.CacheControl = string.Create(CultureInfo.InvariantCulture, $"private, max-age={CropMaxAgeSeconds}");
        return TypedResults.PhysicalFile(rendered.Path, rendered.MediaType, fileDownloadName: null, entityTag: tag);
    }

    private static ImageFormat ParseFormat(string? format) => format?.Trim().ToLowerInvariant() switch
    {
        null or "" or "webp" => ImageFormat.WebP,
        "jpeg" or "jpg" => ImageFormat.Jpeg,
        "png" => ImageFormat.Png,
        _ => throw new TroveUsageException("bad-format", $"Format '{format}' is not offered; use webp, jpeg or png."),
    };

    private static async Task<Ok<MaskUploadResponse>> UploadMaskAsync(HttpContext context, string id, MediaService mediaService, MaskService masks, TroveLibrary library, ServerSettings settings, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(context, mediaService, id, ct).ConfigureAwait(false);
        if (!context.Request.HasFormContentType)
        {
            throw new TroveException("unsupported-media-type", $"A mask is uploaded as multipart/form-data, not '{context.Request.ContentType}'.", "Send a 'file' part and a 'category' field, e.g. curl -F file=@mask.png -F category=person.");
        }

        var form = await context.Request.ReadFormAsync(ct).ConfigureAwait(false);
        var file = form.Files.GetFile("file")
            ?? throw new TroveUsageException("missing-file", "The upload has no 'file' part.", "Send the mask as multipart/form-data: file=@mask.png, category=person.");
        var category = TagNames.Normalize(form["category"].FirstOrDefault() is { Length: > 0 } c ? c : "mask");
        if (file.Length > settings.MaxUploadFileBytes)
        {
            throw new TroveException("upload-too-large", $"'{SafeFileName(file.FileName)}' is {file.Length} bytes; the largest file accepted is {settings.MaxUploadFileBytes} bytes.");
        }

        // Each upload gets its own folder, so the import never picks up another upload's files as metadata.
        var folder = Trove.Library.Recovery.TempNames.StagingFolder(library.Layout, "upload");
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, SafeFileName(file.FileName));
            var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            await using (target.ConfigureAwait(false))
            {
                await file.CopyToAsync(target, ct).ConfigureAwait(false);
            }

            var report = await mediaService.ImportAsync([path], new ImportOptions([], null, DryRun: false, MaskOf: resolved, MaskCategory: category), null, ct).ConfigureAwait(false);
            if (report.Failed.Count > 0)
            {
                throw new TroveException("mask-rejected", $"The mask was not imported: {report.Failed[0].Error}", "A mask is an image with the same size (or shape) as the image it belongs to.");
            }

            if (report.Media.Count == 0)
            {
                throw new TroveException("unsupported-media-type", $"'{SafeFileName(file.FileName)}' is not an image Trove imports.");
            }

            var maskId = report.Media[0];
            var listing = await masks.ListAsync(resolved, ct).ConfigureAwait(false);
            if (!listing.Masks.Any(m => m.Id == maskId))
            {
                throw new TroveException(
                    "conflict",
                    $"This file is already in the library as media {maskId[..12]}, which is not a mask of {resolved[..12]}.",
                    "A file is stored once; upload a different file as the mask.");
            }

            var status = report.Imported > 0 ? "imported" : "duplicate";
            return TypedResults.Ok(new MaskUploadResponse(resolved, maskId, status, category, listing.Masks.Select(MaskResponse.From).ToList()));
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // A leftover in tmp/ is removed by 'trove check --repair'.
            }
        }
    }

    /// <summary>
    /// The client's file name reduced to a plain name (no folders, no '..', no control characters), used only for the
    /// temporary copy and for messages. Anything doubtful becomes "upload".
    /// </summary>
    internal static string SafeFileName(string? raw)
    {
        var name = Path.GetFileName((raw ?? string.Empty).Replace('\\', '/'));
        var clean = new string(name.Where(ch => !char.IsControl(ch) && ch is not ('/' or ':')).ToArray()).Trim();
        if (clean.Length > 120)
        {
            clean = clean[^120..];
        }

        return clean.Length == 0 || clean[0] == '.' || clean.Contains("..", StringComparison.Ordinal) ? "upload" : clean;
    }
}
