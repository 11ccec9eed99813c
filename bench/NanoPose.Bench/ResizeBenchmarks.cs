using BenchmarkDotNet.Attributes;
using NanoPose.Bench.Infrastructure;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Resize;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench;

/// <summary>IterativeHead bilinear x2 (align_corners), EfficientHRNet heatmap aggregation, fuse-layer nearest x2/x8.</summary>
public class ResizeBenchmarks
{
    public sealed record Shape(string Name, Nhwc Input, Nhwc Output, bool Bilinear) : IWorkload
    {
        // Bilinear: 4 multiplies and 3 adds per output float; nearest moves data only.
        public double Flops => Bilinear ? 7.0 * Output.Pixels * Output.Channels : 0;
        public double Bytes => 4.0 * (Input.Pixels * Input.Channels + Output.Pixels * Output.Channels);
        public override string ToString() => Name;
    }

    public static IEnumerable<Shape> Shapes =>
    [
        new("bilinear 8x6x160->16x12", new Nhwc(8, 6, 160), new Nhwc(16, 12, 160), true),
        new("bilinear 32x24x40->64x48", new Nhwc(32, 24, 40), new Nhwc(64, 48, 40), true),
        new("bilinear 128x128x34->256x256", new Nhwc(128, 128, 34), new Nhwc(256, 256, 34), true),
        new("nearest 32x24x40->64x48", new Nhwc(32, 24, 40), new Nhwc(64, 48, 40), false),
        new("nearest 8x6x40->64x48", new Nhwc(8, 6, 40), new Nhwc(64, 48, 40), false),
    ];

    [ParamsSource(nameof(Shapes))] public Shape Case = null!;
    [Params(VectorWidth.V256, VectorWidth.V512)] public VectorWidth Width;

    float[] input = [], output = [];

    [GlobalSetup]
    public void Setup()
    {
        input = new float[Case.Input.RequiredLength];
        for (int i = 0; i < input.Length; i++) input[i] = i % 17 * 0.1f;
        output = new float[Case.Output.RequiredLength];
    }

    [Benchmark]
    public void Resize()
    {
        if (Case.Bilinear)
            BilinearResize.Resize(input, Case.Input, output, Case.Output, alignCorners: true, Width);
        else
            NearestResize.ResizeToSize(input, Case.Input, output, Case.Output, Width);
    }
}
