namespace Trove.Application.Accounts;

/// <summary>An account. <see cref="Stamp"/> changes when the password, role or status changes, ending existing sessions.</summary>
public sealed record UserAccount(long Id, string Name, Role Role, string? PasswordHash, DateTimeOffset CreatedAt, bool Disabled, string Stamp);

/// <summary>A named API token. Only its SHA-256 is stored; <see cref="Prefix"/> (the first characters) identifies it in listings.</summary>
public sealed record ApiToken(long Id, long UserId, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>Accounts and API tokens, kept in the state database (not rebuildable from the library files — back it up).</summary>
public interface IAccountStore
{
    Task<long> CountUsersAsync(CancellationToken ct);

    Task<IReadOnlyList<UserAccount>> ListUsersAsync(CancellationToken ct);

    Task<UserAccount?> FindUserAsync(string name, CancellationToken ct);

    Task<UserAccount?> GetUserAsync(long id, CancellationToken ct);

    /// <summary>Inserts a user; returns null when the name is taken (names are case-insensitive).</summary>
    Task<UserAccount?> InsertUserAsync(string name, Role role, string? passwordHash, DateTimeOffset createdAt, string stamp, CancellationToken ct);

    Task UpdateUserAsync(UserAccount user, CancellationToken ct);

    /// <summary>Deletes a user and their tokens.</summary>
    Task DeleteUserAsync(long id, CancellationToken ct);

    Task<ApiToken> InsertTokenAsync(long userId, string name, string prefix, string hash, DateTimeOffset createdAt, CancellationToken ct);

    Task<IReadOnlyList<ApiToken>> ListTokensAsync(long? userId, CancellationToken ct);

    /// <summary>The live (not revoked) token with this hash and its owner, or null.</summary>
    Task<(ApiToken Token, UserAccount User)?> FindTokenAsync(string hash, CancellationToken ct);

    Task TouchTokenAsync(long tokenId, DateTimeOffset at, CancellationToken ct);

    Task<bool> RevokeTokenAsync(long tokenId, DateTimeOffset at, CancellationToken ct);
}
