using NanoPose.Evaluation;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Cli.Tests;

/// <summary>
/// Issue 15, class 3: a model whose head gives NaN or infinite values (weights or biases set to NaN, ±Inf or
/// ±3e38, which overflows) fails each image on its own: the batch goes on, standard output, <c>--json</c> and
/// <c>--jsonl</c> stay valid JSON, the summary counts every such image as failed, and the exit code is 2.
/// </summary>
public sealed class NonFiniteOutputHostileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-nonfinite-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly float[] Poisons = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3e38f, -3e38f];

    [Fact]
    public void ANonFiniteResultFailsItsImageAndTheBatchGoesOn()
    {
        var source = NpwFile.Parse(TinyPoseModel.Npw, "tinypose");
        var head = source.Tensors.Where(t => t.Name.StartsWith("keypoint_head.final_layer", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(head);
        byte[] jpeg = File.ReadAllBytes(SharedData.File("data/coco-mini/000000000785.jpg"));
        string photos = Directory.CreateDirectory(Path.Combine(_folder, "photos")).FullName;
        for (int k = 0; k < 2; k++) File.WriteAllBytes(Path.Combine(photos, $"{k}.jpg"), jpeg);

        var family = new HostileFamily(nameof(NonFiniteOutputHostileTests), seed: 1503);
        for (int i = 0; i < 10; i++)
        {
            var random = family.CaseRandom(i);
            var tensor = head[random.Next(head.Length)];
            float poison = Poisons[i % Poisons.Length];
            bool everyValue = poison is not (3e38f or -3e38f) || random.Next(2) == 0;
            string mode = (i / Poisons.Length % 2 == 0 ? ["--json", "stdout"] : new[] { "--jsonl", "--draw" })[random.Next(2)];
            int threads = 1 + random.Next(2);
            family.Run($"{i} {tensor.Name} = {poison} ({(everyValue ? "every value" : "one value")}), {mode}, {threads} threads", () =>
            {
                string model = Path.Combine(_folder, $"poisoned{i}.npw");
                File.WriteAllBytes(model, Poisoned(source, tensor.Name, poison, everyValue ? null : random));
                string results = Path.Combine(_folder, $"results{i}.json");
                string[] args = ["predict", "--model", model, photos, "--detector", "none", "--threads", $"{threads}",
                    .. mode switch { "--json" or "--jsonl" => [mode, results], "--draw" => ["--draw", Path.Combine(_folder, $"pictures{i}")], _ => Array.Empty<string>() }];
                var (code, output, error) = Cli.Run(args);
                string[] errors = [.. error.Split('\n').Where(line => line.StartsWith("error: ", StringComparison.Ordinal))];
                foreach (string line in errors) Assert.Contains("non-finite", line);
                Assert.DoesNotContain("internal error", error);
                var people = mode switch
                {
                    "--json" => CocoJson.ReadDetections(results),
                    "--jsonl" => CocoJson.ReadDetectionsJsonLines(File.OpenRead(results), results),
                    _ => CocoJson.ReadDetectionsJsonLines(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(output)), "stdout"),
                };
                // One box per image (--detector none): each image gives its person or fails, and the summary says which.
                Assert.Equal(2, people.Count + errors.Length);
                Assert.Contains($"2 images, {people.Count} {(people.Count == 1 ? "person" : "people")}, {errors.Length} failed", error);
                Assert.Equal(errors.Length > 0 ? 2 : 0, code);
                // NaN and infinities in every value of the head reach every heatmap: nothing finite is left to report.
                if (everyValue && !float.IsFinite(poison)) Assert.Equal(2, errors.Length);
            });
        }
        family.Finish(minimumCases: 10, timeBound: TimeSpan.FromSeconds(30));
    }

    /// <summary>The model with <paramref name="poison"/> in the named tensor: every value, or one chosen by <paramref name="random"/>.</summary>
    private static byte[] Poisoned(NpwFile source, string name, float poison, Random? random)
    {
        var writer = new NpwWriter(source.Architecture);
        foreach (var tensor in source.Tensors)
        {
            float[] values = source.ReadValues(tensor);
            if (tensor.Name == name)
            {
                if (random is null) values.AsSpan().Fill(poison);
                else values[random.Next(values.Length)] = poison;
            }
            writer.Add(tensor.Name, tensor.Shape, values, WeightDType.Float32);   // float32 keeps ±3e38 finite in the file
        }
        return writer.ToBytes();
    }
}
