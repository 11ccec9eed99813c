using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Models.PicoDet;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;
using NanoPose.WeightsTools.Onnx;
using static NanoPose.WeightsTools.Tests.Onnx.OnnxTestSupport;

namespace NanoPose.WeightsTools.Tests.Onnx;

/// <summary>
/// Every architecture exported to ONNX and run in ONNX Runtime agrees with the engine running the same .npw file on
/// the same image. The ONNX graph is written from MODELS.md independently of the engine's model code, and ONNX Runtime
/// is an independent implementation of every operator, so agreement checks both.
/// </summary>
public class OnnxExportTests
{
    private const float Tolerance = 1e-3f;

    /// <summary>Variant, input size and weight gain. Each fuse adds branch 0 twice, so activations grow or die module
    /// after module with the gain: these keep the heatmaps' spread O(1) (the deeper Lite-HRNet-30 needs less).</summary>
    public static TheoryData<string, int, int, float> LiteHrnets() => new()
    {
        { "litehrnet-18", 256, 192, 1.4f }, { "litehrnet-30", 256, 192, 1.1f },
        { "naive-litehrnet-18", 256, 192, 1.4f }, { "wider-naive-litehrnet-18", 128, 96, 1.5f },
    };

    public static TheoryData<int, int, int> EfficientHrnets() => new()
    {
        { 0, 128, 128 }, { -1, 224, 224 }, { -2, 192, 192 }, { -3, 160, 160 }, { -4, 128, 96 },
    };

    [Theory]
    [MemberData(nameof(LiteHrnets))]
    public void LiteHrnetAgreesWithTheEngine(string variant, int height, int width, float gain)
    {
        var config = LiteHrnetConfig.Known[variant] with { InputHeight = height, InputWidth = width };
        var file = Npw(config.ToArchitecture(), new SeededWeights(seed: 11, gain),
            weights => LiteHrnetNetwork.Build(config, weights, VectorWidth.Scalar, height, width));
        CompareWithEngine(file, height, width);
    }

    [Theory]
    [MemberData(nameof(EfficientHrnets))]
    public void EfficientHrnetAgreesWithTheEngine(int scale, int height, int width)
    {
        var config = EfficientHrnetConfig.FromScale(scale);
        var file = Npw(config.ToArchitecture(), new SeededWeights(seed: 12, gain: 1.5f),
            weights => _ = new EfficientHrnetModel(config, weights, VectorWidth.Scalar));
        CompareWithEngine(file, height, width);
    }

    [Fact]
    public void PpTinyPoseAgreesWithTheEngine()
    {
        // The real PaddleDetection weights (MODELS.md F), converted from ncnn as `convert` does.
        string param = SharedData.File("models/pp-tinypose/tinypose_128x96.param");
        var file = NpwFile.Parse(ModelConversion.ConvertNcnn(param, "wider-naive-litehrnet-18"), "tinypose_128x96.npw");
        // A real person crop: on noise a trained network's heatmaps are flat.
        var image = Npy.Read(SharedData.File("golden/tinypose/td00_785_128x96_input.npy")).Data;
        CompareWithEngine(file, 128, 96, image);
    }

    [Theory]
    [InlineData(192, 192)]
    [InlineData(320, 320)]
    [InlineData(256, 384)]
    public void PicoDetAgreesWithTheEngine(int height, int width)
    {
        // The raw logits of all four levels (12 outputs); decoding and NMS are the caller's in both engines. With no
        // residuals, seeded activations vanish or explode layer after layer; gain 2.7 (seed 1) keeps every output's
        // spread between 0.2 and 15 at these sizes (2.5 leaves them at 1e-2, 3 takes them to 1e2–1e3).
        var config = new PicoDetConfig { InputHeight = height, InputWidth = width };
        var file = Npw(config.ToArchitecture(), new SeededWeights(seed: 1, gain: 2.7f),
            weights => PicoDetNetwork.Build(config, weights, VectorWidth.Scalar));
        using (var session = new InferenceSession(OnnxExport.Export(file)))
            Assert.Equal([.. new[] { 8, 16, 32, 64 }.SelectMany(s => new[] { $"cls_logit_s{s}", $"align_logit_s{s}", $"reg_s{s}" })], session.OutputNames);
        CompareWithEngine(file, height, width);
    }

    [Theory]
    [InlineData(192)]
    [InlineData(320)]
    public void RealPicoDetAgreesWithTheEngine(int size)
    {
        // The real PaddleDetection weights (MODELS.md G), converted from the OpenVINO IR as `convert` does, on the
        // golden detector input of a COCO image with five people.
        string xml = SharedData.File($"models/picodet/picodet_s_{size}_lcnet_pedestrian.xml");
        var file = NpwFile.Parse(ModelConversion.ConvertOpenVino(xml, PicoDetConfig.DefaultVariant, WeightDType.Float16), $"picodet-{size}.npw");
        var image = Npy.Read(SharedData.File($"golden/detector/det_197388_{size}_input.npy")).Data;
        // The trained stride-64 alignment logit at 192 (3×3 cells) varies by only 0.049 over this image.
        CompareWithEngine(file, size, size, image, minSpatialSpread: 0.02);
    }

    /// <summary>Runs the file in the engine and its export in ONNX Runtime on one random image; every output must agree
    /// to <see cref="Tolerance"/> (relative to the output's spread when that exceeds 1), and carry a signal worth comparing.</summary>
    private static void CompareWithEngine(NpwFile file, int height, int width, float[]? image = null, double minSpatialSpread = 0.05)
    {
        image ??= RandomImage(height, width, seed: 5);
        var maps = PoseNetworks.Load(file, Isa.Best, height, width).Forward(image);
        using var session = new InferenceSession(OnnxExport.Export(file, height, width));
        var onnx = Run(session, image, 3, height, width);

        Assert.Equal(maps.Count, onnx.Count);
        var log = TestContext.Current.TestOutputHelper;
        for (int i = 0; i < onnx.Count; i++)
        {
            var (name, shape, values) = onnx[i];
            Assert.Equal([1, maps[i].ChannelCount, maps[i].Height, maps[i].Width], shape);
            var expected = maps[i].ToNchw();
            double spread = StandardDeviation(expected), spatialSpread = MeanSpatialDeviation(expected, maps[i].ChannelCount);
            float difference = MaxAbsDiff(expected, values);
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{file.Architecture.Variant} {height}x{width} {name} [{string.Join(", ", shape)}]: max abs diff {difference:E2}, std {spread:F3}, spatial std {spatialSpread:F3}"));
            // Not a dead or exploding network (the spread within each map, not the final biases', must be there).
            Assert.InRange(spatialSpread, minSpatialSpread, 1e3);
            Assert.True(difference <= Tolerance * Math.Max(1, spread),
                $"{file.Architecture.Variant} output {name}: max abs diff {difference} exceeds {Tolerance} × max(1, std {spread})");
        }
    }
}
