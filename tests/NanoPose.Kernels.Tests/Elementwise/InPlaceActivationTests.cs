using NanoPose.Kernels.Common;
using NanoPose.Kernels.Elementwise;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;
using static NanoPose.Kernels.Tests.Infrastructure.ViewBuffers;

namespace NanoPose.Kernels.Tests.Elementwise;

public class InPlaceActivationTests
{
    [Fact]
    public void ReferenceAppliesByHand()
    {
        float[] data = [-2, 0, 3];
        InPlaceActivation.ApplyReference(data, new Nhwc(1, 1, 3), Activation.ReLU);
        Assert.Equal([0f, 0, 3], data);
        data = [0, 2];
        InPlaceActivation.ApplyReference(data, new Nhwc(1, 2, 1), Activation.Sigmoid);
        Assert.Equal([0.5f, 1f / (1f + MathF.Exp(-2f))], data);
        data = [0, 2];
        InPlaceActivation.ApplyReference(data, new Nhwc(1, 2, 1), Activation.SiLU);
        Assert.Equal([0f, 2f / (1f + MathF.Exp(-2f))], data);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void MatchesReferenceForEveryChannelCountDenseAndStrided(VectorWidth width)
    {
        foreach (var activation in Enum.GetValues<Activation>())
            for (int channels = 1; channels <= 33; channels++)
                foreach (int padding in new[] { 0, 1, channels })
                    AssertActivation(View(3, 4, channels, padding), activation, channels, width);
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void MatchesReferenceOnNetworkShapes(VectorWidth width)
    {
        AssertActivation(new Nhwc(64, 48, 20, 40), Activation.Sigmoid, 1, width);
        AssertActivation(View(64, 48, 40), Activation.ReLU, 2, width);
        AssertActivation(View(32, 32, 48, 16), Activation.SiLU, 3, width);
        AssertActivation(View(40, 40, 96, 0), Activation.HardSwish, 4, width);
        AssertActivation(new Nhwc(1, 1, 384), Activation.HardSigmoid, 5, width);
    }

    static void AssertActivation(Nhwc view, Activation activation, int seed, VectorWidth width)
    {
        var data = Random(view, seed, scale: 8f);
        var expected = Copy(data);
        InPlaceActivation.ApplyReference(expected, view, activation);
        InPlaceActivation.Apply(data, view, activation, width);
        string context = $"{activation} {view}";
        if (activation is Activation.ReLU or Activation.None) Tolerance.AssertExact(expected, data, context);
        else Tolerance.AssertClose(expected, data, 1, context);
    }
}
