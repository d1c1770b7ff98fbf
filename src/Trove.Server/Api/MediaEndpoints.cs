using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Trove.Application;
using Trove.Application.Import;
using Trove.Application.Masks;
using Trove.Application.Ports;
using Trove.Application.Embeddings;
using Trove.Application.Similarity;
using Trove.Application.Thumbnails;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Api;

public sealed record UploadItemResponse(string Name, string Status, string? Id, string? Error);

public sealed record UploadResponse(int Imported, int Duplicates, int Failed, IReadOnlyList<UploadItemResponse> Items, IReadOnlyList<string>? Warnings)
{
    public static UploadResponse From(UploadReport r) => new(
        r.Imported, r.Duplicates, r.Failed, r.Items.Select(i => new UploadItemResponse(i.Name, i.Status, i.Id, i.Error)).ToList(), r.Warnings.Count == 0 ? null : r.Warnings);
}

public sealed record MediaTagResponse(string Name, string Category, string Source, string? Via, string? AddedBy, DateTimeOffset AddedAt);

public sealed record MediaCaptionResponse(
    int Id, string Text, bool Primary, string Source, string? Model, string? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? UpdatedAt,
    string Status = Trove.Domain.CaptionStatus.Approved, string? Version = null, string? GeneratedText = null, string? ReviewedBy = null, DateTimeOffset? ReviewedAt = null);

public sealed record MediaCropResponse(string Name, int X, int Y, int W, int H, string? CreatedBy, DateTimeOffset CreatedAt);

public sealed record MediaCollectionResponse(string Id, string Name, long Position);

public sealed record MediaRelationResponse(string Type, string Target, string? CreatedBy, DateTimeOffset CreatedAt);

public sealed record MaskOfResponse(string Id, string Category);

public sealed record MediaUrls(string Original, string Thumbnail);

public sealed record MediaDetailResponse(
    string Id,
    string Kind,
    string MediaType,
    string Ext,
    int? Width,
    int? Height,
    long Size,
    string? OriginalName,
    string? Format,
    int? Frames,
    DateTimeOffset? TakenAt,
    string? Uploader,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Revision,
    bool InTrash,
    DateTimeOffset? DeletedAt,
    string? DeletedBy,
    IReadOnlyList<MediaTagResponse> Tags,
    IReadOnlyList<MediaCaptionResponse> Captions,
    IReadOnlyList<MediaCropResponse> Crops,
    IReadOnlyList<MediaCollectionResponse> Collections,
    IReadOnlyList<MediaRelationResponse> Relations,
    IReadOnlyList<MaskResponse> Masks,
    MaskOfResponse? MaskOf,
    IReadOnlyDictionary<string, string> Metadata,
    MediaUrls Urls,
    LineageResponse? Lineage = null);

public sealed record TrashStateResponse(string Id, bool InTrash);

public sealed record PurgeRequest(IReadOnlyList<string>? Ids);

public sealed record PurgeResponse(IReadOnlyList<string> Purged);

/// <param name="Distance">pHash bits that differ (null when found by embedding).</param>
/// <param name="Score">Cosine similarity of the embeddings (null when found by perceptual hash).</param>
public sealed record SimilarItemResponse(string Id, int? Distance, int? DHashDistance, int Width, int Height, long Size, string Thumbnail, float? Score = null);

/// <param name="By">phash or embedding.</param>
/// <param name="MinScore">With <c>by=embedding</c>: the similarity the items needed.</param>
public sealed record SimilarResponse(string Id, int Distance, IReadOnlyList<SimilarItemResponse> Items, string By = "phash", float? MinScore = null);

/// <summary>Upload, detail, original and thumbnail downloads, trash and similar images of media.</summary>
public static class MediaEndpoints
{
    /// <summary>Form fields other than files are small (tags, a collection name).</summary>
    private const int MaxFieldBytes = 64 * 1024;

    /// <summary>Originals and thumbnails are addressed by content (the SHA-256 id): a URL's bytes never change.</summary>
    private const string ImmutableCaching = "private, max-age=31536000, immutable";

