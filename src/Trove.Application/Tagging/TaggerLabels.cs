using System.Globalization;
using Trove.Domain;
using Trove.Library;

namespace Trove.Application.Tagging;

/// <summary>
/// One output of a tagger: <see cref="Index"/> is its column in the model's score vector, <see cref="Name"/> the model's
/// own tag name (e.g. Danbooru's <c>long_hair</c>), <see cref="Category"/> a Trove category (general, character,
/// copyright, artist, meta, rating). <see cref="Line"/> is where it was read, for messages.
/// </summary>
public sealed record TaggerLabel(int Index, string Name, string Category, long? Count, string? TagId, int Line);

/// <summary>WD14 / Danbooru category numbers as used in <c>selected_tags.csv</c>.</summary>
public static class Wd14Categories
{
    public const int General = 0;
    public const int Artist = 1;
    public const int Copyright = 3;
    public const int Character = 4;
    public const int Meta = 5;
    public const int Rating = 9;

    /// <summary>The Trove category for a WD14/Danbooru number, or null when the number is not one of them.</summary>
    public static string? ToTrove(int number) => number switch
    {
        General => "general",
        Artist => "artist",
        Copyright => "copyright",
        Character => "character",
        Meta => "meta",
        Rating => "rating",
        _ => null,
    };
}

/// <summary>
/// The labels of a tagger, read from a WD14-style <c>selected_tags.csv</c> (<c>tag_id,name,category,count</c>) or any
/// CSV with a header naming at least a <c>name</c> column. Real files are messy: CRLF line ends, a UTF-8 BOM, empty
/// <c>,,,</c> rows. Rows that carry nothing are skipped (listed in <see cref="Warnings"/>); category numbers that are
/// not WD14/Danbooru ones are read as general (also listed); rows that cannot be understood are errors naming
/// file:line:column. Labels keep the file's order, which is the order of the model's outputs.
/// </summary>
public sealed class TaggerLabelSet
{
    private TaggerLabelSet(string path, List<TaggerLabel> labels, List<string> warnings, bool hasCategories)
    {
        Path = path;
        Labels = labels;
        Warnings = warnings;
        HasCategories = hasCategories;
    }

    /// <summary>Where the labels were read from (for messages).</summary>
    public string Path { get; }

    public IReadOnlyList<TaggerLabel> Labels { get; }

    /// <summary>Rows skipped and values interpreted, as "file:line: what" lines.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>False when the file has no category column (a custom model over the library's own tags): every label is general.</summary>
    public bool HasCategories { get; }

    public int Count => Labels.Count;

    /// <summary>Labels built in code (custom models, tests); categories default to general.</summary>
    public static TaggerLabelSet FromNames(IEnumerable<string> names, IEnumerable<string>? categories = null)
    {
        var list = names.ToList();
        var cats = categories?.ToList();
        if (cats is not null && cats.Count != list.Count)
        {
            throw new ArgumentException("categories must have one entry per name", nameof(categories));
        }

        var labels = list.Select((n, i) => new TaggerLabel(i, n, cats?[i] ?? Vocabulary.DefaultCategory, null, null, i + 1)).ToList();
        return new TaggerLabelSet("(in memory)", labels, [], cats is not null);
    }

