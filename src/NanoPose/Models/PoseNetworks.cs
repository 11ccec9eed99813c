using NanoPose.Kernels.Simd;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Models.PicoDet;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose.Models;

/// <summary>Builds the network a .npw file describes, by its architecture family.</summary>
public static class PoseNetworks
{
    /// <summary>Input size null: the size the model was converted for.</summary>
    public delegate IPoseNetwork Loader(NpwFile file, VectorWidth width, int? inputHeight, int? inputWidth, WorkerPool? pool);

    private static readonly Dictionary<string, Loader> Families = new()
    {
        [LiteHrnetConfig.Family] = (file, width, h, w, pool) =>
            LiteHrnetNetwork.Build(file.ReadConfiguration(LiteHrnetConfig.FromArchitecture), new NpwWeightSource(file), width, h, w, pool),
        [EfficientHrnetConfig.Family] = EfficientHrnetNetwork.Load,
        // The person detector, for the raw-network tools (PoseEstimator takes pose families only).
        [PicoDetConfig.Family] = (file, width, h, w, pool) => PicoDetNetwork.Load(file, width, h, w, pool),
    };

    /// <summary>The network of <paramref name="file"/>; with a <paramref name="pool"/>, its large operations are split over the
    /// pool's threads (the caller keeps the pool alive while the network runs, and disposes it).</summary>
    public static IPoseNetwork Load(NpwFile file, VectorWidth width, int? inputHeight = null, int? inputWidth = null, WorkerPool? pool = null)
    {
        string family = file.Architecture.Family;
        if (!Families.TryGetValue(family, out var load))
            throw new WeightFileException(file.Source, $"architecture family '{family}' is unknown (known: {string.Join(", ", Families.Keys)})");
        var network = load(file, width, inputHeight, inputWidth, pool);
        file.RequireEveryTensorUsed();   // a tensor the network never asked for means the file is not what it says
        return network;
    }
}
