using Microsoft.Playwright;
using Trove.Application.Embeddings;
using Trove.Application.Models;
using Trove.Domain.Models;
using Trove.Testing;

namespace Trove.Server.Ui.Tests;

/// <summary>
/// Semantic search in the browser: the search box takes a plain sentence with "Semantic" ticked, and the image page
/// offers "More like this" — through a generated CLIP pair on the real ONNX Runtime, embedded before the page opens.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SemanticSearchUiTests(BrowserFixture browser) : RestoreUiTest(browser)
{
    private const int Size = ClipPair.Size;

    private async Task AddEmbedderAsync()
    {
        var (image, text, vocab, merges) = ClipPair.Write(Path.Combine(Server.Scratch, "clip"));
        await new ModelRegistry(Library).AddAsync(
            new ModelAddRequest("clip", ModelKinds.Embedder, image, "1", Parameters: new System.Text.Json.Nodes.JsonObject { ["size"] = Size })
            {
                Files = new Dictionary<string, string> { ["text"] = text, ["vocab"] = vocab, ["merges"] = merges },
            },
            Ct);
    }

    [Fact]
    public async Task A_sentence_with_semantic_ticked_ranks_by_meaning_and_more_like_this_finds_the_nearest_colour()
    {
        await AddEmbedderAsync();
        var red = await ImportPngAsync("alice", "red.png", TestImages.Solid(40, 30, 230, 20, 20));
        var green = await ImportPngAsync("alice", "green.png", TestImages.Solid(40, 30, 20, 220, 20));
        var blue = await ImportPngAsync("alice", "blue.png", TestImages.Solid(40, 30, 20, 20, 230));
        var navy = await ImportPngAsync("alice", "navy.png", TestImages.Solid(40, 30, 20, 20, 120));
        var embedded = await new EmbedRunner(Library).RunAsync([red, green, blue, navy], force: false, null, Ct);
        Assert.Equal(4, embedded.Embedded);

        await SignInAsync("alice");
        await Page.GotoAsync("/");
        await Page.GetByTestId("search-input").FillAsync("a photo of something red");
        await Page.GetByTestId("semantic-toggle").CheckAsync();
        await Page.GetByTestId("search-input").PressAsync("Enter");
        await Page.WaitForURLAsync(url => url.Contains("semantic", StringComparison.Ordinal));
        Assert.Contains(Uri.EscapeDataString("semantic:\"a photo of something red\""), Page.Url, StringComparison.Ordinal);
        await Assertions.Expect(Page.GetByTestId("result-count")).ToHaveAttributeAsync("data-total", "4");
        await Assertions.Expect(Page.GetByTestId("tile").First).ToHaveAttributeAsync("data-id", red);
        await Assertions.Expect(Page.GetByTestId("semantic-toggle")).ToBeCheckedAsync();

        await Page.GotoAsync($"/media/{blue}");
        await Page.GetByTestId("more-like-this").ClickAsync();
        await Page.WaitForURLAsync(url => url.Contains("like", StringComparison.Ordinal));
        await Assertions.Expect(Page.GetByTestId("result-count")).ToHaveAttributeAsync("data-total", "3");
        await Assertions.Expect(Page.GetByTestId("tile").First).ToHaveAttributeAsync("data-id", navy);
        Assert.Empty(await Page.Locator($"[data-testid=tile][data-id='{blue}']").AllAsync());
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Without_an_embedder_a_semantic_search_says_what_to_register_and_the_image_page_offers_no_like()
    {
        var red = await ImportPngAsync("alice", "red.png", TestImages.Solid(40, 30, 230, 20, 20));
        await SignInAsync("alice");
        await Page.GotoAsync("/?q=" + Uri.EscapeDataString("semantic:\"red\""));
        await Assertions.Expect(Page.Locator("#q-error")).ToContainTextAsync("no embedder");
        await Page.GotoAsync($"/media/{red}");
        await Assertions.Expect(Page.GetByTestId("similar")).ToBeVisibleAsync();
        await Assertions.Expect(Page.GetByTestId("more-like-this")).ToHaveCountAsync(0);
    }
}
