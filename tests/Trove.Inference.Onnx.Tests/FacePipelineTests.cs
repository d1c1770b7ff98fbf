using Trove.Application;
using Trove.Application.Faces;
using Trove.Application.Jobs;
using Trove.Application.Models;
using Trove.Application.Ports;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Domain.Faces;
using Trove.Domain.Models;
using Trove.Imaging.Vips;
using Trove.Index.Sqlite;
using Trove.Library;
using Trove.Search.Engine;
using Trove.Testing;
using static Trove.Testing.FacePictures;

namespace Trove.Inference.Onnx.Tests;

/// <summary>
/// Faces end to end through the real ONNX Runtime and libvips: a generated SCRFD-signature detector that finds bright
/// squares (128 px on the stride-32 grid, 64 px on the stride-16 grid) and an ArcFace-signature embedder that maps a
/// crop's colour to a direction. Images are imported; the faces job the import queued detects, aligns, embeds and
/// clusters; people are named, merged, split and corrected; <c>person:</c> finds them, also after a rebuild.
/// </summary>
public sealed class FacePipelineTests : IAsyncLifetime
{
    private static readonly Lazy<IImageEngine> Vips = new(() => VipsImageEngine.Create(new VipsOptions()));
    private readonly TempFolder _folder = new();
    private TroveLibrary _library = null!;
    private string _path = null!;
    private readonly HashSet<string> _ran = [];

    private static CancellationToken Ct => CancellationToken.None;


    public async Task InitializeAsync()
    {
        _path = Path.Combine(_folder.Path, "library");
        TroveLibrary.Init(_path, Environment());
        _library = await TroveLibrary.OpenAsync(_path, Environment(), null, Ct);
    }

    public async Task DisposeAsync()
    {
        await _library.DisposeAsync();
        _folder.Dispose();
    }

