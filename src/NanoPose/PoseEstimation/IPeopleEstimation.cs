using NanoPose.Pipelines.TopDown;

namespace NanoPose.PoseEstimation;

/// <summary>One model family's way from an RGB image (and, for top-down models, person boxes) to people.</summary>
internal interface IPeopleEstimation
{
    IReadOnlyList<EstimatedPerson> Estimate(RgbImage image, IReadOnlyList<PersonBox>? boxes);
}
