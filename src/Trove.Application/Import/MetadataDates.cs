using System.Globalization;
using System.Text.RegularExpressions;

namespace Trove.Application.Import;

/// <summary>Dates as metadata sources write them. A date without a time zone is taken as UTC.</summary>
internal static partial class MetadataDates
{
    private static readonly string[] ExifFormats = ["yyyy:MM:dd HH:mm:ss", "yyyy:MM:dd HH:mm:ss.FFFFFFF", "yyyy:MM:dd HH:mm", "yyyy:MM:dd"];

    public static DateTimeOffset? Parse(string? raw, string? offset = null)
    {
        var text = raw?.Replace("\0", string.Empty, StringComparison.Ordinal).Trim();
        if (string.IsNullOrEmpty(text) || text.StartsWith("0000", StringComparison.Ordinal))
        {
            return null;
        }

        // EXIF "2024:05:01 10:20:30", with the zone from OffsetTimeOriginal when there is one.
        if (DateTime.TryParseExact(text, ExifFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var exif))
        {
            return new DateTimeOffset(DateTime.SpecifyKind(exif, DateTimeKind.Unspecified), ParseOffset(offset) ?? TimeSpan.Zero);
        }

        // Gelbooru "Sat Jan 01 12:00:00 -0500 2022".
        var gelbooru = Gelbooru().Match(text);
        if (gelbooru.Success)
        {
            text = $"{gelbooru.Groups[1].Value} {gelbooru.Groups[4].Value} {gelbooru.Groups[2].Value}:{gelbooru.Groups[3].Value}";
            return DateTimeOffset.TryParseExact(text, "ddd MMM dd HH:mm:ss yyyy zzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var g) ? g : null;
        }

        // ISO 8601 and friends ("2024-01-15", "2024-01-15T10:30:00Z", "2021-01-01 12:00:00").
        if (text.Length >= 8 && char.IsAsciiDigit(text[0])
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var iso))
        {
            return iso;
        }

        return null;
    }

    /// <summary>Unix time in seconds (or milliseconds, when the number is too large for seconds).</summary>
    public static DateTimeOffset? FromUnix(double value)
    {
        if (value <= 0 || double.IsNaN(value) || double.IsInfinity(value))
        {
            return null;
        }

        var seconds = value > 1e11 ? value / 1000 : value;
        return seconds < 253402300799 ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)) : null;
    }

    private static TimeSpan? ParseOffset(string? offset)
    {
        var text = offset?.Replace("\0", string.Empty, StringComparison.Ordinal).Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (text == "Z")
        {
            return TimeSpan.Zero;
        }

        var sign = text[0] == '-' ? -1 : 1;
        return TimeSpan.TryParseExact(text.TrimStart('+', '-'), @"hh\:mm", CultureInfo.InvariantCulture, out var span) && span <= TimeSpan.FromHours(14)
            ? sign * span
            : null;
    }

    [GeneratedRegex(@"^(\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2}) (\d{4})$", RegexOptions.CultureInvariant)]
    private static partial Regex Gelbooru();
}
