using NanoPose.Pipelines.TopDown;

namespace NanoPose.Cli;

/// <summary>What <c>predict</c> and <c>eval</c> share: the estimator options of <c>--flip</c> and <c>--decode</c>,
/// running the estimator on a decoded image, and people in COCO results format.</summary>
internal static class PoseCommand
{
    /// <summary><c>--decode</c>'s default, as <see cref="PoseEstimatorOptions.Decoding"/>'s.</summary>
    public const string DarkDecoding = "dark";

    public static PoseEstimatorOptions From(Options options) => new()
    {
        FlipTest = options.Flag("--flip"),
        Decoding = options.Value("--decode") switch
        {
            "default" => HeatmapDecoding.Default,
            DarkDecoding => HeatmapDecoding.Dark,
            var other => throw new UsageException($"--decode must be default or dark, not '{other}'"),
        },
    };

    /// <summary>A person in COCO results format (category 1, keypoints as x, y, score).</summary>
    public static Evaluation.CocoKeypointDetection ToDetection(long imageId, EstimatedPerson person)
    {
        var keypoints = new double[3 * person.Keypoints.Count];
        for (int j = 0; j < person.Keypoints.Count; j++)
            (keypoints[3 * j], keypoints[3 * j + 1], keypoints[3 * j + 2]) = (person.Keypoints[j].X, person.Keypoints[j].Y, person.Keypoints[j].Score);
        // The box the person was estimated in, with the detector's score, when there is one (top-down models).
        Evaluation.CocoBox? box = person.Box is { } b ? new Evaluation.CocoBox(b.X, b.Y, b.Width, b.Height) : null;
        return new Evaluation.CocoKeypointDetection(imageId, 1, keypoints, person.Score, box, BoxScore: person.Box?.Score);
    }

    /// <summary>Runs the estimator on a decoded image; a bad box is reported with where it came from. A canceled
    /// <paramref name="cancel"/> throws <see cref="OperationCanceledException"/> before the next network run.</summary>
    public static IReadOnlyList<EstimatedPerson> Estimate(PoseEstimator estimator, ImageSharp.DecodedImage image, string imageName,
        IReadOnlyList<PersonBox>? boxes, string? boxSource, CancellationToken cancel = default)
    {
        IReadOnlyList<EstimatedPerson> people;
        try
        {
            people = estimator.Estimate(image.Pixels, image.Width, image.Height, image.Stride, PixelFormat.Rgb24, boxes, cancel);
        }
        catch (ArgumentException e) when (boxSource is not null && e.ParamName?.StartsWith("boxes", StringComparison.Ordinal) == true)
        {
            throw new InvalidDataException($"{boxSource}: a box of {imageName}: {e.Message}", e);
        }
        RequireFinite(people, imageName);
        return people;
    }

    /// <summary>
    /// Refuses people with a NaN or infinite coordinate or score: a model whose weights hold (or overflow to) such
    /// values gives them, and they have no place in a results file (JSON has no NaN) or a drawing. The image fails;
    /// a batch goes on with the next one.
    /// </summary>
    private static void RequireFinite(IReadOnlyList<EstimatedPerson> people, string imageName)
    {
        for (int p = 0; p < people.Count; p++)
        {
            var person = people[p];
            string? bad = !float.IsFinite(person.Score) ? $"its score is {person.Score}" : null;
            for (int j = 0; bad is null && j < person.Keypoints.Count; j++)
            {
                var k = person.Keypoints[j];
                if (!float.IsFinite(k.X) || !float.IsFinite(k.Y) || !float.IsFinite(k.Score))
                    bad = $"keypoint {j} is ({k.X}, {k.Y}) with score {k.Score}";
            }
            if (bad is null && person.Box is { } b && !(double.IsFinite(b.X) && double.IsFinite(b.Y) && double.IsFinite(b.Width) && double.IsFinite(b.Height) && float.IsFinite(b.Score)))
                bad = "its box is not finite";
            if (bad is not null)
                throw new InvalidDataException($"{imageName}: the model gave a non-finite result for person {p + 1} ({bad}); its weights may hold NaN or infinite values, or values so large that the network overflows");
        }
    }
}
