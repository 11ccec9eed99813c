using System.Globalization;
using System.Text;

namespace NanoPose.IO;

/// <summary>
/// Text from files (tensor names, layer names, properties, anything quoted in an error) made safe for a terminal:
/// control characters (C0, DEL, C1 — escape sequences, carriage returns, bells) and the bidirectional formatting
/// characters that reorder what is shown become visible <c>\xNN</c> / <c>\uNNNN</c> escapes, as do unpaired
/// surrogates. Everything else passes unchanged. One rule for the engine, the CLI and the weights tools.
/// </summary>
public static class Printable
{
    /// <param name="keepLineBreaks">Keep <c>\n</c> (multi-line messages); otherwise it is escaped too (a file name).</param>
    public static string Text(string text, bool keepLineBreaks = false)
    {
        int first = 0;
        while (first < text.Length && !NeedsEscape(text, first, keepLineBreaks)) first++;
        if (first == text.Length) return text;
        var result = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) result.Append(c).Append(text[++i]);
            else if (NeedsEscape(text, i, keepLineBreaks)) result.Append(c <= 0xFF ? $"\\x{(int)c:X2}" : $"\\u{(int)c:X4}");
            else result.Append(c);
        }
        return result.ToString();
    }

    private static bool NeedsEscape(string text, int i, bool keepLineBreaks)
    {
        char c = text[i];
        if (char.IsControl(c)) return !(keepLineBreaks && c == '\n');
        if (char.IsHighSurrogate(c)) return i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]);
        if (char.IsLowSurrogate(c)) return i == 0 || !char.IsHighSurrogate(text[i - 1]);
        return CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format && c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F' or '\u061C';
    }
}
