using System.Diagnostics.CodeAnalysis;

namespace Trove.Domain;

/// <summary>A media's identity: the lowercase hex SHA-256 of its original file.</summary>
public static class MediaId
{
    public const int Length = 64;
    public const int MinPrefixLength = 6;

    public static bool IsValid([NotNullWhen(true)] string? value) =>
        value is { Length: Length } && IsLowerHex(value);

    /// <summary>Normalises a user-supplied id or prefix (trims, lowercases) and validates it.</summary>
    public static string NormalizePrefix(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var value = raw.Trim().ToLowerInvariant();
        if (value.Length < MinPrefixLength || value.Length > Length || !IsLowerHex(value))
        {
            throw new TroveUsageException(
                "invalid-id",
                $"'{raw}' is not a media id: expected the SHA-256 (64 hex characters) or a unique prefix of at least {MinPrefixLength}.",
                "Copy the id from 'trove search' or 'trove import --json' output.");
        }

        return value;
    }

    public static bool IsLowerHex(string value)
    {
        foreach (var c in value)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }
}
