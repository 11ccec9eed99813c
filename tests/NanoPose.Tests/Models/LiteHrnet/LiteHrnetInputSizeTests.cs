using NanoPose.Kernels.Simd;
using NanoPose.TestSupport;

namespace NanoPose.Tests.Models.LiteHrnet;

/// <summary>
/// Input sizes other than the golden 256×192: the vector build agrees with a scalar (reference kernel) build, within
/// the golden tests' tolerance (<see cref="GoldenMath.Tolerance"/>).
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

        var vector = GoldenLiteHrnet.Build(variant, Isa.Best, height, width).Run(input).ToNchw();
        var scalar = GoldenLiteHrnet.Build(variant, VectorWidth.Scalar, height, width).Run(input);

        Assert.Equal((height / 4, width / 4, 17), (scalar.Height, scalar.Width, scalar.ChannelCount));
        var reference = scalar.ToNchw();
        double difference = GoldenMath.MaxAbsDifference(reference, vector), tolerance = GoldenMath.Tolerance(reference);
        output.WriteLine($"{variant} {height}×{width} {Isa.Best} vs scalar: max abs diff {difference:E2}, tolerance {tolerance:E2}");
        Assert.True(difference <= tolerance, $"max abs diff {difference:E2} > tolerance {tolerance:E2}");
    }
}
