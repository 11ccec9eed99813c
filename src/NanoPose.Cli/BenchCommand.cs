using NanoPose.IO;
using System.Diagnostics;
using System.Globalization;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Models;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose.Cli;

/// <summary>
/// <c>bench</c>: times the network's forward pass (no image decoding or keypoint decoding) on a fixed random image:
/// warm-up runs first (at least 3 and half a second), then <c>--runs</c> timed runs; prints median, 90th percentile
/// and minimum latency, multiply-accumulates per second at the median, and the vector width the kernels use.
/// <c>--threads N</c> splits each operation of the network over N threads. <c>--profile</c> then runs the network
/// again as often with each operation timed, and prints where the time goes (operations kind by kind, the slowest
/// layers); the latency figures above it come from the untimed runs. <c>--model</c> may also be a person detector
/// (the picodet family: its network up to the raw logits, no decoding or NMS); <c>--detector 192|320</c> times the
/// built-in one trained at that size.
/// </summary>
internal static class BenchCommand
{
    private const int MinWarmUpRuns = 3;
    private static readonly TimeSpan MinWarmUp = TimeSpan.FromSeconds(0.5);

    public static void Run(Options options, TextWriter output)
    {
        int runs = options.IntInRange("--runs", 50, 1, 1_000_000);
        var (height, width) = InputSize(options.Optional("--input"));
        var file = options.Optional("--detector") is { } detector
            ? options.Optional("--model") is null ? BuiltInDetectorFile(detector) : throw new UsageException("give --model or --detector, not both")
            : BuiltInModel.LoadOr(options.Optional("--model"));
        int threads = options.IntInRange("--threads", 1, 1, WorkerPool.MaxThreads);
        using var pool = threads > 1 ? new WorkerPool(threads) : null;
        var network = PoseNetworks.Load(file, Isa.Best, height, width, pool);

        var random = new Random(1);
        var image = new float[network.InputChannels * network.InputHeight * network.InputWidth];
        foreach (ref float x in image.AsSpan()) x = (float)(random.NextDouble() * 4 - 2);   // about the range of a normalised photo

        int warmUps = 0;
        for (var clock = Stopwatch.StartNew(); warmUps < MinWarmUpRuns || clock.Elapsed < MinWarmUp; warmUps++) network.Forward(image);
        var milliseconds = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            network.Forward(image);
            milliseconds[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(milliseconds);
        double median = runs % 2 == 1 ? milliseconds[runs / 2] : (milliseconds[runs / 2 - 1] + milliseconds[runs / 2]) / 2;
        double p90 = milliseconds[(int)Math.Ceiling(0.9 * runs) - 1];   // nearest rank

        var architecture = file.Architecture;
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(Printable.Text($"model: {file.Source} ({architecture.Family} / {architecture.Variant})"));
        output.WriteLine($"input: {network.InputChannels}×{network.InputHeight}×{network.InputWidth} (C×H×W), {threads} thread{(threads == 1 ? "" : "s")}, kernels {Isa.Best} of {Isa.Describe()}");
        output.WriteLine(string.Create(inv, $"runs: {runs} timed after {warmUps} warm-up, network forward pass only"));
        output.WriteLine(string.Create(inv, $"latency: median {median:F2} ms, p90 {p90:F2} ms, min {milliseconds[0]:F2} ms"));
        output.WriteLine(string.Create(inv,
            $"speed: {network.MultiplyAccumulates / (median / 1000) / 1e9:F1} GMAC/s at the median ({network.MultiplyAccumulates / 1e6:F1}M multiply-accumulates per run)"));
        if (!options.Flag("--profile")) return;
        var profile = new OperationProfile();
        network.Profile = profile;
        for (int i = 0; i < runs; i++) network.Forward(image);
        network.Profile = null;
        profile.Write(output, runs);
    }

    /// <summary>The built-in detector of <c>--detector</c> (one of <see cref="BuiltInDetector.Sizes"/>).</summary>
    private static NpwFile BuiltInDetectorFile(string size) =>
        int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out int s) && BuiltInDetector.Sizes.Contains(s)
            ? BuiltInDetector.Model(s)
            : throw new UsageException($"--detector must be {string.Join(" or ", BuiltInDetector.Sizes)} (the built-in detector's size), not '{size}'");

    /// <summary><c>--input</c> as width × height ("192x256"); null: the model's own size.</summary>
    private static (int? Height, int? Width) InputSize(string? text)
    {
        if (text is null) return (null, null);
        string[] parts = text.Split('x', 'X', '×');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height)
            && width is > 0 and <= 8192 && height is > 0 and <= 8192)
            return (height, width);
        throw new UsageException($"--input must be <width>x<height> with sides 1..8192 (e.g. 192x256), not '{text}'");
    }
}
