using Microsoft.AspNetCore.Mvc;
using Trove.Application;
using Trove.Application.Restoration;
using Trove.Domain;

namespace Trove.Server.Pages;

/// <summary>
/// The comparison of a derived media (an upscaler's or restorer's result) with its original, at
/// <c>/media/{id}/compare</c> where id is the result: a before/after slider over both images stacked at the same size,
/// or both side by side (scrolled in step), at the same zoom (fit, 100 %, 200 % of the result's pixels); compare.js does
/// the interaction. Keep and Discard (<see cref="ProcessingService"/>) decide the result's fate; unkept results say when
/// they expire.
/// </summary>
public sealed class CompareModel(TroveLibrary library) : ManagePageModel
{
    public const string StateFragment = "_CompareState";

    /// <summary>The result's id (or a prefix), from the route.</summary>
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = string.Empty;

    /// <summary>The result; null when the id is unknown (the error says so).</summary>
    public MediaSidecar? Result { get; private set; }

    public bool ResultInTrash { get; private set; }

    public LineageView? Lineage { get; private set; }

    public DerivationInfo? Derivation => Result?.DerivedFrom;

    /// <summary>The original as it is now (null when it was purged or the media is not derived).</summary>
    public MediaSidecar? Original { get; private set; }

    public string? OriginalState => Lineage?.Original?.State;

    public DateTimeOffset Now { get; private set; }

    public bool CanDecide { get; private set; }

    /// <summary>Media in the trash are shown to moderators only (as everywhere else).</summary>
    public bool CanSeeTrash => MediaService.CanSeeTrash(Me);

    public bool ShowsResult => Result is not null && (!ResultInTrash || CanSeeTrash);

    public bool ShowsOriginal => Original is not null && (OriginalState == LineageStates.Library || CanSeeTrash);

    /// <summary>What became of the result: kept, expires in …, in the trash.</summary>
    public string StateText => Result is null ? string.Empty
        : ResultInTrash ? "in the trash"
        : Derivation is { Kept: true } ? "kept"
        : Derivation?.ExpiresAt is { } at ? RestoreText.Expires(at, Now)
        : "not kept";

    public string StateKey => Result is null ? string.Empty
        : ResultInTrash ? ResultStates.Trash
        : Derivation is { Kept: true } ? ResultStates.Kept
        : ResultStates.Unkept;

    public Task<IActionResult> OnGetAsync() => PageAsync();

    public Task<IActionResult> OnPostKeepAsync() => DecideAsync(keep: true);

    public Task<IActionResult> OnPostDiscardAsync() => DecideAsync(keep: false);

    private async Task<IActionResult> DecideAsync(bool keep)
    {
        if (!SignedIn)
        {
            return Challenge();
        }

        var stored = await ReadAsync(Aborted).ConfigureAwait(false);
        await ChangeAsync(stored is not null && RestoreText.CanDecide(Me, stored.Sidecar), keep ? "keep this result" : "discard this result", async ct =>
        {
            if (keep)
            {
                await new ProcessingService(library).KeepAsync(stored!.Sidecar.Id, ct).ConfigureAwait(false);
                return "Kept: the result stays in the library like any other image.";
            }

            var moved = await new ProcessingService(library).DiscardAsync(stored!.Sidecar.Id, ct).ConfigureAwait(false);
            return moved ? "Discarded: the result is in the trash (it can be restored from there)." : "The result was already in the trash.";
        }).ConfigureAwait(false);
        return await RespondAsync(StateFragment).ConfigureAwait(false);
    }

    private async Task<Trove.Library.StoredSidecar?> ReadAsync(CancellationToken ct)
    {
        try
        {
            var id = await library.ResolveIdAsync(Id, ct).ConfigureAwait(false);
            return library.Files.TryReadSidecar(id);
        }
        catch (TroveException)
        {
            return null;
        }
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        Now = library.Time.GetUtcNow();
        var id = await library.ResolveIdAsync(Id, ct).ConfigureAwait(false);
        var stored = library.Files.ReadSidecar(id);
        if (stored.InTrash && !CanSeeTrash && stored.Sidecar.DerivedFrom is null)
        {
            throw new TroveException("media-not-found", $"No media with id '{Id}' in this library.", "It may have been deleted; moderators can see and restore the trash.");
        }

        Result = stored.Sidecar;
        ResultInTrash = stored.InTrash;
        Lineage = LineageView.Of(library, stored.Sidecar);
        CanDecide = RestoreText.CanDecide(Me, stored.Sidecar);
        if (stored.Sidecar.DerivedFrom is { } from && library.Files.TryReadSidecar(from.Id) is { } original)
        {
            Original = original.Sidecar;
        }
    }
}
