using NanoPose.Models.LiteHrnet;

namespace NanoPose.WeightsTools.Ncnn;

/// <summary>What one ncnn convolution must be: its PyTorch module prefix and the shape, stride, depthwise-ness and
/// fused ReLU the architecture implies (padding is always kernel/2, dilation 1).</summary>
public sealed record ExpectedConvolution(string Name, int OutChannels, int InChannelsPerGroup, int Kernel, int Stride, bool Depthwise, bool Relu)
{
    public override string ToString() =>
        $"{Name} [{OutChannels}, {InChannelsPerGroup}, {Kernel}, {Kernel}] stride {Stride}{(Depthwise ? " depthwise" : "")}{(Relu ? " +ReLU" : "")}";
}

/// <summary>
/// The convolutions of a naive Lite-HRNet (MODELS.md A.3, A.4, A.6–A.9) as PaddleDetection exports it to ncnn
/// (PP-TinyPose), one entry per ncnn Convolution/ConvolutionDepthWise in .bin order, named by the PyTorch module
/// prefix of the reference implementation. The export visits modules in the reference forward order, which is also
/// the registration (state dict) order:
/// <list type="bullet">
/// <item>stem: conv1, branch1.0 (dw s2), branch1.1, expand_conv, depthwise_conv (s2), linear_conv;</item>
/// <item>transition i, branch by branch: a changed width <c>transition{i}.{b}.0</c> (dw) and <c>.2</c>; a new branch
///   <c>transition{i}.{b}.0.0</c> (dw s2) and <c>.0.2</c>;</item>
/// <item>each module: branch k, shuffle unit u: <c>layers.{k}.{u}.branch2.{0,1,2}.conv</c>; then the fuse layers for
///   output i, input j in order: j &gt; i one 1×1 <c>fuse_layers.{i}.{j}.0</c>; j &lt; i, step t, <c>.{t}.0</c> (dw s2)
///   and <c>.{t}.2</c> (ReLU except on the last step);</item>
/// <item>IterativeHead <c>projects.{p}.depthwise_conv/pointwise_conv</c> from the lowest resolution up; then
///   <c>keypoint_head.final_layer</c>.</item>
/// </list>
/// The ReLUs after fusing and the sums are separate ncnn layers, not fused into convolutions.
/// Each entry is checked against the ncnn layer it is paired with (<see cref="NcnnWeightSource"/>), so a file whose
/// order differed would be refused, not mis-assigned; requests are then served by name, in any order.
/// </summary>
public sealed class NaiveLiteHrnetNcnnLayout
{
    private NaiveLiteHrnetNcnnLayout(LiteHrnetConfig config) => Config = config;

    public LiteHrnetConfig Config { get; }

    /// <summary>The stem halves the input twice: heatmaps are a quarter of the input's height and width.</summary>
    public const int HeatmapStride = 4;

    /// <summary>The layout of a Lite-HRNet configuration; only NAIVE modules have one (PP-TinyPose's).</summary>
    public static NaiveLiteHrnetNcnnLayout For(LiteHrnetConfig config)
    {
        config.Validate();
        if (config.ModuleType != LiteHrnetModuleType.Naive)
            throw new ArgumentException($"{config.Variant}: ncnn layouts exist for NAIVE modules only");
        return new NaiveLiteHrnetNcnnLayout(config);
    }

    public IReadOnlyList<ExpectedConvolution> Convolutions()
    {
        var list = new List<ExpectedConvolution>();
        void Conv(string name, int outChannels, int inChannels, int kernel = 1, int stride = 1, bool relu = false) =>
            list.Add(new("backbone." + name, outChannels, inChannels, kernel, stride, false, relu));
        void Depthwise(string name, int channels, int stride) =>
            list.Add(new("backbone." + name, channels, 1, 3, stride, true, false));

        // Stem (A.3); Validate keeps its output width equal to its input width.
        int stem = Config.StemChannels, branch = stem / 2, incoming = stem - branch;
        int mid = (int)Math.Round(stem * Config.StemExpandRatio);
        Conv("stem.conv1.conv", stem, 3, kernel: 3, stride: 2, relu: true);
        Depthwise("stem.branch1.0.conv", incoming, 2);
        Conv("stem.branch1.1.conv", branch, incoming, relu: true);
        Conv("stem.expand_conv.conv", mid, incoming, relu: true);
        Depthwise("stem.depthwise_conv.conv", mid, 2);
        Conv("stem.linear_conv.conv", branch, mid, relu: true);

        int[] previous = [stem];
        for (int stage = 0; stage < Config.Stages.Count; stage++)
        {
            int[] current = Config.Stages[stage].Channels;
            for (int b = 0; b < current.Length; b++) // transition (A.4)
            {
                string prefix = $"transition{stage}.{b}";
                if (b < previous.Length)
                {
                    if (current[b] == previous[b]) continue;
                    Depthwise(prefix + ".0", previous[b], 1);
                    Conv(prefix + ".2", current[b], previous[b], relu: true);
                }
                else
                {
                    Depthwise(prefix + ".0.0", previous[^1], 2);
                    Conv(prefix + ".0.2", current[b], previous[^1], relu: true);
                }
            }
            for (int module = 0; module < Config.Stages[stage].Modules; module++)
            {
                string prefix = $"stage{stage}.{module}";
                for (int k = 0; k < current.Length; k++) // shuffle units (A.6) on the second half of the channels
                    for (int u = 0; u < Config.Stages[stage].Blocks; u++)
                    {
                        int half = current[k] / 2;
                        string unit = $"{prefix}.layers.{k}.{u}.branch2";
                        Conv(unit + ".0.conv", half, half, relu: true);
                        Depthwise(unit + ".1.conv", half, 1);
                        Conv(unit + ".2.conv", half, half, relu: true);
                    }
                for (int i = 0; i < current.Length; i++) // fuse layers (A.7)
                    for (int j = 0; j < current.Length; j++)
                    {
                        string fuse = $"{prefix}.fuse_layers.{i}.{j}";
                        if (j > i) Conv(fuse + ".0", current[i], current[j]);
                        for (int t = 0; t < i - j; t++)
                        {
                            bool last = t == i - j - 1;
                            Depthwise($"{fuse}.{t}.0", current[j], 2);
                            Conv($"{fuse}.{t}.2", last ? current[i] : current[j], current[j], relu: !last);
                        }
                    }
            }
            previous = current;
        }

        for (int p = 0; p < previous.Length; p++) // IterativeHead (A.8), lowest resolution first
        {
            int from = previous[^(p + 1)], to = previous[Math.Max(previous.Length - p - 2, 0)];
            Depthwise($"head_layer.projects.{p}.depthwise_conv.conv", from, 1);
            Conv($"head_layer.projects.{p}.pointwise_conv.conv", to, from, relu: true);
        }
        list.Add(new("keypoint_head.final_layer", Config.HeadOutChannels, Config.HeadInChannels, 1, 1, false, false)); // A.9
        return list;
    }
}
