using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Models.EfficientHrnet;
using NanoPose.Models.LiteHrnet;
using NanoPose.Pipelines.TopDown;
using NanoPose.PoseEstimation;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose;

/// <summary>
/// Estimates the poses of people in images with a model from a .npw file: top-down models (Lite-HRNet family,
/// PP-TinyPose) find one person per given box, bottom-up models (EfficientHRNet) find everyone in the image.
/// Images are raw 8-bit RGB or BGR pixels: the engine decodes no image files.
/// <para>
/// <b>Thread safety:</b> an instance is not thread-safe. It reuses its network buffers on every call, so
/// <see cref="Estimate"/> must not run on two threads at once: give each thread its own estimator (loading the same
/// file again is cheap next to running it), or serialise calls with a lock. Instances share nothing with each other.
/// </para>
/// </summary>
public sealed class PoseEstimator : IDisposable
{
    private IPeopleEstimation? _estimation;
    private WorkerPool? _pool;
    private byte[] _rgb = [];

    private PoseEstimator(NpwFile file, PoseEstimatorOptions options)
    {
        if (!Enum.IsDefined(options.Decoding)) throw new ArgumentOutOfRangeException(nameof(options), options.Decoding, "unknown heatmap decoding");
        WorkerPool.ValidateThreads(options.Threads, nameof(options));
        Options = options;
        Architecture = file.Architecture;
        var width = Isa.Best;
        string family = file.Architecture.Family;
        if (family is not (LiteHrnetConfig.Family or EfficientHrnetConfig.Family))
            throw new WeightFileException(file.Source,
                $"architecture family '{family}' has no pose pipeline (known: {LiteHrnetConfig.Family}, {EfficientHrnetConfig.Family})");
        _pool = options.Threads > 1 ? new WorkerPool(options.Threads) : null;
        try
        {
            IsTopDown = family == LiteHrnetConfig.Family;
            _estimation = IsTopDown
                ? new TopDownEstimation(PoseNetworks.Load(file, width, pool: _pool), options, _pool)
                : new BottomUpEstimation(EfficientHrnetModel.Load(file, width), options, width, _pool);
        }
        catch
        {
            _pool?.Dispose();
            throw;
        }
    }

    /// <summary>Loads a .npw file. Throws <see cref="WeightFileException"/> (naming the file) for a bad file.</summary>
    public static PoseEstimator Load(string path, PoseEstimatorOptions? options = null) =>
        new(NpwFile.Load(path), options ?? new PoseEstimatorOptions());

    /// <summary>An estimator for a .npw file already read (several estimators can share one <see cref="NpwFile"/>).</summary>
    public static PoseEstimator Load(NpwFile file, PoseEstimatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new(file, options ?? new PoseEstimatorOptions());
    }

    /// <summary>Loads a .npw file from a stream (read to its end).</summary>
    /// <param name="source">Names the data in error messages.</param>
    public static PoseEstimator Load(Stream stream, PoseEstimatorOptions? options = null, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return new(NpwFile.Parse(bytes.ToArray(), source), options ?? new PoseEstimatorOptions());
    }

    /// <summary>Loads a .npw file held in memory.</summary>
    /// <param name="source">Names the data in error messages.</param>
    public static PoseEstimator Load(ReadOnlySpan<byte> npw, PoseEstimatorOptions? options = null, string source = "memory") =>
        new(NpwFile.Parse(npw.ToArray(), source), options ?? new PoseEstimatorOptions());

    public PoseEstimatorOptions Options { get; }

    /// <summary>The model as its .npw file describes it (family, variant, input size, ...).</summary>
    public ModelArchitecture Architecture { get; }

    /// <summary>True for top-down models, which use person boxes; false for bottom-up models, which ignore them.</summary>
    public bool IsTopDown { get; }

    /// <summary>
    /// The people in one image of <paramref name="width"/> × <paramref name="height"/> pixels, rows
    /// <paramref name="stride"/> bytes apart (at least 3·width), in <paramref name="format"/>.
    /// <para>
    /// Top-down models estimate one person per box in <paramref name="boxes"/> (COCO x, y, width, height in pixels,
    /// and the detector's score), or one person in the whole image when <paramref name="boxes"/> is null; people
    /// whose keypoints nearly coincide are merged by OKS-NMS (threshold 0.9), as mmpose does. Every box is checked
    /// before any work: a box with a NaN or infinite value, a zero or negative width or height, or no overlap with
    /// the image throws <see cref="ArgumentException"/> naming the box (<c>boxes[i]</c>). A box that only partly
    /// overlaps the image is used as given, not clipped: its part outside the image reads as black, as in mmpose.
    /// </para>
    /// <para>Bottom-up models ignore <paramref name="boxes"/>.</para>
    /// </summary>
    public IReadOnlyList<EstimatedPerson> Estimate(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format,
        IReadOnlyList<PersonBox>? boxes = null)
    {
        var estimation = _estimation;
        ObjectDisposedException.ThrowIf(estimation is null, this);
        var image = new RgbImage(pixels, width, height, stride);   // checks the sizes against the bytes
        image = format switch
        {
            PixelFormat.Rgb24 => image,
            PixelFormat.Bgr24 => new RgbImage(SwapRedAndBlue(pixels, width, height, stride), width, height),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "expected Rgb24 or Bgr24"),
        };
        return estimation.Estimate(image, boxes);
    }

    /// <summary>Releases the network, its buffers and its worker threads; the estimator cannot be used afterwards.</summary>
    public void Dispose()
    {
        _estimation = null;
        _pool?.Dispose();
        _pool = null;
        _rgb = [];
    }

    /// <summary>BGR rows to a tightly packed RGB copy, in a buffer kept for the next image.</summary>
    private ReadOnlySpan<byte> SwapRedAndBlue(ReadOnlySpan<byte> bgr, int width, int height, int stride)
    {
        int rowBytes = width * 3;
        if (_rgb.Length != rowBytes * height) _rgb = new byte[rowBytes * height];
        for (int y = 0; y < height; y++)
        {
            var source = bgr.Slice(y * stride, rowBytes);
            var destination = _rgb.AsSpan(y * rowBytes, rowBytes);
            for (int x = 0; x < rowBytes; x += 3)
            {
                destination[x] = source[x + 2];
                destination[x + 1] = source[x + 1];
                destination[x + 2] = source[x];
            }
        }
        return _rgb;
    }
}
