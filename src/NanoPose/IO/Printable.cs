using System.Globalization;
using System.Text;

namespace NanoPose.IO;

/// <summary>
/// Text from files (tensor names, layer names, properties, paths, anything quoted in an error) made safe for a
/// terminal: control characters (C0, DEL, C1: escape sequences, carriage returns, bells), Unicode line and paragraph
/// separators, the bidirectional formatting characters that reorder what is shown, and unpaired surrogates become
/// visible <c>\uXXXX</c> escapes; text longer than <see cref="MaxLength"/> is cut with its length stated. Everything
/// else passes unchanged. One rule for the engine's exceptions, the CLI and the weights tools.
/// </summary>
public static class Printable
{
    /// <summary>The most characters of one text kept; the rest is summarised by its length.</summary>
    public const int MaxLength = 2000;

    /// <param name="keepLineBreaks">Keep <c>\n</c> (multi-line messages); otherwise it is escaped too (a file name).</param>
    public static string Text(string text, bool keepLineBreaks = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        int end = Math.Min(text.Length, MaxLength), first = 0;
        while (first < end && !NeedsEscape(text, first, keepLineBreaks)) first++;
        if (first == text.Length) return text;
        var result = new StringBuilder(end + 32).Append(text, 0, first);
        for (int i = first; i < end; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) result.Append(c).Append(text[++i]);
            else if (NeedsEscape(text, i, keepLineBreaks)) result.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else result.Append(c);
        }
        if (text.Length > end) result.Append(CultureInfo.InvariantCulture, $"… ({text.Length - end} more characters)");
        return result.ToString();
    }

    private static bool NeedsEscape(string text, int i, bool keepLineBreaks)
    {
        char c = text[i];
        if (char.IsControl(c)) return !(keepLineBreaks && c == '\n');
        if (char.IsHighSurrogate(c)) return i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]);
        if (char.IsLowSurrogate(c)) return i == 0 || !char.IsHighSurrogate(text[i - 1]);
        return c is '\u2028' or '\u2029' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F' or '\u061C';
    }
}
