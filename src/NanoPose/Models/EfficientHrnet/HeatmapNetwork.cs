using NanoPose.Kernels.Common;
using NanoPose.Layers;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// The heatmap prediction network (MODELS.md B.6): <c>final_layers.0</c> (1×1 + bias) predicts 17 heatmaps + 17 tags
/// at R/4; the features and that prediction, concatenated, go through <c>deconv_layers.0</c> (4×4 stride-2 transposed
/// conv + BN + ReLU to R/2, two BasicBlocks) and <c>final_layers.1</c> (1×1 + bias) predicts the R/2 heatmaps.
/// The R/4 prediction is written straight into its slice of the concatenation.
/// </summary>
internal sealed class HeatmapNetwork
{
    private readonly ConvLayer _quarterPrediction;
    private readonly DeconvLayer _deconv;
    private readonly BasicBlock[] _blocks;
    private readonly ConvLayer _halfPrediction;

    public HeatmapNetwork(LayerFactory layers, EfficientHrnetConfig config)
    {
        int features = config.BranchChannels[0], predicted = EfficientHrnetConfig.HeatmapAndTagChannels;
        _quarterPrediction = layers.Conv("final_layers.0", features, predicted, ConvGeometry.Pointwise(), true, null, Activation.None);
        _deconv = layers.Deconv("deconv_layers.0.0.0", features + predicted, config.DeconvChannels, "deconv_layers.0.0.1", Activation.ReLU);
        _blocks = [.. Enumerable.Range(1, 2).Select(b => new BasicBlock(layers, $"deconv_layers.0.{b}.0", config.DeconvChannels))];
        _halfPrediction = layers.Conv("final_layers.1", config.DeconvChannels, config.FinalChannels, ConvGeometry.Pointwise(), true, null, Activation.None);
    }

    public long MultiplyAccumulates(Nhwc features)
    {
        var half = _deconv.OutputShape(features);
        return _quarterPrediction.MultiplyAccumulates(features) + DeconvMultiplyAccumulates(features)
            + _blocks.Sum(b => b.MultiplyAccumulates(half)) + _halfPrediction.MultiplyAccumulates(half);
    }

    public long DeconvMultiplyAccumulates(Nhwc features) => _deconv.MultiplyAccumulates(features);

    /// <summary>Both predictions: heatmaps + tags at R/4 and heatmaps at R/2.</summary>
    public (FeatureMap Quarter, FeatureMap Half) Run(FeatureMap features, Executor ops)
    {
        int c = features.ChannelCount;
        var concat = ops.Arena.Allocate(new Nhwc(features.Height, features.Width, c + _quarterPrediction.OutChannels));
        // The slice is made once, while the arena records, and replayed with the arena's lists afterwards.
        var slice = ops.Arena.MapList(1);
        var quarter = slice[0] ??= concat.Channels(c, _quarterPrediction.OutChannels);
        ops.Conv(_quarterPrediction, features, quarter);
        ops.CopyChannelsInto(features, concat, 0);
        var x = ops.Arena.Allocate(_deconv.OutputShape(concat.Shape));
        ops.Deconv(_deconv, concat, x);
        foreach (var block in _blocks) x = block.Run(x, ops);
        var half = ops.Arena.Allocate(_halfPrediction.OutputShape(x.Shape));
        ops.Conv(_halfPrediction, x, half);
        return (quarter, half);
    }
}
