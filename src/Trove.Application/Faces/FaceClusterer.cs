using Trove.Application.Ports;
using Trove.Domain;
using Trove.Domain.Faces;
using Trove.Search.Vectors;

namespace Trove.Application.Faces;

/// <summary>What one clustering pass did.</summary>
/// <param name="Matched">Unassigned faces suggested for a person with confirmed faces (waiting for review).</param>
/// <param name="Joined">Unassigned faces that joined an unnamed cluster.</param>
/// <param name="Clustered">Faces put into new clusters.</param>
/// <param name="NewPeople">New unnamed people (one per new cluster).</param>
/// <param name="Unassigned">Usable faces still belonging to nobody.</param>
public sealed record FaceClusterResult(int Matched, int Joined, int Clustered, int NewPeople, int Unassigned);

/// <summary>
/// Recognition and clustering of unassigned faces (docs/faces.md, "Clustering"), incremental: each pass takes the
/// usable faces that belong to nobody and
/// <list type="number">
/// <item>suggests each for the person of its nearest confirmed face within the match distance (0.46), or for the
/// unnamed cluster of its nearest clustered face within the cluster distance (0.5) — never a person the face was
/// rejected for, never a hidden person;</item>
/// <item>clusters the rest (DBSCAN, at least <see cref="FaceEmbedderParameters.MinFaces"/> faces within the cluster
/// distance) into new unnamed people, their faces suggested with their distance to the cluster's centre.</item>
/// </list>
/// Confirmed and rejected faces, and suggestions waiting for review, are never changed by a pass.
/// </summary>
public sealed class FaceClusterer(TroveLibrary library)
{
    /// <summary>Nearest known faces looked at per face (the first allowed one decides).</summary>
    public const int Candidates = 16;

    public async Task<FaceClusterResult> UpdateAsync(CancellationToken ct)
    {
        var active = ActiveFaceModels.Require(library);
        active.RequireEmbedder();
        var parameters = active.EmbedderParameters;
        var vectors = library.Faces.ReadAll(active);
        var faces = await library.Index.ListFacesAsync(ct).ConfigureAwait(false);
        var people = library.People.All().ToDictionary(p => p.Id, StringComparer.Ordinal);
        var plan = Plan(faces, vectors, people, parameters, ct);
        if (plan.Assignments.Count == 0)
        {
            return plan.Result;
        }

        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);

        // The new people's files first: a face never points at a person whose file was not written.
        foreach (var person in plan.NewPeople)
        {
            person.CreatedAt = library.Now;
            person.CreatedBy = library.Actor;
            session.SavePerson(person);
        }

        foreach (var media in plan.Assignments.GroupBy(a => a.MediaId, StringComparer.Ordinal))
        {
            if (session.TryRead(media.Key) is not { } stored)
            {
                continue;
            }

            var changed = false;
            foreach (var a in media)
            {
                // Only a face still unassigned is changed (a person may have decided in the meantime).
                if (stored.Sidecar.Faces.Find(f => f.Id == a.FaceId) is { Status: FaceStatus.Unassigned } face && !face.RejectedFor.Contains(a.Person))
                {
                    face.Status = FaceStatus.Suggested;
                    face.Person = a.Person;
                    face.Distance = Math.Round(a.Distance, 4);
                    face.Via = a.Via;
                    changed = true;
                }
            }

            if (changed)
            {
                await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
            }
        }

