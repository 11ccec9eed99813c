using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.Pipelines.TopDown;

public class AffineTransformTests(ITestOutputHelper output)
{
    [Fact]
    public void MatchesCv2GetAffineTransform()
    {
        double worst = 0;
        foreach (var golden in TopDownCase.Cases)
        {
            var m = AffineTransform.FromCenterScale(golden.CenterScale, TopDownCase.InputWidth, TopDownCase.InputHeight);
            double[] actual = [m.M00, m.M01, m.M02, m.M10, m.M11, m.M12];
            for (int i = 0; i < 6; i++) worst = Math.Max(worst, Math.Abs(actual[i] - golden.Affine[i]));
        }
        output.WriteLine($"affine 2×3, 12 cases: max abs diff {worst:E2}");
        // OpenCV's build may contract to FMA, so the last bits can differ; the crops (below) still match exactly.
        Assert.True(worst < 1e-12, $"max abs diff {worst:E2}");
    }

    [Fact]
    public void SendsTheBoxCentreToTheCropCentreAndTheBoxWidthToTheCropWidth()
    {
        var m = AffineTransform.FromCenterScale(new CenterScale(100, 50, 0.96f, 1.28f), 192, 256);
        Assert.Equal((96.0, 128.0), m.Map(100, 50));
        // 0.96 × 200 = 192 image pixels across → 192 crop pixels: scale 1, no rotation.
        Assert.Equal(new AffineTransform(1, 0, -4, 0, 1, 78), m);
        var back = m.Invert();
        Assert.Equal((100.0, 50.0), back.Map(96, 128));
    }

    [Fact]
    public void RefusesToInvertASingularMap() =>
        Assert.Throws<InvalidOperationException>(() => new AffineTransform(1, 2, 0, 2, 4, 0).Invert());
}
