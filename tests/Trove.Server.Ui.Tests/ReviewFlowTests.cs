using Microsoft.Playwright;
using Trove.Application;
using Trove.Application.Tagging;

namespace Trove.Server.Ui.Tests;

/// <summary>Reviewing model suggestions in a real browser: the moderators' queue driven by the keyboard.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReviewFlowTests(BrowserFixture browser) : UiTest(browser)
{
    [Fact]
    public async Task Moderator_approves_a_suggestion_by_keyboard_and_the_next_card_takes_its_place()
    {
        var ids = await Server.ImportAsync("alice", Server.WriteJpeg("cat.jpg", 21, 640, 480), Server.WriteJpeg("dog.jpg", 22, 480, 640));
        var suggestions = new SuggestionService(Server.Library);
        await suggestions.ApplyAsync(ids[0], [new ModelCandidates("wd14", "v3", [new TagCandidate("cat", 0.96), new TagCandidate("sofa", 0.55)])], false, CancellationToken.None);
        await suggestions.ApplyAsync(ids[1], [new ModelCandidates("wd14", "v3", [new TagCandidate("dog", 0.81)])], false, CancellationToken.None);

        await SignInAsync("mod");
        await Page.GotoAsync("/review");
        var cards = Page.GetByTestId("review-card");
        await Assertions.Expect(cards).ToHaveCountAsync(2);
        await Assertions.Expect(cards.First).ToHaveAttributeAsync("data-id", ids[0]);
        await Assertions.Expect(cards.First.Locator("img")).ToHaveJSPropertyAsync("complete", true);
        await ScreenshotAsync("review");

        // ? lists the review queue's keys; while the help is open they do nothing, Escape closes it.
        await Page.Keyboard.PressAsync("?");
        var help = Page.Locator("dialog#shortcuts");
        await Assertions.Expect(help).ToBeVisibleAsync();
        var reviewKeys = help.GetByTestId("shortcuts-review");
        await Assertions.Expect(reviewKeys).ToContainTextAsync("Approve the checked tags");
        await Assertions.Expect(reviewKeys).ToContainTextAsync("Reject all tags of the card");
        await Assertions.Expect(reviewKeys).ToContainTextAsync("Check or uncheck a tag");
        await Assertions.Expect(reviewKeys.Locator("kbd")).ToHaveTextAsync(["a", "x", "j", "→", "k", "←", "1", "9"]);
        await Page.Keyboard.PressAsync("a");
        await Assertions.Expect(cards).ToHaveCountAsync(2);
        await Page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(help).Not.ToBeVisibleAsync();

        // 2 unchecks "sofa" on the current card, a approves the checked tags and rejects the rest.
        await Page.Keyboard.PressAsync("2");
        await Assertions.Expect(cards.First.Locator("input[type=checkbox][value=sofa]")).Not.ToBeCheckedAsync();
        await Page.Keyboard.PressAsync("a");
        await Assertions.Expect(cards).ToHaveCountAsync(1);
        await Assertions.Expect(cards.First).ToHaveAttributeAsync("data-id", ids[1]);
        await Assertions.Expect(cards.First).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\bcurrent\\b"));

        var shown = await new MediaService(Server.Library).ShowAsync(ids[0], CancellationToken.None);
        Assert.Equal(["cat"], shown.Sidecar.Tags.Select(t => t.Name));
        var rejected = await suggestions.ListAsync(ids[0], "rejected", CancellationToken.None);
        Assert.Equal(["sofa"], rejected.Suggestions.Select(s => s.Tag));

        // On the image page the approve button swaps the suggestions panel and refreshes the tags panel.
        await Page.GotoAsync($"/media/{ids[1]}");
        var dog = Page.Locator("[data-testid=suggestion][data-tag=dog]");
        await Assertions.Expect(dog).ToContainTextAsync("0.81");
        await ScreenshotAsync("suggestions");
        await dog.GetByTestId("approve").ClickAsync();
        await Assertions.Expect(Page.Locator("[data-testid=tag][data-tag=dog]")).ToHaveCountAsync(1);
        await Assertions.Expect(Page.GetByTestId("suggestion")).ToHaveCountAsync(0);
        await Assertions.Expect(Page.GetByTestId("suggestions-panel")).ToContainTextAsync("No pending suggestions (1 reviewed)");
    }
}
