using Trove.Domain;
using Trove.Library;

namespace Trove.Application.Tagging;

/// <summary>What a bulk import changed in one source.</summary>
public sealed record MappingSourceReport(string Source, int Added, int Changed, int Unchanged, int Total);

public sealed record MappingImportReport(int Rows, IReadOnlyList<MappingSourceReport> Sources);

/// <summary>
/// External vocabulary mappings, one file per source in <c>mappings/&lt;source&gt;.json</c> (the files are the truth;
/// nothing about them is indexed). Changes take the library write lock and replace the file atomically.
/// </summary>
public sealed class TagMappingService(TroveLibrary library)
{
    public const string FolderName = "mappings";

    private const int MaxReportedErrors = 20;

    public string Folder => Path.Combine(library.Layout.Root, FolderName);

    public string PathFor(string source) => Path.Combine(Folder, NormalizeSource(source) + ".json");

    /// <summary>Source names are file names: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64.</summary>
    public static string NormalizeSource(string raw)
    {
        if (TryNormalizeSource(raw, out var source, out var error))
        {
            return source;
        }

        throw new TroveUsageException("invalid-source", error, "Name a vocabulary with letters, digits, '.', '_' or '-', e.g. danbooru.");
    }

    public static bool TryNormalizeSource(string? raw, out string source, out string error)
    {
        source = raw?.Trim().ToLowerInvariant() ?? string.Empty;
        if (source.Length is 0 or > 64 || !char.IsAsciiLetterOrDigit(source[0])
            || !source.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-'))
        {
            error = $"'{raw}' is not a vocabulary source name (letters, digits, '.', '_', '-'; at most 64).";
            return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>The sources that have a mapping file.</summary>
    public IReadOnlyList<string> Sources() =>
        Directory.Exists(Folder)
            ? Directory.EnumerateFiles(Folder, "*.json")
                .Where(p => !AtomicFile.IsTempFile(p))
                .Select(p => Path.GetFileNameWithoutExtension(p))
                .Where(s => TryNormalizeSource(s, out var n, out _) && n == s)
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];

    /// <summary>The mappings of a source; an empty set (policy existing) when it has no file yet.</summary>
    /// <exception cref="FileFormatException">mappings-malformed / mappings-invalid with file:line:column.</exception>
    public TagMappingSet Read(string source)
    {
        var name = NormalizeSource(source);
        var path = PathFor(name);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return new TagMappingSet(name);
        }

        var file = LibraryJson.ReadMappings(bytes, path);
        return TagMappingSet.FromFile(file, path, name);
    }

    /// <summary>Every tag and alias name the library knows (for <see cref="UnmappedPolicy.Existing"/>).</summary>
    public async Task<IReadOnlySet<string>> KnownTagsAsync(CancellationToken ct)
    {
        var tags = await library.Index.ListTagsAsync(ct).ConfigureAwait(false);
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tags)
        {
            known.Add(t.Name);
            known.UnionWith(t.Aliases);
        }

        var vocabulary = library.Files.ReadVocabulary(out _);
        known.UnionWith(vocabulary.Aliases.Keys);
        known.UnionWith(vocabulary.Tags.Keys);
        return known;
    }

    public Task<TagMappingSet> SetPolicyAsync(string source, UnmappedPolicy policy, CancellationToken ct) =>
        UpdateAsync(
            source,
            set =>
            {
                var changed = set.Unmapped != policy;
                set.Unmapped = policy;
                return changed;
            },
            $"unmapped={TagMappingSet.PolicyName(policy)}",
            ct);

    /// <summary>Maps one external tag (<paramref name="internalTag"/> null = ignore it).</summary>
    public Task<TagMappingSet> SetAsync(string source, string external, string? internalTag, CancellationToken ct) =>
        UpdateAsync(source, set => set.Set(external, internalTag), $"{external} → {internalTag ?? "ignore"}", ct);

    public Task<TagMappingSet> RemoveAsync(string source, string external, CancellationToken ct) =>
        UpdateAsync(source, set => set.Remove(external), $"{external} removed", ct);

