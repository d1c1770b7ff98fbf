using System.CommandLine;
using Trove.Application;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Server;

namespace Trove.Cli;

#pragma warning disable CA1068 // The command actions read best as (parse result, token, body).
#pragma warning disable CA1822 // Command factories are grouped on one instance.

/// <summary>The `trove` command line (contract in BRIEF.md). Exit codes: 0 ok, 1 failure, 2 usage error.</summary>
public static partial class TroveCli
{
    private static readonly Option<string?> LibraryOption = new("--library", "-L")
    {
        Description = "Library folder (default: $TROVE_LIBRARY, else ~/.local/share/trove/library)",
        Recursive = true,
    };

    private static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print one JSON document on stdout and nothing else",
        Recursive = true,
    };

    private static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Log what Trove does on stderr",
        Recursive = true,
    };

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var root = BuildRoot(stdout, stderr);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("Run 'trove --help' (or 'trove COMMAND --help') for usage.").ConfigureAwait(false);
            if (parse.GetValue(JsonOption))
            {
                new CliOutput(stdout, stderr, json: true).Result(new { error = new { code = "usage", message = string.Join("; ", parse.Errors.Select(e => e.Message)) } }, _ => { });
            }

            return 2;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, ct).ConfigureAwait(false);
    }

    private static RootCommand BuildRoot(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Trove: a self-hosted image library. Files are the truth; the index is rebuildable.");
        root.Options.Add(LibraryOption);
        root.Options.Add(JsonOption);
        root.Options.Add(VerboseOption);
        var app = new Commands(stdout, stderr);

        root.Subcommands.Add(app.Init());
        root.Subcommands.Add(app.Import());
        root.Subcommands.Add(app.Show());
        root.Subcommands.Add(app.Tag());
        root.Subcommands.Add(app.Tags());
        root.Subcommands.Add(app.Search());
        root.Subcommands.Add(app.Caption());
        root.Subcommands.Add(app.Collection());
        root.Subcommands.Add(app.Crop());
        root.Subcommands.Add(app.Mask());
        root.Subcommands.Add(app.Thumbnail());
        root.Subcommands.Add(app.Dupes());
        root.Subcommands.Add(app.Similar());
        root.Subcommands.Add(app.Export());
        root.Subcommands.Add(app.Delete());
        root.Subcommands.Add(app.Restore());
        root.Subcommands.Add(app.Upscale());
        root.Subcommands.Add(app.Processing());
        root.Subcommands.Add(app.Purge());
        root.Subcommands.Add(app.Rebuild());
        root.Subcommands.Add(app.Check());
        root.Subcommands.Add(app.Audit());
        root.Subcommands.Add(app.Serve());
        root.Subcommands.Add(app.Worker());
        root.Subcommands.Add(app.Users());
        root.Subcommands.Add(app.Models());
        root.Subcommands.Add(app.Providers());
        root.Subcommands.Add(app.Suggest());
        root.Subcommands.Add(app.Embed());
        root.Subcommands.Add(app.Faces());
        root.Subcommands.Add(app.People());
        root.Subcommands.Add(app.Suggestions());
        root.Subcommands.Add(app.Review());
        return root;
    }

    private sealed partial class Commands(TextWriter stdout, TextWriter stderr)
    {
        public Command Init()
        {
            var name = new Option<string?>("--name") { Description = "A name for the library" };
            var cmd = new Command("init", "Create a new library in an empty or new folder") { name };
            cmd.SetAction((p, ct) => Run(p, ct, openLibrary: false, async (ctx, _) =>
            {
                var manifest = TroveLibrary.Init(ctx.LibraryPath, ctx.Environment, p.GetValue(name));
                await using var library = await TroveLibrary.OpenAsync(ctx.LibraryPath, ctx.Environment, null, ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new { library = library.Layout.Root, id = manifest.Id, format = manifest.Format, formatVersion = manifest.FormatVersion },
                    w => w.WriteLine($"Created library {manifest.Id} in {library.Layout.Root}"));
                return 0;
            }));
            return cmd;
        }

        public Command Import()
        {
            var paths = new Argument<string[]>("PATH") { Description = "Files or folders (recursive)", Arity = ArgumentArity.OneOrMore };
            var tags = new Option<string?>("--tags") { Description = "Comma-separated tags to add to every imported media" };
            var collection = new Option<string?>("--collection") { Description = "Add every imported media to this collection (created if missing)" };
            var dryRun = new Option<bool>("--dry-run") { Description = "Report what would happen without changing the library" };
            var maskOf = new Option<string?>("--mask-of") { Description = "Import the files as masks of this image" };
            var category = new Option<string?>("--category") { Description = "Mask category (with --mask-of), e.g. person" };
            var cmd = new Command("import", "Import images from files and folders") { paths, tags, collection, dryRun, maskOf, category };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var tagList = (p.GetValue(tags) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var options = new ImportOptions(tagList, p.GetValue(collection), p.GetValue(dryRun), p.GetValue(maskOf), p.GetValue(category));
                var report = await ctx.Output.WithProgressAsync("import", progress => new MediaService(library!).ImportAsync(p.GetValue(paths)!, options, progress, ct)).ConfigureAwait(false);
                ctx.Output.Result(
                    new { imported = report.Imported, duplicates = report.Duplicates, failed = report.Failed.Select(f => new { path = f.Path, error = f.Error }), media = report.Media, dryRun = report.DryRun ? true : (bool?)null },
                    w =>
                    {
                        w.WriteLine($"{(report.DryRun ? "Would import" : "Imported")} {report.Imported}, {report.Duplicates} duplicate(s), {report.Failed.Count} failed.");
                        foreach (var f in report.Failed)
                        {
                            w.WriteLine($"  failed: {f.Path}: {f.Error}");
                        }
                    });
                return report.Failed.Count > 0 && report.Imported + report.Duplicates == 0 ? 1 : 0;
            }));
            return cmd;
        }

        public Command Show()
        {
            var id = new Argument<string>("ID") { Description = "Media id or unique prefix (6+ hex characters)" };
            var cmd = new Command("show", "Show everything about one media") { id };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var view = await new MediaService(library!).ShowAsync(p.GetValue(id)!, ct).ConfigureAwait(false);
                var s = view.Sidecar;
                var lineage = Application.Restoration.LineageView.Of(library!, s);
                ctx.Output.Result(
                    new { media = s, location = view.InTrash ? "trash" : "library", path = view.OriginalPath, tagCategories = view.TagCategories, lineage = LineageJson(lineage) },
                    w =>
                    {
                        w.WriteLine($"{s.Id}{(view.InTrash ? "  (in trash)" : string.Empty)}");
                        w.WriteLine($"  {s.Kind}, {s.Original.MediaType}, {s.Original.Size:N0} bytes, {view.OriginalPath}");
                        if (s.Mask is { } mask)
                        {
                            w.WriteLine($"  mask of {mask.Source} ({mask.Category})");
                        }

                        w.WriteLine($"  added {s.CreatedAt:u} by {s.Uploader}; updated {s.UpdatedAt:u}, revision {s.Revision}");
                        foreach (var group in s.Tags.GroupBy(t => view.TagCategories[t.Name]).OrderBy(g => g.Key, StringComparer.Ordinal))
                        {
                            w.WriteLine($"  {group.Key}: {string.Join(' ', group.Select(t => t.Name))}");
                        }

                        foreach (var c in s.Captions)
                        {
                            w.WriteLine($"  caption #{c.Id}{(c.Primary ? " (primary)" : string.Empty)}: {c.Text}");
                        }

                        foreach (var c in s.Crops)
                        {
                            w.WriteLine($"  crop {c.Name}: {c.X},{c.Y},{c.W},{c.H}");
                        }

                        foreach (var r in s.Relations.Where(r => r.Type is not (RelationTypes.DerivedFrom or RelationTypes.Derivative)))
                        {
                            w.WriteLine($"  {r.Type} {r.Target}");
                        }

                        WriteLineage(w, lineage);

                        if (s.Collections.Count > 0)
                        {
                            w.WriteLine($"  collections: {string.Join(", ", s.Collections.Select(c => c.Collection))}");
                        }
                    });
                return 0;
            }));
            return cmd;
        }

        public Command Tag()
        {
            var cmd = new Command("tag", "Add or remove tags on one media");
            foreach (var (verb, add) in new[] { ("add", true), ("remove", false) })
            {
                var id = new Argument<string>("ID");
                var tags = new Argument<string[]>("TAG") { Arity = ArgumentArity.OneOrMore };
                var sub = new Command(verb, add ? "Add tags (aliases resolve; implied tags are added too)" : "Remove tags") { id, tags };
                sub.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
                {
                    var service = new TagService(library!);
                    var change = add
                        ? await service.AddAsync(p.GetValue(id)!, p.GetValue(tags)!, ct).ConfigureAwait(false)
                        : await service.RemoveAsync(p.GetValue(id)!, p.GetValue(tags)!, ct).ConfigureAwait(false);
                    ctx.Output.Result(change, w => w.WriteLine($"{change.Id[..12]}: {string.Join(' ', change.Tags)}"));
                    return 0;
                }));
                cmd.Subcommands.Add(sub);
            }

            return cmd;
        }

        public Command Tags()
        {
            var cmd = new Command("tags", "The tag vocabulary: list, aliases, implications, categories, descriptions");

            var list = new Command("list", "List tags with category and count");
            list.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var listing = await new TagService(library!).ListAsync(ct).ConfigureAwait(false);
                var vocabulary = await new TagService(library!).VocabularyAsync(ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new
                    {
                        tags = listing.Tags.Select(t => new { name = t.Name, category = t.Category, count = t.Count, description = t.Description, implies = t.Implies, aliases = t.Aliases }),
                        categories = listing.Categories,
                        aliases = vocabulary.Aliases.Select(a => new { from = a.Key, to = a.Value.To }),
                        implications = vocabulary.Implications.Select(i => new { child = i.Child, parent = i.Parent }).OrderBy(i => i.child, StringComparer.Ordinal).ThenBy(i => i.parent, StringComparer.Ordinal),
                    },
                    w =>
                    {
                        foreach (var t in listing.Tags)
                        {
                            var extra = (t.Implies.Count > 0 ? $"  → {string.Join(", ", t.Implies)}" : string.Empty) + (t.Aliases.Count > 0 ? $"  (aliases: {string.Join(", ", t.Aliases)})" : string.Empty);
                            w.WriteLine($"{t.Count,8}  {t.Category,-10} {t.Name}{extra}");
                        }
                    });
                return 0;
            }));
            cmd.Subcommands.Add(list);

            cmd.Subcommands.Add(VocabularyCommand("alias", "Make FROM an alias of TO (FROM's media are retagged)", ["FROM", "TO"], (s, a, ct) => s.AliasAsync(a[0], a[1], ct)));
            cmd.Subcommands.Add(VocabularyCommand("unalias", "Remove the alias FROM", ["FROM"], (s, a, ct) => s.UnaliasAsync(a[0], ct)));
            cmd.Subcommands.Add(VocabularyCommand("imply", "CHILD implies PARENT (applied to existing media too)", ["CHILD", "PARENT"], (s, a, ct) => s.ImplyAsync(a[0], a[1], ct)));
            cmd.Subcommands.Add(VocabularyCommand("unimply", "Remove CHILD → PARENT (media keep their tags)", ["CHILD", "PARENT"], (s, a, ct) => s.UnimplyAsync(a[0], a[1], ct)));
            cmd.Subcommands.Add(VocabularyCommand("category-add", "Create a user-defined tag category", ["NAME"], (s, a, ct) => s.AddCategoryAsync(a[0], ct)));
            cmd.Subcommands.Add(VocabularyCommand("describe", "Set a tag's description (empty text clears it)", ["TAG", "TEXT"], (s, a, ct) => s.DescribeAsync(a[0], a[1], ct)));

            var create = new Option<bool>("--create") { Description = "Create the category if it does not exist" };
            var category = VocabularyCommand("category", "Put TAG in CATEGORY", ["TAG", "CATEGORY"], (s, a, ct) => s.SetCategoryAsync(a[0], a[1], a[2] == "true", ct), create);
            cmd.Subcommands.Add(category);
            return cmd;
        }

        public Command Search()
        {
            var query = new Argument<string>("QUERY") { Description = "Query: tags, -tag, a or b, (groups), wildcards (*_hair), metatags (width:>1000, date:2025, caption:\"red car\", order:…); see docs/query-language.md" };
            var limit = new Option<int>("--limit") { Description = "Page size (0: only count)", DefaultValueFactory = _ => 40 };
            var offset = new Option<int>("--offset") { Description = "Results to skip", DefaultValueFactory = _ => 0 };
            var cursor = new Option<string?>("--cursor") { Description = "Continue after the page that returned this cursor (\"next\" in --json output)" };
            var cmd = new Command("search", "Find media") { query, limit, offset, cursor };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var request = new Trove.Search.Engine.SearchRequest(p.GetValue(limit), p.GetValue(offset), p.GetValue(cursor));
                var result = await new SearchService(library!).SearchAsync(p.GetValue(query) ?? string.Empty, request, ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new { total = result.Total, limit = result.Limit, offset = result.Offset, items = result.Ids.Select((i, k) => new { id = i, score = result.Scores?[k] }), next = result.NextCursor },
                    w =>
                    {
                        foreach (var i in result.Ids)
                        {
                            w.WriteLine(i);
                        }

                        ctx.Output.Err.WriteLine($"{result.Total} match(es); showing {result.Ids.Count} from {result.Offset}." + (result.NextCursor is { } n ? $" Next page: --cursor {n}" : string.Empty));
                    });
                return 0;
            }));
            return cmd;
        }

        public Command Caption()
        {
            var cmd = new Command("caption", "Captions: several per media, one primary; generated ones wait for review");
            var id = new Argument<string>("ID");
            var text = new Argument<string>("TEXT");
            var number = new Argument<int>("N") { Description = "Caption number (see 'caption list')" };
            var primary = new Option<bool>("--primary") { Description = "Make it the primary caption" };

            var set = new Command("set", "Set the primary caption's text") { id, text };
            set.SetAction((p, ct) => CaptionRun(p, ct, (s, ct2) => s.SetAsync(p.GetValue(id)!, p.GetValue(text)!, ct2)));
            var add = new Command("add", "Add another caption") { id, text, primary };
            add.SetAction((p, ct) => CaptionRun(p, ct, (s, ct2) => s.AddAsync(p.GetValue(id)!, p.GetValue(text)!, p.GetValue(primary), ct2)));
            var list = new Command("list", "List a media's captions") { id };
            list.SetAction((p, ct) => CaptionRun(p, ct, (s, ct2) => s.ListAsync(p.GetValue(id)!, ct2)));
            var mark = new Command("primary", "Mark caption N as primary") { id, number };
            mark.SetAction((p, ct) => CaptionRun(p, ct, (s, ct2) => s.MarkPrimaryAsync(p.GetValue(id)!, p.GetValue(number), ct2)));
            var remove = new Command("remove", "Remove caption N") { id, number };
            remove.SetAction((p, ct) => CaptionRun(p, ct, (s, ct2) => s.RemoveAsync(p.GetValue(id)!, p.GetValue(number), ct2)));
            foreach (var c in new[] { set, add, list, mark, remove, CaptionGenerate(), CaptionReview() })
            {
                cmd.Subcommands.Add(c);
            }

            return cmd;
        }

        public Command Collection()
        {
            var cmd = new Command("collection", "Collections: named, ordered sets of media");
            var name = new Argument<string>("NAME");
            var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.OneOrMore };
            var description = new Option<string?>("--description") { Description = "Description text" };

            var create = new Command("create", "Create a collection") { name, description };
            create.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var c = await new CollectionService(library!).CreateAsync(p.GetValue(name)!, p.GetValue(description), ct).ConfigureAwait(false);
                ctx.Output.Result(new { collection = CollectionJson(c) }, w => w.WriteLine($"Created collection '{c.Name}' ({c.Id})"));
                return 0;
            }));

            var newName = new Argument<string>("NEW_NAME");
            var rename = new Command("rename", "Rename a collection") { name, newName };
            rename.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var c = await new CollectionService(library!).RenameAsync(p.GetValue(name)!, p.GetValue(newName)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new { collection = CollectionJson(c) }, w => w.WriteLine($"Renamed to '{c.Name}'"));
                return 0;
            }));

            var tags = new Option<string?>("--tags") { Description = "Comma-separated tags of the collection itself" };
            var describe = new Command("describe", "Set a collection's description and tags") { name, description, tags };
            describe.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var tagList = p.GetValue(tags)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var c = await new CollectionService(library!).DescribeAsync(p.GetValue(name)!, p.GetValue(description), tagList, ct).ConfigureAwait(false);
                ctx.Output.Result(new { collection = CollectionJson(c) }, w => w.WriteLine($"Updated '{c.Name}'"));
                return 0;
            }));

            var add = new Command("add", "Append media to a collection") { name, ids };
            add.SetAction((p, ct) => CollectionViewRun(p, ct, (s, ct2) => s.AddAsync(p.GetValue(name)!, p.GetValue(ids)!, ct2)));
            var remove = new Command("remove", "Remove media from a collection") { name, ids };
            remove.SetAction((p, ct) => CollectionViewRun(p, ct, (s, ct2) => s.RemoveAsync(p.GetValue(name)!, p.GetValue(ids)!, ct2)));

            var one = new Argument<string>("ID");
            var to = new Option<int>("--to") { Description = "New 1-based position", Required = true };
            var move = new Command("move", "Move a member to another position") { name, one, to };
            move.SetAction((p, ct) => CollectionViewRun(p, ct, (s, ct2) => s.MoveAsync(p.GetValue(name)!, p.GetValue(one)!, p.GetValue(to), ct2)));

            var show = new Command("show", "Show a collection and its members in order") { name };
            show.SetAction((p, ct) => CollectionViewRun(p, ct, (s, ct2) => s.ShowAsync(p.GetValue(name)!, ct2)));

            var list = new Command("list", "List collections");
            list.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var all = await new CollectionService(library!).ListAsync(ct).ConfigureAwait(false);
                ctx.Output.Result(new { collections = all.Select(CollectionJson) }, w =>
                {
                    foreach (var c in all)
                    {
                        w.WriteLine($"{c.MemberCount,8}  {c.Name}");
                    }
                });
                return 0;
            }));

            var delete = new Command("delete", "Delete a collection (its media stay)") { name };
            delete.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var members = await new CollectionService(library!).DeleteAsync(p.GetValue(name)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new { deleted = p.GetValue(name), members }, w => w.WriteLine($"Deleted collection '{p.GetValue(name)}' ({members} media kept)"));
                return 0;
            }));

            foreach (var c in new[] { create, rename, describe, add, remove, move, show, list, delete })
            {
                cmd.Subcommands.Add(c);
            }

            return cmd;
        }

        public Command Delete()
        {
            var withDerived = new Option<bool>("--with-derived") { Description = "Also move the media derived from these (upscaled, restored) to the trash" };
            var keepDerived = new Option<bool>("--keep-derived") { Description = "Delete only these; media derived from them stay in the library" };
            var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.OneOrMore };
            var cmd = new Command("delete", "Move media to the trash (restorable); an original with derived media needs --with-derived or --keep-derived") { ids, withDerived, keepDerived };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                if (p.GetValue(withDerived) && p.GetValue(keepDerived))
                {
                    throw new TroveUsageException("conflicting-options", "--with-derived and --keep-derived contradict each other.", "Give one of them.");
                }

                var policy = p.GetValue(withDerived) ? DerivedMedia.WithDerived : p.GetValue(keepDerived) ? DerivedMedia.KeepDerived : DerivedMedia.Ask;
                var done = await new MediaService(library!).DeleteAsync(p.GetValue(ids)!, policy, ct).ConfigureAwait(false);
                ctx.Output.Result(new Dictionary<string, object> { ["deleted"] = done }, w => w.WriteLine($"Deleted {done.Count} media."));
                return 0;
            }));
            return cmd;
        }


        public Command Purge()
        {
            var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.ZeroOrMore, Description = "Trashed media to purge (default: the whole trash)" };
            var cmd = new Command("purge", "Remove trashed media for good") { ids };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var purged = await new MediaService(library!).PurgeAsync(p.GetValue(ids) ?? [], ct).ConfigureAwait(false);
                ctx.Output.Result(new { purged }, w => w.WriteLine($"Purged {purged.Count} media."));
                return 0;
            }));
            return cmd;
        }

        public Command Rebuild()
        {
            var cmd = new Command("rebuild", "Recreate the index from the library files");
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var report = await ctx.Output.WithProgressAsync("rebuild", progress => RebuildService.RebuildAsync(library!, progress, ct)).ConfigureAwait(false);
                ctx.Output.Result(report, w =>
                {
                    w.WriteLine($"Rebuilt index: {report.Media} media, {report.Trash} in trash, {report.Collections} collections, {report.Tags} tags in {report.Seconds:0.00} s.");
                    foreach (var problem in report.Problems)
                    {
                        w.WriteLine($"  skipped: {FormatProblem(problem)}");
                    }
                });
                return 0;
            }, reconcile: false));
            return cmd;
        }

        public Command Check()
        {
            var repair = new Option<bool>("--repair") { Description = "Fix what can be fixed from the files" };
            var quick = new Option<bool>("--quick") { Description = "Compare sizes instead of re-hashing every original" };
            var cmd = new Command("check", "Compare the files with each other and with the index") { repair, quick };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var report = await ctx.Output.WithProgressAsync("check", progress => new CheckService(library!).CheckAsync(p.GetValue(repair), !p.GetValue(quick), progress, ct)).ConfigureAwait(false);
                ctx.Output.Result(
                    new { problems = report.Problems, checkedMedia = report.MediaChecked, unresolved = report.Unresolved, notices = report.Notices },
                    w =>
                    {
                        foreach (var problem in report.Problems)
                        {
                            w.WriteLine($"{(problem.Repaired ? "repaired" : problem.Repairable ? "repairable" : "problem")}: {FormatProblem(problem)}");
                        }

                        foreach (var notice in report.Notices)
                        {
                            w.WriteLine("note: " + notice);
                        }

                        w.WriteLine($"Checked {report.MediaChecked} media: {report.Problems.Count} problem(s), {report.Unresolved} unresolved.");
                        if (!report.Repaired && report.Problems.Any(x => x.Repairable))
                        {
                            w.WriteLine("Run 'trove check --repair' to fix the repairable ones.");
                        }
                    });
                return report.Unresolved > 0 ? 1 : 0;
            }, reconcile: false));
            return cmd;
        }

        public Command Audit()
        {
            var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 50, Description = "How many entries" };
            var cmd = new Command("audit", "Show the most recent changes (who did what, when)") { limit };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var entries = await library!.State.ReadAuditAsync(p.GetValue(limit), ct).ConfigureAwait(false);
                ctx.Output.Result(new { entries }, w =>
                {
                    foreach (var e in entries)
                    {
                        w.WriteLine($"{e.At:u}  {e.Actor,-12} {e.Action,-20} {e.Target} {e.Detail}");
                    }
                });
                return 0;
            }));
            return cmd;
        }

        public Command Serve()
        {
            var urls = new Option<string?>("--urls") { Description = $"Where to listen (default {TroveServer.DefaultUrl}; loopback unless you say otherwise)" };
            var init = new Option<bool>("--init") { Description = "Create the library first if the folder does not hold one" };
            var cmd = new Command("serve", "Serve the library over HTTP") { urls, init };
            cmd.SetAction((p, ct) => Run(p, ct, openLibrary: false, async (ctx, _) =>
            {
                if (p.GetValue(init) && !File.Exists(Path.Combine(ctx.LibraryPath, Trove.Library.LibraryLayout.ManifestFileName)))
                {
                    TroveLibrary.Init(ctx.LibraryPath, ctx.Environment);
                    await ctx.Output.Err.WriteLineAsync($"Created a new library in {Path.GetFullPath(ctx.LibraryPath)}").ConfigureAwait(false);
                }

                await using var library = await ctx.Output.WithProgressAsync("open", progress => TroveLibrary.OpenAsync(ctx.LibraryPath, ctx.Environment, progress, ct)).ConfigureAwait(false);
                await library.RecoverAsync(ct).ConfigureAwait(false);
                await Application.Restoration.RetentionJobs.ScheduleNextAsync(library, ct).ConfigureAwait(false);
                var settings = CliHost.ServerSettings();
                if (p.GetValue(urls) is { Length: > 0 } given)
                {
                    settings.Urls = given;
                }

                try
                {
                    await TroveServer.RunAsync(library, settings, line => ctx.Output.Err.WriteLine(line), ct).ConfigureAwait(false);
                }
                catch (ServerAddressInUseException busy)
                {
                    // One line that says what to do: the same address on the next port, by make or by hand.
                    throw new TroveException(busy.Code, $"{busy.Message} Start on another port with: make run URLS={busy.SuggestedUrl}  or  ./trove serve --urls {busy.SuggestedUrl}", null, busy);
                }

                return 0;
            }));
            return cmd;
        }

        private Command VocabularyCommand(string name, string description, string[] argNames, Func<TagService, string[], CancellationToken, Task<VocabularyChange>> action, Option<bool>? flag = null)
        {
            var args = argNames.Select(a => new Argument<string>(a)).ToArray();
            var cmd = new Command(name, description);
            foreach (var a in args)
            {
                cmd.Arguments.Add(a);
            }

            if (flag is not null)
            {
                cmd.Options.Add(flag);
            }

            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var values = args.Select(a => p.GetValue(a)!).Append(flag is not null && p.GetValue(flag) ? "true" : "false").ToArray();
                var change = await action(new TagService(library!), values, ct).ConfigureAwait(false);
                ctx.Output.Result(new { result = change.Summary, mediaUpdated = change.MediaUpdated }, w => w.WriteLine($"{change.Summary}{(change.MediaUpdated > 0 ? $" ({change.MediaUpdated} media updated)" : string.Empty)}."));
                return 0;
            }));
            return cmd;
        }

        private Command IdsCommand(string name, string description, string key, Func<MediaService, IReadOnlyList<string>, CancellationToken, Task<IReadOnlyList<string>>> action)
        {
            var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.OneOrMore };
            var cmd = new Command(name, description) { ids };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var done = await action(new MediaService(library!), p.GetValue(ids)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new Dictionary<string, object> { [key] = done }, w => w.WriteLine($"{char.ToUpperInvariant(key[0])}{key[1..]} {done.Count} media."));
                return 0;
            }));
            return cmd;
        }

        private Task<int> CaptionRun(ParseResult p, CancellationToken ct, Func<CaptionService, CancellationToken, Task<CaptionListing>> action) =>
            Run(p, ct, true, async (ctx, library) =>
            {
                var listing = await action(new CaptionService(library!), ct).ConfigureAwait(false);
                ctx.Output.Result(new { id = listing.Id, captions = listing.Captions.Select(CaptionJson) }, w =>
                {
                    foreach (var c in listing.Captions)
                    {
                        w.WriteLine(CaptionLine(c));
                    }
                });
                return 0;
            });

        private Task<int> CollectionViewRun(ParseResult p, CancellationToken ct, Func<CollectionService, CancellationToken, Task<CollectionView>> action) =>
            Run(p, ct, true, async (ctx, library) =>
            {
                var view = await action(new CollectionService(library!), ct).ConfigureAwait(false);
                ctx.Output.Result(new { collection = CollectionJson(view.Collection), members = view.Members }, w =>
                {
                    w.WriteLine($"{view.Collection.Name} ({view.Members.Count} media)");
                    for (var i = 0; i < view.Members.Count; i++)
                    {
                        w.WriteLine($"{i + 1,6}  {view.Members[i]}");
                    }
                });
                return 0;
            });

        private static object CollectionJson(Trove.Application.Ports.IndexedCollection c) =>
            new { id = c.Id, name = c.Name, description = c.Description, tags = c.Tags, createdAt = c.CreatedAt, updatedAt = c.UpdatedAt, members = c.MemberCount < 0 ? (long?)null : c.MemberCount };

        private static string FormatProblem(Problem p) =>
            $"{p.Type}: {(p.Path is null ? string.Empty : p.Path + (p.Line is null ? string.Empty : $":{p.Line}:{p.Column}") + ": ")}{p.Message}{(p.Id is null || p.Path is not null ? string.Empty : $" ({p.Id})")}";

        private async Task<int> Run(ParseResult p, CancellationToken ct, bool openLibrary, Func<CliContext, TroveLibrary?, Task<int>> body, bool reconcile = true)
        {
            var output = new CliOutput(stdout, stderr, p.GetValue(JsonOption));
            var path = CliHost.ResolveLibraryPath(p.GetValue(LibraryOption));
            var environment = CliHost.CreateEnvironment(stderr, p.GetValue(VerboseOption));
            if (!reconcile)
            {
                environment = environment with { Options = CopyWithoutReconcile(environment.Options) };
            }

            var ctx = new CliContext(path, environment, output);
            try
            {
                if (!openLibrary)
                {
                    return await body(ctx, null).ConfigureAwait(false);
                }

                await using var library = await output.WithProgressAsync("open", progress => TroveLibrary.OpenAsync(path, environment, progress, ct)).ConfigureAwait(false);
                return await body(ctx, library).ConfigureAwait(false);
            }
            catch (Trove.Application.Ports.ImageException ex)
            {
                output.Error(new TroveException("image-" + ex.Code, ex.Message, ex.Code == "unavailable" ? "Install libvips with 'apt-get install libvips42' (or run 'make deps')." : null, ex));
                return 1;
            }
            catch (Exception ex) when (ex is TroveException or OperationCanceledException)
            {
                output.Error(ex);
                return ex is TroveException { IsUsageError: true } ? 2 : 1;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                output.Error(new TroveException("io-error", $"{ex.Message}", "Check the library folder's disk space and permissions; nothing half-written was left behind.", ex));
                return 1;
            }
            finally
            {
                environment.LoggerFactory.Dispose();
            }
        }

        private static TroveOptions CopyWithoutReconcile(TroveOptions o) =>
            new() { Durability = o.Durability, LockTimeout = o.LockTimeout, IndexBatchSize = o.IndexBatchSize, ReconcileOnOpen = false, Imaging = o.Imaging, Import = o.Import, Accounts = o.Accounts, Suggestions = o.Suggestions, Restoration = o.Restoration };
    }

    private sealed record CliContext(string LibraryPath, LibraryEnvironment Environment, CliOutput Output);
}
