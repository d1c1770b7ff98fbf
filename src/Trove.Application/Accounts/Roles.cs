using Trove.Domain;

namespace Trove.Application.Accounts;

/// <summary>What a person may do, from least to most. Each role includes everything the ones below it may do.</summary>
public enum Role
{
    /// <summary>Reads: searches, views media, downloads originals.</summary>
    Viewer = 0,

    /// <summary>Also uploads, edits tags/captions/crops of their own uploads, creates collections.</summary>
    Member = 1,

    /// <summary>Also edits any media, manages aliases, implications, categories, collections and near-duplicates.</summary>
    Moderator = 2,

    /// <summary>Also manages users, tokens of others and settings; purges the trash.</summary>
    Admin = 3,
}

public static class Roles
{
    public static IReadOnlyList<string> Names { get; } = ["viewer", "member", "moderator", "admin"];

    public static string Name(Role role) => role switch
    {
        Role.Admin => "admin",
        Role.Moderator => "moderator",
        Role.Member => "member",
        _ => "viewer",
    };

    public static Role Parse(string raw) => TryParse(raw, out var role)
        ? role
        : throw new TroveUsageException("bad-role", $"Unknown role '{raw}'.", "Use one of: admin, moderator, member, viewer.");

    public static bool TryParse(string? raw, out Role role)
    {
        switch (raw?.Trim().ToLowerInvariant())
        {
            case "admin": role = Role.Admin; return true;
            case "moderator": role = Role.Moderator; return true;
            case "member": role = Role.Member; return true;
            case "viewer": role = Role.Viewer; return true;
            default: role = Role.Viewer; return false;
        }
    }
}

/// <summary>Who is acting: a signed-in account (or the local operator of the CLI, who is an admin of their own files).</summary>
public sealed record Principal(long UserId, string Name, Role Role)
{
    /// <summary>The person at the terminal: whoever can run the CLI on the library folder owns it.</summary>
    public static Principal Local(string name) => new(0, name, Role.Admin);
}

/// <summary>
/// The permission rules, in one place, used by the API, the web UI and (as the local admin) the CLI. See docs/api.md
/// ("Roles and permissions") for the table.
/// </summary>
public static class Permissions
{
    public static bool CanRead(Principal? p) => p is not null;

    public static bool CanUpload(Principal p) => p.Role >= Role.Member;

    /// <summary>Tags, captions, crops, delete/restore of one media: moderators for all, members for their own uploads.</summary>
    public static bool CanEditMedia(Principal p, MediaSidecar media) =>
        p.Role >= Role.Moderator || (p.Role == Role.Member && media.Uploader is { } uploader && string.Equals(uploader, p.Name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Aliases, implications, categories, descriptions.</summary>
    public static bool CanManageVocabulary(Principal p) => p.Role >= Role.Moderator;

    /// <summary>Name, edit, merge, hide people and start face detection: moderators (people are shared by the whole library).</summary>
    public static bool CanManagePeople(Principal p) => p.Role >= Role.Moderator;

    /// <summary>Create collections and add media one may see to them: members and up.</summary>
    public static bool CanCreateCollections(Principal p) => p.Role >= Role.Member;

    /// <summary>Rename, describe, reorder, delete collections and remove members: moderators.</summary>
    public static bool CanManageCollections(Principal p) => p.Role >= Role.Moderator;

    /// <summary>Near-duplicate merges (they trash media of other people).</summary>
    public static bool CanMerge(Principal p) => p.Role >= Role.Moderator;

    public static bool CanExport(Principal p) => p.Role >= Role.Member;

    public static bool CanPurge(Principal p) => p.Role >= Role.Admin;

    public static bool CanManageUsers(Principal p) => p.Role >= Role.Admin;

    public static TroveException Forbidden(string what) =>
        new("forbidden", $"You are not allowed to {what}.", "Ask a moderator or an admin; roles are listed under Users.");
}
