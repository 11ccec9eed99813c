using NanoPose.Models;
using NanoPose.Pipelines.TopDown;
using NanoPose.Threading;

namespace NanoPose.PoseEstimation;

/// <summary>Top-down models: <see cref="TopDownPipeline"/> on the given boxes, or on the whole image as one box.</summary>
internal sealed class TopDownEstimation(IPoseNetwork network, PoseEstimatorOptions options, WorkerPool? pool) : IPeopleEstimation
{
    private readonly TopDownPipeline _pipeline = new(network, new TopDownOptions { FlipTest = options.FlipTest, Decoding = options.Decoding }, pool);

    public IReadOnlyList<EstimatedPerson> Estimate(RgbImage image, IReadOnlyList<PersonBox>? boxes)
    {
        PersonBox[] all = boxes is null ? [new PersonBox(0, 0, image.Width, image.Height)] : [.. boxes];
        return [.. _pipeline.Estimate(image, all).Select(p => new EstimatedPerson(p.Keypoints, p.Score, p.Box))];
    }
}
