using NanoPose.Models;

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
/// Not thread-safe: the network and the buffers here are reused by every call; use one pipeline per thread.
/// </para>
/// </summary>
public sealed class TopDownPipeline
{
    private readonly IPoseNetwork _network;
    private readonly TopDownOptions _options;
    private readonly InputNormalization _normalization = InputNormalization.ImageNet;
    private readonly byte[] _crop;
    private readonly float[] _input, _flippedInput;
    private float[] _heatmaps = [], _heatmapsOfFlipped = [], _averaged = [];

    public TopDownPipeline(IPoseNetwork network, TopDownOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.InputChannels != 3) throw new ArgumentException($"a top-down network takes an RGB image (3 channels), this one takes {network.InputChannels}", nameof(network));
        _network = network;
        _options = options ?? new TopDownOptions();
        if (!Enum.IsDefined(_options.Decoding)) throw new ArgumentOutOfRangeException(nameof(options), _options.Decoding, "unknown decoding");
        _crop = new byte[network.InputWidth * network.InputHeight * 3];
        _input = new float[network.InputWidth * network.InputHeight * 3];
        _flippedInput = new float[_input.Length];
    }

    /// <summary>
    /// One person per box that survives OKS-NMS, in the order of <paramref name="boxes"/>. Every box is checked first
    /// (<see cref="PersonBox.Validate"/>): an invalid one throws <see cref="ArgumentException"/> before any work.
    /// </summary>
    public IReadOnlyList<TopDownPerson> Estimate(RgbImage image, ReadOnlySpan<PersonBox> boxes)
    {
        int inputWidth = _network.InputWidth, inputHeight = _network.InputHeight;
        var centerScales = new CenterScale[boxes.Length];
        for (int i = 0; i < boxes.Length; i++)
        {
            boxes[i].Validate(image.Width, image.Height, $"boxes[{i}]");
            centerScales[i] = CenterScale.FromBox(boxes[i], image.Width, image.Height, inputWidth, inputHeight, _options.Padding);
        }

        var people = new List<TopDownPerson>(boxes.Length);
        for (int i = 0; i < boxes.Length; i++)
        {
            var toCrop = AffineTransform.FromCenterScale(centerScales[i], inputWidth, inputHeight);
            AffineWarp.WarpBilinear(image, toCrop, _crop, inputWidth, inputHeight);
            _normalization.ToNchw(_crop, inputWidth, inputHeight, _input);
            var (heatmaps, height, width) = Heatmaps(_input, ref _heatmaps);
            if (_options.FlipTest)
            {
                FlipTest.FlipHorizontally(_input, 3, inputHeight, inputWidth, _flippedInput);
                var (flipped, _, _) = Heatmaps(_flippedInput, ref _heatmapsOfFlipped);
                if (_averaged.Length != heatmaps.Length) _averaged = new float[heatmaps.Length];
                FlipTest.Average(heatmaps, flipped, CocoKeypoints.Count, height, width, CocoKeypoints.FlipPartner, _averaged);
                heatmaps = _averaged;
            }

            var keypoints = new Keypoint[CocoKeypoints.Count];
            HeatmapDecoder.Decode(heatmaps, CocoKeypoints.Count, height, width, _options.Decoding, keypoints);
            HeatmapDecoder.ToImage(keypoints, centerScales[i], width, height);
            people.Add(new TopDownPerson(keypoints, PersonScoring.InstanceScore(keypoints, boxes[i].Score), boxes[i], centerScales[i]));
        }

        if (_options.OksNmsThreshold is not double threshold) return people;
        var kept = OksNms.Keep(people, threshold);
        Array.Sort(kept);
        return [.. kept.Select(i => people[i])];
    }

    /// <summary>Runs the network and copies its NHWC heatmaps into <paramref name="buffer"/> in NCHW order.</summary>
    private (float[] Heatmaps, int Height, int Width) Heatmaps(float[] input, ref float[] buffer)
    {
        var map = _network.Forward(input)[0];
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
