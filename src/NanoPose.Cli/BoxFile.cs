using System.Text.Json;
using NanoPose.Evaluation;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Cli;

/// <summary>
/// Person boxes by image id from a COCO results file (a JSON array of objects with <c>image_id</c>, <c>bbox</c>
/// [x, y, width, height] and <c>score</c>, as detectors write them; keypoints, if present, are ignored). Entries
/// with a <c>category_id</c> other than 1 (person) are skipped; a missing score counts as 1.
/// </summary>
internal static class BoxFile
{
    public static Dictionary<long, List<PersonBox>> Read(string path)
    {
        using var stream = File.OpenRead(path);
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
                if (item.TryGetProperty("category_id", out var category) && Number(category, path, field + ".category_id") != 1) continue;
                long imageId = (long)Number(Required(item, "image_id", path, field), path, field + ".image_id");
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

    private static double Number(JsonElement value, string path, string field) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw new CocoFormatException(path, field, $"expected a number, found {value.ValueKind}");
}
