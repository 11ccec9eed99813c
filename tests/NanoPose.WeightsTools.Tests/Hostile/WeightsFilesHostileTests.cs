using System.Diagnostics;
using System.Text;
using NanoPose.TestSupport;
using NanoPose.Weights;
using NanoPose.WeightsTools.Checkpoints;
using NanoPose.WeightsTools.Conversion;
using NanoPose.WeightsTools.Ncnn;
using NanoPose.WeightsTools.Tests.Checkpoints;

namespace NanoPose.WeightsTools.Tests.Hostile;

/// <summary>Runs <c>nanopose-weights</c> in-process on a worker thread, so a read that blocks (a FIFO) is reported, not hung on.</summary>
internal static class WeightsCommand
{
    /// <summary>The exit code, standard output and error, and the bytes the command allocated; null if it did not end within <paramref name="bound"/>.</summary>
    public static (int ExitCode, string Output, string Error, long Allocated)? Run(TimeSpan bound, params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            int exitCode = CommandLine.Run(args, output, error);
            return (exitCode, GC.GetAllocatedBytesForCurrentThread() - before);
        }, TaskCreationOptions.LongRunning);
        return task.Wait(bound) ? (task.Result.exitCode, output.ToString(), error.ToString(), task.Result.Item2) : null;
    }
}

/// <summary>
/// Issue 15 class 8 (weights part): a FIFO, /dev/zero (through a link named like the file) and a folder given as the
/// checkpoint, .npw, ncnn .param or .bin, or OpenVINO .xml or .bin of inspect, convert and export-onnx. Each must
/// exit 2 at once with one line naming the file and what it is. Before the fix a FIFO blocked the open forever
/// (the case is reported after 5 s and the FIFO released by opening its writing end) and /dev/zero was read until
/// the 2 GB array limit.
/// </summary>
public sealed class WeightsSpecialFileHostileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nanopose-special-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Fifo(string name)
    {
        string path = Path.Combine(_directory, name);
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    private string DevZero(string name)
    {
        string path = Path.Combine(_directory, name);
        File.CreateSymbolicLink(path, "/dev/zero");
        return path;
    }

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;

    /// <summary>An ncnn .param the reader accepts up to its .bin, and an xml likewise, for the pairs whose other half is special.</summary>
    private string Valid(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void SpecialFilesAreRefusedByNameAtOnce()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("FIFOs and /dev/zero are Linux files");
        var family = new HostileFamily("weights tools: FIFOs, /dev/zero, folders", 15_008);
        string output = Path.Combine(_directory, "out.npw");
        var cases = new List<(string Label, string Path, string[] Args, string Says)>();
        foreach (var (kind, make, says) in new (string, Func<string, string>, string)[] { ("FIFO", Fifo, "FIFO"), ("/dev/zero", DevZero, "character device"), ("folder", Folder, "folder") })
        {
            string tag = kind.Trim('/').Replace('/', '-');
            string pth = make($"{tag}.pth"), npw = make($"{tag}.npw"), param = make($"{tag}.param"), xml = make($"{tag}.xml");
            cases.Add(($"inspect {kind} .pth", pth, ["inspect", pth], says));
            cases.Add(($"inspect {kind} .npw", npw, ["inspect", npw], says));
            cases.Add(($"inspect {kind} .xml", xml, ["inspect", xml], says));
            cases.Add(($"convert {kind} .pth", pth, ["convert", pth, "--arch", "litehrnet-18", "-o", output], says));
            cases.Add(($"convert {kind} .param", param, ["convert", param, "--arch", "wider-naive-litehrnet-18", "-o", output], says));
            cases.Add(($"convert {kind} .xml", xml, ["convert", xml, "--arch", "picodet-s-lcnet", "-o", output], says));
            cases.Add(($"export-onnx {kind} .npw", npw, ["export-onnx", npw, "-o", Path.Combine(_directory, "out.onnx")], says));
            // The other half of a pair: a valid .param or .xml beside a special .bin.
            string pairParam = Valid($"{tag}-pair.param", "7767517\n1 1\nInput data 0 1 data 0=4 1=4 2=3\n");
            string pairBin = make($"{tag}-pair.bin");
            cases.Add(($"convert .param with a {kind} .bin", pairBin, ["convert", pairParam, "--arch", "wider-naive-litehrnet-18", "-o", output], says));
            string pairXml = Valid($"{tag}-ir.xml", "<?xml version=\"1.0\"?><net name=\"x\" version=\"11\"><layers/><edges/></net>");
            string irBin = make($"{tag}-ir.bin");
            cases.Add(($"inspect .xml with a {kind} .bin", irBin, ["inspect", pairXml], says));
        }
        foreach (var (label, path, args, says) in cases)
            family.Run(label, () =>
            {
                var result = WeightsCommand.Run(TimeSpan.FromSeconds(5), args);
                if (result is not var (exitCode, _, error, allocated))
                {
                    // Release the reader blocked in open(2) on the FIFO, so the thread ends.
                    using (new FileStream(path, FileMode.Open, FileAccess.Write)) { }
                    throw new TimeoutException($"blocked reading {path}");
                }
                family.Charge(allocated);
                Assert.Equal(2, exitCode);
                Assert.Contains(path, error);
                Assert.Contains(says, error);
            }, allowedBytes: 16 << 20, timeBound: TimeSpan.FromSeconds(1));
        family.Finish(cases.Count);
    }
}

