using Trove.Domain;
using Trove.Domain.Faces;

namespace Trove.Index.Conformance;

public abstract partial class LibraryIndexConformanceTests
{
    private static FaceEntry Face(int id, string status = FaceStatus.Unassigned, string? person = null, bool usable = true, params string[] rejectedFor)
    {
        var face = new FaceEntry { Id = id, Status = status, Person = person, Detector = "scrfd@1", Box = new FaceBox { X = 1, Y = 2, W = 100, H = 100 } };
        face.RejectedFor.AddRange(rejectedFor);
        if (!usable)
        {
            face.Quality.Reasons.Add(FaceRejections.TooSmall);
        }

        return face;
    }

    [Fact]
    public async Task Faces_are_listed_with_their_state_for_library_media_and_replaced_when_the_sidecar_changes()
    {
        var a = Sidecar(1);
        a.Faces.AddRange([
            Face(1, FaceStatus.Confirmed, "aaaaaaaaaaaa"),
            Face(2, FaceStatus.Suggested, "bbbbbbbbbbbb", rejectedFor: ["aaaaaaaaaaaa", "cccccccccccc"]),
            Face(3, usable: false),
        ]);
        var b = Sidecar(2);
        b.Faces.Add(Face(1, FaceStatus.Rejected));
        var trashed = Sidecar(3);
        trashed.Faces.Add(Face(1, FaceStatus.Confirmed, "aaaaaaaaaaaa"));
        await UpsertAsync(a);
        await UpsertAsync(b);
        await UpsertTrashAsync(trashed);

        var faces = await Index.ListFacesAsync(Ct);
        Assert.Equal([(a.Id, 1), (a.Id, 2), (a.Id, 3), (b.Id, 1)], faces.Select(f => (f.MediaId, f.FaceId)));
        Assert.Equal((FaceStatus.Confirmed, "aaaaaaaaaaaa", true), (faces[0].Status, faces[0].Person, faces[0].Usable));
        Assert.Equal(["aaaaaaaaaaaa", "cccccccccccc"], faces[1].RejectedFor);
        Assert.False(faces[2].Usable);
        Assert.Null(faces[3].Person);
        Assert.Empty(faces[3].RejectedFor);

        a.Faces.RemoveAt(0);
        a.Faces[0].Status = FaceStatus.Confirmed;
        await UpsertAsync(a);
        faces = await Index.ListFacesAsync(Ct);
        Assert.Equal([(a.Id, 2, FaceStatus.Confirmed), (a.Id, 3, FaceStatus.Unassigned), (b.Id, 1, FaceStatus.Rejected)], faces.Select(f => (f.MediaId, f.FaceId, f.Status)));
    }

    [Fact]
    public async Task Search_documents_carry_counted_faces_unknown_faces_and_people()
    {
        var a = Sidecar(1);
        a.Faces.AddRange([
            Face(1, FaceStatus.Confirmed, "aaaaaaaaaaaa"),
            Face(2, FaceStatus.Suggested, "bbbbbbbbbbbb"),
            Face(3, usable: false),
            Face(4, FaceStatus.Rejected),
        ]);
        var b = Sidecar(2);
        b.Faces.Add(Face(1, FaceStatus.Confirmed, "aaaaaaaaaaaa"));
        var none = Sidecar(3);
        await UpsertAsync(a);
        await UpsertAsync(b);
        await UpsertAsync(none);

        var docs = (await ReadDocumentsAsync(0)).ToDictionary(d => d.Id);
        Assert.Equal((2, true), (docs[a.Id].FaceCount, docs[a.Id].HasUnknownFace));
        Assert.Equal(["aaaaaaaaaaaa"], docs[a.Id].People);
        Assert.Equal(["bbbbbbbbbbbb"], docs[a.Id].SuggestedPeople);
        Assert.Equal((1, false), (docs[b.Id].FaceCount, docs[b.Id].HasUnknownFace));
        Assert.Equal((0, false), (docs[none.Id].FaceCount, docs[none.Id].HasUnknownFace));
        Assert.Empty(docs[none.Id].People);
    }
}
