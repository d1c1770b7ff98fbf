using Microsoft.Playwright;
using Trove.Application.Faces;
using Trove.Application.Models;
using Trove.Domain.Faces;
using Trove.Domain.Models;
using Trove.Testing;
using static Trove.Testing.FacePictures;

namespace Trove.Server.Ui.Tests;

/// <summary>
/// Faces and people in the browser (issue 17), through the generated SCRFD detector and ArcFace embedder on the real
/// ONNX Runtime: the People page names a group on its card, the image page draws face boxes with names and names an
/// unknown face, the face review queue is driven by the keyboard, and a person's page moves faces to a new person.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PeopleUiTests(BrowserFixture browser) : RestoreUiTest(browser)
{
    private async Task<Dictionary<string, string>> ScanAsync()
    {
        var registry = new ModelRegistry(Library);
        var detector = OnnxModels.Write(Path.Combine(Server.Scratch, "scrfd.onnx"), OnnxModels.FaceDetector());
        var embedder = OnnxModels.Write(Path.Combine(Server.Scratch, "arcface.onnx"), OnnxModels.FaceEmbedder());
        await registry.AddAsync(new ModelAddRequest("scrfd", ModelKinds.FaceDetector, detector, "1", Parameters: new System.Text.Json.Nodes.JsonObject { ["autoFaces"] = false }), Ct);
        await registry.AddAsync(new ModelAddRequest("arcface", ModelKinds.FaceEmbedder, embedder, "1"), Ct);
        var (a, b, c, d, e) = await ImportTwoPeopleAsync((name, squares) => ImportPngAsync("alice", name + ".png", Draw(squares)));
        var ids = new Dictionary<string, string> { ["a"] = a, ["b"] = b, ["c"] = c, ["d"] = d, ["e"] = e };
        var run = await new FaceRunner(Library).RunAsync([.. ids.Values], force: false, cluster: true, null, Ct);
        Assert.Equal(7, run.Usable);
        return ids;
    }

    private string PersonOf(string media, int x) => Library.Files.ReadSidecar(media).Sidecar.Faces.Single(f => f.Box.X == x).Person!;

    [Fact]
    public async Task Name_a_group_see_named_boxes_name_an_unknown_face_review_by_keyboard_and_move_faces_to_a_new_person()
    {
        var ids = await ScanAsync();
        var red = PersonOf(ids["b"], 96);
        var green = PersonOf(ids["d"], 96);
        await SignInAsync("mod");

        // The People page: two unnamed groups; one is named on its card.
        await Page.GotoAsync("/people");
        await Assertions.Expect(Page.GetByTestId("person-card")).ToHaveCountAsync(2);
        await Assertions.Expect(Page.GetByTestId("people-review-link")).ToContainTextAsync("6 suggested faces");
        var redCard = Page.Locator($"[data-testid=person-card][data-person='{red}']");
        await Assertions.Expect(redCard.GetByTestId("person-counts")).ToContainTextAsync("0 confirmed · 3 suggested · 3 images");
        await redCard.GetByTestId("person-name-input").FillAsync("Alice Liddell");
        await redCard.GetByTestId("person-name-input").PressAsync("Enter");
        await Assertions.Expect(redCard.GetByTestId("person-name")).ToHaveTextAsync("Alice Liddell");
        await Assertions.Expect(redCard.GetByTestId("person-counts")).ToContainTextAsync("3 confirmed · 0 suggested");
        Assert.Equal(FaceStatus.Confirmed, Library.Files.ReadSidecar(ids["b"]).Sidecar.Faces[0].Status);
        await ScreenshotAsync("people");

        // The image page: a box per face with the name; f hides them; the unknown face is named there.
        await Page.GotoAsync($"/media/{ids["c"]}");
        var boxes = Page.GetByTestId("face-box");
        await Assertions.Expect(boxes).ToHaveCountAsync(2);
        await Assertions.Expect(Page.Locator(".face-box.confirmed .face-name")).ToHaveTextAsync("Alice Liddell");
        await Assertions.Expect(Page.Locator(".face-box.unknown .face-name")).ToHaveTextAsync("Unknown");
        var box = await Page.Locator(".face-box.confirmed").BoundingBoxAsync();
        var picture = await Page.Locator("#preview").BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.NotNull(picture);
        Assert.InRange(box!.X - picture!.X, picture.Width * 0.62, picture.Width * 0.68);   // 416 / 640 of the width
        Assert.InRange(box.Width, picture.Width * 0.18, picture.Width * 0.22);             // 128 / 640
        await Page.Keyboard.PressAsync("f");
        await Assertions.Expect(Page.GetByTestId("face-layer")).ToBeHiddenAsync();
        await Page.Keyboard.PressAsync("f");
        await Assertions.Expect(Page.GetByTestId("face-layer")).ToBeVisibleAsync();
        var unknown = Page.Locator("[data-testid=media-face][data-status=unassigned]");
        await unknown.GetByTestId("media-face-name").FillAsync("Carol");
        await unknown.GetByTestId("media-face-save").ClickAsync();
        await Assertions.Expect(Page.Locator("[data-testid=media-face] strong", new() { HasTextString = "Carol" })).ToBeVisibleAsync();
        await Assertions.Expect(Page.Locator(".face-box.confirmed .face-name", new() { HasTextString = "Carol" })).ToHaveCountAsync(1);
        Assert.Equal("Carol", Library.People.Get(PersonOf(ids["c"], 96))!.Name);

        // The review queue: y confirms the current face, n rejects it (remembered), the queue shrinks each time.
        await Page.GotoAsync("/people/review");
        await Assertions.Expect(Page.GetByTestId("face-card")).ToHaveCountAsync(3);
        var first = await Page.GetByTestId("face-card").First.GetAttributeAsync("data-face");
        await Page.Keyboard.PressAsync("y");
        await Assertions.Expect(Page.GetByTestId("face-card")).ToHaveCountAsync(2);
        var second = await Page.GetByTestId("face-card").First.GetAttributeAsync("data-face");
        await Page.Keyboard.PressAsync("n");
        await Assertions.Expect(Page.GetByTestId("face-card")).ToHaveCountAsync(1);
        var faceOf = (string key) => Library.Files.ReadSidecar(key[..key.IndexOf('#')]).Sidecar.Faces.Single(f => f.Id == int.Parse(key[(key.IndexOf('#') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(FaceStatus.Confirmed, faceOf(first!).Status);
        Assert.Contains(green, faceOf(second!).RejectedFor);
        Assert.Null(faceOf(second!).Person);

        // A person's page: select all with a, move them to a new person by name.
        await Page.GotoAsync($"/people/{green}");
        await Assertions.Expect(Page.GetByTestId("face-tile")).ToHaveCountAsync(2);
        await Page.Keyboard.PressAsync("a");
        await Page.GetByTestId("faces-move-to").FillAsync("Bob");
        await Page.GetByTestId("faces-move").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("message")).ToContainTextAsync("2 faces moved to Bob");
        await Assertions.Expect(Page.GetByTestId("face-tile")).ToHaveCountAsync(0);
        var bob = Library.People.All().Single(p => p.Name == "Bob");
        Assert.Equal(bob.Id, PersonOf(ids["e"], 416));
        AssertNoScriptErrors();
    }
}
