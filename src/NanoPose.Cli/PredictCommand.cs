using NanoPose.IO;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using NanoPose.Evaluation;
using NanoPose.ImageSharp;
using NanoPose.Pipelines.TopDown;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose.Cli;

/// <summary>
/// <c>predict</c>: the people in every image named (files, folders, globs: see <see cref="ImageInputs"/>), in COCO
/// results format with the file name added. Standard output gets one person per line as each image finishes, in the
/// order the images were named; <c>--json</c> writes a COCO results array instead and <c>--jsonl</c> the lines to a
/// file. Top-down models use the boxes of <c>--boxes</c> for the image (none: no people). An image that cannot be read or estimated is reported on the error stream and the batch goes on;
/// the exit code is then 2. Top-down models find the people with the built-in person detector (or <c>--detector</c>;
/// <c>--detector none</c>: the whole image as one box) unless <c>--boxes</c> gives them. <c>--threads N</c> runs N images at once, each on its own estimator, or splits one
/// image's work over N threads when there are fewer images than threads.
/// The image id is the number a COCO file name holds (000000000785.jpg → 785), else the image's position (1, 2, ...).
/// </summary>
internal static class PredictCommand
{
    public const float DefaultMinScore = 0.3f;

    /// <summary>One image's people in COCO results format, each with its JSON line (made, and so checked, on the worker).</summary>
    private sealed record ImageOutput(long ImageId, IReadOnlyList<CocoKeypointDetection> Detections, IReadOnlyList<string> Lines);

    /// <summary>One image's result: its people, or the message saying why it has none.</summary>
    private sealed record ImageResult(string Path, ImageOutput Output, string? Error, bool IsInternal, double Milliseconds);

    public static int Run(Options options, TextWriter output, TextWriter error, bool showProgress, CancellationToken cancel)
    {
        if (options.Positionals.Count == 0) throw new UsageException("predict needs at least one image, folder or glob");
        if (options.Optional("--json") is not null && options.Optional("--jsonl") is not null)
            throw new UsageException("--json and --jsonl are two formats for one output: give one of them");
        var estimatorOptions = PoseCommand.From(options);
        int threads = options.IntInRange("--threads", 1, 1, WorkerPool.MaxThreads);
        float minScore = options.FloatInRange("--min-score", DefaultMinScore, 0, 1);
        string drawFormat = options.Value("--draw-format")!;
        if (!PoseDrawing.Formats.Contains(drawFormat))
            throw new UsageException($"--draw-format must be {string.Join(" or ", PoseDrawing.Formats)}, not '{drawFormat}'");
        string? boxPath = options.Optional("--boxes");
        var boxes = boxPath is null ? null : BoxFile.Read(boxPath);
        string? drawFolder = options.Optional("--draw");
        string? jsonPath = options.Optional("--json"), linesPath = options.Optional("--jsonl");

        int failed = 0;
        var inputs = ImageInputs.Expand(options.Positionals);
        foreach (var bad in inputs.Where(x => x.Error is not null))
        {
            error.WriteLine($"error: {bad.Error}");
            failed++;
        }
        string[] files = [.. inputs.SelectMany(x => x.Files)];
        var drawPaths = drawFolder is null ? null : PoseDrawing.TargetPaths(files, drawFolder, drawFormat);
        // Before any work: no output may replace an input (a drawing over its photo, results over a box file), and
        // every output folder must take files.
        string?[] inputFiles = [.. files, options.Optional("--model"), boxPath, options.Optional("--detector") is "none" ? null : options.Optional("--detector")];
        var outputFiles = new List<(string Option, string Path)>();
        if (jsonPath is not null) outputFiles.Add(("--json", jsonPath));
        if (linesPath is not null) outputFiles.Add(("--jsonl", linesPath));
        outputFiles.AddRange((drawPaths ?? []).Select(path => ("--draw", path)));
        OutputFiles.RefuseOverwrites(inputFiles.OfType<string>(), outputFiles);
        var model = BuiltInModel.LoadOr(options.Optional("--model"));
        // The detector finds the people for top-down models given no boxes; one for the batch (it is thread-safe). It
        // is built on a thread of its own while the estimators are built: neither needs the other before the first image.
        int threadsPerImage = Batch.ThreadsPerEstimator(threads, files.Length);
        using var detector = boxes is null && model.Architecture.Family == Models.LiteHrnet.LiteHrnetConfig.Family
            && BuiltInDetector.LoaderFromOptions(options, threadsPerImage) is { } loadDetector ? new DetectorLoad(loadDetector) : null;
        bool drawBoxes = !options.Flag("--no-boxes");
        if (drawFolder is not null) OutputFiles.PrepareFolder(drawFolder, "--draw");
        using var sink = DetectionSink.Open(jsonPath, linesPath, output);

        var batch = new Batch(files, model, detector, estimatorOptions, threads, cancel, (index, estimator, decoder) =>
        {
            string path = files[index];
            long imageId = ImageId(path, index + 1, boxes is not null);
            FilePaths.RequireRegularFile(path, "image");
            var image = decoder.Decode(path, cancel);
            IReadOnlyList<PersonBox>? imageBoxes = boxes is not null ? boxes.GetValueOrDefault(imageId) ?? []
                : detector?.Detector.Detect(image.Pixels, image.Width, image.Height, image.Stride, PixelFormat.Rgb24, cancel);
            var people = PoseCommand.Estimate(estimator, image, path, imageBoxes, boxPath, cancel);
            CocoKeypointDetection[] detections = [.. people.Select(person => PoseCommand.ToDetection(imageId, person) with { FileName = path })];
            string[] lines = [.. detections.Select(CocoJson.ToJsonLine)];   // a result that cannot be written fails its image, not the batch
            if (drawPaths is not null) PoseDrawing.Save(image, people, minScore, drawPaths[index], drawBoxes);
            return new ImageOutput(imageId, detections, lines);
        });

        var progress = showProgress && files.Length > 1 ? new ProgressBar(error, files.Length) : null;
        int done = 0, people = 0;
        bool internalError = false;
        double totalMilliseconds = 0;
        var clock = Stopwatch.StartNew();
        foreach (var result in batch.ResultsInOrder())
        {
            done++;
            totalMilliseconds += result.Milliseconds;
            if (result.Error is not null)
            {
                progress?.Clear();
                error.WriteLine($"error: {result.Error}");
                failed++;
                internalError |= result.IsInternal;
            }
            for (int i = 0; i < result.Output.Lines.Count; i++) sink.Write(result.Output.Detections[i], result.Output.Lines[i]);
            people += result.Output.Lines.Count;
            progress?.Update(done, failed);
        }
        clock.Stop();
        progress?.Clear();

        bool canceled = done < files.Length;
        // A canceled run leaves an earlier result file as it was: the file at the target is always a whole run's.
        if (!canceled) sink.Commit();
        error.WriteLine(Summary(done, files.Length, people, failed, clock.Elapsed.TotalMilliseconds, totalMilliseconds, batch.Workers, canceled));
        if (canceled && sink.FilePath is { } notWritten) error.WriteLine($"{Printable.Text(notWritten)}: not written (canceled); an earlier file there is unchanged");
        if (drawFolder is not null && done > 0) error.WriteLine($"pictures: {Printable.Text(drawFolder)}");
        return canceled ? CommandLine.CanceledExitCode : internalError ? 1 : failed > 0 ? 2 : 0;
    }

