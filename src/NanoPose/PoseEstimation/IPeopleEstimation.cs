using NanoPose.Pipelines.TopDown;

namespace NanoPose.PoseEstimation;

/// <summary>One model family's way from an RGB image (and, for top-down models, person boxes) to people. An instance
/// reuses its buffers: one call at a time.</summary>
internal interface IPeopleEstimation
{
    /// <summary>Throws <see cref="OperationCanceledException"/> before a network run once <paramref name="cancellationToken"/>
    /// is canceled.</summary>
    IReadOnlyList<EstimatedPerson> Estimate(RgbImage image, IReadOnlyList<PersonBox>? boxes, CancellationToken cancellationToken);
}
