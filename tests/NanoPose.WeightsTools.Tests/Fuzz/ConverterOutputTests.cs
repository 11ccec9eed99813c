using System.IO.Compression;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Tests.Checkpoints;

namespace NanoPose.WeightsTools.Tests.Fuzz;

/// <summary>
/// <c>nanopose-weights convert</c> writes exactly one file, the <c>-o</c> path: nothing is named after archive
/// entries, so a checkpoint whose entries say <c>../</c> or <c>/etc/…</c> can make it write nowhere else — the
/// reader refuses such an archive, and the converter exits with 2 (bad input) without creating the output.
/// </summary>
public sealed class ConverterOutputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-convert-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Runs nanopose-weights in process.</summary>
    private static (int Code, string Error) Convert(params string[] args)
    {
        var error = new StringWriter();
        return (CommandLine.Run(args, TextWriter.Null, error), error.ToString());
    }

    [Theory]
    [InlineData("archive/../../escaped.npw")]
    [InlineData("archive/data/../../../escaped.npw")]
    [InlineData("/tmp/escaped.npw")]
    [InlineData("archive\\..\\..\\escaped.npw")]
    public void EntryNamesThatLeaveTheArchiveAreRefusedAndNothingIsWritten(string entry)
    {
        string inner = Directory.CreateDirectory(Path.Combine(_folder, "a", "b")).FullName;
        string checkpoint = Path.Combine(inner, "model.pth");
        using (var file = File.Create(checkpoint))
        using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        {
            SyntheticCheckpoint.Add(zip, "archive/data.pkl", new PickleBuilder().Proto().EmptyDict().Stop().ToArray());
            SyntheticCheckpoint.Add(zip, entry, [1, 2, 3]);
        }
        string output = Path.Combine(inner, "out.npw");
        var before = Directory.GetFiles(_folder, "*", SearchOption.AllDirectories);

        var (code, error) = Convert("convert", checkpoint, "--arch", "litehrnet-18", "-o", output);

        Assert.Equal(2, code);
        Assert.Contains($"zip entry '{entry}' has an unsafe path", error);
        Assert.Equal(before, Directory.GetFiles(_folder, "*", SearchOption.AllDirectories));
        Assert.False(File.Exists("/tmp/escaped.npw") && File.GetLastWriteTimeUtc("/tmp/escaped.npw") > DateTime.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public void ACorruptCheckpointLeavesNoOutputBehind()
    {
        string checkpoint = Path.Combine(_folder, "cut.pth");
        File.WriteAllBytes(checkpoint, SyntheticCheckpoint.Zip([StoredTensor.Float32("w", "0", [1, 2, 3], 0, [3], [1])])[..60]);
        string output = Path.Combine(_folder, "out.npw");
        var (code, error) = Convert("convert", checkpoint, "--arch", "litehrnet-18", "-o", output);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {checkpoint}: corrupt or truncated zip archive", error);
        Assert.False(File.Exists(output));
    }
}
