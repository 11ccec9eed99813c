using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;

namespace NanoPose.Kernels.Tests.Convolution;

/// <summary>The oracle itself, against cases small enough to work out by hand.</summary>
public class ConvReferenceTests
{
    // 3×3 input 1..9, one channel; 3×3 kernel with a single centre-right tap of 2 and a top-left tap of 1.
    static readonly float[] Input = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    static readonly float[] Kernel = [1, 0, 0, 0, 0, 2, 0, 0, 0];

    [Fact]
    public void Conv3x3Pad1MatchesHandComputation()
    {
        // out(y, x) = in(y − 1, x − 1) + 2·in(y, x + 1), zero outside; then + bias 0.5 and ReLU.
        var output = new float[9];
        ConvReference.Conv2d(Input, new Nhwc(3, 3, 1), Kernel, ConvGeometry.Square(3, 1, 1), output, new Nhwc(3, 3, 1),
            Epilogue.With([-10.5f], Activation.ReLU), 0, 3);
        // Before the epilogue: [4, 6, 0, 10, 13, 2, 16, 22, 5]; minus 10.5, ReLU:
        Assert.Equal([0, 0, 0, 0, 2.5f, 0, 5.5f, 11.5f, 0], output);
    }

    [Fact]
    public void AsymmetricPaddingStrideAndResidualMatchHandComputation()
    {
        // Pad (top, left) 0 and (bottom, right) 1: out(y, x) = in(y, x) + 2·in(y + 1, x + 2); output 2×2.
        var output = new float[4];
        float[] residual = [100, 200, 300, 400];
        ConvReference.Conv2d(Input, new Nhwc(3, 3, 1), Kernel, new ConvGeometry(3, 3, 1, 1, new Padding2d(0, 0, 1, 1), 1), output, new Nhwc(2, 2, 1),
            new Epilogue { Residual = residual, ResidualPixelStride = 1 }, 0, 2);
        Assert.Equal([100 + 1 + 12, 200 + 2, 300 + 4 + 18, 400 + 5], output);

        // Stride 2, pad 1: windows start at −1 and 1, out(y, x) = in(2y − 1, 2x − 1) + 2·in(2y, 2x + 1).
        ConvReference.Conv2d(Input, new Nhwc(3, 3, 1), Kernel, ConvGeometry.Square(3, 2, 1), output, new Nhwc(2, 2, 1), Epilogue.None, 0, 2);
        Assert.Equal([2 * 2, 0, 2 * 8, 5], output);
    }

    [Fact]
    public void GroupsSeeOnlyTheirChannels()
    {
        // Two groups, 1×1: out0 = 2·in0, out1 = 3·in1.
        var output = new float[2];
        ConvReference.Conv2d([5, 7], new Nhwc(1, 1, 2), [2, 3], ConvGeometry.Pointwise(groups: 2), output, new Nhwc(1, 1, 2), Epilogue.None, 0, 1);
        Assert.Equal([10, 21], output);
    }

    [Fact]
    public void ActivationsMatchTheirDefinitions()
    {
        var output = new float[3];
        foreach (var (activation, f) in ((Activation, Func<float, float>)[])[
            (Activation.Sigmoid, x => 1 / (1 + MathF.Exp(-x))), (Activation.SiLU, x => x / (1 + MathF.Exp(-x))),
            (Activation.HardSwish, x => x * Math.Clamp(x + 3, 0, 6) / 6), (Activation.HardSigmoid, x => Math.Clamp(0.1666259765625f * x + 0.5f, 0, 1))])
        {
            ConvReference.Conv2d([-2, 0.5f, 3], new Nhwc(1, 3, 1), [1], ConvGeometry.Pointwise(), output, new Nhwc(1, 3, 1),
                Epilogue.With([], activation), 0, 1);
            Assert.Equal([f(-2), f(0.5f), f(3)], output);
        }
    }

    [Fact]
    public void TransposedConvolutionMatchesHandComputation()
    {
        // One input pixel of value 2 scatters the kernel's centre 2×2 (oy = 2·0 − 1 + ky): out(y, x) = 2·w(y + 1, x + 1).
        var weights = new float[16];
        for (int i = 0; i < 16; i++) weights[i] = i;
        var output = new float[4];
        ConvReference.ConvTranspose4x4Stride2([2], new Nhwc(1, 1, 1), weights, output, new Nhwc(2, 2, 1), Epilogue.With([1]), 0, 2);
        Assert.Equal([2 * 5 + 1, 2 * 6 + 1, 2 * 9 + 1, 2 * 10 + 1], output);

        // Two input columns [1, 10]: out(0, 2) gets w(1, 3) from column 0 (2·0 − 1 + 3) and w(1, 1) from column 1.
        var wide = new float[8];
        ConvReference.ConvTranspose4x4Stride2([1, 10], new Nhwc(1, 2, 1), weights, wide, new Nhwc(2, 4, 1), Epilogue.None, 0, 2);
        Assert.Equal(1 * 7 + 10 * 5, wide[2]);
        Assert.Equal(10 * 6, wide[3]);
    }
}
