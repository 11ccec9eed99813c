using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.WeightsTools.Tests;

public class InspectTests
{
    [Fact]
    public void ListsTheTensorsOfAWeightFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nanopose-{Guid.NewGuid():N}.npw");
        try
        {
            var writer = new NpwWriter(new ModelArchitecture("litehrnet", "litehrnet-18").Set("stem_channels", 32L));
            writer.Add("stem.weight", [2, 3], new float[6]);
            writer.Add("stem.bias", [2], new float[2], WeightDType.Float16);
            writer.Save(path);
            var output = new StringWriter();
            Inspect.Run(path, output);
            string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
            Assert.EndsWith("NanoPose weight file, litehrnet / litehrnet-18", lines[0]);
            Assert.Equal(["  stem_channels = 32", "  stem.weight  Float32  [2, 3]", "  stem.bias  Float16  [2]", "2 tensors, 8 parameters"], lines[1..]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ListsTheTensorsOfACheckpoint()
    {
        var output = new StringWriter();
        Inspect.Run(SharedData.File("golden/litehrnet/litehrnet_18_coco_legacy.pth"), output);
        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith("PyTorch checkpoint (Legacy format)", lines[0]);
        Assert.Equal("  backbone.stem.conv1.conv.weight  Float32  [32, 3, 3, 3]", lines[1]);
        Assert.Equal("1418 tensors, 1,163,373 elements, 1,130,769 parameters (without BatchNorm running statistics)", lines[^1]);
    }
}
