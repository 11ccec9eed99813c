using System.Net;
using NanoPose.Weights;

namespace NanoPose.Cli.Serve;

/// <summary>
/// How <see cref="PoseService"/> runs: where it listens, the model and detector, and its limits. The defaults are
/// those of <c>nanopose serve</c> without options.
/// </summary>
internal sealed record ServeOptions
{
    public const int DefaultPort = 8080;
    public const int DefaultQueue = 16;
    public const int DefaultMaxBodyMegabytes = 32;
    public const int DefaultTimeoutSeconds = 30;
    public const string DefaultHost = "127.0.0.1";
    public static readonly int DefaultWorkers = Math.Min(Environment.ProcessorCount, Threading.WorkerPool.MaxThreads);

    /// <summary>The address to listen on: loopback unless told otherwise (a container says 0.0.0.0).</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>The TCP port; 0 lets the system choose one (tests), which <see cref="PoseService.Address"/> then tells.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>The pose model (the built-in PP-TinyPose when not set).</summary>
    public NpwFile Model { get; init; } = BuiltInModel.LoadOr(null);

    /// <summary>Makes the person detector for top-down models given no boxes (null: none, as <c>--detector none</c>).
    /// Called once; the service owns what it returns and disposes it when it stops.</summary>
    public Func<PersonDetector?> Detector { get; init; } = () => PersonDetector.Load(
        BuiltInDetector.Model(BuiltInDetector.DefaultSize));

    /// <summary>The flip test and decoding a request gets unless its query says otherwise (<c>--flip</c>, <c>--decode</c>).</summary>
    public PoseEstimatorOptions Estimation { get; init; } = new();

    /// <summary>Requests estimated at once, each on its own thread and estimation instance (<c>--threads</c>).</summary>
    public int Workers { get; init; } = DefaultWorkers;

    /// <summary>Requests that may wait (reading their body, or for a worker) beyond those being estimated; one more is
    /// answered 503 with Retry-After (<c>--queue</c>).</summary>
    public int Queue { get; init; } = DefaultQueue;

    /// <summary>The largest request body; a larger one is answered 413 (<c>--max-body</c>, in MB).</summary>
    public long MaxBodyBytes { get; init; } = DefaultMaxBodyMegabytes * 1_000_000L;

    /// <summary>A request's whole time: reading its body (408 when that runs out), waiting and estimating (504).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(DefaultTimeoutSeconds);

    /// <summary>The command line's options (<c>nanopose serve</c>, declared in <see cref="CommandLine"/>), with the
    /// same detector options as <c>predict</c>.</summary>
    public static ServeOptions Parse(Options options)
    {
        string host = options.Optional("--host") ?? DefaultHost;
        if (!IPAddress.TryParse(host, out var address))
            throw new UsageException($"--host must be an IP address (127.0.0.1, 0.0.0.0, ::), not '{host}'");
        // Read every option before loading anything, so that a bad one is reported first.
        var parsed = new ServeOptions
        {
            Host = address,
            Port = options.IntInRange("--port", DefaultPort, 0, 65535),
            Estimation = PoseCommand.From(options),
            Workers = options.IntInRange("--threads", DefaultWorkers, 1, Threading.WorkerPool.MaxThreads),
            Queue = options.IntInRange("--queue", DefaultQueue, 0, 10_000),
            MaxBodyBytes = options.IntInRange("--max-body", DefaultMaxBodyMegabytes, 1, (int)(ImageSharp.ImageFileDecoder.MaxFileBytes / 1_000_000)) * 1_000_000L,
            Timeout = TimeSpan.FromSeconds(options.IntInRange("--timeout", DefaultTimeoutSeconds, 1, 3600)),
            Model = BuiltInModel.LoadOr(options.Optional("--model")),
        };
        // The detector's options are checked now too: FromOptions reads them all before it loads a file.
        var detector = parsed.Model.Architecture.Family == Models.LiteHrnet.LiteHrnetConfig.Family ? BuiltInDetector.FromOptions(options, threads: 1) : null;
        return parsed with { Detector = () => detector };
    }
}
