using Trove.Application.Crops;
using Trove.Application.Ports;
using Trove.Domain;
using Trove.Domain.Faces;
using Trove.Library;

namespace Trove.Application.Faces;

/// <summary>A face named by its media and its number in the media: <c>3fd6e6#2</c>.</summary>
public readonly record struct FaceId(string Media, int Face)
{
    public override string ToString() => FormattableString.Invariant($"{Media}#{Face}");
}

/// <summary>A person with their counts, for lists.</summary>
public sealed record PersonSummary(Person Person, int Confirmed, int Suggested, int Media, FaceId? Cover);

/// <summary>One face of a person (or of the review queue), with where it is.</summary>
public sealed record PersonFace(FaceId Id, FaceEntry Face);

/// <summary>A person and their faces.</summary>
/// <summary>Changes to a person's details; what is null stays as it is.</summary>
public sealed record PersonEdit(
    IReadOnlyList<string>? AddAliases = null,
    IReadOnlyList<string>? RemoveAliases = null,
    string? Description = null,
    string? Notes = null,
    IReadOnlyDictionary<string, string?>? ExternalIds = null);

public sealed record PersonDetail(PersonSummary Summary, IReadOnlyList<PersonFace> Faces);

/// <summary>
/// What people do with people (docs/faces.md, "Person operations"): name a cluster, merge two people, split faces off
/// to another or a new person (un-merge), confirm or reject suggestions (a rejection is remembered: the face is never
/// suggested for that person again), mark a detection as not a face, choose the cover, hide a person. Each operation is
/// one write session: the people files and the sidecars of the faces it touches, audited.
/// </summary>
public sealed class PeopleService(TroveLibrary library)
{
    public async Task<IReadOnlyList<PersonSummary>> ListAsync(bool includeHidden, CancellationToken ct)
    {
        var faces = await library.Index.ListFacesAsync(ct).ConfigureAwait(false);
        var byPerson = faces.Where(f => f.Person is not null).ToLookup(f => f.Person!, StringComparer.Ordinal);
        var singles = SingleFaceMedia(faces);
        return [.. library.People.All()
            .Where(p => includeHidden || !p.Hidden)
            .Select(p => Summarise(p, byPerson[p.Id], singles))
            .OrderByDescending(s => s.Person.Name is not null)
            .ThenByDescending(s => s.Confirmed + s.Suggested)
            .ThenBy(s => s.Person.Name, StringComparer.OrdinalIgnoreCase)
            .ThenBy(s => s.Person.Id, StringComparer.Ordinal)];
    }

    public async Task<PersonDetail> GetAsync(string reference, CancellationToken ct)
    {
        var person = Resolve(reference);
        var all = await library.Index.ListFacesAsync(ct).ConfigureAwait(false);
        var faces = all.Where(f => f.Person == person.Id).ToList();
        var detail = new List<PersonFace>();
        foreach (var media in faces.GroupBy(f => f.MediaId, StringComparer.Ordinal))
        {
            if (library.Files.TryReadSidecar(media.Key) is not { } stored)
            {
                continue;
            }

            foreach (var f in stored.Sidecar.Faces.Where(f => f.Person == person.Id))
            {
                detail.Add(new PersonFace(new FaceId(media.Key, f.Id), f));
            }
        }

        detail = [.. detail.OrderBy(f => f.Face.Status == FaceStatus.Confirmed ? 0 : 1).ThenBy(f => f.Face.Distance ?? 0).ThenBy(f => f.Id.Media, StringComparer.Ordinal).ThenBy(f => f.Id.Face)];
        return new PersonDetail(Summarise(person, faces, SingleFaceMedia(all)), detail);
    }

    /// <summary>The faces waiting for review (suggested), those for named people first, closest first.</summary>
    public async Task<IReadOnlyList<PersonFace>> SuggestionsAsync(string? reference, int limit, CancellationToken ct)
    {
        var person = reference is null ? null : Resolve(reference);
        var people = library.People.All().ToDictionary(p => p.Id, StringComparer.Ordinal);
        var faces = (await library.Index.ListFacesAsync(ct).ConfigureAwait(false))
            .Where(f => f.Status == FaceStatus.Suggested && f.Person is not null && (person is null || f.Person == person.Id) && people.TryGetValue(f.Person, out var p) && !p.Hidden)
            .ToList();
        var result = new List<PersonFace>();
        foreach (var media in faces.GroupBy(f => f.MediaId, StringComparer.Ordinal))
        {
            if (library.Files.TryReadSidecar(media.Key)?.Sidecar is { } sidecar)
            {
                result.AddRange(sidecar.Faces.Where(f => f.Status == FaceStatus.Suggested && media.Any(m => m.FaceId == f.Id)).Select(f => new PersonFace(new FaceId(media.Key, f.Id), f)));
            }
        }

        return [.. result
            .OrderBy(f => people[f.Face.Person!].Name is null ? 1 : 0)
            .ThenBy(f => f.Face.Distance ?? 1)
            .ThenBy(f => f.Id.Media, StringComparer.Ordinal)
            .ThenBy(f => f.Id.Face)
            .Take(Math.Max(1, limit))];
    }

