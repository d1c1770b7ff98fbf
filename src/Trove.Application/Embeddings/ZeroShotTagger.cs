using Trove.Application.Tagging;
using Trove.Domain;

namespace Trove.Application.Embeddings;

/// <summary>What zero-shot tagging did over some media: the prompts compared and the suggestions stored.</summary>
public sealed record ZeroShotResult(string Model, int Prompts, IReadOnlyList<SuggestionApplyResult> Media, IReadOnlyList<TaggingFailure> Failed)
{
    public static ZeroShotResult None(string model) => new(model, 0, [], []);

    public int Added => Media.Sum(m => m.Added);
}

/// <summary>
/// Zero-shot tag suggestions from the embedder (docs/semantic-search.md, "Zero-shot tag suggestions"): the library's tags
/// (the vocabulary's and every tag in use, canonical names, in the categories the settings name) become text prompts;
/// each media's stored image embedding is compared with them, and the tags at least <see cref="ZeroShotSettings.MinScore"/>
/// similar (the best <see cref="ZeroShotSettings.MaxTags"/>) join the review queue as pending suggestions whose model is the
/// embedder (<c>embedder@version</c>) and whose confidence is the similarity. Suggestions go through the same merge as a
/// tagger's: tags the media has, rejected ones and those another model already suggested are left alone.
/// </summary>
public sealed class ZeroShotTagger(TroveLibrary library)
{
    /// <summary>Suggests tags for media whose embeddings are given (full ids).</summary>
    public async Task<ZeroShotResult> SuggestAsync(ActiveEmbedder active, Embedder embedder, IReadOnlyList<(string Id, float[] Vector)> media, bool force, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(active);
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(media);
        var settings = active.Parameters.ZeroShot;
        if (!settings.Enabled || media.Count == 0 || !embedder.HasText)
        {
            return ZeroShotResult.None(active.Reference);
        }

        var tags = await TagsAsync(settings, ct).ConfigureAwait(false);
        if (tags.Count == 0)
        {
            return ZeroShotResult.None(active.Reference);
        }

        var prompts = embedder.EmbedPrompts([.. tags.Select(t => settings.PromptFor(t.Tag))], ct);
        var items = new List<SuggestionBatchItem>(media.Count);
        foreach (var (id, vector) in media)
        {
            var scored = new List<TagCandidate>();
            for (var t = 0; t < tags.Count; t++)
            {
                var score = Dot(vector, prompts[t]);
                if (score >= settings.MinScore)
                {
                    scored.Add(new TagCandidate(tags[t].Tag, Math.Clamp(Math.Round(score, 4), 0, 1), tags[t].Category));
                }
            }

            var best = scored.OrderByDescending(c => c.Confidence).ThenBy(c => c.Tag, StringComparer.Ordinal).Take(settings.MaxTags).ToList();
            items.Add(new SuggestionBatchItem(id, [new ModelCandidates(active.Model.Id, active.Version.Version, best)]));
        }

        var stored = await SuggestionBatch.ApplyAsync(library, items, force, null, ct).ConfigureAwait(false);
        return new ZeroShotResult(active.Reference, prompts.Length, stored.Applied, stored.Failed);
    }

    /// <summary>
    /// Suggests tags for media by their stored embeddings (e.g. after the vocabulary grew); media without an embedding
    /// yet are left for the embed job, which suggests as it embeds.
    /// </summary>
    public async Task<ZeroShotResult> SuggestStoredAsync(IReadOnlyList<string> ids, bool force, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ActiveEmbedder.Of(library) is not { Parameters.ZeroShot.Enabled: true } active)
        {
            return ZeroShotResult.None(string.Empty);
        }

        var embedder = library.Embeddings.Get(active);
        var engine = await library.Search.ReadyAsync(library.Index, ct).ConfigureAwait(false);
        var vectors = library.Search.Vectors.Read(engine, active.Reference, embedder.Dimensions, library.Embeddings.PathOf(active), index =>
            ids.Distinct(StringComparer.Ordinal)
                .Select(id => (Id: id, Key: engine.KeyOf(id)))
                .Where(m => m.Key >= 0 && index.Contains(m.Key))
                .Select(m => (m.Id, index.Vector(m.Key)))
                .ToList());
        return await SuggestAsync(active, embedder, vectors, force, ct).ConfigureAwait(false);
    }

    // The canonical tags the prompts are made of, with their categories, in name order.
    private async Task<List<(string Tag, string Category)>> TagsAsync(ZeroShotSettings settings, CancellationToken ct)
    {
        var vocabulary = library.Files.ReadVocabulary(out _);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        names.UnionWith(vocabulary.Tags.Keys);
        foreach (var tag in await library.Index.ListTagsAsync(ct).ConfigureAwait(false))
        {
            names.Add(tag.Name);
        }

        return [.. names
            .Where(n => !vocabulary.Aliases.ContainsKey(n))
            .Select(n => (Tag: n, Category: vocabulary.CategoryOf(n)))
            .Where(t => settings.Includes(t.Category))];
    }

    private static double Dot(float[] a, float[] b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length && i < b.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
