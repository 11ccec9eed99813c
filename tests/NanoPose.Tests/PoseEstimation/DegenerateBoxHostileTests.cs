using NanoPose.Pipelines.TopDown;
using NanoPose.TestSupport;

namespace NanoPose.Tests.PoseEstimation;

/// <summary>
/// Issue 15, class 16 (boxes): a box a ten-millionth of a pixel wide, or one too small for float32 to tell its corners
/// apart at its position, failed with "the three source points are collinear". Every such box (seeded sizes from
/// 1e-9 to 1 pixel, anywhere in images up to 60000 pixels wide) must give one person with finite keypoints near
/// the box, cropped at the smallest crop size.
/// </summary>
public class DegenerateBoxHostileTests
{
    private const int Seed = 15_016;

    [Fact]
    public void TinyBoxesAreCroppedAtTheSmallestCropSize()
    {
        var random = new Random(Seed);
        // mmpose's quarter-pixel decoding keeps every joint inside the heatmap, which is what the bound below checks; DARK,
        // the default, takes mmpose's Newton step, which on the flat maps of a seeded model can leave the crop (as in mmpose).
        using var estimator = PoseEstimator.Load(SeededModels.TinyTopDown(64, 48), new PoseEstimatorOptions { Decoding = HeatmapDecoding.Default }, source: "tiny.npw");
        var family = new FuzzFamily("degenerate boxes", Seed, typeof(ArgumentException)) { AllowedAllocation = _ => 16 << 20 };
        (int Width, int Height)[] images = [(640, 480), (60_000, 4), (4, 60_000), (3000, 3000)];
        var pixels = images.ToDictionary(s => s, s => SeededModels.Image(s.Width, s.Height, seed: s.Width));
        double[] sizes = [1e-9, 1e-7, 1e-5, 1e-3, 0.1, 0.5, 0.999];
        for (int i = 0; i < 200; i++)
        {
            var (width, height) = images[random.Next(images.Length)];
            double boxWidth = sizes[random.Next(sizes.Length)], boxHeight = random.Next(3) == 0 ? 10 * random.NextDouble() : sizes[random.Next(sizes.Length)];
            var box = new PersonBox(random.NextDouble() * (width - 1), random.NextDouble() * (height - 1), boxWidth, boxHeight);
            family.Run($"{width}×{height} image, box {box}", [], _ =>
            {
                var people = estimator.Estimate(pixels[(width, height)], width, height, width * 3, PixelFormat.Rgb24, [box], TestContext.Current.CancellationToken);
                var person = Assert.Single(people);
                // The crop is at least a pixel (more far from the origin), widened to the input's aspect: keypoints
                // stay within a few crop sizes of the box.
                double reach = 8 * Math.Max(1, Math.Max(box.X, box.Y) / 4096) + 2 * boxHeight;
                Assert.All(person.Keypoints, k =>
                {
                    Assert.True(float.IsFinite(k.X) && float.IsFinite(k.Y) && float.IsFinite(k.Score), $"keypoint {k}");
                    Assert.InRange(k.X, box.X - reach, box.X + box.Width + reach);
                    Assert.InRange(k.Y, box.Y - reach, box.Y + box.Height + reach);
                });
            });
        }
        family.Finish(200, TimeSpan.FromSeconds(20));
        Assert.Equal(family.Cases, family.Outcomes.GetValueOrDefault("success"));
    }
}
