using NanoPose.Layers;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.WeightsTools.Tests.Conversion;

public class CheckpointWeightSourceTests
{
    private static CheckpointTensor Tensor(string name, int[] shape, float value) =>
        new(name, TorchDType.Float32, shape, Enumerable.Repeat(value, shape.Aggregate(1, (n, d) => n * d)).ToArray());

    [Theory]
    [InlineData(256)]   // 256⁴ = 2³²: a product of the four BatchNorm lengths wraps to 0 in int
    [InlineData(768)]   // EfficientHRNet H−4's widest MBConv
    [InlineData(3)]
    public void FoldsTheBatchNormOfAnyWidth(int channels)
    {
        var checkpoint = new Checkpoint("synthetic.pth", CheckpointFormat.Zip,
        [
            Tensor("conv.weight", [channels, 1, 1, 1], 2f),
            Tensor("bn.weight", [channels], 3f),
            Tensor("bn.bias", [channels], 1f),
            Tensor("bn.running_mean", [channels], 0.5f),
            Tensor("bn.running_var", [channels], 4f - 1e-5f),
            new CheckpointTensor("bn.num_batches_tracked", TorchDType.Int64, [], [7f]),
        ]);
        var source = new CheckpointWeightSource(checkpoint);
        var weights = source.Conv(new ConvRequest("conv", channels, 1, 1, 1, HasBias: false, BatchNorm: "bn"));
        source.ThrowIfIncomplete();
        Assert.All(weights.Weight, w => Assert.Equal(3f, w, 1e-6f));   // 2 · 3/√4
        Assert.All(weights.Bias, b => Assert.Equal(0.25f, b, 1e-6f));  // (0 − 0.5) · 1.5 + 1
    }

    [Fact]
    public void MissingWeightOfAConvWithoutBatchNormIsReportedNotThrownEarly()
    {
        var source = new CheckpointWeightSource(new Checkpoint("synthetic.pth", CheckpointFormat.Zip, [Tensor("head.bias", [4], 1f)]));
        var weights = source.Conv(new ConvRequest("head", 4, 2, 1, 1, HasBias: true, BatchNorm: null));
        Assert.Equal(8, weights.Weight.Length);   // right-sized stand-in, so building the network can go on
        var error = Assert.Throws<CheckpointException>(source.ThrowIfIncomplete);
        Assert.Contains("missing tensors (1): head.weight", error.Message);
    }
}
