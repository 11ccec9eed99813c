using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.Pipelines.TopDown;

public class CenterScaleTests
{
    [Theory, MemberData(nameof(TopDownCase.Names), MemberType = typeof(TopDownCase))]
    public void MatchesMmposeExactly(string name)
    {
        var golden = TopDownCase.Get(name);
        var actual = CenterScale.FromBox(golden.Box, 640, 480, TopDownCase.InputWidth, TopDownCase.InputHeight);
        Assert.Equal(golden.CenterScale, actual);
    }

    [Fact]
    public void WidensANarrowBoxAndHeightensAWideOne()
    {
        // 30×100 is narrower than 3:4, so the width becomes 75; 300×100 is wider, so the height becomes 400.
        Assert.Equal(new CenterScale(25, 60, 75 / 200f * 1.25f, 100 / 200f * 1.25f), CenterScale.FromBox(new PersonBox(10, 10, 30, 100), 640, 480, 192, 256));
        Assert.Equal(new CenterScale(150, 50, 1.5f * 1.25f, 2f * 1.25f), CenterScale.FromBox(new PersonBox(0, 0, 300, 100), 640, 480, 192, 256));
        Assert.Equal(new CenterScale(3, 4, 6 / 200f, 8 / 200f), CenterScale.FromBox(new PersonBox(0, 0, 6, 8), 640, 480, 192, 256, padding: 1));
    }

    [Theory]
    [InlineData(double.NaN, 0, 10, 10, "non-finite")]
    [InlineData(0, double.PositiveInfinity, 10, 10, "non-finite")]
    [InlineData(0, 0, double.NaN, 10, "non-finite")]
    [InlineData(0, 0, 0, 10, "positive width and height")]
    [InlineData(0, 0, 10, -1, "positive width and height")]
    [InlineData(640, 0, 10, 10, "entirely outside")]
    [InlineData(-20, 0, 20, 10, "entirely outside")]
    [InlineData(0, -20, 10, 19.5, "entirely outside")]
    [InlineData(0, 480, 10, 10, "entirely outside")]
    [InlineData(-1e300, 0, 2e300, 10, "out of float32 range")]
    public void RefusesBoxesThatCannotBeCropped(double x, double y, double w, double h, string problem)
    {
        var error = Assert.Throws<ArgumentException>(() => CenterScale.FromBox(new PersonBox(x, y, w, h), 640, 480, 192, 256));
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void RefusesANonFiniteScore()
    {
        var error = Assert.Throws<ArgumentException>(() => new PersonBox(0, 0, 10, 10, float.NaN).Validate(640, 480));
        Assert.Contains("non-finite", error.Message);
    }

    [Fact]
    public void KeepsABoxPartlyOutsideTheImageUnchanged()
    {
        // mmpose does not clip: the centre may lie outside the image and the crop reads zeros there.
        var box = CenterScale.FromBox(new PersonBox(-50, -20, 60, 80), 640, 480, 192, 256);
        Assert.Equal((-20f, 20f), (box.CenterX, box.CenterY));
    }
}
