namespace Trove.Domain.Faces;

/// <summary>
/// A person, <c>people/&lt;id&gt;.json</c>: who they are (name, aliases, description, ids at external sources, notes),
/// which face shows them (cover), and whether they are hidden. Which faces are theirs is recorded on the faces, in the
/// media sidecars; a person without a name is a cluster nobody has named yet.
/// </summary>
public sealed class Person
{
    public const int CurrentSchema = 1;

    public int Schema { get; set; } = CurrentSchema;

    /// <summary>12 lowercase hex digits; the file name.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>Null while the person is an unnamed cluster.</summary>
    public string? Name { get; set; }

    public List<string> Aliases { get; set; } = [];

    public string? Description { get; set; }

    /// <summary>The person's id at each external source (source name → id).</summary>
    public SortedDictionary<string, string> ExternalIds { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The face shown for the person; null = their best confirmed face.</summary>
    public FaceRef? Cover { get; set; }

    public string? Notes { get; set; }

    /// <summary>Left out of the People page (and never suggested): someone in the background, a stranger.</summary>
    public bool Hidden { get; set; }

    /// <summary>People merged into this one (their ids and names), so that a merge can be traced.</summary>
    public List<MergedPerson> Merged { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? CreatedBy { get; set; }

    public long Revision { get; set; }

    /// <summary>The name people see: the name, or "unnamed ID".</summary>
    public string Display => Name ?? $"unnamed {Id}";

    /// <summary>Whether <paramref name="text"/> names this person (name or an alias, case-insensitively, or the id).</summary>
    public bool IsNamed(string text) =>
        string.Equals(Id, text, StringComparison.Ordinal)
        || (Name is not null && string.Equals(Name, text, StringComparison.OrdinalIgnoreCase))
        || Aliases.Exists(a => string.Equals(a, text, StringComparison.OrdinalIgnoreCase));

    public static bool IsValidId(string? id) => id is { Length: 12 } && MediaId.IsLowerHex(id);

    public static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    /// <summary>Problems that make the file unusable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!IsValidId(Id))
        {
            errors.Add($"\"id\" '{Id}' is not 12 lowercase hexadecimal digits");
        }

        if (Name is { } name && (string.IsNullOrWhiteSpace(name) || name.Length > 200))
        {
            errors.Add("\"name\" is empty or longer than 200 characters (leave it out for an unnamed person)");
        }

        if (Aliases.Any(a => string.IsNullOrWhiteSpace(a)))
        {
            errors.Add("an alias is empty");
        }

        return errors;
    }
}

/// <summary>A face of a media.</summary>
public sealed class FaceRef
{
    public string Media { get; set; } = string.Empty;

    public int Face { get; set; }
}

public sealed class MergedPerson
{
    public string Id { get; set; } = string.Empty;

    public string? Name { get; set; }

    public DateTimeOffset At { get; set; }

    public string? By { get; set; }
}
