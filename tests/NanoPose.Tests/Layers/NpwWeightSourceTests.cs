using NanoPose.Layers;
using NanoPose.Weights;

namespace NanoPose.Tests.Layers;

public class NpwWeightSourceTests
{
    private static NpwFile File(WeightDType weights = WeightDType.Float32)
    {
        var writer = new NpwWriter(new ModelArchitecture("test", "test"));
        writer.Add("a.conv.weight", [2, 3, 1, 1], [1, 2, 3, 4, 5, 6], weights);
        writer.Add("a.conv.bias", [2], [0.5f, -0.5f]);
        return NpwFile.Parse(writer.ToBytes(), "test.npw");
    }

    private static readonly ConvRequest Request = new("a.conv", 2, 3, 1, 1, HasBias: false, "a.bn");

    [Theory]
    [InlineData(WeightDType.Float32)]
    [InlineData(WeightDType.Float16)]
    public void ServesTheFoldedWeightAndBias(WeightDType dtype)
    {
        var weights = new NpwWeightSource(File(dtype)).Conv(Request);
        Assert.Equal([1f, 2, 3, 4, 5, 6], weights.Weight);
        Assert.Equal([0.5f, -0.5f], weights.Bias);
    }

    [Fact]
    public void NamesAMissingTensor()
    {
        var error = Assert.Throws<WeightFileException>(() => new NpwWeightSource(File()).Conv(Request with { Name = "b.conv" }));
        Assert.Contains("tensor 'b.conv.weight' is missing", error.Message);
    }

    [Fact]
    public void NamesAMisshapedTensor()
    {
        var error = Assert.Throws<WeightFileException>(() => new NpwWeightSource(File()).Conv(Request with { InChannelsPerGroup = 2, OutChannels = 3 }));
        Assert.Contains("tensor 'a.conv.weight' has shape [2, 3, 1, 1], expected [3, 2, 1, 1]", error.Message);
    }
}
