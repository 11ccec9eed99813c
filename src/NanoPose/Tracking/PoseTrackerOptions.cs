namespace NanoPose.Tracking;

/// <summary>Choices for <see cref="PoseTracker"/>; the defaults suit a 25–30 fps camera.</summary>
public sealed record PoseTrackerOptions
{
    /// <summary>
    /// Run the person detector on every N-th frame (default 5). In between, each tracked person is estimated in the box
    /// around their previous frame's keypoints, as PP-TinyPose's and MediaPipe's pipelines do; a frame after one where a
    /// tracked person was lost, or with nobody tracked, is detected whatever N is. Bottom-up models find everyone in
    /// every frame and ignore it. Why 5: on the moving-photo test video (VideoCommandTests) every 5th frame follows the
    /// known motion as closely as every frame does (median 1.50 px both), and a newcomer waits at most 4 frames
    /// (0.13 s at 30 fps) to be found, while the detector, the largest single cost, runs a fifth as often.
    /// </summary>
    public int DetectEvery { get; init => field = value is >= 1 and <= 10_000 ? value : throw new ArgumentOutOfRangeException(nameof(DetectEvery), value, "detect every 1 to 10000 frames"); } = 5;

    /// <summary>Frames a track is kept while nobody matches it (default 5); after that a returning person gets a new ID.</summary>
    public int MaxMissedFrames { get; init => field = value is >= 0 and <= 10_000 ? value : throw new ArgumentOutOfRangeException(nameof(MaxMissedFrames), value, "0 to 10000 frames"); } = 5;

    /// <summary>
    /// A person continues a track when their similarity to the track's last pose is at least this (default 0.3); the
    /// similarity is the mean of the box IoU and the object keypoint similarity (OKS, COCO's sigmas), and pairs are
    /// taken greedily from the most similar down.
    /// </summary>
    public double MatchThreshold { get; init => field = value is > 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MatchThreshold), value, "a threshold above 0, at most 1"); } = 0.3;

    /// <summary>Smooth each track's keypoints with the One-Euro filter (off by default).</summary>
    public bool Smooth { get; init; }

    /// <summary>The One-Euro filter's cutoffs, when <see cref="Smooth"/> is on.</summary>
    public OneEuroParameters Smoothing { get; init; } = new();
}
