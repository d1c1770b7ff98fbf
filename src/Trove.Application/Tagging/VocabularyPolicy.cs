using Trove.Domain;
using Trove.Domain.Models;

namespace Trove.Application.Tagging;

/// <summary>
/// The policy in force for a tagger's labels that no mapping names (docs/models.md, "External vocabularies"), and where
/// it comes from: the model's own <c>unmapped</c> parameter, its vocabulary source's <c>mappings/&lt;source&gt;.json</c>,
/// or the default (<see cref="UnmappedPolicy.Existing"/>).
/// </summary>
/// <param name="From"><see cref="FromParameters"/>, <see cref="FromDefault"/> or the mapping file (<c>mappings/danbooru.json</c>).</param>
/// <param name="Source">The model's vocabulary source, if it has one.</param>
public sealed record VocabularyPolicy(UnmappedPolicy Policy, string From, string? Source)
{
    public const string FromParameters = "parameters";
    public const string FromDefault = "default";

    /// <summary>The values of <c>trove models add --vocabulary-policy</c> (the policy names of the mapping file's <c>unmapped</c>).</summary>
    public static IReadOnlyList<string> Names { get; } = ["create", "existing", "ignore"];

    public string Name => TagMappingSet.PolicyName(Policy);

    public bool IsDefault => From == FromDefault;

    /// <summary>Where the policy comes from, in words: "the default", "set in its parameters", "from mappings/danbooru.json".</summary>
    public string Origin => From switch
    {
        FromDefault => "the default",
        FromParameters => "set in its parameters",
        var file => "from " + file,
    };

    /// <summary>Parses a <c>--vocabulary-policy</c> value: exactly one of <see cref="Names"/>.</summary>
    /// <exception cref="TroveUsageException">bad-vocabulary-policy.</exception>
    public static UnmappedPolicy Parse(string text, string option = "--vocabulary-policy")
    {
        var name = text?.Trim().ToLowerInvariant();
        if (name is not null && Names.Contains(name, StringComparer.Ordinal) && TagMappingSet.TryParsePolicy(name, out var policy))
        {
            return policy;
        }

        throw new TroveUsageException(
            "bad-vocabulary-policy",
            $"{option} must be create, existing or ignore, not '{text}'.",
            "create: labels are suggested under their own names (approving one creates the tag); existing: only labels the library already has as tags; ignore: only labels mapped in mappings/<source>.json.");
    }
}

/// <summary>What a tagger's vocabulary policy means for this library now (printed by <c>trove models add</c>).</summary>
/// <param name="Labels">Labels in the model's label file.</param>
/// <param name="Usable">Of those, the labels that can become suggestions under the policy today (mapped, or known, or — with create — any valid name).</param>
/// <param name="Text">One paragraph: the policy, where it comes from, what it means here, and how to change it.</param>
public sealed record VocabularyPolicyReport(string Model, VocabularyPolicy Policy, int Labels, int Usable, string Text)
{
    /// <summary>Describes the policy of <paramref name="model"/>'s <paramref name="version"/> against the library's vocabulary.</summary>
    public static async Task<VocabularyPolicyReport> DescribeAsync(TroveLibrary library, ModelDefinition model, ModelVersionEntry version, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(version);
        var parameters = TaggerParameters.Parse(model.Parameters, model.Id);
        var service = new TagMappingService(library);
        var policy = parameters.PolicyInForce(service);
        int labels = 0, usable = 0;
        if (version.Labels is { } file)
        {
            var set = TaggerLabelSet.Load(new Models.ModelRegistry(library).Resolve(file));
            var known = await service.KnownTagsAsync(ct).ConfigureAwait(false);
            var mappings = parameters.Mappings(service);
            labels = set.Count;
            usable = set.Labels.Count(l => mappings.Resolve(l.Name, l.Category, known.Contains).Tag is not null);
        }

        var how = $"trove models set {model.Id} --vocabulary-policy";
        var text = policy.Policy switch
        {
            UnmappedPolicy.Create =>
                $"Vocabulary policy: create ({policy.Origin}): every label that reaches its threshold is suggested under its own name (or the tag it is mapped to); "
                + $"approving one creates the tag in the model's category. {usable} of its {labels} labels can be suggested"
                + (usable < labels ? " (the others are ignored by a mapping or have names that cannot be tags)." : "."),
            UnmappedPolicy.Ignore =>
                $"Vocabulary policy: ignore ({policy.Origin}): only labels mapped in {TagMappingService.FolderName}/{policy.Source}.json are suggested; "
                + $"{usable} of its {labels} labels are mapped. To suggest the others under their own names: {how} create.",
            _ =>
                $"Vocabulary policy: existing ({policy.Origin}{(policy.IsDefault ? ": neither its parameters nor a mapping file choose one" : string.Empty)}): "
                + "a label is suggested only when the library already has a tag or alias of that name, so on a fresh library it suggests nothing. "
                + $"{usable} of its {labels} labels are tags in this library now. To suggest the others as new tags (approving one creates it): {how} create.",
        };
        return new VocabularyPolicyReport(model.Id, policy, labels, usable, text);
    }
}
