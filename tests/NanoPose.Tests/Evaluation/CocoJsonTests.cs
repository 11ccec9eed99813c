using System.Text;
using NanoPose.Evaluation;
using NanoPose.TestSupport;
using static NanoPose.Tests.Evaluation.CocoCases;

namespace NanoPose.Tests.Evaluation;

public class CocoJsonTests
{
    private static readonly CocoKeypointDetection[] s_detections =
    [
        Detection(785, Skeleton(10.125, 20.5, 80, 120), 0.6253626063792810),
        Detection(40083, Skeleton(1.0 / 3, 2.0 / 7, 33.3, 44.4), 1e-7, new CocoBox(1, 2, 3.25, 4)),
    ];

    private static Stream Utf8(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    private static void AssertSameDetections(IReadOnlyList<CocoKeypointDetection> expected, IReadOnlyList<CocoKeypointDetection> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].ImageId, actual[i].ImageId);
            Assert.Equal(expected[i].CategoryId, actual[i].CategoryId);
            Assert.Equal(expected[i].Keypoints, actual[i].Keypoints); // doubles round-trip exactly
            Assert.Equal(expected[i].Score, actual[i].Score);
            Assert.Equal(expected[i].Bbox, actual[i].Bbox);
        }
    }

    [Fact]
    public void ReadsTheCocoMiniGroundTruth()
    {
        var gt = CocoJson.ReadGroundTruth(SharedData.File("data/coco-mini/test_coco.json"));
        Assert.Equal([785L, 40083, 196141, 197388], gt.Images.Select(i => i.Id).Order());
        Assert.Equal("person", Assert.Single(gt.Categories).Name);
        Assert.Equal(14, gt.Annotations.Count);
        var first = gt.Annotations[0];
        Assert.Equal((442619L, 785L, 17, 27789.11055), (first.Id, first.ImageId, first.NumKeypoints, first.Area));
        Assert.Equal(new CocoBox(280.79, 44.73, 218.7, 346.68), first.Bbox);
        Assert.Equal(2, gt.Annotations.Count(a => a.NumKeypoints == 0));
    }

    [Fact]
    public void ResultsArrayRoundTrips()
    {
        var stream = new MemoryStream();
        CocoJson.WriteDetections(stream, s_detections);
        string json = Encoding.UTF8.GetString(stream.ToArray());
        Assert.StartsWith("[{\"image_id\":785,\"category_id\":1,\"keypoints\":[", json);
        Assert.DoesNotContain("bbox", json[..json.IndexOf('}')]); // no box: no field
        AssertSameDetections(s_detections, CocoJson.ReadDetections(Utf8(json), "mem.json"));
    }

    [Fact]
    public void JsonLinesWriteOnePersonPerLineAndRoundTrip()
    {
        string text = string.Concat(s_detections.Select(d => CocoJson.ToJsonLine(d) + "\n"));
        string[] lines = text.Split('\n');
        Assert.Equal(3, lines.Length); // two lines and the final newline
        Assert.Equal("", lines[2]);
        Assert.All(lines[..2], l => Assert.StartsWith("{\"image_id\":", l));
        AssertSameDetections(s_detections, CocoJson.ReadDetectionsJsonLines(Utf8(text), "mem.jsonl"));
    }

    [Fact]
    public void ReadingAFileDetectsArrayOrJsonLines()
    {
        string folder = Directory.CreateTempSubdirectory("nanopose-coco").FullName;
        try
        {
            string array = Path.Combine(folder, "dets.json"), lines = Path.Combine(folder, "dets.jsonl");
            CocoJson.WriteDetections(array, s_detections);
            File.WriteAllLines(lines, s_detections.Select(CocoJson.ToJsonLine));
            AssertSameDetections(s_detections, CocoJson.ReadDetections(array));
            AssertSameDetections(s_detections, CocoJson.ReadDetections(lines));
            File.WriteAllText(lines, File.ReadAllText(lines), new UTF8Encoding(encoderShouldEmitUTF8Identifier: true)); // with a BOM
            AssertSameDetections(s_detections, CocoJson.ReadDetections(lines));
            // No person found: predict --jsonl leaves an empty file, which reads as no detections (so does one of blanks).
            foreach (string nobody in (string[])["", "\n\n", " \r\n\t"])
            {
                File.WriteAllText(lines, nobody);
                Assert.Empty(CocoJson.ReadDetections(lines));
            }
            File.WriteAllText(array, "[]");
            Assert.Empty(CocoJson.ReadDetections(array));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    public static TheoryData<string, string, string> BadDetections => new()
    {
        { $"[{{\"image_id\":1,\"category_id\":1,\"keypoints\":[{string.Join(",", Enumerable.Repeat(0, 50))}],\"score\":1}}]", "[0].keypoints", "50 values, expected 51" },
        { $"[{{\"image_id\":1,\"category_id\":1,\"keypoints\":[{string.Join(",", Enumerable.Repeat(0, 51))}]}}]", "[0].score", "missing" },
        { $"[{{\"image_id\":1,\"category_id\":1,\"keypoints\":[{string.Join(",", Enumerable.Repeat(0, 51))}],\"score\":1,\"bbox\":[1,2]}}]", "[0].bbox", "expected 4" },
        { "[{\"image_id\":1,\"category_id\":1,\"keypoints\":[0,", "$[0].keypoints[1]", "not valid COCO JSON" },
        { "[{\"image_id\":1,\"score\":\"high\"}]", "$[0].score", "not valid COCO JSON" },
        { "[{\"image_id\":1,\"score\":NaN}]", "$[0].score", "not valid COCO JSON" },
        { "[null]", "[0]", "is null" },
        { "null", "$", "expected a JSON array" },
        { "{\"image_id\":1}", "$", "not valid COCO JSON" },
        { "", "$", "not valid COCO JSON" },
    };

    [Theory]
    [MemberData(nameof(BadDetections))]
    public void BadDetectionsNameTheFileAndField(string json, string field, string problem)
    {
        var e = Assert.Throws<CocoFormatException>(() => CocoJson.ReadDetections(Utf8(json), "dets.json"));
        Assert.Equal("dets.json", e.File);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem);
        Assert.StartsWith($"dets.json: {field}: ", e.Message);
    }

    [Fact]
    public void BadJsonLineNamesTheLine()
    {
        string good = $"{{\"image_id\":1,\"category_id\":1,\"keypoints\":[{string.Join(",", Enumerable.Repeat(0, 51))}],\"score\":1}}";
        var e = Assert.Throws<CocoFormatException>(() => CocoJson.ReadDetectionsJsonLines(Utf8($"{good}\n\n{good.Replace(",0]", "]")}\n"), "d.jsonl"));
        Assert.Equal("d.jsonl line 3", e.File);
        Assert.Equal("keypoints", e.Field);
        Assert.Contains("50 values", e.Problem);
    }

    private static string GroundTruthJson(string annotation) =>
        "{\"images\":[{\"id\":5}],\"categories\":[{\"id\":1,\"name\":\"person\"}],\"annotations\":[" + annotation + "]}";

    private static string Annotation() =>
        $"{{\"id\":9,\"image_id\":5,\"category_id\":1,\"keypoints\":[{string.Join(",", Enumerable.Repeat(0, 51))}]," +
         "\"num_keypoints\":0,\"area\":12.5,\"bbox\":[1,2,3,4],\"iscrowd\":0,\"segmentation\":{\"counts\":[1,2],\"size\":[3,4]}}";

    private static string Annotation(string replace, string with) => Annotation().Replace(replace, with);

    public static TheoryData<string, string, string> BadGroundTruth => new()
    {
        { GroundTruthJson(Annotation(",0],\"num_keypoints\"", "],\"num_keypoints\"")), "annotations[0].keypoints", "50 values, expected 51" },
        { GroundTruthJson(Annotation("\"area\":12.5,", "")), "annotations[0].area", "missing" },
        { GroundTruthJson(Annotation("\"num_keypoints\":0", "\"num_keypoints\":18")), "annotations[0].num_keypoints", "outside 0..17" },
        { GroundTruthJson(Annotation("\"image_id\":5", "\"image_id\":6")), "annotations[0].image_id", "image 6 is not in the images list" },
        { GroundTruthJson(Annotation("\"category_id\":1", "\"category_id\":2")), "annotations[0].category_id", "category 2" },
        { GroundTruthJson(Annotation("\"iscrowd\":0", "\"iscrowd\":2")), "annotations[0].iscrowd", "expected 0 or 1" },
        { GroundTruthJson(Annotation("\"bbox\":[1,2,3,4]", "\"bbox\":[1,2,3]")), "annotations[0].bbox", "expected 4" },
        { GroundTruthJson(Annotation() + "," + Annotation()), "annotations[1].id", "appears twice" },
        { "{\"images\":[{\"file_name\":\"a.jpg\"}]}", "images[0].id", "missing" },
        { "{\"images\":{}}", "$.images", "not valid COCO JSON" },
        { "[]", "$", "not valid COCO JSON" },
    };

    [Theory]
    [MemberData(nameof(BadGroundTruth))]
    public void BadGroundTruthNamesTheFileAndField(string json, string field, string problem)
    {
        var e = Assert.Throws<CocoFormatException>(() => CocoJson.ReadGroundTruth(Utf8(json), "gt.json"));
        Assert.Equal("gt.json", e.File);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem);
    }

    [Fact]
    public void GroundTruthSkipsFieldsEvaluationDoesNotUse()
    {
        // Segmentations (polygons or RLE), licenses, info, skeletons... are not read.
        var gt = CocoJson.ReadGroundTruth(Utf8(GroundTruthJson(Annotation())), "gt.json");
        var a = Assert.Single(gt.Annotations);
        Assert.Equal((9L, 5L, 0, 12.5, false), (a.Id, a.ImageId, a.NumKeypoints, a.Area, a.IsCrowd));
    }

    [Fact]
    public void WritingRefusesWhatCocoJsonCannotHold()
    {
        var nan = Skeleton(0, 0, 10, 10);
        nan[4] = double.NaN;
        Assert.Throws<ArgumentException>(() => CocoJson.WriteDetections(new MemoryStream(), [Detection(1, nan, 0.5)]));
        Assert.Throws<ArgumentException>(() => CocoJson.WriteDetections(new MemoryStream(), [Detection(1, new double[50], 0.5)]));
    }
}
