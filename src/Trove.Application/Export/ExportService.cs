using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Trove.Application.Crops;
using Trove.Application.Masks;
using Trove.Application.Ports;
using Trove.Application.Search;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application.Export;

/// <summary>What goes into each caption file.</summary>
public enum ExportText
{
    /// <summary>The primary caption when there is one, otherwise the tag line.</summary>
    Auto,
    Caption,
    Tags,

    /// <summary>The primary caption, then the tag line, separated by ", ".</summary>
    Both,

    /// <summary>
    /// Like <see cref="Auto"/>, but a media without an approved caption uses its newest generated caption still pending
    /// review. Only when asked: unreviewed model output never reaches a dataset by default.
    /// </summary>
    Pending,
}

/// <param name="Out">A folder (created; must be absent or empty) or a path ending in .zip.</param>
/// <param name="Crops">Also export every crop as an image of its own ("{id}_{crop}.ext").</param>
/// <param name="MaxSize">Longest side of exported images; larger ones are resized (never upscaled).</param>
/// <param name="Repeat">kohya repeat count: files go in "{Repeat}_{Concept}/".</param>
/// <param name="TagOrder">Category order of the tag line; unlisted categories follow in the vocabulary's order.</param>
/// <param name="KeepUnderscores">Tag line uses tag names as they are; by default underscores become spaces (WD14/kohya style).</param>
/// <param name="Masks">Export the masks of each image under masks/{category}/.</param>
public sealed record ExportOptions(
    string Query,
    string Out,
    string Format = "kohya",
    bool Crops = false,
    int? MaxSize = null,
    int? Repeat = null,
    string Concept = "images",
    ExportText Text = ExportText.Auto,
    IReadOnlyList<string>? TagOrder = null,
    bool KeepUnderscores = false,
    bool Masks = false,
    bool Force = false);

public sealed record ExportReport(string Out, int Media, int Images, int Crops, int Masks, long Bytes, IReadOnlyList<ImportFailure> Failed);

/// <summary>
/// Exports a query as a kohya-style training dataset (image + .txt per media, optional crops, masks and resize) into a
/// folder or a ZIP written as a stream. Output appears under its final name only when complete (written under a
/// temporary name, then renamed). A manifest.json lists each file with its source media and hashes.
/// </summary>
public sealed class ExportService(TroveLibrary library)
{
    public static readonly IReadOnlyList<string> DefaultTagOrder = ["character", "copyright", "artist", "general", "meta", "rating"];

    private static readonly HashSet<string> TrainerFormats = new(StringComparer.Ordinal) { "jpg", "jpeg", "png", "webp" };

