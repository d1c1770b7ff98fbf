using Trove.Domain;

namespace Trove.Application.Restoration;

/// <summary>Where a media of a lineage is: in the library, in the trash, or gone (purged).</summary>
public static class LineageStates
{
    public const string Library = "library";
    public const string Trash = "trash";
    public const string Gone = "gone";
}

/// <summary>One media of a lineage, with how it was made (null for an original) and where it is now.</summary>
public sealed record LineageMember(string Id, string State, DerivationInfo? Derivation)
{
    /// <summary>An unkept result that will expire (null when kept, when it is an original, or when it is no longer in the library).</summary>
    public DateTimeOffset? ExpiresAt => State == LineageStates.Library && Derivation is { Kept: false } d ? d.ExpiresAt : null;
}

/// <summary>
/// A media's lineage both ways: what it was derived from (the original, the model and version, the parameters) and what
/// was derived from it. Read from the sidecars (the result's <c>derivedFrom</c>, the original's <c>derivative</c>
/// relations), so it is what a rebuild restores.
/// </summary>
public sealed record LineageView(string Id, DerivationInfo? DerivedFrom, LineageMember? Original, IReadOnlyList<LineageMember> Derivatives)
{
    public bool IsEmpty => DerivedFrom is null && Derivatives.Count == 0;

    /// <summary>The derivatives still in the library (what deleting the original asks about).</summary>
    public IReadOnlyList<LineageMember> LiveDerivatives => Derivatives.Where(d => d.State == LineageStates.Library).ToList();

    public static LineageView Of(TroveLibrary library, MediaSidecar media)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(media);
        var original = media.DerivedFrom is { } from ? Member(library, from.Id) : null;
        var derivatives = media.Relations
            .Where(r => r.Type == RelationTypes.Derivative)
            .Select(r => r.Target)
            .Distinct(StringComparer.Ordinal)
            .Select(id => Member(library, id))
            .OrderBy(m => m.Derivation?.At ?? DateTimeOffset.MaxValue)
            .ThenBy(m => m.Id, StringComparer.Ordinal)
            .ToList();
        return new LineageView(media.Id, media.DerivedFrom, original, derivatives);
    }

    private static LineageMember Member(TroveLibrary library, string id) =>
        library.Files.TryReadSidecar(id) is { } stored
            ? new LineageMember(id, stored.InTrash ? LineageStates.Trash : LineageStates.Library, stored.Sidecar.DerivedFrom)
            : new LineageMember(id, LineageStates.Gone, null);

    /// <summary>"model@version (k=v, …)": how a derived media was made, for one line of text.</summary>
    public static string Describe(DerivationInfo derivation)
    {
        ArgumentNullException.ThrowIfNull(derivation);
        var parameters = derivation.Parameters.Count == 0 ? string.Empty : $" ({string.Join(", ", derivation.Parameters.Select(p => $"{p.Key}={p.Value}"))})";
        return $"{derivation.Model}@{derivation.Version}{parameters}";
    }
}
