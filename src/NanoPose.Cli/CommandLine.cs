using NanoPose.Evaluation;
using NanoPose.ImageSharp;
using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Weights;

namespace NanoPose.Cli;

/// <summary>The <c>nanopose</c> commands. A problem with the input (a missing file, a bad option, a bad image or
/// box) prints one line naming it and exits with 2; any other failure prints one line and exits with 1.</summary>
internal static class CommandLine
{
    public const string Usage = """
        usage: nanopose isa
               nanopose info --model <file.npw>
               nanopose forward --model <file.npw> --input <image.npy> --out-dir <dir>
               nanopose predict --model <file.npw> <image>... [--boxes <results-or-dets.json>] [--flip]
                                [--decode default|dark] [--json <out.json>] [--jsonl]
               nanopose eval --model <file.npw> --annotations <gt.json> --images <dir> [--boxes gt|<dets.json>]
                             [--flip] [--decode default|dark] [--json <stats.json>]
        """;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            switch (args)
            {
                case ["isa"]:
                    output.WriteLine($"vector widths: {Isa.Describe()}");
                    output.WriteLine($"kernels use:   {Isa.Best}");
                    return 0;
                case ["info", .. var options]:
                    string model = Options.Parse(options, ["--model"]).Required("--model");
                    var file = NpwFile.Load(model);
                    NetworkInfo.Write(file, PoseNetworks.Load(file, Isa.Best), output);
                    return 0;
                case ["forward", .. var options]:
                    var forward = Options.Parse(options, ["--model", "--input", "--out-dir"]);
                    foreach (string written in Forward.Run(forward.Required("--model"), forward.Required("--input"), forward.Required("--out-dir")))
                        output.WriteLine(written);
                    return 0;
                case ["predict", .. var options]:
                    PredictCommand.Run(options, output);
                    return 0;
                case ["eval", .. var options]:
                    EvalCommand.Run(options, output);
                    return 0;
                case []:
                    error.WriteLine(Usage);
                    return 0;
                default:
                    error.WriteLine(Usage);
                    return 2;
            }
        }
        catch (Exception e) when (e is UsageException or WeightFileException or CocoFormatException or ImageFileException
                                  or InvalidDataException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            if (e is UsageException) error.WriteLine(Usage);
            return 2;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: internal error ({e.GetType().Name}): {e.Message}");
            return 1;
        }
    }
}
