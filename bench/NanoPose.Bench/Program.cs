using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using NanoPose.Bench.Infrastructure;

// Every suite in this assembly; pick with --filter, e.g. --filter '*Conv*'.
var config = DefaultConfig.Instance
    .AddColumn(ThroughputColumn.GFlops, ThroughputColumn.GBytes);
BenchmarkSwitcher.FromAssembly(typeof(IWorkload).Assembly).Run(args, config);
