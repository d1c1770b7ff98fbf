using System.Globalization;
using System.Text;
using Trove.Domain;
using Trove.Search.Query;

namespace Trove.Search.Engine;

/// <summary>
/// Where a page ended: the order (with its random seed) and the sort key and id of the last result. The next page is
/// everything after that point, so paging is stable while media are added or removed elsewhere in the order.
/// Opaque to callers (base64url text).
/// </summary>
internal sealed record SearchCursor(SortField Field, bool Descending, ulong Seed, long Key, string Id)
{
    private const string Version = "c1";

    public string Encode()
    {
        var raw = string.Join('~', Version, Field, Descending ? "d" : "a", Seed.ToString(CultureInfo.InvariantCulture), Key.ToString(CultureInfo.InvariantCulture), Id);
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(raw)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static SearchCursor Decode(string text)
    {
        try
        {
            var b64 = text.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(b64)).Split('~');
            if (parts.Length == 6 && parts[0] == Version
                && Enum.TryParse<SortField>(parts[1], out var field)
                && parts[2] is "a" or "d"
                && ulong.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var seed)
                && long.TryParse(parts[4], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var key)
                && parts[5].Length == 64 && MediaId.IsLowerHex(parts[5]))
            {
                return new SearchCursor(field, parts[2] == "d", seed, key, parts[5]);
            }
        }
        catch (FormatException)
        {
        }

        throw new TroveUsageException("bad-cursor", "The cursor is not one this server gave out (or it is damaged).", "Start again from the first page, without a cursor.");
    }
}
