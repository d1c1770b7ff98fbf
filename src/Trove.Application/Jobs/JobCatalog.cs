using Trove.Application.Export;

namespace Trove.Application.Jobs;

/// <summary>
/// Every kind of background job Trove runs, with its handler over a library. Hosts that run workers (<c>trove serve</c>,
/// <c>trove worker</c>) take their handlers from here; a new kind of job adds its handler to <see cref="Handlers"/>.
/// </summary>
public static class JobCatalog
{
    public static IReadOnlyList<IJobHandler> Handlers(TroveLibrary library) =>
    [
        ExportJobs.Handler(library),
        Tagging.SuggestionJobs.Handler(library),
        Captioning.CaptionJobs.Handler(library),
        Restoration.RestoreJobs.Handler(library),
        Restoration.RetentionJobs.Handler(library),
        Embeddings.EmbedJobs.Handler(library),
        Faces.FaceJobs.Handler(library),
    ];

    /// <summary>The handlers of the named kinds (all when <paramref name="kinds"/> is empty); an unknown kind is a usage error.</summary>
    public static IReadOnlyList<IJobHandler> Handlers(TroveLibrary library, IReadOnlyCollection<string> kinds)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        var all = Handlers(library);
        if (kinds.Count == 0)
        {
            return all;
        }

        var byName = all.ToDictionary(h => h.Kind.Name, StringComparer.Ordinal);
        return kinds.Distinct(StringComparer.Ordinal).Select(k => byName.TryGetValue(k, out var handler)
            ? handler
            : throw new Domain.TroveUsageException("unknown-job-kind", $"There are no jobs of kind '{k}'.", $"Known kinds: {string.Join(", ", byName.Keys.Order(StringComparer.Ordinal))}.")).ToList();
    }
}
