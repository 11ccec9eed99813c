using NanoPose.IO;
using System.Text.Json;

namespace NanoPose.Evaluation;

/// <summary>
/// Reads COCO keypoint ground truth and COCO results (detections), writes results as a JSON array or as JSON
/// lines. Every problem in a file is a <see cref="CocoFormatException"/> naming the file and the field. Memory is
/// proportional to the file: nothing is allocated from counts declared inside it.
/// </summary>
public static class CocoJson
{
    /// <summary>The largest COCO JSON file read: 1 GiB, 4× COCO's largest keypoint file (train2017, 238 MB). Only
    /// regular files are read: a FIFO, a device or a folder is refused by name (<see cref="InputFileException"/>).</summary>
    public const long MaxFileBytes = 1L << 30;

    private const string What = "COCO JSON";

    /// <summary>Reads a COCO keypoints ground-truth file (images, categories, annotations with keypoints).</summary>
    public static CocoGroundTruth ReadGroundTruth(string path)
    {
        using var stream = InputFile.OpenRead(path, MaxFileBytes, What);
        return ReadGroundTruth(stream, path);
    }

    /// <param name="source">Names the data in error messages (usually the file path).</param>
    public static CocoGroundTruth ReadGroundTruth(Stream stream, string source)
    {
        var file = Deserialize(source, () => JsonSerializer.Deserialize(stream, CocoJsonContext.Default.GroundTruthJson))
            ?? throw new CocoFormatException(source, "$", "expected a JSON object, found null");
        List<ImageJson?> imagesJson = file.Images ?? [];
        List<CategoryJson?> categoriesJson = file.Categories ?? [];
        List<AnnotationJson?> annotationsJson = file.Annotations ?? [];
        var images = new List<CocoImage>(imagesJson.Count);
        var imageIds = new HashSet<long>();
        for (int i = 0; i < imagesJson.Count; i++)
        {
            string field = $"images[{i}]";
            var image = imagesJson[i] ?? throw new CocoFormatException(source, field, "is null");
            long id = Required(image.Id, source, field + ".id");
            if (!imageIds.Add(id)) throw new CocoFormatException(source, field + ".id", $"image id {id} appears twice");
            images.Add(new CocoImage(id, image.FileName, image.Width ?? 0, image.Height ?? 0));
        }

        var categories = new List<CocoCategory>(categoriesJson.Count);
        var categoryIds = new HashSet<int>();
        for (int i = 0; i < categoriesJson.Count; i++)
        {
            string field = $"categories[{i}]";
            var category = categoriesJson[i] ?? throw new CocoFormatException(source, field, "is null");
            int id = Required(category.Id, source, field + ".id");
            if (!categoryIds.Add(id)) throw new CocoFormatException(source, field + ".id", $"category id {id} appears twice");
            categories.Add(new CocoCategory(id, category.Name));
        }

        var annotations = new List<CocoKeypointAnnotation>(annotationsJson.Count);
        var annotationIds = new HashSet<long>();
        for (int i = 0; i < annotationsJson.Count; i++)
        {
            string field = $"annotations[{i}]";
            var a = annotationsJson[i] ?? throw new CocoFormatException(source, field, "is null");
            long id = Required(a.Id, source, field + ".id");
            // pycocotools indexes annotations by id, so a repeated id would silently replace the earlier person.
            if (!annotationIds.Add(id)) throw new CocoFormatException(source, field + ".id", $"annotation id {id} appears twice");
            long imageId = Required(a.ImageId, source, field + ".image_id");
            if (!imageIds.Contains(imageId))
                throw new CocoFormatException(source, field + ".image_id", $"image {imageId} is not in the images list");
            int categoryId = Required(a.CategoryId, source, field + ".category_id");
            if (!categoryIds.Contains(categoryId))
                throw new CocoFormatException(source, field + ".category_id", $"category {categoryId} is not in the categories list");
            double[] keypoints = Keypoints(a.Keypoints, source, field + ".keypoints");
            int numKeypoints = Required(a.NumKeypoints, source, field + ".num_keypoints");
            if (numKeypoints is < 0 or > CocoKeypoints.Count)
                throw new CocoFormatException(source, field + ".num_keypoints", $"{numKeypoints} is outside 0..{CocoKeypoints.Count}");
            double area = Finite(Required(a.Area, source, field + ".area"), source, field + ".area");
            var bbox = Box(a.Bbox, source, field + ".bbox") ?? throw Missing(source, field + ".bbox");
            int isCrowd = Required(a.IsCrowd, source, field + ".iscrowd");
            if (isCrowd is not (0 or 1)) throw new CocoFormatException(source, field + ".iscrowd", $"expected 0 or 1, found {isCrowd}");
            annotations.Add(new CocoKeypointAnnotation(id, imageId, categoryId, keypoints, numKeypoints, area, bbox, isCrowd == 1));
        }
        return new CocoGroundTruth(images, categories, annotations);
    }

