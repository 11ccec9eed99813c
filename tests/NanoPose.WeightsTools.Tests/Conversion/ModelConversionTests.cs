using NanoPose.Models.LiteHrnet;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.WeightsTools.Tests.Conversion;

/// <summary><c>convert</c> on the golden checkpoints (the model outputs are checked in NanoPose.Tests).</summary>
public class ModelConversionTests
{
    private static Checkpoint Golden(string file) => TorchCheckpoint.Load(SharedData.File($"golden/litehrnet/{file}"));

    /// <summary>The golden Lite-HRNet-18 checkpoint with one tensor removed or replaced.</summary>
    private static Checkpoint Edited(string name, CheckpointTensor? replacement)
    {
        var golden = Golden("litehrnet_18_coco.pth");
        var tensors = golden.Tensors.Where(t => t.Name != name).ToList();
        Assert.Equal(golden.Tensors.Count - 1, tensors.Count);
        if (replacement is not null) tensors.Add(replacement);
        return new Checkpoint("edited.pth", CheckpointFormat.Zip, tensors);
    }

    [Fact]
    public void TheLegacyCheckpointConvertsToTheSameFile()
    {
        Assert.Equal(
            ModelConversion.Convert(Golden("litehrnet_18_coco.pth"), "litehrnet-18"),
            ModelConversion.Convert(Golden("litehrnet_18_coco_legacy.pth"), "litehrnet-18"));
    }

    [Fact]
    public void WritesTheArchitectureAndFoldedConvolutions()
    {
        var file = NpwFile.Parse(ModelConversion.Convert(Golden("naive_litehrnet_18_coco.pth"), "naive-litehrnet-18", WeightDType.Float16), "naive.npw");
        var config = LiteHrnetConfig.FromArchitecture(file.Architecture);
        Assert.Equal(("litehrnet", "naive-litehrnet-18", LiteHrnetModuleType.Naive), (file.Architecture.Family, config.Variant, config.ModuleType));
        Assert.Equal((30, 17), (config.HeadInChannels, config.HeadOutChannels)); // from the checkpoint's final layer, not the config's 40
        Assert.Equal("backbone.stem.conv1.conv.weight", file.Tensors[0].Name);
        Assert.Equal(WeightDType.Float16, file.Tensors[0].DType);
        Assert.Equal(("backbone.stem.conv1.conv.bias", WeightDType.Float32), (file.Tensors[1].Name, file.Tensors[1].DType));
        Assert.Equal([17, 30, 1, 1], file.Tensors[^2].Shape);
    }

    [Fact]
    public void RefusesACheckpointWithAMissingTensor()
    {
        const string name = "backbone.stage1.2.layers.0.depthwise_convs.1.bn.running_var";
        var error = Assert.Throws<CheckpointException>(() => ModelConversion.Convert(Edited(name, null), "litehrnet-18"));
        Assert.Contains($"missing tensors (1): {name}", error.Message);
    }

    [Fact]
    public void RefusesACheckpointWithAMisshapedTensor()
    {
        const string name = "backbone.stage0.0.layers.0.cross_resolution_weighting.conv1.conv.weight";
        var error = Assert.Throws<CheckpointException>(() =>
            ModelConversion.Convert(Edited(name, new CheckpointTensor(name, TorchDType.Float32, [8, 60, 1, 1], new float[480])), "litehrnet-18"));
        Assert.Contains($"mis-shaped tensors (1): {name} is [8, 60, 1, 1], expected [7, 60, 1, 1]", error.Message);
    }

    [Fact]
    public void RefusesTheWrongArchitecture()
    {
        var error = Assert.Throws<CheckpointException>(() => ModelConversion.Convert(Golden("naive_litehrnet_18_coco.pth"), "litehrnet-18"));
        Assert.Contains("missing tensors", error.Message);
        Assert.Contains("unexpected tensors", error.Message);
        Assert.Contains("backbone.stage0.0.layers.0.cross_resolution_weighting.conv1.conv.weight", error.Message);
    }

    [Fact]
    public void RefusesAnUnknownArchitectureName()
    {
        var checkpoint = new Checkpoint("empty.pth", CheckpointFormat.Zip, []);
        var error = Assert.Throws<ArgumentException>(() => ModelConversion.Convert(checkpoint, "litehrnet-40"));
        Assert.Contains("unknown architecture 'litehrnet-40' (known: litehrnet-18, litehrnet-30, naive-litehrnet-18, wider-naive-litehrnet-18, "
            + "efficienthrnet-h0, efficienthrnet-h-1, efficienthrnet-h-2, efficienthrnet-h-3, efficienthrnet-h-4, picodet-s-lcnet)", error.Message);
    }
}
