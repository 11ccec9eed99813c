using BenchmarkDotNet.Attributes;
using NanoPose.Bench.Infrastructure;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench;

/// <summary>One dense convolution layer of the networks; <see cref="Transposed"/> means the 4×4 stride-2 deconv.</summary>
public sealed record ConvLayer(string Name, int Height, int Width, int InChannels, int OutChannels, ConvGeometry Geometry, bool Transposed = false)
    : IWorkload
{
    public Nhwc InputShape => new(Height, Width, InChannels);

    public Nhwc OutputShape => Transposed
        ? new(2 * Height, 2 * Width, OutChannels)
        : new(Geometry.OutputHeight(Height), Geometry.OutputWidth(Width), OutChannels);

    int WeightCount => Transposed ? InChannels * OutChannels * 16
        : OutChannels * InChannels / Geometry.Groups * Geometry.KernelHeight * Geometry.KernelWidth;

    /// <summary>Each output element sums 4·Cin products for the deconv (one parity class), Cin/g·kh·kw otherwise.</summary>
    public double Flops => 2.0 * OutputShape.Pixels * OutChannels * (Transposed ? 4 * InChannels : WeightCount / OutChannels);

    public double Bytes => 4.0 * (InputShape.RequiredLength + WeightCount + OutputShape.RequiredLength);

    public override string ToString() => Name;
}

public class ConvolutionBenchmarks
{
    public static IEnumerable<ConvLayer> Layers =>
    [
        new("3x3 32-32 128x128", 128, 128, 32, 32, ConvGeometry.Square(3, 1, 1)),
        new("1x1 256-256 16x16", 16, 16, 256, 256, ConvGeometry.Pointwise()),
        new("1x1 40-40 64x48", 64, 48, 40, 40, ConvGeometry.Pointwise()),
        new("1x1 20-20 64x48", 64, 48, 20, 20, ConvGeometry.Pointwise()),
        new("1x1 160-160 8x6", 8, 6, 160, 160, ConvGeometry.Pointwise()),
        new("stem s2 3-32 256x192", 256, 192, 3, 32, ConvGeometry.Square(3, 2, 1)),
        new("effnet s2 3-32 384", 384, 384, 3, 32, new ConvGeometry(3, 3, 2, 2, new Padding2d(0, 0, 1, 1), 1)),
        new("1x1 24-144 96x96", 96, 96, 24, 144, ConvGeometry.Pointwise()),
        // EfficientHRNet H0 at 512×512: the stage-2 expand (B.3) right after the stem.
        new("1x1 16-96 256x256", 256, 256, 16, 96, ConvGeometry.Pointwise()),
        // EfficientHRNet H−4 at 384×384: the 14-channel blocks after the deconvolution (the most 3×3 time there).
        new("3x3 14-14 192x192", 192, 192, 14, 14, ConvGeometry.Square(3, 1, 1)),
        new("3x3 27-27 48x48", 48, 48, 27, 27, ConvGeometry.Square(3, 1, 1)),
        new("deconv 66-32 128", 128, 128, 32 + 34, 32, ConvGeometry.Square(4, 2, 1), Transposed: true),
    ];

    public static IEnumerable<VectorWidth> Widths => Isa.Supported.Where(w => w != VectorWidth.Scalar);

    [ParamsSource(nameof(Layers))] public ConvLayer Layer { get; set; } = null!;
    [ParamsSource(nameof(Widths))] public VectorWidth Width { get; set; }

    float[] _input = [], _packed = [], _bias = [], _output = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _input = new float[Layer.InputShape.RequiredLength];
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)rng.NextDouble() - 0.5f;
        var weights = new float[Layer.Transposed ? Layer.InChannels * Layer.OutChannels * 16
            : Layer.OutChannels * Layer.InChannels / Layer.Geometry.Groups * Layer.Geometry.KernelHeight * Layer.Geometry.KernelWidth];
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)rng.NextDouble() - 0.5f;
        if (Layer.Transposed)
        {
            _packed = new float[Deconv4x4Stride2.PackedWeightsLength(Width, Layer.InChannels, Layer.OutChannels)];
            Deconv4x4Stride2.PackWeights(Width, weights, Layer.InChannels, Layer.OutChannels, _packed);
        }
        else
        {
            _packed = new float[Conv2d.PackedWeightsLength(Width, Layer.OutChannels, Layer.InChannels, Layer.Geometry)];
            Conv2d.PackWeights(Width, weights, Layer.OutChannels, Layer.InChannels, Layer.Geometry, _packed);
        }
        _bias = new float[Layer.OutChannels];
        _output = new float[Layer.OutputShape.RequiredLength];
    }

    /// <summary>Conv + bias + ReLU, the common fused form.</summary>
    [Benchmark]
    public void Convolution()
    {
        var epilogue = Epilogue.With(_bias, Activation.ReLU);
        if (Layer.Transposed)
            Deconv4x4Stride2.Run(Width, _input, Layer.InputShape, _packed, _output, Layer.OutputShape, epilogue);
        else
            Conv2d.Run(Width, _input, Layer.InputShape, _packed, Layer.Geometry, _output, Layer.OutputShape, epilogue);
    }
}

