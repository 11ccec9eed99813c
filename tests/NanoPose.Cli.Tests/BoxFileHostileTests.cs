using NanoPose.Evaluation;
using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary>
/// Issue 15, class 17: ids in a box file must be whole numbers. Seeded box files with a fraction, an overflowing or
/// a non-finite-looking id in <c>image_id</c> or <c>category_id</c> of a random entry are refused naming the entry
/// and the field (785.9 must not match image 785; 1.0000000001 must not be dropped as "not a person"); whole numbers
/// written as 785, 785.0 or 7.85e2 still match. <c>eval</c> refuses ground-truth file names that lead out of
/// <c>--images</c> (<c>..</c>, absolute names) before reading any image.
/// </summary>
public sealed class BoxFileHostileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-boxids-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly string[] NotWhole = ["785.9", "785.5", "784.99999999999999", "785.0000000001", "1e300", "-1.5", "9.3e18", "-9.3e18", "7.859e2", "785e-1"];
    private static readonly string[] NotOne = ["1.0000000001", "0.9999999999999999999", "1.5", "1e-400", "1e400", "2.0000000000000000001"];
    private static readonly string[] Whole = ["785", "785.0", "7.85e2", "785.000", "78500e-2"];

    [Fact]
    public void IdsMustBeWholeNumbers()
    {
        string image = SharedData.File("data/coco-mini/000000000785.jpg");
        var family = new HostileFamily(nameof(BoxFileHostileTests), seed: 1517);
        const string Box = "\"bbox\": [280.79, 44.73, 218.7, 346.68], \"score\": 0.9";
        for (int i = 0; i < 30; i++)
        {
            var random = family.CaseRandom(i);
            int kind = i % 3;   // 0: a bad image_id, 1: a bad category_id, 2: whole numbers spelled differently
            string value = kind switch { 0 => NotWhole[random.Next(NotWhole.Length)], 1 => NotOne[random.Next(NotOne.Length)], _ => Whole[random.Next(Whole.Length)] };
            int entries = 1 + random.Next(4), bad = random.Next(entries);
            family.Run($"{i} {(kind == 1 ? "category_id" : "image_id")} {value} in entry {bad} of {entries}", () =>
            {
                var items = Enumerable.Range(0, entries).Select(e => e != bad
                    ? $"{{\"image_id\": 999, \"category_id\": 1, {Box}}}"
                    : kind == 1 ? $"{{\"image_id\": 785, \"category_id\": {value}, {Box}}}" : $"{{\"image_id\": {value}, \"category_id\": 1, {Box}}}");
                string boxes = Path.Combine(_folder, $"boxes{i}.json");
                File.WriteAllText(boxes, $"[{string.Join(",\n", items)}]");
                var (code, output, error) = Cli.Run("predict", "--model", TinyPoseModel.NpwPath, image, "--boxes", boxes);
                if (kind == 2)
                {
                    Assert.True(code == 0, $"exit code {code}: {error}");
                    Assert.Equal(785, Assert.Single(CocoJson.ReadDetectionsJsonLines(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(output)), "stdout")).ImageId);
                }
                else Cli.AssertRefused((code, output, error), boxes, $"[{bad}].{(kind == 1 ? "category_id" : "image_id")}", "an id");   // "expected a whole number (an id)" or "outside the range of an id"
            });
        }

        // eval: file names that lead out of --images, each next to a real image that is there to be read.
        string images = Directory.CreateDirectory(Path.Combine(_folder, "images")).FullName;
        File.Copy(image, Path.Combine(images, "000000000785.jpg"));
        File.Copy(image, Path.Combine(_folder, "outside.jpg"));
        string[] escapes = ["../outside.jpg", Path.Combine(_folder, "outside.jpg"), "sub/../../outside.jpg", "./../outside.jpg", "../images/../outside.jpg", "/etc/passwd"];
        for (int i = 0; i < escapes.Length; i++)
        {
            string fileName = escapes[i];
            family.Run($"eval file_name {fileName}", () =>
            {
                string annotations = Path.Combine(_folder, $"gt{i}.json");
                File.WriteAllText(annotations, $$"""
                    {"images": [{"id": 785, "file_name": "000000000785.jpg"}, {"id": 786, "file_name": "{{fileName}}"}],
                     "categories": [{"id": 1, "name": "person"}], "annotations": []}
                    """);
                Cli.AssertRefused(Cli.Run("eval", "--model", TinyPoseModel.NpwPath, "--annotations", annotations, "--images", images, "--boxes", "gt"),
                    annotations, "images[1].file_name", "out of the image folder");
            });
        }
        family.Finish(minimumCases: 36, timeBound: TimeSpan.FromSeconds(30));
    }
}
