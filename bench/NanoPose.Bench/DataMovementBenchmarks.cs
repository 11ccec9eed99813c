using BenchmarkDotNet.Attributes;
using NanoPose.Bench.Infrastructure;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.DataMovement;
using NanoPose.Kernels.Simd;

namespace NanoPose.Bench;

/// <summary>Lite-HRNet's concat + channel shuffle of the two branch halves, per branch at 256x192.</summary>
public class DataMovementBenchmarks
{
    public sealed record Shape(string Name, int Height, int Width, int Channels) : IWorkload
    {
        public double Flops => 0;
        public double Bytes => 8.0 * Height * Width * Channels;
        public override string ToString() => Name;
    }

    public static IEnumerable<Shape> Shapes =>
    [
        new("64x48x40", 64, 48, 40),
        new("32x24x80", 32, 24, 80),
        new("8x6x320", 8, 6, 320),
    ];

    [ParamsSource(nameof(Shapes))] public Shape Case = null!;
    [Params(VectorWidth.V256, VectorWidth.V512)] public VectorWidth Width;

    float[] input = [], output = [];
    Nhwc inputView, halfView;

    [GlobalSetup]
    public void Setup()
    {
        inputView = new Nhwc(Case.Height, Case.Width, Case.Channels);
        halfView = inputView with { Channels = Case.Channels / 2 };
        input = new float[inputView.RequiredLength];
        for (int i = 0; i < input.Length; i++) input[i] = i;
        output = new float[inputView.RequiredLength];
    }

    [Benchmark]
    public void ConcatShuffle() =>
        ChannelShuffle.ConcatShuffle2(input, halfView, input.AsSpan(halfView.Channels), halfView, output, inputView, Width);
}