    /// <exception cref="TroveException">labels-not-found, or labels-invalid with file:line:column.</exception>
    public static TaggerLabelSet Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new TroveException("labels-not-found", $"The label file {path} does not exist.", "Give the path of the model's selected_tags.csv.");
        }

        using var reader = new StreamReader(path, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Parse(reader, path);
    }

    /// <param name="reader">The CSV text.</param>
    /// <param name="path">File name for messages.</param>
    public static TaggerLabelSet Parse(TextReader reader, string path)
    {
        var labels = new List<TaggerLabel>();
        var warnings = new List<string>();
        var fields = new List<Csv.Field>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        int? nameColumn = null, categoryColumn = null, countColumn = null, idColumn = null;
        var headerWidth = 0;
        var lineNumber = 0;

        while (reader.ReadLine() is { } raw)
        {
            lineNumber++;
            var line = lineNumber == 1 ? raw.TrimStart('\uFEFF') : raw;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            if (!Csv.TrySplit(line, fields, out var splitError))
            {
                throw Invalid(path, lineNumber, 1, splitError);
            }

            if (nameColumn is null)
            {
                var names = fields.Select(f => f.Value.Trim().ToLowerInvariant()).ToList();
                var name = names.IndexOf("name");
                if (name < 0)
                {
                    throw Invalid(
                        path,
                        lineNumber,
                        1,
                        $"expected a header row naming the columns, such as 'tag_id,name,category,count'; found '{Shorten(line)}'");
                }

                nameColumn = name;
                categoryColumn = IndexOrNull(names, "category");
                countColumn = IndexOrNull(names, "count");
                idColumn = IndexOrNull(names, "tag_id");
                headerWidth = fields.Count;
                continue;
            }

            if (fields.TrueForAll(f => f.Value.Trim().Length == 0))
            {
                warnings.Add($"{path}:{lineNumber}: empty row '{Shorten(line)}' skipped");
                continue;
            }

            if (fields.Count > headerWidth && fields.Skip(headerWidth).Any(f => f.Value.Trim().Length > 0))
            {
                var extra = fields[headerWidth];
                throw Invalid(
                    path,
                    lineNumber,
                    extra.Column,
                    $"{fields.Count} fields but the header has {headerWidth}; a name containing a comma must be quoted (\"a,b\")");
            }

            var nameField = Get(fields, nameColumn.Value);
            var labelName = nameField.Value.Trim();
            if (labelName.Length == 0)
            {
                throw Invalid(path, lineNumber, nameField.Column == 0 ? 1 : nameField.Column, "the name is empty but the row is not");
            }

            if (labelName.Any(char.IsControl))
            {
                throw Invalid(path, lineNumber, nameField.Column, $"the name '{labelName}' contains a control character");
            }

            var category = Vocabulary.DefaultCategory;
            if (categoryColumn is { } cc)
            {
                var field = Get(fields, cc);
                var text = field.Value.Trim();
                if (text.Length == 0)
                {
                    warnings.Add($"{path}:{lineNumber}: '{labelName}' has no category; read as general");
                }
                else if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                {
                    if (Wd14Categories.ToTrove(number) is { } known)
                    {
                        category = known;
                    }
                    else
                    {
                        warnings.Add($"{path}:{lineNumber}: '{labelName}' has unknown category {number}; read as general");
                    }
                }
                else if (Vocabulary.BuiltinCategories.Contains(text.ToLowerInvariant(), StringComparer.Ordinal))
                {
                    category = text.ToLowerInvariant();
                }
                else
                {
                    throw Invalid(
                        path,
                        lineNumber,
                        field.Column,
                        $"category '{Shorten(text)}' is neither a number (WD14: 0 general, 4 character, 9 rating) nor one of {string.Join(", ", Vocabulary.BuiltinCategories)}");
                }
            }

            long? count = null;
            if (countColumn is { } kc && Get(fields, kc).Value.Trim() is { Length: > 0 } countText)
            {
                if (long.TryParse(countText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var c))
                {
                    count = c;
                }
                else
                {
                    warnings.Add($"{path}:{lineNumber}: '{labelName}' has a count that is not a number ('{Shorten(countText)}'); ignored");
                }
            }

            var id = idColumn is { } ic && Get(fields, ic).Value.Trim() is { Length: > 0 } idText ? idText : null;
            if (seen.TryGetValue(labelName, out var firstLine))
            {
                warnings.Add($"{path}:{lineNumber}: '{labelName}' appears again (first on line {firstLine}); both outputs are kept");
            }
            else
            {
                seen[labelName] = lineNumber;
            }

            labels.Add(new TaggerLabel(labels.Count, labelName, category, count, id, lineNumber));
        }

        if (nameColumn is null)
        {
            throw Invalid(path, Math.Max(lineNumber, 1), 1, "the file is empty; expected a header 'tag_id,name,category,count' and one row per label");
        }

        if (labels.Count == 0)
        {
            throw Invalid(path, lineNumber, 1, "the file has a header but no labels");
        }

        return new TaggerLabelSet(path, labels, warnings, categoryColumn is not null);
    }

    private static int? IndexOrNull(List<string> names, string name) => names.IndexOf(name) is var i and >= 0 ? i : null;

    private static Csv.Field Get(List<Csv.Field> fields, int column) => column < fields.Count ? fields[column] : new Csv.Field(string.Empty, 0);

    private static FileFormatException Invalid(string path, int line, int column, string detail) =>
        new("labels-invalid", path, detail, line, column, "Fix that row of the label file (or remove it) and try again; nothing was registered.");

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
