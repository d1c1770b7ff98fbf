using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Search.Engine;

namespace Trove.Server.Pages;

/// <summary>
/// The gallery: a search box (the query language), the result count and a grid of thumbnails. The first page is
/// rendered with the page; the rest arrive through the <c>Page</c> handler as the grid scrolls (cursor paging, so
/// pages never repeat or skip media).
/// </summary>
public sealed class IndexModel(SearchService search, MediaCards cards) : PageModel
{
    public const int PageSize = 60;

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Cursor { get; set; }

    /// <summary>Position of the first media of this page in the results (so media links can carry their place).</summary>
    [BindProperty(SupportsGet = true)]
    public int Start { get; set; }

    /// <summary>A choice from the sort menu: rewrites the query's <c>order:</c> and redirects.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

    public string Query => (Q ?? string.Empty).Trim();

    public GalleryPage? Results { get; private set; }

    public string? Error { get; private set; }

    public string? ErrorHint { get; private set; }

    /// <summary>"Semantic" ticked: the box holds a plain sentence, searched as <c>semantic:"…"</c>.</summary>
    [BindProperty(SupportsGet = true)]
    public bool Semantic { get; set; }

    /// <summary>Whether the query ranks by similarity (the toggle shows ticked).</summary>
    public bool IsSemantic => Query.Contains("semantic:", StringComparison.OrdinalIgnoreCase) || Query.Contains("like:", StringComparison.OrdinalIgnoreCase);

    /// <summary>A sentence from the box as a semantic term (quotes in it dropped, so the term stays one phrase).</summary>
    public static string AsSemantic(string sentence) => $"semantic:\"{sentence.Replace("\"", string.Empty, StringComparison.Ordinal).Trim()}\"";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (Semantic && Query.Length > 0 && !IsSemantic)
        {
            return Redirect(GalleryQuery.Url(AsSemantic(Query)));
        }

        if (Sort is not null)
        {
            return Redirect(GalleryQuery.Url(GalleryQuery.WithOrder(Query, Sort)));
        }

        if (GalleryQuery.SeedRandom(Query) is { } seeded)
        {
            // A bare order:random gets a seed, so scrolling, links and previous/next see one shuffle.
            return Redirect(GalleryQuery.Url(seeded));
        }

        try
        {
            Results = await GalleryPage.LoadAsync(search, cards, Query, Cursor, Math.Max(0, Start), ct).ConfigureAwait(false);
        }
        catch (TroveException ex)
        {
            Error = ex.Message;
            ErrorHint = ex.Hint;
            Response.StatusCode = ex.IsUsageError ? StatusCodes.Status400BadRequest : StatusCodes.Status422UnprocessableEntity;
        }

        return Page();
    }

    /// <summary>The next page of tiles and a new sentinel (htmx swaps it for the old sentinel).</summary>
    public async Task<IActionResult> OnGetPageAsync(CancellationToken ct)
    {
        var page = await GalleryPage.LoadAsync(search, cards, Query, Cursor, Math.Max(0, Start), ct).ConfigureAwait(false);
        return Partial("_GalleryPage", page);
    }
}

/// <summary>One page of the gallery grid: cards in order, where they start in the results and the cursor after them.</summary>
public sealed record GalleryPage(string Query, long Total, IReadOnlyList<MediaCard> Cards, int Start, string? NextCursor)
{
    public static async Task<GalleryPage> LoadAsync(SearchService search, MediaCards cards, string query, string? cursor, int start, CancellationToken ct)
    {
        var request = string.IsNullOrEmpty(cursor) ? new SearchRequest(IndexModel.PageSize, start) : new SearchRequest(IndexModel.PageSize, 0, cursor);
        var found = await search.SearchAsync(query, request, ct).ConfigureAwait(false);
        var shown = await cards.ReadAsync(found.Ids, ct).ConfigureAwait(false);
        return new GalleryPage(query, found.Total, shown, start, found.NextCursor);
    }

    public int Next => Start + Cards.Count;

    public string NextPageUrl => NextCursor is null ? string.Empty : $"/?handler=Page&q={Uri.EscapeDataString(Query)}&cursor={Uri.EscapeDataString(NextCursor)}&start={Next}";

    /// <summary>The same page without JavaScript: a full page that starts here.</summary>
    public string NextFullUrl => NextCursor is null ? string.Empty : $"/?q={Uri.EscapeDataString(Query)}&cursor={Uri.EscapeDataString(NextCursor)}&start={Next}";

