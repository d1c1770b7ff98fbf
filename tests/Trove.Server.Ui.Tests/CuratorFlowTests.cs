using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Trove.Application;
using Trove.Application.Crops;
using Trove.Testing;

namespace Trove.Server.Ui.Tests;

/// <summary>The main journeys of the issue, clicked through in a real browser against a real server and library.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class CuratorFlowTests(BrowserFixture browser) : UiTest(browser)
{
    [Fact]
    public async Task Upload_by_drag_and_drop_then_find_it_in_the_gallery()
    {
        var files = new[] { Server.WriteJpeg("harbour.jpg", 11, 640, 480), Server.WriteJpeg("meadow.jpg", 12, 480, 640) };
        await SignInAsync("alice");
        await Page.GotoAsync("/upload");
        await Page.GetByTestId("upload-tags").FillAsync("outdoor");
        await Page.GetByTestId("upload-input").SetInputFilesAsync(files);
        var results = Page.GetByTestId("upload-result");
        await Assertions.Expect(results).ToHaveCountAsync(2);
        await Assertions.Expect(Page.Locator("[data-testid=upload-result][data-status=imported]")).ToHaveCountAsync(2);
        await ScreenshotAsync("upload");

        await Page.GotoAsync("/");
        await Assertions.Expect(Page.GetByTestId("tile")).ToHaveCountAsync(2);
        await Page.GetByTestId("search-input").FillAsync("outdoor width:>500");
        await Page.GetByTestId("search-input").PressAsync("Enter");
        await Assertions.Expect(Page.GetByTestId("tile")).ToHaveCountAsync(1);
        await Assertions.Expect(Page.GetByTestId("result-count")).ToContainTextAsync("1");

        // The same file again is answered as a duplicate of the existing media.
        await Page.GotoAsync("/upload");
        await Page.GetByTestId("upload-input").SetInputFilesAsync(files[0]);
        await Assertions.Expect(Page.Locator("[data-testid=upload-result][data-status=duplicate]")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task Search_with_autocomplete_open_an_image_and_add_a_tag_with_autocomplete()
    {
        var ids = await Server.ImportAsync("alice", Server.WriteJpeg("a.jpg", 1), Server.WriteJpeg("b.jpg", 2), Server.WriteJpeg("c.jpg", 3));
        var tags = new TagService(Server.Library);
        await tags.AddAsync(ids[0], ["long_hair", "smile"], CancellationToken.None);
        await tags.AddAsync(ids[1], ["long_hair"], CancellationToken.None);
        await tags.AddAsync(ids[2], ["landscape"], CancellationToken.None);

        await SignInAsync("alice");
        await Page.GotoAsync("/");
        await Assertions.Expect(Page.GetByTestId("tile")).ToHaveCountAsync(3);
        await ScreenshotAsync("gallery");

        var search = Page.GetByTestId("search-input");
        await search.ClickAsync();
        await search.PressSequentiallyAsync("long_h");
        var option = Page.GetByRole(AriaRole.Option).Filter(new() { HasText = "long_hair" });
        await Assertions.Expect(option).ToBeVisibleAsync();
        await option.ClickAsync();
        await Assertions.Expect(search).ToHaveValueAsync(new Regex("^long_hair\\s*$"));
        await search.PressAsync("Enter");
        await Assertions.Expect(Page.GetByTestId("tile")).ToHaveCountAsync(2);

        await Page.GetByTestId("tile").First.ClickAsync();
        await Assertions.Expect(Page.GetByTestId("media-page")).ToBeVisibleAsync();
        var input = Page.GetByTestId("tag-input");
        await input.ClickAsync();
        await input.PressSequentiallyAsync("landsc");
        var suggestion = Page.GetByRole(AriaRole.Option).Filter(new() { HasText = "landscape" });
        await Assertions.Expect(suggestion).ToBeVisibleAsync();
        await input.PressAsync("ArrowDown");
        await input.PressAsync("Enter");
        if (await Page.Locator("[data-testid=tag][data-tag=landscape]").CountAsync() == 0)
        {
            await input.PressAsync("Enter");
        }

        await Assertions.Expect(Page.Locator("[data-testid=tag][data-tag=landscape]")).ToHaveCountAsync(1);
        await ScreenshotAsync("media");
        var id = Regex.Match(Page.Url, "/media/([0-9a-f]{64})").Groups[1].Value;
        var shown = await new MediaService(Server.Library).ShowAsync(id, CancellationToken.None);
        Assert.Contains(shown.Sidecar.Tags, t => t.Name == "landscape" && t.AddedBy == "alice");
    }

    [Fact]
    public async Task Draw_a_crop_with_the_mouse()
    {
        var ids = await Server.ImportAsync("alice", Server.WriteJpeg("wide.jpg", 5, 1200, 800));
        await SignInAsync("alice");
        await Page.GotoAsync($"/media/{ids[0]}");
        var surface = Page.GetByTestId("crop-surface");
        await Assertions.Expect(surface).ToBeVisibleAsync();
        await Page.GetByTestId("crop-mode").ClickAsync();
        var img = surface.Locator("img").First;
        await Assertions.Expect(img).ToBeVisibleAsync();
        var box = (await img.BoundingBoxAsync())!;
        // Drag from 10% to 60% of the picture in both directions: half the width and half the height.
        await Page.Mouse.MoveAsync(box.X + (box.Width * 0.1f), box.Y + (box.Height * 0.1f));
        await Page.Mouse.DownAsync();
        await Page.Mouse.MoveAsync(box.X + (box.Width * 0.35f), box.Y + (box.Height * 0.35f), new() { Steps = 5 });
        await Page.Mouse.MoveAsync(box.X + (box.Width * 0.6f), box.Y + (box.Height * 0.6f), new() { Steps = 5 });
        await Page.Mouse.UpAsync();
        await Assertions.Expect(Page.GetByTestId("crop-form")).ToBeVisibleAsync();
        await Page.GetByTestId("crop-name").FillAsync("face");
        await ScreenshotAsync("crop-drawing");
        await Page.GetByTestId("crop-save").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("crop").Filter(new() { HasText = "face" })).ToHaveCountAsync(1);

        var crops = await new CropService(Server.Library).ListAsync(ids[0], CancellationToken.None);
        var crop = Assert.Single(crops.Crops);
        Assert.Equal("face", crop.Name);
        // The rectangle is stored in original pixels (the preview is scaled): about 600 × 400 at (120, 80).
        Assert.InRange(crop.W, 560, 640);
        Assert.InRange(crop.H, 370, 430);
        Assert.InRange(crop.X, 100, 140);
        Assert.InRange(crop.Y, 60, 100);
    }

    [Fact]
    public async Task Review_a_duplicate_pair_and_merge_it()
    {
        var original = Path.Combine(Server.Scratch, "original.jpg");
        var copy = Path.Combine(Server.Scratch, "copy.jpg");
        var pixels = TestImages.Photo(42, 800, 600);
        TestImages.WriteJpeg(original, pixels, quality: 95);
        TestImages.WriteJpeg(copy, pixels, quality: 60);
        var ids = await Server.ImportAsync("alice", original, copy);
        await new TagService(Server.Library).AddAsync(ids[1], ["from_copy"], CancellationToken.None);

        await SignInAsync("mod");
        await Page.GotoAsync("/duplicates");
        var group = Page.GetByTestId("dupe-group");
        await Assertions.Expect(group).ToHaveCountAsync(1);
        await ScreenshotAsync("duplicates");
        await group.GetByTestId("keep").First.ClickAsync();
        await Assertions.Expect(Page.GetByTestId("dupe-group")).ToHaveCountAsync(0);

        var media = new MediaService(Server.Library);
        var first = await media.ShowAsync(ids[0], CancellationToken.None);
        var second = await media.ShowAsync(ids[1], CancellationToken.None);
        Assert.NotEqual(first.InTrash, second.InTrash);
        var kept = first.InTrash ? second : first;
        Assert.Contains(kept.Sidecar.Tags, t => t.Name == "from_copy");
    }

    [Fact]
    public async Task Main_pages_render_for_an_admin_and_at_phone_width()
    {
        var ids = await Server.ImportAsync("alice", Server.WriteJpeg("p1.jpg", 21), Server.WriteJpeg("p2.jpg", 22));
        await new CollectionService(Server.Library).CreateAsync("holiday", "Summer pictures", CancellationToken.None);
        await new CollectionService(Server.Library).AddAsync("holiday", ids, CancellationToken.None);
        var tags = new TagService(Server.Library);
        await tags.AddAsync(ids[0], ["beach", "sunset", "rating_safe"], CancellationToken.None);
        await tags.AddAsync(ids[1], ["beach", "portrait"], CancellationToken.None);
        await tags.AliasAsync("seaside", "beach", CancellationToken.None);
        await tags.ImplyAsync("sunset", "sky", CancellationToken.None);
        await SignInAsync("admin");
        await Page.GotoAsync("/?q=" + Uri.EscapeDataString("order:newest"));
        await Assertions.Expect(Page.GetByTestId("tile")).ToHaveCountAsync(2);
        foreach (var (path, name) in new[] { ("/collections", "collections"), ("/collections/holiday", "collection"), ("/tags", "tags"), ("/users", "users"), ("/account", "account"), ("/jobs", "jobs") })
        {
            var response = await Page.GotoAsync(path);
            Assert.Equal(200, response!.Status);
            await ScreenshotAsync(name);
        }

        await Page.SetViewportSizeAsync(375, 800);
        await Page.GotoAsync("/");
        await Assertions.Expect(Page.GetByTestId("tile")).ToHaveCountAsync(2);
        var overflow = await Page.EvaluateAsync<bool>("document.documentElement.scrollWidth > window.innerWidth + 1");
        Assert.False(overflow, "the gallery scrolls sideways at phone width");
        await ScreenshotAsync("gallery-phone");
        await Page.GotoAsync($"/media/{ids[0]}");
        overflow = await Page.EvaluateAsync<bool>("document.documentElement.scrollWidth > window.innerWidth + 1");
        Assert.False(overflow, "the image page scrolls sideways at phone width");
        await ScreenshotAsync("media-phone");
    }
}
