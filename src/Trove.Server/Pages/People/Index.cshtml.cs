using Microsoft.AspNetCore.Mvc;
using Trove.Application.Accounts;
using Trove.Application.Faces;

namespace Trove.Server.Pages.People;

/// <summary>
/// The People page: everyone the faces were grouped into, named people first, each with their cover face and counts;
/// unnamed groups can be named right on the card (moderators). Links to each person and to the face review queue.
/// </summary>
public sealed class IndexModel(PeopleService people) : ManagePageModel
{
    public const string GridFragment = "_PeopleGrid";

    /// <summary>Also show hidden people.</summary>
    [BindProperty(SupportsGet = true)]
    public bool Hidden { get; set; }

    public IReadOnlyList<PersonSummary> People { get; private set; } = [];

    /// <summary>Faces waiting for review (suggested for a visible person), at most <see cref="ReviewModel.CountLimit"/>.</summary>
    public int Waiting { get; private set; }

    public bool CanManage => SignedIn && Permissions.CanManagePeople(Me);

    public Task<IActionResult> OnGetAsync() => PageAsync();

    public async Task<IActionResult> OnPostNameAsync(string? person, string? name)
    {
        await ChangeAsync(CanManage, "name people", async ct =>
        {
            var (named, confirmed) = await people.NameAsync(person ?? string.Empty, name ?? string.Empty, ct).ConfigureAwait(false);
            return $"Named {named.Name}" + (confirmed > 0 ? $"; {confirmed} face{(confirmed == 1 ? "" : "s")} confirmed." : ".");
        }).ConfigureAwait(false);
        return await RespondAsync(GridFragment).ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        People = await people.ListAsync(Hidden, ct).ConfigureAwait(false);
        Waiting = (await people.SuggestionsAsync(null, ReviewModel.CountLimit, ct).ConfigureAwait(false)).Count;
    }

    /// <summary>The URL of a face image.</summary>
    public static string FaceUrl(FaceId face, int size) => FormattableString.Invariant($"/api/media/{face.Media}/faces/{face.Face}/image?size={size}");
}
