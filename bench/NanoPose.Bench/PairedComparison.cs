using System.Diagnostics;
using System.Globalization;

namespace NanoPose.Bench;

/// <summary>
/// NanoPose beside ONNX Runtime timed in alternation: each round runs one forward pass of each (which goes first
/// alternates), so both see the machine as it is at that moment. On a shared host whose speed drifts by tens of
/// percent within a minute (this one's does), BenchmarkDotNet's case-after-case runs can compare a fast minute with
/// a slow one; the median of the per-round ratios does not. Same setup as <see cref="VersusOnnxRuntimeBenchmarks"/>
/// (seeded weights exported to ONNX, outputs checked to agree before timing). One thread only: with more, the engine
/// that has just finished keeps its idle workers spinning (ONNX Runtime's for milliseconds by default), and on two
/// cores they take the other engine's cores; a 20 ms pause before each call did not cure it (Lite-HRNet-18 on two
/// threads measured 13 ms, against 4 in BenchmarkDotNet), so multi-threaded comparisons stay with BenchmarkDotNet.
/// <code>dotnet run -c Release --project bench/NanoPose.Bench -- paired [--seconds S] [--models name,…]</code>
/// </summary>
internal static class PairedComparison
{
    public static int Run(string[] args)
    {
        double seconds = 20;
        string[]? models = null;
        for (int i = 1; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i++])
            {
                case "--seconds": seconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--models": models = value.Split(','); break;
                default: throw new ArgumentException($"unknown option {args[i - 1]} (expected --seconds or --models)");
            }
        }
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"paired rounds, one thread, {seconds:F0} s per model after a 2 s warm-up; ratio = NanoPose / ONNX Runtime per round");
        Console.WriteLine("| model | rounds | NanoPose median | ONNX Runtime median | ratio median | ratio 25–75 % |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var model in ModelBenchmarks.Cases.Where(m => models is null || models.Any(n => m.Name.Contains(n, StringComparison.OrdinalIgnoreCase))))
        {
            var bench = new VersusOnnxRuntimeBenchmarks { Model = model, Threads = 1 };
            bench.Setup();
            try
            {
                var (nano, ort, ratios) = Measure(bench, seconds);
                Console.WriteLine(string.Create(inv,
                    $"| {model} | {ratios.Length} | {Median(nano):F2} ms | {Median(ort):F2} ms | {Median(ratios):F3} | {Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3} |"));
            }
            finally
            {
                bench.Cleanup();
            }
        }
        return 0;
    }

    static (double[] NanoPose, double[] OnnxRuntime, double[] Ratios) Measure(VersusOnnxRuntimeBenchmarks bench, double seconds)
    {
        for (var warmUp = Stopwatch.StartNew(); warmUp.Elapsed.TotalSeconds < 2;)
        {
            bench.NanoPose();
            bench.OnnxRuntime();
        }
        List<double> nano = [], ort = [];
        for (var clock = Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < seconds || nano.Count < 10;)
        {
            bool nanoFirst = nano.Count % 2 == 0;
            double a = Time(nanoFirst ? () => bench.NanoPose() : () => bench.OnnxRuntime());
            double b = Time(nanoFirst ? () => bench.OnnxRuntime() : () => bench.NanoPose());
            nano.Add(nanoFirst ? a : b);
            ort.Add(nanoFirst ? b : a);
        }
        return ([.. nano], [.. ort], [.. nano.Zip(ort, (n, o) => n / o)]);
    }

    static double Time(Action run)
    {
        long start = Stopwatch.GetTimestamp();
        run();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    static double Median(double[] values) => Quantile(values, 0.5);

    static double Quantile(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        double position = q * (sorted.Length - 1);
        int low = (int)Math.Floor(position), high = (int)Math.Ceiling(position);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}
