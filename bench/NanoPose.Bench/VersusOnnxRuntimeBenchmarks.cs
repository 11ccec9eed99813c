using NanoPose.TestSupport;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using NanoPose.Models;
using NanoPose.Threading;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;
using NanoPose.WeightsTools.Onnx;

namespace NanoPose.Bench;

/// <summary>
/// Each network at its standard input, NanoPose beside ONNX Runtime in the same run on the same weights: the seeded
/// weights NanoPose is built from are recorded, written to a .npw and exported to ONNX by <c>nanopose-weights</c>.
/// ONNX Runtime gets as many intra-op threads as NanoPose's pool and full graph optimisation; the Ratio column is
/// ONNX Runtime's time over NanoPose's. Setup checks once that both give the same outputs, so the two measure the same work.
/// </summary>
[MedianColumn, MemoryDiagnoser]
public class VersusOnnxRuntimeBenchmarks
{
    /// <summary>Outputs must agree to this, relative to an output's spread when that exceeds 1 (as the export tests ask).</summary>
    private const double Tolerance = 1e-3;

    public static IEnumerable<ModelCase> Cases => ModelBenchmarks.Cases;

    [ParamsSource(nameof(Cases))] public ModelCase Model { get; set; } = null!;

    [Params(1, 2)] public int Threads { get; set; }

    IPoseNetwork network = null!;
    WorkerPool? pool;
    float[] image = [];

    InferenceSession session = null!;
    RunOptions runOptions = null!;
    OrtValue[] inputs = [];
    string[] inputNames = [], outputNames = [];

    [GlobalSetup]
    public void Setup()
    {
        pool = Threads > 1 ? new WorkerPool(Threads) : null;
        var recording = new RecordingWeightSource(Model.Weights());
        network = Model.Build(recording, pool);
        var writer = new NpwWriter(network.Architecture);
        recording.WriteTo(writer, WeightDType.Float32);
        var file = NpwFile.Parse(writer.ToBytes(), Model.Name + ".npw");

        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = Threads,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        session = new InferenceSession(OnnxExport.Export(file, Model.Height, Model.Width), sessionOptions);
        runOptions = new RunOptions();
        image = Model.RandomImage();
        // Over the image array itself (pinned by ORT's wrapper), so a run copies nothing in.
        inputs = [OrtValue.CreateTensorValueFromMemory(image, [1, network.InputChannels, Model.Height, Model.Width])];
        inputNames = [.. session.InputNames];
        outputNames = [.. session.OutputNames];

        RequireSameOutputs();
    }

    /// <summary>Throws unless every ONNX Runtime output matches NanoPose's in shape and values.</summary>
    private void RequireSameOutputs()
    {
        var maps = network.Forward(image);
        using var outputs = session.Run(runOptions, inputNames, inputs, outputNames);
        if (outputs.Count != maps.Count)
            throw new InvalidOperationException($"{Model}: ONNX Runtime gives {outputs.Count} outputs, NanoPose {maps.Count}");
        for (int i = 0; i < maps.Count; i++)
        {
            long[] expectedShape = [1, maps[i].ChannelCount, maps[i].Height, maps[i].Width];
            long[] shape = outputs[i].GetTensorTypeAndShape().Shape;
            if (!shape.SequenceEqual(expectedShape))
                throw new InvalidOperationException($"{Model}: output '{outputNames[i]}' is [{string.Join(", ", shape)}] in ONNX Runtime, [{string.Join(", ", expectedShape)}] in NanoPose");
            float[] expected = maps[i].ToNchw();
            var actual = outputs[i].GetTensorDataAsSpan<float>();
            double maxDiff = 0;
            for (int j = 0; j < expected.Length; j++) maxDiff = Math.Max(maxDiff, Math.Abs(expected[j] - actual[j]));
            double spread = StandardDeviation(expected), allowed = Tolerance * Math.Max(1, spread);
            Console.WriteLine($"// {Model}, {Threads} threads, output '{outputNames[i]}': max |NanoPose − ORT| {maxDiff:G3} (allowed {allowed:G3}, std {spread:G3})");
            if (!(maxDiff <= allowed))
                throw new InvalidOperationException($"{Model}: output '{outputNames[i]}' differs by up to {maxDiff:G3} between NanoPose and ONNX Runtime (allowed {allowed:G3}); the benchmark would compare different work");
        }
    }

    private static double StandardDeviation(float[] values)
    {
        double mean = values.Average(v => (double)v);
        return Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var input in inputs) input.Dispose();
        runOptions.Dispose();
        session.Dispose();
        pool?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public object NanoPose() => network.Forward(image);

    [Benchmark]
    public int OnnxRuntime()
    {
        using var outputs = session.Run(runOptions, inputNames, inputs, outputNames);
        return outputs.Count;
    }
}
