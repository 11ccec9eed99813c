namespace NanoPose.Pipelines.BottomUp;

/// <summary>
/// What the bottom-up parser reads: per-joint heatmaps (<see cref="Joints"/> × <see cref="Height"/> × <see cref="Width"/>,
/// row-major) and per-joint tag vectors (<see cref="Joints"/> × <see cref="Height"/> × <see cref="Width"/> ×
/// <see cref="TagDimension"/>: the tag of the image, then of its flip when flip testing), at the network input size.
/// </summary>
public sealed record AggregatedMaps
{
    public AggregatedMaps(int joints, int height, int width, int tagDimension, float[] heatmaps, float[] tags)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(joints);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tagDimension);
        ArgumentNullException.ThrowIfNull(heatmaps);
        ArgumentNullException.ThrowIfNull(tags);
        long planes = (long)joints * height * width;
        if (heatmaps.Length != planes)
            throw new ArgumentException($"{joints}×{height}×{width} heatmaps need {planes} values, found {heatmaps.Length}", nameof(heatmaps));
        if (tags.Length != planes * tagDimension)
            throw new ArgumentException($"{joints}×{height}×{width}×{tagDimension} tags need {planes * tagDimension} values, found {tags.Length}", nameof(tags));
        (Joints, Height, Width, TagDimension, Heatmaps, Tags) = (joints, height, width, tagDimension, heatmaps, tags);
    }

    public int Joints { get; }
    public int Height { get; }
    public int Width { get; }
    public int TagDimension { get; }
    public float[] Heatmaps { get; }
    public float[] Tags { get; }

    public int PlaneSize => Height * Width;

    /// <summary>The heatmap of one joint.</summary>
    public ReadOnlySpan<float> Heatmap(int joint) => Heatmaps.AsSpan(joint * PlaneSize, PlaneSize);

    /// <summary>The tag vector of one joint at one pixel.</summary>
    public ReadOnlySpan<float> Tag(int joint, int y, int x) =>
        Tags.AsSpan(((joint * Height + y) * Width + x) * TagDimension, TagDimension);
}
