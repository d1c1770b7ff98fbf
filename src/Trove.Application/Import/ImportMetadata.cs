using System.Globalization;
using Trove.Domain;

namespace Trove.Application.Import;

/// <summary>A tag picked up at import: a valid Trove tag name and, when the source said so, its category.</summary>
/// <param name="Name">Normalised with <see cref="TagNames"/>.</param>
/// <param name="Category">
/// "artist", "copyright", "character", "meta", "rating", another category named by the source (e.g. e621's
/// "species", which the vocabulary may not have yet), or null for general/unknown.
/// </param>
public sealed record ImportedTag(string Name, string? Category);

/// <summary>A caption picked up at import and where it came from ("x/a.txt", "x/a.jpg (embedded XMP)").</summary>
public sealed record ImportedCaption(string Text, string Origin);

/// <summary>
/// Everything the metadata files beside an image and the image's embedded metadata say about it, merged.
/// Nothing here has been written anywhere; the import pipeline decides what to keep.
/// </summary>
public sealed class ImportMetadata
{
    public static ImportMetadata Empty { get; } = new();

    /// <summary>Distinct valid tag names, in the order first seen.</summary>
    public IReadOnlyList<ImportedTag> Tags { get; init; } = [];

    /// <summary>Distinct captions, most specific source first (kohya .txt, .caption, JSON, then a description).</summary>
    public IReadOnlyList<ImportedCaption> Captions { get; init; } = [];

    public string? Title { get; init; }

    public string? Description { get; init; }

    /// <summary>Keywords as written (EXIF XPKeywords, IPTC, XMP dc:subject, JSON "keywords"); their tag forms are in <see cref="Tags"/>.</summary>
    public IReadOnlyList<string> Keywords { get; init; } = [];

    public DateTimeOffset? DateTaken { get; init; }

    /// <summary>http(s) URLs the image came from.</summary>
    public IReadOnlyList<string> SourceUrls { get; init; } = [];

    /// <summary>Content rating ("general", "sensitive", "questionable", "explicit", "safe"…); also present as a tag in the "rating" category.</summary>
    public string? Rating { get; init; }

    /// <summary>EXIF orientation 1–8 (1 = upright), for rendering; the original file is never rotated.</summary>
    public int? Orientation { get; init; }

    /// <summary>Other facts worth keeping in the sidecar's free-form metadata ("exif.make", "booru.id", "md5"…).</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Display paths of the metadata files that contributed something.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>Problems met while reading (malformed JSON with line/column, dropped tag names, corrupt EXIF…); never fatal.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public bool IsEmpty =>
        Tags.Count == 0 && Captions.Count == 0 && Title is null && Description is null && Keywords.Count == 0 && DateTaken is null
        && SourceUrls.Count == 0 && Rating is null && Orientation is null && Extra.Count == 0;

    /// <summary>
    /// The entries for <see cref="MediaSidecar.Metadata"/>: "title", "description", "date_taken" (ISO 8601),
    /// "source" (URLs separated by spaces), "rating", "orientation", then <see cref="Extra"/>.
    /// </summary>
    public SortedDictionary<string, string> ToSidecarMetadata()
    {
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Extra)
        {
            map[key] = value;
        }

        if (Title is not null)
        {
            map["title"] = Title;
        }

        if (Description is not null)
        {
            map["description"] = Description;
        }

        if (DateTaken is { } date)
        {
            map["date_taken"] = date.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        }

        if (SourceUrls.Count > 0)
        {
            map["source"] = string.Join(' ', SourceUrls);
        }

        if (Rating is not null)
        {
            map["rating"] = Rating;
        }

        if (Orientation is { } orientation)
        {
            map["orientation"] = orientation.ToString(CultureInfo.InvariantCulture);
        }

        return map;
    }
}

/// <summary>Collects metadata from several sources; the first value of a single-valued field wins.</summary>
internal sealed class ImportMetadataBuilder
{
    public const int MaxWarnings = 50;

    private readonly List<ImportedTag> _tags = [];
    private readonly Dictionary<string, int> _tagIndex = new(StringComparer.Ordinal);
    private readonly List<ImportedCaption> _captions = [];
    private readonly List<string> _keywords = [];
    private readonly List<string> _sources = [];
    private readonly SortedDictionary<string, string> _extra = new(StringComparer.Ordinal);
    private readonly List<string> _files = [];
    private readonly List<string> _warnings = [];
    private int _suppressedWarnings;
    private (string Text, string Origin)? _description;

    public string? Title { get; private set; }

    public DateTimeOffset? DateTaken { get; private set; }

    public string? Rating { get; private set; }

    public int? Orientation { get; private set; }

    public int CaptionCount => _captions.Count;

    /// <summary>Changes whenever anything is added; lets readers tell whether a file contributed.</summary>
    public int Version { get; private set; }

    public void Warn(string message)
    {
        if (_warnings.Count < MaxWarnings)
        {
            _warnings.Add(message);
        }
        else
        {
            _suppressedWarnings++;
        }
    }

