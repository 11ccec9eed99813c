using BenchmarkDotNet.Attributes;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Bench;

/// <summary>
/// The crop a top-down network sees: <see cref="AffineWarp.WarpBilinear"/> (OpenCV's fixed-point bilinear) of a
/// 640×480 image into 192×256, for a person box inside the image and for one half outside it, whose outside pixels
/// take the bounds-checked path. Runs once per person before the network, in NanoPose's pipeline and in the ONNX
/// Runtime one it is compared with.
/// </summary>
[MedianColumn]
public class CropBenchmarks
{
    public enum Placement { Inside, HalfOutside }

    [Params(Placement.Inside, Placement.HalfOutside)] public Placement Box { get; set; }

    const int ImageWidth = 640, ImageHeight = 480, CropWidth = 192, CropHeight = 256;
    byte[] pixels = [], crop = [];
    AffineTransform transform;

    [GlobalSetup]
    public void Setup()
    {
        pixels = new byte[ImageWidth * ImageHeight * 3];
        new Random(5).NextBytes(pixels);
        crop = new byte[CropWidth * CropHeight * 3];
        var box = Box == Placement.Inside ? new PersonBox(200, 100, 150, 300) : new PersonBox(-75, 100, 150, 300);
        transform = AffineTransform.FromCenterScale(
            CenterScale.FromBox(box, ImageWidth, ImageHeight, CropWidth, CropHeight, CenterScale.DefaultPadding), CropWidth, CropHeight);
    }

    [Benchmark]
    public void Warp() => AffineWarp.WarpBilinear(new RgbImage(pixels, ImageWidth, ImageHeight), transform, crop, CropWidth, CropHeight);
}
