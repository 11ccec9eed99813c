using System.Text.Json.Serialization;

namespace NanoPose.Evaluation;

// The JSON shapes of COCO files as they are on disk. Every field is nullable so that a missing field is reported
// by name (CocoJson validates and converts to the public types) instead of silently becoming 0.

internal sealed class GroundTruthJson
{
    public List<ImageJson?>? Images { get; set; }
    public List<CategoryJson?>? Categories { get; set; }
    public List<AnnotationJson?>? Annotations { get; set; }
}

internal sealed class ImageJson
{
    public long? Id { get; set; }
    public string? FileName { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
}

internal sealed class CategoryJson
{
    public int? Id { get; set; }
    public string? Name { get; set; }
}

internal sealed class AnnotationJson
{
    public long? Id { get; set; }
    public long? ImageId { get; set; }
    public int? CategoryId { get; set; }
    public double[]? Keypoints { get; set; }
    public int? NumKeypoints { get; set; }
    public double? Area { get; set; }
    public double[]? Bbox { get; set; }
    [JsonPropertyName("iscrowd")] public int? IsCrowd { get; set; }
}

internal sealed class DetectionJson
{
    public long? ImageId { get; set; }
    public int? CategoryId { get; set; }
    public double[]? Keypoints { get; set; }
    public double? Score { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double[]? Bbox { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FileName { get; set; }
    /// <summary>The person detector's score of the box (not a COCO field; COCO tools ignore it).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? BoxScore { get; set; }
}

/// <summary>Source-generated (reflection-free, AOT-safe) serialisation of the COCO file shapes.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(GroundTruthJson))]
[JsonSerializable(typeof(List<DetectionJson?>))]
[JsonSerializable(typeof(DetectionJson))]
[JsonSerializable(typeof(CocoKeypointStats))]
internal sealed partial class CocoJsonContext : JsonSerializerContext;
