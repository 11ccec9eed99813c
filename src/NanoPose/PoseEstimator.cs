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
/// <b>Thread safety:</b> <see cref="Estimate"/> may be called from any number of threads at once on one instance, and
/// gives every call the same people as if the calls had run one after another. A call runs on an estimation instance
/// of its own, rented for the call: the first is built with the estimator; a call that finds every instance busy
/// builds another (sharing the packed weights, with its own activation memory, running on its caller's thread
/// alone), which is kept for later calls. So an estimator holds at most as many instances as calls ever ran at
/// once, and no lock is held while a network runs. The instance built with the estimator is the one that uses the
/// worker threads of <see cref="PoseEstimatorOptions.Threads"/>, one call at a time.
/// </para>
/// <para>
/// <b>Disposal</b> may happen while calls are running: they finish normally, calls made afterwards throw
/// <see cref="ObjectDisposedException"/>, and the networks and worker threads are released when the last running
/// call returns (by <see cref="Dispose"/> itself when none is running).
/// </para>
/// </summary>
public sealed class PoseEstimator : IDisposable
{
    private readonly InstanceRental<EstimationInstance> _instances;
    private readonly WorkerPool? _pool;

    private PoseEstimator(NpwFile file, PoseEstimatorOptions options, PersonDetector? detector)
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
        EstimationInstance first;
        Func<EstimationInstance> create;
        try
        {
            IsTopDown = family == LiteHrnetConfig.Family;
            if (IsTopDown)
            {
                var network = PoseNetworks.Load(file, width, pool: _pool);
                first = new EstimationInstance(new TopDownEstimation(network, options, _pool, detector));
                create = () => new EstimationInstance(new TopDownEstimation(network.Replicate(), options, pool: null, detector));
            }
            else
            {
                var model = EfficientHrnetModel.Load(file, width);
                first = new EstimationInstance(new BottomUpEstimation(model, options, width, _pool));
                create = () => new EstimationInstance(new BottomUpEstimation(model, options, width, pool: null));
            }
        }
        catch
        {
            _pool?.Dispose();
            throw;
        }
        _instances = new InstanceRental<EstimationInstance>(first, create, () => _pool?.Dispose());
    }

    /// <summary>Loads a .npw file. Throws <see cref="WeightFileException"/> (naming the file) for a bad file.</summary>
    /// <param name="detector">For top-down models: finds the people in images estimated without boxes (bottom-up
    /// models ignore it). The estimator uses it but does not own it: dispose it after the estimator.</param>
    public static PoseEstimator Load(string path, PoseEstimatorOptions? options = null, PersonDetector? detector = null) =>
        new(NpwFile.Load(path), options ?? new PoseEstimatorOptions(), detector);

    /// <summary>An estimator for a .npw file already read (several estimators can share one <see cref="NpwFile"/>).</summary>
    /// <param name="detector">As for <see cref="Load(string, PoseEstimatorOptions?, PersonDetector?)"/>.</param>
    public static PoseEstimator Load(NpwFile file, PoseEstimatorOptions? options = null, PersonDetector? detector = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new(file, options ?? new PoseEstimatorOptions(), detector);
    }

    /// <summary>Loads a .npw file from a stream (read to its end).</summary>
    /// <param name="source">Names the data in error messages.</param>
    public static PoseEstimator Load(Stream stream, PoseEstimatorOptions? options = null, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return new(NpwFile.Parse(bytes.ToArray(), source), options ?? new PoseEstimatorOptions(), null);
    }

    /// <summary>Loads a .npw file held in memory.</summary>
    /// <param name="source">Names the data in error messages.</param>
    public static PoseEstimator Load(ReadOnlySpan<byte> npw, PoseEstimatorOptions? options = null, string source = "memory") =>
        new(NpwFile.Parse(npw.ToArray(), source), options ?? new PoseEstimatorOptions(), null);

    /// <summary>The options the estimator was loaded with.</summary>
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
    /// and the detector's score); when <paramref name="boxes"/> is null, one person per box the estimator's
    /// <see cref="PersonDetector"/> finds, or without a detector one person in the whole image; people
    /// whose keypoints nearly coincide are merged by OKS-NMS (threshold 0.9), as mmpose does. Every box is checked
    /// before any work: a box with a NaN or infinite value, a zero or negative width or height, or no overlap with
    /// the image throws <see cref="ArgumentException"/> naming the box (<c>boxes[i]</c>). A box that only partly
    /// overlaps the image is used as given, not clipped: its part outside the image reads as black, as in mmpose.
    /// </para>
    /// <para>Bottom-up models ignore <paramref name="boxes"/>.</para>
    /// <para>
    /// <paramref name="cancellationToken"/> is checked before the call starts and before every network run (each
    /// person crop, each pass of the flip test): once it is canceled, the call throws
    /// <see cref="OperationCanceledException"/> without waiting for the remaining runs, and the estimator stays usable.
    /// Safe to call from several threads at once (see the class remarks); after <see cref="Dispose"/> it throws
    /// <see cref="ObjectDisposedException"/>.
    /// </para>
    /// </summary>
    public IReadOnlyList<EstimatedPerson> Estimate(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format,
        IReadOnlyList<PersonBox>? boxes = null, CancellationToken cancellationToken = default)
    {
        _instances.Enter();
        try
        {
            ObjectDisposedException.ThrowIf(_instances.IsDisposed, this);
            var image = new RgbImage(pixels, width, height, stride);   // checks the sizes against the bytes
            if (format is not (PixelFormat.Rgb24 or PixelFormat.Bgr24))
                throw new ArgumentOutOfRangeException(nameof(format), format, "expected Rgb24 or Bgr24");
            cancellationToken.ThrowIfCancellationRequested();
            var instance = _instances.Rent();
            try
            {
                return instance.Estimate(image, format, boxes, cancellationToken);
            }
            finally
            {
                _instances.Return(instance);
            }
        }
        finally
        {
            _instances.Exit();
        }
    }

    /// <summary>
    /// Refuses later calls (<see cref="ObjectDisposedException"/>) and releases the networks, their buffers and the
    /// worker threads: now if no call is running, else when the last running call returns.
    /// </summary>
    public void Dispose() => _instances.Dispose();

    /// <summary>Estimation instances built so far (for tests: at most the most calls that ran at once).</summary>
    internal int Instances => _instances.Instances;

    /// <summary>Calls inside <see cref="Estimate"/> now.</summary>
    internal int CallsRunning => _instances.CallsRunning;

    /// <summary>Worker threads alive (0 without a pool, and once released).</summary>
    internal int LiveWorkers => _pool?.LiveWorkers ?? 0;

    /// <summary>What one call needs to itself: the family's estimation (its network and buffers), and the buffer for
    /// BGR images turned to RGB, both kept for the instance's next call.</summary>
    private sealed class EstimationInstance(IPeopleEstimation estimation)
    {
        private byte[] _rgb = [];

        public IReadOnlyList<EstimatedPerson> Estimate(RgbImage image, PixelFormat format, IReadOnlyList<PersonBox>? boxes,
            CancellationToken cancellationToken) =>
            estimation.Estimate(format == PixelFormat.Bgr24 ? new RgbImage(SwapRedAndBlue(image), image.Width, image.Height) : image,
                boxes, cancellationToken);

        /// <summary>BGR rows to a tightly packed RGB copy, in a buffer kept for the next image.</summary>
        private ReadOnlySpan<byte> SwapRedAndBlue(RgbImage bgr)
        {
            int rowBytes = bgr.Width * 3;
            if (_rgb.Length != rowBytes * bgr.Height) _rgb = new byte[rowBytes * bgr.Height];
            for (int y = 0; y < bgr.Height; y++)
            {
                var source = bgr.Pixels.Slice(y * bgr.Stride, rowBytes);
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
}
