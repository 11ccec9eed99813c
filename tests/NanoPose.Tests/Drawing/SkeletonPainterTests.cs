using System.Text.Json;
using NanoPose.Drawing;
using NanoPose.TestSupport;

namespace NanoPose.Tests.Drawing;

public class SkeletonPainterTests
{
    private const int Width = 100, Height = 80;
    private const byte Background = 40;
    private const int LeftShoulder = 5, RightShoulder = 6, LeftElbow = 7, RightElbow = 8, LeftWrist = 9, RightWrist = 10, Nose = 0;

    private static readonly SkeletonStyle Style = new();

    /// <summary>Thin joints, so pixels halfway along a limb see only the limb.</summary>
    private static readonly SkeletonStyle FourPixelLines = new() { LineWidth = 4, JointRadius = 1 };

    private static byte[] Canvas(int width = Width, int height = Height) => Enumerable.Repeat(Background, width * height * 3).ToArray();

    /// <summary>A person with the given joints (score 1 unless given) and every other joint unscored.</summary>
    private static EstimatedPerson Person(params (int Joint, float X, float Y, float Score)[] joints)
    {
        var keypoints = new Keypoint[CocoKeypoints.Count];
        foreach (var (joint, x, y, score) in joints) keypoints[joint] = new Keypoint(x, y, score);
        return new EstimatedPerson(keypoints, 1, null);
    }

    private static (byte R, byte G, byte B) PixelAt(byte[] rgb, int x, int y, int width = Width)
    {
        int i = (y * width + x) * 3;
        return (rgb[i], rgb[i + 1], rgb[i + 2]);
    }

    private static (byte, byte, byte) Rgb(RgbColor color) => (color.R, color.G, color.B);

    private static byte[] DrawOnCanvas(SkeletonStyle style, params EstimatedPerson[] people)
    {
        var rgb = Canvas();
        SkeletonPainter.Draw(rgb, Width, Height, Width * 3, people, style);
        return rgb;
    }

    /// <summary>The left upper arm along row 40, from x = 20 to x = 80.</summary>
    private static byte[] HorizontalLimb(float y = 40) =>
        DrawOnCanvas(FourPixelLines, Person((LeftShoulder, 20, y, 1), (LeftElbow, 80, y, 1)));

    [Fact]
    public void APixelOnTheCentreLineTakesTheLimbColourExactly() =>
        Assert.Equal(Rgb(Style.LeftColor), PixelAt(HorizontalLimb(), 50, 40));

    [Fact]
    public void PixelsWellOutsideTheLimbAreUntouched()
    {
        var rgb = HorizontalLimb();
        // Half width 2 plus the 1-pixel edge: nothing from 2.5 pixels away, nor past the round caps.
        foreach (var (x, y) in new[] { (50, 43), (50, 37), (50, 10), (16, 40), (84, 40), (0, 0), (99, 79) })
            Assert.Equal((Background, Background, Background), PixelAt(rgb, x, y));
    }

    [Fact]
    public void APixelOnTheEdgeIsAnEvenBlend()
    {
        // Row 42 lies exactly on the edge of a 4-pixel line centred on row 40: coverage ½.
        var (r, g, b) = PixelAt(HorizontalLimb(), 50, 42);
        var paint = Style.LeftColor;
        foreach (var (value, target) in new[] { (r, paint.R), (g, paint.G), (b, paint.B) })
        {
            Assert.InRange(value, Math.Min(Background, target), Math.Max(Background, target));
            if (target != Background) Assert.NotEqual(target, value);
            Assert.InRange(value, (Background + target) / 2.0 - 0.5, (Background + target) / 2.0 + 0.5);
        }
        Assert.NotEqual((Background, Background, Background), (r, g, b));
    }

    [Theory]
    [InlineData(40f)]
    [InlineData(40.5f)]
    public void AHorizontalLineIsSymmetricAboutItsCentre(float centre)
    {
        var rgb = HorizontalLimb(centre);
        int touchedRows = 0;
        for (int below = (int)Math.Ceiling(centre), above = (int)Math.Floor(centre); below < Height; below++, above--)
        {
            for (int x = 30; x <= 70; x++) Assert.Equal(PixelAt(rgb, x, above), PixelAt(rgb, x, below));
            if (PixelAt(rgb, 50, below) != (Background, Background, Background)) touchedRows++;
        }
        Assert.InRange(touchedRows, 2, 3);
    }

