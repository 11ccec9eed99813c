using NanoPose.IO;
using NanoPose.TestSupport;

namespace NanoPose.ImageSharp.Tests.Hostile;

/// <summary>
/// Issue 15, class 8 (the image adapter): FIFOs (a folder holding a FIFO named x.jpg hung predict), endless devices,
/// links to them, folders and files over <see cref="ImageFileDecoder.MaxFileBytes"/>, under image names. Each must be
/// refused by name within a second, reading nothing.
/// </summary>
public class ImageSpecialFileHostileTests
{
    private const int Seed = 15_108;

    [Fact]
    public void SpecialAndOversizedImageFilesAreRefusedByName()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("FIFOs and /dev/zero are Linux files");
        using var files = new SpecialFiles("image decoder on special files", Seed);
        var decoder = new ImageFileDecoder();
        foreach (string extension in new[] { ".jpg", ".jpeg", ".png", ".bmp" })
            foreach (var (kind, path) in files.Kinds(extension, ImageFileDecoder.MaxFileBytes))
                files.Check($"{extension} {kind}", path, p => decoder.Decode(p, TestContext.Current.CancellationToken), TimeSpan.FromSeconds(5),
                    typeof(InputFileException));
        files.Finish(minimumCases: 32, maxAllocation: 1 << 20);
    }
}
