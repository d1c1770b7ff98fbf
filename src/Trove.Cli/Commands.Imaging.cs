using System.CommandLine;
using Trove.Application;
using Trove.Application.Crops;
using Trove.Application.Export;
using Trove.Application.Masks;
using Trove.Application.Ports;
using Trove.Application.Similarity;
using Trove.Application.Thumbnails;
using Trove.Domain;
using Trove.Domain.Similarity;

namespace Trove.Cli;

#pragma warning disable CA1822 // Command factories are grouped on one instance.

public static partial class TroveCli
{
    /// <summary>Commands that work with pixels: crops, masks, thumbnails, near-duplicates, export.</summary>
    private sealed partial class Commands
    {
        public Command Crop()
        {
            var cmd = new Command("crop", "Crops: named rectangles of an image, rendered on demand");
            var id = new Argument<string>("ID") { Description = "Media id or unique prefix" };
            var name = new Option<string>("--name") { Description = "Crop name (letters, digits, _ and -)", Required = true };
            var rect = new Option<string>("--rect") { Description = "X,Y,W,H in pixels of the image as displayed (EXIF rotation applied)", Required = true };
            var replace = new Option<bool>("--replace") { Description = "Redefine a crop that already has this name" };
            var add = new Command("add", "Add a named crop") { id, name, rect, replace };
            add.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var r = CropService.ParseRect(p.GetValue(rect)!);
                var listing = await new CropService(library!).AddAsync(p.GetValue(id)!, p.GetValue(name)!, r, p.GetValue(replace), ct).ConfigureAwait(false);
                PrintCrops(ctx, listing);
                return 0;
            }));

            var list = new Command("list", "List an image's crops") { id };
            list.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                PrintCrops(ctx, await new CropService(library!).ListAsync(p.GetValue(id)!, ct).ConfigureAwait(false));
                return 0;
            }));

            var cropName = new Argument<string>("NAME") { Description = "Crop name" };
            var remove = new Command("remove", "Remove a crop") { id, cropName };
            remove.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                PrintCrops(ctx, await new CropService(library!).RemoveAsync(p.GetValue(id)!, p.GetValue(cropName)!, ct).ConfigureAwait(false));
                return 0;
            }));

            var size = new Option<int?>("--size") { Description = "Longest side of the render (never upscaled)" };
            var format = new Option<string>("--format") { Description = "png, jpeg or webp", DefaultValueFactory = _ => "png" };
            var output = new Option<string?>("--out") { Description = "Also copy the render to this file" };
            var render = new Command("render", "Render a crop (cached) and print where it is") { id, cropName, size, format, output };
            render.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var rendered = await new CropService(library!).RenderAsync(p.GetValue(id)!, p.GetValue(cropName)!, p.GetValue(size), ParseFormat(p.GetValue(format)!), ct).ConfigureAwait(false);
                var path = rendered.Path;
                if (p.GetValue(output) is { } target)
                {
                    File.Copy(rendered.Path, target, overwrite: true);
                    path = Path.GetFullPath(target);
                }

                ctx.Output.Result(new { id = rendered.MediaId, crop = rendered.Crop, path, width = rendered.Width, height = rendered.Height, mediaType = rendered.MediaType }, w => w.WriteLine(path));
                return 0;
            }));

            foreach (var c in new[] { add, list, remove, render })
            {
                cmd.Subcommands.Add(c);
            }

            return cmd;
        }

        public Command Mask()
        {
            var cmd = new Command("mask", "Masks: images imported with --mask-of, linked to their image with a category");
            var id = new Argument<string>("ID") { Description = "Image id or unique prefix" };
            var list = new Command("list", "List an image's masks") { id };
            list.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var listing = await new MaskService(library!).ListAsync(p.GetValue(id)!, ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new { id = listing.ImageId, masks = listing.Masks.Select(m => new { id = m.Id, category = m.Category, width = m.Width, height = m.Height, path = library!.Layout.Relative(m.Path) }) },
                    w =>
                    {
                        foreach (var m in listing.Masks)
                        {
                            w.WriteLine($"{m.Id}  {m.Category}  {m.Width}×{m.Height}");
                        }

                        if (listing.Masks.Count == 0)
                        {
                            ctx.Output.Err.WriteLine($"{listing.ImageId[..12]} has no masks; import one with 'trove import FILE --mask-of {listing.ImageId[..12]} --category person'.");
                        }
                    });
                return 0;
            }));
            cmd.Subcommands.Add(list);
            return cmd;
        }

        public Command Thumbnail()
        {
            var id = new Argument<string>("ID") { Description = "Media id or unique prefix" };
            var size = new Option<int>("--size") { Description = "256, 512 or 1024 (longest side)", DefaultValueFactory = _ => 256 };
            var cmd = new Command("thumbnail", "Make (if needed) a cached thumbnail and print where it is") { id, size };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var thumb = await new ThumbnailService(library!).GetAsync(p.GetValue(id)!, p.GetValue(size), ct).ConfigureAwait(false);
                ctx.Output.Result(new { id = thumb.MediaId, size = thumb.Size, path = thumb.Path, mediaType = thumb.MediaType, created = thumb.Created }, w => w.WriteLine(thumb.Path));
                return 0;
            }));
            return cmd;
        }

        public Command Dupes()
        {
            var distance = new Option<int>("--distance") { Description = $"Bits of the 64-bit perceptual hash that may differ (default {NearDuplicateCriteria.DefaultMaxDistance})", DefaultValueFactory = _ => NearDuplicateCriteria.DefaultMaxDistance };
            var by = ByOption(both: true);
            var minScore = new Option<float?>("--min-score") { Description = "With --by embedding/both: the cosine similarity two embeddings need (default: the embedder's duplicateScore, 0.95)" };
            var cmd = new Command("dupes", "Find groups of near-duplicate images (by perceptual hash, embedding, or both)") { distance, by, minScore };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var basis = Basis(p.GetValue(by)!, both: true);
                var groups = await ctx.Output.WithProgressAsync("compare", progress => new NearDuplicateService(library!).FindGroupsAsync(basis, p.GetValue(distance), p.GetValue(minScore), progress, ct)).ConfigureAwait(false);
                ctx.Output.Result(
                    new
                    {
                        groups = groups.Select(g => g.Ids),
                        details = groups.Select(g => g.Members.Select(m => new { id = m.Id, width = m.Width, height = m.Height, size = m.Size })),
                        by = groups.Select(g => g.By),
                        scores = groups.Select(g => g.Score),
                    },
                    w =>
                    {
                        foreach (var g in groups)
                        {
                            var how = basis == DuplicateBasis.PerceptualHash ? string.Empty : g.Score is { } sc ? $"   [{g.By}, ≥ {sc:0.000}]" : $"   [{g.By}]";
                            w.WriteLine(string.Join("  ", g.Members.Select(m => $"{m.Id[..12]} ({m.Width}×{m.Height}, {m.Size / 1024.0:0} KB)")) + how);
                        }

                        ctx.Output.Err.WriteLine($"{groups.Count} group(s). Merge one with 'trove dupes merge ID ID... [--keep ID]'.");
                    });
                return 0;
            }));

            var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.OneOrMore, Description = "The media to merge (two or more)" };
            var keep = new Option<string?>("--keep") { Description = "The one to keep (default: most pixels, then largest file, then oldest)" };
            var merge = new Command("merge", "Merge near-duplicates: keep one, union tags/captions/collections into it, trash the others") { ids, keep };
            merge.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var report = await new NearDuplicateService(library!).MergeAsync(p.GetValue(ids)!, p.GetValue(keep), ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new { kept = report.Kept, trashed = report.Trashed, tagsAdded = report.TagsAdded, captionsAdded = report.CaptionsAdded, collectionsAdded = report.CollectionsAdded },
                    w => w.WriteLine($"Kept {report.Kept[..12]}; moved {report.Trashed.Count} duplicate(s) to the trash; added {report.TagsAdded.Count} tag(s), {report.CaptionsAdded} caption(s)."));
                return 0;
            }));
            cmd.Subcommands.Add(merge);
            return cmd;
        }

        public Command Similar()
        {
            var id = new Argument<string>("ID") { Description = "Media id or unique prefix" };
            var distance = new Option<int>("--distance") { Description = "Bits that may differ", DefaultValueFactory = _ => NearDuplicateCriteria.DefaultMaxDistance };
            var limit = new Option<int>("--limit") { Description = "At most this many", DefaultValueFactory = _ => 100 };
            var by = ByOption(both: false);
            var minScore = new Option<float?>("--min-score") { Description = "With --by embedding: the similarity needed (default: the embedder's duplicateScore, 0.95)" };
            var cmd = new Command("similar", "Images that look like one image (perceptual hash, or embedding)") { id, distance, limit, by, minScore };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var service = new NearDuplicateService(library!);
                var byEmbedding = Basis(p.GetValue(by)!, both: false) == DuplicateBasis.Embedding;
                var similar = byEmbedding
                    ? await service.SimilarByEmbeddingAsync(p.GetValue(id)!, p.GetValue(minScore), p.GetValue(limit), ct).ConfigureAwait(false)
                    : await service.SimilarAsync(p.GetValue(id)!, p.GetValue(distance), p.GetValue(limit), ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new { items = similar.Select(s => new { id = s.Id, distance = byEmbedding ? (int?)null : s.Distance, dhashDistance = byEmbedding ? (int?)null : s.DHashDistance, score = s.Score, width = s.Width, height = s.Height, size = s.Size }) },
                    w =>
                    {
                        foreach (var s in similar)
                        {
                            w.WriteLine(byEmbedding ? $"{s.Id}  score {s.Score:0.000}  {s.Width}×{s.Height}" : $"{s.Id}  distance {s.Distance}  {s.Width}×{s.Height}");
                        }
                    });
                return 0;
            }));
            return cmd;
        }

        private static Option<string> ByOption(bool both) => new("--by")
        {
            Description = both ? "phash (perceptual hash), embedding (the embedder's vectors) or both" : "phash (perceptual hash) or embedding (the embedder's vectors)",
            DefaultValueFactory = _ => "phash",
        };

        private static DuplicateBasis Basis(string value, bool both) => value.ToLowerInvariant() switch
        {
            "phash" => DuplicateBasis.PerceptualHash,
            "embedding" => DuplicateBasis.Embedding,
            "both" when both => DuplicateBasis.Both,
            _ => throw new TroveUsageException("bad-by", $"--by {value} is not known; use {(both ? "phash, embedding or both" : "phash or embedding")}."),
        };

        public Command Export()
        {
            var query = new Argument<string>("QUERY") { Description = "Which media (query language; \"\" for all)" };
            var format = new Option<string>("--format") { Description = "Dataset layout: kohya", DefaultValueFactory = _ => "kohya" };
            var output = new Option<string>("--out") { Description = "Folder (new or empty) or FILE.zip", Required = true };
            var crops = new Option<bool>("--crops") { Description = "Also export each crop as its own image" };
            var masks = new Option<bool>("--masks") { Description = "Export masks under masks/CATEGORY/" };
            var maxSize = new Option<int?>("--max-size") { Description = "Resize so the longest side is at most this (never upscales)" };
            var repeat = new Option<int?>("--repeat") { Description = "kohya repeats: files go in N_CONCEPT/" };
            var concept = new Option<string>("--concept") { Description = "Concept name for the N_CONCEPT folder", DefaultValueFactory = _ => "images" };
            var text = new Option<string>("--text") { Description = "auto (primary caption, else tags), caption, tags, both, or pending (auto, with captions still pending review where there is no approved one)", DefaultValueFactory = _ => "auto" };
            var tagOrder = new Option<string?>("--tag-order") { Description = "Category order of the tag line, e.g. character,copyright,artist,general,meta" };
            var underscores = new Option<bool>("--keep-underscores") { Description = "Keep underscores in tag names (default: spaces, WD14 style)" };
            var force = new Option<bool>("--force") { Description = "Replace an existing output" };
            var cmd = new Command("export", "Export a query as a training dataset (kohya layout) to a folder or ZIP") { query, format, output, crops, masks, maxSize, repeat, concept, text, tagOrder, underscores, force };
            cmd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var mode = p.GetValue(text)!.ToLowerInvariant() switch
                {
                    "auto" => ExportText.Auto,
                    "caption" => ExportText.Caption,
                    "tags" => ExportText.Tags,
                    "both" => ExportText.Both,
                    "pending" => ExportText.Pending,
                    var other => throw new TroveUsageException("bad-text", $"--text '{other}' is not one of auto, caption, tags, both, pending."),
                };
                var options = new ExportOptions(
                    p.GetValue(query) ?? string.Empty, p.GetValue(output)!, p.GetValue(format)!, p.GetValue(crops), p.GetValue(maxSize), p.GetValue(repeat), p.GetValue(concept)!, mode,
                    p.GetValue(tagOrder)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), p.GetValue(underscores), p.GetValue(masks), p.GetValue(force));
                var report = await ctx.Output.WithProgressAsync("export", progress => new ExportService(library!).ExportAsync(options, progress, ct)).ConfigureAwait(false);
                ctx.Output.Result(
                    new { @out = report.Out, media = report.Media, images = report.Images, crops = report.Crops, masks = report.Masks, bytes = report.Bytes, failed = report.Failed.Select(f => new { id = f.Path, error = f.Error }) },
                    w =>
                    {
                        w.WriteLine($"Exported {report.Images} image(s), {report.Crops} crop(s), {report.Masks} mask(s) to {report.Out} ({report.Bytes / 1048576.0:0.0} MB).");
                        foreach (var f in report.Failed)
                        {
                            w.WriteLine($"  failed: {f.Path}: {f.Error}");
                        }
                    });
                return report.Failed.Count > 0 ? 1 : 0;
            }));
            return cmd;
        }

        private static void PrintCrops(CliContext ctx, CropListing listing) =>
            ctx.Output.Result(
                new { id = listing.Id, width = listing.Width, height = listing.Height, crops = listing.Crops.Select(c => new { name = c.Name, x = c.X, y = c.Y, w = c.W, h = c.H }) },
                w =>
                {
                    foreach (var c in listing.Crops)
                    {
                        w.WriteLine($"{c.Name}: {c.X},{c.Y},{c.W},{c.H}");
                    }
                });

        private static ImageFormat ParseFormat(string text) => text.ToLowerInvariant() switch
        {
            "png" => ImageFormat.Png,
            "jpg" or "jpeg" => ImageFormat.Jpeg,
            "webp" => ImageFormat.WebP,
            _ => throw new TroveUsageException("bad-format", $"--format '{text}' is not one of png, jpeg, webp."),
        };
    }
}
