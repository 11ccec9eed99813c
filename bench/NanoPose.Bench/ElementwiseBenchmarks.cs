using BenchmarkDotNet.Attributes;
using NanoPose.Bench.Infrastructure;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Elementwise;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench;

/// <summary>Lite-HRNet's weightings on the second half of a branch (pixel stride 2C), in place: cross-resolution
/// weights nearest-upsampled from 8x6 and fused with the multiply, and the per-channel spatial weighting.</summary>
public class ElementwiseBenchmarks
{
    public sealed record Shape(string Name, Nhwc Half) : IWorkload
    {
        public double Flops => (double)Half.Pixels * Half.Channels;
        public double Bytes => 8.0 * Half.Pixels * Half.Channels;
        public override string ToString() => Name;
    }

    public static IEnumerable<Shape> Shapes =>
    [
        new("64x48x20/40", new Nhwc(64, 48, 20, 40)),
        new("32x24x40/80", new Nhwc(32, 24, 40, 80)),
        new("16x12x80/160", new Nhwc(16, 12, 80, 160)),
    ];

    [ParamsSource(nameof(Shapes))] public Shape Case = null!;
    [Params(VectorWidth.V256, VectorWidth.V512)] public VectorWidth Width;

    float[] data = [], weights = [], scale = [];
    Nhwc weightsView;

    [GlobalSetup]
    public void Setup()
    {
        data = new float[Case.Half.RequiredLength];
        for (int i = 0; i < data.Length; i++) data[i] = 1f;
        weightsView = new Nhwc(8, 6, Case.Half.Channels);
        weights = new float[weightsView.RequiredLength];
        for (int i = 0; i < weights.Length; i++) weights[i] = 1f;
        scale = new float[Case.Half.Channels];
        Array.Fill(scale, 1f);
    }

    [Benchmark]
    public void CrossResolutionWeighting() => Arithmetic.MultiplyByNearestUpsampled(data, Case.Half, weights, weightsView, data, Case.Half, Width);

    [Benchmark]
    public void SpatialWeighting() => Arithmetic.ScaleChannels(data, Case.Half, scale, data, Case.Half, Width);
}
