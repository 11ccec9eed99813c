using System.Buffers.Binary;
using NanoPose.Models.LiteHrnet;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Cli.Tests;

/// <summary><c>nanopose predict</c> on corrupt models and corrupt images: exit code 2 and one line on standard error
/// naming the file and the problem, never an internal error (exit 1) or a stack trace.</summary>
public sealed class CorruptInputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-corrupt-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static (int Code, string Error) Predict(string model, string image)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CommandLine.Run(["predict", "--model", model, image], output, error);
        return (code, error.ToString());
    }

    private static void AssertRefused((int Code, string Error) result, string file, string problem)
    {
        Assert.True(result.Code == 2, $"exit code {result.Code}: {result.Error}");
        string first = result.Error.Split('\n')[0];
        Assert.StartsWith($"error: {file}: ", first);
        Assert.Contains(problem, first);
        Assert.DoesNotContain("   at ", result.Error);
    }

    private static string Image => SharedData.File("data/coco-mini/000000000785.jpg");

    /// <summary>A .npw with the Lite-HRNet-18 description, <paramref name="key"/> replaced, and a valid checksum.</summary>
    private static byte[] HostileArchitecture(string key, long value)
    {
        var architecture = LiteHrnetConfig.Known["litehrnet-18"].ToArchitecture().Set(key, value);
        return new NpwWriter(architecture).ToBytes();
    }

    [Fact]
    public void CorruptModelsExitWithTwo()
    {
        byte[] model = TinyPoseModel.Npw;
        byte[] flipped = (byte[])model.Clone();
        flipped[model.Length / 2] ^= 0x04;
        string path = Write("flipped.npw", flipped);
        AssertRefused(Predict(path, Image), path, "checksum mismatch");

        path = Write("cut.npw", model[..(model.Length / 3)]);
        AssertRefused(Predict(path, Image), path, "truncated");

        path = Write("wrong_version.npw", [.. model.AsSpan(0, 8), 9, 0, 0, 0, .. model.AsSpan(12)]);
        AssertRefused(Predict(path, Image), path, "unsupported format version 9");

        path = Write("overflow.npw", HostileArchitecture("stem_channels", long.MaxValue));
        AssertRefused(Predict(path, Image), path, "architecture litehrnet/litehrnet-18");

        path = Write("huge_input.npw", HostileArchitecture("input_height", 1 << 20));
        AssertRefused(Predict(path, Image), path, "'input_height' is 1048576, expected 1…1024");

        path = Write("unknown.npw", new NpwWriter(new ModelArchitecture("resnet", "resnet-50")).ToBytes());
        AssertRefused(Predict(path, Image), path, "architecture family 'resnet' has no pose pipeline");
    }

    [Fact]
    public void CorruptImagesExitWithTwo()
    {
        byte[] jpeg = File.ReadAllBytes(Image);
        // The header of a JPEG, then garbage: found by ImageFuzzTests to make ImageSharp throw NullReferenceException.
        string path = Write("imagesharp_crash.jpg", Convert.FromBase64String("/9j/4AAQSkZJRgABAQEAYABgAAADAg=="));
        AssertRefused(Predict(TinyPoseModel.NpwPath, path), path, "ImageSharp failed with NullReferenceException");

        path = Write("cut.jpg", jpeg[..(jpeg.Length * 2 / 3)]);
        AssertRefused(Predict(TinyPoseModel.NpwPath, path), path, "truncated");

        byte[] huge = (byte[])jpeg.Clone();
        for (int i = 2; i + 9 < huge.Length; i++)
            if (huge[i] == 0xFF && huge[i + 1] is 0xC0 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(huge.AsSpan(i + 5), 60000);   // height
                BinaryPrimitives.WriteUInt16BigEndian(huge.AsSpan(i + 7), 60000);   // width
                break;
            }
        path = Write("huge.jpg", huge);
        AssertRefused(Predict(TinyPoseModel.NpwPath, path), path, "over the limit");

        path = Write("empty.png", []);
        AssertRefused(Predict(TinyPoseModel.NpwPath, path), path, "unsupported image format");
    }
}
