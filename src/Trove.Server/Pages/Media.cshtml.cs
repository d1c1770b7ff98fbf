using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Crops;
using Trove.Application.Faces;
using Trove.Application.Jobs;
using Trove.Application.Masks;
using Trove.Application.Ports;
using Trove.Application.Restoration;
using Trove.Application.Search;
using Trove.Application.Similarity;
using Trove.Application.Tagging;
using Trove.Domain;
using Trove.Server.Api;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

/// <summary>
/// One image: a large preview (draw crops on it, overlay masks), its file facts, tags by category, captions, crops,
/// masks, collections, relations and near-duplicates. Editors (see <see cref="Permissions.CanEditMedia"/>) change tags,
/// captions and crops here; each change goes through a named handler that calls the application service and answers
/// with the re-rendered panel (htmx swaps it in), or redirects back when JavaScript is off. Members run upscalers and
/// restorers on an image from its "Restore / upscale" panel (a queued restore job; restore.js follows its progress and
/// opens the comparison); the lineage panel links a result to its original and an original to what was derived from it.
/// </summary>
public sealed class MediaModel(
    TroveLibrary library,
    MediaService media,
    TagService tagService,
    CaptionService captionService,
    CropService cropService,
    MaskService maskService,
    CollectionService collectionService,
    SearchService search,
    NearDuplicateService nearDuplicates,
    SuggestionService suggestionService,
    PeopleService people) : PageModel
{
    /// <summary>The query the page was opened from (gallery links carry it), for previous/next.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    /// <summary>The media's position in the results of <see cref="Q"/>.</summary>
    [BindProperty(SupportsGet = true)]
    public int? I { get; set; }

    /// <summary>A generated caption opened for editing (the Edit link without JavaScript: <c>?edit=N</c>).</summary>
    [BindProperty(SupportsGet = true)]
    public int? Edit { get; set; }

    /// <summary>A restore job to show in the panel (where the Run form lands without JavaScript: <c>?job=ID</c>).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Job { get; set; }

    public MediaView View { get; private set; } = null!;

    public MediaSidecar Sidecar => View.Sidecar;

    public string Id => View.Sidecar.Id;

    public bool CanEdit { get; private set; }

    public bool CanCollect { get; private set; }

    public string? Missing { get; private set; }

    public MediaTagsPanel Tags { get; private set; } = null!;

    public MediaCaptionsPanel Captions { get; private set; } = null!;

    public MediaCropsPanel Crops { get; private set; } = null!;

    public MediaFacesPanel Faces { get; private set; } = null!;

    public MediaMasksPanel Masks { get; private set; } = null!;

    public MediaCollectionsPanel Collections { get; private set; } = null!;

    public MediaNav Nav { get; private set; } = MediaNav.None;

    public MediaSuggestionsPanel Suggestions { get; private set; } = null!;

    public MediaRestorePanel Restore { get; private set; } = MediaRestorePanel.None;

    public MediaLineagePanel Lineage { get; private set; } = null!;

    /// <summary>The library has an embedder, so "More like this" (<c>like:ID</c>) can be offered.</summary>
    public bool CanFindLike { get; private set; }

    /// <summary>The relations worth listing as they are (lineage has its own panel).</summary>
    public IReadOnlyList<RelationEntry> Relations => Sidecar.Relations
        .Where(r => r.Type is not (RelationTypes.DerivedFrom or RelationTypes.Derivative) && !(r.Type == "mask-of" && r.Target == Sidecar.Mask?.Source))
        .ToList();

    /// <summary>What deleting this image asks about: its derived media still in the library, and whether this account may trash them all.</summary>
    public DeleteQuestion Delete { get; private set; } = DeleteQuestion.None;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        try
        {
            View = await media.ShowAsync(id, ct).ConfigureAwait(false);
        }
        catch (TroveException ex) when (ex.Code is "media-not-found" or "ambiguous-id" || ex.IsUsageError)
        {
            Missing = ex.Message;
            Response.StatusCode = ex.Code == "media-not-found" ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest;
            return Page();
        }

        await LoadAsync(ct).ConfigureAwait(false);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var principal = HttpContext.Principal();
        CanEdit = Permissions.CanEditMedia(principal, Sidecar);
        CanCollect = Permissions.CanCreateCollections(principal);
        Tags = MediaTagsPanel.From(View, CanEdit);
        Captions = new MediaCaptionsPanel(Id, Sidecar.Captions, CanEdit) { Editing = CanEdit ? Edit : null };
        Crops = MediaCropsPanel.From(Sidecar, CanEdit);
        Faces = FacesPanel(Sidecar, CanEdit, oob: false);
        Masks = await LoadMasksAsync(Id, CanEdit, ct).ConfigureAwait(false);
        Collections = await LoadCollectionsAsync(Sidecar, CanCollect, ct).ConfigureAwait(false);
        Nav = await MediaNav.LoadAsync(search, Q, I, Id, ct).ConfigureAwait(false);
        Suggestions = MediaSuggestionsPanel.From(Id, Sidecar.Suggestions, CanEdit, View.TagCategories);
        var lineage = LineageView.Of(library, Sidecar);
        Lineage = new MediaLineagePanel(lineage, library.Time.GetUtcNow(), MediaService.CanSeeTrash(principal));
        CanFindLike = Trove.Application.Embeddings.ActiveEmbedder.Of(library) is not null;
        Delete = DeleteQuestion.Of(library, principal, Sidecar);
        var run = Job is { Length: > 0 } job ? await VisibleRunAsync(job, ct).ConfigureAwait(false) : null;
        Restore = RestorePanel(run is null || run.Media == Id ? run : null);
    }

    /// <summary>
    /// Runs an upscaler or restorer on this image: queues a restore job (<see cref="RestoreJobs.EnqueueAsync"/>) with the
    /// chosen model version, the parameters changed from the model's defaults and keep. htmx gets the panel with the
    /// job (restore.js follows it); without JavaScript the page comes back with <c>?job=ID</c>. A refusal (bad
    /// parameters, not an image…) is shown in the panel.
    /// </summary>
    public async Task<IActionResult> OnPostRunModelAsync(string id, string? model, int? tileSize, int? tileOverlap, string? prompt, bool keep, CancellationToken ct)
    {
        View = await media.ShowAsync(id, ct).ConfigureAwait(false);
        var principal = HttpContext.Principal();
        var submitted = new RestoreFormValues(model, tileSize, tileOverlap, prompt, keep);
        try
        {
            if (!Permissions.CanUpload(principal))
            {
                throw Permissions.Forbidden("run upscalers and restorers (members and up may)");
            }

            if (View.InTrash || Sidecar.Kind != MediaKinds.Image)
            {
                throw new TroveUsageException("not-restorable", $"Media {Id[..12]} is {(View.InTrash ? "in the trash" : "a mask")}; only images in the library can be restored or upscaled.");
            }

            var options = RestoreModelOption.Active(library);
            var chosen = options.FirstOrDefault(o => o.Reference == model || o.Id == model)
                ?? throw new TroveUsageException("model-not-found", $"'{model}' is not an active upscaler or restorer.", "Choose one of the models in the list.");
            if (chosen.Problem is not null)
            {
                throw new TroveUsageException("model-parameters-invalid", chosen.Problem);
            }

            var request = new RestoreRequest(Id, chosen.Reference, chosen.Overrides(tileSize, tileOverlap, prompt), keep);
            var (_, queued) = await RestoreJobs.EnqueueAsync(library, request, ct).ConfigureAwait(false);
            if (!IsHtmx)
            {
                return Redirect($"/media/{Id}?job={queued.Id}");
            }

            var run = await new ProcessingService(library).GetAsync(queued.Id, ct).ConfigureAwait(false);
            return Partial("_MediaRestore", RestorePanel(run) with { Values = submitted });
        }
        catch (TroveException ex)
        {
            var failed = RestorePanel(null) with { Values = submitted, Error = ex.Message, Hint = ex.Hint };
            if (IsHtmx)
            {
                // htmx swaps only 2xx answers: the refusal is shown in the panel itself.
                return Partial("_MediaRestore", failed);
            }

            await LoadAsync(ct).ConfigureAwait(false);
            Restore = failed;
            Response.StatusCode = Problems.StatusOf(ex);
            return Page();
        }
    }

    private MediaRestorePanel RestorePanel(ProcessingRun? run)
    {
        var principal = HttpContext.Principal();
        var offered = Permissions.CanUpload(principal) && !View.InTrash && Sidecar.Kind == MediaKinds.Image;
        return offered
            ? new MediaRestorePanel(Id, true, RestoreModelOption.Active(library), run, library.Options.Restoration.Retention)
            : MediaRestorePanel.None;
    }

    /// <summary>A restore job the signed-in account may see (its own; admins any), or null.</summary>
    private async Task<ProcessingRun?> VisibleRunAsync(string job, CancellationToken ct)
    {
        try
        {
            var record = await new JobBoard(library).GetAsync(HttpContext.Principal(), job, ct).ConfigureAwait(false);
            return await new ProcessingService(library).GetAsync(record.Id, ct).ConfigureAwait(false);
        }
        catch (TroveException)
        {
            return null;
        }
    }

    /// <summary>Adds the words typed (space or comma separated); a word starting with '-' removes that tag instead.</summary>
    public async Task<IActionResult> OnPostAddTagAsync(string id, string? tags, CancellationToken ct)
    {
        var words = (tags ?? string.Empty).Split([' ', ',', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var remove = words.Where(w => w.StartsWith('-') && w.Length > 1).Select(w => w[1..]).ToList();
        var add = words.Where(w => !w.StartsWith('-')).ToList();
        if (add.Count == 0 && remove.Count == 0)
        {
            throw new TroveUsageException("no-tags", "Type one or more tags to add (separated by spaces); '-tag' removes one.");
        }

        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var change = await tagService.ChangeAsync(resolved, add, remove, ct).ConfigureAwait(false);
        Notify(Summary(change));
        return await TagsPanelAsync(resolved, ct).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostRemoveTagAsync(string id, string? tag, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var change = await tagService.RemoveAsync(resolved, [tag ?? string.Empty], ct).ConfigureAwait(false);
        Notify(Summary(change));
        return await TagsPanelAsync(resolved, ct).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostAddCaptionAsync(string id, string? text, bool primary, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var listing = await captionService.AddAsync(resolved, text ?? string.Empty, primary, ct).ConfigureAwait(false);
        Notify("Caption added.");
        return Respond("_MediaCaptions", new MediaCaptionsPanel(resolved, listing.Captions, true));
    }

    public async Task<IActionResult> OnPostPrimaryCaptionAsync(string id, int caption, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var listing = await captionService.MarkPrimaryAsync(resolved, caption, ct).ConfigureAwait(false);
        Notify($"Caption #{caption} is now the primary one.");
        return Respond("_MediaCaptions", new MediaCaptionsPanel(resolved, listing.Captions, true));
    }

    /// <summary>
    /// Reviews a generated caption: <paramref name="decision"/> approve (with <paramref name="text"/> when it was
    /// edited), reject, or primary (approve and make it the primary caption). The same service call as the API's.
    /// </summary>
    public async Task<IActionResult> OnPostReviewCaptionAsync(string id, int caption, string? decision, string? text, CancellationToken ct)
    {
        var action = CaptionReview.Parse(decision);
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var listing = await captionService.ReviewAsync(resolved, caption, action, action == CaptionReviewAction.Reject ? null : text, ct).ConfigureAwait(false);
        Notify(CaptionReview.Describe(action, caption, listing));
        return Respond("_MediaCaptions", new MediaCaptionsPanel(resolved, listing.Captions, true));
    }

    public async Task<IActionResult> OnPostRemoveCaptionAsync(string id, int caption, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var listing = await captionService.RemoveAsync(resolved, caption, ct).ConfigureAwait(false);
        Notify($"Caption #{caption} removed.");
        return Respond("_MediaCaptions", new MediaCaptionsPanel(resolved, listing.Captions, true));
    }

    /// <summary>The crops panel (the page's script asks for it after saving a crop through the API).</summary>
    public async Task<IActionResult> OnGetCropsAsync(string id, CancellationToken ct)
    {
        var view = await media.ShowAsync(id, ct).ConfigureAwait(false);
        return Partial("_MediaCrops", MediaCropsPanel.From(view.Sidecar, Permissions.CanEditMedia(HttpContext.Principal(), view.Sidecar)));
    }

    public async Task<IActionResult> OnPostDeleteCropAsync(string id, string? name, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var listing = await cropService.RemoveAsync(resolved, name ?? string.Empty, ct).ConfigureAwait(false);
        Notify($"Crop '{name}' deleted.");
        return Respond("_MediaCrops", new MediaCropsPanel(resolved, listing.Width, listing.Height, listing.Crops, true));
    }

    /// <summary>
    /// A decision about one face of this image: confirm or reject its suggestion, or name it — a name of someone who
    /// exists assigns it to them, a new name makes a new person. The panel comes back with the face boxes (out of band).
    /// </summary>
    public async Task<IActionResult> OnPostFaceAsync(string id, string? face, string? decision, string? name, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var reference = face ?? string.Empty;
        if (!reference.StartsWith(resolved, StringComparison.Ordinal))
        {
            throw new TroveUsageException("bad-face", $"'{reference}' is not a face of this image.");
        }

        switch (decision)
        {
            case "confirm":
                await people.ConfirmAsync([reference], null, ct).ConfigureAwait(false);
                Notify("Confirmed.");
                break;
            case "reject":
                var suggested = (await people.FacesOfAsync(resolved, ct).ConfigureAwait(false)).Faces.FirstOrDefault(f => reference.EndsWith("#" + f.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))?.Person
                    ?? throw new TroveUsageException("face-unassigned", "This face is not suggested for anybody.");
                await people.RejectAsync(suggested, [reference], ct).ConfigureAwait(false);
                Notify("Not them; this face will not be suggested for them again.");
                break;
            case "name":
                if (string.IsNullOrWhiteSpace(name))
                {
                    throw new TroveUsageException("bad-person-name", "Type who this is first.");
                }

                var known = people.Find(name);
                var (person, _) = await people.SplitAsync([reference], known?.Id, known is null ? name : null, ct).ConfigureAwait(false);
                Notify($"This is {person.Display}.");
                break;
            default:
                throw new TroveUsageException("bad-decision", $"'{decision}' is not a face decision (confirm, reject, name).");
        }

        var view = await media.ShowAsync(resolved, ct).ConfigureAwait(false);
        return Respond("_MediaFaces", FacesPanel(view.Sidecar, true, oob: true));
    }

    private MediaFacesPanel FacesPanel(MediaSidecar sidecar, bool canEdit, bool oob) => new(
        sidecar.Id,
        sidecar.Original.Width,
        sidecar.Original.Height,
        FaceViews.Of(library, sidecar.Id, sidecar.Faces, sidecar.FaceScan),
        canEdit,
        oob,
        canEdit ? [.. library.People.All().Where(p => p.Name is not null && !p.Hidden).Select(p => p.Name!).Order(StringComparer.OrdinalIgnoreCase)] : []);

    /// <summary>The masks panel (asked for after a mask upload through the API).</summary>
    public async Task<IActionResult> OnGetMasksAsync(string id, CancellationToken ct)
    {
        var view = await media.ShowAsync(id, ct).ConfigureAwait(false);
        return Partial("_MediaMasks", await LoadMasksAsync(view.Sidecar.Id, Permissions.CanEditMedia(HttpContext.Principal(), view.Sidecar), ct).ConfigureAwait(false));
    }

    public async Task<IActionResult> OnPostAddToCollectionAsync(string id, string? collection, CancellationToken ct)
    {
        if (!Permissions.CanCreateCollections(HttpContext.Principal()))
        {
            throw Permissions.Forbidden("add media to collections");
        }

        if (string.IsNullOrWhiteSpace(collection))
        {
            throw new TroveUsageException("no-collection", "Choose a collection to add this image to.");
        }

        var view = await media.ShowAsync(id, ct).ConfigureAwait(false);
        var shown = await collectionService.AddAsync(collection, [view.Sidecar.Id], ct).ConfigureAwait(false);
        Notify($"Added to '{shown.Collection.Name}'.");
        view = await media.ShowAsync(view.Sidecar.Id, ct).ConfigureAwait(false);
        return Respond("_MediaCollections", await LoadCollectionsAsync(view.Sidecar, true, ct).ConfigureAwait(false));
    }

    /// <summary>Approves the named pending suggestions (<paramref name="min"/>: all pending ones at or above it).</summary>
    public Task<IActionResult> OnPostApproveAsync(string id, string[]? tag, double? min, CancellationToken ct) =>
        ReviewSuggestionsAsync(id, tag, min, approve: true, ct);

    public Task<IActionResult> OnPostRejectAsync(string id, string[]? tag, CancellationToken ct) =>
        ReviewSuggestionsAsync(id, tag, null, approve: false, ct);

    /// <summary>Near-duplicates of the image (loaded when the strip scrolls into view).</summary>
    public async Task<IActionResult> OnGetSimilarAsync(string id, CancellationToken ct)
    {
        try
        {
            var found = await nearDuplicates.SimilarAsync(id, 8, 24, ct).ConfigureAwait(false);
            return Partial("_MediaSimilar", new MediaSimilarPanel(found, null));
        }
        catch (TroveException ex) when (ex.Code == "no-perceptual-hash")
        {
            return Partial("_MediaSimilar", new MediaSimilarPanel([], ex.Message));
        }
    }

    /// <summary>
    /// Moves the image to the trash. An original with derived media in the library needs <paramref name="derived"/>:
    /// <c>with</c> moves them to the trash too (only when this account may delete each of them), <c>keep</c> deletes
    /// only the original; without it the service refuses (has-derived) and nothing changes.
    /// </summary>
    public async Task<IActionResult> OnPostDeleteAsync(string id, string? derived, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var choice = (derived ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            "with" => DerivedMedia.WithDerived,
            "keep" => DerivedMedia.KeepDerived,
            "" => DerivedMedia.Ask,
            _ => throw new TroveUsageException("bad-choice", $"'{derived}' is not a choice for derived media.", "Choose 'with' (move them to the trash too) or 'keep' (delete only the original)."),
        };
        if (choice == DerivedMedia.WithDerived)
        {
            var question = DeleteQuestion.Of(library, HttpContext.Principal(), library.Files.ReadSidecar(resolved).Sidecar);
            if (!question.CanTrashAll)
            {
                throw Permissions.Forbidden($"move the derived media of {resolved[..12]} to the trash: {question.Others} of them belong to someone else (members may delete only their own uploads)");
            }
        }

        var moved = await media.DeleteAsync([resolved], choice, ct).ConfigureAwait(false);
        Notify(moved.Count > 1 ? $"Moved the image and {moved.Count - 1} derived media to the trash." : "Moved to the trash.");
        return Reload();
    }

    public async Task<IActionResult> OnPostRestoreAsync(string id, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        await media.RestoreAsync([resolved], ct).ConfigureAwait(false);
        return Reload();
    }

    /// <summary>
    /// Reviews suggestions and answers with the suggestions panel followed by the tags panel: the buttons select the
    /// first (hx-select) and swap the second out of band (hx-select-oob="#tags-panel").
    /// </summary>
    private async Task<IActionResult> ReviewSuggestionsAsync(string id, string[]? tags, double? min, bool approve, CancellationToken ct)
    {
        var resolved = await MediaAccess.EnsureCanEditAsync(HttpContext, media, id, ct).ConfigureAwait(false);
        var names = (tags ?? []).Where(t => !string.IsNullOrWhiteSpace(t)).ToList();
        if (min is { } threshold)
        {
            var pending = await suggestionService.ListAsync(resolved, SuggestionStatus.Pending, ct).ConfigureAwait(false);
            names.AddRange(pending.Suggestions.Where(s => s.Confidence >= threshold).Select(s => s.Tag));
        }

        if (names.Count > 0)
        {
            var result = await suggestionService.ReviewAsync(resolved, approve ? names : [], approve ? [] : names, ct).ConfigureAwait(false);
            Notify(ReviewModel.Describe(result));
        }
        else
        {
            Notify(min is null ? "Choose a suggestion to review." : "No pending suggestion reaches that confidence.");
        }

        if (!IsHtmx)
        {
            return Redirect(Request.Path + BackQuery());
        }

        var view = await media.ShowAsync(resolved, ct).ConfigureAwait(false);
        return Partial("_MediaSuggestions", MediaSuggestionsPanel.From(resolved, view.Sidecar.Suggestions, true, view.TagCategories) with { Tags = MediaTagsPanel.From(view, true) });
    }

    private async Task<IActionResult> TagsPanelAsync(string id, CancellationToken ct)
    {
        var view = await media.ShowAsync(id, ct).ConfigureAwait(false);
        return Respond("_MediaTags", MediaTagsPanel.From(view, true));
    }

    private async Task<MediaMasksPanel> LoadMasksAsync(string id, bool canEdit, CancellationToken ct)
    {
        var listing = await maskService.ListAsync(id, ct).ConfigureAwait(false);
        return new MediaMasksPanel(id, listing.Masks, canEdit);
    }

    private async Task<MediaCollectionsPanel> LoadCollectionsAsync(MediaSidecar sidecar, bool canAdd, CancellationToken ct)
    {
        var all = await collectionService.ListAsync(ct).ConfigureAwait(false);
        var mine = sidecar.Collections.Select(c => c.Collection).ToHashSet(StringComparer.Ordinal);
        var inThem = all.Where(c => mine.Contains(c.Id)).OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
        var others = all.Where(c => !mine.Contains(c.Id)).OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
        return new MediaCollectionsPanel(sidecar.Id, inThem, others, canAdd);
    }

    private bool IsHtmx => Request.Headers.ContainsKey("HX-Request");

    /// <summary>The panel for htmx; without JavaScript (a plain form post) back to the page.</summary>
    private IActionResult Respond(string partial, object model) =>
        IsHtmx ? Partial(partial, model) : Redirect(Request.Path + BackQuery());

    private IActionResult Reload()
    {
        if (IsHtmx)
        {
            Response.Headers["HX-Refresh"] = "true";
            return Content(string.Empty);
        }

        return Redirect(Request.Path + BackQuery());
    }

    private string BackQuery()
    {
        var parts = new List<string>();
        if (!string.IsNullOrEmpty(Q))
        {
            parts.Add("q=" + Uri.EscapeDataString(Q));
        }

        if (I is { } i)
        {
            parts.Add("i=" + i);
        }

        return parts.Count == 0 ? string.Empty : "?" + string.Join('&', parts);
    }

    /// <summary>A message for the toast (htmx raises it as an event on the page).</summary>
    private void Notify(string message) =>
        Response.Headers["HX-Trigger"] = JsonSerializer.Serialize(new Dictionary<string, string> { ["trove:toast"] = message });

    private static string Summary(TagChange change)
    {
        var parts = new List<string>();
        if (change.Added.Count > 0)
        {
            parts.Add("Added " + string.Join(", ", change.Added));
        }

        if (change.Removed.Count > 0)
        {
            parts.Add("Removed " + string.Join(", ", change.Removed));
        }

        return parts.Count == 0 ? "No change: the tags were already like that." : string.Join("; ", parts) + ".";
    }
}

/// <summary>Tags of one media grouped by category, in the order people scan them.</summary>
public sealed record MediaTagsPanel(string Id, IReadOnlyList<MediaTagGroup> Groups, int Count, bool CanEdit)
{
    public static readonly IReadOnlyList<string> CategoryOrder = ["character", "copyright", "artist", "general", "meta", "rating"];

    public static MediaTagsPanel From(MediaView view, bool canEdit)
    {
        var groups = view.Sidecar.Tags
            .GroupBy(t => view.TagCategories.GetValueOrDefault(t.Name) ?? Vocabulary.DefaultCategory, StringComparer.Ordinal)
            .Select(g => new MediaTagGroup(g.Key, g.OrderBy(t => t.Name, StringComparer.Ordinal).ToList()))
            .OrderBy(g => Rank(g.Category))
            .ThenBy(g => g.Category, StringComparer.Ordinal)
            .ToList();
        return new MediaTagsPanel(view.Sidecar.Id, groups, view.Sidecar.Tags.Count, canEdit);
    }

    private static int Rank(string category)
    {
        for (var i = 0; i < CategoryOrder.Count; i++)
        {
            if (CategoryOrder[i] == category)
            {
                return i;
            }
        }

        return CategoryOrder.Count;
    }
}

public sealed record MediaTagGroup(string Category, IReadOnlyList<TagEntry> Tags)
{
    /// <summary>A CSS-safe class for the category colour (user-defined categories share one).</summary>
    public string CssClass => MediaTagsPanel.CategoryOrder.Contains(Category) ? "cat-" + Category : "cat-other";
}

/// <summary>
/// A media's captions: people's and approved generated ones, then the generated ones waiting for review, then the
/// rejected ones (collapsed). <see cref="Editing"/> opens one pending caption's text box (the Edit link without JavaScript).
/// </summary>
public sealed record MediaCaptionsPanel(string Id, IReadOnlyList<CaptionEntry> Captions, bool CanEdit)
{
    public int? Editing { get; init; }

    /// <summary>Pending first (they want a decision), then the approved ones, rejected last; each in their own order.</summary>
    public IReadOnlyList<CaptionEntry> Ordered => Captions.OrderBy(c => c.EffectiveStatus switch { CaptionStatus.Pending => 0, CaptionStatus.Rejected => 2, _ => 1 }).ToList();

    public int Approved => Captions.Count(c => c.IsApproved);

    public int Pending => Captions.Count(c => c.EffectiveStatus == CaptionStatus.Pending);

    /// <summary>"model@version" of a generated caption.</summary>
    public static string Provenance(CaptionEntry c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return (c.Model ?? "model") + (c.ModelVersion is { Length: > 0 } v ? "@" + v : string.Empty);
    }
}

/// <summary>What the caption review forms (image page, caption queue) send, and what the toast says afterwards.</summary>
public static class CaptionReview
{
    public static CaptionReviewAction Parse(string? decision) => (decision ?? string.Empty).Trim().ToLowerInvariant() switch
    {
        "approve" => CaptionReviewAction.Approve,
        "reject" => CaptionReviewAction.Reject,
        "primary" => CaptionReviewAction.Primary,
        _ => throw new TroveUsageException("bad-action", $"'{decision}' is not a caption review decision.", "Choose approve, reject or primary."),
    };

    public static string Describe(CaptionReviewAction action, int caption, CaptionListing listing)
    {
        ArgumentNullException.ThrowIfNull(listing);
        var entry = listing.Captions.FirstOrDefault(c => c.Id == caption);
        var edited = entry?.GeneratedText is not null && action != CaptionReviewAction.Reject ? " with your edit" : string.Empty;
        return action switch
        {
            CaptionReviewAction.Reject => $"Caption #{caption} rejected.",
            CaptionReviewAction.Primary => $"Caption #{caption} approved{edited}; it is now the primary one.",
            _ => $"Caption #{caption} approved{edited}.",
        };
    }
}

/// <summary>The faces of the image: boxes over the picture and a panel of who is in it (<see cref="Oob"/>: the boxes go with an htmx answer).</summary>
public sealed record MediaFacesPanel(string Id, int? Width, int? Height, MediaFacesView View, bool CanEdit, bool Oob, IReadOnlyList<string> Names);

public sealed record MediaCropsPanel(string Id, int? Width, int? Height, IReadOnlyList<CropEntry> Crops, bool CanEdit)
{
    public static MediaCropsPanel From(MediaSidecar sidecar, bool canEdit) =>
        new(sidecar.Id, sidecar.Original.Width, sidecar.Original.Height, sidecar.Crops.OrderBy(c => c.Name, StringComparer.Ordinal).ToList(), canEdit);

    /// <summary>The rendered crop; the rectangle is in the URL so a redefined crop is not served from the browser's cache.</summary>
    public string ImageUrl(CropEntry crop, int size) =>
        $"{AnnotationEndpoints.CropImageUrl(Id, crop.Name)}?size={size}&r={crop.X}-{crop.Y}-{crop.W}-{crop.H}";
}

public sealed record MediaMasksPanel(string Id, IReadOnlyList<MaskView> Masks, bool CanEdit);

public sealed record MediaCollectionsPanel(string Id, IReadOnlyList<IndexedCollection> In, IReadOnlyList<IndexedCollection> Available, bool CanAdd);

public sealed record MediaSimilarPanel(IReadOnlyList<SimilarMedia> Items, string? Message);

/// <summary>Where the media stands in the results it was opened from: position, total, previous and next.</summary>
public sealed record MediaNav(string? Query, int? Index, long Total, string? PrevId, string? NextId)
{
    public static readonly MediaNav None = new(null, null, 0, null, null);

    private const int Window = 10;

    public static async Task<MediaNav> LoadAsync(SearchService search, string? query, int? index, string id, CancellationToken ct)
    {
        if (index is not { } i || i < 0)
        {
            return None;
        }

        var q = (query ?? string.Empty).Trim();
        SearchResult page;
        try
        {
            var offset = Math.Max(0, i - Window);
            page = await search.SearchAsync(q, (2 * Window) + 1, offset, ct).ConfigureAwait(false);
        }
        catch (TroveUsageException)
        {
            return None;
        }

        // The results may have moved since the gallery was rendered: find the media near where it was.
        var at = -1;
        for (var k = 0; k < page.Ids.Count; k++)
        {
            if (page.Ids[k] == id && (at < 0 || Math.Abs(page.Offset + k - i) < Math.Abs(page.Offset + at - i)))
            {
                at = k;
            }
        }

        if (at < 0)
        {
            return new MediaNav(q, null, page.Total, null, null);
        }

        return new MediaNav(
            q,
            page.Offset + at,
            page.Total,
            at > 0 ? page.Ids[at - 1] : null,
            at + 1 < page.Ids.Count ? page.Ids[at + 1] : null);
    }

    public bool HasQuery => Query is not null;

    /// <summary>The gallery page this media is on, scrolled to its tile.</summary>
    public string BackUrl => Index is { } i
        ? GalleryQuery.PageUrl(Query ?? string.Empty, i / IndexModel.PageSize * IndexModel.PageSize) + "#t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : GalleryQuery.Url(Query ?? string.Empty);

    public string? PrevUrl => PrevId is null || Index is null ? null : Link(PrevId, Index.Value - 1);

    public string? NextUrl => NextId is null || Index is null ? null : Link(NextId, Index.Value + 1);

    private string Link(string id, int index) =>
        string.IsNullOrEmpty(Query) ? $"/media/{id}?i={index}" : $"/media/{id}?q={Uri.EscapeDataString(Query)}&i={index}";
}

/// <summary>What the Run form sent, shown again with the panel (a refusal keeps the person's values).</summary>
public sealed record RestoreFormValues(string? Model, int? TileSize, int? TileOverlap, string? Prompt, bool Keep);

/// <summary>
/// The image page's "Restore / upscale" panel: offered to members on an image in the library; the active upscalers and
/// restorers (none: how to register one), the form, and the run it started (<see cref="Run"/>) or why it was refused.
/// </summary>
public sealed record MediaRestorePanel(string Id, bool Offered, IReadOnlyList<RestoreModelOption> Models, ProcessingRun? Run, TimeSpan Retention)
{
    public static readonly MediaRestorePanel None = new(string.Empty, false, [], null, TimeSpan.Zero);

    public RestoreFormValues? Values { get; init; }

    public string? Error { get; init; }

    public string? Hint { get; init; }

    /// <summary>The model the form shows: the one just submitted, else the first usable one.</summary>
    public RestoreModelOption? Current =>
        Models.FirstOrDefault(m => m.Problem is null && Values?.Model is { } chosen && (m.Reference == chosen || m.Id == chosen))
        ?? Models.FirstOrDefault(m => m.Problem is null);

    public bool Active => Run is { } r && !JobStatus.IsFinished(r.Status);

    /// <summary>Percent done when the run knows its tiles (null: not started or unknown).</summary>
    public int? Percent => Run is { Total: > 0 and var total } r ? (int)Math.Clamp(r.Done * 100 / total, 0, 100) : Run?.Status == JobStatus.Succeeded ? 100 : null;

    /// <summary>The run in one line, as restore.js words it too.</summary>
    public string? StatusText => Run switch
    {
        null => null,
        { Status: JobStatus.Queued, Error: { } error } => $"The last attempt failed; it will be tried again. {error}",
        { Status: JobStatus.Queued } => "Queued: waiting for a worker…",
        { Status: JobStatus.Running, Total: > 0 } r => $"{r.Phase ?? "Running"}: {r.Done} / {r.Total} tiles",
        { Status: JobStatus.Running } r => (r.Phase ?? "Running") + "…",
        { Status: JobStatus.Succeeded, Existing: true } => "Done: this run had been made before; here is its result.",
        { Status: JobStatus.Succeeded } => "Done.",
        { Status: JobStatus.Cancelled } => "Cancelled.",
        _ => "Failed.",
    };
}

/// <summary>The lineage panel: what this media was derived from, and what was derived from it.</summary>
public sealed record MediaLineagePanel(LineageView View, DateTimeOffset Now, bool CanSeeTrash)
{
    /// <summary>Whether a member's thumbnail can be shown (media in the trash only to moderators; purged ones never).</summary>
    public bool Visible(LineageMember member) =>
        member?.State == LineageStates.Library || (member?.State == LineageStates.Trash && CanSeeTrash);
}

/// <summary>
/// What deleting an original asks: its derived media still in the library (and theirs, in turn, which go with them), and
/// whether the account may move every one of them to the trash (members only their own uploads).
/// </summary>
public sealed record DeleteQuestion(IReadOnlyList<LineageMember> Live, int Others)
{
    public static readonly DeleteQuestion None = new([], 0);

    public bool Asks => Live.Count > 0;

    public bool CanTrashAll => Others == 0;

    public static DeleteQuestion Of(TroveLibrary library, Principal principal, MediaSidecar media)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(media);
        var live = LineageView.Of(library, media).LiveDerivatives;
        if (live.Count == 0)
        {
            return None;
        }

        // What "also move them" moves: the derived media in the library, their own derived media, and so on.
        var seen = new HashSet<string>(StringComparer.Ordinal) { media.Id };
        var queue = new Queue<string>(live.Select(d => d.Id));
        var others = 0;
        while (queue.TryDequeue(out var id))
        {
            if (!seen.Add(id) || library.Files.TryReadSidecar(id) is not { InTrash: false } stored)
            {
                continue;
            }

            if (!Permissions.CanEditMedia(principal, stored.Sidecar))
            {
                others++;
            }

            foreach (var next in LineageView.Of(library, stored.Sidecar).LiveDerivatives)
            {
                queue.Enqueue(next.Id);
            }
        }

        return new DeleteQuestion(live, others);
    }
}
