using Trove.Domain.Faces;

namespace Trove.Domain.Enrichment;

/// <summary>The kinds of external source: catalogues that create people, and reference sites that only add to them.</summary>
public static class SourceTypes
{
    /// <summary>A stash-box-style GraphQL catalogue (StashDB, ThePornDB…): creates and updates people.</summary>
    public const string StashBox = "stash-box";

    /// <summary>A site with pages per person, read by URL templates and selectors: adds faces to people that exist.</summary>
    public const string ReferenceSite = "reference-site";
}

/// <summary>How far a source is believed (docs/enrichment.md, "Trust").</summary>
public static class TrustLevels
{
    /// <summary>May create people and set names.</summary>
    public const string High = "high";

    /// <summary>Adds faces only when they match the person's confirmed faces.</summary>
    public const string Medium = "medium";

    /// <summary>Adds faces as suggestions for review.</summary>
    public const string Low = "low";

    public static IReadOnlyList<string> All { get; } = [High, Medium, Low];
}

/// <summary>The source material's global settings: faces per person in all, the default request rate, quality filters.</summary>
public sealed record EnrichmentGlobals(int MaxFacesPerPerson, int DefaultRateLimit, FaceQualityRules Quality, bool PreferSingleFace)
{
    public static EnrichmentGlobals Default { get; } = new(20, 60, FaceQualityRules.Default, PreferSingleFace: true);
}

/// <summary>
/// One external source as <c>sources.yaml</c> configures it. <see cref="RateLimit"/> is requests per minute;
/// <see cref="ApiKeyEnv"/> names the environment variable that holds its key (the key itself is never in the file).
/// <see cref="GenderFilter"/>: only people of this gender are asked about, and people whose gender is unknown are too.
/// </summary>
public sealed record EnrichmentSource(
    string Name,
    string Type,
    bool Enabled,
    Uri? Url,
    int RateLimit,
    int MaxFaces,
    int Priority,
    string TrustLevel,
    string? GenderFilter,
    string? ApiKeyEnv)
{
    /// <summary>Whether a person of <paramref name="gender"/> (null: unknown) is asked about: the source material's rule.</summary>
    public bool ShouldProcess(string? gender) =>
        GenderFilter is null || gender is null || string.Equals(gender, GenderFilter, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Everything <c>sources.yaml</c> says.</summary>
public sealed record EnrichmentSettings(EnrichmentGlobals Globals, IReadOnlyList<EnrichmentSource> Sources)
{
    public static EnrichmentSettings Empty { get; } = new(EnrichmentGlobals.Default, []);
}

/// <summary>The command line's changes to a run: exactly the source material's flags.</summary>
/// <param name="Only">--sources a,b: only these.</param>
/// <param name="Disabled">--disable-source x (repeatable).</param>
/// <param name="MaxFaces">--source-max-faces a=10 (repeatable).</param>
/// <param name="MaxFacesTotal">--max-faces-total N.</param>
public sealed record EnrichmentOverrides(
    IReadOnlyList<string>? Only = null,
    IReadOnlyList<string>? Disabled = null,
    IReadOnlyDictionary<string, int>? MaxFaces = null,
    int? MaxFacesTotal = null)
{
    /// <summary>
    /// The settings a run uses: overrides applied, the enabled sources in priority order (lower first, then by name).
    /// A source name the file does not know is an error naming it and the known ones.
    /// </summary>
    public EnrichmentSettings Apply(EnrichmentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var known = settings.Sources.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var named = (Only ?? []).Concat(Disabled ?? []).Concat(MaxFaces?.Keys ?? []);
        if (named.FirstOrDefault(n => !known.Contains(n)) is { } unknown)
        {
            throw new TroveUsageException(
                "unknown-source",
                $"There is no source named '{unknown}' in sources.yaml" + (known.Count == 0 ? " (it has none)." : $"; it has {string.Join(", ", known.Order(StringComparer.Ordinal))}."),
                "Add it to sources.yaml (docs/enrichment.md) or correct the name.");
        }

        if (MaxFacesTotal is < 1)
        {
            throw new TroveUsageException("bad-max-faces", $"--max-faces-total {MaxFacesTotal} must be at least 1.");
        }

        if (MaxFaces?.FirstOrDefault(m => m.Value < 1) is { Key: not null } bad)
        {
            throw new TroveUsageException("bad-max-faces", $"--source-max-faces {bad.Key}={bad.Value} must be at least 1.");
        }

        var sources = settings.Sources
            .Where(s => s.Enabled && (Only is null || Only.Contains(s.Name)) && !(Disabled ?? []).Contains(s.Name))
            .Select(s => MaxFaces is not null && MaxFaces.TryGetValue(s.Name, out var max) ? s with { MaxFaces = max } : s)
            .OrderBy(s => s.Priority)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        var globals = MaxFacesTotal is { } total ? settings.Globals with { MaxFacesPerPerson = total } : settings.Globals;
        return new EnrichmentSettings(globals, sources);
    }
}
