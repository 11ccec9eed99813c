using NanoPose.Kernels.Simd;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Pipelines.BottomUp;
using NanoPose.Pipelines.TopDown;
using NanoPose.Threading;

namespace NanoPose.PoseEstimation;

/// <summary>
/// Bottom-up models (MODELS.md C), single scale: the image is warped to the aligned input size
/// (<see cref="InputAlignment"/>, the same affine warp and normalisation as top-down crops), run (and mirrored with the
/// flip test), both outputs aggregated and parsed into people in image pixels. Person boxes are not used.
/// </summary>
internal sealed class BottomUpEstimation(EfficientHrnetModel model, PoseEstimatorOptions options, VectorWidth width, WorkerPool? pool) : IPeopleEstimation
{
    /// <summary>The flip permutation as the aggregation takes it (a span).</summary>
    private static readonly int[] FlipPartner = [.. CocoKeypoints.FlipPartner];

    private readonly HeatmapParser _parser = new();
    // The network at the last input size: consecutive images of one size (a video, a folder of one camera) reuse it.
    private EfficientHrnetNetwork? _network;
    private byte[] _warped = [];
    private float[] _input = [], _mirrored = [];
    // The outputs copied to NCHW ([run][output]: the image, then its mirror) and the aggregation's arrays, kept for the next image.
    private readonly float[][][] _outputCopies = [[[], []], [[], []]];
    private readonly AggregationBuffers _aggregation = new();

    public IReadOnlyList<EstimatedPerson> Estimate(RgbImage image, IReadOnlyList<PersonBox>? boxes, CancellationToken cancellationToken)
    {
        var alignment = InputAlignment.Limited(image.Width, image.Height, model.Config.NativeInputSize);
        int inputWidth = alignment.Width, inputHeight = alignment.Height;
        var toInput = AffineTransform.FromCenterScale(
            new CenterScale(alignment.CenterX, alignment.CenterY, (float)alignment.ScaleX, (float)alignment.ScaleY), inputWidth, inputHeight);
        if (_network is null || _network.InputWidth != inputWidth || _network.InputHeight != inputHeight)
        {
            _network = new EfficientHrnetNetwork(model, inputHeight, inputWidth, pool);
            _warped = new byte[inputWidth * inputHeight * 3];
            (_input, _mirrored) = (new float[_warped.Length], new float[_warped.Length]);
        }
        var input = _input;
        AffineWarp.WarpBilinear(image, toInput, _warped, inputWidth, inputHeight);
        InputNormalization.ImageNet.ToNchw(_warped, inputWidth, inputHeight, input);
        cancellationToken.ThrowIfCancellationRequested();
        var outputs = Outputs(_network.Forward(input), _outputCopies[0]);
        BottomUpOutputs? flipped = null;
        if (options.FlipTest)
        {
            cancellationToken.ThrowIfCancellationRequested();
            FlipTest.FlipHorizontally(input, 3, inputHeight, inputWidth, _mirrored);
            flipped = Outputs(_network.Forward(_mirrored), _outputCopies[1]);
        }

        var maps = HeatmapAggregation.Aggregate(outputs, flipped, inputWidth, inputHeight, FlipPartner, width, _aggregation);
        return [.. _parser.Parse(maps, alignment).Select(p => new EstimatedPerson(p.Keypoints, p.Score, null))];
    }

    /// <summary>The two NHWC outputs copied out as NCHW maps into <paramref name="copies"/> (the network overwrites its
    /// outputs on the next run).</summary>
    private static BottomUpOutputs Outputs(IReadOnlyList<Layers.FeatureMap> maps, float[][] copies) =>
        new(ToChannelMaps(maps[0], ref copies[0]), ToChannelMaps(maps[1], ref copies[1]));

    private static ChannelMaps ToChannelMaps(Layers.FeatureMap map, ref float[] copy)
    {
        int length = map.ChannelCount * map.Height * map.Width;
        if (copy.Length != length) copy = GC.AllocateUninitializedArray<float>(length);
        map.CopyToNchw(copy);
        return new(copy, map.ChannelCount, map.Height, map.Width);
    }
}