    /// <summary>The faces of one media.</summary>
    public async Task<(string MediaId, IReadOnlyList<FaceEntry> Faces, FaceScan? Scan)> FacesOfAsync(string reference, CancellationToken ct)
    {
        var id = await library.ResolveIdAsync(reference, ct).ConfigureAwait(false);
        var sidecar = library.Files.ReadSidecar(id).Sidecar;
        return (id, sidecar.Faces, sidecar.FaceScan);
    }

    /// <summary>
    /// A face as a square image (the box widened by a quarter on each side, kept inside the picture), at most
    /// <paramref name="maxSize"/> pixels, through the crop render cache: what face grids show.
    /// </summary>
    public async Task<RenderedCrop> RenderFaceAsync(string face, int maxSize, CancellationToken ct)
    {
        if (maxSize is < 16 or > 1024)
        {
            throw new TroveUsageException("bad-size", $"A face image is 16–1024 pixels, not {maxSize}.");
        }

        var id = (await ParseFacesAsync([face], ct).ConfigureAwait(false))[0];
        var stored = library.Files.ReadSidecar(id.Media);
        var entry = stored.Sidecar.Faces.Find(f => f.Id == id.Face)
            ?? throw new TroveException("face-not-found", $"Media {id.Media[..12]}… has no face {id.Face}.", $"See 'trove faces {id.Media[..12]}'.");
        var rect = FaceFrame(entry.Box, stored.Sidecar.Original.Width ?? int.MaxValue, stored.Sidecar.Original.Height ?? int.MaxValue);
        var original = library.Layout.OriginalPath(id.Media, stored.Sidecar.Original.Ext, stored.InTrash);
        return CropService.Render(library, id.Media, original, rect, maxSize, ImageFormat.WebP, quality: 85, ct) with { Crop = id.ToString() };
    }

    /// <summary>The square around a face box with a quarter of its side as margin, moved and shrunk to fit the picture.</summary>
    public static PixelRect FaceFrame(FaceBox box, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(box);
        var side = (int)Math.Round(Math.Max(box.W, box.H) * 1.5);
        side = Math.Max(1, Math.Min(side, Math.Min(width, height)));
        var cx = box.X + (box.W / 2.0);
        var cy = box.Y + (box.H / 2.0);
        var x = (int)Math.Round(cx - (side / 2.0));
        var y = (int)Math.Round(cy - (side / 2.0));
        x = Math.Clamp(x, 0, Math.Max(0, width - side));
        y = Math.Clamp(y, 0, Math.Max(0, height - side));
        return new PixelRect(x, y, side, side);
    }

    /// <summary>Names a person (or renames one). Naming an unnamed cluster confirms the faces clustering gave it.</summary>
    public async Task<(Person Person, int Confirmed)> NameAsync(string reference, string name, CancellationToken ct)
    {
        name = CleanName(name);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var person = Resolve(reference);
        if (library.People.All().FirstOrDefault(p => p.Id != person.Id && p.IsNamed(name)) is { } other)
        {
            throw new TroveUsageException("person-name-taken", $"'{name}' already names {Describe(other)}.", $"If they are the same person, merge them: trove people merge {person.Id} {other.Id}");
        }

        var confirmed = 0;
        if (person.Name is null)
        {
            confirmed = await ChangeFacesAsync(session, f => f.Person == person.Id, f => f.Person == person.Id && f.Status == FaceStatus.Suggested && f.Via == FaceVia.Cluster, (_, f) =>
            {
                f.Status = FaceStatus.Confirmed;
                f.Via = null;
                f.Distance = null;
                Decided(f);
            }, ct).ConfigureAwait(false);
        }

        person.Name = name;
        session.SavePerson(person);
        session.Audit("person-name", person.Id, name);
        return (person, confirmed);
    }