    public static void Map(RouteGroupBuilder api)
    {
        var media = api.MapGroup("/media").WithTags("Media");

        // The form is read from the body stream (no IFormFile parameters), so minimal APIs do not add their form
        // antiforgery check: cookie sessions are already held to the X-CSRF-TOKEN header by UseApiAntiforgery, and
        // API tokens need none. Reading the stream also lets each file be size-checked while it arrives. (No
        // .Accepts(): its routing check would answer other content types with a bare 415 instead of ours.)
        media.MapPost("/", UploadAsync)
            .RequireAuthorization(Policies.Member)
            .RequireRateLimiting(TroveServer.UploadRateLimit)
            .Produces<UploadResponse>()
            .WithSummary("Upload images (multipart: one or more 'files', optional 'tags' comma-separated and 'collection')");
        media.MapGet("/{id}", DetailAsync).WithSummary("Everything about one media: tags, captions, crops, collections, relations, masks, URLs");
        media.MapGet("/{id}/original", OriginalAsync)
            .Produces<Stream>(StatusCodes.Status200OK, "image/jpeg", "image/png", "image/webp", "image/gif", "application/octet-stream")
            .WithSummary("The original file (Range requests, ETag = id, cached as immutable)");
        media.MapGet("/{id}/thumbnail", ThumbnailAsync)
            .Produces<Stream>(StatusCodes.Status200OK, "image/webp", "image/jpeg")
            .WithSummary("A thumbnail (?size=256|512|1024, longest side), cached as immutable");
        media.MapGet("/{id}/similar", SimilarAsync).WithSummary("Near-duplicates of one image by perceptual hash (?distance=8&limit=50) or by embedding (?by=embedding&minScore=0.95)");
        media.MapDelete("/{id}", async (HttpContext context, string id, string? derived, MediaService service, TroveLibrary library, CancellationToken ct) =>
        {
            var choice = ProcessingEndpoints.DerivedChoice(derived);
            var resolved = await MediaAccess.EnsureCanEditAsync(context, service, id, ct).ConfigureAwait(false);
            if (choice == DerivedMedia.WithDerived
                && Pages.DeleteQuestion.Of(library, context.Principal(), library.Files.ReadSidecar(resolved).Sidecar) is { CanTrashAll: false } question)
            {
                throw Application.Accounts.Permissions.Forbidden($"move the derived media of {resolved[..12]} to the trash: {question.Others} of them belong to someone else (members may delete only their own uploads)");
            }

            await service.DeleteAsync([resolved], choice, ct).ConfigureAwait(false);
            return TypedResults.Ok(new TrashStateResponse(resolved, InTrash: true));
        }).RequireAuthorization(Policies.Member)
            .WithSummary("Move media to the trash (restorable; members: their own uploads); an original with derived media needs ?derived=trash|keep (409 has-derived otherwise)");
        media.MapPost("/{id}/restore", async (HttpContext context, string id, MediaService service, CancellationToken ct) =>
        {
            var resolved = await MediaAccess.EnsureCanEditAsync(context, service, id, ct).ConfigureAwait(false);
            await service.RestoreAsync([resolved], ct).ConfigureAwait(false);
            return TypedResults.Ok(new TrashStateResponse(resolved, InTrash: false));
        }).RequireAuthorization(Policies.Member).WithSummary("Bring media back from the trash (members: their own uploads)");

        api.MapPost("/trash/purge", async (PurgeRequest? request, MediaService service, CancellationToken ct) =>
            TypedResults.Ok(new PurgeResponse(await service.PurgeAsync(request?.Ids ?? [], ct).ConfigureAwait(false))))
            .RequireAuthorization(Policies.Admin)
            .WithTags("Media")
            .WithSummary("Remove trashed media for good: the given ids (which must be in the trash), or the whole trash (admin)");
    }

    /// <summary>The URL of a media's thumbnail at the grid size (used by search results and grids too).</summary>
    public static string ThumbnailUrl(string id, int size) => string.Create(CultureInfo.InvariantCulture, $"/api/media/{id}/thumbnail?size={size}");

