using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using NanoPose.Bench.Infrastructure;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;
using NanoPose.Kernels.Depthwise;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench.LayoutStudy;

// The layout study: the same operator on the same real layer shapes (Lite-HRNet 64×48 … 8×6, EfficientHRNet
// H0 128×128) in each candidate layout, one benchmark method per layout and width. Every candidate is checked
// against LayoutReference on the benchmark's own data in [GlobalSetup] and the run fails if it is off by more
// than 1e-3. The NHWC methods run the engine's own kernels (weights packed once, untimed, like the engine does
// at load).
// One class per operator because NCHWc is only a candidate for the depthwise convolution.

/// <summary>A stride-1 convolution with padding (k-1)/2: k×k, Cin→Cout, at H×W.</summary>
public sealed record ConvShape(int InChannels, int OutChannels, int Height, int Width, int KernelSize) : IWorkload
{
    public int Pixels => Height * Width;
    public double Flops => 2.0 * InChannels * OutChannels * KernelSize * KernelSize * Pixels;
    public double Bytes => 4.0 * (InChannels * Pixels + OutChannels * InChannels * KernelSize * KernelSize + OutChannels + OutChannels * Pixels);
    public override string ToString() => $"{KernelSize}x{KernelSize} {InChannels}->{OutChannels} @{Height}x{Width}";
}

/// <summary>A depthwise 3×3, stride 1, padding 1, on C channels at H×W.</summary>
public sealed record DepthwiseShape(int Channels, int Height, int Width) : IWorkload
{
    public int Pixels => Height * Width;
    public double Flops => 2.0 * 9 * Channels * Pixels;
    public double Bytes => 4.0 * (2 * Channels * Pixels + 10 * Channels);
    public override string ToString() => $"dw3x3 {Channels} @{Height}x{Width}";
}

/// <summary>Seeded data and the candidate-versus-reference check shared by the layout benchmarks.</summary>
static class LayoutCheck
{
    public const float Tolerance = 1e-3f;

    public static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() * 2f - 1f;
        return data;
    }

    /// <summary>The engine's NHWC convolution, weights packed for <paramref name="width"/>.</summary>
    public sealed class NhwcConv
    {
        readonly VectorWidth width;
        readonly ConvGeometry geometry;
        readonly float[] packed, bias;
        readonly Nhwc inputShape, outputShape;

        public NhwcConv(VectorWidth width, ConvShape s, float[] weights, float[] bias)
        {
            (this.width, this.bias) = (width, bias);
            geometry = ConvGeometry.Square(s.KernelSize, 1, (s.KernelSize - 1) / 2);
            packed = new float[Conv2d.PackedWeightsLength(width, s.OutChannels, s.InChannels, geometry)];
            Conv2d.PackWeights(width, weights, s.OutChannels, s.InChannels, geometry, packed);
            (inputShape, outputShape) = (new Nhwc(s.Height, s.Width, s.InChannels), new Nhwc(s.Height, s.Width, s.OutChannels));
        }

        public void Run(float[] input, float[] output) =>
            Conv2d.Run(width, input, inputShape, packed, geometry, output, outputShape, Epilogue.With(bias, Activation.ReLU));
    }

    /// <summary>Throws unless <paramref name="actual"/> is within <see cref="Tolerance"/> of <paramref name="expected"/> everywhere.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string candidate, object shape)
    {
        if (expected.Length != actual.Length)
            throw new InvalidOperationException($"{candidate} on {shape}: {actual.Length} outputs, expected {expected.Length}.");
        float worst = 0f;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float difference = MathF.Abs(expected[i] - actual[i]);
            if (!(difference <= worst)) { worst = difference; at = i; }
        }
        if (!(worst <= Tolerance))
            throw new InvalidOperationException(
                $"{candidate} on {shape}: max |difference| {worst} at {at} (expected {expected[at]}, found {actual[at]}) exceeds {Tolerance}.");
    }
}

public class LayoutConv1x1Benchmarks
{
    public static IEnumerable<ConvShape> Shapes =>
    [
        new(20, 20, 64, 48, 1), new(40, 40, 64, 48, 1), new(80, 80, 16, 12, 1),
        new(160, 160, 8, 6, 1), new(256, 256, 16, 16, 1),
    ];

    [ParamsSource(nameof(Shapes))]
    public ConvShape Shape { get; set; } = null!;

    float[] input = [], weights = [], bias = [], output = [], nhwcInput = [], nhwcOutput = [];

