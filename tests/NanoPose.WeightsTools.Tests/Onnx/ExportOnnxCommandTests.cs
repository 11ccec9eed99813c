using NanoPose.TestSupport;
using Microsoft.ML.OnnxRuntime;
using NanoPose.Kernels.Simd;
using NanoPose.Models.LiteHrnet;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;
using NanoPose.WeightsTools.Onnx;
using static NanoPose.WeightsTools.Tests.Onnx.OnnxTestSupport;

namespace NanoPose.WeightsTools.Tests.Onnx;

/// <summary><c>nanopose-weights export-onnx</c>: the file it writes, and how it refuses bad input.</summary>
public sealed class ExportOnnxCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nanopose-onnx-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static readonly LiteHrnetConfig Config = LiteHrnetConfig.Known["wider-naive-litehrnet-18"];

    /// <summary>A random-weight wider naive Lite-HRNet-18 as .npw bytes.</summary>
    private static byte[] NpwBytes(Action<NpwWriter>? extra = null)
    {
        var recording = new RecordingWeightSource(new SeededWeights(seed: 4, gain: 1.5f));
        LiteHrnetNetwork.Build(Config, recording, VectorWidth.Scalar);
        var writer = new NpwWriter(Config.ToArchitecture());
        recording.WriteTo(writer, WeightDType.Float32);
        extra?.Invoke(writer);
        return writer.ToBytes();
    }

    private (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exitCode = CommandLine.Run(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void WritesAModelOnnxRuntimeLoadsAndRuns()
    {
        string npw = Write("model.npw", NpwBytes()), onnx = Path.Combine(_directory, "model.onnx");
        var (exitCode, output, error) = Run("export-onnx", npw, "-o", onnx, "--input", "128x96");
        Assert.Equal((0, ""), (exitCode, error));
        Assert.Equal($"{onnx}: wider-naive-litehrnet-18, ONNX opset 17", output.Trim());

        using var session = new InferenceSession(onnx);
        Assert.Equal([1, 3, 128, 96], session.InputMetadata["image"].Dimensions);
        Assert.Equal([1, 17, 32, 24], session.OutputMetadata["heatmaps"].Dimensions);
        var heatmaps = Assert.Single(OnnxTestSupport.Run(session, RandomImage(128, 96, seed: 1), 3, 128, 96));
        Assert.All(heatmaps.Values, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void WithoutInputSizeExportsAtTheConvertedSize()
    {
        string npw = Write("model.npw", NpwBytes()), onnx = Path.Combine(_directory, "model.onnx");
        Assert.Equal(0, Run("export-onnx", npw, "-o", onnx).ExitCode);
        using var session = new InferenceSession(onnx);
        Assert.Equal([1, 3, Config.InputHeight, Config.InputWidth], session.InputMetadata["image"].Dimensions);
    }

    [Fact]
    public void AMissingWeightFileIsNamed()
    {
        string missing = Path.Combine(_directory, "absent.npw");
        var (exitCode, _, error) = Run("export-onnx", missing, "-o", Path.Combine(_directory, "out.onnx"));
        Assert.Equal((2, $"error: {missing}: does not exist"), (exitCode, error.Trim()));
    }

    [Fact]
    public void ACorruptWeightFileGivesTheWeightFileError()
    {
        var bytes = NpwBytes();
        bytes[bytes.Length / 2] ^= 0x40;
        string npw = Write("corrupt.npw", bytes), onnx = Path.Combine(_directory, "out.onnx");
        var (exitCode, _, error) = Run("export-onnx", npw, "-o", onnx);
        var expected = Assert.Throws<WeightFileException>(() => NpwFile.Load(npw));
        Assert.Contains("checksum mismatch", expected.Message);
        Assert.Equal((2, $"error: {expected.Message}"), (exitCode, error.Trim()));
        Assert.False(File.Exists(onnx));
    }

    [Fact]
    public void AWeightFileWithTensorsTheGraphDoesNotUseIsRefused()
    {
        var file = NpwFile.Parse(NpwBytes(writer => writer.Add("backbone.extra.weight", [2], [1f, 2f])), "extra.npw");
        var error = Assert.Throws<WeightFileException>(() => OnnxExport.Export(file));
        Assert.Equal("extra.npw: 1 tensors are not part of the wider-naive-litehrnet-18 graph: backbone.extra.weight", error.Message);
    }

    [Theory]
    [InlineData("100x96", "wider-naive-litehrnet-18: input 100×96 must have sides that are positive multiples of 32")]
    [InlineData("128by96", "input size '128by96' is not HxW with positive integers (e.g. 256x192)")]
    public void ABadInputSizeIsRefused(string size, string message)
    {
        string npw = Write("model.npw", NpwBytes());
        var (exitCode, _, error) = Run("export-onnx", npw, "-o", Path.Combine(_directory, "out.onnx"), "--input", size);
        Assert.Equal((2, $"error: {message}"), (exitCode, error.Trim()));
    }

    [Fact]
    public void WithoutAnOutputPathPrintsTheUsage()
    {
        var (exitCode, _, error) = Run("export-onnx", "model.npw");
        Assert.Equal(2, exitCode);
        Assert.StartsWith("error: export-onnx needs -o", error);
        Assert.Contains("nanopose-weights export-onnx <file.npw> -o <file.onnx> [--input HxW]", error);
    }
}
