using NanoPose.Evaluation;
using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary><c>nanopose predict</c> and <c>eval</c> run in process on coco-mini with PP-TinyPose in a temporary .npw;
/// bad input exits with 2 and one line naming the problem, never a stack trace.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CommandLine.Run(args, output, error, cancel: TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    private static string Image => SharedData.File("data/coco-mini/000000000785.jpg");

    private string Write(string name, string text)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void PredictWritesCocoResultsForTheWholeImage()
    {
        string json = Path.Combine(_folder, "people.json");
        var (code, _, error) = Run("predict", "--model", TinyPoseModel.NpwPath, Image, "--flip", "--json", json);
        Assert.True(code == 0, error);
        var person = Assert.Single(CocoJson.ReadDetections(json));
        Assert.Equal((785L, 1), (person.ImageId, person.CategoryId));
        Assert.Equal(51, person.Keypoints.Length);
        // The person stands in x 280..500 of the 640×425 image: the nose (joint 0) lands on them.
        Assert.InRange(person.Keypoints[0], 280, 500);
        Assert.InRange(person.Score, 0.3, 1.0);
    }

    [Fact]
    public void PredictWritesJsonLinesToStandardOutputByDefaultWithBoxesFromADetectionFile()
    {
        string boxes = Write("dets.json", """
            [{"image_id": 785, "category_id": 1, "bbox": [280.79, 44.73, 218.7, 346.68], "score": 0.9},
             {"image_id": 785, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 1},
             {"image_id": 40083, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 1}]
            """);
        var (code, output, error) = Run("predict", "--model", TinyPoseModel.NpwPath, Image, "--boxes", boxes, "--decode", "dark");
        Assert.True(code == 0, error);
        string line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var person = Assert.Single(CocoJson.ReadDetectionsJsonLines(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(line)), "stdout"));
        Assert.Equal(785, person.ImageId);
        Assert.InRange(person.Score, 0.3, 0.9);   // mean joint score times the box score 0.9
    }

    [Fact]
    public void EvalPrintsTheTenStatisticsAndWritesThemAsJson()
    {
        // One detected box (the person of image 785), so the network runs once; TinyPoseAccuracyTests runs them all.
        string boxes = Write("dets.json", """[{"image_id": 785, "category_id": 1, "bbox": [280.79, 44.73, 218.7, 346.68], "score": 1}]""");
        string stats = Path.Combine(_folder, "stats.json");
        string annotations = SharedData.File("data/coco-mini/test_coco.json");
        var (code, output, error) = Run("eval", "--model", TinyPoseModel.NpwPath, "--annotations", annotations,
            "--images", Path.GetDirectoryName(annotations)!, "--boxes", boxes, "--json", stats);
        Assert.True(code == 0, error);
        var written = CocoKeypointStats.FromJson(File.ReadAllText(stats), stats);
        Assert.Equal(written.ToPycocotoolsText(), output);
        // 1 of the 12 people found, and found well: recall 1/12 at OKS 0.5.
        Assert.Equal(1.0 / 12, written.AR50, 1e-9);
    }

    [Fact]
    public void BadBoxesAreReportedNamingTheFileAndTheBox()
    {
        string boxes = Write("bad.json", """[{"image_id": 785, "bbox": [10, 10, 0, 50], "score": 0.9}]""");
        var (code, _, error) = Run("predict", "--model", TinyPoseModel.NpwPath, Image, "--boxes", boxes);
        AssertOneLineError(code, error, boxes, "boxes[0]", "positive width and height");

        boxes = Write("outside.json", """[{"image_id": 785, "bbox": [5000, 10, 20, 50]}]""");
        (code, _, error) = Run("predict", "--model", TinyPoseModel.NpwPath, Image, "--boxes", boxes);
        AssertOneLineError(code, error, boxes, "boxes[0]", "outside");

        boxes = Write("short.json", """[{"image_id": 785, "bbox": [10, 10, 50]}]""");
        (code, _, error) = Run("predict", "--model", TinyPoseModel.NpwPath, Image, "--boxes", boxes);
        AssertOneLineError(code, error, boxes, "[0].bbox");

        boxes = Write("broken.json", "[{");
        (code, _, error) = Run("predict", "--model", TinyPoseModel.NpwPath, Image, "--boxes", boxes);
        AssertOneLineError(code, error, boxes, "not valid JSON");
    }

    [Fact]
    public void BadFilesAndOptionsExitWithTwo()
    {
        string truncated = Path.Combine(_folder, "cut.jpg");
        File.WriteAllBytes(truncated, File.ReadAllBytes(Image)[..20_000]);
        string gif = Path.Combine(_folder, "image.gif");
        File.WriteAllBytes(gif, "GIF89a\u0001\0\u0001\0\0\0\0;"u8.ToArray());
        string model = TinyPoseModel.NpwPath;

        AssertOneLineError(Run("predict", "--model", model, truncated), truncated, "truncated");
        AssertOneLineError(Run("predict", "--model", model, gif), gif, "unsupported image format");
        AssertOneLineError(Run("predict", "--model", model, Path.Combine(_folder, "missing.jpg")), "missing.jpg");
        AssertOneLineError(Run("predict", "--model", Path.Combine(_folder, "missing.npw"), Image), "missing.npw");
        AssertOneLineError(Run("predict", "--model", Write("junk.npw", "junk"), Image), "junk.npw");
        AssertOneLineError(Run("predict", "--model", model, Image, "--decode", "fancy"), "--decode", "fancy");
        AssertOneLineError(Run("predict", "--model", model), "at least one image");
        AssertOneLineError(Run("predict", "--model", model, Image, "--threads", "0"), "--threads", "'0'");
        AssertOneLineError(Run("predict", "--model", model, Image, "--json", "a.json", "--jsonl", "b.jsonl"), "--json and --jsonl");
        AssertOneLineError(Run("bench", "--model", model, "--input", "192by256"), "--input", "192by256");
        AssertOneLineError(Run("photo.jpg"), "not a command", "nanopose predict photo.jpg");
        AssertOneLineError(Run("predict", "--model", model, Image, "--frobnicate"), "unknown option '--frobnicate'");
        AssertOneLineError(Run("eval", "--model", model, "--annotations", Path.Combine(_folder, "gt.json"), "--images", _folder), "gt.json");
    }

    private static void AssertOneLineError((int Code, string Output, string Error) result, params string[] mentions) =>
        AssertOneLineError(result.Code, result.Error, mentions);

    /// <summary>Exit code 2; the first line of standard error starts with "error:" and names everything in
    /// <paramref name="mentions"/>; no stack trace.</summary>
    private static void AssertOneLineError(int code, string error, params string[] mentions)
    {
        Assert.True(code == 2, $"exit code {code}: {error}");
        string first = error.Split('\n')[0];
        Assert.StartsWith("error: ", first);
        foreach (string mention in mentions) Assert.Contains(mention, first);
        Assert.DoesNotContain("   at ", error);
    }
}