    /// <summary>Reads detections from a COCO results file: a JSON array, or JSON lines (one person per line),
    /// told apart by the first non-blank character. A file with nothing but blanks is JSON lines with no person: what
    /// <c>nanopose predict --jsonl</c> writes when it finds nobody.</summary>
    public static List<CocoKeypointDetection> ReadDetections(string path)
    {
        using var stream = new MemoryStream(InputFile.ReadAllBytes(path, MaxFileBytes, What), writable: false);
        int first;
        do first = stream.ReadByte(); while (first is ' ' or '\t' or '\r' or '\n' or 0xEF or 0xBB or 0xBF); // blanks, UTF-8 BOM
        stream.Position = 0;
        return first is '{' or -1 ? ReadDetectionsJsonLines(stream, path) : ReadDetections(stream, path);
    }

    /// <summary>Reads detections from a COCO results JSON array.</summary>
    public static List<CocoKeypointDetection> ReadDetections(Stream stream, string source)
    {
        var items = Deserialize(source, () => JsonSerializer.Deserialize(stream, CocoJsonContext.Default.ListDetectionJson))
            ?? throw new CocoFormatException(source, "$", "expected a JSON array, found null");
        var detections = new List<CocoKeypointDetection>(items.Count);
        for (int i = 0; i < items.Count; i++)
            detections.Add(Detection(items[i], source, $"[{i}]"));
        return detections;
    }