        return plan.Result;
    }

    /// <summary>A face's assignment decided by a pass.</summary>
    public sealed record Assignment(string MediaId, int FaceId, string Person, double Distance, string Via);

    public sealed record ClusterPlan(IReadOnlyList<Assignment> Assignments, IReadOnlyList<Person> NewPeople, FaceClusterResult Result);

    /// <summary>The pure part of a pass: what would be assigned to whom, and which new people it needs.</summary>
    public static ClusterPlan Plan(IReadOnlyList<IndexedFace> faces, IReadOnlyDictionary<string, float[]> vectors, IReadOnlyDictionary<string, Person> people, FaceEmbedderParameters parameters, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(people);
        ArgumentNullException.ThrowIfNull(parameters);
        var withVectors = new List<(IndexedFace Face, float[] Vector)>();
        foreach (var f in faces)
        {
            if (f.Usable && f.Status != FaceStatus.Rejected && vectors.TryGetValue(FaceKeys.Of(f.MediaId, f.FaceId), out var v))
            {
                withVectors.Add((f, v));
            }
        }

        bool Allowed(string? person) => person is not null && people.TryGetValue(person, out var p) && !p.Hidden;

        // Known faces: confirmed ones (any person), and clustered suggestions of unnamed people.
        var known = withVectors.Where(x => Allowed(x.Face.Person) && (x.Face.Status == FaceStatus.Confirmed
            || (x.Face.Status == FaceStatus.Suggested && people[x.Face.Person!].Name is null))).ToList();
        var open = withVectors.Where(x => x.Face.Status == FaceStatus.Unassigned).ToList();
        if (open.Count == 0)
        {
            return new ClusterPlan([], [], new FaceClusterResult(0, 0, 0, 0, 0));
        }

        var dims = open[0].Vector.Length;
        var assignments = new List<Assignment>();
        var (matched, joined) = (0, 0);
        var rest = new List<(IndexedFace Face, float[] Vector)>();
        if (known.Count > 0)
        {
            var index = new VectorIndex(dims, known.Count);
            for (var i = 0; i < known.Count; i++)
            {
                index.Set(i, known[i].Vector);
            }

            if (known.Count > index.ExactLimit)
            {
                index.BuildLists(ct: ct);
            }

            var minScore = 1 - Math.Max(parameters.MatchDistance, parameters.ClusterDistance);
            foreach (var (face, vector) in open)
            {
                ct.ThrowIfCancellationRequested();
                var (hits, _) = index.Search(vector, Candidates, default, filtered: false, minScore);
                Assignment? found = null;
                foreach (var hit in hits)
                {
                    var k = known[hit.Slot].Face;
                    var confirmed = k.Status == FaceStatus.Confirmed;
                    var distance = 1 - hit.Score;
                    if (face.RejectedFor.Contains(k.Person!) || distance > (confirmed ? parameters.MatchDistance : parameters.ClusterDistance))
                    {
                        continue;
                    }

                    found = new Assignment(face.MediaId, face.FaceId, k.Person!, distance, confirmed ? FaceVia.Match : FaceVia.Cluster);
                    break;
                }

                if (found is null)
                {
                    rest.Add((face, vector));
                }
                else
                {
                    assignments.Add(found);
                    if (found.Via == FaceVia.Match)
                    {
                        matched++;
                    }
                    else
                    {
                        joined++;
                    }
                }
            }
        }
        else
        {
            rest = open;
        }

        var newPeople = new List<Person>();
        var clustered = 0;
        if (rest.Count >= parameters.MinFaces)
        {
            var index = new VectorIndex(dims, rest.Count);
            for (var i = 0; i < rest.Count; i++)
            {
                index.Set(i, rest[i].Vector);
            }

            var probes = 1;
            if (rest.Count > index.ExactLimit)
            {
                // Faces of one person spread over neighbouring lists more than near-duplicates do.
                index.BuildLists(ct: ct);
                probes = 3;
            }

            var all = new ulong[(rest.Count + 63) >> 6];
            for (var i = 0; i < rest.Count; i++)
            {
                all[i >> 6] |= 1UL << (i & 63);
            }

            var pairs = index.SimilarPairs(all, 1 - parameters.ClusterDistance, probes, null, ct);
            var labels = FaceClustering.Dbscan(rest.Count, pairs, parameters.MinFaces, ct);
            foreach (var members in Enumerable.Range(0, rest.Count).Where(i => labels[i] >= 0).GroupBy(i => labels[i]))
            {
                var list = members.ToList();
                var centre = new float[dims];
                foreach (var i in list)
                {
                    for (var d = 0; d < dims; d++)
                    {
                        centre[d] += rest[i].Vector[d];
                    }
                }

                var norm = MathF.Sqrt(centre.Sum(x => x * x));
                var person = new Person { Id = Person.NewId() };
                newPeople.Add(person);
                foreach (var i in list)
                {
                    var dot = 0f;
                    for (var d = 0; d < dims; d++)
                    {
                        dot += rest[i].Vector[d] * centre[d];
                    }

                    var distance = norm > 0 ? 1 - (dot / norm) : 1;
                    assignments.Add(new Assignment(rest[i].Face.MediaId, rest[i].Face.FaceId, person.Id, Math.Max(0, distance), FaceVia.Cluster));
                    clustered++;
                }
            }
        }

        var result = new FaceClusterResult(matched, joined, clustered, newPeople.Count, open.Count - assignments.Count);
        return new ClusterPlan(assignments, newPeople, result);
    }
}
