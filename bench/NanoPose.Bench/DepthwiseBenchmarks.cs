using BenchmarkDotNet.Attributes;
using NanoPose.Bench.Infrastructure;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Depthwise;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench;

/// <summary>A depthwise layer of one of the networks, with the epilogue it runs (BN folded into the bias).</summary>
public sealed record DepthwiseShape(string Layer, int Height, int Width, int Channels, ConvGeometry Window, Activation Activation)
    : IWorkload
{
    public Nhwc Input => new(Height, Width, Channels);
    public Nhwc Output => Window.OutputShape(Input, Input.Channels);
    public double Flops => 2.0 * Output.Pixels * Channels * Window.KernelHeight * Window.KernelHeight;
    public double Bytes => 4.0 * (Input.Pixels * Channels + Channels * Window.KernelHeight * Window.KernelHeight + Output.Pixels * Channels);
    /// <summary>Short enough for BenchmarkDotNet's 20-character parameter column.</summary>
    public override string ToString() => $"k{Window.KernelHeight}s{Window.StrideY} {Channels}c {Height}x{Width}";
}

public class DepthwiseBenchmarks
{
    public static IEnumerable<DepthwiseShape> Shapes() =>
    [
        // Lite-HRNet-18 at 256×192 (A.5 CCW / A.6 naive depthwise: 3×3 s1 pad 1, BN, no activation).
        new("LiteHRNet", 64, 48, 20, ConvGeometry.Square(3, 1, Padding2d.Uniform(1)), Activation.None),
        new("LiteHRNet", 32, 24, 40, ConvGeometry.Square(3, 1, Padding2d.Uniform(1)), Activation.None),
        new("LiteHRNet", 16, 12, 80, ConvGeometry.Square(3, 1, Padding2d.Uniform(1)), Activation.None),
        new("LiteHRNet", 8, 6, 160, ConvGeometry.Square(3, 1, Padding2d.Uniform(1)), Activation.None),
        // Lite-HRNet stem depthwise (A.3): 3×3 s2 pad 1.
        new("LiteHRNet stem", 128, 96, 32, ConvGeometry.Square(3, 2, Padding2d.Uniform(1)), Activation.None),
        // EfficientNet MBConv depthwise units of EfficientHRNet (B.3): static same padding, BN, Swish.
        new("EfficientNet", 96, 96, 96, ConvGeometry.Square(3, 1, Padding2d.Same(3, 1)), Activation.SiLU),
        new("EfficientNet", 96, 96, 144, ConvGeometry.Square(5, 2, Padding2d.Same(5, 2)), Activation.SiLU),
        // The same units of EfficientHRNet H0 at 512×512, the biggest maps of all.
        new("EfficientNet H0", 256, 256, 96, ConvGeometry.Square(3, 2, Padding2d.Same(3, 2)), Activation.SiLU),
        new("EfficientNet H0", 128, 128, 144, ConvGeometry.Square(3, 1, Padding2d.Same(3, 1)), Activation.SiLU),
        new("EfficientNet H0", 128, 128, 144, ConvGeometry.Square(5, 2, Padding2d.Same(5, 2)), Activation.SiLU),
        new("EfficientNet", 24, 24, 672, ConvGeometry.Square(5, 1, Padding2d.Same(5, 1)), Activation.SiLU),
        // PicoDet-S at 320×320: the neck's and head's 5×5 stride-1 layers (pad 2, hard-swish).
        new("PicoDet neck", 40, 40, 192, ConvGeometry.Square(5, 1, Padding2d.Uniform(2)), Activation.HardSwish),
        new("PicoDet head", 40, 40, 96, ConvGeometry.Square(5, 1, Padding2d.Uniform(2)), Activation.HardSwish),
    ];

    public static IEnumerable<VectorWidth> Widths() => Isa.Supported.Where(w => w != VectorWidth.Scalar);

    [ParamsSource(nameof(Shapes))]
    public DepthwiseShape Shape { get; set; } = null!;

    [ParamsSource(nameof(Widths))]
    public VectorWidth Width { get; set; }

    float[] _input = [], _packed = [], _bias = [], _output = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        float Next() => (float)(random.NextDouble() * 2 - 1);
        int k = Shape.Window.KernelHeight;
        _input = new float[Shape.Input.RequiredLength];
        for (int i = 0; i < _input.Length; i++) _input[i] = Next();
        var weights = new float[Shape.Channels * k * k];
        for (int i = 0; i < weights.Length; i++) weights[i] = Next();
        _packed = new float[DepthwiseConv2d.PackedWeightLength(Shape.Channels, k)];
        DepthwiseConv2d.PackWeights(weights, Shape.Channels, k, _packed);
        _bias = new float[Shape.Channels];
        for (int i = 0; i < _bias.Length; i++) _bias[i] = Next();
        _output = new float[Shape.Output.RequiredLength];
    }

    [Benchmark]
    public void Depthwise() => DepthwiseConv2d.Run(Width, _input, Shape.Input, _packed, Shape.Window, _output, Shape.Output, Epilogue.With(_bias, Shape.Activation));
}