    public async Task<ExportReport> ExportAsync(ExportOptions options, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        Validate(options);
        var ids = await AllIdsAsync(options.Query, ct).ConfigureAwait(false);
        var vocabulary = library.Files.ReadVocabulary(out _);
        var counts = (await library.Index.ListTagsAsync(ct).ConfigureAwait(false)).ToDictionary(t => t.Name, t => t.Count, StringComparer.Ordinal);
        var categoryRank = RankCategories(vocabulary, options.TagOrder ?? DefaultTagOrder);
        var folder = options.Repeat is { } r ? $"{r}_{SafeName(options.Concept)}/" : string.Empty;

        await using var sink = ExportSink.Open(options.Out, options.Force);
        var manifest = new List<Dictionary<string, object?>>();
        var failed = new List<ImportFailure>();
        int images = 0, crops = 0, masks = 0;
        var chunk = Math.Max(1, library.Options.Import.EffectiveParallelism * 2);
        for (var start = 0; start < ids.Count; start += chunk)
        {
            ct.ThrowIfCancellationRequested();
            var batch = ids.Skip(start).Take(chunk).Select(id => library.Files.TryReadSidecar(id)).Where(s => s is { InTrash: false, Sidecar.Kind: MediaKinds.Image }).Select(s => s!.Sidecar).ToList();

            // Render in parallel (libvips work), write in order (the sink is a stream).
            var prepared = new List<PreparedFile>[batch.Count];
            await Parallel.ForAsync(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = library.Options.Import.EffectiveParallelism, CancellationToken = ct }, async (i, t) =>
            {
                prepared[i] = await PrepareAsync(batch[i], options, folder, t).ConfigureAwait(false);
            }).ConfigureAwait(false);

            for (var i = 0; i < batch.Count; i++)
            {
                var sidecar = batch[i];
                var text = CaptionText(sidecar, options, vocabulary, counts, categoryRank);
                foreach (var file in prepared[i])
                {
                    if (file.Error is not null)
                    {
                        failed.Add(new ImportFailure(sidecar.Id, file.Error));
                        continue;
                    }

                    // Open a source file before anything of it is written: one that has gone missing or cannot be read
                    // fails that file, not the whole export, and never leaves a half-written entry behind.
                    FileStream? source = null;
                    if (file.Source is not null)
                    {
                        try
                        {
                            source = new FileStream(file.Source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
                        }
                        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                        {
                            failed.Add(new ImportFailure(sidecar.Id, $"cannot read {library.Layout.Relative(file.Source)} for {file.Name}: {ex.Message}"));
                            continue;
                        }
                    }

                    string sha;
                    await using (source)
                    {
                        sha = await sink.WriteAsync(file.Name, source, file.Data, compress: false, ct).ConfigureAwait(false);
                    }

                    var entry = new Dictionary<string, object?>
                    {
                        ["file"] = file.Name,
                        ["media"] = sidecar.Id,
                        ["sha256"] = sha,
                        ["width"] = file.Width,
                        ["height"] = file.Height,
                    };
                    if (file.Kind == "mask")
                    {
                        entry["kind"] = "mask";
                        entry["mask"] = file.Crop;
                        entry["mask_media"] = file.MaskId;
                        masks++;
                    }
                    else
                    {
                        var textName = Path.ChangeExtension(file.Name, ".txt");
                        entry["caption_file"] = textName;
                        entry["caption_sha256"] = await sink.WriteAsync(textName, null, Encoding.UTF8.GetBytes(text), compress: true, ct).ConfigureAwait(false);
                        entry["caption"] = text;
                        if (file.Crop is not null)
                        {
                            entry["crop"] = file.Crop;
                            crops++;
                        }
                        else
                        {
                            images++;
                        }
                    }

                    manifest.Add(entry);
                }
            }

            progress?.Report(new ProgressInfo("Exporting", Math.Min(start + chunk, ids.Count), ids.Count));
        }

        var document = new Dictionary<string, object?>
        {
            ["format"] = "kohya",
            ["query"] = options.Query,
            ["library"] = library.Manifest.Id,
            ["created_at"] = library.Now.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["created_by"] = library.Actor,
            ["text"] = options.Text.ToString().ToLowerInvariant(),
            ["max_size"] = options.MaxSize,
            ["repeat"] = options.Repeat,
            ["files"] = manifest,
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(document, ExportJson.Options);
        await sink.WriteAsync("manifest.json", null, json, compress: true, ct).ConfigureAwait(false);
        var bytes = sink.Complete();
        return new ExportReport(sink.FinalPath, ids.Count, images, crops, masks, bytes, failed);
    }

    /// <summary>
    /// Refuses options an export would refuse (unknown format, too small a size, bad repeat, malformed query) without
    /// doing anything, so that a background export can be refused before it is queued.
    /// </summary>
    public static void Validate(ExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.Equals(options.Format, "kohya", StringComparison.OrdinalIgnoreCase))
        {
            throw new TroveUsageException("bad-format", $"Export format '{options.Format}' is not known; the formats are: kohya.");
        }

        if (options.MaxSize is < 16)
        {
            throw new TroveUsageException("bad-size", "--max-size must be at least 16 pixels.");
        }

        if (options.Repeat is < 1)
        {
            throw new TroveUsageException("bad-repeat", "--repeat must be at least 1.");
        }

        Trove.Search.Query.QueryParser.Parse(options.Query);
    }

