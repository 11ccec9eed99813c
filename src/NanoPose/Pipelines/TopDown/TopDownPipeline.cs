using NanoPose.Models;
using NanoPose.Threading;

namespace NanoPose.Pipelines.TopDown;

/// <summary>Choices for <see cref="TopDownPipeline"/>; the defaults are mmpose's COCO test settings except the flip test.</summary>
public sealed record TopDownOptions
{
    /// <summary>Also run the mirrored crop and average (<see cref="TopDownPipeline"/> then costs two network runs per box).</summary>
    public bool FlipTest { get; init; }

    public HeatmapDecoding Decoding { get; init; } = HeatmapDecoding.Default;

    /// <summary>Context around each box (<see cref="CenterScale.FromBox"/>).</summary>
    public double Padding { get; init; } = CenterScale.DefaultPadding;

    /// <summary>OKS-NMS threshold over the people of the image; null keeps every box's person.</summary>
    public double? OksNmsThreshold { get; init; } = OksNms.DefaultThreshold;
}

/// <summary>
/// Top-down pose estimation of the people in given boxes (MODELS.md A.12–A.13): each box is cropped to the network's
/// input by an affine warp, normalised, run through the network (and mirrored, with the flip test), its heatmaps
/// decoded and mapped back to image pixels, scored, and the people filtered by OKS-NMS.
/// <para>
/// With a <see cref="WorkerPool"/> of n threads, the crops run n at a time, thread p taking boxes p, p + n, … in one
/// dispatch, each thread cutting its crop, running its own instance of the network (<see cref="IPoseNetwork.Replicate"/>: shared weights, own buffers)
/// and decoding the heatmaps; a single crop runs on the given network, which may split its operations over the same
/// pool. Every person is computed exactly as with one thread.
/// </para>
/// <para>
/// Not thread-safe: the networks and the buffers here are reused by every call; use one pipeline per thread
/// (<see cref="PoseEstimator"/> keeps one per concurrent caller).
/// </para>
/// </summary>
public sealed unsafe class TopDownPipeline
{
    private readonly TopDownOptions _options;
    private readonly CropRunner[] _runners;
    private readonly Wave _wave;
    private readonly WorkerPool? _pool;
    private readonly int _inputWidth, _inputHeight;

