using System.Text.Json;
using NanoPose.TestSupport;
using NanoPose.WeightsTools.Checkpoints;

namespace NanoPose.WeightsTools.Tests.Checkpoints;

/// <summary>The real torch.save files of ../shared/golden (written by PyTorch 1.13).</summary>
public class GoldenCheckpointTests
{
    [Fact]
    public void LegacyAndZipLiteHrnet18HoldIdenticalTensors()
    {
        var zip = TorchCheckpoint.Load(SharedData.File("golden/litehrnet/litehrnet_18_coco.pth"));
        var legacy = TorchCheckpoint.Load(SharedData.File("golden/litehrnet/litehrnet_18_coco_legacy.pth"));
        Assert.Equal(CheckpointFormat.Zip, zip.Format);
        Assert.Equal(CheckpointFormat.Legacy, legacy.Format);
        Assert.Equal(zip.Tensors.Count, legacy.Tensors.Count);
        for (int i = 0; i < zip.Tensors.Count; i++)
        {
            var (a, b) = (zip.Tensors[i], legacy.Tensors[i]);
            Assert.Equal(a.Name, b.Name);
            Assert.Equal(a.DType, b.DType);
            Assert.Equal(a.Shape, b.Shape);
            Assert.True(a.Data.AsSpan().SequenceEqual(b.Data), $"values of {a.Name} differ");
        }
    }

    [Theory]
    [InlineData("litehrnet_18_coco", 1418, 40)]
    [InlineData("litehrnet_30_coco", 2360, 40)]
    [InlineData("naive_litehrnet_18_coco", 1610, 30)]
    [InlineData("wider_naive_litehrnet_18_coco", 1610, 40)]
    public void LiteHrnetCheckpointsHaveTheDocumentedTensorAndParameterCounts(string model, int tensorCount, int headChannels)
    {
        var checkpoint = TorchCheckpoint.Load(SharedData.File($"golden/litehrnet/{model}.pth"));
        using var manifest = JsonDocument.Parse(File.ReadAllText(SharedData.File($"golden/litehrnet/{model}.json")));
        Assert.Equal(tensorCount, checkpoint.Tensors.Count);
        Assert.Equal(manifest.RootElement.GetProperty("params").GetInt64(), checkpoint.ParameterCount);

        Assert.Equal("backbone.stem.conv1.conv.weight", checkpoint.Tensors[0].Name);
        Assert.Equal([32, 3, 3, 3], checkpoint["backbone.stem.conv1.conv.weight"].Shape);
        Assert.Equal(TorchDType.Int64, checkpoint["backbone.stem.conv1.bn.num_batches_tracked"].DType);
        Assert.Empty(checkpoint["backbone.stem.conv1.bn.num_batches_tracked"].Shape);
        Assert.Equal([17, headChannels, 1, 1], checkpoint["keypoint_head.final_layer.weight"].Shape);
        Assert.All(checkpoint.Tensors, t => Assert.Equal(t.Shape.Aggregate(1L, (n, d) => n * d), t.Data.LongLength));
        Assert.All(checkpoint["backbone.stem.conv1.bn.running_var"].Data, v => Assert.True(v > 0));
    }

    [Fact]
    public void EfficientHrnetPlainStateDictMatchesItsKeyList()
    {
        var checkpoint = TorchCheckpoint.Load(SharedData.File("golden/efficienthrnet/efficienthrnet_H-4.pth"));
        using var keys = JsonDocument.Parse(File.ReadAllText(SharedData.File("golden/efficienthrnet/efficienthrnet_H-4_keys.json")));
        var expected = keys.RootElement.GetProperty("tensors").EnumerateArray()
            .Select(e => (Name: e[0].GetString()!, Shape: e[1].EnumerateArray().Select(d => d.GetInt32()).ToArray())).ToList();

        Assert.Equal(expected.Count, checkpoint.Tensors.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, checkpoint.Tensors[i].Name);
            Assert.Equal(expected[i].Shape, checkpoint.Tensors[i].Shape);
        }
        Assert.Equal(keys.RootElement.GetProperty("params").GetInt64(), checkpoint.ParameterCount);
    }

    [Fact]
    public void TruncatedGoldenFilesGiveClearErrors()
    {
        byte[] zip = File.ReadAllBytes(SharedData.File("golden/litehrnet/litehrnet_18_coco.pth"));
        byte[] legacy = File.ReadAllBytes(SharedData.File("golden/litehrnet/litehrnet_18_coco_legacy.pth"));
        foreach (double fraction in new[] { 0.001, 0.05, 0.5, 0.999 })
        {
            var zipError = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(zip[..(int)(zip.Length * fraction)], "cut.pth"));
            Assert.Contains("corrupt or truncated zip archive", zipError.Message);
            var legacyError = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Parse(legacy[..(int)(legacy.Length * fraction)], "cut_legacy.pth"));
            Assert.Contains("truncated", legacyError.Message);
        }
    }
}
