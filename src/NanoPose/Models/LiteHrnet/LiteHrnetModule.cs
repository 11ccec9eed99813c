using NanoPose.Layers;

namespace NanoPose.Models.LiteHrnet;

/// <summary>
/// One module of a stage (keys <c>backbone.stage{s}.{m}.</c>): its blocks, then the fuse layers. LITE modules run
/// <see cref="ConditionalChannelWeighting"/> blocks over all branches at once; NAIVE modules run
/// <see cref="ShuffleUnit"/>s branch after branch (MODELS.md A.5–A.7).
/// </summary>
internal sealed class LiteHrnetModule
{
    private readonly ConditionalChannelWeighting[] _weightings = [];
    private readonly ShuffleUnit[] _units = [];
    private readonly FuseLayers _fuse;

    public LiteHrnetModule(LayerFactory f, ReadmeFlops readmeFlops, LiteHrnetModuleType type, LiteHrnetStage stage, string prefix, IReadOnlyList<FeatureMap> inputs)
    {
        IReadOnlyList<FeatureMap> x = inputs;
        if (type == LiteHrnetModuleType.Lite)
        {
            _weightings = new ConditionalChannelWeighting[stage.Blocks];
            for (int b = 0; b < stage.Blocks; b++)
                x = (_weightings[b] = new ConditionalChannelWeighting(f, readmeFlops, $"{prefix}.layers.{b}", x, stage.ReduceRatio)).Outputs;
        }
        else
        {
            var units = new List<ShuffleUnit>();
            var outputs = new FeatureMap[inputs.Count];
            for (int k = 0; k < inputs.Count; k++)
            {
                outputs[k] = inputs[k];
                for (int u = 0; u < stage.Blocks; u++)
                {
                    units.Add(new ShuffleUnit(f, $"{prefix}.layers.{k}.{u}", outputs[k]));
                    outputs[k] = units[^1].Output;
                }
            }
            _units = [.. units];
            x = outputs;
        }
        _fuse = new FuseLayers(f, readmeFlops, prefix, x);
    }

    public FeatureMap[] Outputs => _fuse.Outputs;

    public FeatureMap[] Run()
    {
        foreach (var weighting in _weightings) weighting.Run();
        foreach (var unit in _units) unit.Run();
        return _fuse.Run();
    }
}