    [GlobalSetup]
    public void Setup()
    {
        var s = Shape;
        input = LayoutCheck.Random(s.InChannels * s.Pixels, 1);
        weights = LayoutCheck.Random(s.OutChannels * s.InChannels, 2);
        bias = LayoutCheck.Random(s.OutChannels, 3);
        output = new float[s.OutChannels * s.Pixels];
        var expected = new float[output.Length];
        LayoutReference.Conv1x1Nchw(input, weights, bias, expected, s.InChannels, s.OutChannels, s.Pixels);
        Nchw_V512();
        LayoutCheck.AssertClose(expected, output, nameof(Nchw_V512), s);
        Nchw_V256();
        LayoutCheck.AssertClose(expected, output, nameof(Nchw_V256), s);
        nhwcInput = ChannelBlocks.ToBlocked(input, s.InChannels, s.Pixels, s.InChannels);
        nhwcOutput = new float[s.OutChannels * s.Pixels];
        nhwc512 = new LayoutCheck.NhwcConv(VectorWidth.V512, s, weights, bias);
        nhwc256 = new LayoutCheck.NhwcConv(VectorWidth.V256, s, weights, bias);
        Nhwc_V512();
        LayoutCheck.AssertClose(expected, ChannelBlocks.ToPlanar(nhwcOutput, s.OutChannels, s.Pixels, s.OutChannels), nameof(Nhwc_V512), s);
        Nhwc_V256();
        LayoutCheck.AssertClose(expected, ChannelBlocks.ToPlanar(nhwcOutput, s.OutChannels, s.Pixels, s.OutChannels), nameof(Nhwc_V256), s);
    }

    LayoutCheck.NhwcConv nhwc512 = null!, nhwc256 = null!;

    [Benchmark]
    public void Nhwc_V512() => nhwc512.Run(nhwcInput, nhwcOutput);

    [Benchmark]
    public void Nhwc_V256() => nhwc256.Run(nhwcInput, nhwcOutput);

    [Benchmark]
    public void Nchw_V512() =>
        NchwConv1x1.Run<V512, Vector512<float>>(input, weights, bias, output, Shape.InChannels, Shape.OutChannels, Shape.Pixels);

    [Benchmark]
    public void Nchw_V256() =>
        NchwConv1x1.Run<V256, Vector256<float>>(input, weights, bias, output, Shape.InChannels, Shape.OutChannels, Shape.Pixels);
}

public class LayoutConv3x3Benchmarks
{
    public static IEnumerable<ConvShape> Shapes => [new(32, 32, 128, 128, 3), new(40, 40, 64, 48, 3)];

    [ParamsSource(nameof(Shapes))]
    public ConvShape Shape { get; set; } = null!;

    float[] input = [], weights = [], bias = [], output = [], nhwcInput = [], nhwcOutput = [], scratch = [];

    [GlobalSetup]
    public void Setup()
    {
        var s = Shape;
        input = LayoutCheck.Random(s.InChannels * s.Pixels, 1);
        weights = LayoutCheck.Random(s.OutChannels * s.InChannels * 9, 2);
        bias = LayoutCheck.Random(s.OutChannels, 3);
        output = new float[s.OutChannels * s.Pixels];
        scratch = new float[NchwConv3x3.ScratchLength(s.InChannels, s.Height, s.Width)];
        var expected = new float[output.Length];
        LayoutReference.Conv3x3Nchw(input, weights, bias, expected, s.InChannels, s.OutChannels, s.Height, s.Width);
        Nchw_V512();
        LayoutCheck.AssertClose(expected, output, nameof(Nchw_V512), s);
        Nchw_V256();
        LayoutCheck.AssertClose(expected, output, nameof(Nchw_V256), s);
        nhwcInput = ChannelBlocks.ToBlocked(input, s.InChannels, s.Pixels, s.InChannels);
        nhwcOutput = new float[s.OutChannels * s.Pixels];
        nhwc512 = new LayoutCheck.NhwcConv(VectorWidth.V512, s, weights, bias);
        nhwc256 = new LayoutCheck.NhwcConv(VectorWidth.V256, s, weights, bias);
        Nhwc_V512();
        LayoutCheck.AssertClose(expected, ChannelBlocks.ToPlanar(nhwcOutput, s.OutChannels, s.Pixels, s.OutChannels), nameof(Nhwc_V512), s);
        Nhwc_V256();
        LayoutCheck.AssertClose(expected, ChannelBlocks.ToPlanar(nhwcOutput, s.OutChannels, s.Pixels, s.OutChannels), nameof(Nhwc_V256), s);
    }

    LayoutCheck.NhwcConv nhwc512 = null!, nhwc256 = null!;

    [Benchmark]
    public void Nhwc_V512() => nhwc512.Run(nhwcInput, nhwcOutput);

    [Benchmark]
    public void Nhwc_V256() => nhwc256.Run(nhwcInput, nhwcOutput);

    [Benchmark]
    public void Nchw_V512() => NchwConv3x3.Run<V512, Vector512<float>>(
        input, weights, bias, output, scratch, Shape.InChannels, Shape.OutChannels, Shape.Height, Shape.Width);

    [Benchmark]
    public void Nchw_V256() => NchwConv3x3.Run<V256, Vector256<float>>(
        input, weights, bias, output, scratch, Shape.InChannels, Shape.OutChannels, Shape.Height, Shape.Width);
}

