using BenchmarkDotNet.Attributes;
using NanoPose.Bench.Infrastructure;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Pooling;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench;

/// <summary>Lite-HRNet's poolings at 256x192: cross-resolution (branch halves to 8x6) and spatial weighting (global).</summary>
public class PoolingBenchmarks
{
    public sealed record Shape(string Name, Nhwc Input, int OutHeight, int OutWidth) : IWorkload
    {
        public double Flops => (double)Input.Pixels * Input.Channels;
        public double Bytes => 4.0 * Input.Channels * (Input.Pixels + OutHeight * OutWidth);
        public override string ToString() => Name;
    }

    public static IEnumerable<Shape> Shapes =>
    [
        new("64x48x20/40->8x6", new Nhwc(64, 48, 20, 40), 8, 6),
        new("32x24x40/80->8x6", new Nhwc(32, 24, 40, 80), 8, 6),
        new("64x48x20/40->1x1", new Nhwc(64, 48, 20, 40), 1, 1),
        new("8x6x160/320->1x1", new Nhwc(8, 6, 160, 320), 1, 1),
    ];

    [ParamsSource(nameof(Shapes))] public Shape Case = null!;
    [Params(VectorWidth.V256, VectorWidth.V512)] public VectorWidth Width;

    float[] input = [], output = [];

    [GlobalSetup]
    public void Setup()
    {
        input = new float[Case.Input.RequiredLength];
        for (int i = 0; i < input.Length; i++) input[i] = i % 17 * 0.1f;
        output = new float[Case.OutHeight * Case.OutWidth * Case.Input.Channels];
    }

    [Benchmark]
    public void AdaptiveAverage() =>
        AveragePooling.Adaptive(input, Case.Input, output, new Nhwc(Case.OutHeight, Case.OutWidth, Case.Input.Channels), Width);
}
