using Trove.Domain;

namespace Trove.Application.Accounts;

/// <summary>Account changes people make about themselves (the web UI's account and users pages), with the rules that protect them.</summary>
public static class AccountSelfService
{
    /// <summary>Changes the signed-in account's own password; the current one must be given and right.</summary>
    public static async Task<UserAccount> ChangeOwnPasswordAsync(this AccountService accounts, Principal me, string current, string password, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(me);
        if (me.UserId <= 0)
        {
            throw new TroveException("unauthenticated", "Sign in first: only a signed-in account has a password to change.");
        }

        if (await accounts.SignInAsync(me.Name, current, ct).ConfigureAwait(false) is null)
        {
            throw new TroveException("wrong-password", "The current password is wrong.", "Type the password you signed in with; an admin can reset it on the Users page.");
        }

        return await accounts.SetPasswordAsync(me.Name, password, ct).ConfigureAwait(false);
    }

    /// <summary>Disables or enables an account on behalf of <paramref name="actor"/>, who may not disable themselves.</summary>
    public static Task<UserAccount> SetDisabledByAsync(this AccountService accounts, Principal actor, string name, bool disabled, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(name);
        if (disabled && string.Equals(name.Trim(), actor.Name, StringComparison.OrdinalIgnoreCase))
        {
            throw new TroveException("conflict", "You cannot disable your own account.", "Ask another admin.");
        }

        return accounts.SetDisabledAsync(name, disabled, ct);
    }
}
