using NanoPose.Kernels.Simd;

namespace NanoPose.Tests.Models.LiteHrnet;

/// <summary>
/// Input sizes other than the golden 256×192: the vector build agrees with a scalar (reference kernel) build, within
/// 1e-3 plus ten times the noise floor of the outputs (see <see cref="LiteHrnetGoldenTests"/>: LITE networks with
/// the golden random weights amplify rounding differences).
/// </summary>
public class LiteHrnetInputSizeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("litehrnet-18", 384, 288)]
    [InlineData("naive-litehrnet-18", 320, 224)]
    public void RunsAtOtherSizesAsTheScalarReferenceDoes(string variant, int height, int width)
    {
        var input = new float[3 * height * width];
        var random = new Random(height * 1000 + width);
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 4 - 2);
        var nudged = input.Select((v, i) => i % 13 == 0 ? MathF.BitIncrement(v) : v).ToArray();

        var network = GoldenLiteHrnet.Build(variant, Isa.Best, height, width);
        var vector = network.Run(input).ToNchw();
        double floor = GoldenLiteHrnet.MaxAbsDifference(vector, network.Run(nudged).ToNchw());
        var scalar = GoldenLiteHrnet.Build(variant, VectorWidth.Scalar, height, width).Run(input);

        Assert.Equal((height / 4, width / 4, 17), (scalar.Height, scalar.Width, scalar.ChannelCount));
        double difference = GoldenLiteHrnet.MaxAbsDifference(scalar.ToNchw(), vector);
        output.WriteLine($"{variant} {height}×{width} {Isa.Best} vs scalar: max abs diff {difference:E2}, noise floor {floor:E2}");
        Assert.True(difference <= 1e-3 + 10 * floor, $"max abs diff {difference:E2}, noise floor {floor:E2}");
    }
}
