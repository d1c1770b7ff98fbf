using Microsoft.AspNetCore.Mvc;
using Trove.Application;
using Trove.Application.Accounts;
using Trove.Application.Ports;
using Trove.Domain;

namespace Trove.Server.Pages.Tags;

/// <summary>
/// The vocabulary: tags with counts, categories and descriptions (live prefix filter), aliases, implications and
/// categories. Everyone may look; moderators change (the rule is <see cref="Permissions.CanManageVocabulary"/>).
/// </summary>
public sealed class IndexModel(TagService tags) : ManagePageModel
{
    public const string TableFragment = "_ManageTagTable";
    public const string RowFragment = "_ManageTagRow";
    public const string AliasesFragment = "_ManageTagAliases";
    public const string ImplicationsFragment = "_ManageTagImplications";
    public const string CategoriesFragment = "_ManageTagCategories";

    /// <summary>Fired after changes that alter counts or categories, so the table reloads itself.</summary>
    public const string ChangedEvent = "trove-tags-changed";

    public const int MaxRows = 500;

    /// <summary>The filter: a tag-name prefix (an alias's name finds its tag too).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    public IReadOnlyList<TagCount> Rows { get; private set; } = [];

    public int Matching { get; private set; }

    public int TotalTags { get; private set; }

    public IReadOnlyList<string> Categories { get; private set; } = [];

    public IReadOnlyList<KeyValuePair<string, AliasInfo>> Aliases { get; private set; } = [];

    public IReadOnlyList<Implication> Implications { get; private set; } = [];

    public bool CanManage => Permissions.CanManageVocabulary(Me);

    public string? FormFrom { get; private set; }

    public string? FormTo { get; private set; }

    public string? FormChild { get; private set; }

    public string? FormParent { get; private set; }

    public string? FormCategory { get; private set; }

    public static string SearchLink(string tag) => "/?q=" + Uri.EscapeDataString(tag);

    public static bool IsBuiltin(string category) => Vocabulary.BuiltinCategories.Contains(category, StringComparer.Ordinal);

    public Task<IActionResult> OnGetAsync() => PageAsync();

    /// <summary>The table alone, for the live filter and for reloads after vocabulary changes.</summary>
    public Task<IActionResult> OnGetTableAsync() => FragmentAsync(TableFragment);