    [Fact]
    public void LeftRightAndCentreGetDifferentColours()
    {
        // Wrists and the nose are not joined by limbs; the shoulders are (a centre limb), as are each shoulder and elbow.
        var rgb = DrawOnCanvas(FourPixelLines with { JointRadius = 3 }, Person(
            (LeftWrist, 10, 10, 1), (RightWrist, 90, 10, 1), (Nose, 50, 10, 1),
            (LeftShoulder, 30, 40, 1), (RightShoulder, 70, 40, 1), (LeftElbow, 30, 75, 1), (RightElbow, 70, 75, 1)));
        Assert.Equal(Rgb(Style.LeftColor), PixelAt(rgb, 10, 10));
        Assert.Equal(Rgb(Style.RightColor), PixelAt(rgb, 90, 10));
        Assert.Equal(Rgb(Style.CentreColor), PixelAt(rgb, 50, 10));
        Assert.Equal(Rgb(Style.CentreColor), PixelAt(rgb, 50, 40));
        Assert.Equal(Rgb(Style.LeftColor), PixelAt(rgb, 30, 57));
        Assert.Equal(Rgb(Style.RightColor), PixelAt(rgb, 70, 57));
        Assert.Equal(3, new[] { Style.LeftColor, Style.RightColor, Style.CentreColor }.Distinct().Count());
    }

    [Fact]
    public void AJointBelowTheMinimumScoreIsHiddenWithItsLimbs()
    {
        var person = Person((LeftShoulder, 20, 40, 0.9f), (LeftElbow, 80, 40, 0.2f));
        var rgb = DrawOnCanvas(FourPixelLines with { MinScore = 0.3f }, person);
        Assert.Equal(Rgb(Style.LeftColor), PixelAt(rgb, 20, 40));
        Assert.Equal((Background, Background, Background), PixelAt(rgb, 50, 40));
        Assert.Equal((Background, Background, Background), PixelAt(rgb, 80, 40));
        // At a lower threshold the same person is drawn whole.
        rgb = DrawOnCanvas(FourPixelLines with { MinScore = 0.1f }, person);
        Assert.Equal(Rgb(Style.LeftColor), PixelAt(rgb, 50, 40));
        Assert.Equal(Rgb(Style.LeftColor), PixelAt(rgb, 80, 40));
    }

    [Fact]
    public void KeypointsOffTheImageNaNOrHugeTouchNothing()
    {
        float[] far = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e9f, -1e9f, float.MaxValue, -float.MaxValue, -4, Width + 3];
        // Every joint of a person at one such point; then whole skeletons spread along lines that pass by the image.
        var people = far.SelectMany(x => far.Select(y => Everywhere(_ => (x, y)))).Concat(
        [
            Everywhere(j => (-4, j % 2 == 0 ? -1e9f : 1e9f)),
            Everywhere(j => (j % 2 == 0 ? -float.MaxValue : float.MaxValue, Height + 3)),
            Everywhere(j => (j % 2 == 0 ? -1e9f : 1e9f, j % 2 == 0 ? -1e9f - 200 : 1e9f - 200)),   // diagonal passing the top right
        ]);
        var rgb = DrawOnCanvas(Style, people.ToArray());
        Assert.All(rgb, value => Assert.Equal(Background, value));

