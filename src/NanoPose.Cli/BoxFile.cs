using System.Globalization;
using System.Text.Json;
using NanoPose.Evaluation;
using NanoPose.IO;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Cli;

/// <summary>
/// Person boxes by image id from a COCO results file (a JSON array of objects with <c>image_id</c>, <c>bbox</c>
/// [x, y, width, height] and <c>score</c>, as detectors write them; keypoints, if present, are ignored). Entries
/// with a <c>category_id</c> other than 1 (person) are skipped; a missing score counts as 1. Ids must be whole
/// numbers (785, 785.0 or 7.85e2, not 785.9): a fraction would otherwise match a wrong image or drop a box silently.
/// </summary>
internal static partial class BoxFile
{
    /// <summary>The largest box or annotation file read: JSON parsing holds the whole document, about its size again.</summary>
    public const long MaxJsonBytes = 1L << 29;

    public static Dictionary<long, List<PersonBox>> Read(string path)
    {
        using var stream = InputFile.OpenRead(path, MaxJsonBytes, "box");
        JsonDocument document;
        try { document = JsonDocument.Parse(stream); }
        catch (JsonException e) { throw new CocoFormatException(path, "$", $"not valid JSON: {e.Message}", e); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
                throw new CocoFormatException(path, "$", "expected a JSON array of detections");
            var boxes = new Dictionary<long, List<PersonBox>>();
            int index = 0;
            foreach (var item in document.RootElement.EnumerateArray())
            {
                string field = $"[{index++}]";
                if (item.ValueKind != JsonValueKind.Object) throw new CocoFormatException(path, field, "expected an object");
                if (item.TryGetProperty("category_id", out var category) && WholeNumber(category, path, field + ".category_id") != 1) continue;
                long imageId = WholeNumber(Required(item, "image_id", path, field), path, field + ".image_id");
                var bbox = Required(item, "bbox", path, field);
                if (bbox.ValueKind != JsonValueKind.Array || bbox.GetArrayLength() != 4)
                    throw new CocoFormatException(path, field + ".bbox", "expected [x, y, width, height]");
                double[] b = [.. bbox.EnumerateArray().Select((v, i) => Number(v, path, $"{field}.bbox[{i}]"))];
                float score = item.TryGetProperty("score", out var s) ? (float)Number(s, path, field + ".score") : 1f;
                if (!boxes.TryGetValue(imageId, out var list)) boxes[imageId] = list = [];
                list.Add(new PersonBox(b[0], b[1], b[2], b[3], score));
            }
            return boxes;
        }
    }

    private static JsonElement Required(JsonElement item, string name, string path, string field) =>
        item.TryGetProperty(name, out var value) ? value : throw new CocoFormatException(path, $"{field}.{name}", "is missing");

    private static double Number(JsonElement value, string path, string field)
    {
        if (value.ValueKind != JsonValueKind.Number) throw new CocoFormatException(path, field, $"expected a number, found {value.ValueKind}");
        return value.TryGetDouble(out double number) && double.IsFinite(number)
            ? number
            : throw new CocoFormatException(path, field, $"{Printable.Text(value.GetRawText())} is not a finite number");
    }

    /// <summary>An id: a JSON number whose exact value, as written, is a whole number that fits 64 bits.</summary>
    private static long WholeNumber(JsonElement value, string path, string field)
    {
        if (value.ValueKind != JsonValueKind.Number) throw new CocoFormatException(path, field, $"expected a whole number, found {value.ValueKind}");
        if (value.TryGetInt64(out long whole)) return whole;
        string text = value.GetRawText();
        return WholeDigits(text) switch
        {
            null => throw new CocoFormatException(path, field, $"expected a whole number (an id), found {Printable.Text(text)}"),
            var digits when long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out whole) => whole,
            _ => throw new CocoFormatException(path, field, $"{Printable.Text(text)} is outside the range of an id (a 64-bit integer)"),
        };
    }

    /// <summary>
    /// The digits of a JSON number written with a fraction or an exponent (785.0, 7.85e2) when its exact value is a
    /// whole number, else null. Read from the text, not through a double or a decimal, which round: 1.0000000001
    /// (a double rounds longer fractions to 1) and 1e-400 (a decimal rounds it to 0) are not whole.
    /// </summary>
    private static string? WholeDigits(string text)
    {
        var number = JsonNumber().Match(text);
        if (!number.Success) return null;
        string integer = number.Groups[2].Value, digits = integer + number.Groups[3].Value;
        if (!digits.AsSpan().ContainsAnyExcept('0')) return "0";
        int exponent = 0;
        if (number.Groups[4].Success && !int.TryParse(number.Groups[4].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent))
            return number.Groups[4].Value.StartsWith('-') ? null : number.Groups[1].Value + "9" + new string('9', 20);   // no id is that large
        long point = (long)integer.Length + exponent;   // where the decimal point falls among the digits
        if (point <= 0 || digits.AsSpan((int)Math.Min(point, digits.Length)).ContainsAnyExcept('0')) return null;   // a fraction is left
        if (point > digits.Length + 20) return number.Groups[1].Value + new string('9', 21);   // far beyond 64 bits
        return number.Groups[1].Value + (point <= digits.Length ? digits[..(int)point] : digits + new string('0', (int)point - digits.Length));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$")]
    private static partial System.Text.RegularExpressions.Regex JsonNumber();
}
