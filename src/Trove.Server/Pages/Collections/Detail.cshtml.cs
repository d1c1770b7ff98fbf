using Microsoft.AspNetCore.Mvc;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Server.Pages.Collections;

/// <summary>
/// One collection: its members in order (a page at a time), and for moderators rename/describe, move earlier/later,
/// remove, and delete (after a confirm step).
/// </summary>
public sealed class DetailModel(CollectionService collections) : ManagePageModel
{
    public const string HeaderFragment = "_ManageCollectionHeader";
    public const string MembersFragment = "_ManageCollectionMembers";
    public const int PageSize = 120;

    /// <summary>The collection's name as in the URL (or its id).</summary>
    [BindProperty(SupportsGet = true)]
    public string Name { get; set; } = string.Empty;

    /// <summary>1-based page of members.</summary>
    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IndexedCollection? Collection { get; private set; }

    /// <summary>All member ids in order (the page shows <see cref="PageMembers"/>).</summary>
    public IReadOnlyList<string> Members { get; private set; } = [];

    public IReadOnlyList<string> PageMembers => Members.Skip(Offset).Take(PageSize).ToList();

    public int Offset => (Math.Clamp(PageNumber, 1, PageCount) - 1) * PageSize;

    public int PageCount => Math.Max(1, (Members.Count + PageSize - 1) / PageSize);

    public bool CanManage => Permissions.CanManageCollections(Me);

    public string Link => CollectionLinks.Of(Collection?.Name ?? Name);

    public Task<IActionResult> OnGetAsync() => PageAsync();

    public async Task<IActionResult> OnPostDescribeAsync(string? newName, string? description, string? tags)
    {
        var renamed = false;
        await ChangeAsync(CanManage, "rename or describe collections", async ct =>
        {
            var current = await collections.ShowAsync(Name, ct).ConfigureAwait(false);
            var tagList = (tags ?? string.Empty).Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            await collections.DescribeAsync(current.Collection.Id, description ?? string.Empty, tagList, ct).ConfigureAwait(false);
            var target = string.IsNullOrWhiteSpace(newName) ? current.Collection.Name : newName.Trim();
            if (!string.Equals(target, current.Collection.Name, StringComparison.Ordinal))
            {
                var updated = await collections.RenameAsync(current.Collection.Id, target, ct).ConfigureAwait(false);
                Name = updated.Name;
                renamed = true;
                return $"Renamed to '{updated.Name}' and saved the description.";
            }

            return "Saved.";
        }).ConfigureAwait(false);

        if (renamed)
        {
            if (!IsHtmx)
            {
                return Redirect(CollectionLinks.Of(Name));
            }

            Response.Headers["HX-Replace-Url"] = CollectionLinks.Of(Name);
        }

        return await RespondAsync(HeaderFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostMoveAsync(string id, int position)
    {
        await ChangeAsync(CanManage, "reorder collections", async ct =>
        {
            await collections.MoveAsync(Name, id ?? string.Empty, position, ct).ConfigureAwait(false);
            return $"Moved {Short(id ?? string.Empty)} to position {position}.";
        }).ConfigureAwait(false);
        if (Error is null)
        {
            // Follow the item to the page it moved to.
            PageNumber = ((position - 1) / PageSize) + 1;
        }

        return await RespondAsync(MembersFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostRemoveAsync(string id)
    {
        await ChangeAsync(CanManage, "remove media from collections", async ct =>
        {
            await collections.RemoveAsync(Name, [id ?? string.Empty], ct).ConfigureAwait(false);
            return $"Removed {Short(id ?? string.Empty)} from the collection (it stays in the library).";
        }).ConfigureAwait(false);
        return await RespondAsync(MembersFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostDeleteAsync(string? confirm)
    {
        string? deleted = null;
        await ChangeAsync(CanManage, "delete collections", async ct =>
        {
            if (confirm != "yes")
            {
                throw new TroveUsageException("confirm-needed", "Confirm the deletion first.");
            }

            var view = await collections.ShowAsync(Name, ct).ConfigureAwait(false);
            var members = await collections.DeleteAsync(view.Collection.Id, ct).ConfigureAwait(false);
            deleted = view.Collection.Name;
            return $"Deleted '{deleted}' ({members} media kept in the library).";
        }).ConfigureAwait(false);

        if (deleted is not null)
        {
            var target = "/collections?deleted=" + Uri.EscapeDataString(deleted);
            if (IsHtmx)
            {
                Response.Headers["HX-Redirect"] = target;
                return Removed();
            }

            return Redirect(target);
        }

        return await RespondAsync(HeaderFragment).ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        var view = await collections.ShowAsync(Name, ct).ConfigureAwait(false);
        Collection = view.Collection;
        Members = view.Members;
        ViewData["Title"] = view.Collection.Name;
    }
}
