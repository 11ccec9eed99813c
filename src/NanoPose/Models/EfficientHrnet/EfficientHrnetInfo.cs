using System.Globalization;

namespace NanoPose.Models.EfficientHrnet;

/// <summary>
/// What <c>nanopose info</c> prints for an EfficientHRNet: the configuration, the true parameter and MAC counts, and
/// the EfficientHRNet README's own figures (MODELS.md B.8) with the two reasons they differ.
/// </summary>
public static class EfficientHrnetInfo
{
    public static void Write(EfficientHrnetModel model, int height, int width, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(output);
        var c = model.Config;
        var culture = CultureInfo.InvariantCulture;
        string List(IEnumerable<int> values) => string.Join(", ", values);
        output.WriteLine($"{c.Variant}: EfficientHRNet, φ = {c.ScaleFactor} (width ×{c.WidthMultiplier.ToString(culture)}, depth ×{c.DepthMultiplier.ToString(culture)}), native input {c.NativeInputSize}×{c.NativeInputSize}");
        output.WriteLine($"  EfficientNet: stem {c.StemChannels}, MBConv stages {List(c.StageChannels)} × {List(c.StageRepeats)} blocks; taps {List(EfficientHrnetConfig.TapStages.Select(s => c.StageChannels[s]))} at strides 4, 8, 16, 32");
        output.WriteLine($"  HRNet: branches {List(c.BranchChannels)}; stages 2/3/4 of {string.Join("/", c.StageModules)} modules");
        output.WriteLine($"  outputs: {EfficientHrnetConfig.HeatmapAndTagChannels} (17 heatmaps + 17 tags) at {height / 4}×{width / 4}, {c.FinalChannels} heatmaps at {height / 2}×{width / 2} (deconv width {c.DeconvChannels})");
        long macs = model.MultiplyAccumulates(height, width);
        output.WriteLine(string.Create(culture, $"  parameters: {model.ParameterCount:N0} (EfficientNet features {model.BackboneParameterCount:N0})"));
        output.WriteLine(string.Create(culture, $"  MACs at {height}×{width}: {macs:N0} ({macs / 1e9:F2} G)"));
        var (summaryParameters, summaryMultiplyAdds) = model.SummaryStyleComplexity(height, width);
        output.WriteLine(string.Create(culture,
            $"  EfficientHRNet README convention: {summaryParameters / 1e6:F2}M parameters, {summaryMultiplyAdds / 1e9:F2}G mult-adds"));
        output.WriteLine("    (HigherHRNet's get_model_summary counts each MBConv block's parameters twice, as its class name contains");
        output.WriteLine("    \"Conv\", and the transposed conv's mult-adds as weights × output pixels, four times its true MACs)");
    }
}
