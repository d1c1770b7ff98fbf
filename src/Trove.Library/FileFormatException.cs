using Trove.Domain;

namespace Trove.Library;

/// <summary>A library file (sidecar, vocabulary, collection, manifest) that cannot be read, with where and why.</summary>
public sealed class FileFormatException : TroveException
{
    public FileFormatException(string code, string path, string detail, long? line = null, long? column = null, string? hint = null, Exception? inner = null)
        : base(code, Format(path, detail, line, column), hint ?? "Fix the file in a text editor (or restore it from a backup), then run 'trove check'.", inner)
    {
        FilePath = path;
        Detail = detail;
        Line = line;
        Column = column;
    }

    public string FilePath { get; }

    public string Detail { get; }

    /// <summary>1-based line of the problem, when known.</summary>
    public long? Line { get; }

    /// <summary>1-based column (byte offset in line + 1), when known.</summary>
    public long? Column { get; }

    private static string Format(string path, string detail, long? line, long? column) =>
        line is null ? $"{path}: {detail}" : $"{path}:{line}:{column}: {detail}";
}
