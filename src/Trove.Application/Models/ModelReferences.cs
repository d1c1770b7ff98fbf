using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Application.Models;

/// <summary>
/// The model and version a run names: <c>ID</c> (its active version) or <c>ID@VERSION</c>, or — when nothing is named —
/// the one active model the run can use. Captioners and restorers resolve through here, so their errors read alike.
/// </summary>
public static class ModelReferences
{
    /// <param name="accepts">Whether a model is of a kind this run can use.</param>
    /// <param name="none">The error when nothing is named and no active model is acceptable.</param>
    /// <param name="ambiguous">The error when nothing is named and several are (given their ids).</param>
    /// <param name="wrongKind">The error when the named model is of another kind.</param>
    public static (ModelDefinition Model, ModelVersionEntry Version) Resolve(
        ModelCatalog catalog,
        string? reference,
        Func<ModelDefinition, bool> accepts,
        Func<TroveUsageException> none,
        Func<IReadOnlyList<string>, TroveUsageException> ambiguous,
        Func<ModelDefinition, TroveUsageException> wrongKind)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(accepts);
        ArgumentNullException.ThrowIfNull(none);
        ArgumentNullException.ThrowIfNull(ambiguous);
        ArgumentNullException.ThrowIfNull(wrongKind);
        ModelDefinition model;
        string? versionName = null;
        if (string.IsNullOrWhiteSpace(reference))
        {
            var candidates = catalog.Models.Where(m => accepts(m) && m.ActiveVersion is not null).ToList();
            model = candidates.Count switch
            {
                0 => throw none(),
                1 => candidates[0],
                _ => throw ambiguous(candidates.Select(c => c.Id).ToList()),
            };
        }
        else
        {
            var at = reference.IndexOf('@', StringComparison.Ordinal);
            var id = at < 0 ? reference.Trim() : reference[..at].Trim();
            versionName = at < 0 ? null : reference[(at + 1)..].Trim();
            model = catalog.Find(id) ?? throw new TroveUsageException("model-not-found", $"There is no model '{id}' in models.json.", "List models with 'trove models list'.");
            if (!accepts(model))
            {
                throw wrongKind(model);
            }
        }

        var version = versionName is null
            ? model.ActiveVersion ?? throw new TroveUsageException("model-version-not-found", $"Model '{model.Id}' has no active version.", $"Activate one with 'trove models activate {model.Id} VERSION'.")
            : model.Versions.FirstOrDefault(v => v.Version == versionName)
              ?? throw new TroveUsageException("model-version-not-found", $"Model '{model.Id}' has no version '{versionName}' (it has {string.Join(", ", model.Versions.Select(v => v.Version))}).");
        return (model, version);
    }
}
