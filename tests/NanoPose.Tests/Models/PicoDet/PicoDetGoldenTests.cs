using System.Collections.Concurrent;
using NanoPose.Kernels.Simd;
using NanoPose.Models.PicoDet;
using NanoPose.Pipelines.Detection;
using NanoPose.Tests.Pipelines.Detection;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.Tests.Models.PicoDet;

/// <summary>
/// The detector converted from the OpenVINO IR and run on every golden case's input (../shared/golden/detector/, the
/// IR graph in float64): the decoded boxes within 2e-3 input pixels and the scores within 1e-4 (the golden README's
/// tolerances), and every tap within 1e-4·max(1, max|x|).
/// </summary>
public class PicoDetGoldenTests(ITestOutputHelper output)
{
    private const double BoxTolerance = 2e-3, ScoreTolerance = 1e-4;

    private static readonly ConcurrentDictionary<int, Lazy<NpwFile>> Converted = new();

    /// <summary>The IR of the <paramref name="size"/> model converted to a .npw file (fp16 storage: the IR's values exactly).</summary>
    internal static NpwFile Npw(int size) => Converted.GetOrAdd(size, s => new Lazy<NpwFile>(() => NpwFile.Parse(
        ModelConversion.ConvertOpenVino(SharedData.File($"models/picodet/picodet_s_{s}_lcnet_pedestrian.xml"), PicoDetConfig.DefaultVariant,
            WeightDType.Float16), $"picodet-{s}.npw"))).Value;

    public static TheoryData<string> Cases => DetectorCase.Names;

    [Theory, MemberData(nameof(Cases))]
    public void BoxesAndScoresMatchTheIrGraph(string name)
    {
        var c = DetectorCase.Get(name);
        var network = PicoDetNetwork.Load(Npw(c.InputSize), Isa.Best);
        var outputs = network.Run(c.Array("input").Data);
        Assert.Equal(c.Anchors, outputs.AnchorCount);

        var boxes = new float[4 * c.Anchors];
        var scores = new float[c.Anchors];
        Assert.Equal(c.Anchors, PicoDetDecoder.Decode(outputs, boxes, scores));

        double boxDifference = GoldenMath.MaxAbsDifference(c.Array("boxes").Data, boxes);
        double scoreDifference = GoldenMath.MaxAbsDifference(c.Array("scores").Data, scores);
        var golden = c.Array("boxes").Data;
        int worst = Enumerable.Range(0, golden.Length).MaxBy(i => Math.Abs(golden[i] - boxes[i]));
        output.WriteLine($"{name} ({Isa.Best}): boxes max abs diff {boxDifference:E2} px (anchor {worst / 4}), scores {scoreDifference:E2}");
        Assert.True(boxDifference <= BoxTolerance, $"{name}: boxes {boxDifference:E2} px from the golden ones (tolerance {BoxTolerance:E0})");
        Assert.True(scoreDifference <= ScoreTolerance, $"{name}: scores {scoreDifference:E2} from the golden ones (tolerance {ScoreTolerance:E0})");
    }

    public static TheoryData<string> CasesWithTaps => DetectorCase.NamesWithTaps;

    [Theory, MemberData(nameof(CasesWithTaps))]
    public void EveryTapMatches(string name)
    {
        var c = DetectorCase.Get(name);
        var network = PicoDetNetwork.Load(Npw(c.InputSize), Isa.Best);
        var taps = new Dictionary<string, (int[] Shape, float[] Data)>();
        network.Run(c.Array("input").Data, (tap, map) => taps[tap] = ([1, map.ChannelCount, map.Height, map.Width], map.ToNchw()));

        int compared = 0;
        foreach (var tap in c.Json.GetProperty("taps").EnumerateArray())
        {
            string tapName = tap.GetProperty("name").GetString()!;
            if (tapName.StartsWith("score_", StringComparison.Ordinal)) continue;   // after the decoder: PicoDetDecoderTests
            Assert.True(taps.TryGetValue(tapName, out var actual), $"{name}: golden tap {tapName} is not one NanoPose produces ({string.Join(", ", taps.Keys)})");
            var expected = c.Tap(tapName);
            Assert.Equal(expected.Shape, actual.Shape);
            double difference = GoldenMath.MaxAbsDifference(expected.Data, actual.Data), tolerance = GoldenMath.Tolerance(expected.Data);
            output.WriteLine($"{name} {tapName,-18} max abs diff {difference:E2}   tolerance {tolerance:E2}");
            Assert.True(difference <= tolerance, $"{name} {tapName}: max abs diff {difference:E2} > {tolerance:E2}");
            compared++;
        }
        Assert.Equal(3 + 4 + 3 * 4, compared);   // c3–c5, p3–p6, and per level the class, alignment and box logits
    }
}
