using Microsoft.AspNetCore.Mvc;
using Trove.Application.Accounts;
using Trove.Server.Auth;

namespace Trove.Server.Pages;

/// <summary>The signed-in account: change the password (needs the current one) and manage one's own API tokens.</summary>
public sealed class AccountModel(AccountService accounts, AccountCache cache) : ManagePageModel
{
    public const string PasswordFragment = "_ManageAccountPassword";
    public const string TokensFragment = "_ManageAccountTokens";

    public UserAccount? Account { get; private set; }

    public IReadOnlyList<ApiToken> Tokens { get; private set; } = [];

    /// <summary>The secret of a token just created: shown in this response only.</summary>
    public IssuedToken? Issued { get; private set; }

    public Task<IActionResult> OnGetAsync() => SignedIn ? PageAsync() : Task.FromResult<IActionResult>(Challenge());

    public async Task<IActionResult> OnPostPasswordAsync(string? current, string? password, string? repeat)
    {
        if (!SignedIn)
        {
            return Challenge();
        }

        if (!string.Equals(password, repeat, StringComparison.Ordinal))
        {
            Fail("The new password and its repetition differ.");
        }
        else
        {
            await ChangeAsync(true, "change your password", async ct =>
            {
                var updated = await accounts.ChangeOwnPasswordAsync(Me, current ?? string.Empty, password ?? string.Empty, ct).ConfigureAwait(false);
                cache.Clear();
                await RefreshSessionAsync(updated).ConfigureAwait(false);
                return "Password changed. Your other sessions are signed out; API tokens keep working.";
            }).ConfigureAwait(false);
        }

        return await RespondAsync(PasswordFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostCreateTokenAsync(string? tokenName)
    {
        if (!SignedIn)
        {
            return Challenge();
        }

        await ChangeAsync(true, "create API tokens", async ct =>
        {
            Issued = await accounts.IssueTokenAsync(Me.UserId, tokenName ?? "token", ct).ConfigureAwait(false);
            return $"Created token '{Issued.Token.Name}'.";
        }).ConfigureAwait(false);
        return await RespondAsync(TokensFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostRevokeAsync(long tokenId)
    {
        if (!SignedIn)
        {
            return Challenge();
        }

        await ChangeAsync(true, "revoke API tokens", async ct =>
        {
            await accounts.RevokeTokenAsync(tokenId, Me.UserId, ct).ConfigureAwait(false);
            cache.Clear();
            return $"Revoked token #{tokenId}; scripts using it are refused from now on.";
        }).ConfigureAwait(false);
        return await RespondAsync(TokensFragment).ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        Account = await accounts.GetAsync(Me.UserId, ct).ConfigureAwait(false);
        Tokens = (await accounts.ListTokensAsync(Me.UserId, ct).ConfigureAwait(false))
            .Where(t => t.RevokedAt is null)
            .OrderByDescending(t => t.CreatedAt)
            .ToList();
    }
}
