using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;

namespace NanoPose.Kernels.Tests.Convolution;

/// <summary>
/// Winograd F(2×2, 3×3) and F(4×4, 3×3) against the direct convolution's reference (<see cref="ConvReference"/>) on
/// odd sizes, maps smaller than a tile, channel tails, per-side paddings, strided views, residuals, activations and
/// row ranges, at the scalar twin and every vector width; and every vector width against the scalar twin.
/// The transforms round differently from the direct sum, so the bound is looser than the direct kernels' one:
/// |e − a| ≤ <see cref="Bound"/>·max(1, |e|) with inputs in [−1, 1] and weights in ±1/√(9·Cin); each test prints the
/// largest error it saw, per variant.
/// </summary>
public class WinogradTests(ITestOutputHelper output)
{
    static readonly WinogradTile[] Tiles = [WinogradTile.F2x2, WinogradTile.F4x4];

    /// <summary>Measured worst errors over these tests at every width: F2x2 8.3e-7, F4x4 3.6e-6; the bounds leave ×5.</summary>
    static double Bound(WinogradTile tile) => tile == WinogradTile.F2x2 ? 5e-6 : 2e-5;

    public static TheoryData<VectorWidth> AllWidths => new(VectorWidth.Scalar, VectorWidth.V128, VectorWidth.V256, VectorWidth.V512);

    [Theory, MemberData(nameof(AllWidths))]
    public void SizesPaddingsAndChannelTails(VectorWidth width)
    {
        var worst = new Dictionary<WinogradTile, double>();
        int seed = 0, cases = 0;
        (int H, int W)[] sizes = [(1, 1), (1, 2), (2, 3), (3, 3), (4, 4), (5, 7), (6, 6), (7, 9), (9, 13), (13, 6)];
        Padding2d[] paddings = [Padding2d.Uniform(1), Padding2d.Uniform(0), new(0, 0, 1, 1), new(1, 0, 0, 2), new(2, 1, 0, 2), new(3, 3, 3, 3)];
        (int In, int Out)[] channels = [(1, 1), (3, 7), (5, 16), (17, 19), (33, 40)];
        foreach (var (h, w) in sizes)
            foreach (var padding in paddings)
            {
                if (h + padding.Top + padding.Bottom < 3 || w + padding.Left + padding.Right < 3) continue;
                var (cin, cout) = channels[seed % channels.Length];
                var c = new ConvCase(h, w, cin, cout, new ConvGeometry(3, 3, 1, 1, padding, 1),
                    (Activation)(seed % 6), Bias: seed % 3 != 0, Residual: seed % 2 == 0);
                foreach (var tile in Tiles) Record(worst, tile, Check(c, width, tile, ++seed));
                cases++;
            }
        foreach (var (cin, cout) in channels)
            foreach (var tile in Tiles)
                Record(worst, tile, Check(new ConvCase(11, 10, cin, cout, ConvGeometry.Square(3, 1, 1), Activation.ReLU), width, tile, ++seed));
        Report(width, cases + channels.Length, worst);
    }

    [Theory, MemberData(nameof(AllWidths))]
    public void StridedViewsActivationsResidualsAndManyChunks(VectorWidth width)
    {
        var worst = new Dictionary<WinogradTile, double>();
        int seed = 100, cases = 0;
        foreach (var activation in Enum.GetValues<Activation>())
            foreach (bool residual in (bool[])[false, true])
            {
                var c = new ConvCase(7, 10, 13, 21, ConvGeometry.Square(3, 1, 1), activation, Bias: !residual, Residual: residual,
                    InputExtra: 5, OutputExtra: 3, ResidualExtra: 7);
                foreach (var tile in Tiles) Record(worst, tile, Check(c, width, tile, ++seed));
                cases++;
            }
        // Hundreds of tiles: several chunks, the last one partial.
        var large = new ConvCase(37, 41, 8, 9, ConvGeometry.Square(3, 1, 1), Activation.SiLU, Residual: true);
        foreach (var tile in Tiles) Record(worst, tile, Check(large, width, tile, ++seed));
        Report(width, cases + 1, worst);
    }

    [Theory, MemberData(nameof(AllWidths))]
    public void RowRangesWriteOnlyTheirRows(VectorWidth width)
    {
        var c = new ConvCase(9, 7, 6, 18, ConvGeometry.Square(3, 1, 1), Activation.ReLU, Residual: true, OutputExtra: 2);
        foreach (var tile in Tiles)
            for (int start = 0; start <= c.OutputShape.Height; start++)
                for (int end = start; end <= Math.Min(c.OutputShape.Height, start + 5); end++)
                {
                    var data = new ConvCase.Data(c, start);
                    var expected = data.FreshOutput();
                    ConvReference.Conv2d(data.Input, c.InputShape, data.Weights, c.Geometry, expected, c.OutputShape, data.Epilogue(c.Activation), start, end);
                    var actual = data.FreshOutput();
                    RunWinograd(c, data, width, tile, actual, start, end);
                    AssertClose(expected, actual, Bound(tile), $"{width} {tile} rows [{start},{end}) {c}");
                }
    }

