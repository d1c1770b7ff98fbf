using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Trove.Application;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Server.Auth;

namespace Trove.Server.Api;

public sealed record TagResponse(string Name, string Category, long Count, string? Description, IReadOnlyList<string> Implies, IReadOnlyList<string> Aliases)
{
    public static TagResponse From(TagCount t) => new(t.Name, t.Category, t.Count, t.Description, t.Implies, t.Aliases);
}

public sealed record AliasResponse(string From, string To, DateTimeOffset CreatedAt, string? CreatedBy);

public sealed record ImplicationResponse(string Child, string Parent, DateTimeOffset CreatedAt, string? CreatedBy);

public sealed record CategoryResponse(string Name, bool Builtin, long Tags);

public sealed record TagListResponse(IReadOnlyList<TagResponse> Tags, IReadOnlyList<CategoryResponse> Categories, IReadOnlyList<AliasResponse> Aliases, IReadOnlyList<ImplicationResponse> Implications);

/// <summary>One tag; <see cref="AliasFrom"/> is the name asked for when it is an alias of this tag, <see cref="ImpliesAll"/> every tag it implies (transitively).</summary>
public sealed record TagDetailResponse(string Name, string Category, long Count, string? Description, IReadOnlyList<string> Implies, IReadOnlyList<string> ImpliesAll, IReadOnlyList<string> Aliases, IReadOnlyList<string> ImpliedBy, string? AliasFrom);

public sealed record TagUpdateRequest(string? Category, string? Description);

public sealed record AliasRequest(string? From, string? To);

public sealed record ImplicationRequest(string? Child, string? Parent);

public sealed record CategoryRequest(string? Name);

/// <summary>The change made to the vocabulary, and how many media were retagged because of it.</summary>
public sealed record VocabularyChangeResponse(string Summary, int MediaUpdated)
{
    public static VocabularyChangeResponse From(VocabularyChange c) => new(c.Summary, c.MediaUpdated);
}

/// <summary>
/// The tag vocabulary: counts, categories, descriptions, aliases and implications. Anyone who may read lists it; changes
/// need a moderator. (Tag autocomplete, <c>GET /api/tags/autocomplete</c>, lives with search.)
/// </summary>
public static class TagEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var tags = api.MapGroup("/tags").WithTags("Tags");
        tags.MapGet("/", ListAsync).WithSummary("All tags with counts, categories, descriptions; the categories, aliases and implications");
        tags.MapGet("/{name}", GetAsync).WithSummary("One tag (an alias answers with its canonical tag and aliasFrom)");
        tags.MapPut("/{name}", async (string name, TagUpdateRequest request, TagService service, CancellationToken ct) =>
        {
            await service.UpdateAsync(RouteName(name), request.Category, request.Description, ct).ConfigureAwait(false);
            return await GetAsync(name, service, ct).ConfigureAwait(false);
        }).RequireAuthorization(Policies.Moderator).WithSummary("Set a tag's category and/or description (moderator; empty description clears it)");

        tags.MapPost("/aliases", async (AliasRequest request, TagService service, CancellationToken ct) =>
            TypedResults.Ok(VocabularyChangeResponse.From(await service.AliasAsync(Required(request.From, "from"), Required(request.To, "to"), ct).ConfigureAwait(false))))
            .RequireAuthorization(Policies.Moderator).WithSummary("Make FROM an alias of TO: media tagged FROM are retagged TO (moderator)");
        tags.MapDelete("/aliases/{from}", async (string from, TagService service, CancellationToken ct) =>
            TypedResults.Ok(VocabularyChangeResponse.From(await service.UnaliasAsync(RouteName(from), ct).ConfigureAwait(false))))
            .RequireAuthorization(Policies.Moderator).WithSummary("Remove an alias (media keep their tags) (moderator)");
        tags.MapPost("/implications", async (ImplicationRequest request, TagService service, CancellationToken ct) =>
            TypedResults.Ok(VocabularyChangeResponse.From(await service.ImplyAsync(Required(request.Child, "child"), Required(request.Parent, "parent"), ct).ConfigureAwait(false))))
            .RequireAuthorization(Policies.Moderator).WithSummary("CHILD implies PARENT, applied to every media with CHILD now and later (moderator)");
        tags.MapDelete("/implications/{child}/{parent}", async (string child, string parent, TagService service, CancellationToken ct) =>
            TypedResults.Ok(VocabularyChangeResponse.From(await service.UnimplyAsync(RouteName(child), RouteName(parent), ct).ConfigureAwait(false))))
            .RequireAuthorization(Policies.Moderator).WithSummary("Remove an implication (media keep the parent tags they have) (moderator)");

        var categories = api.MapGroup("/categories").WithTags("Tags");
        categories.MapGet("/", async (TagService service, CancellationToken ct) =>
        {
            var listing = await service.ListAsync(ct).ConfigureAwait(false);
            return TypedResults.Ok(Categories(listing));
        }).WithSummary("Tag categories (built-in and user-defined) with how many tags each has");
        categories.MapPost("/", async (CategoryRequest request, TagService service, CancellationToken ct) =>
        {
            var name = TagNames.Normalize(Required(request.Name, "name"));
            await service.AddCategoryAsync(name, ct).ConfigureAwait(false);
            return TypedResults.Created($"/api/categories/{name}", new CategoryResponse(name, Builtin: false, 0));
        }).RequireAuthorization(Policies.Moderator).WithSummary("Create a tag category (moderator)");
    }

    private static async Task<Ok<TagListResponse>> ListAsync(TagService service, CancellationToken ct)
    {
        var listing = await service.ListAsync(ct).ConfigureAwait(false);
        var vocabulary = await service.VocabularyAsync(ct).ConfigureAwait(false);
        return TypedResults.Ok(new TagListResponse(
            listing.Tags.Select(TagResponse.From).ToList(),
            Categories(listing),
            vocabulary.Aliases.Select(a => new AliasResponse(a.Key, a.Value.To, a.Value.CreatedAt, a.Value.CreatedBy)).ToList(),
            vocabulary.Implications
                .OrderBy(i => i.Child, StringComparer.Ordinal).ThenBy(i => i.Parent, StringComparer.Ordinal)
                .Select(i => new ImplicationResponse(i.Child, i.Parent, i.CreatedAt, i.CreatedBy)).ToList()));
    }

    private static async Task<Ok<TagDetailResponse>> GetAsync(string name, TagService service, CancellationToken ct)
    {
        var found = await service.GetAsync(RouteName(name), ct).ConfigureAwait(false);
        var t = found.Tag;
        return TypedResults.Ok(new TagDetailResponse(t.Name, t.Category, t.Count, t.Description, t.Implies, found.ImpliesAll, t.Aliases, found.ImpliedBy, found.AliasFrom));
    }

    private static List<CategoryResponse> Categories(TagListing listing)
    {
        var perCategory = listing.Tags.GroupBy(t => t.Category, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        return listing.Categories
            .Select(c => new CategoryResponse(c, Vocabulary.BuiltinCategories.Contains(c, StringComparer.Ordinal), perCategory.GetValueOrDefault(c)))
            .ToList();
    }

    private static string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw new TroveUsageException("missing-field", $"'{field}' is required.") : value;

    /// <summary>A name from a route segment; '/' inside a name arrives still encoded (%2F).</summary>
    internal static string RouteName(string segment) => segment.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