    private static string Summary(int done, int total, int people, int failed, double wallMilliseconds, double imageMilliseconds,
        int workers, bool canceled) => string.Create(CultureInfo.InvariantCulture,
        $"{(canceled ? $"canceled after {done} of {total}" : $"{done}")} image{((canceled ? total : done) == 1 ? "" : "s")}, {people} {(people == 1 ? "person" : "people")}, " +
        $"{failed} failed; {wallMilliseconds / 1000:F2} s, {(done == 0 ? 0 : wallMilliseconds / done):F1} ms per image " +
        $"({(done == 0 ? 0 : imageMilliseconds / done):F1} ms each to read, estimate{(workers > 1 ? $", {workers} at a time" : "")})");

    private static long ImageId(string path, int position, bool needed)
    {
        if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out long id)) return id;
        if (needed) throw new InvalidDataException($"{path}: with --boxes, image file names must be COCO image ids (e.g. 000000000785.jpg)");
        return position;
    }

    /// <summary>
    /// A <see cref="PersonDetector"/> being built on a thread of its own. <see cref="Detector"/> waits for it and rethrows
    /// what its build threw (a bad <c>--detector</c> file). Disposal waits too, then disposes the detector; a build
    /// that failed is not reported again there (its error was, or another error ended the command first).
    /// </summary>
    private sealed class DetectorLoad(Func<PersonDetector> load) : IDisposable
    {
        private readonly Task<PersonDetector> _build = Task.Factory.StartNew(load, CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);

        public PersonDetector Detector => _build.GetAwaiter().GetResult();

        public void Dispose()
        {
            ((IAsyncResult)_build).AsyncWaitHandle.WaitOne();
            if (_build.IsCompletedSuccessfully) _build.Result.Dispose();
        }
    }

    /// <summary>
    /// Runs the images on <c>workers</c> threads, each with its own estimator (so that each can have its share of
    /// worker threads: an estimator shared by callers lends its pool to one call at a time), and hands the results
    /// back in input order as they become available. With fewer images than threads the
    /// spare threads go inside the estimators (<see cref="PoseEstimatorOptions.Threads"/>). The estimators are built
    /// before any thread starts, so a bad model is reported like any other bad input. Cancellation stops handing out
    /// new images, and the images being estimated stop before their next network run (they are not reported).
    /// </summary>
    private sealed class Batch(string[] files, NpwFile model, DetectorLoad? detector, PoseEstimatorOptions options, int threads, CancellationToken cancel,
        Func<int, PoseEstimator, ImageFileDecoder, ImageOutput> process)
    {
        public int Workers { get; } = WorkersFor(threads, files.Length);

        /// <summary>Images in flight at once: the threads, but no more than the images.</summary>
        private static int WorkersFor(int threads, int images) => Math.Max(1, Math.Min(threads, images));

        /// <summary>The threads each image's work is split over: those left over when there are fewer images than threads.</summary>
        public static int ThreadsPerEstimator(int threads, int images) => Math.Max(1, threads / WorkersFor(threads, images));

        public IEnumerable<ImageResult> ResultsInOrder()
        {
            if (files.Length == 0) yield break;
            var estimators = new List<PoseEstimator>();
            try
            {
                var perEstimator = options with { Threads = ThreadsPerEstimator(threads, files.Length) };
                // The people are found before the estimators see an image (the batch's callback), so they take no detector.
                for (int w = 0; w < Workers; w++) estimators.Add(PoseEstimator.Load(model, perEstimator));
                _ = detector?.Detector;   // a detector that failed to build fails the command here, before any image
                foreach (var result in Run(estimators)) yield return result;
            }
            finally
            {
                foreach (var estimator in estimators) estimator.Dispose();
            }
        }

        private IEnumerable<ImageResult> Run(List<PoseEstimator> estimators)
        {
            using var finished = new BlockingCollection<(int Index, ImageResult Result)>();
            int next = -1, running = estimators.Count;
            Exception? crash = null;
            var threads = estimators.Select(estimator => new Thread(() =>
            {
                try
                {
                    var decoder = new ImageFileDecoder();
                    for (int i; !cancel.IsCancellationRequested && (i = Interlocked.Increment(ref next)) < files.Length;)
                        finished.Add((i, Process(i, estimator, decoder)));
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested) { }   // the image stopped midway: not a result
                catch (Exception e) { Interlocked.CompareExchange(ref crash, e, null); }   // handed to the caller below
                finally
                {
                    if (Interlocked.Decrement(ref running) == 0) finished.CompleteAdding();
                }
            }) { IsBackground = true, Name = "nanopose predict" }).ToList();
            threads.ForEach(t => t.Start());

            var early = new Dictionary<int, ImageResult>();
            int emitted = 0;
            foreach (var (index, result) in finished.GetConsumingEnumerable())
            {
                early[index] = result;
                while (early.Remove(emitted, out var ready))
                {
                    emitted++;
                    yield return ready;
                }
            }
            threads.ForEach(t => t.Join());
            if (crash is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(crash);
        }

        private ImageResult Process(int index, PoseEstimator estimator, ImageFileDecoder decoder)
        {
            long start = Stopwatch.GetTimestamp();
            string path = files[index];
            try
            {
                return new(path, process(index, estimator, decoder), null, false, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancel.IsCancellationRequested))
            {
                bool isInput = CommandLine.IsInputProblem(e);
                string message = isInput ? e.Message : $"{path}: internal error ({e.GetType().Name}): {e.Message}";
                if (isInput && !message.Contains(path, StringComparison.Ordinal)) message = $"{path}: {message}";
                return new(path, new ImageOutput(index + 1, [], []), Printable.Text(message), !isInput, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
    }

    /// <summary>
    /// Where detections go: lines to standard output (the default), or to a file (<c>--jsonl</c>), or a COCO array to
    /// a file (<c>--json</c>). A file is written through a <see cref="ResultFile"/>: opened before any image is read
    /// (a folder that cannot take it fails at once), and it replaces an earlier file only when the run completes.
    /// </summary>
    private sealed class DetectionSink : IDisposable
    {
        private readonly TextWriter _lines;
        private readonly ResultFile? _file;
        private readonly List<CocoKeypointDetection>? _array;

        private DetectionSink(TextWriter lines, ResultFile? file, bool array) => (_lines, _file, _array) = (lines, file, array ? [] : null);

        public static DetectionSink Open(string? jsonPath, string? linesPath, TextWriter output)
        {
            if (jsonPath is not null) return new(TextWriter.Null, ResultFile.Create(jsonPath, "--json"), array: true);
            if (linesPath is null) return new(output, null, array: false);
            var file = ResultFile.Create(linesPath, "--jsonl");
            return new(new StreamWriter(file.Stream, leaveOpen: true), file, array: false);
        }

        /// <summary>The result file's path; null for standard output.</summary>
        public string? FilePath => _file?.Path;

        public void Write(CocoKeypointDetection detection, string line)
        {
            if (_array is not null) _array.Add(detection);
            else
            {
                _lines.WriteLine(line);
                _lines.Flush();   // a consumer of the stream sees each person as soon as its image is done
            }
        }

        /// <summary>The run is complete: the result file takes the place of any earlier one.</summary>
        public void Commit()
        {
            if (_file is null) return;
            if (_array is not null) CocoJson.WriteDetections(_file.Stream, _array);
            else _lines.Flush();
            _file.Commit();
        }

        /// <summary>Without <see cref="Commit"/>, the temporary file is deleted and an earlier file stays.</summary>
        public void Dispose() => _file?.Dispose();
    }
}
