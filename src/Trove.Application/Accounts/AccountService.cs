using System.Security.Cryptography;
using System.Text;
using Trove.Domain;

namespace Trove.Application.Accounts;

public sealed class AccountSettings
{
    /// <summary>PBKDF2 iterations for new password hashes (OWASP 2023: 600,000 for PBKDF2-HMAC-SHA256).</summary>
    public int PasswordIterations { get; set; } = 600_000;

    public int MinPasswordLength { get; set; } = 10;
}

/// <summary>A token as handed out: <see cref="Secret"/> is shown once and never stored.</summary>
public sealed record IssuedToken(ApiToken Token, string Secret);

/// <summary>The first account, made on first run: its generated password is shown once.</summary>
public sealed record FirstAdmin(UserAccount User, string Password);

/// <summary>Users, passwords and API tokens. Hosts authenticate through it; the rules for who may do what are in <see cref="Permissions"/>.</summary>
public sealed class AccountService(TroveLibrary library)
{
    public const string TokenPrefix = "trove_";
    public const int MaxNameLength = 64;

    private IAccountStore Store => library.State.Accounts;

    private AccountSettings Settings => library.Options.Accounts;

    /// <summary>If there is no account yet, creates "admin" with a generated password (never a fixed default) and returns it.</summary>
    public async Task<FirstAdmin?> EnsureFirstAdminAsync(CancellationToken ct)
    {
        if (await Store.CountUsersAsync(ct).ConfigureAwait(false) > 0)
        {
            return null;
        }

        var password = PasswordHasher.Generate();
        var user = await Store.InsertUserAsync("admin", Role.Admin, PasswordHasher.Hash(password, Settings.PasswordIterations), library.Now, NewStamp(), ct).ConfigureAwait(false);
        return user is null ? null : new FirstAdmin(user, password);
    }

    public Task<IReadOnlyList<UserAccount>> ListAsync(CancellationToken ct) => Store.ListUsersAsync(ct);

    public async Task<UserAccount> GetAsync(string name, CancellationToken ct) =>
        await Store.FindUserAsync(name, ct).ConfigureAwait(false)
        ?? throw new TroveException("user-not-found", $"There is no user '{name}'.", "List users with 'trove users list'.");

    public async Task<UserAccount> GetAsync(long id, CancellationToken ct) =>
        await Store.GetUserAsync(id, ct).ConfigureAwait(false)
        ?? throw new TroveException("user-not-found", $"There is no user #{id}.", "List users with 'trove users list'.");

    /// <summary>Creates a user. Without a password the account can only use API tokens until one is set.</summary>
    public async Task<UserAccount> CreateAsync(string rawName, Role role, string? password, CancellationToken ct)
    {
        var name = NormalizeName(rawName);
        string? hash = null;
        if (password is not null)
        {
            CheckPassword(password);
            hash = PasswordHasher.Hash(password, Settings.PasswordIterations);
        }

        var user = await Store.InsertUserAsync(name, role, hash, library.Now, NewStamp(), ct).ConfigureAwait(false)
            ?? throw new TroveException("user-exists", $"A user named '{name}' already exists.", "Pick another name, or change that user's role.");
        await AuditAsync("user-create", name, Roles.Name(role), ct).ConfigureAwait(false);
        return user;
    }

    public async Task<UserAccount> SetRoleAsync(string name, Role role, CancellationToken ct)
    {
        var user = await GetAsync(name, ct).ConfigureAwait(false);
        if (user.Role == Role.Admin && role != Role.Admin)
        {
            await EnsureAnotherAdminAsync(user, ct).ConfigureAwait(false);
        }

        var updated = user with { Role = role, Stamp = NewStamp() };
        await Store.UpdateUserAsync(updated, ct).ConfigureAwait(false);
        await AuditAsync("user-role", user.Name, Roles.Name(role), ct).ConfigureAwait(false);
        return updated;
    }

    public async Task<UserAccount> SetPasswordAsync(string name, string password, CancellationToken ct)
    {
        CheckPassword(password);
        var user = await GetAsync(name, ct).ConfigureAwait(false);
        var updated = user with { PasswordHash = PasswordHasher.Hash(password, Settings.PasswordIterations), Stamp = NewStamp() };
        await Store.UpdateUserAsync(updated, ct).ConfigureAwait(false);
        await AuditAsync("user-password", user.Name, null, ct).ConfigureAwait(false);
        return updated;
    }

    public async Task<UserAccount> SetDisabledAsync(string name, bool disabled, CancellationToken ct)
    {
        var user = await GetAsync(name, ct).ConfigureAwait(false);
        if (disabled && user.Role == Role.Admin)
        {
            await EnsureAnotherAdminAsync(user, ct).ConfigureAwait(false);
        }

        var updated = user with { Disabled = disabled, Stamp = NewStamp() };
        await Store.UpdateUserAsync(updated, ct).ConfigureAwait(false);
        await AuditAsync(disabled ? "user-disable" : "user-enable", user.Name, null, ct).ConfigureAwait(false);
        return updated;
    }

    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        var user = await GetAsync(name, ct).ConfigureAwait(false);
        if (user.Role == Role.Admin)
        {
            await EnsureAnotherAdminAsync(user, ct).ConfigureAwait(false);
        }

