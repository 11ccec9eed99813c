using NanoPose.Layers;
using NanoPose.Models.LiteHrnet;
using NanoPose.TestSupport;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Ncnn;

namespace NanoPose.WeightsTools.Tests.Ncnn;

/// <summary>The real PP-TinyPose ncnn files (../shared/models/pp-tinypose, MODELS.md F) and the weight source over them.</summary>
public class TinyPoseNcnnTests
{
    public static TheoryData<string> Sizes() => ["256x192", "128x96"];

    private static readonly NaiveLiteHrnetNcnnLayout WiderNaive18 = NaiveLiteHrnetNcnnLayout.For(LiteHrnetConfig.Known["wider-naive-litehrnet-18"]);

    private static string ParamPath(string size) => SharedData.File($"models/pp-tinypose/tinypose_{size}.param");

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ReadsTheWholeGraphAndEveryByteOfTheWeights(string size)
    {
        SharedData.File($"models/pp-tinypose/tinypose_{size}.bin");
        var model = NcnnModel.Load(ParamPath(size));
        Assert.Equal(698, model.Layers.Count);
        var counts = model.Layers.GroupBy(l => l.Type).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int>
        {
            ["Convolution"] = 173, ["ConvolutionDepthWise"] = 96, ["Slice"] = 49, ["Concat"] = 49, ["Reshape"] = 98,
            ["Permute"] = 49, ["Split"] = 51, ["BinaryOp"] = 79, ["Interp"] = 29, ["ReLU"] = 24, ["Input"] = 1,
        }, counts);
        Assert.Equal(269, model.Convolutions.Count);
        Assert.All(model.Convolutions, c => Assert.True(c.StoredAsFloat16 && c.Bias.Length == c.OutChannels, c.Layer.Name));
        Assert.Equal(1_300_177, model.ParameterCount);
        Assert.Equal(2_638_360, model.BinBytes);
        Assert.Equal(3, model.Convolutions[0].InChannels); // from the weights: the Input layer gives no shape
    }

    [Theory]
    [InlineData("wider-naive-litehrnet-18", "wider_naive_litehrnet_18_coco")]
    [InlineData("naive-litehrnet-18", "naive_litehrnet_18_coco")]
    public void TheLayoutNamesAndShapesAreThoseOfTheReferenceCheckpointInItsOrder(string variant, string checkpointName)
    {
        // A naive Lite-HRNet checkpoint holds exactly these convolutions (weights of rank 4, the head's included), in
        // registration order, which is the forward order.
        var checkpoint = TorchCheckpoint.Load(SharedData.File($"golden/litehrnet/{checkpointName}.pth"));
        var convs = checkpoint.Tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal) && t.Shape.Length == 4)
            .Select(t => $"{t.Name[..^".weight".Length]} [{string.Join(", ", t.Shape)}]").ToList();
        var layout = NaiveLiteHrnetNcnnLayout.For(LiteHrnetConfig.Known[variant]).Convolutions()
            .Select(c => $"{c.Name} [{c.OutChannels}, {c.InChannelsPerGroup}, {c.Kernel}, {c.Kernel}]").ToList();
        Assert.Equal(convs, layout);
    }

    [Fact]
    public void LiteModulesHaveNoNcnnLayout()
    {
        var error = Assert.Throws<ArgumentException>(() => NaiveLiteHrnetNcnnLayout.For(LiteHrnetConfig.Known["litehrnet-18"]));
        Assert.Equal("litehrnet-18: ncnn layouts exist for NAIVE modules only", error.Message);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ServesEveryConvolutionByNameInAnyOrder(string size)
    {
        var model = NcnnModel.Load(ParamPath(size));
        var source = new NcnnWeightSource(model, WiderNaive18, "tinypose");
        Assert.Equal(size == "256x192" ? (256, 192) : (128, 96), source.InputSize);
        Assert.Equal([17, 40, 1, 1], source.ShapeOf("keypoint_head.final_layer.weight")!);
        Assert.Equal([160], source.ShapeOf("backbone.transition1.2.0.2.bias")!);
        Assert.Null(source.ShapeOf("backbone.transition1.2.0.2.running_mean"));
        Assert.Null(source.ShapeOf("backbone.transition1.2.0.3.weight"));
        var expected = WiderNaive18.Convolutions();
        for (int i = expected.Count - 1; i >= 0; i--) // reverse order: matching is by name, not position
        {
            var weights = source.Conv(Request(expected[i]));
            Assert.Same(model.Convolutions[i].Weight, weights.Weight);
            Assert.Same(model.Convolutions[i].Bias, weights.Bias);
        }
        source.ThrowIfIncomplete();
    }

    [Fact]
    public void MismatchesNameTheNcnnLayerAndThePyTorchModuleWithBothShapes()
    {
        var source = NcnnWeightSource.Load(ParamPath("256x192"), "wider-naive-litehrnet-18");
        var error = Assert.Throws<NcnnException>(() => source.Conv(new ConvRequest("backbone.stem.conv1.conv", 32, 4, 3, 3, false, "backbone.stem.conv1.bn")));
        Assert.Contains("tinypose_256x192.param:4 (Convolution Conv_0): the network asks for backbone.stem.conv1.conv with weight shape [32, 4, 3, 3], but the ncnn layer for it is [32, 3, 3, 3]", error.Message);

        error = Assert.Throws<NcnnException>(() => source.Conv(new ConvRequest("backbone.stem.conv2.conv", 32, 3, 3, 3, false, null)));
        Assert.Contains("the network asks for backbone.stem.conv2.conv [32, 3, 3, 3], which no ncnn convolution corresponds to", error.Message);

        source.Conv(new ConvRequest("backbone.stem.conv1.conv", 32, 3, 3, 3, false, "backbone.stem.conv1.bn"));
        error = Assert.Throws<NcnnException>(() => source.Conv(new ConvRequest("backbone.stem.conv1.conv", 32, 3, 3, 3, false, "backbone.stem.conv1.bn")));
        Assert.Contains("(Convolution Conv_0): the network asks for backbone.stem.conv1.conv twice", error.Message);

        error = Assert.Throws<NcnnException>(source.ThrowIfIncomplete);
        Assert.Contains("268 ncnn convolution(s) were not used by the network: Conv_1 (backbone.stem.branch1.0.conv), Conv_2 (backbone.stem.branch1.1.conv)", error.Message);
    }

    [Theory]
    [InlineData("Conv_2                   1 1 depthwise_conv2d_0.tmp_0 relu_1.tmp_0 0=16 1=1 5=1 6=256 9=1", "9=1", "9=0",
        "(Convolution Conv_2): convolution #2 should be backbone.stem.branch1.1.conv [16, 16, 1, 1] stride 1 +ReLU, but it has no fused ReLU")]
    [InlineData("Conv_1                   1 1 split_0.tmp_0 depthwise_conv2d_0.tmp_0 0=16 1=3 3=2 4=1 5=1 6=144 7=16", "3=2", "3=1",
        "(ConvolutionDepthWise Conv_1): convolution #1 should be backbone.stem.branch1.0.conv [16, 1, 3, 3] stride 2 depthwise, but the stride differs")]
    [InlineData("Conv_1                   1 1 split_0.tmp_0 depthwise_conv2d_0.tmp_0 0=16 1=3 3=2 4=1 5=1 6=144 7=16", "4=1", "4=0",
        "should be backbone.stem.branch1.0.conv [16, 1, 3, 3] stride 2 depthwise, but the padding is not 1")]
    public void AFileThatContradictsTheArchitectureIsRefusedAtTheFirstLayerThatDoesNotFit(string line, string find, string replace, string message)
    {
        string path = ParamPath("256x192");
        string text = File.ReadAllText(path);
        Assert.Contains(line, text);
        var model = NcnnModel.Parse(text.Replace(line, line.Replace(find, replace)), File.ReadAllBytes(Path.ChangeExtension(path, ".bin")), "edited.param", "edited.bin");
        var error = Assert.Throws<NcnnException>(() => new NcnnWeightSource(model, WiderNaive18, "edited.param"));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void OtherArchitecturesAreRefused()
    {
        var error = Assert.Throws<NcnnException>(() => NcnnWeightSource.Load("x.param", "litehrnet-18"));
        Assert.Equal("x.param: ncnn conversion supports the naive Lite-HRNet architectures (naive-litehrnet-18, wider-naive-litehrnet-18; PP-TinyPose is wider-naive-litehrnet-18), not 'litehrnet-18'", error.Message);
    }

    private static ConvRequest Request(ExpectedConvolution c) =>
        new(c.Name, c.OutChannels, c.InChannelsPerGroup, c.Kernel, c.Kernel, HasBias: false, BatchNorm: null);
}
