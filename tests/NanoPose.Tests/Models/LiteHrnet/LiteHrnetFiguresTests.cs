using NanoPose.Kernels.Simd;
using NanoPose.Models;

namespace NanoPose.Tests.Models.LiteHrnet;

/// <summary><c>nanopose info</c> on the converted golden models: the published parameter counts and README FLOPs
/// (MODELS.md A.11) at 256×192.</summary>
public class LiteHrnetFiguresTests
{
    public static TheoryData<string, string, string, string> Figures => new()
    {
        { "litehrnet-18", "1,130,769", "205.2M", "198.6M" },
        { "litehrnet-30", "1,763,717", "319.2M", "309.5M" },
        { "naive-litehrnet-18", "760,365", "194.8M", "185.5M" },
        { "wider-naive-litehrnet-18", "1,318,625", "311.1M", "302.3M" },
    };

    [Theory, MemberData(nameof(Figures))]
    public void InfoPrintsThePublishedFigures(string variant, string parameters, string readmeFlops, string multiplyAccumulates)
    {
        var file = GoldenLiteHrnet.Npw(variant);
        var network = PoseNetworks.Load(file, Isa.Best);
        var text = new StringWriter();
        NetworkInfo.Write(file, network, text);
        string report = text.ToString();

        Assert.Contains($"parameters: {parameters}", report);
        Assert.Contains($"({multiplyAccumulates}) at 256×192", report);
        Assert.Contains($"FLOPs, Lite-HRNet README convention (torchstat / 2^20): {readmeFlops}", report);
        Assert.Contains("input: 3×256×192", report);
    }
}
