using NanoPose.Drawing;
using NanoPose.ImageSharp;

namespace NanoPose.Cli;

/// <summary><c>predict --draw</c>: each image with its people's skeletons drawn, saved as PNG (or JPEG with
/// <c>--draw-format jpg</c>) in the folder given.</summary>
internal static class PoseDrawing
{
    /// <summary>The picture formats <c>--draw-format</c> takes.</summary>
    public static readonly string[] Formats = ["png", "jpg"];

    /// <summary>One picture path per image: the image's name with the format's extension, numbered (name-2.png, ...)
    /// where two images of the batch share a name, so no picture overwrites another. Only the file name is used:
    /// nothing is written outside <paramref name="folder"/>.</summary>
    public static string[] TargetPaths(IReadOnlyList<string> images, string folder, string format = "png")
    {
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var paths = new string[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            string stem = Path.GetFileNameWithoutExtension(images[i]);
            string name = $"{stem}.{format}";
            for (int n = 2; !taken.Add(name); n++) name = $"{stem}-{n}.{format}";
            paths[i] = Path.Combine(folder, name);
        }
        return paths;
    }

    /// <summary>Draws on the decoded pixels (they are not needed afterwards) and writes the picture.</summary>
    /// <param name="drawBoxes">Each person's box with its score under the skeleton (<c>--no-boxes</c> turns it off).</param>
    public static void Save(DecodedImage image, IReadOnlyList<EstimatedPerson> people, float minScore, string path, bool drawBoxes = true)
    {
        SkeletonPainter.Draw(image.Pixels, image.Width, image.Height, image.Stride, people, new SkeletonStyle { MinScore = minScore, DrawBoxes = drawBoxes });
        using var writing = OutputGuard.Writing();   // a second Ctrl+C waits for the picture rather than leave its temporary file
        ImageFileEncoder.Save(path, image.Pixels, image.Width, image.Height, image.Stride);
    }
}