    public async Task<MappingImportReport> ImportCsvAsync(string csvPath, CancellationToken ct)
    {
        if (!File.Exists(csvPath))
        {
            throw new TroveUsageException("file-not-found", $"The mapping file {csvPath} does not exist.");
        }

        using var reader = new StreamReader(csvPath, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return await ImportCsvAsync(reader, csvPath, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Imports <c>source,external,internal</c> rows (a header row with those names is optional; blank lines and lines
    /// starting with '#' are skipped). An empty <c>internal</c> or the word <c>ignore</c> means "ignore this tag".
    /// Every row is checked first; if any is wrong nothing is written and the error lists each bad file:line.
    /// Rows override existing mappings of the same (source, external); other mappings stay.
    /// </summary>
    public async Task<MappingImportReport> ImportCsvAsync(TextReader reader, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var rows = new List<(string Source, string External, string? Internal, int Line)>();
        var errors = new List<string>();
        var fields = new List<Csv.Field>();
        var first = new Dictionary<(string, string), (string? Internal, int Line)>();
        var lineNumber = 0;
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } raw)
        {
            lineNumber++;
            var line = lineNumber == 1 ? raw.TrimStart('\uFEFF') : raw;
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            void Error(int column, string detail) => errors.Add($"{name}:{lineNumber}:{column}: {detail}");

            if (!Csv.TrySplit(line, fields, out var splitError))
            {
                Error(1, splitError);
                continue;
            }

            if (rows.Count == 0 && errors.Count == 0 && fields.Count == 3
                && fields[0].Value.Trim().Equals("source", StringComparison.OrdinalIgnoreCase)
                && fields[1].Value.Trim().Equals("external", StringComparison.OrdinalIgnoreCase))
            {
                continue; // header
            }

            if (fields.Count != 3)
            {
                Error(fields.Count > 3 ? fields[3].Column : 1, $"expected 3 fields (source,external,internal), found {fields.Count}");
                continue;
            }

            if (!TryNormalizeSource(fields[0].Value, out var source, out var sourceError))
            {
                Error(fields[0].Column, sourceError);
                continue;
            }

            var external = TagMappingSet.Key(fields[1].Value);
            if (external.Length == 0)
            {
                Error(fields[1].Column, "the external tag is empty");
                continue;
            }

            var target = fields[2].Value.Trim();
            string? internalTag = null;
            if (target.Length > 0 && !target.Equals("ignore", StringComparison.OrdinalIgnoreCase))
            {
                if (!TagNames.TryNormalize(target, out var normalized, out var tagError))
                {
                    Error(fields[2].Column, tagError);
                    continue;
                }

                internalTag = normalized;
            }

            if (first.TryGetValue((source, external), out var earlier))
            {
                if (earlier.Internal != internalTag)
                {
                    Error(fields[1].Column, $"'{external}' of '{source}' is already mapped to {earlier.Internal ?? "ignore"} on line {earlier.Line}");
                }

                continue;
            }

            first[(source, external)] = (internalTag, lineNumber);
            rows.Add((source, external, internalTag, lineNumber));
        }

        if (errors.Count > 0)
        {
            var shown = string.Join(Environment.NewLine, errors.Take(MaxReportedErrors));
            var more = errors.Count > MaxReportedErrors ? $"{Environment.NewLine}… and {errors.Count - MaxReportedErrors} more" : string.Empty;
            throw new TroveUsageException(
                "mappings-invalid",
                $"{errors.Count} bad row(s) in {name}; nothing was imported:{Environment.NewLine}{shown}{more}",
                "Each row is source,external,internal (internal empty or 'ignore' to ignore the tag). Fix the rows and import again.");
        }

        var reports = new List<MappingSourceReport>();
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        foreach (var group in rows.GroupBy(r => r.Source).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var set = Read(group.Key);
            int added = 0, changed = 0, unchanged = 0;
            foreach (var row in group)
            {
                var existed = set.TryGet(row.External, out _);
                if (!set.Set(row.External, row.Internal))
                {
                    unchanged++;
                }
                else if (existed)
                {
                    changed++;
                }
                else
                {
                    added++;
                }
            }

            if (added + changed > 0)
            {
                Write(set);
                session.Audit("mappings.import", group.Key, $"{added} added, {changed} changed from {Path.GetFileName(name)}");
            }

            reports.Add(new MappingSourceReport(group.Key, added, changed, unchanged, set.Count));
        }

        return new MappingImportReport(rows.Count, reports);
    }

    private async Task<TagMappingSet> UpdateAsync(string source, Func<TagMappingSet, bool> change, string detail, CancellationToken ct)
    {
        var name = NormalizeSource(source);
        await using var session = await library.BeginWriteAsync(ct).ConfigureAwait(false);
        var set = Read(name);
        if (change(set))
        {
            Write(set);
            session.Audit("mappings.set", name, detail);
        }

        return set;
    }

    private void Write(TagMappingSet set)
    {
        var bytes = LibraryJson.Serialize(set.ToFile());
        try
        {
            AtomicFile.WriteAllBytes(PathFor(set.Source), bytes, library.Files.Durability);
        }
        catch (IOException ex) when (WriteSession.IsDiskFull(ex))
        {
            throw WriteSession.DiskFull(library.Layout, ex);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException || (ex is IOException io && WriteSession.IsReadOnly(io)))
        {
            throw TroveLibrary.ReadOnly(library.Layout, ex);
        }
    }
}