    /// <summary>Reads an optional whole-number query parameter, refusing anything else with a message naming it.</summary>
    public static int QueryInt(string? raw, string name, int fallback, int min, int max)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return fallback;
        }

        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new TroveUsageException($"bad-{name}", $"'{name}' must be a whole number from {min} to {max}; got '{(raw.Length > 20 ? raw[..20] + "…" : raw)}'.");
        }

        return value;
    }

    private static async Task<Ok<UploadResponse>> UploadAsync(HttpContext context, TroveLibrary library, ServerSettings settings, CancellationToken ct)
    {
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw new TroveException(
                "unsupported-media-type",
                $"Uploads are multipart/form-data, not {(string.IsNullOrEmpty(request.ContentType) ? "a body without a content type" : request.ContentType)}.",
                "Send the files as form fields named 'files', e.g. curl -F files=@photo.jpg -F tags=cat,outdoor …/api/media");
        }

        using var batch = UploadBatch.Create(library, settings.MaxUploadFileBytes, settings.MaxUploadFiles);
        var tags = new List<string>();
        string? collection = null;
        void Field(string name, string value)
        {
            if (name.Equals("tags", StringComparison.OrdinalIgnoreCase))
            {
                tags.AddRange(value.Split([',', '\n'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            }
            else if (name.Equals("collection", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(value))
            {
                collection = value.Trim();
            }
        }

        if (context.Features.Get<IFormFeature>()?.Form is { } form)
        {
            // Already buffered (a cookie session that sent its antiforgery token as a form field): take it from there.
            foreach (var file in form.Files)
            {
                var stream = file.OpenReadStream();
                await using (stream.ConfigureAwait(false))
                {
                    await batch.AddAsync(file.FileName, stream, ct).ConfigureAwait(false);
                }
            }

            foreach (var (name, values) in form)
            {
                foreach (var value in values)
                {
                    Field(name, value ?? string.Empty);
                }
            }
        }
        else
        {
            await ReadMultipartAsync(request, contentType, batch, Field, ct).ConfigureAwait(false);
        }

        if (batch.Count == 0)
        {
            throw new TroveUsageException("no-files", "The upload carried no files.", "Send each file as a multipart part with a file name, e.g. curl -F files=@photo.jpg …");
        }

        var report = await batch.ImportAsync(tags, collection, ct).ConfigureAwait(false);
        return TypedResults.Ok(UploadResponse.From(report));
    }

    /// <summary>Streams the parts: files straight into the upload batch (size-checked as they arrive), fields to <paramref name="field"/>.</summary>
    private static async Task ReadMultipartAsync(HttpRequest request, MediaTypeHeaderValue contentType, UploadBatch batch, Action<string, string> field, CancellationToken ct)
    {
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200)
        {
            throw new TroveUsageException("bad-multipart", "The multipart/form-data content type has no usable boundary.");
        }

        var reader = new MultipartReader(boundary, request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(ct).ConfigureAwait(false) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (disposition.IsFileDisposition())
                {
                    var name = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    await batch.AddAsync(name, section.Body, ct).ConfigureAwait(false);
                }
                else if (disposition.IsFormDisposition())
                {
                    var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? string.Empty;
                    field(name, await ReadFieldAsync(section.Body, name, ct).ConfigureAwait(false));
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException || (ex is IOException && ex is not BadHttpRequestException && ex.Source == "Microsoft.AspNetCore.WebUtilities"))
        {
            // A body that ends early or breaks the multipart grammar (the reader's own errors; disk errors are not caught here).
            throw new TroveUsageException("bad-multipart", $"The multipart body is malformed: {ex.Message}", "Let your HTTP client build the form (curl -F, FormData, MultipartFormDataContent).");
        }
    }

    private static async Task<string> ReadFieldAsync(Stream body, string name, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxFieldBytes)
            {
                throw new TroveUsageException("bad-multipart", $"The form field '{name}' is longer than {MaxFieldBytes / 1024} KB.");
            }

            buffer.Write(chunk, 0, read);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static async Task<Ok<MediaDetailResponse>> DetailAsync(HttpContext context, string id, MediaService service, MaskService masks, CollectionService collections, TroveLibrary library, CancellationToken ct)
    {
        var view = await service.ShowVisibleAsync(id, context.Principal(), ct).ConfigureAwait(false);
        var s = view.Sidecar;
        var maskList = s.Kind == MediaKinds.Image ? (await masks.ListAsync(s.Id, ct).ConfigureAwait(false)).Masks : [];
        var names = s.Collections.Count == 0
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : (await collections.ListAsync(ct).ConfigureAwait(false)).ToDictionary(c => c.Id, c => c.Name, StringComparer.Ordinal);
        var response = new MediaDetailResponse(
            s.Id,
            s.Kind,
            s.Original.MediaType,
            s.Original.Ext,
            s.Original.Width,
            s.Original.Height,
            s.Original.Size,
            s.Original.OriginalName,
            s.Original.Format,
            s.Original.Frames,
            s.Original.TakenAt,
            s.Uploader,
            s.CreatedAt,
            s.UpdatedAt,
            s.Revision,
            view.InTrash,
            s.Deleted?.At,
            s.Deleted?.By,
            s.Tags.OrderBy(t => t.Name, StringComparer.Ordinal)
                .Select(t => new MediaTagResponse(t.Name, view.TagCategories.GetValueOrDefault(t.Name) ?? "general", t.Source, t.Via, t.AddedBy, t.AddedAt)).ToList(),
            s.Captions.Select(c => new MediaCaptionResponse(c.Id, c.Text, c.Primary, c.Source, c.Model, c.CreatedBy, c.CreatedAt, c.UpdatedAt, c.EffectiveStatus, c.ModelVersion, c.GeneratedText, c.ReviewedBy, c.ReviewedAt)).ToList(),
            s.Crops.Select(c => new MediaCropResponse(c.Name, c.X, c.Y, c.W, c.H, c.CreatedBy, c.CreatedAt)).ToList(),
            s.Collections.Select(c => new MediaCollectionResponse(c.Collection, names.GetValueOrDefault(c.Collection) ?? c.Collection, c.Position)).ToList(),
            s.Relations.Select(r => new MediaRelationResponse(r.Type, r.Target, r.CreatedBy, r.CreatedAt)).ToList(),
            maskList.Select(MaskResponse.From).ToList(),
            s.Mask is { } mask ? new MaskOfResponse(mask.Source, mask.Category) : null,
            s.Metadata,
            new MediaUrls($"/api/media/{s.Id}/original", ThumbnailUrl(s.Id, library.Options.Imaging.ImportThumbnailSize)),
            LineageResponse.From(Application.Restoration.LineageView.Of(library, s)));
        return TypedResults.Ok(response);
    }

    private static async Task<IResult> OriginalAsync(HttpContext context, string id, MediaService service, TroveLibrary library, CancellationToken ct)
    {
        var view = await service.ShowVisibleAsync(id, context.Principal(), ct).ConfigureAwait(false);
        var path = library.Layout.OriginalPath(view.Sidecar.Id, view.Sidecar.Original.Ext, view.InTrash);
        if (!File.Exists(path))
        {
            // Moved to or from the trash meanwhile: look once more.
            view = await service.ShowVisibleAsync(view.Sidecar.Id, context.Principal(), ct).ConfigureAwait(false);
            path = library.Layout.OriginalPath(view.Sidecar.Id, view.Sidecar.Original.Ext, view.InTrash);
        }

        var s = view.Sidecar;
        var disposition = new ContentDispositionHeaderValue("inline");
        disposition.SetHttpFileName(string.IsNullOrWhiteSpace(s.Original.OriginalName) ? $"{s.Id}.{s.Original.Ext}" : s.Original.OriginalName);
        context.Response.Headers.ContentDisposition = disposition.ToString();
        context.Response.Headers.CacheControl = ImmutableCaching;
        return TypedResults.PhysicalFile(path, s.Original.MediaType, fileDownloadName: null, lastModified: null, entityTag: new EntityTagHeaderValue($"\"{s.Id}\""), enableRangeProcessing: true);
    }

    private static async Task<IResult> ThumbnailAsync(HttpContext context, string id, string? size, MediaService service, ThumbnailService thumbnails, TroveLibrary library, CancellationToken ct)
    {
        var imaging = library.Options.Imaging;
        var pixels = imaging.ImportThumbnailSize;
        if (!string.IsNullOrWhiteSpace(size) && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pixels) || !imaging.ThumbnailSizes.Contains(pixels)))
        {
            throw new TroveUsageException("bad-size", $"Thumbnail size '{(size.Length > 20 ? size[..20] + "…" : size)}' is not offered; the sizes are {string.Join(", ", imaging.ThumbnailSizes)}.");
        }

        var view = await service.ShowVisibleAsync(id, context.Principal(), ct).ConfigureAwait(false);
        ThumbnailFile thumb;
        try
        {
            thumb = await thumbnails.GetAsync(view.Sidecar.Id, pixels, ct).ConfigureAwait(false);
        }
        catch (ImageException ex) when (ex.Code == "unavailable")
        {
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "imaging-unavailable", ex.Message, "Install libvips (Debian/Ubuntu: apt-get install libvips42) and restart Trove; thumbnails made at import are still served.");
        }
        catch (ImageException ex)
        {
            return Problems.Result(StatusCodes.Status422UnprocessableEntity, "image-unreadable", $"No thumbnail can be made of {view.Sidecar.Id[..12]}: {ex.Message}", "Download the original instead; 'trove check' reports damaged files.");
        }

        context.Response.Headers.CacheControl = ImmutableCaching;
        var tag = new EntityTagHeaderValue(string.Create(CultureInfo.InvariantCulture, $"\"{thumb.MediaId}-{thumb.Size}-{Path.GetExtension(thumb.Path).TrimStart('.')}\""));
        return TypedResults.PhysicalFile(thumb.Path, thumb.MediaType, fileDownloadName: null, lastModified: null, entityTag: tag);
    }

    private static async Task<Ok<SimilarResponse>> SimilarAsync(HttpContext context, string id, string? distance, string? limit, string? by, string? minScore, MediaService service, NearDuplicateService similar, TroveLibrary library, CancellationToken ct)
    {
        var d = QueryInt(distance, "distance", 8, 0, NearDuplicateService.MaxDistance);
        var n = QueryInt(limit, "limit", 50, 1, 500);
        var basis = DuplicateEndpoints.Basis(by, both: false);
        var score = DuplicateEndpoints.QueryScore(minScore);
        var view = await service.ShowVisibleAsync(id, context.Principal(), ct).ConfigureAwait(false);
        var size = library.Options.Imaging.ImportThumbnailSize;
        if (basis == DuplicateBasis.Embedding)
        {
            var near = await similar.SimilarByEmbeddingAsync(view.Sidecar.Id, score, n, ct).ConfigureAwait(false);
            return TypedResults.Ok(new SimilarResponse(
                view.Sidecar.Id,
                d,
                near.Select(m => new SimilarItemResponse(m.Id, null, null, m.Width, m.Height, m.Size, ThumbnailUrl(m.Id, size), m.Score)).ToList(),
                DuplicateGroup.ByEmbedding,
                score ?? ActiveEmbedder.Of(library)?.Parameters.DuplicateScore));
        }

        var found = await similar.SimilarAsync(view.Sidecar.Id, d, n, ct).ConfigureAwait(false);
        return TypedResults.Ok(new SimilarResponse(
            view.Sidecar.Id,
            d,
            found.Select(m => new SimilarItemResponse(m.Id, m.Distance, m.DHashDistance, m.Width, m.Height, m.Size, ThumbnailUrl(m.Id, size))).ToList()));
    }
}
