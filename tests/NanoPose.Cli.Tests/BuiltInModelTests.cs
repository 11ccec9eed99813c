using System.Text.Json;
using NanoPose.Evaluation;
using NanoPose.Models;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Cli.Tests;

/// <summary>The model built into <c>nanopose</c>, and the README's first command: predict on the shipped sample image.</summary>
public sealed class BuiltInModelTests
{
    private static string SampleImage => Path.Combine(SharedData.RepositoryRoot, "samples", "000000000785.jpg");

    /// <summary>The file NanoPose.Models embeds (src/NanoPose.Models/pp-tinypose-256x192.npw), which the CLI uses.</summary>
    [Fact]
    public void TheShippedModelIsByteForByteAFreshConversionOfTheSharedNcnnFiles()
    {
        byte[] shipped = BuiltInModels.PoseModelBytes();
        Assert.Equal(TinyPoseModel.Npw.Length, shipped.Length);
        Assert.True(shipped.AsSpan().SequenceEqual(TinyPoseModel.Npw), "the embedded .npw differs from a fresh conversion");
        Assert.True(BuiltInModel.Bytes().AsSpan().SequenceEqual(shipped), "the CLI's built-in model is not NanoPose.Models' one");
    }

    /// <summary>The models read in place from the assembly hold the same tensors as a parse of a copy of their bytes.</summary>
    [Fact]
    public void ModelsReadInPlaceEqualTheirCopies()
    {
        (NpwFile InPlace, byte[] Copy)[] models =
            [(BuiltInModels.PoseModel(), BuiltInModels.PoseModelBytes()),
             .. BuiltInModels.PersonDetectorSizes.Select(size => (BuiltInModels.PersonDetectorModel(size), BuiltInModels.PersonDetectorModelBytes(size)))];
        foreach (var (inPlace, copy) in models)
        {
            var parsed = NpwFile.Parse(copy, "copy");
            Assert.Equal(parsed.Tensors.Count, inPlace.Tensors.Count);
            foreach (var tensor in parsed.Tensors)
                Assert.True(parsed.ReadValues(tensor).AsSpan().SequenceEqual(inPlace.ReadValues(tensor)), $"{inPlace.Source}: tensor {tensor.Name} differs");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(-320)]
    public void BuiltInModelsRefusesADetectorSizeThatIsNotBuiltInNamingTheSizes(int size)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => BuiltInModels.PersonDetector(size));
        Assert.Equal("size", error.ParamName);
        Assert.Contains("must be 192 or 320", error.Message);
    }

    [Fact]
    public void TheSampleImageIsCocoMinisImage785()
    {
        Assert.True(File.ReadAllBytes(SampleImage).AsSpan().SequenceEqual(File.ReadAllBytes(SharedData.File("data/coco-mini/000000000785.jpg"))));
    }

    /// <summary>No --model and no boxes: the built-in model finds the one person of the sample image, with its nose,
    /// shoulders and hips within 15 pixels of coco-mini's ground truth (the person is 347 pixels tall; measured:
    /// 3–11 pixels, about the spread between human annotators on those joints).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PredictWithNoModelGivenFindsTheSamplePersonNearTheGroundTruth(bool flip)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] args = flip ? ["predict", SampleImage, "--flip"] : ["predict", SampleImage];
        Assert.True(CommandLine.Run(args, output, error, cancel: TestContext.Current.CancellationToken) == 0, error.ToString());

        var person = Assert.Single(CocoJson.ReadDetectionsJsonLines(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(output.ToString())), "stdout"));
        Assert.Equal(785, person.ImageId);
        Assert.Equal(SampleImage, person.FileName);
        var truth = Assert.Single(CocoJson.ReadGroundTruth(SharedData.File("data/coco-mini/test_coco.json")).Annotations,
            a => a.ImageId == 785 && a.NumKeypoints > 0);
        foreach (int joint in new[] { 0, 5, 6, 11, 12 })   // nose, shoulders, hips
        {
            double dx = person.Keypoints[3 * joint] - truth.Keypoints[3 * joint], dy = person.Keypoints[3 * joint + 1] - truth.Keypoints[3 * joint + 1];
            double distance = Math.Sqrt(dx * dx + dy * dy);
            TestContext.Current.TestOutputHelper?.WriteLine($"{CocoKeypoints.Names[joint]}: {distance:F1} px from ground truth");
            Assert.True(distance <= 15, $"{CocoKeypoints.Names[joint]} is {distance:F1} px from the ground truth");
        }
        Assert.Contains("1 image, 1 person, 0 failed", error.ToString());
    }

    [Fact]
    public void InfoWithNoModelDescribesTheBuiltInModelWithItsNoticeAndTheVectorWidths()
    {
        var output = new StringWriter();
        Assert.Equal(0, CommandLine.Run(["info"], output, new StringWriter(), cancel: TestContext.Current.CancellationToken));
        string text = output.ToString();
        Assert.Contains("PP-TinyPose 256×192 (built in)", text);
        Assert.Contains("wider-naive-litehrnet-18", text);
        Assert.Contains("input: 3×256×192", text);
        Assert.Contains("PP-TinyPose weights © PaddlePaddle Authors, Apache License 2.0", text);
        Assert.Contains($"kernels use {NanoPose.Kernels.Simd.Isa.Best}", text);
    }

    [Fact]
    public void BenchPrintsLatencyStatisticsSpeedAndTheVectorWidth()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["bench", "--runs", "3", "--input", "96x128"], output, error, cancel: TestContext.Current.CancellationToken) == 0, error.ToString());
        string text = output.ToString();
        Assert.Contains("input: 3×128×96", text);
        Assert.Contains("runs: 3 timed", text);
        Assert.Matches(@"latency: median \d+\.\d\d ms, p90 \d+\.\d\d ms, min \d+\.\d\d ms", text);
        Assert.Matches(@"speed: \d+\.\d GMAC/s", text);
        Assert.Contains($"kernels {NanoPose.Kernels.Simd.Isa.Best}", text);
        Assert.DoesNotContain("profile:", text);
    }

    [Fact]
    public void BenchTimesTheBuiltInDetector()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["bench", "--detector", "192", "--runs", "3"], output, error, cancel: TestContext.Current.CancellationToken) == 0, error.ToString());
        string text = output.ToString();
        Assert.Contains("(picodet / picodet-s-lcnet)", text);
        Assert.Contains("input: 3×192×192", text);
        Assert.Matches(@"latency: median \d+\.\d\d ms", text);
        // The 98 convolutions' 167,477,949 multiply-accumulates at 192 (MODELS.md G.11).
        Assert.Contains("(167.5M multiply-accumulates per run)", text);

        error = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["bench", "--detector", "256"], new StringWriter(), error, cancel: TestContext.Current.CancellationToken));
        Assert.Contains("--detector must be 192 or 320", error.ToString());
        error = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["bench", "--detector", "192", "--model", "x.npw"], new StringWriter(), error, cancel: TestContext.Current.CancellationToken));
        Assert.Contains("not both", error.ToString());
    }

    [Fact]
    public void BenchWithProfileShowsTheTimeOfEachKindOfOperationAndTheSlowestLayers()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["bench", "--runs", "2", "--input", "96x128", "--profile"], output, error, cancel: TestContext.Current.CancellationToken) == 0, error.ToString());
        string text = output.ToString();
        Assert.Matches(@"profile: \d+\.\d\d ms per run inside operations, by kind", text);
        // PP-TinyPose is built of 1×1 and depthwise convolutions; a layer line names the layer and its shapes.
        Assert.Matches(@"\n  conv 1×1 +\d+\.\d{3} +\d+\.\d%", text);
        Assert.Matches(@"\n  depthwise 3×3 +\d+\.\d{3}", text);
        Assert.Contains("the 15 slowest operations", text);
        Assert.Matches(@"\d+\.\d{3} +\d+\.\d% +\d+\.\d  \S+: (conv|depthwise) \d×\d \d+→\d+ stride \d, \d+×\d+ → \d+×\d+", text);
    }
}
