using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Trove.Application.Faces;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Pages.People;

/// <summary>
/// The face review queue (moderators): faces suggested for people, named people first and closest first, one card
/// each with the face and its picture. Keyboard (people.js): y yes (confirm), n no (rejected for that person and never
/// suggested for them again), j/→ skip, k/← back. After a decision htmx re-renders <c>#face-cards</c>.
/// </summary>
[Authorize(Policy = Policies.Moderator)]
public sealed class ReviewModel(PeopleService people) : ManagePageModel
{
    public const int PageSize = 24;

    /// <summary>How many waiting faces the People page counts at most.</summary>
    public const int CountLimit = 1000;

    /// <summary>Only this person's suggestions.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Person { get; set; }

    public IReadOnlyList<PersonFace> Faces { get; private set; } = [];

    public int Total { get; private set; }

    public IReadOnlyDictionary<string, Trove.Domain.Faces.Person> ById { get; private set; } = new Dictionary<string, Trove.Domain.Faces.Person>();

    public string HandlerUrl(string handler) => "/people/review?handler=" + handler + (string.IsNullOrEmpty(Person) ? string.Empty : "&person=" + Uri.EscapeDataString(Person));

    public Task<IActionResult> OnGetAsync() => PageAsync();

    public async Task<IActionResult> OnPostDecideAsync(string? face, string? decision)
    {
        await ChangeAsync(true, "review faces", async ct =>
        {
            if (string.IsNullOrEmpty(face))
            {
                throw new TroveUsageException("no-faces", "This card names no face.");
            }

            var hash = face.LastIndexOf('#');
            var (media, faces, _) = await people.FacesOfAsync(hash > 0 ? face[..hash] : face, ct).ConfigureAwait(false);
            var entry = faces.FirstOrDefault(f => hash > 0 && f.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == face[(hash + 1)..] && f.Status == Trove.Domain.Faces.FaceStatus.Suggested && f.Person is not null)
                ?? throw new TroveException("face-not-found", $"Face {face} no longer waits for review.", "Someone may have decided it already; the list is up to date now.");
            var person = people.Resolve(entry.Person!);
            if (decision == "yes")
            {
                await people.ConfirmAsync([$"{media}#{entry.Id}"], null, ct).ConfigureAwait(false);
                return $"Confirmed as {person.Display}.";
            }

            if (decision == "no")
            {
                await people.RejectAsync(person.Id, [$"{media}#{entry.Id}"], ct).ConfigureAwait(false);
                return $"Not {person.Display}; it will not be suggested for them again.";
            }

            throw new TroveUsageException("bad-decision", $"'{decision}' is not a decision (yes or no).");
        }).ConfigureAwait(false);
        return await RespondAsync("_FaceCards").ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        var all = await people.SuggestionsAsync(Person, CountLimit, ct).ConfigureAwait(false);
        Total = all.Count;
        Faces = [.. all.Take(PageSize)];
        ById = (await people.ListAsync(includeHidden: true, ct).ConfigureAwait(false)).ToDictionary(s => s.Person.Id, s => s.Person, StringComparer.Ordinal);
    }
}