    /// <summary>Edits a person's details (aliases, description, notes, external ids).</summary>
    public async Task<Person> UpdateAsync(string reference, Action<Person> change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var person = Resolve(reference);
        change(person);
        person.Aliases = [.. person.Aliases.Select(CleanName).Distinct(StringComparer.OrdinalIgnoreCase).Where(a => !string.Equals(a, person.Name, StringComparison.OrdinalIgnoreCase))];
        if (person.Validate() is { Count: > 0 } errors)
        {
            throw new TroveUsageException("person-invalid", $"{Describe(person)}: {string.Join("; ", errors)}.");
        }

        session.SavePerson(person);
        session.Audit("person-update", person.Id);
        return person;
    }

    /// <summary>
    /// Several changes to one person at once (the API's PATCH): a name, an edit, hidden, a cover. Every part is checked
    /// before anything is written — a name another person has, a bad source name, a cover that is not (and will not be,
    /// by this naming) a confirmed face of theirs — so a refused request changes nothing. Answers the faces the naming
    /// confirmed.
    /// </summary>
    public async Task<int> PatchAsync(string reference, string? name, PersonEdit? edit, bool? hidden, string? cover, CancellationToken ct)
    {
        var person = Resolve(reference);
        if (name is not null)
        {
            var clean = CleanName(name);
            if (library.People.All().FirstOrDefault(p => p.Id != person.Id && p.IsNamed(clean)) is { } other)
            {
                throw new TroveUsageException("person-name-taken", $"'{clean}' already names {Describe(other)}.", $"If they are the same person, merge them: trove people merge {person.Id} {other.Id}");
            }
        }

        ValidateSources(edit);
        if (cover is not null)
        {
            var id = (await ParseFacesAsync([cover], ct).ConfigureAwait(false))[0];
            var face = library.Files.ReadSidecar(id.Media).Sidecar.Faces.Find(f => f.Id == id.Face);
            var confirmedByNaming = name is not null && person.Name is null && face is { Status: FaceStatus.Suggested, Via: FaceVia.Cluster };
            if (face is null || face.Person != person.Id || !(face.Status == FaceStatus.Confirmed || confirmedByNaming))
            {
                throw new TroveUsageException("cover-not-confirmed", $"{id} is not a confirmed face of {Describe(person)}.", "Choose one of their confirmed faces (trove people show).");
            }
        }

        var confirmed = 0;
        if (name is not null)
        {
            (_, confirmed) = await NameAsync(person.Id, name, ct).ConfigureAwait(false);
        }

        if (edit is not null)
        {
            await EditAsync(person.Id, edit, ct).ConfigureAwait(false);
        }

        if (hidden is { } h)
        {
            await HideAsync(person.Id, h, ct).ConfigureAwait(false);
        }

        if (cover is not null)
        {
            await CoverAsync(person.Id, cover, ct).ConfigureAwait(false);
        }

        return confirmed;
    }

    /// <summary>Applies an edit from the CLI or the API: aliases added and removed, description and notes set ("" clears), external ids set (null removes).</summary>
    public Task<Person> EditAsync(string reference, PersonEdit edit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(edit);
        ValidateSources(edit);
        return UpdateAsync(reference, person =>
        {
            person.Aliases.AddRange(edit.AddAliases ?? []);
            person.Aliases.RemoveAll(a => (edit.RemoveAliases ?? []).Contains(a, StringComparer.OrdinalIgnoreCase));
            if (edit.Description is { } d)
            {
                person.Description = d.Trim().Length == 0 ? null : d.Trim();
            }

            if (edit.Notes is { } n)
            {
                person.Notes = n.Trim().Length == 0 ? null : n.Trim();
            }

            foreach (var (source, id) in edit.ExternalIds ?? new Dictionary<string, string?>())
            {
                if (string.IsNullOrWhiteSpace(id))
                {
                    person.ExternalIds.Remove(source);
                }
                else
                {
                    person.ExternalIds[source] = id.Trim();
                }
            }
        }, ct);
    }