        await Store.DeleteUserAsync(user.Id, ct).ConfigureAwait(false);
        await AuditAsync("user-delete", user.Name, null, ct).ConfigureAwait(false);
    }

    /// <summary>Checks a name and password. Returns null for an unknown user, a wrong password or a disabled account (same time taken).</summary>
    public async Task<UserAccount?> SignInAsync(string name, string password, CancellationToken ct)
    {
        var user = string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength ? null : await Store.FindUserAsync(name.Trim(), ct).ConfigureAwait(false);
        var ok = PasswordHasher.Verify(password, user?.PasswordHash ?? DummyHashes.GetOrAdd(Settings.PasswordIterations, i => PasswordHasher.Hash("not-a-password", i)));
        return ok && user is { Disabled: false } ? user : null;
    }

    /// <summary>Issues a named token for a user; the secret is returned once and only its hash is kept.</summary>
    public async Task<IssuedToken> IssueTokenAsync(long userId, string rawName, CancellationToken ct)
    {
        var user = await GetAsync(userId, ct).ConfigureAwait(false);
        var name = string.IsNullOrWhiteSpace(rawName) ? "token" : rawName.Trim();
        if (name.Length > MaxNameLength)
        {
            throw new TroveUsageException("bad-token-name", $"Token names are at most {MaxNameLength} characters.");
        }

        var secret = TokenPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var token = await Store.InsertTokenAsync(user.Id, name, secret[..(TokenPrefix.Length + 6)], HashToken(secret), library.Now, ct).ConfigureAwait(false);
        await AuditAsync("token-issue", user.Name, name, ct).ConfigureAwait(false);
        return new IssuedToken(token, secret);
    }

    public Task<IReadOnlyList<ApiToken>> ListTokensAsync(long? userId, CancellationToken ct) => Store.ListTokensAsync(userId, ct);

    /// <summary>Revokes a token. <paramref name="ownerId"/> restricts it to that user's tokens (null: any, for admins).</summary>
    public async Task RevokeTokenAsync(long tokenId, long? ownerId, CancellationToken ct)
    {
        var tokens = await Store.ListTokensAsync(ownerId, ct).ConfigureAwait(false);
        var token = tokens.FirstOrDefault(t => t.Id == tokenId && t.RevokedAt is null)
            ?? throw new TroveException("token-not-found", $"There is no live token #{tokenId}{(ownerId is null ? string.Empty : " of yours")}.", "List tokens under Users → Tokens or with 'trove users tokens NAME'.");
        await Store.RevokeTokenAsync(token.Id, library.Now, ct).ConfigureAwait(false);
        await AuditAsync("token-revoke", token.Prefix, token.Name, ct).ConfigureAwait(false);
    }

    /// <summary>The account behind a bearer token, or null when it is unknown, revoked or its user disabled.</summary>
    public async Task<UserAccount?> AuthenticateTokenAsync(string secret, CancellationToken ct)
    {
        if (!secret.StartsWith(TokenPrefix, StringComparison.Ordinal) || secret.Length > 200)
        {
            return null;
        }

        var found = await Store.FindTokenAsync(HashToken(secret), ct).ConfigureAwait(false);
        if (found is not { } hit || hit.User.Disabled)
        {
            return null;
        }

        if (hit.Token.LastUsedAt is not { } last || library.Now - last > TimeSpan.FromMinutes(1))
        {
            await Store.TouchTokenAsync(hit.Token.Id, library.Now, ct).ConfigureAwait(false);
        }

        return hit.User;
    }

    public static string HashToken(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static string NormalizeName(string raw)
    {
        var name = raw.Trim();
        if (name.Length is 0 or > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            throw new TroveUsageException("bad-user-name", $"'{raw}' is not a valid user name.", $"Use 1–{MaxNameLength} letters, digits, '_', '-' or '.'.");
        }

        return name;
    }

    private void CheckPassword(string password)
    {
        if (password.Length < Settings.MinPasswordLength)
        {
            throw new TroveUsageException("weak-password", $"Passwords need at least {Settings.MinPasswordLength} characters.", "A few unrelated words make a good one.");
        }
    }

    private async Task EnsureAnotherAdminAsync(UserAccount user, CancellationToken ct)
    {
        var users = await Store.ListUsersAsync(ct).ConfigureAwait(false);
        if (!users.Any(u => u.Id != user.Id && u.Role == Role.Admin && !u.Disabled))
        {
            throw new TroveException("last-admin", $"'{user.Name}' is the only admin.", "Make someone else an admin first, so the library is not left without one.");
        }
    }

    private Task AuditAsync(string action, string target, string? detail, CancellationToken ct) =>
        library.State.AppendAuditAsync([new Ports.AuditEntry(library.Now, library.Actor, action, target, detail)], ct);

    private static string NewStamp() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // Verifying against a fixed hash when the user is unknown keeps sign-in timing independent of whether the name exists.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> DummyHashes = new();
}
