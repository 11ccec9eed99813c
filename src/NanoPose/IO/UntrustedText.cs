using System.Globalization;
using System.Text;

namespace NanoPose.IO;

/// <summary>
/// Text that came from a file (a tensor name, a property key, a path) made safe to print: control characters —
/// which could move the cursor, clear the screen or retitle the terminal — and Unicode line and bidirectional
/// controls become <c>\uXXXX</c>, and very long text is cut with its length stated. Every exception message that
/// quotes a file's content passes through here.
/// </summary>
public static class UntrustedText
{
    /// <summary>The most characters of one message kept; the rest is summarised by its length.</summary>
    public const int MaxLength = 2000;

    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int firstUnsafe = -1;
        for (int i = 0; i < text.Length; i++)
            if (IsUnsafe(text[i])) { firstUnsafe = i; break; }
        if (firstUnsafe < 0 && text.Length <= MaxLength) return text;

        var result = new StringBuilder(Math.Min(text.Length, MaxLength) + 32);
        int end = Math.Min(text.Length, MaxLength);
        for (int i = 0; i < end; i++)
        {
            char c = text[i];
            if (IsUnsafe(c)) result.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            else result.Append(c);
        }
        if (text.Length > end) result.Append(CultureInfo.InvariantCulture, $"… ({text.Length - end} more characters)");
        return result.ToString();
    }

    // C0 and C1 controls (ESC starts terminal sequences), line and paragraph separators, and the bidirectional
    // overrides and isolates that can make a printed name read differently from its bytes.
    private static bool IsUnsafe(char c) =>
        char.IsControl(c) || c is '\u2028' or '\u2029' || c is >= '\u202A' and <= '\u202E' || c is >= '\u2066' and <= '\u2069';
}