        static EstimatedPerson Everywhere(Func<int, (float X, float Y)> place) => new(
            Enumerable.Range(0, CocoKeypoints.Count).Select(j => new Keypoint(place(j).X, place(j).Y, 1)).ToArray(), 1, null);
    }

    [Fact]
    public void ALimbTowardsAFarPointIsDrawnUpToTheBorder()
    {
        var rgb = DrawOnCanvas(FourPixelLines, Person((LeftShoulder, 20, 40, 1), (LeftElbow, 1e9f, 40, 1)));
        Assert.Equal(Rgb(Style.LeftColor), PixelAt(rgb, Width - 1, 40));
        Assert.Equal((Background, Background, Background), PixelAt(rgb, Width - 1, 43));
        // Beyond ±2³¹ (and NaN) is no point: no limb.
        foreach (float far in new[] { 3e9f, float.MaxValue, float.NaN })
        {
            rgb = DrawOnCanvas(FourPixelLines, Person((LeftShoulder, 20, 40, 1), (LeftElbow, far, 40, 1)));
            Assert.Equal(Rgb(Style.LeftColor), PixelAt(rgb, 20, 40));
            Assert.Equal((Background, Background, Background), PixelAt(rgb, 50, 40));
        }
    }

    [Fact]
    public void PaddingBetweenAndAfterRowsIsLeftAlone()
    {
        const int width = 20, height = 10, stride = 3 * width + 7, padding = 0xAB;
        var rgb = Enumerable.Repeat((byte)padding, stride * height + 5).ToArray();
        for (int y = 0; y < height; y++) rgb.AsSpan(y * stride, 3 * width).Fill(Background);
        // A line wider than the image covers every pixel.
        SkeletonPainter.Draw(rgb, width, height, stride, [Person((LeftShoulder, -10, 5, 1), (LeftElbow, 30, 5, 1))], Style with { LineWidth = 40 });
        byte[] paint = [Style.LeftColor.R, Style.LeftColor.G, Style.LeftColor.B];
        for (int i = 0; i < rgb.Length; i++)
        {
            bool inImage = i / stride < height && i % stride < 3 * width;
            Assert.Equal(inImage ? paint[i % stride % 3] : padding, rgb[i]);
        }
    }

    [Fact]
    public void TheDefaultLineWidthGrowsWithTheImage()
    {
        // Two pixels from the centre line: inside a 1000-pixel image's 5-pixel line, outside a 100-pixel image's 2-pixel one.
        foreach (var (size, expected) in new[] { (1000, Rgb(Style.LeftColor)), (100, (Background, Background, Background)) })
        {
            var rgb = Canvas(size, size);
            SkeletonPainter.Draw(rgb, size, size, size * 3, [Person((LeftShoulder, 10, 50, 1), (LeftElbow, 90, 50, 1))], Style with { JointRadius = 1 });
            Assert.Equal(expected, PixelAt(rgb, 50, 52, size));
        }
    }

    [Fact]
    public void BadSizesAreRefusedNamingExpectedAndFound()
    {
        var rgb = Canvas();
        var error = Assert.ThrowsAny<ArgumentException>(() => SkeletonPainter.Draw(rgb, Width, Height, Width * 3 - 1, [], null));
        Assert.Contains($"at least {Width * 3}", error.Message);
        error = Assert.ThrowsAny<ArgumentException>(() => SkeletonPainter.Draw(rgb.AsSpan(1), Width, Height, Width * 3, [], null));
        Assert.Contains($"needs {rgb.Length} bytes, found {rgb.Length - 1}", error.Message);
        error = Assert.ThrowsAny<ArgumentException>(() => SkeletonPainter.Draw(rgb, Width, Height, Width * 3, [new EstimatedPerson(new Keypoint[5], 1, null)], null));
        Assert.Contains("person 0 has 5 keypoints, expected 17", error.Message);
        error = Assert.ThrowsAny<ArgumentException>(() => SkeletonPainter.Draw(rgb, Width, Height, Width * 3, [], Style with { LineWidth = float.NaN }));
        Assert.Contains("LineWidth", error.Message);
    }

    [Fact]
    public void TheLimbsAreTheCocoSkeleton()
    {
        using var file = JsonDocument.Parse(File.ReadAllText(SharedData.File("data/coco-mini/test_coco.json")));
        var cocoSkeleton = file.RootElement.GetProperty("categories")[0].GetProperty("skeleton").EnumerateArray()
            .Select(pair => (pair[0].GetInt32() - 1, pair[1].GetInt32() - 1));
        Assert.Equal(cocoSkeleton, CocoKeypoints.Skeleton);
    }
}