    /// <summary>Each vector width computes what the scalar twin does, up to summation order (the direct kernels' bound).</summary>
    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void VectorWidthsMatchTheScalarTwin(VectorWidth width)
    {
        foreach (var tile in Tiles)
            foreach (var c in (ConvCase[])[
                new(12, 13, 19, 35, ConvGeometry.Square(3, 1, 1), Activation.SiLU, Residual: true, InputExtra: 1),
                new(5, 3, 3, 5, new ConvGeometry(3, 3, 1, 1, new Padding2d(0, 2, 1, 0), 1), Activation.ReLU)])
            {
                var data = new ConvCase.Data(c, 7);
                var scalar = data.FreshOutput();
                RunWinograd(c, data, VectorWidth.Scalar, tile, scalar, 0, c.OutputShape.Height);
                var vector = data.FreshOutput();
                RunWinograd(c, data, width, tile, vector, 0, c.OutputShape.Height);
                Tolerance.AssertClose(scalar, vector, c.InChannels * WinogradTileSide(tile), $"{width} {tile} against the scalar twin, {c}");
            }
    }

    [Fact]
    public void BadArgumentsAreRefusedByName()
    {
        var c = new ConvCase(4, 4, 2, 3, ConvGeometry.Square(3, 1, 1));
        var data = new ConvCase.Data(c, 1);
        var packed = new float[Winograd.PackedWeightsLength(VectorWidth.V128, WinogradTile.F2x2, 3, 2)];
        Winograd.PackWeights(VectorWidth.V128, WinogradTile.F2x2, data.Weights, 3, 2, packed);
        var scratch = new float[Winograd.ScratchLength(VectorWidth.V128, WinogradTile.F2x2, 3, 2)];
        var outputBuffer = data.FreshOutput();
        Assert.Contains("scratch", Assert.Throws<ArgumentException>(() =>
            Winograd.Run(VectorWidth.V128, WinogradTile.F2x2, data.Input, c.InputShape, packed, c.Geometry, outputBuffer, c.OutputShape,
                Epilogue.None, scratch.AsSpan(1))).Message);
        Assert.Contains("geometry", Assert.Throws<ArgumentException>(() =>
            Winograd.Run(VectorWidth.V128, WinogradTile.F2x2, data.Input, c.InputShape, packed, ConvGeometry.Square(3, 2, 1), outputBuffer,
                c.OutputShape, Epilogue.None, scratch)).Message);
        Assert.Contains("weights", Assert.Throws<ArgumentException>(() =>
            Winograd.Run(VectorWidth.V128, WinogradTile.F4x4, data.Input, c.InputShape, packed, c.Geometry, outputBuffer, c.OutputShape,
                Epilogue.None, new float[Winograd.ScratchLength(VectorWidth.V128, WinogradTile.F4x4, 3, 2)])).Message);
        Assert.Contains("weights", Assert.Throws<ArgumentException>(() =>
            Winograd.PackWeights(VectorWidth.V128, WinogradTile.F2x2, data.Weights.AsSpan(1), 3, 2, packed)).Message);
    }

    static int WinogradTileSide(WinogradTile tile) => ((int)tile + 2) * ((int)tile + 2);

    /// <summary>The whole output, then rows in three calls; returns the largest error relative to max(1, |e|).</summary>
    static double Check(ConvCase c, VectorWidth width, WinogradTile tile, int seed)
    {
        var data = new ConvCase.Data(c, seed);
        var expected = data.FreshOutput();
        ConvReference.Conv2d(data.Input, c.InputShape, data.Weights, c.Geometry, expected, c.OutputShape, data.Epilogue(c.Activation), 0, c.OutputShape.Height);
        var actual = data.FreshOutput();
        RunWinograd(c, data, width, tile, actual, 0, c.OutputShape.Height);
        double worst = AssertClose(expected, actual, Bound(tile), $"{width} {tile} {c}");

        int h = c.OutputShape.Height, a = h / 3, b = (2 * h + 1) / 3;
        var split = data.FreshOutput();
        RunWinograd(c, data, width, tile, split, b, h);
        RunWinograd(c, data, width, tile, split, 0, a);
        RunWinograd(c, data, width, tile, split, a, b);
        Tolerance.AssertExact(actual, split, $"{width} {tile} rows [0,{a}) [{a},{b}) [{b},{h}) against the whole run, {c}");
        return worst;
    }

    static void RunWinograd(ConvCase c, ConvCase.Data data, VectorWidth width, WinogradTile tile, float[] output, int rowStart, int rowEnd)
    {
        var packed = new float[Winograd.PackedWeightsLength(width, tile, c.OutChannels, c.InChannels)];
        Winograd.PackWeights(width, tile, data.Weights, c.OutChannels, c.InChannels, packed);
        var scratch = TestData.Random(Winograd.ScratchLength(width, tile, c.OutChannels, c.InChannels), 99, 1e30f);
        Winograd.RunRows(width, tile, data.Input, c.InputShape, packed, c.Geometry, output, c.OutputShape, data.Epilogue(c.Activation),
            rowStart, rowEnd, scratch);
    }

    static double AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double bound, string context)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]) / Math.Max(1.0, Math.Abs(expected[i]));
            if (float.IsNaN(actual[i]) != float.IsNaN(expected[i]) || error > bound)
                throw new Xunit.Sdk.XunitException($"{context}: element {i} is {actual[i]}, reference {expected[i]} (relative error {error:g3} > {bound:g3})");
            worst = Math.Max(worst, error);
        }
        return worst;
    }

    static void Record(Dictionary<WinogradTile, double> worst, WinogradTile tile, double error) =>
        worst[tile] = Math.Max(worst.GetValueOrDefault(tile), error);

    void Report(VectorWidth width, int cases, Dictionary<WinogradTile, double> worst) =>
        output.WriteLine($"{width}: {cases} cases per variant; largest error relative to max(1, |reference|): " +
            string.Join(", ", worst.Select(p => $"{p.Key} {p.Value:g3} (bound {Bound(p.Key):g2})")));
}
