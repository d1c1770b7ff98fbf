using System.CommandLine;
using System.Globalization;
using Trove.Application.Faces;
using Trove.Application.Search;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>trove faces ID | detect QUERY [--force] [--now] | cluster | not-face FACE… [--undo] — the faces of media.</summary>
        public Command Faces()
        {
            var media = new Argument<string?>("ID") { Description = "A media id (or a unique prefix): list its faces", Arity = ArgumentArity.ZeroOrOne };
            var cmd = new Command("faces", "The faces found in media: list them (trove faces ID), look for them, cluster them") { media };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                if (p.GetValue(media) is not { Length: > 0 } reference)
                {
                    throw new Domain.TroveUsageException("no-media", "Name a media to list its faces: trove faces ID (or: trove faces detect QUERY, trove faces cluster).");
                }

                var (id, faces, scan) = await new PeopleService(library!).FacesOfAsync(reference, ct).ConfigureAwait(false);
                var view = FaceViews.Of(library!, id, faces, scan);
                ctx.Output.Result(view, w =>
                {
                    if (scan is null)
                    {
                        w.WriteLine($"{id}: not scanned for faces yet ('trove faces detect id:{id[..12]} --now').");
                        return;
                    }

                    w.WriteLine($"{id}: {faces.Count} face(s), {view.Usable} usable (scanned {scan.At:yyyy-MM-dd HH:mm} with {scan.Detector}{(scan.Embedder is null ? string.Empty : " + " + scan.Embedder)})");
                    foreach (var f in view.Faces)
                    {
                        w.WriteLine($"  {FaceLine(f)}");
                    }
                });
                return 0;
            }));

            var query = new Argument<string>("QUERY") { Description = "Which media (query language; \"\" for all)" };
            var force = new Option<bool>("--force") { Description = "Scan media that were already scanned with this detector again (decisions are kept)" };
            var now = new Option<bool>("--now") { Description = "Run the face pipeline in this process and report, instead of queueing a job for a worker" };
            var noCluster = new Option<bool>("--no-cluster") { Description = "With --now: only detect and embed; leave matching and clustering to a later 'trove faces cluster'" };
            var detect = new Command("detect", "Find, align and embed faces with the active face models (only media not scanned yet, unless --force), then match and cluster them") { query, force, now, noCluster };
            detect.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var active = ActiveFaceModels.Require(library!);
                var ids = await new SearchService(library!).AllIdsAsync(p.GetValue(query) ?? string.Empty, ct).ConfigureAwait(false);
                var models = active.EmbedderReference is null ? active.DetectorReference : $"{active.DetectorReference} + {active.EmbedderReference}";
                if (!p.GetValue(now))
                {
                    var jobs = await FaceJobs.EnqueueAsync(library!, ids, p.GetValue(force), TimeSpan.Zero, ct).ConfigureAwait(false);
                    return await ReportQueuedAsync(
                        ctx, library!, FaceJobs.Kind, ids.Count, jobs, "faces", models, "scan here and now with 'trove faces detect QUERY --now'",
                        new Dictionary<string, object> { ["models"] = models }, ct).ConfigureAwait(false);
                }

                var r = await ctx.Output.WithProgressAsync("faces", progress => new FaceRunner(library!).RunAsync(ids, p.GetValue(force), !p.GetValue(noCluster), progress, ct)).ConfigureAwait(false);
                ctx.Output.Result(
                    new
                    {
                        detector = r.Detector,
                        embedder = r.Embedder,
                        media = r.Media,
                        faces = r.Faces,
                        usable = r.Usable,
                        skipped = r.Skipped,
                        failed = r.Failed.Select(f => new { id = f.Id, code = f.Code, message = f.Message }),
                        clustering = r.Clustering,
                    },
                    w =>
                    {
                        foreach (var f in r.Failed)
                        {
                            w.WriteLine($"{f.Id}: {f.Code}: {f.Message}");
                        }

                        w.WriteLine($"{models}: {r.Media} media scanned, {r.Faces} face(s) found, {r.Usable} usable, {r.Skipped} already scanned, {r.Failed.Count} failed.");
                        if (r.Clustering is { } c)
                        {
                            w.WriteLine(ClusterLine(c));
                        }
                        else if (r.Embedder is null)
                        {
                            w.WriteLine("No face embedder is active, so faces are found but not recognised: register one (--kind face-embedder) to group them into people.");
                        }
                    });
                return r.Failed.Count > 0 ? 1 : 0;
            }));
            cmd.Subcommands.Add(detect);

            var cluster = new Command("cluster", "Match unassigned faces to confirmed people (suggestions) and group the rest into unnamed people");
            cluster.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var c = await new FaceClusterer(library!).UpdateAsync(ct).ConfigureAwait(false);
                ctx.Output.Result(c, w => w.WriteLine(ClusterLine(c)));
                return 0;
            }));
            cmd.Subcommands.Add(cluster);

            var faceArgs = new Argument<string[]>("FACE") { Description = "Faces as MEDIA#N (see 'trove faces ID')", Arity = ArgumentArity.OneOrMore };
            var undo = new Option<bool>("--undo") { Description = "They are faces after all" };
            var notFace = new Command("not-face", "Mark detections that are not faces (they leave every person and every count)") { faceArgs, undo };
            notFace.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var n = await new PeopleService(library!).NotAFaceAsync(p.GetValue(faceArgs)!, p.GetValue(undo), ct).ConfigureAwait(false);
                ctx.Output.Result(new { changed = n }, w => w.WriteLine(p.GetValue(undo) ? $"{n} detection(s) are faces again." : $"{n} detection(s) marked as not a face."));
                return 0;
            }));
            cmd.Subcommands.Add(notFace);
            return cmd;
        }

        /// <summary>trove people list|show|suggestions|name|edit|merge|split|confirm|reject|cover|hide|unhide — the people the faces belong to.</summary>
        public Command People()
        {
            var cmd = new Command("people", "People: the groups faces are clustered into, named, merged, split and corrected by you");
            var person = new Argument<string>("PERSON") { Description = "A person's id, name or alias" };
            var faces = new Argument<string[]>("FACE") { Description = "Faces as MEDIA#N (see 'trove faces ID' or 'trove people show PERSON')", Arity = ArgumentArity.OneOrMore };

            var all = new Option<bool>("--all") { Description = "Include hidden people" };
            var list = new Command("list", "People with their face counts: named first, then by number of faces") { all };
            list.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var people = await new PeopleService(library!).ListAsync(p.GetValue(all), ct).ConfigureAwait(false);
                ctx.Output.Result(new { people = people.Select(PersonView.From) }, w =>
                {
                    if (people.Count == 0)
                    {
                        w.WriteLine("No people yet: they appear once faces are found and clustered ('trove faces detect \"\" --now').");
                    }

                    foreach (var s in people)
                    {
                        w.WriteLine($"{s.Person.Id}  {s.Person.Display,-32} {s.Confirmed,5} confirmed {s.Suggested,5} suggested {s.Media,6} media{(s.Person.Hidden ? "  (hidden)" : string.Empty)}");
                    }
                });
                return 0;
            }));
            cmd.Subcommands.Add(list);

            var show = new Command("show", "A person's details and faces") { person };
            show.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var detail = FaceViews.Of(library!, await new PeopleService(library!).GetAsync(p.GetValue(person)!, ct).ConfigureAwait(false));
                ctx.Output.Result(detail, w =>
                {
                    var v = detail.Person;
                    w.WriteLine($"{v.Display} ({v.Id}){(v.Hidden ? " — hidden" : string.Empty)}");
                    if (v.Aliases.Count > 0)
                    {
                        w.WriteLine($"  aliases: {string.Join(", ", v.Aliases)}");
                    }

                    foreach (var (source, id) in v.ExternalIds)
                    {
                        w.WriteLine($"  {source}: {id}");
                    }

                    if (v.Description is { } d)
                    {
                        w.WriteLine($"  {d}");
                    }

                    w.WriteLine($"  {v.Confirmed} confirmed, {v.Suggested} suggested face(s) in {v.Media} media; cover {v.Cover ?? "none"}");
                    foreach (var f in detail.Faces)
                    {
                        w.WriteLine($"  {FaceLine(f)}");
                    }
                });
                return 0;
            }));
            cmd.Subcommands.Add(show);

            var optionalPerson = new Argument<string?>("PERSON") { Description = "Only this person's suggestions", Arity = ArgumentArity.ZeroOrOne };
            var limit = new Option<int>("--limit") { Description = "At most this many", DefaultValueFactory = _ => 100 };
            var suggestions = new Command("suggestions", "Faces suggested for people, waiting for review (named people first, closest first)") { optionalPerson, limit };
            suggestions.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var list = await new PeopleService(library!).SuggestionsAsync(p.GetValue(optionalPerson), p.GetValue(limit), ct).ConfigureAwait(false);
                var views = list.Select(f => FaceViews.Of(library!, f)).ToList();
                ctx.Output.Result(new { faces = views }, w =>
                {
                    if (views.Count == 0)
                    {
                        w.WriteLine("No faces wait for review.");
                    }

                    foreach (var f in views)
                    {
                        w.WriteLine(FaceLine(f));
                    }

                    if (views.Count > 0)
                    {
                        w.WriteLine("Accept with 'trove people confirm FACE…', refuse with 'trove people reject PERSON FACE…'.");
                    }
                });
                return 0;
            }));
            cmd.Subcommands.Add(suggestions);

            var newName = new Argument<string>("NAME") { Description = "The person's name" };
            var name = new Command("name", "Name (or rename) a person; naming an unnamed group confirms the faces clustering gave it") { person, newName };
            name.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var service = new PeopleService(library!);
                var (named, confirmed) = await service.NameAsync(p.GetValue(person)!, p.GetValue(newName)!, ct).ConfigureAwait(false);
                await PrintPersonAsync(ctx, service, named.Id, new { confirmed }, $"Named {named.Id} '{named.Name}'" + (confirmed > 0 ? $"; {confirmed} face(s) confirmed." : "."), ct).ConfigureAwait(false);
                return 0;
            }));
            cmd.Subcommands.Add(name);

            var alias = new Option<string[]>("--alias") { Description = "Add an alias (repeatable)", AllowMultipleArgumentsPerToken = true };
            var removeAlias = new Option<string[]>("--remove-alias") { Description = "Remove an alias (repeatable)", AllowMultipleArgumentsPerToken = true };
            var description = new Option<string?>("--description") { Description = "Set the description (\"\" clears it)" };
            var notes = new Option<string?>("--notes") { Description = "Set the notes (\"\" clears them)" };
            var external = new Option<string[]>("--external") { Description = "Set an external id as SOURCE=ID (SOURCE= removes it; repeatable)", AllowMultipleArgumentsPerToken = true };
            var edit = new Command("edit", "Change a person's aliases, description, notes or external ids") { person, alias, removeAlias, description, notes, external };
            edit.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var externals = (p.GetValue(external) ?? []).Select(ParseExternal).ToDictionary(e => e.Source, e => e.Id, StringComparer.Ordinal);
                var service = new PeopleService(library!);
                var changed = await service.EditAsync(p.GetValue(person)!, new PersonEdit(p.GetValue(alias), p.GetValue(removeAlias), p.GetValue(description), p.GetValue(notes), externals), ct).ConfigureAwait(false);
                await PrintPersonAsync(ctx, service, changed.Id, null, $"Updated {PeopleService.Describe(changed)}.", ct).ConfigureAwait(false);
                return 0;
            }));
            cmd.Subcommands.Add(edit);

            var from = new Argument<string>("FROM") { Description = "The person who goes away" };
            var into = new Argument<string>("INTO") { Description = "The person who stays (gets FROM's faces; FROM's name becomes an alias)" };
            var merge = new Command("merge", "Merge two people who are the same (undo with 'trove people split')") { from, into };
            merge.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var service = new PeopleService(library!);
                var (kept, moved) = await service.MergeAsync(p.GetValue(from)!, p.GetValue(into)!, ct).ConfigureAwait(false);
                await PrintPersonAsync(ctx, service, kept.Id, new { moved }, $"Merged into {PeopleService.Describe(kept)}: {moved} face(s) moved.", ct).ConfigureAwait(false);
                return 0;
            }));
            cmd.Subcommands.Add(merge);

            var to = new Option<string?>("--to") { Description = "Move the faces to this existing person" };
            var asNew = new Option<string?>("--new") { Description = "Move the faces to a new person with this name (without --to or --new: a new unnamed person)" };
            var split = new Command("split", "Move faces to another or a new person (the un-merge); they are confirmed for their new person") { faces, to, asNew };
            split.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var service = new PeopleService(library!);
                var (target, moved) = await service.SplitAsync(p.GetValue(faces)!, p.GetValue(to), p.GetValue(asNew), ct).ConfigureAwait(false);
                await PrintPersonAsync(ctx, service, target.Id, new { moved }, $"Moved {moved} face(s) to {PeopleService.Describe(target)}.", ct).ConfigureAwait(false);
                return 0;
            }));
            cmd.Subcommands.Add(split);

            var forPerson = new Option<string?>("--person") { Description = "Assign the faces to this person (otherwise each face's suggested person)" };
            var confirm = new Command("confirm", "Accept suggested faces (or, with --person, say whose faces they are)") { faces, forPerson };
            confirm.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var n = await new PeopleService(library!).ConfirmAsync(p.GetValue(faces)!, p.GetValue(forPerson), ct).ConfigureAwait(false);
                ctx.Output.Result(new { confirmed = n }, w => w.WriteLine($"{n} face(s) confirmed."));
                return 0;
            }));
            cmd.Subcommands.Add(confirm);

            var reject = new Command("reject", "Say faces are not this person: they go back to nobody and are never suggested for them again") { person, faces };
            reject.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var n = await new PeopleService(library!).RejectAsync(p.GetValue(person)!, p.GetValue(faces)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new { rejected = n }, w => w.WriteLine($"{n} face(s) rejected for {p.GetValue(person)}; they will not be suggested for them again."));
                return 0;
            }));
            cmd.Subcommands.Add(reject);

            var face = new Argument<string>("FACE") { Description = "The face as MEDIA#N" };
            var cover = new Command("cover", "Choose the face that shows a person") { person, face };
            cover.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var service = new PeopleService(library!);
                var changed = await service.CoverAsync(p.GetValue(person)!, p.GetValue(face)!, ct).ConfigureAwait(false);
                await PrintPersonAsync(ctx, service, changed.Id, null, $"{PeopleService.Describe(changed)} is shown by {p.GetValue(face)}.", ct).ConfigureAwait(false);
                return 0;
            }));
            cmd.Subcommands.Add(cover);

            foreach (var hidden in new[] { true, false })
            {
                var hide = new Command(hidden ? "hide" : "unhide", hidden ? "Hide a person from the People page and from suggestions (their faces stay theirs)" : "Show a hidden person again") { person };
                hide.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
                {
                    var service = new PeopleService(library!);
                    var changed = await service.HideAsync(p.GetValue(person)!, hidden, ct).ConfigureAwait(false);
                    await PrintPersonAsync(ctx, service, changed.Id, null, $"{PeopleService.Describe(changed)} is {(hidden ? "hidden" : "shown again")}.", ct).ConfigureAwait(false);
                    return 0;
                }));
                cmd.Subcommands.Add(hide);
            }

            return cmd;
        }

        private static async Task PrintPersonAsync(CliContext ctx, PeopleService service, string id, object? extra, string line, CancellationToken ct)
        {
            var detail = await service.GetAsync(id, ct).ConfigureAwait(false);
            var view = PersonView.From(detail.Summary);
            ctx.Output.Result(new { person = view, result = extra }, w => w.WriteLine(line));
        }

        private static (string Source, string? Id) ParseExternal(string raw)
        {
            var eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new Domain.TroveUsageException("bad-external-id", $"'{raw}' is not SOURCE=ID (e.g. stashdb=6b7f…; SOURCE= removes it).");
            }

            var id = raw[(eq + 1)..].Trim();
            return (raw[..eq].Trim(), id.Length == 0 ? null : id);
        }

        private static string FaceLine(FaceView f)
        {
            var who = f.Person is null ? "nobody" : f.PersonName ?? $"unnamed {f.Person}";
            var status = f.Status switch
            {
                Domain.Faces.FaceStatus.Suggested => $"suggested: {who} ({f.Via}, distance {f.Distance?.ToString("0.00", CultureInfo.InvariantCulture)})",
                Domain.Faces.FaceStatus.Confirmed => $"confirmed: {who}",
                Domain.Faces.FaceStatus.Rejected => "not a face",
                _ => "unassigned",
            };
            var quality = f.Usable ? string.Empty : $" — filtered: {string.Join(", ", f.Quality.Reasons)}";
            return FormattableString.Invariant($"{f.Id,-20} {f.Box.W}×{f.Box.H} at {f.Box.X},{f.Box.Y}  score {f.Score:0.00}  {status}{quality}");
        }

        private static string ClusterLine(FaceClusterResult c) =>
            $"Recognition: {c.Matched} face(s) suggested for known people, {c.Joined} joined unnamed groups, {c.Clustered} clustered into {c.NewPeople} new unnamed people, {c.Unassigned} left unassigned.";
    }
}
