namespace Trove.Application.Tagging;

/// <summary>
/// The little CSV the tagger files need: comma-separated fields, a field that starts with '"' is quoted ('""' inside
/// is one quote), any other field is taken literally up to the next comma (so <c>don't_say_"lazy"</c> stays as it is).
/// Lines are read one at a time (CRLF, LF or CR), so quoted fields cannot span lines.
/// </summary>
internal static class Csv
{
    /// <summary>A field and the 1-based column where it starts.</summary>
    public readonly record struct Field(string Value, int Column);

    /// <summary>Splits one line; returns false with a message when a quoted field is not closed properly.</summary>
    public static bool TrySplit(string line, List<Field> fields, out string error)
    {
        fields.Clear();
        var i = 0;
        while (true)
        {
            var start = i;
            if (i < line.Length && line[i] == '"')
            {
                var sb = new System.Text.StringBuilder();
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        error = $"column {start + 1}: the quoted field is not closed (a '\"' is missing)";
                        return false;
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            sb.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    sb.Append(line[i++]);
                }

                if (i < line.Length && line[i] != ',')
                {
                    error = $"column {i + 1}: unexpected text after the closing quote of a quoted field";
                    return false;
                }

                fields.Add(new Field(sb.ToString(), start + 1));
            }
            else
            {
                var comma = line.IndexOf(',', i);
                var end = comma < 0 ? line.Length : comma;
                fields.Add(new Field(line[i..end], start + 1));
                i = end;
            }

            if (i >= line.Length)
            {
                error = string.Empty;
                return true;
            }

            i++; // the comma
        }
    }
}
