using NanoPose.Models.PicoDet;
using NanoPose.Threading;

namespace NanoPose;

/// <summary>Choices for <see cref="PersonDetector"/>.</summary>
public sealed record PersonDetectorOptions
{
    /// <summary>The default <see cref="ScoreThreshold"/>, chosen by COCO keypoint AP and false people on coco-mini
    /// (bench/README.md); PaddleDetection's pipeline uses 0.5, mmpose's inferencer 0.3.</summary>
    public const float DefaultScoreThreshold = 0.5f;

    /// <summary>People scoring at least this are kept (0 … 1).</summary>
    public float ScoreThreshold
    {
        get;
        init => field = value is >= 0 and <= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(ScoreThreshold), value, "a score threshold is from 0 to 1");
    } = DefaultScoreThreshold;

    /// <summary>At most this many people, best first (1 … 1000; default 100, PaddleDetection's keep_top_k).</summary>
    public int MaxPeople
    {
        get;
        init => field = value is >= 1 and <= 1000 ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxPeople), value, "max people is from 1 to 1000");
    } = 100;

    /// <summary>The network's input side (a multiple of 32 from 32 to 2048); null: the size the model was trained at.</summary>
    public int? InputSize
    {
        get;
        init => field = value is null || (value >= PicoDetConfig.SizeMultiple && value <= PicoDetConfig.MaxInputSide && value % PicoDetConfig.SizeMultiple == 0)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(InputSize), value,
                $"the detector's input size is a multiple of {PicoDetConfig.SizeMultiple} from {PicoDetConfig.SizeMultiple} to {PicoDetConfig.MaxInputSide}");
    }

    /// <summary>Threads a detection runs on, the calling one included (as <see cref="PoseEstimatorOptions.Threads"/>).</summary>
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
