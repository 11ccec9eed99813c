using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NanoPose.Evaluation;

/// <summary>
/// The ten statistics pycocotools' <c>COCOeval.summarize()</c> reports for keypoints (all at maxDets 20); −1
/// where nothing could be measured (no ground truth in that area range). JSON names are those of
/// <c>COCOeval.stats</c>' usual labels ("AP", "AP .5", ...).
/// </summary>
public sealed record CocoKeypointStats(
    [property: JsonPropertyName("AP")] double AP,
    [property: JsonPropertyName("AP .5")] double AP50,
    [property: JsonPropertyName("AP .75")] double AP75,
    [property: JsonPropertyName("AP (M)")] double APMedium,
    [property: JsonPropertyName("AP (L)")] double APLarge,
    [property: JsonPropertyName("AR")] double AR,
    [property: JsonPropertyName("AR .5")] double AR50,
    [property: JsonPropertyName("AR .75")] double AR75,
    [property: JsonPropertyName("AR (M)")] double ARMedium,
    [property: JsonPropertyName("AR (L)")] double ARLarge)
{
    /// <summary>The statistics in pycocotools' order (its <c>stats</c> array).</summary>
    public double[] ToArray() => [AP, AP50, AP75, APMedium, APLarge, AR, AR50, AR75, ARMedium, ARLarge];

    /// <summary>The ten lines pycocotools prints, character for character.</summary>
    public string ToPycocotoolsText()
    {
        double[] values = ToArray();
        var text = new StringBuilder();
        for (int i = 0; i < values.Length; i++)
        {
            bool precision = i < 5;
            int kind = i % 5; // 0: all, 1: IoU .50, 2: IoU .75, 3: medium, 4: large
            string iou = kind switch { 1 => "0.50", 2 => "0.75", _ => "0.50:0.95" };
            string area = kind switch { 3 => "medium", 4 => "large", _ => "all" };
            text.Append(' ').Append((precision ? "Average Precision" : "Average Recall").PadRight(18))
                .Append(precision ? " (AP)" : " (AR)")
                .Append(" @[ IoU=").Append(iou.PadRight(9))
                .Append(" | area=").Append(area.PadLeft(6))
                .Append(" | maxDets=").Append(CocoKeypointEvaluator.MaxDetections.ToString(CultureInfo.InvariantCulture).PadLeft(3))
                .Append(" ] = ").Append(FormatLikePython(values[i])).Append('\n');
        }
        return text.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, CocoJsonContext.Default.CocoKeypointStats);

    /// <param name="source">Names the data in error messages.</param>
    public static CocoKeypointStats FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize(json, CocoJsonContext.Default.CocoKeypointStats)
                ?? throw new CocoFormatException(source, "$", "expected a JSON object, found null");
        }
        catch (JsonException e) { throw new CocoFormatException(source, e.Path ?? "$", $"not valid statistics JSON: {e.Message}", e); }
    }

    /// <summary>Python's <c>'{:0.3f}'</c>: correctly rounded, exact ties to even. A double lies exactly halfway
    /// between two multiples of 0.001 only when it is an odd multiple of 1/16 (0.0625, 0.1875, ...); .NET's "F3"
    /// would round those away from zero.</summary>
    internal static string FormatLikePython(double value)
    {
        double sixteenths = value * 16;
        bool tie = sixteenths == Math.Floor(sixteenths) && Math.Abs(sixteenths % 2) == 1;
        double rounded = tie ? Math.Round(value * 1000, MidpointRounding.ToEven) / 1000 : value;
        return rounded.ToString("F3", CultureInfo.InvariantCulture);
    }
}
