using System.Text.Json;
using Trove.Testing;
using static Trove.Testing.FacePictures;

namespace Trove.Cli.Tests;

/// <summary>
/// Faces and people through the real CLI (issue 17): the generated SCRFD detector and ArcFace embedder registered with
/// 'trove models add', 'trove faces detect --now' through real ONNX Runtime and libvips, then every 'trove people'
/// operation, person: search, a rebuild that keeps every decision, and a clean check.
/// </summary>
[Collection(InProcessCollection.Name)]
public sealed class FaceCommandsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Library => _temp.Combine("library");

    public void Dispose() => _temp.Dispose();

    private async Task<string> ImportAsync(string name, params FaceSquare[] squares)
    {
        var file = WritePng(_temp.Combine("photos", name + ".png"), squares);
        return (await Cli.InAsync(Library, "import", file, "--json")).ShouldSucceed().Json.GetProperty("media").Strings()[0];
    }

    private async Task<JsonElement> JsonAsync(params string[] args) => (await Cli.InAsync(Library, [.. args, "--json"])).ShouldSucceed().Json;

    private async Task<List<string>> FindAsync(string query) => [.. (await JsonAsync("search", query)).Ids().Order(StringComparer.Ordinal)];

    private static List<string> Sorted(params string[] ids) => [.. ids.Order(StringComparer.Ordinal)];

    private async Task<string> FaceAtAsync(string media, int x, int y)
    {
        var faces = (await JsonAsync("faces", media)).GetProperty("faces").EnumerateArray();
        return faces.Single(f => f.GetProperty("box").GetProperty("x").GetInt32() == x && f.GetProperty("box").GetProperty("y").GetInt32() == y).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Detect_cluster_name_merge_split_reject_and_search_by_person_from_the_command_line()
    {
        (await Cli.InAsync(Library, "init")).ShouldSucceed();
        var (a, b, c, d, e) = await ImportTwoPeopleAsync(ImportAsync);
        var small = await ImportAsync("small", new FaceSquare(320, 320, Red, Size: 64));

        // No detector yet: the error says what to register.
        var missing = await Cli.InAsync(Library, "faces", "detect", "", "--now", "--json");
        Assert.Equal("no-face-detector", missing.ShouldExit(1).ErrorCode());
        Assert.Contains("not scanned", (await Cli.InAsync(Library, "faces", b[..10])).ShouldSucceed().Stdout, StringComparison.Ordinal);

        var detector = OnnxModels.Write(_temp.Combine("models", "scrfd.onnx"), OnnxModels.FaceDetector());
        var embedder = OnnxModels.Write(_temp.Combine("models", "arcface.onnx"), OnnxModels.FaceEmbedder());
        (await Cli.InAsync(Library, "models", "add", "scrfd", "--kind", "face-detector", "--file", detector, "--version", "10g")).ShouldSucceed();
        (await Cli.InAsync(Library, "models", "add", "arcface", "--kind", "face-embedder", "--file", embedder, "--version", "r100")).ShouldSucceed();

        var queued = await JsonAsync("faces", "detect", "");
        Assert.Equal(6, queued.GetProperty("media").GetInt32());
        Assert.Single(queued.GetProperty("jobs").EnumerateArray());

        var run = await JsonAsync("faces", "detect", "", "--now");
        Assert.Equal("scrfd@10g", run.GetProperty("detector").GetString());
        Assert.Equal("arcface@r100", run.GetProperty("embedder").GetString());
        Assert.Equal(6, run.GetProperty("media").GetInt32());
        Assert.Equal(8, run.GetProperty("faces").GetInt32());
        Assert.Equal(7, run.GetProperty("usable").GetInt32());
        Assert.Equal(2, run.GetProperty("clustering").GetProperty("newPeople").GetInt32());
        Assert.Equal(6, (await JsonAsync("faces", "detect", "", "--now")).GetProperty("skipped").GetInt32());

        // A media's faces: the box in displayed pixels, the filtered face with its reason, and the text form.
        var smallFace = (await JsonAsync("faces", small[..12])).GetProperty("faces")[0];
        Assert.False(smallFace.GetProperty("usable").GetBoolean());
        Assert.Equal("face-too-small", smallFace.GetProperty("quality").GetProperty("reasons")[0].GetString());
        var text = (await Cli.InAsync(Library, "faces", b[..12])).ShouldSucceed().Stdout;
        Assert.Contains($"{b}#1", text, StringComparison.Ordinal);
        Assert.Contains("128×128 at 96,96", text, StringComparison.Ordinal);
        Assert.Contains("suggested: unnamed", text, StringComparison.Ordinal);

        var people = (await JsonAsync("people", "list")).GetProperty("people").EnumerateArray().ToList();
        Assert.Equal(2, people.Count);
        Assert.All(people, p => Assert.Equal(3, p.GetProperty("suggested").GetInt32()));
        var redId = (await JsonAsync("faces", b)).GetProperty("faces")[0].GetProperty("person").GetString()!;
        var greenId = (await JsonAsync("faces", d)).GetProperty("faces")[0].GetProperty("person").GetString()!;

        // Naming confirms the cluster; person: finds the media, by name, alias and id.
        var named = await JsonAsync("people", "name", redId, "Alice Liddell");
        Assert.Equal(3, named.GetProperty("result").GetProperty("confirmed").GetInt32());
        Assert.Equal(3, named.GetProperty("person").GetProperty("confirmed").GetInt32());
        // Without a chosen cover a person is shown by a face from a picture with no other face (b has only Alice).
        Assert.Equal($"{b}#1", named.GetProperty("person").GetProperty("cover").GetString());
        Assert.Equal(Sorted(a, b, c), await FindAsync("person:\"alice liddell\""));
        (await Cli.InAsync(Library, "people", "edit", "Alice Liddell", "--alias", "Alice", "--external", "stashdb=7c1e", "--description", "The one who fell")).ShouldSucceed();
        var shown = await JsonAsync("people", "show", "alice");
        Assert.Equal("7c1e", shown.GetProperty("person").GetProperty("externalIds").GetProperty("stashdb").GetString());
        Assert.Equal(["Alice"], shown.GetProperty("person").GetProperty("aliases").Strings());
        Assert.Equal(3, shown.GetProperty("faces").GetArrayLength());
        Assert.Equal(Sorted(a, b, c), await FindAsync("person:alice"));
        Assert.Equal(Sorted(a, b, c), await FindAsync($"person:{redId}"));

        // Another name already taken, an unknown person, a bad face: clear errors, nothing changes.
        Assert.Equal("person-name-taken", (await Cli.InAsync(Library, "people", "name", greenId, "alice liddell", "--json")).ShouldExit(2).ErrorCode());
        Assert.Equal("person-not-found", (await Cli.InAsync(Library, "people", "show", "Nobody", "--json")).ShouldExit(1).ErrorCode());
        Assert.Equal("bad-face", (await Cli.InAsync(Library, "people", "confirm", "nonsense", "--json")).ShouldExit(2).ErrorCode());
        Assert.Equal("face-not-found", (await Cli.InAsync(Library, "people", "split", $"{b[..12]}#1", $"{b[..12]}#9", "--new", "Ghost", "--json")).ShouldExit(1).ErrorCode());
        Assert.Equal(2, (await JsonAsync("people", "list")).GetProperty("people").GetArrayLength());

        // Merge green into Alice, then split it back out as Bob: the un-merge.
        (await Cli.InAsync(Library, "people", "name", greenId, "Bob")).ShouldSucceed();
        var merged = await JsonAsync("people", "merge", "Bob", "Alice");
        Assert.Equal(3, merged.GetProperty("result").GetProperty("moved").GetInt32());
        Assert.Equal(Sorted(a, b, c, d, e), await FindAsync("person:alice"));
        (await Cli.InAsync(Library, "people", "edit", "Alice", "--remove-alias", "Bob")).ShouldSucceed();
        var greens = new[] { await FaceAtAsync(a, 416, 416), await FaceAtAsync(d, 96, 96), await FaceAtAsync(e, 416, 96) };
        var split = await JsonAsync(["people", "split", .. greens, "--new", "Bob"]);
        Assert.Equal(3, split.GetProperty("result").GetProperty("moved").GetInt32());
        Assert.Equal(Sorted(a, d, e), await FindAsync("person:bob"));
        Assert.Equal(Sorted(a, b, c), await FindAsync("person:alice"));

        // Reject one of Alice's faces: it goes back to nobody and is never suggested for her again.
        var cRed = await FaceAtAsync(c, 416, 96);
        Assert.Equal(1, (await JsonAsync("people", "reject", "Alice", cRed)).GetProperty("rejected").GetInt32());
        Assert.Equal(Sorted(a, b), await FindAsync("person:alice"));
        (await Cli.InAsync(Library, "faces", "cluster")).ShouldSucceed();
        var after = (await JsonAsync("faces", c)).GetProperty("faces").EnumerateArray().Single(f => f.GetProperty("id").GetString() == cRed);
        Assert.False(after.TryGetProperty("person", out var person) && person.GetString() == redId, after.ToString());
        Assert.Contains(redId, after.GetProperty("rejectedFor").Strings());
        (await Cli.InAsync(Library, "people", "confirm", cRed, "--person", "Alice")).ShouldSucceed();
        Assert.Equal(Sorted(a, b, c), await FindAsync("person:alice"));

        // Cover, hide, unhide; the blue face was never anybody's; not-face takes a detection out of the counts.
        var aliceInC = await FaceAtAsync(c, 416, 96);
        var cover = await JsonAsync("people", "cover", "Alice", aliceInC);
        Assert.Equal(aliceInC, cover.GetProperty("person").GetProperty("cover").GetString());
        (await Cli.InAsync(Library, "people", "hide", "Bob")).ShouldSucceed();
        Assert.Single((await JsonAsync("people", "list")).GetProperty("people").EnumerateArray());
        Assert.Equal(2, (await JsonAsync("people", "list", "--all")).GetProperty("people").GetArrayLength());
        (await Cli.InAsync(Library, "people", "unhide", "Bob")).ShouldSucceed();
        Assert.Equal(Sorted(c), await FindAsync("has:unknown-face"));
        var blue = await FaceAtAsync(c, 96, 416);
        Assert.Equal(1, (await JsonAsync("faces", "not-face", blue)).GetProperty("changed").GetInt32());
        Assert.Empty(await FindAsync("has:unknown-face"));
        Assert.Equal(Sorted(a), await FindAsync("faces:2"));

        // Everything a person decided lives in the files: a rebuild keeps it, and the library checks clean.
        (await Cli.InAsync(Library, "rebuild")).ShouldSucceed();
        Assert.Equal(Sorted(a, b, c), await FindAsync("person:alice"));
        Assert.Equal(Sorted(a, d, e), await FindAsync("person:bob"));
        Assert.Equal(aliceInC, (await JsonAsync("people", "show", "Alice")).GetProperty("person").GetProperty("cover").GetString());
        var check = await JsonAsync("check");
        Assert.Empty(check.GetProperty("problems").EnumerateArray());
    }
}
