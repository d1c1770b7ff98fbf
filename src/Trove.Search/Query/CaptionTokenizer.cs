using System.Globalization;
using System.Text;

namespace Trove.Search.Query;

/// <summary>
/// Splits caption text into words for full-text search: runs of letters and digits, lowercased, accents removed
/// (so "Café" finds "cafe"). Apostrophes inside a word are dropped ("don't" is "dont"). The same rules apply to
/// the text being indexed and to <c>caption:</c> values.
/// </summary>
public static class CaptionTokenizer
{
    /// <summary>Longest word kept; longer runs are cut (they are never real words).</summary>
    public const int MaxWordLength = 64;

    public static List<string> Words(string text)
    {
        var words = new List<string>();
        Split(text, words.Add);
        return words;
    }

    public static void Split(string text, Action<string> word)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        var folded = Fold(text);
        var sb = new StringBuilder();
        for (var i = 0; i < folded.Length; i++)
        {
            var ch = folded[i];
            if (char.IsLetterOrDigit(ch))
            {
                if (sb.Length < MaxWordLength)
                {
                    sb.Append(char.ToLowerInvariant(ch));
                }
            }
            else if ((ch == '\'' || ch == '\u2019') && sb.Length > 0 && i + 1 < folded.Length && char.IsLetterOrDigit(folded[i + 1]))
            {
                // Apostrophe inside a word: skip it and keep the word together.
            }
            else if (sb.Length > 0)
            {
                word(sb.ToString());
                sb.Clear();
            }
        }

        if (sb.Length > 0)
        {
            word(sb.ToString());
        }
    }

    // Accented Latin letters and their base letters (generated from Unicode decompositions: Latin-1, Latin
    // Extended-A/B and Latin Extended Additional). The process runs with invariant globalization, where
    // string.Normalize cannot decompose, so the table is ours.
    private const string Accented = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǢǣǦǧǨǩǪǫǬǭǮǯǰǴǵǸǹǺǻǼǽǾǿȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳḀḁḂḃḄḅḆḇḈḉḊḋḌḍḎḏḐḑḒḓḔḕḖḗḘḙḚḛḜḝḞḟḠḡḢḣḤḥḦḧḨḩḪḫḬḭḮḯḰḱḲḳḴḵḶḷḸḹḺḻḼḽḾḿṀṁṂṃṄṅṆṇṈṉṊṋṌṍṎṏṐṑṒṓṔṕṖṗṘṙṚṛṜṝṞṟṠṡṢṣṤṥṦṧṨṩṪṫṬṭṮṯṰṱṲṳṴṵṶṷṸṹṺṻṼṽṾṿẀẁẂẃẄẅẆẇẈẉẊẋẌẍẎẏẐẑẒẓẔẕẖẗẘẙẛẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệỈỉỊịỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹßæÆøØđĐłŁœŒþÞ";
    private const string Bases = "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuUuAaAaÆæGgKkOoOoƷʒjGgNnAaÆæØøAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYyAaBbBbBbCcDdDdDdDdDdEeEeEeEeEeFfGgHhHhHhHhHhIiIiKkKkKkLlLlLlLlMmMmMmNnNnNnNnOoOoOoOoPpPpRrRrRrRrSsSsSsSsSsTtTtTtTtUuUuUuUuUuVvVvWwWwWwWwWwXxXxYyZzZzZzhtwyſAaAaAaAaAaAaAaAaAaAaAaAaEeEeEeEeEeEeEeEeIiIiOoOoOoOoOoOoOoOoOoOoOoOoUuUuUuUuUuUuUuYyYyYyYysaAoOdDlLoOtT";
    private static readonly Dictionary<char, char> FoldMap = BuildFoldMap();

    private static Dictionary<char, char> BuildFoldMap()
    {
        var map = Accented.Zip(Bases).ToDictionary(p => p.First, p => p.Second);

        // Some bases are accented themselves (Ǣ → Æ): follow them to the end.
        foreach (var key in map.Keys.ToList())
        {
            var v = map[key];
            for (var i = 0; i < 4 && map.TryGetValue(v, out var next); i++)
            {
                v = next;
            }

            map[key] = v;
        }

        return map;
    }

    private static string Fold(string text)
    {
        var ascii = true;
        foreach (var ch in text)
        {
            if (ch > 0x7F)
            {
                ascii = false;
                break;
            }
        }

        if (ascii)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            if (FoldMap.TryGetValue(ch, out var b))
            {
                sb.Append(b);
            }
            else if (CharUnicodeInfo.GetUnicodeCategory(ch) != UnicodeCategory.NonSpacingMark)
            {
                sb.Append(ch);
            }
        }

        return sb.ToString();
    }
}
