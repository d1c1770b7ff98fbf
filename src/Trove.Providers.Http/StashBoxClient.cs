using System.Text.Json;
using System.Text.Json.Nodes;
using Trove.Domain;
using Trove.Domain.Enrichment;
using Trove.Domain.Models;

namespace Trove.Providers.Http;

public sealed record StashBoxImage(string Id, Uri Url, int? Width, int? Height);

public sealed record StashBoxUrl(string Url, string? Site);

/// <summary>A performer as a stash-box answers (the fields enrichment uses).</summary>
public sealed record StashBoxPerformer(string Id, string Name, string? Disambiguation, IReadOnlyList<string> Aliases, string? Gender, IReadOnlyList<StashBoxImage> Images, IReadOnlyList<StashBoxUrl> Urls);

public sealed record StashBoxPage(int Count, IReadOnlyList<StashBoxPerformer> Performers);

/// <summary>
/// A stash-box GraphQL catalogue (StashDB, ThePornDB, FansDB…): <c>findPerformer(id)</c>, <c>searchPerformer(term,
/// limit)</c> and <c>queryPerformers(input)</c> pages in creation order, with the key from the source's environment
/// variable in the <c>ApiKey</c> header. Every call goes through the source's lane — its requests-per-minute limit shared
/// by all workers, the cool-down a 429's Retry-After closes, retries with backoff, a per-attempt timeout — so failures
/// come back as <see cref="ProviderException"/>s naming the source and what happened, never the key.
/// </summary>
public sealed class StashBoxClient
{
    public const string KeyHeader = "ApiKey";

    private const string Fields = "id name disambiguation aliases gender images { id url width height } urls { url site { name } }";

    private readonly HttpRemoteModels _http;

    public StashBoxClient(HttpRemoteModels http, EnrichmentSource source)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(source);
        if (source.Type != SourceTypes.StashBox || source.Url is null)
        {
            throw new ArgumentException($"Source '{source.Name}' is not a stash-box with a URL.", nameof(source));
        }

        _http = http;
        Source = source;
        Provider = new ProviderDefinition
        {
            Name = "source-" + source.Name,
            Url = source.Url.ToString(),
            Model = "stash-box", // a provider definition names a model; a GraphQL endpoint has none, and this is only shown
            ApiKeyEnv = source.ApiKeyEnv,
            RequestsPerMinute = source.RateLimit,
            MaxConcurrency = 4,
            TimeoutSeconds = 30,
            MaxAttempts = 4,
        };
    }

    public EnrichmentSource Source { get; }

    /// <summary>The lane the calls use (a provider named <c>source-NAME</c>).</summary>
    public ProviderDefinition Provider { get; }

    /// <summary>The performer with this stash-box id, or null when there is none.</summary>
    public async Task<StashBoxPerformer?> FindPerformerAsync(string id, CancellationToken ct)
    {
        var data = await _http.GraphQlAsync(Provider, "find-performer", $"query FindPerformer($id: ID!) {{ findPerformer(id: $id) {{ {Fields} }} }}", new JsonObject { ["id"] = id }, KeyHeader, ct).ConfigureAwait(false);
        return data.TryGetProperty("findPerformer", out var p) && p.ValueKind == JsonValueKind.Object ? Read(p) : null;
    }

    /// <summary>Performers whose name or alias matches <paramref name="term"/>, best first.</summary>
    public async Task<IReadOnlyList<StashBoxPerformer>> SearchPerformersAsync(string term, int limit, CancellationToken ct)
    {
        var data = await _http.GraphQlAsync(Provider, "search-performer", $"query SearchPerformer($term: String!, $limit: Int) {{ searchPerformer(term: $term, limit: $limit) {{ {Fields} }} }}", new JsonObject { ["term"] = term, ["limit"] = limit }, KeyHeader, ct).ConfigureAwait(false);
        return data.TryGetProperty("searchPerformer", out var list) && list.ValueKind == JsonValueKind.Array ? [.. list.EnumerateArray().Select(Read)] : [];
    }

    /// <summary>One page of all performers, oldest first (so that a run can resume at a page).</summary>
    public async Task<StashBoxPage> QueryPerformersAsync(int page, int perPage, CancellationToken ct)
    {
        var input = new JsonObject { ["page"] = page, ["per_page"] = perPage, ["sort"] = "CREATED_AT", ["direction"] = "ASC" };
        var data = await _http.GraphQlAsync(Provider, "query-performers", $"query QueryPerformers($input: PerformerQueryInput!) {{ queryPerformers(input: $input) {{ count performers {{ {Fields} }} }} }}", new JsonObject { ["input"] = input }, KeyHeader, ct).ConfigureAwait(false);
        if (!data.TryGetProperty("queryPerformers", out var result) || result.ValueKind != JsonValueKind.Object)
        {
            throw Malformed("queryPerformers is missing from the answer");
        }

        var count = result.TryGetProperty("count", out var c) && c.TryGetInt32(out var n) ? n : 0;
        var performers = result.TryGetProperty("performers", out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().Select(Read).ToList() : [];
        return new StashBoxPage(count, performers);
    }

    private StashBoxPerformer Read(JsonElement p)
    {
        var id = Text(p, "id") ?? throw Malformed("a performer without an id");
        var name = Text(p, "name") ?? throw Malformed($"performer {id} has no name");
        var aliases = p.TryGetProperty("aliases", out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList() : [];
        var images = new List<StashBoxImage>();
        if (p.TryGetProperty("images", out var imgs) && imgs.ValueKind == JsonValueKind.Array)
        {
            foreach (var i in imgs.EnumerateArray())
            {
                if (Text(i, "url") is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
                {
                    images.Add(new StashBoxImage(Text(i, "id") ?? url, uri, Int(i, "width"), Int(i, "height")));
                }
            }
        }

        var urls = p.TryGetProperty("urls", out var u) && u.ValueKind == JsonValueKind.Array
            ? u.EnumerateArray().Where(x => Text(x, "url") is not null).Select(x => new StashBoxUrl(Text(x, "url")!, x.TryGetProperty("site", out var s) && s.ValueKind == JsonValueKind.Object ? Text(s, "name") : null)).ToList()
            : [];
        return new StashBoxPerformer(id, name, Text(p, "disambiguation"), aliases, Text(p, "gender"), images, urls);
    }

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.TryGetInt32(out var n) ? n : null;

    private TroveException Malformed(string what) =>
        new("source-bad-response", $"Source '{Source.Name}' ({Source.Url}) answered in a shape Trove does not know: {what}.", "Check that the url is the stash-box's GraphQL endpoint (e.g. https://stashdb.org/graphql).");
}