/// <summary>Which kernel runs a dense 3×3 stride-1 layer in <see cref="WinogradBenchmarks"/>.</summary>
public enum Conv3x3Kernel { Direct, F2x2, F4x4 }

/// <summary>
/// The dense 3×3 stride-1 layers of EfficientHRNet H0 (512×512: branches at 128, 64, 32, 16) and H−4 (384×384, and
/// the 14-channel blocks after the deconvolution at 192) by the direct kernel and by Winograd F(2×2) and F(4×4), with
/// bias + ReLU, at the widest width. GFLOP/s count the direct convolution's multiply-adds (9·Cin per output), so the
/// rows compare as time.
/// <code>dotnet run -c Release --project bench/NanoPose.Bench -- --filter '*WinogradBenchmarks*' --job short --inProcess</code>
/// </summary>
public class WinogradBenchmarks
{
    public static IEnumerable<ConvLayer> Layers =>
    [
        new("H0 3x3 32-32 128x128", 128, 128, 32, 32, ConvGeometry.Square(3, 1, 1)),
        new("H0 3x3 64-64 64x64", 64, 64, 64, 64, ConvGeometry.Square(3, 1, 1)),
        new("H0 3x3 128-128 32x32", 32, 32, 128, 128, ConvGeometry.Square(3, 1, 1)),
        new("H0 3x3 256-256 16x16", 16, 16, 256, 256, ConvGeometry.Square(3, 1, 1)),
        new("H-4 3x3 14-14 192x192", 192, 192, 14, 14, ConvGeometry.Square(3, 1, 1)),
        new("H-4 3x3 14-14 96x96", 96, 96, 14, 14, ConvGeometry.Square(3, 1, 1)),
        new("H-4 3x3 27-27 48x48", 48, 48, 27, 27, ConvGeometry.Square(3, 1, 1)),
        new("H-4 3x3 54-54 24x24", 24, 24, 54, 54, ConvGeometry.Square(3, 1, 1)),
        new("H-4 3x3 107-107 12x12", 12, 12, 107, 107, ConvGeometry.Square(3, 1, 1)),
    ];

    [ParamsSource(nameof(Layers))] public ConvLayer Layer { get; set; } = null!;
    [Params(Conv3x3Kernel.Direct, Conv3x3Kernel.F2x2, Conv3x3Kernel.F4x4)] public Conv3x3Kernel Kernel { get; set; }

    readonly VectorWidth _width = Isa.Best;
    float[] _input = [], _packed = [], _bias = [], _output = [], _scratch = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _input = new float[Layer.InputShape.RequiredLength];
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)rng.NextDouble() - 0.5f;
        var weights = new float[Layer.OutChannels * Layer.InChannels * 9];
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)rng.NextDouble() - 0.5f;
        if (Kernel == Conv3x3Kernel.Direct)
        {
            _packed = new float[Conv2d.PackedWeightsLength(_width, Layer.OutChannels, Layer.InChannels, Layer.Geometry)];
            Conv2d.PackWeights(_width, weights, Layer.OutChannels, Layer.InChannels, Layer.Geometry, _packed);
        }
        else
        {
            var tile = Tile;
            _packed = new float[Winograd.PackedWeightsLength(_width, tile, Layer.OutChannels, Layer.InChannels)];
            Winograd.PackWeights(_width, tile, weights, Layer.OutChannels, Layer.InChannels, _packed);
            _scratch = new float[Winograd.ScratchLength(_width, tile, Layer.OutChannels, Layer.InChannels)];
        }
        _bias = new float[Layer.OutChannels];
        _output = new float[Layer.OutputShape.RequiredLength];
    }

    WinogradTile Tile => Kernel == Conv3x3Kernel.F2x2 ? WinogradTile.F2x2 : WinogradTile.F4x4;

    [Benchmark]
    public void Convolution()
    {
        var epilogue = Epilogue.With(_bias, Activation.ReLU);
        if (Kernel == Conv3x3Kernel.Direct)
            Conv2d.Run(_width, _input, Layer.InputShape, _packed, Layer.Geometry, _output, Layer.OutputShape, epilogue);
        else
            Winograd.Run(_width, Tile, _input, Layer.InputShape, _packed, Layer.Geometry, _output, Layer.OutputShape, epilogue, _scratch);
    }
}