    /// <summary>The media page, with the query and the position so it can offer previous and next.</summary>
    public string MediaUrl(MediaCard card, int index) =>
        Query.Length == 0 ? $"/media/{card.Id}?i={Start + index}" : $"/media/{card.Id}?q={Uri.EscapeDataString(Query)}&i={Start + index}";
}

/// <summary>Small rewrites of query text for the gallery's controls (the sort menu) and display helpers for tiles.</summary>
public static partial class GalleryQuery
{
    /// <summary>The sort menu: value and label. <c>newest</c> is the default and is written as no order at all.</summary>
    public static IReadOnlyList<(string Value, string Label)> Orders { get; } =
    [
        ("newest", "Newest"), ("oldest", "Oldest"), ("random", "Random"), ("filesize", "File size"), ("width", "Width"), ("tagcount", "Tag count"),
    ];

    public static string Url(string query) => query.Length == 0 ? "/" : "/?q=" + Uri.EscapeDataString(query);

    /// <summary>The gallery starting at a position of the results (offset paging, for going back to where one was).</summary>
    public static string PageUrl(string query, int start) =>
        start <= 0 ? Url(query) : (query.Length == 0 ? "/?start=" : "/?q=" + Uri.EscapeDataString(query) + "&start=") + start.ToString(CultureInfo.InvariantCulture);

    /// <summary>The value of the query's <c>order:</c> term (without a random seed), or "newest".</summary>
    public static string OrderOf(string query)
    {
        var m = OrderTerm().Match(query);
        if (!m.Success)
        {
            return "newest";
        }

        var value = m.Groups["value"].Value.ToLowerInvariant();
        return value.StartsWith("random", StringComparison.Ordinal) ? "random" : value.Length == 0 ? "newest" : value;
    }

    /// <summary>The query with its <c>order:</c> term replaced (or removed, for newest).</summary>
    public static string WithOrder(string query, string order)
    {
        var without = OrderTerm().Replace(query, string.Empty);
        without = Spaces().Replace(without, " ").Trim();
        var clean = order.Trim().ToLowerInvariant();
        if (clean is "" or "newest")
        {
            return without;
        }

        if (clean == "random")
        {
            clean = "random:" + NewSeed();
        }

        return (without.Length == 0 ? string.Empty : without + " ") + "order:" + clean;
    }

    /// <summary>When the query says <c>order:random</c> without a seed: the same query with one; else null.</summary>
    public static string? SeedRandom(string query)
    {
        var m = OrderTerm().Match(query);
        return m.Success && string.Equals(m.Groups["value"].Value, "random", StringComparison.OrdinalIgnoreCase)
            ? query[..m.Index] + m.Value.Replace(m.Groups["value"].Value, "random:" + NewSeed(), StringComparison.Ordinal) + query[(m.Index + m.Length)..]
            : null;
    }

    /// <summary>Width and height to reserve for a thumbnail of the given longest side (no layout shift while it loads).</summary>
    public static (int Width, int Height) ThumbSize(int? width, int? height, int size)
    {
        if (width is not > 0 || height is not > 0)
        {
            return (size, size);
        }

        var (w, h) = (width.Value, height.Value);
        if (w <= size && h <= size)
        {
            return (w, h);
        }

        return w >= h
            ? (size, Math.Max(1, (int)Math.Round((double)h * size / w)))
            : (Math.Max(1, (int)Math.Round((double)w * size / h)), size);
    }

    /// <summary>Alt text for a tile: its tags (the first few), or what kind of picture it is.</summary>
    public static string AltText(MediaCard card)
    {
        if (card.Tags.Count == 0)
        {
            return $"{(card.Kind == MediaKinds.Mask ? "Mask" : "Image")} {card.Id[..8]}, no tags";
        }

        var shown = card.Tags.Take(15).Select(t => t.Replace('_', ' '));
        return string.Join(", ", shown) + (card.Tags.Count > 15 ? $" and {card.Tags.Count - 15} more" : string.Empty);
    }

    /// <summary>The first few tags, as the tile's hover line shows them.</summary>
    public static string TileTags(MediaCard card) =>
        string.Join(" · ", card.Tags.Take(5).Select(t => t.Replace('_', ' '))) + (card.Tags.Count > 5 ? " …" : string.Empty);

    public static string Bytes(long size) => size switch
    {
        < 1024 => $"{size} B",
        < 1024 * 1024 => (size / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KB",
        < 1024L * 1024 * 1024 => (size / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MB",
        _ => (size / (1024.0 * 1024 * 1024)).ToString("0.##", CultureInfo.InvariantCulture) + " GB",
    };

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string NewSeed() => (RandomNumberGenerator.GetInt32(1, int.MaxValue)).ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"(?<=^|\s)order:(?<value>\S*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OrderTerm();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
