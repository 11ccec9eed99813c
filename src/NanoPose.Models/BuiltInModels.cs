using NanoPose.Weights;

namespace NanoPose.Models;

/// <summary>
/// The models built into NanoPose, embedded in this assembly: the pose model PP-TinyPose 256×192 (a wider-naive
/// Lite-HRNet-18 trained by PaddleDetection on COCO; top-down, 17 keypoints per person box) and the person detector
/// PicoDet-S LCNet pedestrian (PaddleDetection), trained at 192×192 and at 320×320. Both were converted from their
/// published files to NanoPose's .npw format (float16, BatchNorm folded); NanoPose's tests check each embedded file is
/// byte for byte a fresh conversion. Weights © PaddlePaddle Authors, Apache License 2.0 (see the NOTICE file).
/// </summary>
/// <example>
/// <code>
/// using var detector = BuiltInModels.PersonDetector();
/// using var estimator = PoseEstimator.Load(BuiltInModels.PoseModel(), detector: detector);
/// </code>
/// </example>
public static class BuiltInModels
{
    /// <summary>How the pose model names itself in error messages and <see cref="NpwFile.Source"/>.</summary>
    public const string PoseModelName = "PP-TinyPose 256×192 (built in)";

    /// <summary>The attribution the pose model's licence asks for, for programs that print one.</summary>
    public const string PoseModelNotice = "PP-TinyPose weights © PaddlePaddle Authors, Apache License 2.0";

    /// <summary>The attribution the person detector's licence asks for, for programs that print one.</summary>
    public const string PersonDetectorNotice = "PicoDet-S weights © PaddlePaddle Authors, Apache License 2.0";

    /// <summary>The person detector's input sizes built in (square: 192×192 and 320×320).</summary>
    public static IReadOnlyList<int> PersonDetectorSizes { get; } = [192, 320];

    /// <summary>The person detector's default size: 320, whose boxes fit people better than 192's (keypoint AP 0.822
    /// against 0.802 on coco-mini) for about 2.6 times the detector's time.</summary>
    public const int DefaultPersonDetectorSize = 320;

    /// <summary>How the person detector trained at <paramref name="size"/> names itself in error messages.</summary>
    public static string PersonDetectorName(int size) => $"PicoDet-S LCNet {size}×{size} (built in)";

    /// <summary>The pose model, ready for <see cref="PoseEstimator.Load(NpwFile, PoseEstimatorOptions?, PersonDetector?)"/>.
    /// The weights are read in place from the assembly, not copied; several estimators can share one.</summary>
    public static NpwFile PoseModel() => NpwFile.Parse(ResourceInPlace("pp-tinypose-256x192.npw"), PoseModelName);

    /// <summary>The person detector trained at <paramref name="size"/> (one of <see cref="PersonDetectorSizes"/>),
    /// loaded with <paramref name="options"/> (PaddleDetection's defaults when null): pass it to
    /// <see cref="PoseEstimator.Load(NpwFile, PoseEstimatorOptions?, PersonDetector?)"/> so that images estimated
    /// without boxes get one per person. Dispose it after the estimators that use it.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not a built-in size.</exception>
    public static PersonDetector PersonDetector(int size = DefaultPersonDetectorSize, PersonDetectorOptions? options = null) =>
        NanoPose.PersonDetector.Load(PersonDetectorModel(size), options);

    /// <summary>The person detector's weights trained at <paramref name="size"/>, for
    /// <see cref="NanoPose.PersonDetector.Load(NpwFile, PersonDetectorOptions?)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not a built-in size.</exception>
    public static NpwFile PersonDetectorModel(int size = DefaultPersonDetectorSize) =>
        NpwFile.Parse(ResourceInPlace(PersonDetectorFile(size)), PersonDetectorName(size));

    /// <summary>The pose model's .npw file, byte for byte as embedded.</summary>
    public static byte[] PoseModelBytes() => ReadResource("pp-tinypose-256x192.npw");

    /// <summary>The .npw file of the person detector trained at <paramref name="size"/>, byte for byte as embedded.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not a built-in size.</exception>
    public static byte[] PersonDetectorModelBytes(int size) => ReadResource(PersonDetectorFile(size));

    private static string PersonDetectorFile(int size) => PersonDetectorSizes.Contains(size) ? $"picodet-s-{size}.npw"
        : throw new ArgumentOutOfRangeException(nameof(size), size,
            $"the built-in person detector's size must be {string.Join(" or ", PersonDetectorSizes)}");

    private static byte[] ReadResource(string file)
    {
        using var stream = OpenResource(file);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// The embedded file where the runtime keeps it (the assembly's mapped image, or a NativeAOT binary's data),
    /// which stays in place and unchanged for the life of the process: copying 5 MB of weights into new memory cost
    /// start-up about a tenth of its time, mostly in page faults. A copy only if the runtime hands out another stream.
    /// </summary>
    private static unsafe ReadOnlyMemory<byte> ResourceInPlace(string file)
    {
        using var stream = OpenResource(file);
        if (stream is not UnmanagedMemoryStream mapped) return ReadResource(file);
        return new UnmanagedBytes(mapped.PositionPointer, checked((int)mapped.Length)).Memory;
    }

    private static Stream OpenResource(string file)
    {
        string name = $"NanoPose.Models.{file}";
        return typeof(BuiltInModels).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the built-in model resource {name} is missing from this build of NanoPose.Models");
    }

    /// <summary>Bytes that live as long as the process (an embedded resource), seen as <see cref="Memory{T}"/>.</summary>
    private sealed unsafe class UnmanagedBytes(byte* start, int length) : System.Buffers.MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(start, length);
        public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => new(start + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }
}