    /// <summary>Adds a tag if <paramref name="raw"/> normalises to a valid name; otherwise records a warning.</summary>
    public void AddTag(string raw, string? category, string origin)
    {
        var text = raw.Trim();
        if (text.Length == 0)
        {
            return;
        }

        if (!TagNames.TryNormalize(text, out var name, out var error))
        {
            Warn($"{origin}: tag '{Shorten(text)}' dropped: {error}");
            return;
        }

        if (_tagIndex.TryGetValue(name, out var index))
        {
            if (_tags[index].Category is null && category is not null)
            {
                _tags[index] = _tags[index] with { Category = category };
                Version++;
            }

            return;
        }

        _tagIndex[name] = _tags.Count;
        _tags.Add(new ImportedTag(name, category));
        Version++;
    }

    public void AddKeyword(string raw, string origin)
    {
        var keyword = raw.Trim();
        if (keyword.Length == 0)
        {
            return;
        }

        if (!_keywords.Contains(keyword, StringComparer.Ordinal))
        {
            _keywords.Add(keyword);
            Version++;
        }

        AddTag(keyword, null, origin);
    }

    public void AddCaption(string text, string origin)
    {
        var caption = TextFiles.NormalizeText(text);
        if (caption.Length == 0 || _captions.Exists(c => c.Text == caption))
        {
            return;
        }

        _captions.Add(new ImportedCaption(caption, origin));
        Version++;
    }

    public void SetTitle(string? value)
    {
        if (Title is null && Clean(value) is { } title)
        {
            Title = title;
            Version++;
        }
    }

    public void SetDescription(string? value, string origin)
    {
        if (_description is null && Clean(value) is { } description)
        {
            _description = (description, origin);
            Version++;
        }
    }

    public void SetDateTaken(DateTimeOffset? value)
    {
        if (DateTaken is null && value is not null)
        {
            DateTaken = value;
            Version++;
        }
    }

    /// <summary>Sets the rating (first wins) and adds it as a tag in the "rating" category.</summary>
    public void SetRating(string raw, bool danbooruLetters, string origin)
    {
        var rating = Ratings.Normalize(raw, danbooruLetters);
        if (rating is null)
        {
            return;
        }

        if (Rating is null)
        {
            Rating = rating;
            Version++;
        }

        AddTag(rating, "rating", origin);
    }

    public void SetOrientation(int value)
    {
        if (Orientation is null && value is >= 1 and <= 8)
        {
            Orientation = value;
            Version++;
        }
    }

    /// <summary>Adds a source: absolute http(s)/ftp URLs go to the source list, anything else to Extra["source_note"].</summary>
    public void AddSource(string? raw)
    {
        if (Clean(raw) is not { } value)
        {
            return;
        }

        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "ftp")
        {
            if (!_sources.Contains(value, StringComparer.Ordinal))
            {
                _sources.Add(value);
                Version++;
            }
        }
        else
        {
            SetExtra("source_note", value);
        }
    }

    public void SetExtra(string key, string? value)
    {
        if (Clean(value) is { } text && _extra.TryAdd(key, text))
        {
            Version++;
        }
    }

    public void AddFile(string displayPath)
    {
        if (!_files.Contains(displayPath, StringComparer.Ordinal))
        {
            _files.Add(displayPath);
        }
    }

    public ImportMetadata Build()
    {
        var captions = new List<ImportedCaption>(_captions);

        // An explicit description becomes an import caption only when nothing else supplied one.
        if (captions.Count == 0 && _description is { } d)
        {
            captions.Add(new ImportedCaption(d.Text, d.Origin));
        }

        var warnings = new List<string>(_warnings);
        if (_suppressedWarnings > 0)
        {
            warnings.Add($"… and {_suppressedWarnings} more warnings");
        }

        return new ImportMetadata
        {
            Tags = [.. _tags],
            Captions = captions,
            Title = Title,
            Description = _description?.Text,
            Keywords = [.. _keywords],
            DateTaken = DateTaken,
            SourceUrls = [.. _sources],
            Rating = Rating,
            Orientation = Orientation,
            Extra = new SortedDictionary<string, string>(_extra, StringComparer.Ordinal),
            Files = [.. _files],
            Warnings = warnings,
        };
    }

    private static string? Clean(string? value)
    {
        var text = value?.Replace("\0", string.Empty, StringComparison.Ordinal).Trim();
        return string.IsNullOrEmpty(text) ? null : text;
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}

/// <summary>Content ratings as boorus write them.</summary>
internal static class Ratings
{
    /// <summary>
    /// g → general, q → questionable, e → explicit; s → sensitive on Danbooru-shaped data (Danbooru's letters
    /// since 2022) and safe elsewhere (e621, Moebooru, older Gelbooru). Full words are kept as lowercase words.
    /// </summary>
    public static string? Normalize(string raw, bool danbooruLetters)
    {
        var value = raw.Trim().ToLowerInvariant();
        return value switch
        {
            "" => null,
            "g" => "general",
            "s" => danbooruLetters ? "sensitive" : "safe",
            "q" => "questionable",
            "e" => "explicit",
            _ when value.Length <= 40 && value.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or ' ') => value.Replace(' ', '_'),
            _ => null,
        };
    }
}
