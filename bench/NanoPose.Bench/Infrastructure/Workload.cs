using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NanoPose.Bench.Infrastructure;

/// <summary>
/// A benchmark parameter that knows how much work one invocation does. Benchmarks take their shape as a
/// <c>[ParamsSource]</c> of these, and the GFLOP/s and GB/s columns read the figures from it.
/// </summary>
public interface IWorkload
{
    /// <summary>Floating-point operations per invocation (a multiply-add counts as 2).</summary>
    double Flops { get; }
    /// <summary>Bytes that must cross memory per invocation at least once (inputs, weights, outputs).</summary>
    double Bytes { get; }
}

/// <summary>GFLOP/s or GB/s from the mean time and the <see cref="IWorkload"/> parameter of each case.</summary>
public sealed class ThroughputColumn(string name, Func<IWorkload, double> amount) : IColumn
{
    public static readonly IColumn GFlops = new ThroughputColumn("GFLOP/s", w => w.Flops);
    public static readonly IColumn GBytes = new ThroughputColumn("GB/s", w => w.Bytes);

    public string Id => nameof(ThroughputColumn) + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"{name} = work per invocation / mean time";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var workload = benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<IWorkload>().FirstOrDefault();
        var report = summary[benchmarkCase];
        if (workload is null || report?.ResultStatistics is null) return "-";
        double seconds = report.ResultStatistics.Mean * 1e-9;
        return (amount(workload) / seconds / 1e9).ToString("F1");
    }
}
