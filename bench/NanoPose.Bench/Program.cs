using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NanoPose.Bench;
using NanoPose.Bench.Infrastructure;

// `paired`: NanoPose and ONNX Runtime timed in alternating rounds (PairedComparison.cs).
if (args.Length > 0 && args[0] == "paired") return PairedComparison.Run(args);

// Every suite in this assembly; pick with --filter, e.g. --filter '*Conv*'.
var config = DefaultConfig.Instance
    .AddColumn(ThroughputColumn.GFlops, ThroughputColumn.GBytes)
    // Whole model names (e.g. "wider-naive-litehrnet-18 256x192") instead of the default 20-character cut.
    .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
BenchmarkSwitcher.FromAssembly(typeof(IWorkload).Assembly).Run(args, config);
return 0;
