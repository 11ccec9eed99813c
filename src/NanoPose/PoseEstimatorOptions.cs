using NanoPose.Pipelines.TopDown;
using NanoPose.Threading;

namespace NanoPose;

/// <summary>Choices for <see cref="PoseEstimator"/>; the defaults are mmpose's COCO test settings without the flip test.</summary>
public sealed record PoseEstimatorOptions
{
    /// <summary>Also run the horizontally mirrored input and average (two network runs per person or image).</summary>
    public bool FlipTest { get; init; }

    /// <summary>Sub-pixel keypoint decoding of top-down heatmaps; bottom-up models ignore it.</summary>
    public HeatmapDecoding Decoding { get; init; } = HeatmapDecoding.Default;

    /// <summary>
    /// Threads that run an estimate, the calling one included (1 … 64; default 1). With more than one, large network
    /// operations are split over them, and a top-down model runs several person crops at once. Results are bit-identical
    /// for every thread count. Out of range throws <see cref="ArgumentOutOfRangeException"/>.
    /// </summary>
    public int Threads
    {
        get;
        init
        {
            WorkerPool.ValidateThreads(value, nameof(Threads));
            field = value;
        }
    } = 1;
}
