using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.Cli.Tests;

/// <summary>PP-TinyPose 256×192 converted from ../shared/models/pp-tinypose in memory, once, and as a temporary file.</summary>
internal static class TinyPoseModel
{
    private static readonly Lazy<byte[]> Bytes = new(() =>
        ModelConversion.ConvertNcnn(SharedData.File("models/pp-tinypose/tinypose_256x192.param"), "wider-naive-litehrnet-18", WeightDType.Float16));

    private static readonly Lazy<string> File = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"nanopose-tinypose-{Environment.ProcessId}.npw");
        System.IO.File.WriteAllBytes(path, Bytes.Value);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => System.IO.File.Delete(path);
        return path;
    });

    public static byte[] Npw => Bytes.Value;

    public static string NpwPath => File.Value;
}