    /// <param name="pool">Threads to run crops on in parallel (null: one at a time on the calling thread).</param>
    public TopDownPipeline(IPoseNetwork network, TopDownOptions? options = null, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.InputChannels != 3) throw new ArgumentException($"a top-down network takes an RGB image (3 channels), this one takes {network.InputChannels}", nameof(network));
        _options = options ?? new TopDownOptions();
        if (!Enum.IsDefined(_options.Decoding)) throw new ArgumentOutOfRangeException(nameof(options), _options.Decoding, "unknown decoding");
        (_pool, _inputWidth, _inputHeight) = (pool, network.InputWidth, network.InputHeight);
        _runners = new CropRunner[pool?.Threads ?? 1];
        for (int r = 0; r < _runners.Length; r++) _runners[r] = new CropRunner(r == 0 ? network : network.Replicate(), _options);
        _wave = new Wave(_runners);
    }

    /// <summary>
    /// One person per box that survives OKS-NMS, in the order of <paramref name="boxes"/>. Every box is checked first
    /// (<see cref="PersonBox.Validate"/>): an invalid one throws <see cref="ArgumentException"/> before any work.
    /// <paramref name="cancellationToken"/> is checked before every network run (each crop, each flip-test pass): once
    /// canceled, <see cref="OperationCanceledException"/> is thrown without running the remaining crops (a wave of
    /// crops running in parallel finishes its current runs first); the pipeline stays usable.
    /// </summary>
    public IReadOnlyList<TopDownPerson> Estimate(RgbImage image, ReadOnlySpan<PersonBox> boxes, CancellationToken cancellationToken = default)
    {
        var centerScales = new CenterScale[boxes.Length];
        for (int i = 0; i < boxes.Length; i++)
        {
            boxes[i].Validate(image.Width, image.Height, $"boxes[{i}]");
            centerScales[i] = CenterScale.FromBox(boxes[i], image.Width, image.Height, _inputWidth, _inputHeight, _options.Padding);
        }

        var people = new List<TopDownPerson>(boxes.Length);
        // The workers read the caller's image through a pointer: it stays pinned until every wave has returned.
        fixed (byte* pixels = image.Pixels)
        {
            _wave.Image = new PinnedImage(pixels, image.Pixels.Length, image.Width, image.Height, image.Stride);
            _wave.CancellationToken = cancellationToken;
            var keypoints = new Keypoint[boxes.Length][];
            (_wave.Boxes, _wave.Keypoints) = (centerScales, keypoints);
            // Whole rounds of crops in one dispatch: runner r cuts, runs and decodes boxes r, r + n, r + 2n, … (no
            // barrier between rounds); the last, partial round is a wave of its own, where a single crop runs on the
            // given network and may split its operations over the pool.
            int threads = _runners.Length, rounds = boxes.Length / threads;
            if (threads > 1 && rounds > 0)
            {
                (_wave.First, _wave.Count) = (0, rounds * threads);
                _pool!.Run(_wave, threads);
            }
            int done = threads > 1 ? rounds * threads : 0;
            if (done < boxes.Length)
            {
                _wave.First = done;
                _wave.Count = boxes.Length - done;
                int count = Math.Min(threads, _wave.Count);
                if (count == 1 || _pool is null) _wave.Run(0, 1);
                else _pool.Run(_wave, count);
            }
            for (int i = 0; i < boxes.Length; i++)
                people.Add(new TopDownPerson(keypoints[i], PersonScoring.InstanceScore(keypoints[i], boxes[i].Score), boxes[i], centerScales[i]));
            (_wave.Boxes, _wave.Keypoints) = ([], []);
            _wave.Image = default;
        }

        if (_options.OksNmsThreshold is not double threshold) return people;
        var kept = OksNms.Keep(people, threshold);
        Array.Sort(kept);
        return [.. kept.Select(i => people[i])];
    }

    /// <summary>The caller's image while <see cref="Estimate"/> keeps it pinned, for the worker threads.</summary>
    private readonly struct PinnedImage(byte* pixels, int length, int width, int height, int stride)
    {
        public RgbImage ToImage() => new(new ReadOnlySpan<byte>(pixels, length), width, height, stride);
    }

    /// <summary>Boxes [First, First + Count): part p of n runs boxes First + p, First + p + n, … on runner p.</summary>
    private sealed class Wave(CropRunner[] runners) : IParallelWork
    {
        public PinnedImage Image { get; set; }
        public CancellationToken CancellationToken { get; set; }
        public CenterScale[] Boxes { get; set; } = [];
        public Keypoint[][] Keypoints { get; set; } = [];
        public int First { get; set; }
        public int Count { get; set; }

        public void Run(int part, int parts)
        {
            var runner = runners[part];
            for (int i = First + part; i < First + Count; i += parts)
            {
                runner.Box = Boxes[i];
                runner.Run(Image.ToImage(), CancellationToken);
                Keypoints[i] = runner.TakeKeypoints();
            }
        }
    }

    /// <summary>One crop at a time on one network: cut <see cref="Box"/> out of the image, run the network (twice with
    /// the flip test, averaging the heatmaps) and decode the keypoints in image pixels.</summary>
    private sealed class CropRunner(IPoseNetwork network, TopDownOptions options)
    {
        private readonly InputNormalization _normalization = InputNormalization.ImageNet;
        private readonly byte[] _crop = new byte[network.InputWidth * network.InputHeight * 3];
        private readonly float[] _input = new float[network.InputWidth * network.InputHeight * 3];
        private readonly float[] _flippedInput = new float[network.InputWidth * network.InputHeight * 3];
        private float[] _heatmaps = [], _heatmapsOfFlipped = [], _averaged = [];
        private Keypoint[]? _keypoints;

        public CenterScale Box { get; set; }

        /// <summary>The keypoints of the last <see cref="Run"/>; each array is handed out once.</summary>
        public Keypoint[] TakeKeypoints()
        {
            var keypoints = _keypoints ?? throw new InvalidOperationException("no crop has run");
            _keypoints = null;
            return keypoints;
        }

        public void Run(RgbImage image, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int inputWidth = network.InputWidth, inputHeight = network.InputHeight;
            AffineWarp.WarpBilinear(image, AffineTransform.FromCenterScale(Box, inputWidth, inputHeight), _crop, inputWidth, inputHeight);
            _normalization.ToNchw(_crop, inputWidth, inputHeight, _input);
            var (heatmaps, height, width) = RunNetwork(_input, ref _heatmaps);
            if (options.FlipTest)
            {
                cancellationToken.ThrowIfCancellationRequested();
                FlipTest.FlipHorizontally(_input, 3, inputHeight, inputWidth, _flippedInput);
                var (flipped, _, _) = RunNetwork(_flippedInput, ref _heatmapsOfFlipped);
                if (_averaged.Length != heatmaps.Length) _averaged = new float[heatmaps.Length];
                FlipTest.Average(heatmaps, flipped, CocoKeypoints.Count, height, width, CocoKeypoints.FlipPartner, _averaged);
                heatmaps = _averaged;
            }
            var keypoints = new Keypoint[CocoKeypoints.Count];
            HeatmapDecoder.Decode(heatmaps, CocoKeypoints.Count, height, width, options.Decoding, keypoints);
            HeatmapDecoder.ToImage(keypoints, Box, width, height);
            _keypoints = keypoints;
        }

        /// <summary>Runs the network and copies its NHWC heatmaps into <paramref name="buffer"/> in NCHW order.</summary>
        private (float[] Heatmaps, int Height, int Width) RunNetwork(float[] input, ref float[] buffer)
        {
            var map = network.Forward(input)[0];
            if (map.ChannelCount != CocoKeypoints.Count)
                throw new InvalidOperationException($"the network predicts {map.ChannelCount} heatmaps; the top-down pipeline decodes the {CocoKeypoints.Count} COCO keypoints");
            int plane = map.Height * map.Width;
            if (buffer.Length != plane * map.ChannelCount) buffer = new float[plane * map.ChannelCount];
            var nhwc = map.Span;
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < map.ChannelCount; c++)
                    buffer[c * plane + p] = nhwc[p * map.Shape.PixelStride + c];
            return (buffer, map.Height, map.Width);
        }
    }
}
