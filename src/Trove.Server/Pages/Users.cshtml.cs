using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Trove.Application.Accounts;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

/// <summary>Accounts (admins): role, disabled, password reset, API tokens; creating an account shows its first token once.</summary>
[Authorize(Policy = Policies.Admin)]
public sealed class UsersModel(AccountService accounts, AccountCache cache) : ManagePageModel
{
    public const string UsersFragment = "_ManageUsers";

    public IReadOnlyList<UserAccount> Users { get; private set; } = [];

    public IReadOnlyDictionary<long, List<ApiToken>> Tokens { get; private set; } = new Dictionary<long, List<ApiToken>>();

    [BindProperty]
    public string? NewName { get; set; }

    [BindProperty]
    public string NewRole { get; set; } = "member";

    /// <summary>The secret of a token just issued: shown in this response only, never stored.</summary>
    public IssuedToken? Issued { get; private set; }

    public string? IssuedTo { get; private set; }

    public bool CanManage => Permissions.CanManageUsers(Me);

    public Task<IActionResult> OnGetAsync() => PageAsync();

    public async Task<IActionResult> OnPostCreateAsync(string? newPassword)
    {
        var ok = await ChangeAsync(CanManage, "manage users", async ct =>
        {
            var role = Roles.Parse(NewRole);
            var user = await accounts.CreateAsync(NewName ?? string.Empty, role, string.IsNullOrEmpty(newPassword) ? null : newPassword, ct).ConfigureAwait(false);
            Issued = await accounts.IssueTokenAsync(user.Id, "first", ct).ConfigureAwait(false);
            IssuedTo = user.Name;
            return $"Created {Roles.Name(role)} '{user.Name}'{(newPassword is { Length: > 0 } ? string.Empty : " without a password (API tokens only until one is set)")}.";
        }).ConfigureAwait(false);
        if (ok)
        {
            NewName = null;
            NewRole = "member";
        }

        return await DoneAsync().ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostRoleAsync(string name, string role)
    {
        await ChangeAsync(CanManage, "manage users", async ct =>
        {
            var updated = await accounts.SetRoleAsync(name ?? string.Empty, Roles.Parse(role ?? string.Empty), ct).ConfigureAwait(false);
            await RefreshSessionAsync(updated).ConfigureAwait(false);
            return $"'{updated.Name}' is now {Roles.Name(updated.Role)} (their sessions end; tokens keep working).";
        }).ConfigureAwait(false);
        return await DoneAsync().ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostDisabledAsync(string name, bool disabled)
    {
        await ChangeAsync(CanManage, "manage users", async ct =>
        {
            var updated = await accounts.SetDisabledByAsync(Me, name ?? string.Empty, disabled, ct).ConfigureAwait(false);
            return updated.Disabled ? $"Disabled '{updated.Name}': their sessions and tokens stop working." : $"Enabled '{updated.Name}'.";
        }).ConfigureAwait(false);
        return await DoneAsync().ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostPasswordAsync(string name, string? password)
    {
        await ChangeAsync(CanManage, "manage users", async ct =>
        {
            var updated = await accounts.SetPasswordAsync(name ?? string.Empty, password ?? string.Empty, ct).ConfigureAwait(false);
            await RefreshSessionAsync(updated).ConfigureAwait(false);
            return $"Set a new password for '{updated.Name}' (their other sessions end).";
        }).ConfigureAwait(false);
        return await DoneAsync().ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostTokenAsync(string name, string? tokenName)
    {
        await ChangeAsync(CanManage, "manage users", async ct =>
        {
            var user = await accounts.GetAsync(name ?? string.Empty, ct).ConfigureAwait(false);
            Issued = await accounts.IssueTokenAsync(user.Id, tokenName ?? "token", ct).ConfigureAwait(false);
            IssuedTo = user.Name;
            return $"Issued token '{Issued.Token.Name}' for '{user.Name}'.";
        }).ConfigureAwait(false);
        return await DoneAsync().ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostRevokeAsync(long tokenId)
    {
        await ChangeAsync(CanManage, "manage users", async ct =>
        {
            await accounts.RevokeTokenAsync(tokenId, null, ct).ConfigureAwait(false);
            return $"Revoked token #{tokenId}.";
        }).ConfigureAwait(false);
        return await DoneAsync().ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        Users = (await accounts.ListAsync(ct).ConfigureAwait(false)).OrderBy(u => u.Name, StringComparer.OrdinalIgnoreCase).ToList();
        Tokens = (await accounts.ListTokensAsync(null, ct).ConfigureAwait(false))
            .Where(t => t.RevokedAt is null)
            .GroupBy(t => t.UserId)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.CreatedAt).ToList());
    }

    private Task<IActionResult> DoneAsync()
    {
        // Sessions and tokens are looked up through a short-lived cache; changes made here take effect at once.
        cache.Clear();
        return RespondAsync(UsersFragment);
    }
}
