using System.Text.Json;
using NanoPose.Pipelines.TopDown;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Tests.Pipelines.TopDown;

/// <summary>The 12 cases of ../shared/golden/topdown/topdown_cases.json (mmpose 0.x pre- and post-processing).</summary>
internal sealed record TopDownCase(
    string Name, PersonBox Box, CenterScale CenterScale, double[] Affine, JsonElement Json)
{
    public const int InputWidth = 192, InputHeight = 256, HeatmapWidth = 48, HeatmapHeight = 64;

    private static readonly Lazy<TopDownCase[]> All = new(Load);

    public static TopDownCase[] Cases => All.Value;

    public static TheoryData<string> Names => [.. Cases.Select(c => c.Name)];

    public static TopDownCase Get(string name) => Cases.Single(c => c.Name == name);

    /// <summary>A golden array named by the case's key, e.g. <c>crop_rgb</c>, <c>heatmaps</c>.</summary>
    public NpyArray Array(string key) => Npy.Read(SharedData.File($"golden/topdown/{Json.GetProperty(key).GetString()}"));

    /// <summary>The source image the case crops from (height × width × 3 bytes, OpenCV's JPEG decoding).</summary>
    public (byte[] Pixels, int Width, int Height) Image()
    {
        var array = Array("image_rgb");
        Assert.Equal(3, array.Shape.Length);
        return ([.. array.Data.Select(v => (byte)v)], array.Shape[1], array.Shape[0]);
    }

    /// <summary>The expected keypoints in image pixels and their scores for a decoding.</summary>
    public Keypoint[] Decoded(HeatmapDecoding decoding)
    {
        var decoded = Json.GetProperty("decoded").GetProperty(decoding == HeatmapDecoding.Dark ? "dark" : "default");
        var points = decoded.GetProperty("keypoints").EnumerateArray().ToArray();
        var scores = decoded.GetProperty("scores").EnumerateArray().ToArray();
        return [.. points.Select((p, j) => new Keypoint(p[0].GetSingle(), p[1].GetSingle(), scores[j].GetSingle()))];
    }

    private static TopDownCase[] Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(SharedData.File("golden/topdown/topdown_cases.json")));
        var root = document.RootElement;
        Assert.Equal([InputWidth, InputHeight], root.GetProperty("input_size_wh").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal([HeatmapWidth, HeatmapHeight], root.GetProperty("heatmap_size_wh").EnumerateArray().Select(v => v.GetInt32()));
        return [.. root.GetProperty("cases").EnumerateArray().Select(c =>
        {
            double[] box = [.. c.GetProperty("bbox_xywh").EnumerateArray().Select(v => v.GetDouble())];
            float[] center = [.. c.GetProperty("center").EnumerateArray().Select(v => v.GetSingle())];
            float[] scale = [.. c.GetProperty("scale").EnumerateArray().Select(v => v.GetSingle())];
            double[] affine = [.. c.GetProperty("affine_2x3").EnumerateArray().SelectMany(row => row.EnumerateArray()).Select(v => v.GetDouble())];
            return new TopDownCase(c.GetProperty("case").GetString()!, new PersonBox(box[0], box[1], box[2], box[3]),
                new CenterScale(center[0], center[1], scale[0], scale[1]), affine, c.Clone());
        })];
    }
}
