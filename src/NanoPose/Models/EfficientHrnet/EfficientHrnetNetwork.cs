using System.Globalization;
using NanoPose.Kernels.Simd;
using NanoPose.Layers;
using NanoPose.Weights;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// An <see cref="EfficientHrnetModel"/> at one input size, as <c>nanopose info</c> and <c>forward</c> use it:
/// outputs 0 (17 heatmaps + 17 tags at R/4) and 1 (heatmaps at R/2).
/// </summary>
public sealed class EfficientHrnetNetwork : IPoseNetwork
{
    private readonly FeatureMap _image;

    public EfficientHrnetNetwork(EfficientHrnetModel model, int inputHeight, int inputWidth)
    {
        ArgumentNullException.ThrowIfNull(model);
        (Model, InputHeight, InputWidth) = (model, inputHeight, inputWidth);
        MultiplyAccumulates = model.MultiplyAccumulates(inputHeight, inputWidth);   // also checks the size
        _image = FeatureMap.Allocate(inputHeight, inputWidth, InputChannels);
    }

    /// <summary>Input size null: the model's native size, 512 + 32φ.</summary>
    public static EfficientHrnetNetwork Load(NpwFile file, VectorWidth width, int? inputHeight = null, int? inputWidth = null)
    {
        var model = EfficientHrnetModel.Load(file, width);
        int side = model.Config.NativeInputSize;
        return new EfficientHrnetNetwork(model, inputHeight ?? side, inputWidth ?? side);
    }

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
        var outputs = Model.Run(_image);
        return [outputs.HeatmapsAndTags, outputs.Heatmaps];
    }
}