    private static LibraryEnvironment Environment() =>
        LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), new TroveOptions { Durability = Durability.Fast })
            with { Inference = Ort.Engine, Imaging = Vips.Value };

    private async Task RegisterAsync(bool embedder = true, string detectorVersion = "1")
    {
        var registry = new ModelRegistry(_library);
        var detector = OnnxModels.Write(Path.Combine(_folder.Path, $"scrfd-{detectorVersion}.onnx"), OnnxModels.FaceDetector());
        await registry.AddAsync(new ModelAddRequest("scrfd", ModelKinds.FaceDetector, detector, detectorVersion), Ct);
        if (embedder)
        {
            var arcface = OnnxModels.Write(Path.Combine(_folder.Path, "arcface.onnx"), OnnxModels.FaceEmbedder());
            await registry.AddAsync(new ModelAddRequest("arcface", ModelKinds.FaceEmbedder, arcface, "1"), Ct);
        }
    }

    private async Task<string> ImportAsync(string name, params FaceSquare[] squares)
    {
        var file = Path.Combine(_folder.Path, name + ".png");
        FacePictures.WritePng(file, squares);
        var report = await new MediaService(_library).ImportAsync([file], new ImportOptions([], null, DryRun: false), null, Ct);
        return Assert.Single(report.Media);
    }

    /// <summary>Runs the queued faces jobs; answers the results.</summary>
    private async Task<IReadOnlyList<FacesJobResult>> RunFaceJobsAsync()
    {
        var handler = JobCatalog.Handlers(_library, [FaceJobs.Kind]).Single();
        var jobs = await JobQueue.Of(_library).Store.ListAsync(FaceJobs.Kind, null, 100, Ct);
        var results = new List<FacesJobResult>();
        foreach (var job in jobs.Where(j => _ran.Add(j.Id)).Reverse())
        {
            results.Add(Assert.IsType<FacesJobResult>(await handler.RunAsync(new JobContext(job, new Progress<ProgressInfo>(), Ct))));
        }

        return results;
    }

    private async Task<IReadOnlyList<string>> FindAsync(string q) =>
        (await new SearchService(_library).SearchAsync(q, new SearchRequest(100, 0, null), Ct)).Ids;

    private static List<string> Sorted(params string[] ids) => [.. ids.Order(StringComparer.Ordinal)];

    private IReadOnlyList<FaceEntry> FacesOf(string id) => _library.Files.ReadSidecar(id).Sidecar.Faces;

    private static string Key(string media, FaceEntry face) => FormattableString.Invariant($"{media}#{face.Id}");

    [Fact]
    public async Task Faces_are_found_aligned_embedded_clustered_named_and_searchable_by_person()
    {
        await RegisterAsync();
        var (a, b, c, d, e) = await ImportTwoPeopleAsync(ImportAsync);
        var small = await ImportAsync("small", new FaceSquare(320, 320, Red, Size: 64));
        var dim = await ImportAsync("dim", new FaceSquare(320, 320, [235, 10, 10]));
        var none = await ImportAsync("none");

        var results = await RunFaceJobsAsync();
        Assert.NotEmpty(results);
        var run = results[^1];
        Assert.Equal("scrfd@1", run.Detector);
        Assert.Equal("arcface@1", run.Embedder);
        Assert.Empty(run.Failed);
        Assert.Equal(9, results.Sum(r => r.Faces));
        Assert.Equal(7, results.Sum(r => r.Usable));

        // Boxes in displayed pixels from the detector's decoded outputs; landmarks on ArcFace's template.
        var first = Assert.Single(FacesOf(b));
        Assert.Equal((96, 96, 128, 128), (first.Box.X, first.Box.Y, first.Box.W, first.Box.H));
        Assert.Equal(5, first.Landmarks.Count);
        Assert.InRange(first.Score, 0.9f, 1f);
        Assert.Empty(first.Quality.Reasons);
        Assert.Equal(128, first.Quality.Size);
        Assert.InRange(Math.Abs(first.Quality.Yaw), 0, 5);
        Assert.Equal("arcface@1", first.Embedder);

        // Quality filters record why: the 64-px square is too small, the dim one below the confidence threshold.
        Assert.Equal([FaceRejections.TooSmall], Assert.Single(FacesOf(small)).Quality.Reasons);
        var dimFace = Assert.Single(FacesOf(dim));
        Assert.Equal([FaceRejections.LowConfidence], dimFace.Quality.Reasons);
        Assert.Null(dimFace.Embedder);
        Assert.Empty(FacesOf(none));
        Assert.NotNull(_library.Files.ReadSidecar(none).Sidecar.FaceScan);

        // Clustering: three red faces and three green ones make two unnamed people; the lone blue face stays unknown.
        var people = await new PeopleService(_library).ListAsync(includeHidden: false, Ct);
        Assert.Equal(2, people.Count);
        Assert.All(people, p => Assert.Null(p.Person.Name));
        Assert.All(people, p => Assert.Equal(3, p.Suggested));
        var redPerson = FacesOf(b)[0].Person!;
        var greenPerson = FacesOf(d)[0].Person!;
        Assert.NotEqual(redPerson, greenPerson);
        Assert.Equal(redPerson, FacesOf(c).Single(f => f.Box.X == 416).Person);
        Assert.Equal(FaceVia.Cluster, FacesOf(b)[0].Via);
        var blueFace = FacesOf(c).Single(f => f.Box.X == 96);
        Assert.Equal(FaceStatus.Unassigned, blueFace.Status);

        // Query language over faces.
        Assert.Equal(Sorted(a, c), (await FindAsync("faces:2")).Order(StringComparer.Ordinal));
        Assert.Equal(Sorted(a, b, c, d, e), (await FindAsync("has:face")).Order(StringComparer.Ordinal));
        Assert.Equal(Sorted(none, small, dim), (await FindAsync("-has:face")).Order(StringComparer.Ordinal));
        Assert.Equal(Sorted(a, b, c), (await FindAsync($"person-suggested:{redPerson}")).Order(StringComparer.Ordinal));

        // Naming the red cluster confirms its faces; person:NAME finds them, any case, by alias or id too.
        var service = new PeopleService(_library);
        var (alice, confirmed) = await service.NameAsync(redPerson, "Alice Liddell", Ct);
        Assert.Equal(3, confirmed);
        Assert.Equal(FaceStatus.Confirmed, FacesOf(b)[0].Status);
        Assert.Equal(Sorted(a, b, c), (await FindAsync("person:\"alice liddell\"")).Order(StringComparer.Ordinal));
        Assert.Equal(Sorted(a, b, c), (await FindAsync($"person:{alice.Id}")).Order(StringComparer.Ordinal));
        Assert.Empty(await FindAsync("person-suggested:\"Alice Liddell\""));
        // Suggested faces are still unknown: a has Bob-to-be's suggested face, c the lone blue one.
        Assert.Equal(Sorted(a, c), (await FindAsync("person:\"Alice Liddell\" has:unknown-face")).Order(StringComparer.Ordinal));
        var unknownName = await Assert.ThrowsAsync<TroveUsageException>(() => FindAsync("person:\"Alise Liddell\""));
        Assert.Contains("Alice Liddell", unknownName.Message, StringComparison.Ordinal);

        // Merge green into Alice, then split the green faces back out to a new person: the un-merge.
        await service.NameAsync(greenPerson, "Bob", Ct);
        var (merged, moved) = await service.MergeAsync("Bob", "Alice Liddell", Ct);
        Assert.Equal(3, moved);
        Assert.Contains("Bob", merged.Aliases);
        Assert.Equal(Sorted(a, b, c, d, e), (await FindAsync("person:bob")).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(_library.Layout.PersonPath(greenPerson)));
        var greenFaces = new[] { Key(a, FacesOf(a).Single(f => f.Box.Y == 416)), Key(d, FacesOf(d)[0]), Key(e, FacesOf(e)[0]) };
        await service.UpdateAsync(alice.Id, p => p.Aliases.Remove("Bob"), Ct);
        var (bob, split) = await service.SplitAsync(greenFaces, to: null, newName: "Bob", Ct);
        Assert.Equal(3, split);
        Assert.Equal(Sorted(a, d, e), (await FindAsync("person:Bob")).Order(StringComparer.Ordinal));
        Assert.Equal(Sorted(a, b, c), (await FindAsync("person:\"Alice Liddell\"")).Order(StringComparer.Ordinal));
        Assert.Equal([a], await FindAsync("person:Bob person:\"Alice Liddell\""));

        // A rejected face goes back to nobody and is never suggested for that person again.
        var cFace = Key(c, FacesOf(c).Single(f => f.Person == alice.Id));
        Assert.Equal(1, await service.RejectAsync(alice.Id, [cFace], Ct));
        Assert.Equal(FaceStatus.Unassigned, FacesOf(c).Single(f => f.Box.X == 416).Status);
        Assert.Contains(alice.Id, FacesOf(c).Single(f => f.Box.X == 416).RejectedFor);
        await new FaceClusterer(_library).UpdateAsync(Ct);
        Assert.NotEqual(alice.Id, FacesOf(c).Single(f => f.Box.X == 416).Person);

        // A new red face is matched to Alice's confirmed faces: suggested for review, found by person-suggested:.
        var later = await ImportAsync("later", new FaceSquare(480, 480, Red));
        await RunFaceJobsAsync();
        var suggestion = Assert.Single(FacesOf(later));
        Assert.Equal((FaceStatus.Suggested, alice.Id, FaceVia.Match), (suggestion.Status, suggestion.Person, suggestion.Via));
        Assert.InRange(suggestion.Distance!.Value, 0, 0.05);
        Assert.Equal([later], await FindAsync("person-suggested:\"Alice Liddell\""));
        Assert.Contains(await service.SuggestionsAsync(null, 50, Ct), s => s.Id.Media == later);

        // Cover, hide; everything decided survives a rebuild (people live in files, faces in sidecars).
        await service.CoverAsync("Bob", greenFaces[1], Ct);
        await service.HideAsync("Bob", hidden: true, Ct);
        Assert.DoesNotContain(await service.ListAsync(includeHidden: false, Ct), p => p.Person.Id == bob.Id);
        await RebuildService.RebuildAsync(_library, null, Ct);
        Assert.Equal(Sorted(a, b), (await FindAsync("person:\"Alice Liddell\"")).Order(StringComparer.Ordinal));
        Assert.Equal(Sorted(a, d, e), (await FindAsync("person:Bob")).Order(StringComparer.Ordinal));
        Assert.Equal([later], await FindAsync("person-suggested:\"Alice Liddell\""));
        var bobAgain = (await service.GetAsync("bob", Ct)).Summary;
        Assert.True(bobAgain.Person.Hidden);
        Assert.Equal(greenFaces[1], bobAgain.Cover.ToString());
        var check = await new CheckService(_library).CheckAsync(repair: false, verifyHashes: false, null, Ct);
        Assert.Empty(check.Problems);
    }

    [Fact]
    public async Task A_run_again_skips_scanned_media_and_keeps_decisions_when_a_new_detector_version_rescans()
    {
        await RegisterAsync();
        var a = await ImportAsync("a", new FaceSquare(160, 160, Red));
        var b = await ImportAsync("b", new FaceSquare(160, 160, Red), new FaceSquare(480, 480, Blue));
        await ImportAsync("c", new FaceSquare(480, 160, Red));
        await RunFaceJobsAsync();
        var person = FacesOf(a)[0].Person!;
        var service = new PeopleService(_library);
        await service.NameAsync(person, "Carol", Ct);
        var blue = Key(b, FacesOf(b).Single(f => f.Box.X == 416));
        var (dave, _) = await service.SplitAsync([blue], to: null, newName: "Dave", Ct);

        var again = await new FaceRunner(_library).RunAsync([a, b], force: false, cluster: false, null, Ct);
        Assert.Equal(2, again.Skipped);
        Assert.Equal(0, again.Media);

        // A new detector version scans again; the same faces (by overlap) keep their ids and decisions.
        await RegisterAsync(embedder: false, detectorVersion: "2");
        var rescan = await new FaceRunner(_library).RunAsync([a, b], force: false, cluster: true, null, Ct);
        Assert.Equal(2, rescan.Media);
        var faces = FacesOf(b);
        Assert.Equal(2, faces.Count);
        Assert.All(faces, f => Assert.Equal("scrfd@2", f.Detector));
        Assert.Equal(FaceStatus.Confirmed, faces.Single(f => f.Box.X == 416).Status);
        Assert.Equal([b], await FindAsync("person:Dave"));
        Assert.Equal(3, (await FindAsync("person:Carol")).Count);

        // A person's file removed behind Trove's back: check names the faces that point at nobody; repair unassigns them.
        File.Delete(_library.Layout.PersonPath(dave.Id));
        var check = await new CheckService(_library).CheckAsync(repair: false, verifyHashes: false, null, Ct);
        var problem = Assert.Single(check.Problems, p => p.Type == "face-person-missing");
        Assert.Equal(b, problem.Id);
        Assert.Contains(dave.Id, problem.Message, StringComparison.Ordinal);
        await new CheckService(_library).CheckAsync(repair: true, verifyHashes: false, null, Ct);
        Assert.Equal(FaceStatus.Unassigned, FacesOf(b).Single(f => f.Box.X == 416).Status);
        Assert.Empty((await new CheckService(_library).CheckAsync(repair: false, verifyHashes: false, null, Ct)).Problems);
    }

    [Fact]
    public async Task Without_models_the_errors_say_what_to_register_and_bad_references_are_named()
    {
        var a = await ImportAsync("a", new FaceSquare(160, 160, Red));
        var error = await Assert.ThrowsAnyAsync<TroveException>(() => new FaceRunner(_library).RunAsync([a], false, false, null, Ct));
        Assert.Equal("no-face-detector", error.Code);
        Assert.Contains("face-detector", error.Hint ?? error.Message, StringComparison.Ordinal);

        await RegisterAsync(embedder: false);
        var detected = await new FaceRunner(_library).RunAsync([a], false, cluster: false, null, Ct);
        Assert.Equal(1, detected.Faces);
        Assert.Null(Assert.Single(FacesOf(a)).Embedder);
        var cluster = await Assert.ThrowsAnyAsync<TroveException>(() => new FaceClusterer(_library).UpdateAsync(Ct));
        Assert.Equal("no-face-embedder", cluster.Code);

        var service = new PeopleService(_library);
        var missing = await Assert.ThrowsAnyAsync<TroveException>(() => service.NameAsync("nobody", "X", Ct));
        Assert.Equal("person-not-found", missing.Code);
        var badFace = await Assert.ThrowsAnyAsync<TroveException>(() => service.SplitAsync([$"{a}#7"], null, "X", Ct));
        Assert.Contains($"{a[..8]}", badFace.Message, StringComparison.Ordinal);
        Assert.Contains("has no face 7", badFace.Message, StringComparison.Ordinal);
        Assert.Empty(_library.People.All());
    }

    [Theory]
    [InlineData("yunet")]
    [InlineData("retinaface")]
    public async Task YuNet_and_RetinaFace_outputs_are_decoded_like_their_reference_code(string layout)
    {
        var model = OnnxModels.Write(Path.Combine(_folder.Path, $"{layout}.onnx"), OnnxModels.ConstantFaceDetector(layout, cx: 480, cy: 160));
        var registry = new ModelRegistry(_library);

        // Registered without its layout, the model is refused with the parameter that fixes it.
        var refused = await Assert.ThrowsAnyAsync<TroveException>(() => registry.AddAsync(new ModelAddRequest("det", ModelKinds.FaceDetector, model, "1"), Ct));
        Assert.Equal("model-signature", refused.Code);
        Assert.Contains($"\"layout\":\"{layout}\"", refused.Message, StringComparison.Ordinal);

        await registry.AddAsync(new ModelAddRequest("det", ModelKinds.FaceDetector, model, "1", Parameters: new System.Text.Json.Nodes.JsonObject { ["layout"] = layout, ["autoFaces"] = false }), Ct);
        var arcface = OnnxModels.Write(Path.Combine(_folder.Path, "arcface.onnx"), OnnxModels.FaceEmbedder());
        await registry.AddAsync(new ModelAddRequest("arcface", ModelKinds.FaceEmbedder, arcface, "1"), Ct);
        var a = await ImportAsync("a", new FaceSquare(480, 160, Red));
        var run = await new FaceRunner(_library).RunAsync([a], false, cluster: false, null, Ct);
        Assert.Equal(1, run.Usable);

        // The box and landmarks the constant outputs encode, read back through the layout's decoding (centre 480,160,
        // side 128), in the image's pixels; the aligned crop of the red square embeds like a red face.
        var face = Assert.Single(FacesOf(a));
        Assert.InRange(face.Box.X, 415, 417);
        Assert.InRange(face.Box.Y, 95, 97);
        Assert.InRange(face.Box.W, 127, 129);
        Assert.InRange(face.Box.H, 127, 129);
        Assert.InRange(face.Score, 0.94f, 0.96f);
        Assert.Equal(5, face.Landmarks.Count);
        Assert.InRange(face.Landmarks[0].X, 480 + (OnnxModels.FaceLandmarkOffsets[0] * 32) - 1, 480 + (OnnxModels.FaceLandmarkOffsets[0] * 32) + 1);
        Assert.InRange(face.Landmarks[2].Y, 160 + (OnnxModels.FaceLandmarkOffsets[5] * 32) - 1, 160 + (OnnxModels.FaceLandmarkOffsets[5] * 32) + 1);
        Assert.InRange(Math.Abs(face.Quality.Yaw), 0, 5);
        Assert.Equal("arcface@1", face.Embedder);
    }
}
