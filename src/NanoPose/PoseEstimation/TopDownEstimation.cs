using NanoPose.Models;
using NanoPose.Pipelines.TopDown;
using NanoPose.Threading;

namespace NanoPose.PoseEstimation;

/// <summary>
/// Top-down models: <see cref="TopDownPipeline"/> on the given boxes, or on the people a <see cref="PersonDetector"/>
/// finds (none found: no people). Without boxes or a detector the person is looked for in two passes: first the
/// whole image as one box, then the box around that pass's confident joints (see <see cref="BoxAroundJoints"/>). A whole photo squeezed into a 256×192 crop leaves a person only a few dozen pixels
/// tall; the second crop fills the input with them (on coco-mini's 000000000785.jpg it halves the distance from
/// ground truth of the shoulders and hips).
/// </summary>
internal sealed class TopDownEstimation(IPoseNetwork network, PoseEstimatorOptions options, WorkerPool? pool, PersonDetector? detector)
    : IPeopleEstimation
{
    /// <summary>Joints at least this confident place the second pass's box; fewer than <see cref="MinJoints"/> of them
    /// and the first pass stands.</summary>
    private const float JointScore = 0.3f;
    private const int MinJoints = 4;

    /// <summary>Margin added on every side of the joints' extent, as a fraction of its size: the joints are
    /// centres, and the head's top and the feet lie beyond them. The crop adds mmpose's 1.25 padding on top.</summary>
    private const double Margin = 0.1;

    private readonly TopDownPipeline _pipeline = new(network, new TopDownOptions { FlipTest = options.FlipTest, Decoding = options.Decoding }, pool);

    public IReadOnlyList<EstimatedPerson> Estimate(RgbImage image, IReadOnlyList<PersonBox>? boxes, CancellationToken cancellationToken)
    {
        IReadOnlyList<TopDownPerson> people;
        if (boxes is not null) people = _pipeline.Estimate(image, [.. boxes], cancellationToken);
        else if (detector is not null)
        {
            var found = detector.Detect(image, bgr: false, cancellationToken);
            people = found.Count == 0 ? [] : _pipeline.Estimate(image, [.. found], cancellationToken);
        }
        else
        {
            people = _pipeline.Estimate(image, [new PersonBox(0, 0, image.Width, image.Height)], cancellationToken);
            if (people.Count == 1 && BoxAroundJoints(people[0].Keypoints, image.Width, image.Height) is { } box)
                people = _pipeline.Estimate(image, [box], cancellationToken);
        }
        return [.. people.Select(p => new EstimatedPerson(p.Keypoints, p.Score, p.Box))];
    }

    /// <summary>The extent of the confident joints plus <see cref="Margin"/>, clipped to the image; null with too few.</summary>
    internal static PersonBox? BoxAroundJoints(IReadOnlyList<Keypoint> joints, int imageWidth, int imageHeight)
    {
        double left = double.MaxValue, top = double.MaxValue, right = double.MinValue, bottom = double.MinValue;
        int count = 0;
        foreach (var joint in joints)
        {
            if (!(joint.Score >= JointScore)) continue;
            (left, right) = (Math.Min(left, joint.X), Math.Max(right, joint.X));
            (top, bottom) = (Math.Min(top, joint.Y), Math.Max(bottom, joint.Y));
            count++;
        }
        if (count < MinJoints) return null;
        double marginX = Margin * (right - left), marginY = Margin * (bottom - top);
        left = Math.Max(0, left - marginX);
        top = Math.Max(0, top - marginY);
        right = Math.Min(imageWidth, right + marginX);
        bottom = Math.Min(imageHeight, bottom + marginY);
        return right - left >= 1 && bottom - top >= 1 ? new PersonBox(left, top, right - left, bottom - top) : null;
    }
}
