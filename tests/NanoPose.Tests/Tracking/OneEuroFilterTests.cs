using NanoPose.Tracking;

namespace NanoPose.Tests.Tracking;

/// <summary>The One-Euro smoothing of tracked keypoints: it lowers jitter on a still point and trails a constant
/// motion by the documented amount, never more than <see cref="OneEuroParameters.MaxLagFraction"/> of the person.</summary>
public sealed class OneEuroFilterTests
{
    private const double Seconds = 1 / 30.0, PersonSize = 200;

    /// <summary>A still keypoint with Gaussian noise of 2 px (seeded): the frame-to-frame jitter (RMS of the change
    /// between frames) falls by more than half with the default parameters.</summary>
    [Fact]
    public void SmoothingLowersTheJitterOfAStillPoint()
    {
        var random = new Random(16);
        var filter = new OneEuroFilter();
        var parameters = new OneEuroParameters();
        double rawSum = 0, smoothSum = 0, previousRaw = 0, previousSmooth = 0;
        const int frames = 300;
        for (int i = 0; i < frames; i++)
        {
            double noise = 2 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            double raw = 100 + noise, smooth = filter.Filter(raw, Seconds, PersonSize, parameters);
            if (i > 30)   // past the filter's start
            {
                rawSum += (raw - previousRaw) * (raw - previousRaw);
                smoothSum += (smooth - previousSmooth) * (smooth - previousSmooth);
            }
            (previousRaw, previousSmooth) = (raw, smooth);
        }
        double rawJitter = Math.Sqrt(rawSum / (frames - 31)), smoothJitter = Math.Sqrt(smoothSum / (frames - 31));
        TestContext.Current.TestOutputHelper?.WriteLine($"frame-to-frame jitter: raw {rawJitter:F3} px, smoothed {smoothJitter:F3} px");
        Assert.True(smoothJitter < 0.5 * rawJitter, $"smoothed jitter {smoothJitter:F3} px is not below half the raw {rawJitter:F3} px");
    }

    /// <summary>Constant speeds from slow to very fast: once settled, the lag is the documented
    /// v / (2π (MinCutoff + Beta·v/s)) within 1 %, and below s / (2π·Beta).</summary>
    [Theory]
    [InlineData(20.0)]
    [InlineData(200.0)]
    [InlineData(2000.0)]
    public void LagOfAConstantMotionIsTheDocumentedAmount(double pixelsPerSecond)
    {
        var filter = new OneEuroFilter();
        var parameters = new OneEuroParameters();
        double lag = 0;
        for (int i = 0; i < 600; i++)
        {
            double raw = pixelsPerSecond * i * Seconds;
            lag = raw - filter.Filter(raw, Seconds, PersonSize, parameters);
        }
        double documented = pixelsPerSecond / (2 * Math.PI * (parameters.MinCutoff + parameters.Beta * pixelsPerSecond / PersonSize));
        TestContext.Current.TestOutputHelper?.WriteLine($"{pixelsPerSecond} px/s on a {PersonSize} px person: lag {lag:F3} px, documented {documented:F3} px, bound {parameters.MaxLagFraction * PersonSize:F2} px");
        Assert.InRange(lag, 0.99 * documented, 1.01 * documented);
        Assert.True(lag < parameters.MaxLagFraction * PersonSize, $"lag {lag:F2} px beyond the bound");
    }

    [Fact]
    public void BadParametersAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneEuroParameters { MinCutoff = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneEuroParameters { Beta = double.NaN });
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneEuroParameters { DerivativeCutoff = double.PositiveInfinity });
    }
}