    /// <summary>Reads detections written one JSON object per line; blank lines are skipped.</summary>
    public static List<CocoKeypointDetection> ReadDetectionsJsonLines(Stream stream, string source)
    {
        var detections = new List<CocoKeypointDetection>();
        using var reader = new StreamReader(stream, leaveOpen: true);
        int lineNumber = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string lineSource = $"{source} line {lineNumber}";
            var item = Deserialize(lineSource, () => JsonSerializer.Deserialize(line, CocoJsonContext.Default.DetectionJson));
            detections.Add(Detection(item, lineSource, "$"));
        }
        return detections;
    }

    /// <summary>Writes detections as a COCO results JSON array (the format pycocotools' <c>loadRes</c> reads).</summary>
    public static void WriteDetections(string path, IEnumerable<CocoKeypointDetection> detections)
    {
        using var stream = File.Create(path);
        WriteDetections(stream, detections);
    }

    public static void WriteDetections(Stream stream, IEnumerable<CocoKeypointDetection> detections)
    {
        using var writer = new Utf8JsonWriter(stream);
        writer.WriteStartArray();
        foreach (var detection in detections)
            JsonSerializer.Serialize(writer, ToJson(detection), CocoJsonContext.Default.DetectionJson);
        writer.WriteEndArray();
    }

    /// <summary>One detection as a single-line JSON object (no newline): a line of the JSON-lines form that
    /// <see cref="ReadDetectionsJsonLines"/> reads.</summary>
    public static string ToJsonLine(CocoKeypointDetection detection) =>
        JsonSerializer.Serialize(ToJson(detection), CocoJsonContext.Default.DetectionJson);

    internal static DetectionJson ToJson(CocoKeypointDetection detection)
    {
        if (detection.Keypoints.Length != CocoKeypoints.ArrayLength)
            throw new ArgumentException($"a detection has {detection.Keypoints.Length} keypoint values, expected {CocoKeypoints.ArrayLength}", nameof(detection));
        foreach (double v in detection.Keypoints)
            if (!double.IsFinite(v)) throw new ArgumentException($"a detection of image {detection.ImageId} has a non-finite keypoint value {v}", nameof(detection));
        if (!double.IsFinite(detection.Score)) throw new ArgumentException($"a detection of image {detection.ImageId} has a non-finite score", nameof(detection));
        double[]? bbox = detection.Bbox is { } b ? [b.X, b.Y, b.Width, b.Height] : null;
        if (detection.BoxScore is { } boxScore && !double.IsFinite(boxScore))
            throw new ArgumentException($"a detection of image {detection.ImageId} has a non-finite box score", nameof(detection));
        return new DetectionJson { ImageId = detection.ImageId, CategoryId = detection.CategoryId, Keypoints = detection.Keypoints, Score = detection.Score, Bbox = bbox, FileName = detection.FileName, BoxScore = detection.BoxScore };
    }

    private static CocoKeypointDetection Detection(DetectionJson? item, string source, string field)
    {
        if (item is null) throw new CocoFormatException(source, field, "is null");
        string prefix = field == "$" ? "" : field + ".";
        long imageId = Required(item.ImageId, source, prefix + "image_id");
        int categoryId = Required(item.CategoryId, source, prefix + "category_id");
        double[] keypoints = Keypoints(item.Keypoints, source, prefix + "keypoints");
        double score = Finite(Required(item.Score, source, prefix + "score"), source, prefix + "score");
        // pycocotools treats an empty bbox list as no box.
        var bbox = item.Bbox is { Length: 0 } ? null : Box(item.Bbox, source, prefix + "bbox");
        double? boxScore = item.BoxScore is { } b ? Finite(b, source, prefix + "box_score") : null;
        return new CocoKeypointDetection(imageId, categoryId, keypoints, score, bbox, item.FileName, boxScore);
    }

    private static T? Deserialize<T>(string source, Func<T?> read)
    {
        try { return read(); }
        catch (JsonException e) { throw new CocoFormatException(source, e.Path ?? "$", $"not valid COCO JSON: {e.Message}", e); }
    }

    private static T Required<T>(T? value, string source, string field) where T : struct =>
        value ?? throw Missing(source, field);

    private static CocoFormatException Missing(string source, string field) => new(source, field, "is missing or null");

    private static double Finite(double value, string source, string field) =>
        double.IsFinite(value) ? value : throw new CocoFormatException(source, field, $"{value} is not a finite number");

    private static double[] Keypoints(double[]? values, string source, string field)
    {
        if (values is null) throw Missing(source, field);
        if (values.Length != CocoKeypoints.ArrayLength)
            throw new CocoFormatException(source, field, $"has {values.Length} values, expected {CocoKeypoints.ArrayLength} ({CocoKeypoints.Count} keypoints × (x, y, v))");
        for (int i = 0; i < values.Length; i++) Finite(values[i], source, $"{field}[{i}]");
        return values;
    }

    private static CocoBox? Box(double[]? values, string source, string field)
    {
        if (values is null) return null;
        if (values.Length != 4) throw new CocoFormatException(source, field, $"has {values.Length} values, expected 4 (x, y, width, height)");
        for (int i = 0; i < 4; i++) Finite(values[i], source, $"{field}[{i}]");
        return new CocoBox(values[0], values[1], values[2], values[3]);
    }
}
