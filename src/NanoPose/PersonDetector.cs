using NanoPose.Kernels.Simd;
using NanoPose.Models.PicoDet;
using NanoPose.Pipelines.Detection;
using NanoPose.Pipelines.TopDown;
using NanoPose.Threading;
using NanoPose.Weights;

namespace NanoPose;

/// <summary>
/// Finds the people in an image with a PicoDet model from a .npw file (MODELS.md G): the image resized to the
/// network's square input, the network, its boxes decoded and reduced by PaddleDetection's NMS (score &gt; 0.025, IoU
/// 0.6), then the people scoring at least <see cref="PersonDetectorOptions.ScoreThreshold"/>, best first, as boxes in
/// image pixels clipped to the image. Usable on its own, or given to <see cref="PoseEstimator"/> to find the people a
/// top-down model then estimates.
/// <para><b>Thread safety and disposal</b> as for <see cref="PoseEstimator"/>: <see cref="Detect(ReadOnlySpan{byte}, int, int, int, PixelFormat, CancellationToken)"/> may be called from
/// several threads at once, each call on a network instance of its own (sharing the packed weights; only the first uses
/// the worker threads of <see cref="PersonDetectorOptions.Threads"/>), and disposal during calls waits for them to
/// return before it releases the networks and threads.</para>
/// </summary>
public sealed class PersonDetector : IDisposable
{
    private readonly InstanceRental<Runner> _runners;

    private PersonDetector(NpwFile file, PersonDetectorOptions options)
    {
        Options = options;
        if (file.Architecture.Family != PicoDetConfig.Family)
            throw new WeightFileException(file.Source, $"architecture family '{file.Architecture.Family}' is not a person detector (expected {PicoDetConfig.Family})");
        var config = file.ReadConfiguration(PicoDetConfig.FromArchitecture);
        if (config.RegressionBins != PicoDetDecoder.Bins)
            throw new WeightFileException(file.Source, $"{config.RegressionBins} regression bins; the decoder takes {PicoDetDecoder.Bins}");
        var pool = options.Threads > 1 ? new WorkerPool(options.Threads) : null;
        PicoDetNetwork network;
        try
        {
            network = PicoDetNetwork.Build(config, new NpwWeightSource(file), Isa.Best, options.InputSize, options.InputSize, pool);
            file.RequireEveryTensorUsed();
        }
        catch
        {
            pool?.Dispose();
            throw;
        }
        _runners = new InstanceRental<Runner>(new Runner(network), () => new Runner(network.Replicate()), () => pool?.Dispose());
        InputSize = (network.InputHeight, network.InputWidth);
        Architecture = file.Architecture;
    }

    /// <summary>Loads a detector .npw file. Throws <see cref="WeightFileException"/> (naming the file) for a bad file.</summary>
    public static PersonDetector Load(string path, PersonDetectorOptions? options = null) =>
        new(NpwFile.Load(path), options ?? new PersonDetectorOptions());

    /// <summary>A detector for a .npw file already read.</summary>
    public static PersonDetector Load(NpwFile file, PersonDetectorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new(file, options ?? new PersonDetectorOptions());
    }

    /// <summary>The options the detector was loaded with.</summary>
    public PersonDetectorOptions Options { get; }

    /// <summary>The model as its .npw file describes it (family, variant, input size, ...).</summary>
    public ModelArchitecture Architecture { get; }

    /// <summary>The network's input size (height, width).</summary>
    public (int Height, int Width) InputSize { get; }

    /// <summary>
    /// The people in one image of <paramref name="width"/> × <paramref name="height"/> pixels, rows
    /// <paramref name="stride"/> bytes apart, in <paramref name="format"/>: COCO boxes (x, y, width, height) in image
    /// pixels, clipped to the image, with the detector's score; best first.
    /// </summary>
    public IReadOnlyList<PersonBox> Detect(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format,
        CancellationToken cancellationToken = default)
    {
        if (format is not (PixelFormat.Rgb24 or PixelFormat.Bgr24))
            throw new ArgumentOutOfRangeException(nameof(format), format, "expected Rgb24 or Bgr24");
        return Detect(new RgbImage(pixels, width, height, stride), format == PixelFormat.Bgr24, cancellationToken);
    }

    internal IReadOnlyList<PersonBox> Detect(RgbImage image, bool bgr, CancellationToken cancellationToken)
    {
        _runners.Enter();
        try
        {
            ObjectDisposedException.ThrowIf(_runners.IsDisposed, this);
            cancellationToken.ThrowIfCancellationRequested();
            var runner = _runners.Rent();
            try
            {
                return runner.Detect(image, bgr, Options);
            }
            finally
            {
                _runners.Return(runner);
            }
        }
        finally
        {
            _runners.Exit();
        }
    }

    /// <summary>Refuses later calls (<see cref="ObjectDisposedException"/>) and releases the networks and worker threads:
    /// now if no call is running, else when the last running call returns.</summary>
    public void Dispose() => _runners.Dispose();

    /// <summary>One network instance with the buffers of a detection.</summary>
    private sealed class Runner(PicoDetNetwork network)
    {
        private readonly byte[] _resized = new byte[network.InputHeight * network.InputWidth * 3];
        private readonly float[] _input = new float[network.InputHeight * network.InputWidth * 3];
        private readonly DetectionPostProcessing _post = new(network.Outputs.AnchorCount);

        public IReadOnlyList<PersonBox> Detect(RgbImage image, bool bgr, PersonDetectorOptions options)
        {
            var (width, height) = (network.InputWidth, network.InputHeight);
            DetectorInput.Prepare(image, bgr, width, height, _resized, _input);
            return _post.People(network.Run(_input), width, height, image.Width, image.Height, options);
        }
    }
}
