using System.Diagnostics;
using System.Globalization;
using NanoPose.Kernels.Common;

namespace NanoPose.Layers;

/// <summary>
/// Wall time per operation of a network, summed over runs: what <c>nanopose bench --profile</c> prints, to find the
/// operations that hold a model back. Each distinct operation (a convolution layer, or an elementwise kind at one
/// output shape) is one entry. Recording costs two timestamps per operation; a network records only while a profile
/// is attached (<see cref="Models.IPoseNetwork.Profile"/>), and the first run of each entry allocates it.
/// </summary>
public sealed class OperationProfile
{
    private readonly Dictionary<(string Kind, object? Layer, Nhwc Output), Entry> _entries = [];

    /// <summary>One operation: what it is, its total time and calls, and its multiply-accumulates per call (0 for
    /// operations that are not convolutions).</summary>
    public sealed record Entry(string Kind, string Description, long MultiplyAccumulates)
    {
        public long Ticks { get; internal set; }
        public long Calls { get; internal set; }
        public double Milliseconds => Ticks * 1000.0 / Stopwatch.Frequency;
    }

    public IEnumerable<Entry> Entries => _entries.Values;

    /// <summary>Adds the time since <paramref name="startTimestamp"/> to the entry of this operation.</summary>
    internal void Add(string kind, object? layer, Nhwc input, Nhwc output, long startTimestamp, long multiplyAccumulates = 0)
    {
        long ticks = Stopwatch.GetTimestamp() - startTimestamp;
        if (!_entries.TryGetValue((kind, layer, output), out var entry))
            _entries[(kind, layer, output)] = entry = new Entry(kind, Describe(kind, layer, input, output), multiplyAccumulates);
        entry.Ticks += ticks;
        entry.Calls++;
    }

    private static string Describe(string kind, object? layer, Nhwc input, Nhwc output) => layer switch
    {
        ConvLayer conv => conv.Describe(input),
        DeconvLayer deconv => $"{deconv.Name}: {kind} stride 2 {deconv.InChannels}→{deconv.OutChannels}, {input.Height}×{input.Width} → {output.Height}×{output.Width}",
        _ => $"{kind} → {output.Height}×{output.Width}×{output.Channels}",
    };

    /// <summary>A table of the operations by kind, then the <paramref name="top"/> slowest single operations, with the
    /// share of the total time and GFLOP/s (2 per multiply-accumulate) where the operation is a convolution.</summary>
    public void Write(TextWriter output, int runs, int top = 15)
    {
        var inv = CultureInfo.InvariantCulture;
        double total = _entries.Values.Sum(e => e.Milliseconds);
        if (total <= 0) return;
        output.WriteLine(string.Create(inv, $"profile: {total / runs:F2} ms per run inside operations, by kind"));
        output.WriteLine("  kind                  ms/run  share   GFLOP/s");
        foreach (var kind in _entries.Values.GroupBy(e => e.Kind).OrderByDescending(g => g.Sum(e => e.Ticks)))
        {
            double ms = kind.Sum(e => e.Milliseconds);
            long macs = kind.Sum(e => e.MultiplyAccumulates * e.Calls);
            output.WriteLine(string.Create(inv, $"  {kind.Key,-20} {ms / runs,7:F3} {100 * ms / total,5:F1}%   {Rate(macs, ms)}"));
        }
        output.WriteLine(string.Create(inv, $"the {top} slowest operations"));
        output.WriteLine("  ms/run  share   GFLOP/s  operation");
        foreach (var e in _entries.Values.OrderByDescending(e => e.Ticks).Take(top))
            output.WriteLine(string.Create(inv, $"  {e.Milliseconds / runs,6:F3} {100 * e.Milliseconds / total,5:F1}%   {Rate(e.MultiplyAccumulates * e.Calls, e.Milliseconds)}  {e.Description}"));
    }

    private static string Rate(long macs, double milliseconds) =>
        macs == 0 || milliseconds <= 0 ? "      -" : (2 * macs / (milliseconds / 1000) / 1e9).ToString("F1", CultureInfo.InvariantCulture).PadLeft(7);
}
