using Microsoft.ML.OnnxRuntime;
using NanoPose.ImageSharp;
using NanoPose.Layers;
using NanoPose.Models;
using NanoPose.Models.PicoDet;
using NanoPose.Pipelines.Detection;
using NanoPose.Pipelines.TopDown;
using NanoPose.Weights;
using NanoPose.WeightsTools.Onnx;

namespace NanoPose.Bench;

/// <summary>
/// The whole multi-person pipeline on one photo, decoded once into memory (decoding is not timed): the person detector
/// finds the people, a top-down pose network estimates each. The models are the CLI's built-in ones, read from
/// <c>src/NanoPose.Models/</c>: PicoDet-S 320 and PP-TinyPose 256×192; the photo is
/// <c>$NANOPOSE_SHARED/data/coco-mini/000000197388.jpg</c> (5 people).
/// <see cref="NanoPosePipeline"/> is the public API (<see cref="PoseEstimator"/> with a <see cref="PersonDetector"/>);
/// <see cref="OnnxRuntimePipeline"/> runs the same two models exported to ONNX with the same C# pre- and post-processing.
/// </summary>
internal static class MultiPersonPipeline
{
    public const string PhotoName = "000000197388.jpg";
    public const int DetectorSize = 320;

    /// <summary>The built-in model files as the CLI embeds them.</summary>
    public static NpwFile PoseModel() => NpwFile.Load(Path.Combine(RepositoryRoot, "src/NanoPose.Models/pp-tinypose-256x192.npw"));
    public static NpwFile DetectorModel() => NpwFile.Load(Path.Combine(RepositoryRoot, $"src/NanoPose.Models/picodet-s-{DetectorSize}.npw"));

    public static DecodedImage Photo()
    {
        string shared = Environment.GetEnvironmentVariable("NANOPOSE_SHARED") is { Length: > 0 } configured
            ? configured : Path.Combine(RepositoryRoot, "..", "shared");
        return new ImageFileDecoder().Decode(Path.Combine(shared, "data/coco-mini", PhotoName));
    }

    private static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NanoPose.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no NanoPose.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>NanoPose's pipeline through the public API, on <paramref name="threads"/> threads (the estimator's and
    /// the detector's each, as <c>nanopose predict</c> gives one image).</summary>
    public sealed class NanoPosePipeline : IDisposable
    {
        private readonly PersonDetector _detector;
        private readonly PoseEstimator _estimator;
        private readonly DecodedImage _photo = Photo();

        public NanoPosePipeline(int threads)
        {
            _detector = PersonDetector.Load(DetectorModel(), new PersonDetectorOptions { Threads = threads });
            _estimator = PoseEstimator.Load(PoseModel(), new PoseEstimatorOptions { Threads = threads }, _detector);
        }

        public IReadOnlyList<EstimatedPerson> Run() =>
            _estimator.Estimate(_photo.Pixels, _photo.Width, _photo.Height, _photo.Stride, PixelFormat.Rgb24);

        public void Dispose()
        {
            _estimator.Dispose();
            _detector.Dispose();
        }
    }

    /// <summary>
    /// The same pipeline with both networks in ONNX Runtime (one intra-op thread each, full graph optimisation): the
    /// detector's input prepared as <see cref="PersonDetector"/> does, its 12 raw outputs copied into maps and decoded,
    /// NMS'd, thresholded and clipped as there (score ≥ 0.5, at most 100 people); the crops, their normalisation,
    /// heatmap decoding and OKS-NMS by <see cref="TopDownPipeline"/> around an <see cref="IPoseNetwork"/> that runs the
    /// pose network's ONNX export. The glue copies each network's input into a pinned array and its outputs into
    /// NHWC maps (NanoPose's networks need neither copy).
    /// </summary>
    public sealed class OnnxRuntimePipeline : IDisposable
    {
        private readonly DecodedImage _photo = Photo();
        private readonly OrtNetwork _detector, _pose;
        private readonly TopDownPipeline _pipeline;
        private readonly PicoDetOutputs _levels;
        private readonly byte[] _resized = new byte[DetectorSize * DetectorSize * 3];
        private readonly DetectionPostProcessing _post;
        private readonly PersonDetectorOptions _options = new();

        public OnnxRuntimePipeline()
        {
            var detector = DetectorModel();
            var pose = PoseModel();
            _detector = new OrtNetwork(detector, DetectorSize, DetectorSize);
            var config = pose.ReadConfiguration(Models.LiteHrnet.LiteHrnetConfig.FromArchitecture);
            _pose = new OrtNetwork(pose, config.InputHeight, config.InputWidth);
            // The estimator's defaults (DARK decoding), so both sides do the same post-processing.
            _pipeline = new TopDownPipeline(_pose, new TopDownOptions { Decoding = new PoseEstimatorOptions().Decoding });
            var maps = _detector.Outputs;
            _levels = new PicoDetOutputs([.. Enumerable.Range(0, 4).Select(l => new PicoDetLevel(8 << l, maps[3 * l], maps[3 * l + 1], maps[3 * l + 2]))],
                PicoDetDecoder.Bins);
            _post = new DetectionPostProcessing(_levels.AnchorCount);
        }

        public IReadOnlyList<TopDownPerson> Run()
        {
            var image = new RgbImage(_photo.Pixels, _photo.Width, _photo.Height, _photo.Stride);
            var people = Detect(image);
            return people.Count == 0 ? [] : _pipeline.Estimate(image, [.. people]);
        }