    /// <summary>
    /// Merges <paramref name="from"/> into <paramref name="into"/>: every face of the one becomes the other's (with its
    /// state), rejections for the one count for the other, its name and aliases become aliases, and its file goes.
    /// </summary>
    public async Task<(Person Person, int Moved)> MergeAsync(string from, string into, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var source = Resolve(from);
        var target = Resolve(into);
        if (source.Id == target.Id)
        {
            throw new TroveUsageException("same-person", $"{Describe(source)} cannot be merged into itself.");
        }

        var moved = await ChangeFacesAsync(session, f => f.Person == source.Id || f.RejectedFor.Contains(source.Id), f => f.Person == source.Id || f.RejectedFor.Contains(source.Id), (_, f) =>
        {
            if (f.Person == source.Id)
            {
                f.Person = target.Id;
            }

            if (f.RejectedFor.Remove(source.Id) && !f.RejectedFor.Contains(target.Id))
            {
                f.RejectedFor.Add(target.Id);
            }
        }, ct).ConfigureAwait(false);

        target.Name ??= source.Name;
        foreach (var alias in new[] { source.Name }.Concat(source.Aliases).OfType<string>())
        {
            if (!target.IsNamed(alias))
            {
                target.Aliases.Add(alias);
            }
        }

        foreach (var (key, value) in source.ExternalIds)
        {
            target.ExternalIds.TryAdd(key, value);
        }

        target.Merged.Add(new MergedPerson { Id = source.Id, Name = source.Name, At = library.Now, By = library.Actor });
        target.Merged.AddRange(source.Merged);
        session.SavePerson(target);
        session.DeletePerson(source.Id);
        session.Audit("person-merge", target.Id, source.Id);
        return (target, moved);
    }

