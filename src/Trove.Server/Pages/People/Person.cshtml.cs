using Microsoft.AspNetCore.Mvc;
using Trove.Application.Accounts;
using Trove.Application.Faces;
using Trove.Domain;

namespace Trove.Server.Pages.People;

/// <summary>
/// One person: their details and every face of theirs (confirmed first, then suggestions closest first). Moderators
/// rename, edit aliases and description, merge into another person, hide, choose the cover, and act on selected faces:
/// confirm, "not this person" (remembered), move to another or a new person (the un-merge), not a face.
/// </summary>
public sealed class PersonModel(PeopleService people) : ManagePageModel
{
    public const string FacesFragment = "_PersonFaces";

    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = string.Empty;

    public PersonDetail? Detail { get; private set; }

    /// <summary>Other people, for the merge and move choices.</summary>
    public IReadOnlyList<PersonSummary> Others { get; private set; } = [];

    /// <summary>Set when the person went away (merged into another): where to go.</summary>
    public string? GoneTo { get; private set; }

    public bool CanManage => SignedIn && Permissions.CanManagePeople(Me);

    public Task<IActionResult> OnGetAsync() => PageAsync();

    public async Task<IActionResult> OnPostEditAsync(string? name, string? aliases, string? description, string? notes)
    {
        await ChangeAsync(CanManage, "change people", async ct =>
        {
            var person = people.Resolve(Id);
            var confirmed = 0;
            if (!string.IsNullOrWhiteSpace(name) && !string.Equals(name.Trim(), person.Name, StringComparison.Ordinal))
            {
                (_, confirmed) = await people.NameAsync(person.Id, name, ct).ConfigureAwait(false);
            }

            var wanted = (aliases ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var current = people.Resolve(person.Id);
            await people.EditAsync(person.Id, new PersonEdit(
                [.. wanted.Where(a => !current.Aliases.Contains(a, StringComparer.OrdinalIgnoreCase))],
                [.. current.Aliases.Where(a => !wanted.Contains(a, StringComparer.OrdinalIgnoreCase))],
                description ?? string.Empty,
                notes ?? string.Empty), ct).ConfigureAwait(false);
            return "Saved." + (confirmed > 0 ? $" {confirmed} face{(confirmed == 1 ? "" : "s")} confirmed." : string.Empty);
        }).ConfigureAwait(false);
        return await RespondAsync(FacesFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostMergeAsync(string? into)
    {
        var merged = await ChangeAsync(CanManage, "merge people", async ct =>
        {
            var (kept, moved) = await people.MergeAsync(Id, into ?? string.Empty, ct).ConfigureAwait(false);
            GoneTo = kept.Id;
            return $"Merged into {kept.Display}: {moved} face{(moved == 1 ? "" : "s")} moved.";
        }).ConfigureAwait(false);
        if (merged && GoneTo is { } target)
        {
            // The person is gone: show the one they became.
            if (IsHtmx)
            {
                Response.Headers["HX-Redirect"] = "/people/" + target;
                return new OkResult();
            }

            return Redirect("/people/" + target);
        }

        return await RespondAsync(FacesFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostHideAsync(bool hidden)
    {
        await ChangeAsync(CanManage, "hide people", async ct =>
        {
            var p = await people.HideAsync(Id, hidden, ct).ConfigureAwait(false);
            return hidden ? $"{p.Display} is hidden." : $"{p.Display} is shown again.";
        }).ConfigureAwait(false);
        return await RespondAsync(FacesFragment).ConfigureAwait(false);
    }

    /// <summary>An action on the selected faces: confirm, reject (not this person), move (to a person or a new name), not-face, cover.</summary>
    public async Task<IActionResult> OnPostFacesAsync(string? action, string[]? face, string? to)
    {
        var faces = (face ?? []).ToList();
        await ChangeAsync(CanManage, "change people's faces", async ct =>
        {
            if (faces.Count == 0)
            {
                throw new TroveUsageException("no-faces", "Select at least one face first (click it, or press space on it).");
            }

            var person = people.Resolve(Id);
            switch (action)
            {
                case "confirm":
                    var n = await people.ConfirmAsync(faces, person.Id, ct).ConfigureAwait(false);
                    return $"{n} face{(n == 1 ? "" : "s")} confirmed.";
                case "reject":
                    var r = await people.RejectAsync(person.Id, faces, ct).ConfigureAwait(false);
                    return $"{r} face{(r == 1 ? "" : "s")} taken from {person.Display}; they will not be suggested for them again.";
                case "move":
                    var target = string.IsNullOrWhiteSpace(to) ? null : people.Find(to.Trim());
                    var (moved, count) = await people.SplitAsync(faces, target?.Id, target is null && !string.IsNullOrWhiteSpace(to) ? to : null, ct).ConfigureAwait(false);
                    return $"{count} face{(count == 1 ? "" : "s")} moved to {moved.Display}.";
                case "not-face":
                    var nf = await people.NotAFaceAsync(faces, undo: false, ct).ConfigureAwait(false);
                    return $"{nf} detection{(nf == 1 ? "" : "s")} marked as not a face.";
                case "cover":
                    var covered = await people.CoverAsync(person.Id, faces[0], ct).ConfigureAwait(false);
                    return $"{covered.Display} is now shown by this face.";
                default:
                    throw new TroveUsageException("bad-action", $"'{action}' is not a face action (confirm, reject, move, not-face, cover).");
            }
        }).ConfigureAwait(false);
        return await RespondAsync(FacesFragment).ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        Detail = await people.GetAsync(Id, ct).ConfigureAwait(false);
        Others = [.. (await people.ListAsync(includeHidden: true, ct).ConfigureAwait(false)).Where(s => s.Person.Id != Detail.Summary.Person.Id)];
    }
}
