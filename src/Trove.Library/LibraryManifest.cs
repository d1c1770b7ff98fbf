namespace Trove.Library;

/// <summary>The small file that marks a folder as a Trove library.</summary>
public sealed class LibraryManifest
{
    public const string FormatName = "trove-library";
    public const int CurrentFormatVersion = 1;

    public string Format { get; set; } = FormatName;

    public int FormatVersion { get; set; } = CurrentFormatVersion;

    public string Id { get; set; } = string.Empty;

    public string? Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }
}
