using NanoPose.ImageSharp;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Cli.Tests;

/// <summary>
/// Issue 15, class 1: no output of <c>predict</c>, <c>eval</c> or <c>forward</c> may replace one of the command's
/// inputs (photos under <c>--draw</c>, an image, the model, the box file or the annotations under <c>--json</c> or
/// <c>--jsonl</c>, the input array under <c>--out-dir</c>), however the path is spelled (relative, absolute, with
/// <c>./</c> or <c>x/../</c>, through a linked file or a linked folder). Each seeded case must be refused with exit
/// 2 and a message before anything is written: every file in the case's folder is byte for byte as before.
/// </summary>
public sealed class OutputOverwriteHostileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-overwrite-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private enum Clash { DrawOverPhotos, JsonlOverImage, JsonOverImage, JsonOverModel, JsonlOverBoxes, JsonOverDetector, JsonOverDrawing, EvalOverAnnotations, EvalOverImage, ForwardOverInput }

    [Fact]
    public void NoOutputReplacesAnInput()
    {
        byte[] jpeg = File.ReadAllBytes(SharedData.File("data/coco-mini/000000000785.jpg"));
        var decoded = new ImageFileDecoder().Decode(SharedData.File("data/coco-mini/000000000785.jpg"), TestContext.Current.CancellationToken);
        string pngPath = Path.Combine(_folder, "source.png");
        ImageFileEncoder.Save(pngPath, decoded.Pixels, decoded.Width, decoded.Height, decoded.Stride);
        byte[] png = File.ReadAllBytes(pngPath);
        File.Delete(pngPath);
        byte[] model = TinyPoseModel.Npw;

        var family = new HostileFamily(nameof(OutputOverwriteHostileTests), seed: 1501);
        var clashes = Enum.GetValues<Clash>();
        for (int i = 0; i < 40; i++)
        {
            var random = family.CaseRandom(i);
            var clash = clashes[i % clashes.Length];
            int spelling = random.Next(6);
            string root = Directory.CreateDirectory(Path.Combine(_folder, $"case{i}")).FullName;
            family.Run($"{i} {clash} spelling {spelling}", () => RunCase(root, clash, spelling, random, jpeg, png, model));
        }
        family.Finish(minimumCases: 40, timeBound: TimeSpan.FromSeconds(30));
    }

    private static void RunCase(string root, Clash clash, int spelling, Random random, byte[] jpeg, byte[] png, byte[] model)
    {
        string photos = Directory.CreateDirectory(Path.Combine(root, "photos")).FullName;
        bool pngPhotos = random.Next(2) == 0;
        string[] names = [.. Enumerable.Range(0, 1 + random.Next(3)).Select(k => $"000000000785{(k == 0 ? "" : $"-{k}")}.{(pngPhotos ? "png" : "jpg")}")];
        foreach (string name in names) File.WriteAllBytes(Path.Combine(photos, name), pngPhotos ? png : jpeg);
        string image = Path.Combine(photos, names[random.Next(names.Length)]);
        string modelPath = Path.Combine(root, "model.npw");
        File.WriteAllBytes(modelPath, model);
        string boxes = Path.Combine(root, "boxes.json");
        File.WriteAllText(boxes, """[{"image_id": 785, "category_id": 1, "bbox": [280.79, 44.73, 218.7, 346.68], "score": 0.9}]""");
        string annotations = Path.Combine(photos, "gt.json");
        string extension = pngPhotos ? "png" : "jpg";
        File.WriteAllText(annotations, $$"""{"images": [{"id": 785, "file_name": "000000000785.{{extension}}"}], "categories": [{"id": 1, "name": "person"}], "annotations": []}""");
        string array = Path.Combine(Directory.CreateDirectory(Path.Combine(root, "arrays")).FullName, $"output{random.Next(3)}.npy");
        Npy.Write(array, [1, 3, 64, 48], new float[3 * 64 * 48]);
        string drawFormat = pngPhotos ? "png" : "jpg";

        string[] args = clash switch
        {
            Clash.DrawOverPhotos => ["predict", "--model", modelPath, photos, "--draw", Spell(root, photos, spelling), "--draw-format", drawFormat],
            Clash.JsonlOverImage => ["predict", "--model", modelPath, photos, "--jsonl", Spell(root, image, spelling)],
            Clash.JsonOverImage => ["predict", "--model", modelPath, image, "--json", Spell(root, image, spelling)],
            Clash.JsonOverModel => ["predict", "--model", modelPath, image, "--json", Spell(root, modelPath, spelling)],
            Clash.JsonlOverBoxes => ["predict", "--model", modelPath, image, "--boxes", boxes, "--jsonl", Spell(root, boxes, spelling)],
            Clash.JsonOverDetector => ["predict", "--model", modelPath, image, "--detector", modelPath, "--json", Spell(root, modelPath, spelling)],
            Clash.JsonOverDrawing => ["predict", "--model", modelPath, image, "--draw", Path.Combine(root, "pictures"), "--draw-format", drawFormat,
                "--json", Spell(root, Path.Combine(root, "pictures", Path.GetFileNameWithoutExtension(image) + "." + drawFormat), spelling)],
            Clash.EvalOverAnnotations => ["eval", "--model", modelPath, "--annotations", annotations, "--images", photos, "--json", Spell(root, annotations, spelling)],
            Clash.EvalOverImage => ["eval", "--model", modelPath, "--annotations", annotations, "--images", photos, "--json",
                Spell(root, Path.Combine(photos, "000000000785." + drawFormat), spelling)],
            _ => ["forward", "--model", modelPath, "--input", array, "--out-dir", Spell(root, Path.GetDirectoryName(array)!, spelling)],
        };
        var before = Cli.Snapshot(root);
        var result = Cli.Run(args);
        Cli.AssertRefused(result, clash == Clash.JsonOverDrawing ? "would both write" : "over the input");
        Assert.Equal(before, Cli.Snapshot(root));   // nothing written, nothing replaced
    }

    /// <summary>The path as one of six spellings: relative to the working folder, absolute, with ./, through x/../,
    /// through a link to the file, through a link to its folder (links made in <paramref name="root"/>).</summary>
    private static string Spell(string root, string path, int spelling)
    {
        string full = Path.GetFullPath(path);
        string parent = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
        switch (spelling)
        {
            case 0: return Path.GetRelativePath(Environment.CurrentDirectory, full);
            case 1: return full;
            case 2: return Path.Combine(parent, ".", name);
            case 3: return Path.Combine(parent, "..", Path.GetFileName(parent), name);
            case 4:
                string fileLink = Path.Combine(root, "link-to-" + name);
                if (!Path.Exists(fileLink)) File.CreateSymbolicLink(fileLink, full);
                return fileLink;
            default:
                string folderLink = Path.Combine(root, "folder-link");
                if (!Path.Exists(folderLink)) Directory.CreateSymbolicLink(folderLink, parent);
                return Path.Combine(folderLink, name);
        }
    }
}