    /// <summary>
    /// Moves faces to another person, or to a new one (named <paramref name="newName"/>, or unnamed): the un-merge.
    /// The moved faces are confirmed for their new person.
    /// </summary>
    public async Task<(Person Person, int Moved)> SplitAsync(IReadOnlyList<string> faces, string? to, string? newName, CancellationToken ct)
    {
        var ids = await ParseFacesAsync(faces, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        Person target;
        if (to is not null)
        {
            target = Resolve(to);
        }
        else
        {
            var name = newName is null ? null : CleanName(newName);
            if (name is not null && library.People.All().FirstOrDefault(p => p.IsNamed(name)) is { } other)
            {
                throw new TroveUsageException("person-name-taken", $"'{name}' already names {Describe(other)}.", $"Move the faces to them instead: --to {other.Id}");
            }

            target = new Person { Id = Person.NewId(), Name = name, CreatedAt = library.Now, CreatedBy = library.Actor };
            Locate(session, ids); // a face that does not exist creates nobody
            session.SavePerson(target);
        }

        var moved = await ChangeFacesAsync(session, ids, (_, f) =>
        {
            f.RejectedFor.Remove(target.Id);
            f.Status = FaceStatus.Confirmed;
            f.Person = target.Id;
            f.Via = null;
            f.Distance = null;
            Decided(f);
        }, ct).ConfigureAwait(false);
        session.Audit("person-split", target.Id, string.Join(' ', ids));
        return (target, moved);
    }

    /// <summary>Accepts suggested faces (or assigns faces to <paramref name="person"/>): confirmed.</summary>
    public async Task<int> ConfirmAsync(IReadOnlyList<string> faces, string? person, CancellationToken ct)
    {
        var ids = await ParseFacesAsync(faces, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var target = person is null ? null : Resolve(person);
        var refused = new List<string>();
        var n = await ChangeFacesAsync(session, ids, (id, f) =>
        {
            if (target is null && f.Person is null)
            {
                refused.Add(id.ToString());
                return;
            }

            if (target is not null)
            {
                f.RejectedFor.Remove(target.Id);
                f.Person = target.Id;
            }

            f.Status = FaceStatus.Confirmed;
            f.Via = null;
            f.Distance = null;
            Decided(f);
        }, ct).ConfigureAwait(false);
        if (refused.Count > 0)
        {
            throw new TroveUsageException("face-unassigned", $"{string.Join(", ", refused)} belong to nobody, so there is nothing to confirm (the other faces were confirmed).", "Say whose they are: --person NAME.");
        }

        session.Audit("face-confirm", target?.Id ?? "-", string.Join(' ', ids));
        return n;
    }

    /// <summary>Says faces are not <paramref name="person"/>: they go back to nobody and are never suggested for them again.</summary>
    public async Task<int> RejectAsync(string person, IReadOnlyList<string> faces, CancellationToken ct)
    {
        var ids = await ParseFacesAsync(faces, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var target = Resolve(person);
        var n = await ChangeFacesAsync(session, ids, (_, f) =>
        {
            if (!f.RejectedFor.Contains(target.Id))
            {
                f.RejectedFor.Add(target.Id);
            }

            if (f.Person == target.Id)
            {
                f.Unassign();
            }

            Decided(f);
        }, ct).ConfigureAwait(false);
        if (target.Cover is { } cover && ids.Any(i => i.Media == cover.Media && i.Face == cover.Face))
        {
            target.Cover = null;
            session.SavePerson(target);
        }

        session.Audit("face-reject", target.Id, string.Join(' ', ids));
        return n;
    }

    /// <summary>Marks detections as not faces (or, with <paramref name="undo"/>, as faces again).</summary>
    public async Task<int> NotAFaceAsync(IReadOnlyList<string> faces, bool undo, CancellationToken ct)
    {
        var ids = await ParseFacesAsync(faces, ct).ConfigureAwait(false);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var n = await ChangeFacesAsync(session, ids, (_, f) =>
        {
            f.Unassign();
            f.Status = undo ? FaceStatus.Unassigned : FaceStatus.Rejected;
            Decided(f);
        }, ct).ConfigureAwait(false);
        session.Audit(undo ? "face-restore" : "face-not-a-face", "-", string.Join(' ', ids));
        return n;
    }

    public async Task<Person> CoverAsync(string person, string face, CancellationToken ct)
    {
        var id = (await ParseFacesAsync([face], ct).ConfigureAwait(false))[0];
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var target = Resolve(person);
        var entry = session.Read(id.Media).Sidecar.Faces.Find(f => f.Id == id.Face);
        if (entry is null || entry.Person != target.Id || entry.Status != FaceStatus.Confirmed)
        {
            throw new TroveUsageException("cover-not-confirmed", $"{id} is not a confirmed face of {Describe(target)}.", "Choose one of their confirmed faces (trove people show).");
        }

        target.Cover = new FaceRef { Media = id.Media, Face = id.Face };
        session.SavePerson(target);
        session.Audit("person-cover", target.Id, id.ToString());
        return target;
    }

    public async Task<Person> HideAsync(string person, bool hidden, CancellationToken ct)
    {
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var target = Resolve(person);
        target.Hidden = hidden;
        session.SavePerson(target);
        session.Audit(hidden ? "person-hide" : "person-show", target.Id);
        return target;
    }

    /// <summary>The person <paramref name="reference"/> names (id, name or alias), or null when nobody has it.</summary>
    public Person? Find(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var named = library.People.All().Where(p => p.IsNamed(reference.Trim())).ToList();
        return named.Count switch
        {
            0 => null,
            1 => named[0],
            _ => Resolve(reference),
        };
    }

    /// <summary>A person by id, or by a name or alias that only one person has.</summary>
    public Person Resolve(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var text = reference.Trim();
        var all = library.People.All();
        if (all.FirstOrDefault(p => p.Id == text) is { } byId)
        {
            return byId;
        }

        var named = all.Where(p => p.IsNamed(text)).ToList();
        return named.Count switch
        {
            1 => named[0],
            0 => throw new TroveException("person-not-found", $"No person is named '{text}' or has that id.", "See 'trove people list' for names and ids."),
            _ => throw new TroveUsageException("person-ambiguous", $"'{text}' names {named.Count} people: {string.Join(", ", named.Select(Describe))}.", "Give the person's id instead."),
        };
    }

    private static void ValidateSources(PersonEdit? edit)
    {
        foreach (var source in edit?.ExternalIds?.Keys ?? [])
        {
            if (source.Length is 0 or > 64 || source.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            {
                throw new TroveUsageException("bad-external-source", $"'{source}' is not a source name: letters, digits, '-', '_' and '.', at most 64.");
            }
        }
    }

    public static string Describe(Person p) => p.Name is null ? $"unnamed person {p.Id}" : $"'{p.Name}' ({p.Id})";

    // The cover: the one a person chose, else a confirmed face — from a picture with only that face when there is one
    // (the source's "prefer single-face images for reference use"), else any face of theirs.
    private static PersonSummary Summarise(Person person, IEnumerable<IndexedFace> faces, HashSet<string> singles)
    {
        var list = faces.ToList();
        var confirmed = list.Where(f => f.Status == FaceStatus.Confirmed).ToList();
        var best = confirmed.OrderBy(f => singles.Contains(f.MediaId) ? 0 : 1).FirstOrDefault()
            ?? list.OrderBy(f => singles.Contains(f.MediaId) ? 0 : 1).FirstOrDefault();
        var cover = person.Cover is { } c ? new FaceId(c.Media, c.Face) : best is null ? (FaceId?)null : new FaceId(best.MediaId, best.FaceId);
        return new PersonSummary(person, confirmed.Count, list.Count(f => f.Status == FaceStatus.Suggested), list.Select(f => f.MediaId).Distinct(StringComparer.Ordinal).Count(), cover);
    }

    // Media with exactly one counted face (usable, not rejected).
    private static HashSet<string> SingleFaceMedia(IEnumerable<IndexedFace> faces) =>
        [.. faces.Where(f => f.Usable && f.Status != FaceStatus.Rejected).GroupBy(f => f.MediaId, StringComparer.Ordinal).Where(g => g.Count() == 1).Select(g => g.Key)];

    private void Decided(FaceEntry face)
    {
        face.DecidedBy = library.Actor;
        face.DecidedAt = library.Now;
    }

    private static string CleanName(string name)
    {
        var clean = string.Join(' ', (name ?? string.Empty).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return clean.Length is > 0 and <= 200 ? clean : throw new TroveUsageException("bad-person-name", "A person's name is 1–200 characters.");
    }

    private async Task<List<FaceId>> ParseFacesAsync(IReadOnlyList<string> faces, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(faces);
        if (faces.Count == 0)
        {
            throw new TroveUsageException("no-faces", "Name at least one face as MEDIA#N (e.g. 3fd6e6#2; 'trove faces MEDIA' lists them).");
        }

        var result = new List<FaceId>();
        foreach (var raw in faces)
        {
            var hash = raw.LastIndexOf('#');
            if (hash <= 0 || !int.TryParse(raw.AsSpan(hash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                throw new TroveUsageException("bad-face", $"'{raw}' is not a face: write MEDIA#N, e.g. 3fd6e6#2.");
            }

            var media = await library.ResolveIdAsync(raw[..hash], ct).ConfigureAwait(false);
            result.Add(new FaceId(media, n));
        }

        return [.. result.Distinct()];
    }

    // Changes the named faces in their sidecars; returns how many. Every face is found before anything is changed, so
    // a face that does not exist changes nothing.
    private static async Task<int> ChangeFacesAsync(WriteSession session, IReadOnlyList<FaceId> ids, Action<FaceId, FaceEntry> change, CancellationToken ct)
    {
        var located = Locate(session, ids);
        foreach (var (stored, faces) in located)
        {
            foreach (var (id, face) in faces)
            {
                change(id, face);
            }

            await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
        }

        return located.Sum(l => l.Faces.Count);
    }

    // The sidecars and entries of the named faces; an error naming the first face that does not exist.
    private static List<(StoredSidecar Stored, List<(FaceId Id, FaceEntry Face)> Faces)> Locate(WriteSession session, IReadOnlyList<FaceId> ids)
    {
        var located = new List<(StoredSidecar, List<(FaceId, FaceEntry)>)>();
        foreach (var media in ids.GroupBy(i => i.Media, StringComparer.Ordinal))
        {
            var stored = session.Read(media.Key);
            var faces = new List<(FaceId, FaceEntry)>();
            foreach (var id in media)
            {
                var face = stored.Sidecar.Faces.Find(f => f.Id == id.Face)
                    ?? throw new TroveException("face-not-found", $"Media {id.Media[..12]}… has no face {id.Face} (it has {(stored.Sidecar.Faces.Count == 0 ? "none" : string.Join(", ", stored.Sidecar.Faces.Select(f => f.Id)))}).", $"See 'trove faces {id.Media[..12]}'.");
                faces.Add((id, face));
            }

            located.Add((stored, faces));
        }

        return located;
    }

    // Changes every face matching a predicate (found through the index, changed in the sidecars).
    private async Task<int> ChangeFacesAsync(WriteSession session, Func<IndexedFace, bool> candidate, Func<FaceEntry, bool> match, Action<FaceId, FaceEntry> change, CancellationToken ct)
    {
        await session.FlushAsync(ct).ConfigureAwait(false);
        var candidates = await library.Index.ListFacesAsync(ct).ConfigureAwait(false);
        var n = 0;
        foreach (var media in candidates.Where(candidate).Select(f => f.MediaId).Distinct(StringComparer.Ordinal))
        {
            var stored = session.TryRead(media);
            if (stored is null)
            {
                continue;
            }

            var hits = stored.Sidecar.Faces.Where(match).ToList();
            foreach (var f in hits)
            {
                change(new FaceId(media, f.Id), f);
                n++;
            }

            if (hits.Count > 0)
            {
                await session.SaveAsync(stored.Sidecar, stored.InTrash, ct).ConfigureAwait(false);
            }
        }

        return n;
    }
}
