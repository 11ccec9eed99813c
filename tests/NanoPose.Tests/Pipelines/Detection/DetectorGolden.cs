using System.Text.Json;
using NanoPose.Pipelines.Detection;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Tests.Pipelines.Detection;

/// <summary>The cases of ../shared/golden/detector/detector_cases.json (PicoDet's graph outputs and Paddle's NMS).</summary>
internal sealed record DetectorCase(string Name, int ImageWidth, int ImageHeight, int InputSize, JsonElement Json)
{
    private static readonly Lazy<(DetectorCase[] Cases, BoxNmsOptions Nms)> All = new(Load);

    public static DetectorCase[] Cases => All.Value.Cases;

    /// <summary>The NMS settings the manifest states it used.</summary>
    public static BoxNmsOptions ManifestNms => All.Value.Nms;

    public static TheoryData<string> Names => [.. Cases.Select(c => c.Name)];

    public static TheoryData<string> NamesWithTaps => [.. Cases.Where(c => c.Json.TryGetProperty("taps", out _)).Select(c => c.Name)];

    public static DetectorCase Get(string name) => Cases.Single(c => c.Name == name);

    public int Anchors => Json.GetProperty("anchors").GetInt32();

    /// <summary>A golden array named by the case's key (<c>boxes</c>, <c>scores</c>, <c>input</c>).</summary>
    public NpyArray Array(string key) => Read(Json.GetProperty(key).GetString()!);

    /// <summary>A tap by its name in the case's <c>taps</c> list, e.g. <c>reg_s8</c> (NCHW, batch 1).</summary>
    public NpyArray Tap(string name)
    {
        var tap = Json.GetProperty("taps").EnumerateArray().Single(t => t.GetProperty("name").GetString() == name);
        var array = Read(tap.GetProperty("file").GetString()!);
        Assert.Equal(tap.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()), array.Shape);
        return array;
    }

    /// <summary>The manifest's detections after NMS, in image pixels, in its order, with float64 values.</summary>
    public (double[] Box, double Score)[] Detections() =>
        [.. Json.GetProperty("detections").EnumerateArray().Select(d =>
            (d.GetProperty("bbox_xyxy").EnumerateArray().Select(v => v.GetDouble()).ToArray(), d.GetProperty("score").GetDouble()))];

    private static NpyArray Read(string file) => Npy.Read(SharedData.File($"golden/detector/{file}"));

    private static (DetectorCase[], BoxNmsOptions) Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(SharedData.File("golden/detector/detector_cases.json")));
        var root = document.RootElement;
        var nms = root.GetProperty("nms");
        var options = new BoxNmsOptions(nms.GetProperty("score_threshold").GetSingle(), nms.GetProperty("nms_top_k").GetInt32(),
            nms.GetProperty("iou_threshold").GetSingle(), nms.GetProperty("keep_top_k").GetInt32());
        DetectorCase[] cases = [.. root.GetProperty("cases").EnumerateArray().Select(c =>
        {
            int[] size = [.. c.GetProperty("image_size_wh").EnumerateArray().Select(v => v.GetInt32())];
            // "det_785_320_boxes.npy" → "det_785_320".
            string name = c.GetProperty("boxes").GetString()!.Replace("_boxes.npy", "", StringComparison.Ordinal);
            return new DetectorCase(name, size[0], size[1], c.GetProperty("input_size").GetInt32(), c.Clone());
        })];
        return (cases, options);
    }
}
