using NanoPose.Pipelines.BottomUp;

namespace NanoPose.Tests.Pipelines.BottomUp;

public class InputAlignmentTests
{
    [Fact]
    public void LandscapeKeepsTheShortSideAndAlignsTheLongOneTo64()
    {
        // 640 × 425 at 512: height 512, width int((512/425·640 + 63) // 64 · 64) = 832.
        var a = InputAlignment.For(640, 425, 512);
        Assert.Equal((832, 512, 320, 213), (a.Width, a.Height, a.CenterX, a.CenterY));
        Assert.Equal(832.0 / 512 * 425 / 200, a.ScaleX);
        Assert.Equal(2.125, a.ScaleY);
    }

    [Fact]
    public void PortraitKeepsTheShortSideAndAlignsTheLongOneTo64()
    {
        // 300 × 501 at 512: width 512, height int((512/300·501 + 63) // 64 · 64) = 896; centre int(250.5 + 0.5) = 251.
        var a = InputAlignment.For(300, 501, 512);
        Assert.Equal((512, 896, 150, 251), (a.Width, a.Height, a.CenterX, a.CenterY));
        Assert.Equal(1.5, a.ScaleX);
        Assert.Equal(896.0 / 512 * 300 / 200, a.ScaleY);
    }

    [Fact]
    public void LargerTestScalesMultiplyTheSmallestScalesAlignedSize()
    {
        // Smallest scale 0.5 of 512: 256; the width at that scale int((256/425·640 + 63) // 64 · 64) = 448; scale 2
        // is four times both.
        var a = InputAlignment.For(640, 425, 512, currentScale: 2, minScale: 0.5);
        Assert.Equal((1792, 1024), (a.Width, a.Height));
        Assert.Equal(1792.0 / 1024 * 425 / 200, a.ScaleX);
        Assert.Throws<ArgumentOutOfRangeException>(() => InputAlignment.For(640, 425, 512, currentScale: 0.25, minScale: 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => InputAlignment.For(0, 425, 512));
    }

    [Fact]
    public void ToImageInvertsTheAlignment()
    {
        // 640 × 425 at 128: a 192 × 128 input showing 3.1875·200 = 637.5 image pixels across, 3.3203125 per input pixel.
        var a = InputAlignment.For(640, 425, 128);
        Assert.Equal((192, 128), (a.Width, a.Height));
        Assert.Equal((320f, 213f), a.ToImage(96, 64, 192, 128));
        Assert.Equal((1.25f, 0.5f), a.ToImage(0, 0, 192, 128));
        Assert.Equal((638.75f, 425.5f), a.ToImage(192, 128, 192, 128));
        // A half-size map covers the same image: one map pixel is two input pixels.
        Assert.Equal((1.25f + 2 * 3.3203125f, 0.5f), a.ToImage(1, 0, 96, 64));
    }
}