        /// <summary>As PersonDetector's runner, with ONNX Runtime running the network.</summary>
        private List<PersonBox> Detect(RgbImage image)
        {
            DetectorInput.Prepare(image, bgr: false, DetectorSize, DetectorSize, _resized, _detector.Input);
            _detector.Run();
            return _post.People(_levels, DetectorSize, DetectorSize, image.Width, image.Height, _options);
        }

        public void Dispose()
        {
            _detector.Dispose();
            _pose.Dispose();
        }
    }

    /// <summary>A .npw file's ONNX export in ONNX Runtime, one thread, as an <see cref="IPoseNetwork"/>: a run copies the
    /// image into the pinned input array and every output into an NHWC map.</summary>
    private sealed class OrtNetwork : IPoseNetwork, IDisposable
    {
        private readonly InferenceSession _session;
        private readonly RunOptions _runOptions = new();
        private readonly OrtValue _input;
        private readonly string[] _inputNames, _outputNames;

        public OrtNetwork(NpwFile file, int height, int width)
        {
            using var options = new SessionOptions
            {
                IntraOpNumThreads = 1,
                InterOpNumThreads = 1,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            };
            _session = new InferenceSession(OnnxExport.Export(file, height, width), options);
            (Architecture, InputHeight, InputWidth) = (file.Architecture, height, width);
            Input = new float[3 * height * width];
            _input = OrtValue.CreateTensorValueFromMemory(Input, [1, 3, height, width]);
            _inputNames = [.. _session.InputNames];
            _outputNames = [.. _session.OutputNames];
            Outputs = [.. _outputNames.Select(name =>
            {
                var shape = _session.OutputMetadata[name].Dimensions;
                return FeatureMap.Allocate(shape[2], shape[3], shape[1]);
            })];
        }

        public float[] Input { get; }
        public FeatureMap[] Outputs { get; }

        /// <summary>Runs on <see cref="Input"/>; the results land in <see cref="Outputs"/>.</summary>
        public void Run()
        {
            using var results = _session.Run(_runOptions, _inputNames, [_input], _outputNames);
            for (int i = 0; i < Outputs.Length; i++) Outputs[i].CopyFromNchw(results[i].GetTensorDataAsSpan<float>());
        }

        public IReadOnlyList<FeatureMap> Forward(ReadOnlySpan<float> imageNchw)
        {
            imageNchw.CopyTo(Input);
            Run();
            return Outputs;
        }

        public ModelArchitecture Architecture { get; }
        public int InputChannels => 3;
        public int InputHeight { get; }
        public int InputWidth { get; }
        public long ParameterCount => 0;
        public long MultiplyAccumulates => 0;
        public long BufferFloats => 0;
        public IPoseNetwork Replicate() => throw new NotSupportedException("one ONNX Runtime session, one thread");
        public OperationProfile? Profile { get => null; set { } }
        public IReadOnlyList<(string Label, string Value)> Figures => [];

        public void Dispose()
        {
            _input.Dispose();
            _runOptions.Dispose();
            _session.Dispose();
        }
    }

    /// <summary>
    /// Throws unless both pipelines find the same people: boxes within 0.01 px, and keypoints within 0.5 px except where
    /// a heatmap's argmax falls on the neighbouring cell (rounding in either network can tip a near-tie): those must
    /// stay within 1.5 heatmap cells of the person's crop (the neighbour, and the quarter-cell shifts towards the
    /// higher neighbour taken in opposite directions), and be no more than 1 in 20.
    /// </summary>
    public static string RequireSameResults(IReadOnlyList<EstimatedPerson> nano, IReadOnlyList<TopDownPerson> ort)
    {
        if (nano.Count != ort.Count)
            throw new InvalidOperationException($"NanoPose finds {nano.Count} people, the ONNX Runtime pipeline {ort.Count}");
        double worstBox = 0, worst = 0;
        int keypoints = 0, apart = 0;
        for (int p = 0; p < nano.Count; p++)
        {
            var (a, b) = (nano[p].Box!.Value, ort[p].Box);
            worstBox = new[] { worstBox, Math.Abs(a.X - b.X), Math.Abs(a.Y - b.Y), Math.Abs(a.Width - b.Width), Math.Abs(a.Height - b.Height) }.Max();
            // One heatmap cell: the crop's height over the 64 heatmap rows.
            double cell = ort[p].CenterScale.ScaleY * CenterScale.PixelStd / 64;
            for (int k = 0; k < nano[p].Keypoints.Count; k++)
            {
                var (x, y) = (nano[p].Keypoints[k], ort[p].Keypoints[k]);
                double d = Math.Max(Math.Abs(x.X - y.X), Math.Abs(x.Y - y.Y));
                keypoints++;
                if (d > 0.5) apart++;
                if (d > 1.5 * cell) throw new InvalidOperationException($"person {p} keypoint {k}: {d:G3} px apart, more than 1.5 heatmap cells ({cell:G3} px each)");
                worst = Math.Max(worst, d);
            }
        }
        if (!(worstBox <= 0.01)) throw new InvalidOperationException($"the pipelines' boxes differ by up to {worstBox:G3} px");
        if (apart * 20 > keypoints) throw new InvalidOperationException($"{apart} of {keypoints} keypoints more than 0.5 px apart");
        return $"{nano.Count} people in both; boxes at most {worstBox:G3} px apart; keypoints: {apart} of {keypoints} more than 0.5 px apart (at most {worst:G3} px)";
    }
}
