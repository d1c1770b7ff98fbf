using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Trove.Application;
using Trove.Application.Crops;
using Trove.Application.Tagging;
using Trove.Imaging.Vips;
using Trove.Testing;

namespace Trove.Server.Ui.Tests;

/// <summary>
/// The README's screenshots: a library of photo-like pictures (painted by <see cref="Scenes"/>) with tags, captions,
/// collections and pending model suggestions and captions, shown in the gallery, on an image page with a crop being
/// drawn, in the review queue and in the caption review queue. Each test asserts what its screenshot shows. Screenshots go to artifacts/screenshots/readme-*.png;
/// with TROVE_README_IMAGES=1 (<c>make readme-images</c>) they are also written to docs/images/.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ReadmeScreenshotTests(BrowserFixture browser) : UiTest(browser)
{
    /// <summary>Six columns by three rows at 1280 px: the scenes, then a second take of six of them (another seed, mirrored).</summary>
    private static readonly (string Scene, int Seed)[] Library =
    [
        ("beach-sunset", 1), ("alpine-lake", 1), ("forest-fog", 1), ("city-night", 1), ("lavender", 1), ("palm-beach", 1),
        ("misty-hills", 1), ("lighthouse", 1), ("autumn-lake", 1), ("aurora", 1), ("meadow", 1), ("dunes", 1),
        ("city-night", 2), ("palm-beach", 2), ("beach-sunset", 2), ("alpine-lake", 2), ("misty-hills", 2), ("lavender", 2),
    ];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Page.SetViewportSizeAsync(1280, 800);
    }

    [Fact]
    public async Task Readme_gallery_of_a_tagged_library()
    {
        var ids = await ImportAsync(Library);
        var tags = new TagService(Server.Library);
        await tags.ImplyAsync("sunset", "sky", CancellationToken.None);
        await tags.ImplyAsync("sunrise", "sky", CancellationToken.None);
        var collections = new CollectionService(Server.Library);
        await collections.CreateAsync("summer_2025", "Beaches and fields, July–August", CancellationToken.None);
        await collections.AddAsync("summer_2025", [.. ids.Where(p => p.Scene.Tags.Contains("summer")).Select(p => p.Id)], CancellationToken.None);

        await SignInAsync("alice");
        await Page.GotoAsync("/");
        var tiles = Page.GetByTestId("tile");
        await Assertions.Expect(tiles).ToHaveCountAsync(Library.Length);
        await Assertions.Expect(Page.GetByTestId("result-count")).ToContainTextAsync($"{Library.Length} results");

        // Every card shows its picture, described by its tags (implied ones included).
        var shown = await Page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('[data-testid=tile] img')].map(i => i.getAttribute('alt'))");
        Assert.Equal(Library.Length, shown.Length);
        var byId = ids.ToDictionary(p => p.Id);
        for (var i = 0; i < Library.Length; i++)
        {
            var id = await tiles.Nth(i).GetAttributeAsync("data-id");
            var scene = byId[id!].Scene;
            Assert.All(scene.Tags.Take(4), t => Assert.Contains(t.Replace('_', ' '), shown[i], StringComparison.Ordinal));
        }

        // Hovering a card shows its tags on it.
        var hovered = tiles.Nth(1);
        await hovered.HoverAsync();
        var hoveredScene = byId[(await hovered.GetAttributeAsync("data-id"))!].Scene;
        var tileTags = hovered.GetByTestId("tile-tags");
        await Assertions.Expect(tileTags).ToBeVisibleAsync();
        await Assertions.Expect(tileTags).ToContainTextAsync(hoveredScene.Tags[0].Replace('_', ' '));
        await Assertions.Expect(hovered.Locator(".tile-info")).ToHaveCSSAsync("opacity", "1");
        await AssertImagesLoadedAsync();
        await ReadmeScreenshotAsync("gallery");

        // The tags are searchable, implications included.
        await Page.GotoAsync("/?q=" + Uri.EscapeDataString("sky -night"));
        await Assertions.Expect(tiles).ToHaveCountAsync(ids.Count(p => p.Scene.Tags.Contains("sunset") || p.Scene.Tags.Contains("sunrise")));
    }

    [Fact]
    public async Task Readme_image_page_with_tags_captions_and_a_crop_being_drawn()
    {
        var (scene, id) = (await ImportAsync([("alpine-lake", 1), ("aurora", 1), ("misty-hills", 1)]))[0];
        var tags = new TagService(Server.Library);
        await tags.SetCategoryAsync("alps", "location", create: true, CancellationToken.None);
        await tags.SetCategoryAsync("rating_general", "rating", create: false, CancellationToken.None);
        await tags.AddAsync(id, ["alps", "rating_general", "reflection"], CancellationToken.None);
        var captions = new CaptionService(Server.Library);
        await captions.AddAsync(id, scene.Caption, primary: true, CancellationToken.None);
        await captions.AddAsync(id, "snow-capped mountains and a pine forest reflected in calm water", primary: false, CancellationToken.None);
        var collections = new CollectionService(Server.Library);
        await collections.CreateAsync("mountains", "Peaks, lakes and northern lights", CancellationToken.None);
        await collections.AddAsync("mountains", [id], CancellationToken.None);

        await SignInAsync("alice");
        await Page.GotoAsync($"/media/{id}");
        foreach (var tag in scene.Tags.Append("alps").Append("rating_general"))
        {
            await Assertions.Expect(Page.Locator($"[data-testid=tag][data-tag={tag}]")).ToHaveCountAsync(1);
        }

        await Assertions.Expect(Page.GetByTestId("caption").First).ToContainTextAsync(scene.Caption);
        await Assertions.Expect(Page.GetByTestId("collections-panel")).ToContainTextAsync("mountains");

        // Draw a crop around the highest peaks with the mouse: from (42%, 14%) to (92%, 56%) of the picture.
        await Page.GetByTestId("crop-mode").ClickAsync();
        var img = Page.GetByTestId("crop-surface").Locator("img").First;
        var box = (await img.BoundingBoxAsync())!;
        await Page.Mouse.MoveAsync(box.X + (box.Width * 0.42f), box.Y + (box.Height * 0.14f));
        await Page.Mouse.DownAsync();
        await Page.Mouse.MoveAsync(box.X + (box.Width * 0.7f), box.Y + (box.Height * 0.4f), new() { Steps = 5 });
        await Page.Mouse.MoveAsync(box.X + (box.Width * 0.92f), box.Y + (box.Height * 0.56f), new() { Steps = 5 });
        await Page.Mouse.UpAsync();
        await Assertions.Expect(Page.GetByTestId("crop-form")).ToBeVisibleAsync();
        var rect = Page.GetByTestId("crop-rect");
        await Assertions.Expect(rect).ToBeVisibleAsync();
        await Assertions.Expect(rect.Locator(".crop-label")).ToHaveTextAsync(new Regex("^\\d+ × \\d+$"));
        await Page.GetByTestId("crop-name").FillAsync("peaks");
        await Page.Mouse.MoveAsync(0, 0);
        // The drawing hint fades after a few seconds; the screenshot shows the page without it.
        await Assertions.Expect(Page.Locator("#toast")).ToHaveCSSAsync("opacity", "0", new() { Timeout = 10_000 });
        await AssertImagesLoadedAsync();
        await ReadmeScreenshotAsync("image-page");

        await Page.GetByTestId("crop-save").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("crop").Filter(new() { HasText = "peaks" })).ToHaveCountAsync(1);
        var crop = Assert.Single((await new CropService(Server.Library).ListAsync(id, CancellationToken.None)).Crops);
        Assert.InRange(crop.X, 470, 540);
        Assert.InRange(crop.W, 560, 640);
    }

    [Fact]
    public async Task Readme_review_queue_with_pending_suggestions()
    {
        // Fresh uploads without tags, each with what a tagger suggested for it.
        var ids = await ImportAsync([("beach-sunset", 1), ("city-night", 1), ("palm-beach", 1), ("alpine-lake", 1)], tagged: false);
        var suggestions = new SuggestionService(Server.Library);
        var model = "wd14-convnext";
        var version = "v3";
        IReadOnlyList<TagCandidate>[] candidates =
        [
            [new("sunset", 0.99), new("beach", 0.94), new("horizon", 0.91), new("cloud", 0.83), new("ocean", 0.78), new("no_humans", 0.71), new("outdoors", 0.66)],
            [new("cityscape", 0.96), new("night", 0.95), new("skyscraper", 0.9), new("reflection", 0.82), new("moon", 0.64)],
            [new("palm_tree", 0.98), new("beach", 0.93), new("ocean", 0.9), new("summer", 0.62)],
            [new("mountain", 0.97), new("lake", 0.92), new("snow", 0.88), new("reflection", 0.8)],
        ];
        for (var i = 0; i < ids.Count; i++)
        {
            await suggestions.ApplyAsync(ids[i].Id, [new ModelCandidates(model, version, candidates[i])], false, CancellationToken.None);
        }

        await SignInAsync("mod");
        await Page.GotoAsync("/review");
        var cards = Page.GetByTestId("review-card");
        await Assertions.Expect(cards).ToHaveCountAsync(ids.Count);
        await Assertions.Expect(Page.GetByTestId("review-summary")).ToContainTextAsync($"{ids.Count} images with {candidates.Sum(c => c.Count)} pending suggestions");
        var first = cards.First;
        var firstId = await first.GetAttributeAsync("data-id");
        var expected = candidates[ids.ToList().FindIndex(p => p.Id == firstId)];
        await Assertions.Expect(first.GetByTestId("review-tag")).ToHaveCountAsync(expected.Count);
        await Assertions.Expect(first.GetByTestId("review-tag").First).ToContainTextAsync(expected[0].Tag);
        await Assertions.Expect(first.GetByTestId("review-tag").First).ToContainTextAsync($"{model}@{version}");
        await Assertions.Expect(first.Locator("img")).ToHaveJSPropertyAsync("complete", true);
        await AssertImagesLoadedAsync();
        await ReadmeScreenshotAsync("review");
    }

    [Fact]
    public async Task Readme_caption_review_queue_with_generated_captions()
    {
        // Tagged pictures without captions, each with what a captioner wrote for it, waiting for review.
        var ids = await ImportAsync([("beach-sunset", 1), ("autumn-lake", 1), ("lighthouse", 1)]);
        string[] written =
        [
            "The sun setting over a calm sea seen from a sandy beach, the sky glowing orange and pink.",
            "A calm lake reflecting orange and yellow autumn trees on a clear day.",
            "A white lighthouse with a red top standing on a rocky cliff above a choppy sea, under a cloudy sky.",
        ];
        for (var i = 0; i < ids.Count; i++)
        {
            await Server.AddGeneratedCaptionAsync(ids[i].Id, written[i], "florence-2-large", "2024-06");
        }

        await Server.AddGeneratedCaptionAsync(ids[0].Id, "A beach at sunset.", "blip2", "1");

        await SignInAsync("mod");
        await Page.GotoAsync("/review/captions");
        var cards = Page.GetByTestId("caption-card");
        await Assertions.Expect(cards).ToHaveCountAsync(ids.Count);
        await Assertions.Expect(Page.GetByTestId("caption-review-summary")).ToHaveTextAsync($"{written.Length + 1} pending captions on {ids.Count} images.");
        var first = cards.First;
        var firstId = await first.GetAttributeAsync("data-id");
        var index = ids.ToList().FindIndex(p => p.Id == firstId);
        await Assertions.Expect(first.GetByTestId("caption-review-text").First).ToHaveValueAsync(written[index]);
        await Assertions.Expect(first.GetByTestId("caption-model").First).ToHaveTextAsync("florence-2-large@2024-06");
        await Assertions.Expect(first.GetByTestId("caption-item").First).ToHaveClassAsync(new Regex("\\bcurrent\\b"));
        await Assertions.Expect(first.Locator("img")).ToHaveJSPropertyAsync("complete", true);
        await AssertImagesLoadedAsync();
        await ReadmeScreenshotAsync("caption-review");
    }

    private async Task<IReadOnlyList<(Scenes.Scene Scene, string Id)>> ImportAsync(IReadOnlyList<(string Scene, int Seed)> pictures, bool tagged = true)
    {
        // One import each, last first, so that the gallery (newest first) shows them in the listed order.
        var imported = new List<(Scenes.Scene, string)>();
        var tags = new TagService(Server.Library);
        foreach (var (name, seed) in pictures.Reverse())
        {
            var scene = Scenes.Named(name);
            var id = Assert.Single(await Server.ImportAsync("alice", Scenes.WriteJpeg(scene, Server.Scratch, seed)));
            if (tagged)
            {
                await tags.AddAsync(id, scene.Tags, CancellationToken.None);
            }

            imported.Insert(0, (scene, id));
        }

        return imported;
    }

    /// <summary>Every picture on screen has loaded and decoded (none is broken).</summary>
    private async Task AssertImagesLoadedAsync()
    {
        await Page.WaitForFunctionAsync("() => [...document.images].filter(i => i.getBoundingClientRect().top < innerHeight).every(i => i.complete)");
        var broken = await Page.EvaluateAsync<int>("() => [...document.images].filter(i => i.getBoundingClientRect().top < innerHeight && i.naturalWidth === 0).length");
        Assert.Equal(0, broken);
    }

    private async Task ReadmeScreenshotAsync(string name)
    {
        await ScreenshotAsync("readme-" + name);
        if (Environment.GetEnvironmentVariable("TROVE_README_IMAGES") == "1")
        {
            var docs = Path.Combine(BrowserFixture.ScreenshotDir, "..", "..", "docs", "images");
            Directory.CreateDirectory(docs);
            // A 256-colour palette (dithered) keeps the committed PNGs about a third of the size.
            using var shot = VipsImage.FromFile(Path.Combine(BrowserFixture.ScreenshotDir, "readme-" + name + ".png"));
            shot.Save(Path.Combine(docs, name + ".png"), new VipsOption("palette", true), new VipsOption("Q", 90), new VipsOption("effort", 10), new VipsOption("compression", 9));
        }
    }
}
