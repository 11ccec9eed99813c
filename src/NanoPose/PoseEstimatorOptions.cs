using NanoPose.Pipelines.TopDown;

namespace NanoPose;

/// <summary>Choices for <see cref="PoseEstimator"/>; the defaults are mmpose's COCO test settings without the flip test.</summary>
public sealed record PoseEstimatorOptions
{
    /// <summary>Also run the horizontally mirrored input and average (two network runs per person or image).</summary>
    public bool FlipTest { get; init; }

    /// <summary>Sub-pixel keypoint decoding of top-down heatmaps; bottom-up models ignore it.</summary>
    public HeatmapDecoding Decoding { get; init; } = HeatmapDecoding.Default;
}
