using NanoPose.TestSupport;
using NanoPose.Kernels.Simd;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Pipelines.TopDown;
using NanoPose.Tests.Models;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.Tests.PoseEstimation;

/// <summary>
/// Small .npw models with seeded random weights (<see cref="SeededWeights"/>), for tests of how the estimator runs
/// rather than what it finds; they need no shared data. Also seeded test images.
/// </summary>
internal static class SeededModels
{
    /// <summary>PP-TinyPose's architecture (Wider Naive Lite-HRNet-18) for an input of
    /// <paramref name="inputHeight"/> × <paramref name="inputWidth"/> (multiples of 32).</summary>
    public static byte[] TopDown(int inputHeight, int inputWidth, int seed = 1)
    {
        var config = LiteHrnetConfig.Known["wider-naive-litehrnet-18"] with { InputHeight = inputHeight, InputWidth = inputWidth };
        var weights = new RecordingWeightSource(new SeededWeights(seed));
        LiteHrnetNetwork.Build(config, weights, VectorWidth.Scalar);   // asks for every convolution in order
        return Write(config.ToArchitecture(), weights);
    }

    /// <summary>A much smaller Lite-HRNet of the same layer kinds (Naive modules; two stages of one module of one
    /// block, branches 16, 32, 64 channels wide), for inputs down to 16×16 (sides multiples of 16).</summary>
    public static byte[] TinyTopDown(int inputHeight, int inputWidth, int seed = 1)
    {
        var config = LiteHrnetConfig.Known["naive-litehrnet-18"] with
        {
            Variant = "tiny-naive-litehrnet",
            StemChannels = 16,
            StemOutChannels = 16,
            Stages = [new LiteHrnetStage(1, 1, 8, [16, 32]), new LiteHrnetStage(1, 1, 8, [16, 32, 64])],
            HeadInChannels = 16,
            InputHeight = inputHeight,
            InputWidth = inputWidth,
        };
        var weights = new RecordingWeightSource(new SeededWeights(seed));
        LiteHrnetNetwork.Build(config, weights, VectorWidth.Scalar);
        return Write(config.ToArchitecture(), weights);
    }

    /// <summary>EfficientHRNet H−4 (the estimator runs it at 384 pixels on an image's shorter side, its native size).</summary>
    public static byte[] BottomUp(int seed = 1)
    {
        var config = EfficientHrnetConfig.FromScale(-4);
        var weights = new RecordingWeightSource(new SeededWeights(seed));
        _ = new EfficientHrnetModel(config, weights, VectorWidth.Scalar);
        return Write(config.ToArchitecture(), weights);
    }

    private static byte[] Write(ModelArchitecture architecture, RecordingWeightSource weights)
    {
        var writer = new NpwWriter(architecture);
        weights.WriteTo(writer, WeightDType.Float32);
        return writer.ToBytes();
    }

    /// <summary>A seeded image with some structure (noise over a gradient and a bright block), tightly packed.</summary>
    public static byte[] Image(int width, int height, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 3];
        int blockX = random.Next(width / 2), blockY = random.Next(height / 2);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                bool block = x >= blockX && x < blockX + width / 3 && y >= blockY && y < blockY + height / 2;
                for (int c = 0; c < 3; c++)
                    pixels[(y * width + x) * 3 + c] = (byte)(block ? 200 + random.Next(40) : (x * (c + 1) + y * (3 - c) + random.Next(32)) & 0xFF);
            }
        return pixels;
    }

    /// <summary>The same image with red and blue exchanged.</summary>
    public static byte[] SwapRedAndBlue(byte[] rgb)
    {
        var bgr = (byte[])rgb.Clone();
        for (int i = 0; i < bgr.Length; i += 3) (bgr[i], bgr[i + 2]) = (rgb[i + 2], rgb[i]);
        return bgr;
    }

    /// <summary>Bit-identical people (keypoints, scores, boxes) in the same order.</summary>
    public static bool SamePeople(IReadOnlyList<EstimatedPerson> expected, IReadOnlyList<EstimatedPerson> actual) =>
        expected.Count == actual.Count && expected.Zip(actual).All(pair =>
            pair.First.Keypoints.Count == pair.Second.Keypoints.Count
            && pair.First.Keypoints.Zip(pair.Second.Keypoints).All(k => Bits(k.First.X) == Bits(k.Second.X)
                && Bits(k.First.Y) == Bits(k.Second.Y) && Bits(k.First.Score) == Bits(k.Second.Score))
            && Bits(pair.First.Score) == Bits(pair.Second.Score) && pair.First.Box == pair.Second.Box);

    private static int Bits(float value) => BitConverter.SingleToInt32Bits(value);
}
