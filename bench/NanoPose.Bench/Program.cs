using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NanoPose.Bench.Infrastructure;

// Every suite in this assembly; pick with --filter, e.g. --filter '*Conv*'.
var config = DefaultConfig.Instance
    .AddColumn(ThroughputColumn.GFlops, ThroughputColumn.GBytes)
    // Whole model names (e.g. "wider-naive-litehrnet-18 256x192") instead of the default 20-character cut.
    .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
BenchmarkSwitcher.FromAssembly(typeof(IWorkload).Assembly).Run(args, config);
