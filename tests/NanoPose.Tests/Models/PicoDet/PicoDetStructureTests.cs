using NanoPose.Kernels.Simd;
using NanoPose.Models.PicoDet;
using NanoPose.TestSupport;

namespace NanoPose.Tests.Models.PicoDet;

/// <summary>The detector's graph from its config alone, against the counts MODELS.md G.11 gives from the IR.</summary>
public class PicoDetStructureTests
{
    [Theory]
    [InlineData(192, 192, 167_477_949L, 765)]
    [InlineData(320, 320, 464_987_149L, 2125)]
    public void ParametersMacsAndAnchorsAreThoseOfTheIr(int height, int width, long macs, int anchors)
    {
        var network = PicoDetNetwork.Build(new PicoDetConfig(), new SeededWeights(1), VectorWidth.Scalar, height, width);
        Assert.Equal(1_146_056, network.ParameterCount);   // IR weights + folded biases, G.11
        Assert.Equal(macs, network.MultiplyAccumulates);
        Assert.Equal(anchors, network.Outputs.AnchorCount);
        Assert.Equal([8, 16, 32, 64], network.Outputs.Levels.Select(l => l.Stride));
    }

    [Fact]
    public void TheBackboneWidthsFollowTheScale()
    {
        var config = new PicoDetConfig();
        Assert.Equal(16, config.StemChannels);
        Assert.Equal([24, 48, 48, 96, 96, 192, 192, 192, 192, 192, 192, 384, 384], config.BackboneBlocks.Select(b => b.OutChannels));
        Assert.Equal([3, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5], config.BackboneBlocks.Select(b => b.Kernel));
    }

    [Theory]
    [InlineData(300, 320)]
    [InlineData(320, 0)]
    [InlineData(4096, 320)]
    public void RefusesSizesThatAreNotMultiplesOf32OrTooLarge(int height, int width)
    {
        var error = Assert.Throws<ArgumentException>(() => PicoDetNetwork.Build(new PicoDetConfig(), new SeededWeights(1), VectorWidth.Scalar, height, width));
        Assert.Contains($"{height}×{width}", error.Message);
    }

    [Fact]
    public void RunsAtNonSquareSizesAndEveryLevelHasItsMap()
    {
        var network = PicoDetNetwork.Build(new PicoDetConfig(), new SeededWeights(2), Isa.Best, 256, 384);
        var outputs = network.Run(new float[3 * 256 * 384]);
        Assert.Equal([(32, 48), (16, 24), (8, 12), (4, 6)], outputs.Levels.Select(l => (l.ClassLogit.Height, l.ClassLogit.Width)));
        Assert.All(outputs.Levels, l => Assert.Equal(32, l.BoxLogits.ChannelCount));
        Assert.All(outputs.Levels, l => Assert.All(l.BoxLogits.ToNchw(), v => Assert.True(float.IsFinite(v))));
    }
}