    /// <summary>The media to export, oldest first unless the query says otherwise.</summary>
    private async Task<List<string>> AllIdsAsync(string query, CancellationToken ct)
    {
        var ordered = Trove.Search.Query.QueryParser.Parse(query).OrderSpan is null ? query + " order:oldest" : query;
        return [.. await new SearchService(library).AllIdsAsync(ordered, ct).ConfigureAwait(false)];
    }

    /// <summary>Decides, and where needed renders, the files for one media. Runs in parallel; touches no shared state.</summary>
    private async Task<List<PreparedFile>> PrepareAsync(MediaSidecar sidecar, ExportOptions options, string folder, CancellationToken ct)
    {
        var files = new List<PreparedFile>();
        var original = library.Layout.OriginalPath(sidecar.Id, sidecar.Original.Ext);
        var ext = sidecar.Original.Ext.ToLowerInvariant();
        var format = ext switch { "jpg" or "jpeg" => ImageFormat.Jpeg, "webp" => ImageFormat.WebP, _ => ImageFormat.Png };
        var outExt = ImageFormats.Extension(format);
        var (w, h) = (sidecar.Original.Width ?? 0, sidecar.Original.Height ?? 0);
        var tooBig = options.MaxSize is { } max && Math.Max(w, h) > max;
        var rotated = sidecar.Original.Orientation is { } o && o != 1;
        if (!File.Exists(original))
        {
            files.Add(PreparedFile.Failed($"cannot export {sidecar.Id[..12]}: its original file {library.Layout.Relative(original)} is missing (see 'trove check')."));
            return files;
        }

        try
        {
            if (!tooBig && !rotated && TrainerFormats.Contains(ext) && (sidecar.Original.Frames ?? 1) == 1)
            {
                // Trainers read it as it is: copy the original byte for byte.
                files.Add(new PreparedFile($"{folder}{sidecar.Id}.{(ext == "jpeg" ? "jpg" : ext)}", original, null, w, h, null, "image", null));
            }
            else
            {
                var image = library.Imaging.Render(original, new RenderRequest(null, options.MaxSize, format, 95, library.Options.Imaging.Limits), ct);
                files.Add(new PreparedFile($"{folder}{sidecar.Id}.{outExt}", null, image.Data, image.Width, image.Height, null, "image", null));
                (w, h) = (image.Width, image.Height);
            }
        }
        catch (ImageException ex)
        {
            files.Add(PreparedFile.Failed($"cannot export {sidecar.Id[..12]}: {ex.Message}"));
            return files;
        }

        if (options.Crops)
        {
            foreach (var crop in sidecar.Crops)
            {
                try
                {
                    var rendered = CropService.Render(library, sidecar.Id, original, new PixelRect(crop.X, crop.Y, crop.W, crop.H), options.MaxSize, format, 95, ct);
                    files.Add(new PreparedFile($"{folder}{sidecar.Id}_{crop.Name}.{outExt}", rendered.Path, null, rendered.Width, rendered.Height, crop.Name, "image", null));
                }
                catch (ImageException ex)
                {
                    files.Add(PreparedFile.Failed($"cannot export crop '{crop.Name}' of {sidecar.Id[..12]}: {ex.Message}"));
                }
            }
        }

        if (options.Masks)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var mask in await MaskService.MasksOfAsync(library, sidecar.Id, ct).ConfigureAwait(false))
            {
                try
                {
                    // A mask pairs with its image pixel for pixel (same stem, same size as the exported image), even when
                    // it was imported at another size of the same shape. A second mask of one category gets a suffix.
                    var data = RenderMask(mask, w, h, options.MaxSize, ct);
                    var category = SafeName(mask.Category);
                    var name = $"masks/{category}/{folder}{sidecar.Id}.png";
                    for (var n = 2; !names.Add(name); n++)
                    {
                        name = $"masks/{category}/{folder}{sidecar.Id}_{n}.png";
                    }

                    files.Add(new PreparedFile(name, null, data.Data, data.Width, data.Height, mask.Category, "mask", null) { MaskId = mask.Id });
                }
                catch (ImageException ex)
                {
                    files.Add(PreparedFile.Failed($"cannot export mask {mask.Id[..12]} of {sidecar.Id[..12]}: {ex.Message}"));
                }
            }
        }

        return files;
    }

    /// <summary>A mask as PNG at exactly <paramref name="width"/> × <paramref name="height"/> (the exported image's size).</summary>
    private EncodedImage RenderMask(MaskView mask, int width, int height, int? maxSize, CancellationToken ct)
    {
        // Through the same resize the image got; a mask imported at another size (same shape, e.g. half size) does not
        // land on the image's size that way, so it is resampled to exactly that size.
        var limits = library.Options.Imaging.Limits;
        var rendered = library.Imaging.Render(mask.Path, new RenderRequest(null, maxSize, ImageFormat.Png, 100, limits), ct);
        if (width <= 0 || height <= 0 || (rendered.Width, rendered.Height) == (width, height))
        {
            return rendered;
        }

        var gray = library.Imaging.Probe(mask.Path, limits, ct).Bands <= 2;
        var pixels = library.Imaging.Pixels(mask.Path, new PixelRequest(PixelFit.Stretch, width, height, 0x000000, gray, null, limits), ct);
        return library.Imaging.Encode(pixels, ImageFormat.Png, 100, ct);
    }

    /// <summary>The text for a media's .txt file.</summary>
    internal static string CaptionText(MediaSidecar sidecar, ExportOptions options, Vocabulary vocabulary, IReadOnlyDictionary<string, long> counts, IReadOnlyDictionary<string, int> categoryRank)
    {
        var chosen = sidecar.PrimaryCaption
            ?? (options.Text == ExportText.Pending ? sidecar.Captions.Where(c => c.Status == CaptionStatus.Pending).MaxBy(c => c.CreatedAt) : null);
        var caption = chosen?.Text.ReplaceLineEndings(" ").Trim();
        string TagLine() => string.Join(", ", sidecar.Tags
            .Select(t => t.Name)
            .OrderBy(t => categoryRank.TryGetValue(vocabulary.CategoryOf(t), out var r) ? r : int.MaxValue)
            .ThenByDescending(t => counts.TryGetValue(t, out var c) ? c : 0)
            .ThenBy(t => t, StringComparer.Ordinal)
            .Select(t => options.KeepUnderscores ? t : t.Replace('_', ' ')));
        return options.Text switch
        {
            ExportText.Caption => caption ?? string.Empty,
            ExportText.Tags => TagLine(),
            ExportText.Both => string.Join(", ", new[] { caption, TagLine() }.Where(s => !string.IsNullOrEmpty(s))),
            _ => caption ?? TagLine(),
        };
    }

    internal static Dictionary<string, int> RankCategories(Vocabulary vocabulary, IReadOnlyList<string> order)
    {
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in order.Concat(vocabulary.AllCategories))
        {
            rank.TryAdd(c, rank.Count);
        }

        return rank;
    }

    private static string SafeName(string raw)
    {
        var cleaned = new string(raw.Trim().Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or ' ' ? c : '_').ToArray()).Trim();
        return cleaned.Length == 0 ? "images" : cleaned;
    }

    private sealed record PreparedFile(string Name, string? Source, byte[]? Data, int Width, int Height, string? Crop, string Kind, string? Error)
    {
        /// <summary>For a mask: the mask's own media id.</summary>
        public string? MaskId { get; init; }

        public static PreparedFile Failed(string error) => new(string.Empty, null, null, 0, 0, null, "image", error);
    }
}

