using System.Globalization;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// An <see cref="EfficientHrnetModel"/> at one input size, as <c>nanopose info</c> and <c>forward</c> use it:
/// outputs 0 (17 heatmaps + 17 tags at R/4) and 1 (heatmaps at R/2).
/// </summary>
public sealed class EfficientHrnetNetwork : IPoseNetwork
{
    private readonly FeatureMap _image;
    private readonly EfficientHrnetPlan _plan;
    private readonly FeatureMap[] _outputs = new FeatureMap[2];

    /// <summary>The network at one input size; with a <paramref name="pool"/>, large operations are split over its threads.</summary>
    public EfficientHrnetNetwork(EfficientHrnetModel model, int inputHeight, int inputWidth, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        (Model, InputHeight, InputWidth) = (model, inputHeight, inputWidth);
        MultiplyAccumulates = model.MultiplyAccumulates(inputHeight, inputWidth);   // also checks the size
        _image = FeatureMap.Allocate(inputHeight, inputWidth, InputChannels);
        _plan = model.Plan(_image.Shape, pool);
    }

    /// <summary>Input size null: the model's native size, 512 + 32φ.</summary>
    public static EfficientHrnetNetwork Load(NpwFile file, VectorWidth width, int? inputHeight = null, int? inputWidth = null, WorkerPool? pool = null)
    {
        var model = EfficientHrnetModel.Load(file, width);
        int side = model.Config.NativeInputSize;
        return new EfficientHrnetNetwork(model, inputHeight ?? side, inputWidth ?? side, pool);
    }

    /// <inheritdoc/>
    public IPoseNetwork Replicate() => new EfficientHrnetNetwork(Model, InputHeight, InputWidth);

    /// <summary>Floats of the activation buffer, planned by tensor liveness (the input image not included).</summary>
    public long BufferFloats => _plan.Ops.Arena.BufferFloats;

    /// <summary>Floats the activations would take with a buffer each.</summary>
    public long UnplannedBufferFloats => _plan.Ops.Arena.UnplannedFloats;

    /// <summary>The most activation floats alive at one point of a run: the least any plan can use.</summary>
    public long PeakLiveFloats => _plan.Ops.Arena.PeakLiveFloats;

    public OperationProfile? Profile { get => _plan.Ops.Profile; set => _plan.Ops.Profile = value; }

    public EfficientHrnetModel Model { get; }
    public ModelArchitecture Architecture => Model.Config.ToArchitecture();
    public int InputChannels => 3;
    public int InputHeight { get; }
    public int InputWidth { get; }
    public long ParameterCount => Model.ParameterCount;
    public long MultiplyAccumulates { get; }

    public IReadOnlyList<(string Label, string Value)> Figures
    {
        get
        {
            var (parameters, multiplyAdds) = Model.SummaryStyleComplexity(InputHeight, InputWidth);
            return
            [
                ("EfficientNet features parameters", Model.BackboneParameterCount.ToString("N0", CultureInfo.InvariantCulture)),
                ("EfficientHRNet README convention (get_model_summary: MBConv parameters counted twice, transposed-conv MACs ×4)",
                    string.Create(CultureInfo.InvariantCulture, $"{parameters / 1e6:F2}M parameters, {multiplyAdds / 1e9:F2}G mult-adds")),
            ];
        }
    }

    public IReadOnlyList<FeatureMap> Forward(ReadOnlySpan<float> imageNchw)
    {
        _image.CopyFromNchw(imageNchw);
        (_outputs[0], _outputs[1]) = Model.Run(_image, _plan.Ops, null);
        return _outputs;
    }
}
