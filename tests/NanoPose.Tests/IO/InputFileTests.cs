using System.Diagnostics;
using NanoPose.IO;

namespace NanoPose.Tests.IO;

public sealed class InputFileTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("nanopose-inputfile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void ARegularFileWithinTheCapIsReadWhole()
    {
        string path = Path.Combine(_folder, "a.bin");
        byte[] bytes = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(path, bytes);
        Assert.Equal(bytes, InputFile.ReadAllBytes(path, bytes.Length, "test"));
        Assert.True(InputFile.IsRegularFile(path));
    }

    [Fact]
    public void AFileOverTheCapIsRefusedWithItsSizeAndTheCap()
    {
        string path = Path.Combine(_folder, "big.bin");
        File.WriteAllBytes(path, new byte[1001]);
        var e = Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes(path, 1000, "weight"));
        Assert.Contains("1001", e.Message);
        Assert.Contains("1000", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void AnEndlessDeviceIsRefusedWithoutReadingIt()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("/dev/zero is a Linux device");
        var e = Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes("/dev/zero", 1 << 20, "image"));
        Assert.Contains("character device", e.Message);
        Assert.False(InputFile.IsRegularFile("/dev/zero"));
    }

    [Fact]
    public async Task AFifoIsRefusedAtOnceInsteadOfBlocking()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("mkfifo is a Unix tool");
        string path = Path.Combine(_folder, "x.jpg");
        using (var mkfifo = Process.Start("mkfifo", path)) mkfifo.WaitForExit();
        var read = Task.Run(() => InputFile.ReadAllBytes(path, 1 << 20, "image"), TestContext.Current.CancellationToken);
        Assert.True(await Task.WhenAny(read, Task.Delay(10_000, TestContext.Current.CancellationToken)) == read, "reading a FIFO blocked");
        var e = Assert.IsType<InputFileException>(read.Exception!.InnerException);
        Assert.Contains("FIFO", e.Message);
        Assert.False(InputFile.IsRegularFile(path));
    }

    [Fact]
    public void AFolderAndAMissingFileAreNamedAsSuch()
    {
        Assert.Contains("is a folder", Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes(_folder, 10, "image")).Message);
        Assert.Contains("does not exist", Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes(Path.Combine(_folder, "nope"), 10, "image")).Message);
    }
}
