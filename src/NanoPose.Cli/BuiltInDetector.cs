using NanoPose.Models;
using NanoPose.Weights;

namespace NanoPose.Cli;

/// <summary>
/// The person detector <c>nanopose</c> puts in front of top-down models when no <c>--boxes</c> are given: PicoDet-S
/// LCNet pedestrian (PaddleDetection), trained at 192×192 and at 320×320 (two weight sets), converted with
/// <c>nanopose-weights convert … --arch picodet-s-lcnet --fp16</c> from the OpenVINO IR files in
/// <c>../shared/models/picodet/</c> (fp16 there too, so the values are unchanged) and embedded in NanoPose.Models. A test
/// checks each is byte for byte a fresh conversion of those files.
/// </summary>
internal static class BuiltInDetector
{
    /// <summary>The input sizes built in, and the default: 320. On coco-mini the pipeline scores keypoint AP 0.822 with
    /// it and 0.802 with 192 (default options, <c>eval --boxes detector</c>); 320's boxes fit the people better (mean best IoU 0.919 against 0.890, MODELS.md G.7) for 9.7 against 3.7 ms of
    /// network time (bench/README.md).</summary>
    public static readonly int[] Sizes = [.. BuiltInModels.PersonDetectorSizes];
    public const int DefaultSize = BuiltInModels.DefaultPersonDetectorSize;

    public const string Notice = BuiltInModels.PersonDetectorNotice;

    public static string Name(int size) => BuiltInModels.PersonDetectorName(size);

    /// <summary>The embedded .npw file's bytes for the model trained at <paramref name="size"/>.</summary>
    public static byte[] Bytes(int size) => BuiltInModels.PersonDetectorModelBytes(size);

    /// <summary>The embedded model trained at <paramref name="size"/>, read in place.</summary>
    public static NpwFile Model(int size) => BuiltInModels.PersonDetectorModel(size);

    /// <summary>
    /// The detector of <c>--detector</c> (a .npw file, <c>none</c>, or absent for the built-in one at
    /// <c>--det-size</c>), with <c>--det-threshold</c> and <c>--max-people</c>; null for <c>none</c>.
    /// </summary>
    public static PersonDetector? FromOptions(Options options, int threads) => LoaderFromOptions(options, threads)?.Invoke();

    /// <summary>
    /// As <see cref="FromOptions"/>, in two steps: the options are read now (a bad value is a usage error before any
    /// work), the returned function reads the file and builds the detector (null for <c>none</c>). <c>predict</c> runs
    /// it on a thread of its own while the pose model is built.
    /// </summary>
    public static Func<PersonDetector>? LoaderFromOptions(Options options, int threads)
    {
        string? choice = options.Optional("--detector");
        int size = options.Optional("--det-size") is { } text
            ? (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int s) && Sizes.Contains(s) ? s
                : throw new UsageException($"--det-size must be {string.Join(" or ", Sizes)}, not '{text}'"))
            : DefaultSize;
        var detectorOptions = new PersonDetectorOptions
        {
            ScoreThreshold = options.FloatInRange("--det-threshold", PersonDetectorOptions.DefaultScoreThreshold, 0, 1),
            MaxPeople = options.IntInRange("--max-people", DefaultMaxPeople, 1, 1000),
            Threads = threads,
        };
        if (choice == "none") return null;
        // A file of its own runs at the size it was converted for, unless --det-size says otherwise.
        if (choice is not null && options.Optional("--det-size") is not null) detectorOptions = detectorOptions with { InputSize = size };
        return () => PersonDetector.Load(choice is null ? Model(size) : BuiltInModel.LoadFile(choice, "detector"), detectorOptions);
    }

    public const int DefaultMaxPeople = 100;
}
