using System.Text.Json;
using NanoPose.Pipelines.BottomUp;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Tests.Pipelines.BottomUp;

/// <summary>
/// The four golden cases of ../shared/golden/bottomup/: from the stored (float16) aggregated heatmaps and tags, the
/// parser must find the reference's people in the same order, keypoints within 1e-3 image pixels and scores within
/// 1e-5; the input alignment must reproduce the stored size, centre and scale. Prints the largest differences.
/// </summary>
public class BottomUpGoldenTests(ITestOutputHelper output)
{
    private const string Folder = "golden/bottomup";

    public static TheoryData<string> Cases => ["bu_785", "bu_40083", "bu_196141", "bu_197388"];

    [Theory, MemberData(nameof(Cases))]
    public void ParserFindsTheReferencePeople(string name)
    {
        var (root, golden) = Load(name);
        var parameters = root.GetProperty("parser");
        var options = new ParserOptions
        {
            NmsKernel = parameters.GetProperty("nms_kernel").GetInt32(),
            MaxPeople = parameters.GetProperty("max_num_people").GetInt32(),
            DetectionThreshold = parameters.GetProperty("detection_threshold").GetDouble(),
            TagThreshold = parameters.GetProperty("tag_threshold").GetDouble(),
            UseDetectionValue = parameters.GetProperty("use_detection_val").GetBoolean(),
            IgnoreTooMuch = parameters.GetProperty("ignore_too_much").GetBoolean(),
            Adjust = parameters.GetProperty("adjust").GetBoolean(),
            Refine = parameters.GetProperty("refine").GetBoolean(),
        };
        Assert.Equal(options.NmsKernel / 2, parameters.GetProperty("nms_padding").GetInt32()); // the padding that keeps the map size

        var heatmaps = Npy.Read(SharedData.File($"{Folder}/{golden.GetProperty("heatmaps").GetString()}"));
        var tags = Npy.Read(SharedData.File($"{Folder}/{golden.GetProperty("tags").GetString()}"));
        Assert.Equal(NpyDType.Float16, heatmaps.DType);
        int joints = heatmaps.Shape[1], height = heatmaps.Shape[2], width = heatmaps.Shape[3];
        Assert.Equal([1, joints, height, width, 2], tags.Shape);
        var maps = new AggregatedMaps(joints, height, width, 2, heatmaps.Data, tags.Data);

        var alignment = Alignment(golden);
        var people = new HeatmapParser(options).Parse(maps, alignment);

        var expected = golden.GetProperty("people").EnumerateArray().ToList();
        Assert.Equal(expected.Count, people.Count);
        double keypointDifference = 0, scoreDifference = 0;
        for (int p = 0; p < expected.Count; p++)
        {
            var keypoints = expected[p].GetProperty("keypoints").EnumerateArray().ToList();
            Assert.Equal(keypoints.Count, people[p].Keypoints.Length);
            for (int j = 0; j < keypoints.Count; j++)
            {
                var k = keypoints[j].EnumerateArray().Select(v => v.GetDouble()).ToArray();
                var actual = people[p].Keypoints[j];
                keypointDifference = Math.Max(keypointDifference, Math.Max(Math.Abs(actual.X - k[0]), Math.Abs(actual.Y - k[1])));
                scoreDifference = Math.Max(scoreDifference, Math.Abs(actual.Score - k[2]));
            }
            scoreDifference = Math.Max(scoreDifference, Math.Abs(people[p].Score - expected[p].GetProperty("score").GetDouble()));
        }
        output.WriteLine($"{name}: {people.Count} people, max keypoint difference {keypointDifference:E2} px, max score difference {scoreDifference:E2}");
        Assert.True(keypointDifference <= 1e-3, $"{name}: keypoints differ by up to {keypointDifference:E2} px");
        Assert.True(scoreDifference <= 1e-5, $"{name}: scores differ by up to {scoreDifference:E2}");
    }

    [Theory, MemberData(nameof(Cases))]
    public void InputAlignmentMatchesTheReference(string name)
    {
        var (_, golden) = Load(name);
        var size = golden.GetProperty("image_wh").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var alignment = InputAlignment.For(size[0], size[1], golden.GetProperty("input_size").GetInt32());
        var expected = Alignment(golden);
        Assert.Equal((expected.Width, expected.Height, expected.CenterX, expected.CenterY), (alignment.Width, alignment.Height, alignment.CenterX, alignment.CenterY));
        Assert.Equal(expected.ScaleX, alignment.ScaleX, 1e-12);
        Assert.Equal(expected.ScaleY, alignment.ScaleY, 1e-12);
    }

    private static InputAlignment Alignment(JsonElement golden)
    {
        int[] Ints(string property) => [.. golden.GetProperty(property).EnumerateArray().Select(v => v.GetInt32())];
        var resized = Ints("resized_wh");
        var center = Ints("center");
        var scale = golden.GetProperty("scale").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return new InputAlignment(resized[0], resized[1], center[0], center[1], scale[0], scale[1]);
    }

    private static (JsonElement Root, JsonElement Case) Load(string name)
    {
        var root = JsonDocument.Parse(File.ReadAllText(SharedData.File($"{Folder}/bottomup_cases.json"))).RootElement;
        return (root, root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("case").GetString() == name));
    }
}