internal static class ExportJson
{
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true };
}

/// <summary>Where exported files go: a folder or a ZIP, both written under a temporary name and renamed when complete.</summary>
internal abstract class ExportSink : IAsyncDisposable
{
    private bool _completed;

    public abstract string FinalPath { get; }

    public static ExportSink Open(string output, bool force)
    {
        // "out/" and "out" are the same folder (the temporary folder goes beside it, not inside it).
        var full = Path.GetFullPath(output);
        if (full.Length > 1)
        {
            full = Path.TrimEndingDirectorySeparator(full);
        }

        if (full.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            if (File.Exists(full) && !force)
            {
                throw new TroveUsageException("export-exists", $"{output} already exists.", "Choose another name, delete it, or pass --force to replace it.");
            }

            return new ZipSink(full);
        }

        if (File.Exists(full))
        {
            throw new TroveUsageException("export-not-folder", $"{output} is a file; give a folder or a name ending in .zip.");
        }

        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any() && !force)
        {
            throw new TroveUsageException("export-exists", $"The folder {output} is not empty.", "Choose an empty or new folder, or pass --force to replace its contents.");
        }

        return new FolderSink(full);
    }

    /// <summary>Writes one file (from an open source stream or bytes) and returns its SHA-256.</summary>
    public abstract Task<string> WriteAsync(string name, Stream? source, byte[]? data, bool compress, CancellationToken ct);

    /// <summary>Finishes and moves the output to its final name; returns its size in bytes.</summary>
    public long Complete()
    {
        var size = Finish();
        _completed = true;
        return size;
    }

    protected abstract long Finish();

    protected abstract void Abort();

    public ValueTask DisposeAsync()
    {
        if (!_completed)
        {
            Abort();
        }

        return ValueTask.CompletedTask;
    }

    protected static async Task<string> CopyAsync(Stream? source, byte[]? data, Stream target, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (data is not null)
        {
            hash.AppendData(data);
            await target.WriteAsync(data, ct).ConfigureAwait(false);
        }
        else
        {
            ArgumentNullException.ThrowIfNull(source);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await target.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private sealed class ZipSink : ExportSink
    {
        private readonly string _final;
        private readonly string _temp;
        private readonly FileStream _file;
        private readonly ZipArchive _zip;

        public ZipSink(string final)
        {
            _final = final;
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            _temp = final + $".partial-{Guid.NewGuid():N}";
            _file = new FileStream(_temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _zip = new ZipArchive(_file, ZipArchiveMode.Create, leaveOpen: true);
        }

        public override string FinalPath => _final;

        public override async Task<string> WriteAsync(string name, Stream? source, byte[]? data, bool compress, CancellationToken ct)
        {
            var entry = _zip.CreateEntry(name, compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            await using var stream = await entry.OpenAsync(ct).ConfigureAwait(false);
            return await CopyAsync(source, data, stream, ct).ConfigureAwait(false);
        }

        protected override long Finish()
        {
            _zip.Dispose();
            _file.Flush(flushToDisk: true);
            var length = _file.Length;
            _file.Dispose();
            File.Move(_temp, _final, overwrite: true);
            return length;
        }

        protected override void Abort()
        {
            _zip.Dispose();
            _file.Dispose();
            File.Delete(_temp);
        }
    }

    private sealed class FolderSink : ExportSink
    {
        private readonly string _final;
        private readonly string _temp;
        private long _bytes;

        public FolderSink(string final)
        {
            _final = final;
            _temp = Path.Combine(Path.GetDirectoryName(final)!, $".{Path.GetFileName(final)}.partial-{Guid.NewGuid():N}");
            Directory.CreateDirectory(_temp);
        }

        public override string FinalPath => _final;

        public override async Task<string> WriteAsync(string name, Stream? source, byte[]? data, bool compress, CancellationToken ct)
        {
            var path = Path.Combine(_temp, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            var sha = await CopyAsync(source, data, stream, ct).ConfigureAwait(false);
            _bytes += stream.Length;
            return sha;
        }

        protected override long Finish()
        {
            if (Directory.Exists(_final))
            {
                // Only reached when empty, or with --force.
                Directory.Delete(_final, recursive: true);
            }

            Directory.Move(_temp, _final);
            return _bytes;
        }

        protected override void Abort()
        {
            if (Directory.Exists(_temp))
            {
                Directory.Delete(_temp, recursive: true);
            }
        }
    }
}
