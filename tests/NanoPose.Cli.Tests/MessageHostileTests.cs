using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Cli.Tests;

/// <summary>
/// Issue 15, class 16 (the CLI's part): what <c>nanopose</c> prints from file names and files is safe on a
/// terminal, and bad input gets a message that says what is wrong. Seeded file names with control characters
/// (escape sequences, carriage returns, line breaks, bell, DEL, C1 and bidirectional controls) as images, models,
/// box files and listed images, and a model whose architecture names hold them: the error stream holds none of
/// them raw, and each case still exits with 2 naming the file. A non-UTF-8 file name gets a message saying so; a
/// folder where a file belongs gets "is a folder"; never an internal error.
/// </summary>
public sealed class MessageHostileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-messages-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly string[] Hostile = ["\u001b[31m", "\u001b]0;title\u0007", "\r", "\n", "\u0007", "\u007f", "\u009b2J", "\u202e", "\u2066", "\t", "\b\b\b"];

    private enum Role { Image, ListedImage, MissingImage, Model, MissingModel, Boxes, ModelNames }

    [Fact]
    public void PrintedTextIsEscapedAndMessagesSayWhatIsWrong()
    {
        string image = SharedData.File("data/coco-mini/000000000785.jpg");
        string model = TinyPoseModel.NpwPath;
        var family = new HostileFamily(nameof(MessageHostileTests), seed: 1516);
        var roles = Enum.GetValues<Role>();
        for (int i = 0; i < 35; i++)
        {
            var random = family.CaseRandom(i);
            var role = roles[i % roles.Length];
            string evil = string.Concat(Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Hostile[random.Next(Hostile.Length)]));
            string root = Directory.CreateDirectory(Path.Combine(_folder, $"case{i}")).FullName;
            family.Run($"{i} {role} {Uri.EscapeDataString(evil)}", () =>
            {
                string name = $"a{evil}b";
                string file = Path.Combine(root, name + (role is Role.Model or Role.MissingModel ? ".npw" : role == Role.Boxes ? ".json" : ".jpg"));
                string[] args;
                switch (role)
                {
                    case Role.Image:
                        File.WriteAllText(file, "not an image");
                        args = ["predict", "--model", model, file];
                        break;
                    case Role.ListedImage:
                        File.WriteAllText(file, "not an image");
                        args = ["predict", "--model", model, root];
                        break;
                    case Role.MissingImage: args = ["predict", "--model", model, file]; break;
                    case Role.Model:
                        File.WriteAllText(file, "not a model");
                        args = ["predict", "--model", file, image];
                        break;
                    case Role.MissingModel: args = ["info", "--model", file]; break;
                    case Role.Boxes:
                        File.WriteAllText(file, "[{");
                        args = ["predict", "--model", model, "--boxes", file, image];
                        break;
                    default:
                        File.WriteAllBytes(file, new NpwWriter(new ModelArchitecture("res" + evil + "net", "x" + evil)).ToBytes());
                        args = ["info", "--model", file];
                        break;
                }
                var (code, output, error) = Cli.Run(args);
                Assert.True(code == 2, $"exit code {code}: {error}");
                Assert.DoesNotContain("internal error", error);
                AssertPrintable(error);
                AssertPrintable(output);
                Assert.Contains("error: ", error);
            });
        }

        family.Run("non-UTF-8 file name in a folder", () =>
        {
            if (!OperatingSystem.IsLinux()) return;
            string root = Directory.CreateDirectory(Path.Combine(_folder, "latin1")).FullName;
            byte[] latin1 = [0x63, 0x61, 0x66, 0xE9, (byte)'.', (byte)'j', (byte)'p', (byte)'g'];   // "café.jpg" in Latin-1
            Cli.CreateWithRawName(root, latin1, File.ReadAllBytes(image));
            var (code, _, error) = Cli.Run("predict", "--model", model, "--detector", "none", root);
            Cli.DeleteWithRawName(root, latin1);
            Cli.AssertRefused((code, "", error), "not valid UTF-8");
            Assert.DoesNotContain("Could not find", error);
        });
        string folder = Directory.CreateDirectory(Path.Combine(_folder, "a-folder.npw")).FullName;
        foreach (string[] args in new[]
        {
            new[] { "predict", "--model", folder, image },
            ["predict", "--model", model, "--boxes", folder, image],
            ["predict", "--model", model, "--detector", folder, image],
            ["info", "--model", folder],
            ["eval", "--model", model, "--annotations", folder, "--images", _folder],
            ["eval", "--model", model, "--annotations", SharedData.File("data/coco-mini/test_coco.json"), "--images", image],
            ["forward", "--model", model, "--input", folder, "--out-dir", Path.Combine(_folder, "out")],
        })
            family.Run($"a folder where a file belongs: {string.Join(' ', args.Where(a => a.StartsWith("--", StringComparison.Ordinal)))}", () =>
            {
                var result = Cli.Run(args);
                Cli.AssertRefused(result, args.Contains("--images") && args[^1] == image ? "is a file" : "is a folder");
                Assert.DoesNotContain("Could not find", result.Error);
            });
        // Architecture numbers far out of range (the engine checks them; no overflow may surface as an internal error).
        var architecture = Models.LiteHrnet.LiteHrnetConfig.Known["litehrnet-18"].ToArchitecture();
        var numbers = architecture.Properties.Where(p => p.Value.Kind == ArchitectureValueKind.Int).Select(p => p.Key).ToArray();
        long[] extremes = [long.MaxValue, int.MaxValue, -1, 1L << 40];
        for (int i = 0; i < 12; i++)
        {
            var random = family.CaseRandom(100 + i);
            string key = numbers[random.Next(numbers.Length)];
            long extreme = extremes[random.Next(extremes.Length)];
            family.Run($"architecture {key} = {extreme}", () =>
            {
                string file = Path.Combine(_folder, $"extreme{i}.npw");
                File.WriteAllBytes(file, new NpwWriter(architecture.Set(key, extreme)).ToBytes());
                var result = Cli.Run("info", "--model", file);
                Cli.AssertRefused(result, file);
            });
        }
        family.Finish(minimumCases: 52, timeBound: TimeSpan.FromSeconds(15));
    }

    /// <summary>No character that moves the cursor, changes colours or reorders text: only printable text and line breaks.</summary>
    private static void AssertPrintable(string text)
    {
        foreach (char c in text)
            Assert.False(c is (< ' ' and not '\n') or '\u007f' or (>= '\u0080' and <= '\u009f') or '\u061c' or '\u200e' or '\u200f'
                or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069'), $"U+{(int)c:X4} printed raw in: {text}");
    }
}
