using System.Runtime.Intrinsics.X86;
using NanoPose.Pipelines.Detection;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.Pipelines.Detection;

public class DetectorInputTests(ITestOutputHelper output)
{
    /// <summary>
    /// The detector's resize (with AVX2: rows blended across by gathers, then down, in vectors) gives the plain
    /// loops' bytes exactly, for shrinking and enlarging, RGB and BGR, tightly packed rows (the last row has no
    /// bytes to spare for the four-byte gathers, and takes the scalar loop) and padded ones, and output widths off the 8- and 32-value steps.
    /// </summary>
    [Fact]
    public void ResizeEqualsThePlainLoopsByteForByte()
    {
        var random = new Random(1208);
        (int Width, int Height, int ToWidth, int ToHeight)[] sizes =
            [(640, 425, 320, 320), (425, 640, 192, 192), (37, 23, 320, 320), (1, 1, 32, 32), (3, 200, 37, 5), (500, 3, 11, 45), (17, 17, 17, 17)];
        int compared = 0;
        foreach (var (width, height, toWidth, toHeight) in sizes)
            foreach (int padding in new[] { 0, 5 })
                foreach (bool bgr in new[] { false, true })
                {
                    int stride = 3 * width + padding;
                    // Exactly the rows' bytes: the last row ends the array, and its values take the scalar tail.
                    var pixels = new byte[stride * (height - 1) + 3 * width];
                    random.NextBytes(pixels);
                    var image = new RgbImage(pixels, width, height, stride);
                    var (fast, plain) = (new byte[toWidth * toHeight * 3], new byte[toWidth * toHeight * 3]);
                    DetectorInput.ResizeBilinear(image, bgr, toWidth, toHeight, fast);
                    DetectorInput.ResizeBilinearPlain(image, bgr, toWidth, toHeight, plain);
                    int firstDifference = fast.AsSpan().CommonPrefixLength(plain);
                    Assert.True(firstDifference == fast.Length,
                        $"{width}×{height} (stride {stride}, {(bgr ? "BGR" : "RGB")}) → {toWidth}×{toHeight}: value {firstDifference} is {fast.ElementAtOrDefault(firstDifference)}, the plain loops give {plain.ElementAtOrDefault(firstDifference)}");
                    compared += fast.Length;
                }
        output.WriteLine($"{compared:N0} values equal; the vector path {(Avx2.IsSupported ? "ran (AVX2)" : "did not run: no AVX2, both calls took the plain loops")}");
    }

    /// <summary>The plain loops against cv2.resize's definition written out for one value: half-pixel centres, edges
    /// clamped, the row blends first, then the column blend, rounded half to even.</summary>
    [Fact]
    public void PlainLoopsFollowHalfPixelCentres()
    {
        // 4×2 source, one channel varying: red = 10·x + 100·y; enlarge to 8×4.
        var pixels = new byte[4 * 2 * 3];
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 4; x++) pixels[3 * (4 * y + x)] = (byte)(10 * x + 100 * y);
        var resized = new byte[8 * 4 * 3];
        DetectorInput.ResizeBilinearPlain(new RgbImage(pixels, 4, 2, 12), false, 8, 4, resized);
        // Output (x = 3, y = 1): source x = (3.5)·0.5 − 0.5 = 1.25, source y = 1.5·0.5 − 0.5 = 0.25.
        // Row 0: 10 + 10·0.25 = 12.5; row 1: 110 + 10·0.25 = 112.5; down: 12.5 + 100·0.25 = 37.5 → 38 (half to even).
        Assert.Equal(38, resized[3 * (8 * 1 + 3)]);
        // Output (0, 0): source (−0.25, −0.25) clamps to (0, 0).
        Assert.Equal(0, resized[0]);
    }
}
