using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary>
/// Issue 15, class 12: seeded folder trees with links among them (a folder linked to itself, to its parent, to its
/// root, two links to one folder, links to image files). <c>photos/**/*.jpg</c>, <c>photos/**</c> and the folder
/// itself must end quickly and give every real image once (by resolved path), whatever the links. A folder that
/// cannot be read is an error for its argument: the other files of the argument and the other arguments still run.
/// </summary>
public sealed class SymlinkLoopHostileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-links-").FullName;

    public void Dispose()
    {
        string closed = Path.Combine(_folder, "unreadable", "closed");   // Cli.UnreadableFolder's, mode 000
        if (Directory.Exists(closed) && !OperatingSystem.IsWindows()) File.SetUnixFileMode(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.Delete(_folder, recursive: true);   // deletes links, does not follow them
    }

    [Fact]
    public void LinkedFoldersEndAndEveryImageRunsOnce()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("folder links need privileges on Windows");
        var family = new HostileFamily(nameof(SymlinkLoopHostileTests), seed: 1512);
        for (int i = 0; i < 40; i++)
        {
            var random = family.CaseRandom(i);
            string root = Path.Combine(_folder, $"case{i}", "photos");
            family.Run($"{i}", () =>
            {
                // A real tree: folders under earlier folders, images in random folders.
                var folders = new List<string> { Directory.CreateDirectory(root).FullName };
                for (int f = 0, count = 1 + random.Next(6); f < count; f++)
                    folders.Add(Directory.CreateDirectory(Path.Combine(folders[random.Next(folders.Count)], $"d{f}")).FullName);
                var images = new List<string>();
                for (int k = 0, count = 1 + random.Next(6); k < count; k++)
                {
                    string path = Path.Combine(folders[random.Next(folders.Count)], $"img{k}.jpg");
                    File.WriteAllText(path, $"image {k}");   // the content tells which real file a path reaches
                    images.Add(path);
                }
                // Links: to any folder of the tree (itself, a parent, the root: loops) and to images.
                for (int l = 0, count = 1 + random.Next(5); l < count; l++)
                {
                    string at = folders[random.Next(folders.Count)];
                    if (random.Next(3) > 0) Directory.CreateSymbolicLink(Path.Combine(at, $"link{l}"), folders[random.Next(folders.Count)]);
                    else File.CreateSymbolicLink(Path.Combine(at, $"link{l}.jpg"), images[random.Next(images.Count)]);
                }
                string argument = new[] { Path.Combine(root, "**", "*.jpg"), Path.Combine(root, "**"), root + "/**/*" }[random.Next(3)];
                var expansions = ImageInputs.Expand([argument, argument]);   // the second reaches only images already taken
                var reached = expansions.SelectMany(x => x.Files).Select(File.ReadAllText).Order(StringComparer.Ordinal);
                Assert.Equal(images.Select(File.ReadAllText).Order(StringComparer.Ordinal), reached);
                Assert.All(expansions, x => Assert.Null(x.Error));
                // The folder itself: its own images (links to images in it or elsewhere count once each).
                var direct = Assert.Single(ImageInputs.Expand([root]));
                Assert.Equal(direct.Files.Select(File.ReadAllText).Distinct().Count(), direct.Files.Count);
            }, TimeSpan.FromSeconds(5));
        }

        string? closed = Cli.UnreadableFolder(Directory.CreateDirectory(Path.Combine(_folder, "unreadable")).FullName);
        if (closed is not null)
        {
            string image = SharedData.File("data/coco-mini/000000000785.jpg");
            family.Run("unreadable folder beside an image", () =>
            {
                var (code, output, error) = Cli.Run("predict", "--model", TinyPoseModel.NpwPath, "--detector", "none", closed, image);
                Assert.True(code == 2, $"exit code {code}: {error}");
                Assert.Contains("cannot read the folder", error);
                Assert.Contains("000000000785.jpg", output);   // the other argument ran
            });
            family.Run("unreadable sub-folder in a ** glob", () =>
            {
                string tree = Directory.CreateDirectory(Path.Combine(_folder, "tree")).FullName;
                File.Copy(image, Path.Combine(tree, "000000000785.jpg"));
                Directory.CreateSymbolicLink(Path.Combine(tree, "closed-link"), closed);
                var expansion = Assert.Single(ImageInputs.Expand([Path.Combine(tree, "**", "*.jpg")]));
                Assert.Contains("cannot read the folder", expansion.Error);
                Assert.Equal([Path.Combine(tree, "000000000785.jpg")], expansion.Files);
            });
        }
        else TestContext.Current.TestOutputHelper?.WriteLine("no unreadable folder for this user: those cases did not run");
        family.Finish(minimumCases: 40, timeBound: TimeSpan.FromSeconds(15));
    }
}