public class LayoutDepthwise3x3Benchmarks
{
    public static IEnumerable<DepthwiseShape> Shapes => [new(20, 64, 48), new(40, 32, 24), new(160, 8, 6), new(32, 128, 128)];

    [ParamsSource(nameof(Shapes))]
    public DepthwiseShape Shape { get; set; } = null!;

    float[] input = [], weights = [], bias = [], output = [], scratch = [], nhwcInput = [], nhwcWeights = [], nhwcOutput = [];

    /// <summary>The same data blocked by 16 (Vector512) and by 8 (Vector256).</summary>
    Blocked c16 = null!, c8 = null!;

    sealed record Blocked(float[] Input, float[] Weights, float[] Bias, float[] Output);

    [GlobalSetup]
    public void Setup()
    {
        var s = Shape;
        input = LayoutCheck.Random(s.Channels * s.Pixels, 1);
        weights = LayoutCheck.Random(s.Channels * 9, 2);
        bias = LayoutCheck.Random(s.Channels, 3);
        output = new float[s.Channels * s.Pixels];
        scratch = new float[NchwDepthwise3x3.ScratchLength(s.Height, s.Width)];
        c16 = Block(16);
        c8 = Block(8);
        var expected = new float[output.Length];
        LayoutReference.Depthwise3x3Nchw(input, weights, bias, expected, s.Channels, s.Height, s.Width);
        Nchw_V512();
        LayoutCheck.AssertClose(expected, output, nameof(Nchw_V512), s);
        Nchw_V256();
        LayoutCheck.AssertClose(expected, output, nameof(Nchw_V256), s);
        Nchwc16_V512();
        LayoutCheck.AssertClose(expected, ChannelBlocks.ToPlanar(c16.Output, s.Channels, s.Pixels, 16), nameof(Nchwc16_V512), s);
        Nchwc8_V256();
        LayoutCheck.AssertClose(expected, ChannelBlocks.ToPlanar(c8.Output, s.Channels, s.Pixels, 8), nameof(Nchwc8_V256), s);
        nhwcInput = ChannelBlocks.ToBlocked(input, s.Channels, s.Pixels, s.Channels);
        nhwcOutput = new float[s.Channels * s.Pixels];
        nhwcWeights = new float[DepthwiseConv2d.PackedWeightLength(s.Channels, 3)];
        DepthwiseConv2d.PackWeights(weights, s.Channels, 3, nhwcWeights);
        Nhwc_V512();
        LayoutCheck.AssertClose(expected, ChannelBlocks.ToPlanar(nhwcOutput, s.Channels, s.Pixels, s.Channels), nameof(Nhwc_V512), s);
        Nhwc_V256();
        LayoutCheck.AssertClose(expected, ChannelBlocks.ToPlanar(nhwcOutput, s.Channels, s.Pixels, s.Channels), nameof(Nhwc_V256), s);
    }

    void RunNhwc(VectorWidth width)
    {
        var shape = new Nhwc(Shape.Height, Shape.Width, Shape.Channels);
        DepthwiseConv2d.Run(width, nhwcInput, shape, nhwcWeights, ConvGeometry.Square(3, 1, 1), nhwcOutput, shape, Epilogue.With(bias));
    }

    [Benchmark]
    public void Nhwc_V512() => RunNhwc(VectorWidth.V512);

    [Benchmark]
    public void Nhwc_V256() => RunNhwc(VectorWidth.V256);

    Blocked Block(int block) => new(
        ChannelBlocks.ToBlocked(input, Shape.Channels, Shape.Pixels, block),
        ChannelBlocks.ToBlocked(weights, Shape.Channels, 9, block),
        ChannelBlocks.ToBlocked(bias, Shape.Channels, 1, block),
        new float[ChannelBlocks.BlockCount(Shape.Channels, block) * Shape.Pixels * block]);

    [Benchmark]
    public void Nchw_V512() => NchwDepthwise3x3.Run<V512, Vector512<float>>(
        input, weights, bias, output, scratch, Shape.Channels, Shape.Height, Shape.Width);

    [Benchmark]
    public void Nchw_V256() => NchwDepthwise3x3.Run<V256, Vector256<float>>(
        input, weights, bias, output, scratch, Shape.Channels, Shape.Height, Shape.Width);

    [Benchmark]
    public void Nchwc16_V512() => NchwcDepthwise3x3.Run<V512, Vector512<float>>(
        c16.Input, c16.Weights, c16.Bias, c16.Output, Shape.Channels, Shape.Height, Shape.Width);

    [Benchmark]
    public void Nchwc8_V256() => NchwcDepthwise3x3.Run<V256, Vector256<float>>(
        c8.Input, c8.Weights, c8.Bias, c8.Output, Shape.Channels, Shape.Height, Shape.Width);
}
