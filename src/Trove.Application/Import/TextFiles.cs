using System.Text;

namespace Trove.Application.Import;

/// <summary>Decoding of small text metadata files: UTF-8 (with or without BOM) or UTF-16 with BOM; CRLF/CR become LF.</summary>
internal static class TextFiles
{
    public static string Decode(byte[] content)
    {
        using var reader = new StreamReader(new MemoryStream(content), new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>Line endings to LF, NULs and a stray BOM removed, trimmed.</summary>
    public static string NormalizeText(string text) =>
        text.Replace("\r\n", "\n", StringComparison.Ordinal)
            .Replace('\r', '\n')
            .Replace("\0", string.Empty, StringComparison.Ordinal)
            .Replace("\uFEFF", string.Empty, StringComparison.Ordinal)
            .Trim();
}
