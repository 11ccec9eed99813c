using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary>
/// Issue 15, class 8 (the CLI's part): FIFOs, devices and folders where a file belongs. A FIFO named like an image
/// in a folder or a glob fails as that image, by name, and the other images run; a FIFO, <c>/dev/zero</c> or a
/// folder given as the image, the model, the detector, the boxes, the annotations or the input array is refused by
/// name at once (exit 2) instead of blocking forever or reading without end.
/// </summary>
public sealed class SpecialFileHostileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-special-").FullName;
    private readonly List<string> _fifos = [];

    public void Dispose()
    {
        foreach (string fifo in _fifos) Cli.Unblock(fifo);   // frees a reader left blocked by a failing case
        Directory.Delete(_folder, recursive: true);
    }

    private enum Role { Image, ImageInFolder, ImageInGlob, Model, Detector, Boxes, Annotations, InputArray }

    [Fact]
    public void SpecialFilesAreRefusedByNameAndFast()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("FIFOs and /dev/zero are Linux files");
        string image = SharedData.File("data/coco-mini/000000000785.jpg");
        string model = TinyPoseModel.NpwPath;
        var family = new HostileFamily(nameof(SpecialFileHostileTests), seed: 1508);
        var roles = Enum.GetValues<Role>();
        string[] kinds = ["fifo", "/dev/zero", "folder"];
        for (int i = 0; i < roles.Length * kinds.Length; i++)
        {
            var (role, kind) = (roles[i % roles.Length], kinds[i / roles.Length]);
            var random = family.CaseRandom(i);
            string root = Directory.CreateDirectory(Path.Combine(_folder, $"case{i}")).FullName;
            string photos = Directory.CreateDirectory(Path.Combine(root, "photos")).FullName;
            File.Copy(image, Path.Combine(photos, "000000000785.jpg"));
            string name = new[] { "x.jpg", "z.png", "000000000001.jpeg", "a b.bmp" }[random.Next(4)];
            bool listed = role is Role.ImageInFolder or Role.ImageInGlob;
            if (listed && kind == "/dev/zero") continue;   // a device cannot sit in a folder without mknod; the named roles cover it
            family.Run($"{i} {kind} as {role}", () =>
            {
                string special = kind switch
                {
                    "fifo" => Fifo(Path.Combine(listed ? photos : root, name)),
                    "/dev/zero" => "/dev/zero",
                    _ => Directory.CreateDirectory(Path.Combine(listed ? photos : root, name)).FullName,
                };
                string[] args = role switch
                {
                    Role.Image => ["predict", "--model", model, special, Path.Combine(photos, "000000000785.jpg")],
                    Role.ImageInFolder => ["predict", "--model", model, "--detector", "none", photos],
                    Role.ImageInGlob => ["predict", "--model", model, "--detector", "none", Path.Combine(photos, "*")],
                    Role.Model => ["predict", "--model", special, image],
                    Role.Detector => ["predict", "--model", model, "--detector", special, image],
                    Role.Boxes => ["predict", "--model", model, "--boxes", special, image],
                    Role.Annotations => ["eval", "--model", model, "--annotations", special, "--images", photos],
                    _ => ["forward", "--model", model, "--input", special, "--out-dir", Path.Combine(root, "out")],
                };
                var (code, output, error) = Cli.Run(args);
                string what = kind switch { "fifo" => "FIFO", "/dev/zero" => "character device", _ => "folder" };
                bool perImage = role is Role.Image or Role.ImageInFolder or Role.ImageInGlob;
                if (listed && kind == "folder")
                {
                    // A folder named like an image is no image: the listing leaves it out.
                    Assert.True(code == 0, $"exit code {code}: {error}");
                    return;
                }
                Assert.True(code == 2, $"exit code {code}: {error}");
                string line = error.Split('\n').First(l => l.StartsWith("error: ", StringComparison.Ordinal) && l.Contains(Path.GetFileName(special), StringComparison.Ordinal));
                Assert.Contains(what, line);
                Assert.DoesNotContain("internal error", error);
                // The real photo beside it still runs when the problem is one image's.
                if (perImage) Assert.Contains("000000000785", output);
            }, TimeSpan.FromSeconds(10));
        }
        family.Finish(minimumCases: roles.Length * kinds.Length - 2, timeBound: TimeSpan.FromSeconds(20));
    }

    private string Fifo(string path)
    {
        Cli.MakeFifo(path);
        _fifos.Add(path);
        return path;
    }
}
