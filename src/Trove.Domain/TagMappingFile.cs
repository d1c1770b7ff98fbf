namespace Trove.Domain;

/// <summary>
/// The JSON form of <c>mappings/&lt;source&gt;.json</c> (docs/library-format.md): how one external vocabulary's tags
/// become the library's. Read and written through <c>LibraryJson</c> like the other library files; its rules are checked
/// by <c>TagMappingSet</c>.
/// </summary>
public sealed class TagMappingFile
{
    public const int CurrentSchema = 1;

    public int Schema { get; set; } = CurrentSchema;

    public string Source { get; set; } = string.Empty;

    public string Unmapped { get; set; } = "existing";

    public SortedDictionary<string, string> Map { get; set; } = new(StringComparer.Ordinal);

    public List<string> Ignore { get; set; } = [];
}
