using NanoPose.Layers;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.WeightsTools.Tests.Conversion;

public class CheckpointWeightSourceTests
{
    private static Checkpoint Make(params (string Name, int[] Shape, float[]? Data)[] tensors) => new("test.pth", CheckpointFormat.Zip,
        [.. tensors.Select(t => new CheckpointTensor(t.Name, TorchDType.Float32, t.Shape, t.Data ?? new float[t.Shape.Aggregate(1, (a, b) => a * b)]))]);

    private static (string, int[], float[]?)[] BatchNorm(string prefix, float[] gamma, float[] beta, float[] mean, float[] variance) =>
    [
        (prefix + ".weight", [gamma.Length], gamma), (prefix + ".bias", [beta.Length], beta),
        (prefix + ".running_mean", [mean.Length], mean), (prefix + ".running_var", [variance.Length], variance),
        (prefix + ".num_batches_tracked", [], [0]),
    ];

    private static readonly ConvRequest WithBatchNorm = new("a.conv", 2, 1, 1, 1, HasBias: false, "a.bn");

    [Fact]
    public void FoldsTheBatchNormAndUsesEveryTensor()
    {
        const float eps = (float)BatchNormFolding.Epsilon;
        var source = new CheckpointWeightSource(Make(
            [("a.conv.weight", [2, 1, 1, 1], [2f, 4f]), .. BatchNorm("a.bn", [1f, 2f], [0f, 1f], [0f, 1f], [1f - eps, 4f - eps])]));
        var weights = source.Conv(WithBatchNorm);
        Assert.Equal(2f, weights.Weight[0], 1e-6f);
        Assert.Equal(4f, weights.Weight[1], 1e-6f);   // 4 · 2/2
        Assert.Equal(0f, weights.Bias[0], 1e-6f);
        Assert.Equal(0f, weights.Bias[1], 1e-6f);     // (0 − 1) · 1 + 1
        source.ThrowIfIncomplete();
    }

    [Theory]
    [InlineData(256)]   // 256⁴ = 2³²: a product of the four BatchNorm lengths wraps to 0 in int
    [InlineData(768)]   // EfficientHRNet H−4's widest MBConv
    [InlineData(3)]
    public void FoldsTheBatchNormOfAnyWidth(int channels)
    {
        const float eps = (float)BatchNormFolding.Epsilon;
        float[] Fill(float value) => Enumerable.Repeat(value, channels).ToArray();
        var source = new CheckpointWeightSource(Make(
            [("conv.weight", [channels, 1, 1, 1], Fill(2f)), .. BatchNorm("bn", Fill(3f), Fill(1f), Fill(0.5f), Fill(4f - eps))]));
        var weights = source.Conv(new ConvRequest("conv", channels, 1, 1, 1, HasBias: false, BatchNorm: "bn"));
        source.ThrowIfIncomplete();
        Assert.All(weights.Weight, w => Assert.Equal(3f, w, 1e-6f));   // 2 · 3/√4
        Assert.All(weights.Bias, b => Assert.Equal(0.25f, b, 1e-6f));  // (0 − 0.5) · 1.5 + 1
    }

    [Fact]
    public void ReportsMissingMisshapedAndUnexpectedTensorsByName()
    {
        var tensors = BatchNorm("a.bn", [1f, 1f], [0f, 0f], [0f, 0f], [1f, 1f]).Where(t => t.Item1 != "a.bn.running_var");
        var source = new CheckpointWeightSource(Make(
            [("a.conv.weight", [2, 1, 1, 1], null), .. tensors, ("b.weight", [3, 1, 1, 1], null), ("c.weight", [1], null)]));
        source.Conv(WithBatchNorm);
        var plain = source.Conv(new ConvRequest("b", 2, 1, 1, 1, HasBias: false, BatchNorm: null));
        Assert.Equal(2, plain.Weight.Length); // a placeholder of the right size until the report

        string message = Assert.Throws<CheckpointException>(source.ThrowIfIncomplete).Message;
        Assert.Contains("missing tensors (1): a.bn.running_var", message);
        Assert.Contains("mis-shaped tensors (1): b.weight is [3, 1, 1, 1], expected [2, 1, 1, 1]", message);
        Assert.Contains("unexpected tensors (1): c.weight", message);
    }

    [Fact]
    public void AMissingConvolutionWithoutBatchNormIsReportedNotThrown()
    {
        var source = new CheckpointWeightSource(Make(("other.weight", [1], null)));
        var weights = source.Conv(new ConvRequest("k", 3, 2, 1, 1, HasBias: true, BatchNorm: null));
        Assert.Equal((6, 3), (weights.Weight.Length, weights.Bias.Length));
        string message = Assert.Throws<CheckpointException>(source.ThrowIfIncomplete).Message;
        Assert.Contains("missing tensors (2): k.weight, k.bias", message);
        Assert.Contains("unexpected tensors (1): other.weight", message);
    }

    [Fact]
    public void ResolvesModuleAndMmpose1HeadAliases()
    {
        var source = new CheckpointWeightSource(Make(
            ("module.x.weight", [1, 1, 1, 1], [3f]),
            ("head.final_layer.weight", [2, 1, 1, 1], [1f, 2f]),
            ("head.final_layer.bias", [2], [5f, 6f])));
        Assert.Equal([2, 1, 1, 1], source.ShapeOf("keypoint_head.final_layer.weight")!);
        Assert.Equal([3f], source.Conv(new ConvRequest("x", 1, 1, 1, 1, HasBias: false, BatchNorm: null)).Weight);
        var head = source.Conv(new ConvRequest("keypoint_head.final_layer", 2, 1, 1, 1, HasBias: true, BatchNorm: null));
        Assert.Equal([1f, 2f], head.Weight);
        Assert.Equal([5f, 6f], head.Bias);
        source.ThrowIfIncomplete();
    }
}