/// <summary>
/// Issue 15 class 10 (ncnn part): .param files that ask the tokenizer for memory — a 60 MB file of layers, and files
/// just under the 4 MiB cap holding one line of a million tokens, one array of a million values, a header announcing a
/// million layers, a Split into 300 blobs, more layers than announced, parameter ids chosen to collide in a Dictionary, and names of 100 000
/// characters. Each is refused naming the limit, allocating at most 24 × the file + 4 MiB; a valid .param still
/// loads. Before the fix the 60 MB file took over a gigabyte.
/// </summary>
public sealed class NcnnParamHostileTests : IDisposable
{
    private const int Seed = 15_010;
    private readonly string _directory = Directory.CreateTempSubdirectory("nanopose-param-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static long Allowed(long fileBytes) => 24 * fileBytes + (4 << 20);

    [Fact]
    public void LargeParamFilesAreRefusedWithinBoundedMemory()
    {
        var family = new HostileFamily(".param memory", Seed, typeof(NcnnException), typeof(NanoPose.IO.InputFileException));
        var random = new Random(Seed);
        string bin = Path.Combine(_directory, "model.bin");
        File.WriteAllBytes(bin, []);
        var cases = new List<(string Label, string Text, string Says)>();

        var layers = new StringBuilder("7767517\n1000000 1000001\nInput data 0 1 b0\n");
        for (int i = 0; layers.Length < 60_000_000; i++) layers.Append($"ReLU relu{i} 1 1 b{i} b{i + 1}\n");
        cases.Add(("60 MB of layers", layers.ToString(), "may hold at most"));

        const int Near = 4_000_000;
        var tokens = new StringBuilder("7767517\n2 2\nInput data 0 1 b0\nReLU relu 1 1 b0 b1");
        while (tokens.Length < Near) tokens.Append(" 0=1");
        cases.Add(("one line of a million tokens", tokens.ToString(), "tokens on one line"));

        var array = new StringBuilder("7767517\n2 3\nInput data 0 1 b0\nSlice slice 1 2 b0 b1 b2 -23300=999999");
        while (array.Length < Near) array.Append(",-233");
        cases.Add(("an array of a million values", array.ToString(), "at most 1024 are accepted"));

        var header = new StringBuilder($"7767517\n{1_000_000} {1_000_000}\nInput data 0 1 b0\n");
        cases.Add(("a header announcing a million layers", header.ToString(), "at most 32768 layers"));

        var fanOut = new StringBuilder("7767517\n2 301\nInput data 0 1 b0\nSplit split 1 300 b0");
        for (int i = 1; i <= 300; i++) fanOut.Append($" s{i}");
        cases.Add(("a Split into 300 blobs", fanOut.ToString(), "at most 256 of each"));
        var manyLayers = new StringBuilder("7767517\n32768 32769\nInput data 0 1 b0\n");
        for (int i = 0; manyLayers.Length < Near; i++) manyLayers.Append($"ReLU r{i} 1 1 b{i} b{i + 1}\n");
        cases.Add(("4 MB of layers, more than announced", manyLayers.ToString(), "more layers than the 32768"));

        var colliding = new StringBuilder("7767517\n2 2\nInput data 0 1 b0\nReLU relu 1 1 b0 b1");
        int offset = random.Next(100);
        for (int i = 0; i < 28_000; i++) colliding.Append($" {(i + offset) * 75431L % int.MaxValue}=1");
        cases.Add(("28 000 colliding parameter ids", colliding.ToString(), "tokens on one line"));
        var fewColliding = new StringBuilder("7767517\n2 2\nInput data 0 1 b0\nReLU relu 1 1 b0 b1 75431=1 150862=1");
        cases.Add(("parameter ids outside ncnn's 0…31", fewColliding.ToString(), "outside ncnn's 0…31"));

        string longName = new string('n', 100_000 + random.Next(1000));
        cases.Add(("names of 100 000 characters", $"7767517\n2 2\nInput {longName} 0 1 b0\nReLU relu 1 1 b0 {longName}x 7=1\n", "unsupported parameter 7"));

        foreach (var (label, text, says) in cases)
        {
            string path = Path.Combine(_directory, "hostile.param");
            File.WriteAllText(path, text);
            long length = new FileInfo(path).Length;
            family.Run($"{label} ({length} bytes)", () =>
            {
                var error = Assert.ThrowsAny<Exception>(() => NcnnModel.Load(path, bin));
                Assert.True(error is NcnnException or NanoPose.IO.InputFileException, $"{error.GetType().Name}: {error.Message}");
                Assert.StartsWith(path, error.Message);
                Assert.Contains(says, error.Message);
                throw error;
            }, Math.Min(Allowed(length), Allowed(4 << 20)), TimeSpan.FromSeconds(3));
        }
        family.Finish(cases.Count);
    }
}

/// <summary>
/// Issue 15 class 15: <c>convert</c> of the golden Lite-HRNet-18 checkpoint with, in seeded tensors, a NaN or an
/// infinity, a negative or −ε BatchNorm running_var (√ of a negative, or a division by zero) and, with --fp16, a
/// weight beyond float16's range. Each is refused naming the tensor; before the fix all were written.
/// </summary>
public class ConvertNonFiniteHostileTests
{
    private const int Seed = 15_015;

