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
/// The first table ends with the whole multi-person pipeline on a photo (MultiPersonPipeline.cs: the built-in
/// detector and pose model; NanoPose through PoseEstimator, ONNX Runtime running both exports with the same C# pre- and
/// post-processing; their people checked to agree first). A second table times NanoPose alone on 1 and 2 threads in
/// alternation (top-down with 8 people, H0, the pipeline): the speed-up.
/// With <c>--ncnn</c> (the path of ncnn's PP-TinyPose timer, ../shared/tools/ncnn-bench/tinypose_bench) a third table
/// puts ncnn beside the two on PP-TinyPose's network, in rounds of batches (see <see cref="MeasureWithNcnn"/>).
/// <code>dotnet run -c Release --project bench/NanoPose.Bench -- paired [--seconds S] [--models name,…] [--ncnn tinypose_bench]</code>
/// </summary>
internal static class PairedComparison
{
    public static int Run(string[] args)
    {
        double seconds = 20;
        string[]? models = null;
        string? ncnn = null;
        for (int i = 1; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i++])
            {
                case "--seconds": seconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--models": models = value.Split(','); break;
                case "--ncnn": ncnn = value; break;
                default: throw new ArgumentException($"unknown option {args[i - 1]} (expected --seconds, --models or --ncnn)");
            }
        }
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"paired rounds, one thread, {seconds:F0} s per model after a 2 s warm-up; ratio = NanoPose / ONNX Runtime per round");
        Console.WriteLine("| model | rounds | NanoPose median | ONNX Runtime median | ratio median | ratio 25–75 % |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var model in ModelBenchmarks.Cases.Where(m => Selected(models, m.ToString())))
        {
            var bench = new VersusOnnxRuntimeBenchmarks { Model = model, Threads = 1 };
            bench.Setup();
            try
            {
                var (nano, ort, ratios) = Measure(() => bench.NanoPose(), () => bench.OnnxRuntime(), seconds);
                Console.WriteLine(string.Create(inv,
                    $"| {model} | {ratios.Length} | {Median(nano):F2} ms | {Median(ort):F2} ms | {Median(ratios):F3} | {Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3} |"));
            }
            finally
            {
                bench.Cleanup();
            }
        }
        if (Selected(models, PipelineName))
        {
            // The whole multi-person pipeline (MultiPersonPipeline.cs): detector, then a top-down network per person.
            using var nano = new MultiPersonPipeline.NanoPosePipeline(threads: 1);
            using var ort = new MultiPersonPipeline.OnnxRuntimePipeline();
            Console.WriteLine($"// {PipelineName}: {MultiPersonPipeline.RequireSameResults(nano.Run(), ort.Run())}");
            var (nanoTimes, ortTimes, ratios) = Measure(() => nano.Run(), () => ort.Run(), seconds);
            Console.WriteLine(string.Create(inv,
                $"| {PipelineName} | {ratios.Length} | {Median(nanoTimes):F2} ms | {Median(ortTimes):F2} ms | {Median(ratios):F3} | {Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3} |"));
        }

        if (ncnn is not null) MeasureWithNcnn(ncnn, seconds);

        // Issue 7's thread targets: NanoPose's own speed-up from 1 to 2 threads, the two timed in alternation as well,
        // each timed call after two untimed ones (a switch leaves the other configuration's caches cold and its worker asleep).
        Console.WriteLine();
        Console.WriteLine("| NanoPose work | rounds | 1 thread median | 2 threads median | speed-up (median of 1-thread / 2-thread per round) | 25–75 % |");
        Console.WriteLine("|---|---|---|---|---|---|");
        var speedUps = new (string Name, Func<int, (Action Run, Action Cleanup)> Make)[]
        {
            ("top-down, 8 people, Lite-HRNet-18 crops", threads =>
            {
                var b = new TopDownBenchmarks { Threads = threads };
                b.Setup();
                return (() => b.EightPeople(), b.Cleanup);
            }),
            ("efficienthrnet-h0 512x512", threads =>
            {
                var b = new ModelBenchmarks { Model = ModelBenchmarks.Cases.Single(c => c.Name == "efficienthrnet-h0"), Threads = threads };
                b.Setup();
                return (() => b.Forward(), b.Cleanup);
            }),
            (PipelineName, threads =>
            {
                var p = new MultiPersonPipeline.NanoPosePipeline(threads);
                return (() => p.Run(), p.Dispose);
            }),
        };
        foreach (var (name, make) in speedUps.Where(w => Selected(models, w.Name)))
        {
            var one = make(1);
            var two = make(2);
            try
            {
                var (single, dual, ratios) = Measure(one.Run, two.Run, seconds, untimed: 2);
                Console.WriteLine(string.Create(inv,
                    $"| {name} | {ratios.Length} | {Median(single):F2} ms | {Median(dual):F2} ms | {Median(ratios):F2}× | {Quantile(ratios, 0.25):F2}–{Quantile(ratios, 0.75):F2}× |"));
            }
            finally
            {
                one.Cleanup();
                two.Cleanup();
            }
        }
        return 0;
    }

    /// <summary>
    /// NanoPose, ONNX Runtime and ncnn on PP-TinyPose's network (wider-naive Lite-HRNet-18, 256×192, one thread). ncnn
    /// runs in its own process (its timer, <c>tinypose_bench</c>, on the trained ncnn files of ../shared/models), so a
    /// round is a batch of each: the median of 20 NanoPose calls, of 20 ONNX Runtime calls, and the median_ms ncnn's timer
    /// prints for 20 runs after 5 warm-up runs, in an order that rotates from round to round. NanoPose and ONNX Runtime
    /// run the seeded-weight network of the table above (same layers and shapes; time does not depend on the weights'
    /// values). Ratios are per round: NanoPose / ONNX Runtime and NanoPose / ncnn.
    /// </summary>
    static void MeasureWithNcnn(string timer, double seconds)
    {
        string models = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(timer))!, "..", "..", "models", "pp-tinypose");
        string param = Path.Combine(models, "tinypose_256x192.param"), bin = Path.Combine(models, "tinypose_256x192.bin");
        var bench = new VersusOnnxRuntimeBenchmarks { Model = ModelBenchmarks.Cases.Single(c => c.Name == "wider-naive-litehrnet-18"), Threads = 1 };
        bench.Setup();
        try
        {
            const int batch = 20;
            double Batch(Action run) => Median([.. Enumerable.Range(0, batch).Select(_ => Time(run, 0))]);
            double Ncnn()
            {
                var start = new ProcessStartInfo(timer) { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (string a in (string[])[param, bin, "--threads", "1", "--runs", $"{batch}", "--warmup", "5", "--precision", "fp32"]) start.ArgumentList.Add(a);
                using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {timer}");
                string text = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                var median = System.Text.RegularExpressions.Regex.Match(text, @"median_ms=([0-9.]+)");
                if (process.ExitCode != 0 || !median.Success) throw new InvalidOperationException($"{timer} failed ({process.ExitCode}): {text}{process.StandardError.ReadToEnd()}");
                return double.Parse(median.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            Func<double>[] engines = [() => Batch(() => bench.NanoPose()), () => Batch(() => bench.OnnxRuntime()), Ncnn];
            foreach (var engine in engines) engine();   // warm-up
            List<double>[] times = [[], [], []];
            for (var clock = Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < seconds || times[0].Count < 5;)
            {
                int round = times[0].Count;
                for (int k = 0; k < 3; k++)
                {
                    int e = (round + k) % 3;
                    times[e].Add(engines[e]());
                }
            }
            double[] versusOrt = [.. times[0].Zip(times[1], (n, o) => n / o)], versusNcnn = [.. times[0].Zip(times[2], (n, c) => n / c)];
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine();
            Console.WriteLine($"PP-TinyPose 256x192, one thread, rounds of {batch}-call batches (ncnn: its own process, {timer})");
            Console.WriteLine("| rounds | NanoPose median | ONNX Runtime median | ncnn fp32 median | NanoPose / ORT (25–75 %) | NanoPose / ncnn (25–75 %) |");
            Console.WriteLine("|---|---|---|---|---|---|");
            Console.WriteLine(string.Create(inv,
                $"| {times[0].Count} | {Median([.. times[0]]):F2} ms | {Median([.. times[1]]):F2} ms | {Median([.. times[2]]):F2} ms | " +
                $"{Median(versusOrt):F3} ({Quantile(versusOrt, 0.25):F3}–{Quantile(versusOrt, 0.75):F3}) | {Median(versusNcnn):F3} ({Quantile(versusNcnn, 0.25):F3}–{Quantile(versusNcnn, 0.75):F3}) |"));
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static readonly string PipelineName = $"pipeline {MultiPersonPipeline.PhotoName} (PicoDet-S {MultiPersonPipeline.DetectorSize} + PP-TinyPose 256x192)";

    /// <summary>A case is run when no <c>--models</c> are given or its name holds one of them.</summary>
    static bool Selected(string[]? models, string name) =>
        models is null || models.Any(n => name.Contains(n, StringComparison.OrdinalIgnoreCase));

    /// <summary>Alternating rounds of <paramref name="first"/> and <paramref name="second"/> (which goes first alternates)
    /// after a 2 s warm-up; the per-round ratio is first / second. With <paramref name="untimed"/> &gt; 0 each timed call
    /// follows that many untimed ones of the same work, so it starts warm (caches, a pool's workers awake).</summary>
    static (double[] First, double[] Second, double[] Ratios) Measure(Action first, Action second, double seconds, int untimed = 0)
    {
        for (var warmUp = Stopwatch.StartNew(); warmUp.Elapsed.TotalSeconds < 2;)
        {
            first();
            second();
        }
        List<double> a = [], b = [];
        for (var clock = Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < seconds || a.Count < 10;)
        {
            if (a.Count % 2 == 0)
            {
                a.Add(Time(first, untimed));
                b.Add(Time(second, untimed));
            }
            else
            {
                b.Add(Time(second, untimed));
                a.Add(Time(first, untimed));
            }
        }
        return ([.. a], [.. b], [.. a.Zip(b, (x, y) => x / y)]);
    }

    static double Time(Action run, int untimed)
    {
        for (int i = 0; i < untimed; i++) run();
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
