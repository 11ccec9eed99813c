using NanoPose.Evaluation;
using NanoPose.ImageSharp;
using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary><c>predict</c> over folders and globs: results in input order whatever the thread count, a bad file
/// reported without stopping the batch, pictures drawn, a summary, and cancellation.</summary>
public sealed class PredictBatchTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-batch-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int Code, string Output, string Error) Run(string[] args, CancellationToken? cancel = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CommandLine.Run(args, output, error, cancel: cancel ?? TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A folder with three copies of a coco-mini image under different names, one truncated JPEG, and a text file.</summary>
    private string Photos()
    {
        string photos = Directory.CreateDirectory(Path.Combine(_folder, "photos")).FullName;
        byte[] jpeg = File.ReadAllBytes(SharedData.File("data/coco-mini/000000000785.jpg"));
        byte[] other = File.ReadAllBytes(SharedData.File("data/coco-mini/000000196141.jpg"));
        File.WriteAllBytes(Path.Combine(photos, "a.jpg"), jpeg);
        File.WriteAllBytes(Path.Combine(photos, "b.jpg"), other);
        File.WriteAllBytes(Path.Combine(photos, "c-cut.jpg"), jpeg[..20_000]);
        File.WriteAllBytes(Path.Combine(photos, "d.JPG"), jpeg);
        File.WriteAllText(Path.Combine(photos, "notes.txt"), "not an image");
        return photos;
    }

    private static List<CocoKeypointDetection> Lines(string output) =>
        CocoJson.ReadDetectionsJsonLines(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(output)), "stdout");

    [Fact]
    public void AFolderRunsEveryImageInOrderAndABadFileDoesNotStopTheBatch()
    {
        string photos = Photos();
        // --detector none: one person per image, whatever the photos hold (this is about the batch, not detection).
        var (code, output, error) = Run(["predict", "--model", TinyPoseModel.NpwPath, "--detector", "none", photos]);
        Assert.Equal(2, code);   // one image failed
        var people = Lines(output);
        Assert.Equal(["a.jpg", "b.jpg", "d.JPG"], people.Select(p => Path.GetFileName(p.FileName!)));
        Assert.Equal([1L, 2, 4], people.Select(p => p.ImageId));   // positions: the names hold no COCO id
        string[] errorLines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("error: ", errorLines[0]);
        Assert.Contains("c-cut.jpg", errorLines[0]);
        Assert.Contains("truncated", errorLines[0]);
        Assert.StartsWith("4 images, 3 people, 1 failed", errorLines[1]);
    }

    [Fact]
    public void ThreadsGiveTheSameLinesInTheSameOrder()
    {
        string photos = Photos();
        var one = Run(["predict", "--model", TinyPoseModel.NpwPath, photos, "--threads", "1"]);
        var three = Run(["predict", "--model", TinyPoseModel.NpwPath, photos, "--threads", "3"]);
        Assert.Equal(one.Output, three.Output);
        Assert.Contains("3 at a time", three.Error);
    }

    [Fact]
    public void GlobsMatchFileNamesAndRecursiveGlobsSubFolders()
    {
        string photos = Photos();
        Directory.CreateDirectory(Path.Combine(photos, "more"));
        File.Copy(Path.Combine(photos, "a.jpg"), Path.Combine(photos, "more", "a2.jpg"));

        Assert.Equal(["a.jpg", "b.jpg"], Assert.Single(ImageInputs.Expand([Path.Combine(photos, "?.jpg")])).Files.Select(Path.GetFileName));
        Assert.Equal(["a.jpg", "b.jpg", "c-cut.jpg", "d.JPG"], Assert.Single(ImageInputs.Expand([Path.Combine(photos, "*")])).Files.Select(Path.GetFileName));   // a bare * takes images only
        // Together, an image the first argument took is not run again for the second.
        var flat = ImageInputs.Expand([Path.Combine(photos, "?.jpg"), Path.Combine(photos, "*")]);
        Assert.Equal(["c-cut.jpg", "d.JPG"], flat[1].Files.Select(Path.GetFileName));
        var deep = Assert.Single(ImageInputs.Expand([photos + "/**/a*.jpg"]));
        Assert.Equal([Path.Combine(photos, "a.jpg"), Path.Combine(photos, "more", "a2.jpg")], deep.Files.Select(Path.GetFullPath));

        var none = Assert.Single(ImageInputs.Expand([Path.Combine(photos, "*.png")]));
        Assert.Empty(none.Files);
        Assert.Contains("no file matches", none.Error);
        Assert.Contains("wildcards", Assert.Single(ImageInputs.Expand([_folder + "/*/x.jpg"])).Error);

        // A glob matching nothing is one failed argument; the other arguments still run.
        var (code, output, error) = Run(["predict", "--model", TinyPoseModel.NpwPath, Path.Combine(photos, "*.png"), Path.Combine(photos, "a.jpg")]);
        Assert.Equal(2, code);
        Assert.Single(Lines(output));
        Assert.Contains("no file matches", error);
    }

    [Fact]
    public void DrawWritesOnePictureOfEachImageWithTheSkeletonOnIt()
    {
        string photos = Photos();
        string pictures = Path.Combine(_folder, "pictures");
        string sameName = Path.Combine(Directory.CreateDirectory(Path.Combine(photos, "more")).FullName, "a.jpg");
        File.Copy(Path.Combine(photos, "a.jpg"), sameName);
        var (code, _, error) = Run(["predict", "--model", TinyPoseModel.NpwPath, Path.Combine(photos, "a.jpg"), Path.Combine(photos, "b.jpg"),
            sameName, "--draw", pictures]);
        Assert.True(code == 0, error);
        Assert.Equal(["a-2.png", "a.png", "b.png"], Directory.GetFiles(pictures).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var decoder = new ImageFileDecoder();
        var source = decoder.Decode(Path.Combine(photos, "a.jpg"), TestContext.Current.CancellationToken);
        var drawn = decoder.Decode(Path.Combine(pictures, "a.png"), TestContext.Current.CancellationToken);
        Assert.Equal((source.Width, source.Height), (drawn.Width, drawn.Height));
        int changed = 0;
        for (int i = 0; i < source.Pixels.Length; i++) changed += source.Pixels[i] != drawn.Pixels[i] ? 1 : 0;
        // Limbs over a 347-pixel-tall person change thousands of bytes, and only a small part of the picture.
        Assert.InRange(changed, 2_000, source.Pixels.Length / 10);
    }

    [Fact]
    public void DrawFormatJpgWritesJpegPictures()
    {
        string pictures = Path.Combine(_folder, "jpegs");
        var (code, _, error) = Run(["predict", "--model", TinyPoseModel.NpwPath, Path.Combine(Photos(), "a.jpg"), "--draw", pictures, "--draw-format", "jpg"]);
        Assert.True(code == 0, error);
        string picture = Assert.Single(Directory.GetFiles(pictures));
        Assert.Equal("a.jpg", Path.GetFileName(picture));
        Assert.Equal(640, new ImageFileDecoder().Decode(picture, TestContext.Current.CancellationToken).Width);
        Assert.Contains("--draw-format", Run(["predict", "--model", TinyPoseModel.NpwPath, "x.jpg", "--draw", pictures, "--draw-format", "gif"]).Error);
    }

    [Fact]
    public void TwoImagesWithOneNameGetTwoPictures()
    {
        string[] paths = PoseDrawing.TargetPaths(["x/a.jpg", "y/a.png", "z/A.bmp", "b.jpg"], "out");
        Assert.Equal([Path.Combine("out", "a.png"), Path.Combine("out", "a-2.png"), Path.Combine("out", "A-3.png"), Path.Combine("out", "b.png")], paths);
    }

    [Fact]
    public void ACanceledBatchStopsAndSaysSo()
    {
        string photos = Photos();
        var (code, output, error) = Run(["predict", "--model", TinyPoseModel.NpwPath, photos], new CancellationToken(canceled: true));
        Assert.Equal(CommandLine.CanceledExitCode, code);
        Assert.Equal("", output);
        Assert.Contains("canceled after 0 of 4 images", error);
    }
}