    [Fact]
    public void NonFiniteWeightsAreRefusedNamingTheTensor()
    {
        var golden = TorchCheckpoint.Load(SharedData.File("golden/litehrnet/litehrnet_18_coco.pth"));
        var random = new Random(Seed);
        var family = new HostileFamily("convert non-finite weights", Seed, typeof(CheckpointException), typeof(WeightFileException));
        var convWeights = golden.Tensors.Where(t => t.Shape.Length == 4).ToList();
        var variances = golden.Tensors.Where(t => t.Name.EndsWith(".running_var", StringComparison.Ordinal)).ToList();
        var gammas = golden.Tensors.Where(t => t.Name.EndsWith(".bn.weight", StringComparison.Ordinal) || t.Name.Contains("norm", StringComparison.Ordinal) && t.Name.EndsWith(".weight", StringComparison.Ordinal)).ToList();
        var cases = new List<(string Label, CheckpointTensor Tensor, float Value, WeightDType StoreAs, string Says)>();
        for (int i = 0; i < 3; i++)
        {
            cases.Add(("NaN weight", convWeights[random.Next(convWeights.Count)], float.NaN, WeightDType.Float32, "is NaN"));
            cases.Add(("+Inf weight", convWeights[random.Next(convWeights.Count)], float.PositiveInfinity, WeightDType.Float32, "is Infinity"));
            cases.Add(("negative running_var", variances[random.Next(variances.Count)], -0.5f - random.NextSingle(), WeightDType.Float32, "a negative variance"));
            cases.Add(("running_var = -eps", variances[random.Next(variances.Count)], -1e-5f, WeightDType.Float32, "a negative variance"));
            cases.Add(("weight beyond fp16", convWeights[random.Next(convWeights.Count)], 1e9f, WeightDType.Float16, "beyond float16"));
        }
        if (gammas.Count > 0) cases.Add(("NaN BatchNorm weight", gammas[random.Next(gammas.Count)], float.NaN, WeightDType.Float32, "is NaN"));
        foreach (var (label, tensor, value, storeAs, says) in cases)
        {
            var data = (float[])tensor.Data.Clone();
            int at = random.Next(data.Length);
            data[at] = value;
            var edited = new Checkpoint("edited.pth", CheckpointFormat.Zip, [.. golden.Tensors.Select(t => t == tensor ? t with { Data = data } : t)]);
            string prefix = tensor.Name[..tensor.Name.LastIndexOf('.')];
            family.Run($"{label} in {tensor.Name}[{at}]", () =>
            {
                var error = Assert.ThrowsAny<Exception>(() => ModelConversion.Convert(edited, "litehrnet-18", storeAs));
                Assert.True(error is CheckpointException or WeightFileException, $"{error.GetType().Name}: {error.Message}");
                Assert.Contains(prefix, error.Message);
                Assert.Contains(says, error.Message);
                throw error;
            }, allowedBytes: 1L << 30, TimeSpan.FromSeconds(5));
        }
        family.Finish(cases.Count);
    }
}

/// <summary>
/// Issue 15 class 16 (weights part): what inspect and the error lines print from files. Tensor names, dict keys and
/// architecture properties holding escape sequences, carriage returns, bells, C1 controls and bidirectional
/// overrides are printed escaped; a shape with a dimension above int.MaxValue is an error, not [0, -2147483648];
/// messages say "an int", not "a int". Before the fix the control characters reached the terminal raw.
/// </summary>
public sealed class InspectOutputHostileTests : IDisposable
{
    private const int Seed = 15_016;
    private readonly string _directory = Directory.CreateTempSubdirectory("nanopose-inspect-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static readonly string[] Controls = ["\u001b[2J", "\u001b]0;title\u0007", "\r", "\u0007", "\u009b31m", "\u202e", "\u2066", "\u0000", "\u007f", "\b\b\b"];

    private static (int ExitCode, string Output, string Error) Inspect(HostileFamily family, string path)
    {
        var (exitCode, output, error, allocated) = WeightsCommand.Run(TimeSpan.FromSeconds(5), "inspect", path)!.Value;
        family.Charge(allocated);
        return (exitCode, output, error);
    }

    private static bool Clean(string text) => !text.Any(c => (char.IsControl(c) && c != '\n') || c is '\u202e' or '\u2066');

    private string Save(string name, byte[] bytes)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void WhatIsPrintedFromFilesIsSanitisedAndCorrect()
    {
        var family = new HostileFamily("inspect output", Seed);
        var random = new Random(Seed);
        for (int i = 0; i < 30; i++)
        {
            string hostile = $"conv{i}" + string.Concat(Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Controls[random.Next(Controls.Length)])) + ".weight";
            string tensorFile = Save($"names{i}.pth", SyntheticCheckpoint.Zip([StoredTensor.Float32(hostile, "0", new float[6], 0, [2, 3], [3, 1])]));
            family.Run($"tensor name {i}", () =>
            {
                var (exitCode, output, error) = Inspect(family, tensorFile);
                Assert.Equal((0, ""), (exitCode, error));
                Assert.True(Clean(output), $"raw control characters in: {output}");
                Assert.Contains($"conv{i}", output);
            }, 64 << 20, TimeSpan.FromSeconds(2));

            var notTensor = new PickleBuilder().Proto().EmptyDict().Mark().Str(hostile).Int(1).SetItems().Stop().ToArray();
            string valueFile = Save($"values{i}.pth", HostileCheckpoints.Archive(notTensor));
            family.Run($"error about key {i}", () =>
            {
                var (exitCode, _, error) = Inspect(family, valueFile);
                Assert.Equal(2, exitCode);
                Assert.True(Clean(error), $"raw control characters in: {error}");
                Assert.Contains("is an int, not a tensor", error);
            }, 64 << 20, TimeSpan.FromSeconds(2));

            var writer = new NpwWriter(new ModelArchitecture("litehrnet", "litehrnet-18").Set($"key{i}{Controls[i % Controls.Length]}", $"value{Controls[(i + 3) % Controls.Length]}"));
            writer.Add(hostile, [2], new float[2]);
            string npw = Path.Combine(_directory, $"props{i}.npw");
            writer.Save(npw);
            family.Run($"npw properties {i}", () =>
            {
                var (exitCode, output, error) = Inspect(family, npw);
                Assert.Equal((0, ""), (exitCode, error));
                Assert.True(Clean(output), $"raw control characters in: {output}");
            }, 64 << 20, TimeSpan.FromSeconds(2));

            long dim = (long)int.MaxValue + 1 + random.Next(1 << 30);
            var view = new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark().Str("w")
                .Tensor(id => id.Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(4).Tuple(), 0, [0, dim], [1, 1]).SetItems().Stop().ToArray();
            string shapeFile = Save($"shape{i}.pth", HostileCheckpoints.Zip(("archive/data.pkl", view, System.IO.Compression.CompressionLevel.NoCompression), ("archive/data/0", new byte[16], System.IO.Compression.CompressionLevel.NoCompression)));
            family.Run($"shape [0, {dim}]", () =>
            {
                var (exitCode, output, error) = Inspect(family, shapeFile);
                Assert.DoesNotContain("-", output.Replace(shapeFile, ""));
                Assert.Equal(2, exitCode);
                Assert.Contains($"dimension 1 is {dim}", error);
            }, 64 << 20, TimeSpan.FromSeconds(2));

            var bigOffset = new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark().Str("w")
                .Global("torch._utils", "_rebuild_tensor_v2").Mark().Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(4).Tuple().PersistentId()
                .Op(0x8A, 9).Op(Enumerable.Repeat((byte)(1 + i), 8).ToArray()).Op(1).Ints(4).Ints(1).Bool(false).None().Tuple().Reduce().SetItems().Stop().ToArray();
            string offsetFile = Save($"offset{i}.pth", HostileCheckpoints.Zip(("archive/data.pkl", bigOffset, System.IO.Compression.CompressionLevel.NoCompression), ("archive/data/0", new byte[16], System.IO.Compression.CompressionLevel.NoCompression)));
            family.Run($"offset beyond 64 bits {i}", () =>
            {
                var (exitCode, _, error) = Inspect(family, offsetFile);
                Assert.Equal(2, exitCode);
                Assert.DoesNotContain("a int", error);
                Assert.Contains("storage offset", error);
            }, 64 << 20, TimeSpan.FromSeconds(2));
        }
        family.Finish(150);
    }
}
