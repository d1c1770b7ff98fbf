using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Trove.Domain;

namespace Trove.Server.Ui.Tests;

/// <summary>Reviewing generated captions in a real browser: on the image page with the mouse, and in the moderators' queue with the keyboard.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class CaptionReviewFlowTests(BrowserFixture browser) : UiTest(browser)
{
    [Fact]
    public async Task Uploader_approves_edits_and_rejects_generated_captions_on_the_image_page()
    {
        var ids = await Server.ImportAsync("alice", Server.WriteJpeg("car.jpg", 31, 640, 480), Server.WriteJpeg("other.jpg", 32, 640, 480));
        var id = ids[0];
        var plain = await Server.AddGeneratedCaptionAsync(id, "a car on a quay", "florence", "2");
        var edited = await Server.AddGeneratedCaptionAsync(id, "a red car parked by the see", "florence", "2");
        var rejected = await Server.AddGeneratedCaptionAsync(id, "a cat sleeping on a sofa", "florence", "2");
        await Server.AddGeneratedCaptionAsync(ids[1], "a quiet harbour", "florence", "2");

        await SignInAsync("alice");
        await Page.GotoAsync("/?q=" + Uri.EscapeDataString("caption-status:pending"));
        await Assertions.Expect(Page.GetByTestId("result-count")).ToHaveAttributeAsync("data-total", "2");

        await Page.GotoAsync($"/media/{id}");
        var panel = Page.GetByTestId("captions-panel");
        await Assertions.Expect(panel.Locator("[data-testid=caption][data-status=pending]")).ToHaveCountAsync(3);
        await Assertions.Expect(panel.GetByTestId("captions-pending")).ToHaveTextAsync("3 pending");
        await Assertions.Expect(Caption(plain).GetByTestId("caption-model")).ToHaveTextAsync("florence@2");
        await Assertions.Expect(Caption(plain).GetByTestId("caption-status")).ToHaveTextAsync("pending review");

        // Approve as it is.
        await Caption(plain).GetByTestId("caption-approve").ClickAsync();
        await Assertions.Expect(Caption(plain)).ToHaveAttributeAsync("data-status", "approved");
        await Assertions.Expect(Caption(plain).GetByTestId("caption-status")).ToHaveTextAsync("approved by alice");

        // Edit opens the text box in place, prefilled; Ctrl+Enter saves and approves.
        await Caption(edited).GetByTestId("caption-edit").ClickAsync();
        var box = Caption(edited).GetByTestId("caption-edit-text");
        await Assertions.Expect(box).ToBeFocusedAsync();
        await Assertions.Expect(box).ToHaveValueAsync("a red car parked by the see");
        await Assertions.Expect(Caption(edited).GetByTestId("caption-text")).ToBeHiddenAsync();
        await ScreenshotAsync("caption-edit");
        await box.FillAsync("a red car parked by the sea");
        await box.PressAsync("Control+Enter");
        await Assertions.Expect(Caption(edited)).ToHaveAttributeAsync("data-status", "approved");
        await Assertions.Expect(Caption(edited).GetByTestId("caption-text")).ToHaveTextAsync("a red car parked by the sea");
        var original = Caption(edited).GetByTestId("caption-original");
        await Assertions.Expect(original.Locator("summary")).ToHaveAttributeAsync("title", "The model wrote: a red car parked by the see");
        await original.Locator("summary").ClickAsync();
        await Assertions.Expect(original).ToContainTextAsync("a red car parked by the see");

        // Reject: it folds away, greyed, saying who rejected it.
        await Caption(rejected).GetByTestId("caption-reject").ClickAsync();
        await Assertions.Expect(Caption(rejected)).ToHaveAttributeAsync("data-status", "rejected");
        await Assertions.Expect(Caption(rejected).GetByTestId("caption-status")).ToHaveTextAsync("rejected by alice");
        await Assertions.Expect(Caption(rejected).Locator(".caption-text")).ToBeHiddenAsync();
        await Assertions.Expect(panel.GetByTestId("captions-pending")).ToHaveCountAsync(0);
        await ScreenshotAsync("captions-reviewed");

        var stored = Server.CaptionsOf(id).ToDictionary(c => c.Id);
        Assert.Equal((CaptionStatus.Approved, "a car on a quay", (string?)null, "alice", true), (stored[plain].Status, stored[plain].Text, stored[plain].GeneratedText, stored[plain].ReviewedBy, stored[plain].Primary));
        Assert.Equal((CaptionStatus.Approved, "a red car parked by the sea", "a red car parked by the see", "alice"), (stored[edited].Status, stored[edited].Text, stored[edited].GeneratedText, stored[edited].ReviewedBy));
        Assert.Equal((CaptionStatus.Rejected, "alice"), (stored[rejected].Status, stored[rejected].ReviewedBy));

        // Search follows: one image still has a pending caption; the edited words are found, the rejected ones are not.
        await Page.GotoAsync("/?q=" + Uri.EscapeDataString("caption-status:pending"));
        await Assertions.Expect(Page.GetByTestId("result-count")).ToHaveAttributeAsync("data-total", "1");
        await Assertions.Expect(Page.GetByTestId("tile")).ToHaveAttributeAsync("data-id", ids[1]);
        await Page.GotoAsync("/?q=" + Uri.EscapeDataString("caption:sea"));
        await Assertions.Expect(Page.GetByTestId("tile")).ToHaveCountAsync(1);
        await Assertions.Expect(Page.GetByTestId("tile")).ToHaveAttributeAsync("data-id", id);
        await Page.GotoAsync("/?q=" + Uri.EscapeDataString("caption:see"));
        await Assertions.Expect(Page.GetByTestId("result-count")).ToHaveAttributeAsync("data-total", "0");
        await Page.GotoAsync("/?q=" + Uri.EscapeDataString("caption:sofa"));
        await Assertions.Expect(Page.GetByTestId("result-count")).ToHaveAttributeAsync("data-total", "0");
    }

    [Fact]
    public async Task Moderator_reviews_the_caption_queue_with_the_keyboard()
    {
        var ids = await Server.ImportAsync("alice", Server.WriteJpeg("q1.jpg", 41, 640, 480), Server.WriteJpeg("q2.jpg", 42, 480, 640), Server.WriteJpeg("q3.jpg", 43, 640, 480));
        ids = [.. ids, .. await Server.ImportAsync("bob", Server.WriteJpeg("q4.jpg", 44, 640, 480))];
        var texts = new[] { "a harbour with boats", "a tall tower", "a field of flowers", "a forest path" };
        for (var i = 0; i < ids.Count; i++)
        {
            await Server.AddGeneratedCaptionAsync(ids[i], texts[i], "florence", "2");
        }

        await SignInAsync("mod");
        await Page.GotoAsync("/review/captions");
        var items = Page.GetByTestId("caption-item");
        var cards = Page.GetByTestId("caption-card");
        await Assertions.Expect(items).ToHaveCountAsync(4);
        await Assertions.Expect(Page.GetByTestId("caption-review-summary")).ToHaveTextAsync("4 pending captions on 4 images.");
        await Assertions.Expect(items.First).ToHaveClassAsync(Current());
        await Assertions.Expect(cards.First.Locator("img")).ToHaveJSPropertyAsync("complete", true);
        var order = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            order.Add((await cards.Nth(i).GetAttributeAsync("data-id"))!);
        }

        Assert.Equal(ids.Order(StringComparer.Ordinal), order.Order(StringComparer.Ordinal));
        string TextOf(string id) => texts[ids.ToList().IndexOf(id)];
        await ScreenshotAsync("caption-review");

        // ? lists the queue's keys; while the help is open they do nothing, Escape closes it.
        await Page.Keyboard.PressAsync("?");
        var help = Page.Locator("dialog#shortcuts");
        await Assertions.Expect(help).ToBeVisibleAsync();
        var keys = help.GetByTestId("shortcuts-captions");
        await Assertions.Expect(keys).ToContainTextAsync("Approve the caption as it is in its box");
        await Assertions.Expect(keys).ToContainTextAsync("Approve it as the primary caption");
        await Assertions.Expect(keys.Locator("dt kbd")).ToHaveTextAsync(["a", "e", "x", "p", "j", "→", "k", "←"]);
        await Page.Keyboard.PressAsync("a");
        await Assertions.Expect(items).ToHaveCountAsync(4);
        await Page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(help).Not.ToBeVisibleAsync();

        // a approves the current caption as it is; the next one takes its place.
        await Page.Keyboard.PressAsync("a");
        await Assertions.Expect(items).ToHaveCountAsync(3);
        await Assertions.Expect(Page.GetByTestId("caption-review-summary")).ToHaveTextAsync("3 pending captions on 3 images.");
        await Assertions.Expect(cards.First).ToHaveAttributeAsync("data-id", order[1]);
        await Assertions.Expect(items.First).ToHaveClassAsync(Current());

        // e puts the caret at the end of its box; Esc leaves the box with the edit; a approves the edited text.
        await Page.Keyboard.PressAsync("e");
        var box = items.First.GetByTestId("caption-review-text");
        await Assertions.Expect(box).ToBeFocusedAsync();
        await Page.Keyboard.TypeAsync(" at dusk, a little blurred");
        await Page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(box).Not.ToBeFocusedAsync();
        await Assertions.Expect(box).ToHaveValueAsync(TextOf(order[1]) + " at dusk, a little blurred");
        await Page.Keyboard.PressAsync("a");
        await Assertions.Expect(items).ToHaveCountAsync(2);
        await Assertions.Expect(cards.First).ToHaveAttributeAsync("data-id", order[2]);

        // j and k move between captions; x rejects the current one.
        await Page.Keyboard.PressAsync("j");
        await Assertions.Expect(items.Nth(1)).ToHaveClassAsync(Current());
        await Assertions.Expect(items.First).Not.ToHaveClassAsync(Current());
        await Page.Keyboard.PressAsync("k");
        await Assertions.Expect(items.First).ToHaveClassAsync(Current());
        await Page.Keyboard.PressAsync("j");
        await Assertions.Expect(items.Nth(1)).ToHaveClassAsync(Current());
        await Page.Keyboard.PressAsync("x");
        await Assertions.Expect(items).ToHaveCountAsync(1);
        await Assertions.Expect(cards.First).ToHaveAttributeAsync("data-id", order[2]);
        await Assertions.Expect(items.First).ToHaveClassAsync(Current());

        // p approves the last one as the primary caption; the queue is then empty and says how to get more.
        await Page.Keyboard.PressAsync("p");
        await Assertions.Expect(items).ToHaveCountAsync(0);
        await Assertions.Expect(Page.GetByTestId("caption-review-empty")).ToContainTextAsync("trove caption generate \"QUERY\" --model ID");

        var approved = Assert.Single(Server.CaptionsOf(order[0]));
        Assert.Equal((CaptionStatus.Approved, TextOf(order[0]), (string?)null, "mod"), (approved.Status, approved.Text, approved.GeneratedText, approved.ReviewedBy));
        var edit = Assert.Single(Server.CaptionsOf(order[1]));
        Assert.Equal((CaptionStatus.Approved, TextOf(order[1]) + " at dusk, a little blurred", TextOf(order[1])), (edit.Status, edit.Text, edit.GeneratedText));
        var reject = Assert.Single(Server.CaptionsOf(order[3]));
        Assert.Equal((CaptionStatus.Rejected, TextOf(order[3]), false), (reject.Status, reject.Text, reject.Primary));
        var primary = Assert.Single(Server.CaptionsOf(order[2]));
        Assert.Equal((CaptionStatus.Approved, true), (primary.Status, primary.Primary));

        // The API sees the same: nothing pending, and the edit with the model's words.
        var api = Server.As("mod");
        var queue = (await api.GetFromJsonAsync<JsonObject>("/api/captions/queue"))!;
        Assert.Empty(queue["items"]!.AsArray());
        var listed = (await api.GetFromJsonAsync<JsonObject>($"/api/media/{order[1]}/captions"))!;
        var caption = Assert.Single(listed["captions"]!.AsArray())!;
        Assert.Equal(("approved", TextOf(order[1]), "mod"), ((string?)caption["status"], (string?)caption["generatedText"], (string?)caption["reviewedBy"]));
    }

    private ILocator Caption(int id) => Page.Locator($"[data-testid=caption][data-caption=\"{id}\"]");

    [GeneratedRegex("\\bcurrent\\b")]
    private static partial Regex Current();
}
