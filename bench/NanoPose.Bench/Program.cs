using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NanoPose.Bench;
using NanoPose.Bench.Infrastructure;

// `paired`: NanoPose and ONNX Runtime timed in alternating rounds (PairedComparison.cs).
if (args.Length > 0 && args[0] == "paired") return PairedComparison.Run(args);

// `seeded-npw <case name> <out.npw>`: a case's seeded weights as a .npw, for `nanopose bench --model <out.npw> --profile`.
if (args.Length > 0 && args[0] == "seeded-npw")
{
    var model = ModelBenchmarks.Cases.FirstOrDefault(m => args.Length == 3 && m.Name == args[1])
        ?? throw new ArgumentException($"usage: seeded-npw <{string.Join("|", ModelBenchmarks.Cases.Select(m => m.Name).Distinct())}> <out.npw>");
    var recording = new NanoPose.WeightsTools.Conversion.RecordingWeightSource(model.Weights());
    var writer = new NanoPose.Weights.NpwWriter(model.Build(recording, null).Architecture);
    recording.WriteTo(writer, NanoPose.Weights.WeightDType.Float32);
    File.WriteAllBytes(args[2], writer.ToBytes());
    return 0;
}

// Every suite in this assembly; pick with --filter, e.g. --filter '*Conv*'.
var config = DefaultConfig.Instance
    .AddColumn(ThroughputColumn.GFlops, ThroughputColumn.GBytes)
    // Whole model names (e.g. "wider-naive-litehrnet-18 256x192") instead of the default 20-character cut.
    .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
BenchmarkSwitcher.FromAssembly(typeof(IWorkload).Assembly).Run(args, config);
return 0;
