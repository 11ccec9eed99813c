using System.Runtime.Intrinsics;
using System.Text.Json;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models;
using NanoPose.Pipelines.TopDown;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.Tests.Pipelines.TopDown;

/// <summary>
/// The whole top-down pipeline with the trained PP-TinyPose 256×192 (converted from ../shared/models/pp-tinypose) on
/// the coco-mini images with their ground-truth boxes, against ../shared/golden/tinypose (an independent ncnn
/// interpreter fed mmpose's crops, flip test and decoding).
/// </summary>
public class TopDownPipelineTests(ITestOutputHelper output)
{
    private static readonly Lazy<IPoseNetwork> TinyPose = new(() =>
    {
        byte[] npw = ModelConversion.ConvertNcnn(SharedData.File("models/pp-tinypose/tinypose_256x192.param"), "wider-naive-litehrnet-18", WeightDType.Float16);
        return PoseNetworks.Load(NpwFile.Parse(npw, "tinypose_256x192.npw"), Isa.Best);
    });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TinyPoseFindsTheReferenceKeypoints(bool flip)
    {
        var pipeline = new TopDownPipeline(TinyPose.Value, new TopDownOptions { FlipTest = flip });
        var expected = ExpectedPeople(flip ? "flip" : "noflip");
        // All four images when vectors run in hardware; without (~20× slower) the one with a single person.
        var images = GroundTruthBoxes();
        if (!Vector128.IsHardwareAccelerated) images = images.Where(i => i.Key == 785).ToDictionary();

        double worstPosition = 0, worstScore = 0, worstInstance = 0;
        int people = 0;
        foreach (var (imageId, boxes) in images)
        {
            var image = Npy.Read(SharedData.File($"golden/topdown/image_{imageId}_rgb.npy"));
            byte[] pixels = [.. image.Data.Select(v => (byte)v)];
            var found = pipeline.Estimate(new RgbImage(pixels, image.Shape[1], image.Shape[0]), boxes, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(boxes.Length, found.Count);
            foreach (var person in found)
            {
                var (keypoints, instanceScore) = expected[(imageId, person.Box.X, person.Box.Y)];
                for (int j = 0; j < CocoKeypoints.Count; j++)
                {
                    worstPosition = Math.Max(worstPosition, Math.Max(Math.Abs(person.Keypoints[j].X - keypoints[j].X), Math.Abs(person.Keypoints[j].Y - keypoints[j].Y)));
                    worstScore = Math.Max(worstScore, Math.Abs(person.Keypoints[j].Score - keypoints[j].Score));
                }
                worstInstance = Math.Max(worstInstance, Math.Abs(person.Score - instanceScore));
                people++;
            }
        }
        output.WriteLine($"PP-TinyPose 256×192, flip {flip}, {people} people: keypoints max abs diff {worstPosition:E2} px, " +
                         $"joint scores {worstScore:E2}, instance scores {worstInstance:E2}");
        // Same crops bit for bit and heatmaps within ~1e-5 of the reference: the argmax agrees, so the positions do too.
        Assert.True(worstPosition <= 1e-3, $"keypoints max abs diff {worstPosition:E2} px");
        Assert.True(worstScore <= 1e-4 && worstInstance <= 1e-4, $"scores max abs diff {worstScore:E2}, instance {worstInstance:E2}");
    }

    [Fact]
    public void RefusesAnInvalidBoxBeforeRunningTheNetwork()
    {
        var network = new FixedHeatmapNetwork();
        var pipeline = new TopDownPipeline(network);
        var pixels = new byte[64 * 48 * 3];
        var error = Assert.Throws<ArgumentException>(() => pipeline.Estimate(new RgbImage(pixels, 48, 64), [new PersonBox(0, 0, 10, 10), new PersonBox(0, 0, double.NaN, 5)], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("boxes[1]", error.Message);
        Assert.Equal(0, network.Runs);
        Assert.Empty(pipeline.Estimate(new RgbImage(pixels, 48, 64), [], cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public void RunsTheMirroredCropForTheFlipTest()
    {
        var network = new FixedHeatmapNetwork();
        var person = Assert.Single(new TopDownPipeline(network, new TopDownOptions { FlipTest = true }).Estimate(new RgbImage(new byte[64 * 48 * 3], 48, 64), [new PersonBox(0, 0, 48, 64)], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(2, network.Runs);
        // Both runs see a peak of 1 at heatmap (10, 20); the mirrored one comes back at x = 47 − 10 + 1 = 38, so the
        // average has two peaks of 0.5 and the first, (10, 20), wins. The crop is the box widened by 1.25: 60×80 px.
        Assert.All(person.Keypoints, k =>
        {
            Assert.Equal(10 * 60 / 48.0 + 24 - 30, k.X, 1e-4);
            Assert.Equal(20 * 80 / 64.0 + 32 - 40, k.Y, 1e-4);
            Assert.Equal(0.5f, k.Score);
        });
    }

    [Fact]
    public void OksNmsRemovesADuplicateBox()
    {
        var rgb = new RgbImage(new byte[64 * 48 * 3], 48, 64);
        var box = new PersonBox(0, 0, 30, 40);
        PersonBox[] boxes = [box with { Score = 0.5f }, box];
        var kept = new TopDownPipeline(new FixedHeatmapNetwork()).Estimate(rgb, boxes, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(1f, Assert.Single(kept).Box.Score);
        var all = new TopDownPipeline(new FixedHeatmapNetwork(), new TopDownOptions { OksNmsThreshold = null }).Estimate(rgb, boxes, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal([0.5f, 1f], all.Select(p => p.Box.Score));
    }

    /// <summary>A stand-in network at 256×192 whose 17 heatmaps all peak (value 1) at (10, 20); it counts its runs.</summary>
    private sealed class FixedHeatmapNetwork : IPoseNetwork
    {
        private readonly FeatureMap _heatmaps = FeatureMap.Allocate(64, 48, CocoKeypoints.Count);

        public FixedHeatmapNetwork()
        {
            for (int c = 0; c < CocoKeypoints.Count; c++) _heatmaps.Span[_heatmaps.Shape.Offset(20, 10) + c] = 1f;
        }

        public int Runs { get; private set; }
        public ModelArchitecture Architecture => throw new NotSupportedException();
        public int InputChannels => 3;
        public int InputHeight => 256;
        public int InputWidth => 192;
        public long ParameterCount => 0;
        public long MultiplyAccumulates => 0;
        public IReadOnlyList<(string Label, string Value)> Figures => [];
        public long BufferFloats => _heatmaps.Buffer.Length;
        public OperationProfile? Profile { get; set; }
        public IPoseNetwork Replicate() => new FixedHeatmapNetwork();

        public IReadOnlyList<FeatureMap> Forward(ReadOnlySpan<float> imageNchw)
        {
            Assert.Equal(3 * 256 * 192, imageNchw.Length);
            Runs++;
            return [_heatmaps];
        }
    }

    /// <summary>Ground-truth person boxes with keypoints, per image, as mmpose loads them (num_keypoints &gt; 0).</summary>
    private static Dictionary<int, PersonBox[]> GroundTruthBoxes()
    {
        using var coco = JsonDocument.Parse(File.ReadAllText(SharedData.File("data/coco-mini/test_coco.json")));
        return coco.RootElement.GetProperty("annotations").EnumerateArray()
            .Where(a => a.GetProperty("category_id").GetInt32() == 1 && a.GetProperty("num_keypoints").GetInt32() > 0)
            .GroupBy(a => a.GetProperty("image_id").GetInt32())
            .ToDictionary(g => g.Key, g => g.Select(a =>
            {
                double[] b = [.. a.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble())];
                return new PersonBox(b[0], b[1], b[2], b[3]);
            }).ToArray());
    }

    /// <summary>The reference keypoints and instance score per person, keyed by image id and box corner.</summary>
    private static Dictionary<(int, double, double), (Keypoint[] Keypoints, float InstanceScore)> ExpectedPeople(string mode)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(SharedData.File("golden/tinypose/tinypose_cases.json")));
        return index.RootElement.GetProperty("cases").EnumerateArray().ToDictionary(
            c => (c.GetProperty("image_id").GetInt32(), c.GetProperty("bbox_xywh")[0].GetDouble(), c.GetProperty("bbox_xywh")[1].GetDouble()),
            c =>
            {
                var result = c.GetProperty("models").GetProperty("256x192").GetProperty(mode);
                var scores = result.GetProperty("scores").EnumerateArray().Select(s => s.GetSingle()).ToArray();
                Keypoint[] keypoints = [.. result.GetProperty("keypoints").EnumerateArray().Select((p, j) => new Keypoint(p[0].GetSingle(), p[1].GetSingle(), scores[j]))];
                return (keypoints, result.GetProperty("instance_score").GetSingle());
            });
    }
}
