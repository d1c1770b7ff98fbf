using Microsoft.AspNetCore.Mvc;
using Trove.Application;
using Trove.Application.Accounts;

namespace Trove.Server.Pages.Collections;

/// <summary>A card per collection (cover, name, description, size) and, for members and up, a form to create one.</summary>
public sealed class IndexModel(CollectionService collections) : ManagePageModel
{
    public const string ListFragment = "_ManageCollections";

    public IReadOnlyList<CollectionCard> Cards { get; private set; } = [];

    /// <summary>Kept in the form when creating failed.</summary>
    [BindProperty]
    public string? NewName { get; set; }

    [BindProperty]
    public string? NewDescription { get; set; }

    /// <summary>Set by the detail page after deleting a collection (shown once at the top).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Deleted { get; set; }

    public bool CanCreate => Permissions.CanCreateCollections(Me);

    public static string Link(string name) => CollectionLinks.Of(name);

    public Task<IActionResult> OnGetAsync() => PageAsync();

    public async Task<IActionResult> OnPostCreateAsync()
    {
        if (await ChangeAsync(CanCreate, "create collections", async ct =>
            {
                var created = await collections.CreateAsync(NewName ?? string.Empty, NewDescription, ct).ConfigureAwait(false);
                return $"Created collection '{created.Name}'.";
            }).ConfigureAwait(false))
        {
            NewName = NewDescription = null;
        }

        return await RespondAsync(ListFragment).ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        var list = await collections.ListAsync(ct).ConfigureAwait(false);
        var cards = new List<CollectionCard>(list.Count);
        foreach (var c in list.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase))
        {
            string? cover = null;
            if (c.MemberCount > 0)
            {
                var view = await collections.ShowAsync(c.Id, ct).ConfigureAwait(false);
                cover = view.Members.Count > 0 ? view.Members[0] : null;
            }

            cards.Add(new CollectionCard(c.Name, c.Description, c.MemberCount, cover, c.Tags));
        }

        Cards = cards;
        if (Deleted is not null && cards.Exists(c => string.Equals(c.Name, Deleted, StringComparison.OrdinalIgnoreCase)))
        {
            Deleted = null; // only ever confirms a deletion that happened
        }
    }
}

public sealed record CollectionCard(string Name, string? Description, long MemberCount, string? Cover, IReadOnlyList<string> Tags);

/// <summary>Links to /collections/{name}: each path segment escaped, so names with spaces or '/' round-trip.</summary>
public static class CollectionLinks
{
    public static string Of(string name) =>
        "/collections/" + string.Join('/', (name ?? string.Empty).Split('/').Select(Uri.EscapeDataString));
}
