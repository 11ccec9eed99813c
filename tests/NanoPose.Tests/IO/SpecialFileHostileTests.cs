using NanoPose.Evaluation;
using NanoPose.IO;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Tests.IO;

/// <summary>
/// Issue 15, class 8 (the engine's readers): FIFOs, endless devices, links to them, folders and files over the cap,
/// named as .npw models, person detectors, .npy arrays and COCO JSON files. Each reader must refuse each by name
/// within a second, reading no more than its cap (measured: bytes allocated by the case).
/// </summary>
public class SpecialFileHostileTests
{
    private const int Seed = 15_008;

    private static readonly (string Reader, string Extension, long MaxBytes, Action<string> Read)[] Readers =
    [
        ("NpwFile.Load", ".npw", NpwFile.MaxFileBytes, path => NpwFile.Load(path)),
        ("PoseEstimator.Load", ".npw", NpwFile.MaxFileBytes, path => PoseEstimator.Load(path).Dispose()),
        ("PersonDetector.Load", ".npw", NpwFile.MaxFileBytes, path => PersonDetector.Load(path).Dispose()),
        ("Npy.Read", ".npy", Npy.MaxFileBytes, path => Npy.Read(path)),
        ("CocoJson.ReadGroundTruth", ".json", CocoJson.MaxFileBytes, path => CocoJson.ReadGroundTruth(path)),
        ("CocoJson.ReadDetections", ".json", CocoJson.MaxFileBytes, path => CocoJson.ReadDetections(path)),
    ];

    [Fact]
    public void EveryReaderRefusesSpecialAndOversizedFilesByName()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("FIFOs and /dev/zero are Linux files");
        using var files = new SpecialFiles("engine readers on special files", Seed);
        foreach (var (reader, extension, maxBytes, read) in Readers)
            foreach (var (kind, path) in files.Kinds(extension, maxBytes))
                files.Check($"{reader} on a {kind}", path, read, TimeSpan.FromSeconds(5), typeof(InputFileException));
        // Reading nothing: a case allocates no more than its messages and the reader's first buffers.
        files.Finish(minimumCases: 48, maxAllocation: 1 << 20);
    }
}