    public async Task<IActionResult> OnPostCategoryAsync(string tag, string category)
    {
        await ChangeAsync(CanManage, "change tag categories", async ct =>
            (await tags.SetCategoryAsync(tag ?? string.Empty, category ?? string.Empty, create: false, ct).ConfigureAwait(false)).Summary + ".").ConfigureAwait(false);
        return await RowAsync(tag).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostDescribeAsync(string tag, string? description)
    {
        await ChangeAsync(CanManage, "describe tags", async ct =>
            (await tags.DescribeAsync(tag ?? string.Empty, string.IsNullOrWhiteSpace(description) ? null : description.Trim(), ct).ConfigureAwait(false)).Summary + ".").ConfigureAwait(false);
        return await RowAsync(tag).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostAliasAsync(string? from, string? to)
    {
        if (!await ChangeAsync(CanManage, "manage aliases", async ct => Report(await tags.AliasAsync(from ?? string.Empty, to ?? string.Empty, ct).ConfigureAwait(false))).ConfigureAwait(false))
        {
            (FormFrom, FormTo) = (from, to);
        }

        return await VocabularyRespondAsync(AliasesFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostUnaliasAsync(string? from)
    {
        await ChangeAsync(CanManage, "manage aliases", async ct => Report(await tags.UnaliasAsync(from ?? string.Empty, ct).ConfigureAwait(false))).ConfigureAwait(false);
        return await VocabularyRespondAsync(AliasesFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostImplyAsync(string? child, string? parent)
    {
        if (!await ChangeAsync(CanManage, "manage implications", async ct => Report(await tags.ImplyAsync(child ?? string.Empty, parent ?? string.Empty, ct).ConfigureAwait(false))).ConfigureAwait(false))
        {
            (FormChild, FormParent) = (child, parent);
        }

        return await VocabularyRespondAsync(ImplicationsFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostUnimplyAsync(string? child, string? parent)
    {
        await ChangeAsync(CanManage, "manage implications", async ct => Report(await tags.UnimplyAsync(child ?? string.Empty, parent ?? string.Empty, ct).ConfigureAwait(false))).ConfigureAwait(false);
        return await VocabularyRespondAsync(ImplicationsFragment).ConfigureAwait(false);
    }

    public async Task<IActionResult> OnPostCategoryAddAsync(string? name)
    {
        if (!await ChangeAsync(CanManage, "add categories", async ct => Report(await tags.AddCategoryAsync(name ?? string.Empty, ct).ConfigureAwait(false))).ConfigureAwait(false))
        {
            FormCategory = name;
        }

        return await VocabularyRespondAsync(CategoriesFragment).ConfigureAwait(false);
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        var listing = await tags.ListAsync(ct).ConfigureAwait(false);
        var vocabulary = await tags.VocabularyAsync(ct).ConfigureAwait(false);
        Categories = listing.Categories;
        Aliases = vocabulary.Aliases.ToList();
        Implications = vocabulary.Implications.OrderBy(i => i.Child, StringComparer.Ordinal).ThenBy(i => i.Parent, StringComparer.Ordinal).ToList();
        TotalTags = listing.Tags.Count;

        var prefix = Prefix(Q);
        var matching = listing.Tags
            .Where(t => prefix.Length == 0
                || t.Name.StartsWith(prefix, StringComparison.Ordinal)
                || t.Aliases.Any(a => a.StartsWith(prefix, StringComparison.Ordinal)))
            .OrderByDescending(t => t.Count)
            .ThenBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        Matching = matching.Count;
        Rows = matching.Count > MaxRows ? matching.GetRange(0, MaxRows) : matching;
    }

    /// <summary>The filter as typed in a search box: trimmed, lower case, spaces as underscores.</summary>
    private static string Prefix(string? q) => (q ?? string.Empty).Trim().ToLowerInvariant().Replace(' ', '_');

    private static string Report(VocabularyChange change) =>
        change.MediaUpdated > 0 ? $"{Capitalize(change.Summary)}; {change.MediaUpdated} media retagged." : Capitalize(change.Summary) + ".";

    private static string Capitalize(string s) => s.Length == 0 || s[0] == '\'' ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private async Task<IActionResult> VocabularyRespondAsync(string fragment)
    {
        if (Error is null)
        {
            Raise(ChangedEvent);
        }

        return await RespondAsync(fragment).ConfigureAwait(false);
    }

    /// <summary>One table row after a change to it (htmx), or the page.</summary>
    private async Task<IActionResult> RowAsync(string? tag)
    {
        if (!IsHtmx)
        {
            return await RespondAsync(TableFragment).ConfigureAwait(false);
        }

        TagCount? row = null;
        try
        {
            var listing = await tags.ListAsync(Aborted).ConfigureAwait(false);
            Categories = listing.Categories;
            var name = Prefix(tag);
            row = listing.Tags.FirstOrDefault(t => t.Name == name);
        }
        catch (TroveException ex)
        {
            Fail(ex);
        }

        row ??= new TagCount(tag ?? string.Empty, Vocabulary.DefaultCategory, 0, null, [], []);
        return await RespondAsync(RowFragment, new TagRow(row, Categories, CanManage, Error, Hint)).ConfigureAwait(false);
    }
}

/// <summary>One row of the tag table, with the categories to choose from and the outcome of a change to it.</summary>
public sealed record TagRow(TagCount Tag, IReadOnlyList<string> Categories, bool CanManage, string? Error = null, string? Hint = null);
