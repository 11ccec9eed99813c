using NanoPose.Pipelines.TopDown;
using NanoPose.Threading;

namespace NanoPose;

/// <summary>
/// Choices for <see cref="PoseEstimator"/>. The defaults are those of PaddleDetection's PP-TinyPose pipeline, the
/// built-in model's own: DARK decoding, no flip test.
/// </summary>
public sealed record PoseEstimatorOptions
{
    /// <summary>Also run the horizontally mirrored input and average (two network runs per person or image).</summary>
    public bool FlipTest { get; init; }

    /// <summary>
    /// Sub-pixel keypoint decoding of top-down heatmaps; bottom-up models ignore it. DARK by default, as PaddleDetection
    /// decodes PP-TinyPose (<c>use_dark</c>, MODELS.md G.10): on coco-mini with the built-in detector it gives COCO AP
    /// 0.822 where mmpose's quarter-pixel rule (<see cref="HeatmapDecoding.Default"/>) gives 0.795.
    /// </summary>
    public HeatmapDecoding Decoding { get; init; } = HeatmapDecoding.Dark;

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
