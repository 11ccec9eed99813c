using NanoPose.IO;
using NanoPose.Evaluation;
using NanoPose.ImageSharp;
using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Weights;

namespace NanoPose.Cli;

/// <summary>The <c>nanopose</c> commands. A problem with the input (a missing file, a bad option, a bad image or
/// box) prints one line naming it and exits with 2; any other failure prints one line and exits with 1. Without
/// <c>--model</c>, every command uses the built-in model (<see cref="BuiltInModel"/>).</summary>
internal static class CommandLine
{
    public const int InputProblemExitCode = 2;

    /// <summary>As a shell reports a process stopped by Ctrl+C (128 + SIGINT).</summary>
    public const int CanceledExitCode = 130;

    public const string Usage = """
        usage: nanopose predict <image|folder|glob>... [--model <file.npw>] [--boxes <results-or-dets.json>] [--flip]
                                [--decode dark|default] [--json <out.json> | --jsonl <out.jsonl>]
                                [--draw <dir>] [--draw-format png|jpg] [--min-score <0..1>]
                                [--threads <n>]
               nanopose eval --annotations <gt.json> --images <dir> [--model <file.npw>] [--boxes gt|<dets.json>]
                             [--flip] [--decode dark|default] [--json <stats.json>]
               nanopose bench [--model <file.npw> | --detector 192|320] [--runs <n>] [--input <W>x<H>] [--threads <n>] [--profile]
               nanopose info [--model <file.npw>]
               nanopose forward --input <image.npy> --out-dir <dir> [--model <file.npw>]
               nanopose video <frames folder|glob|file.y4m|-> [--raw <W>x<H> [--bgr]] [--fps <rate>] [--det-every <n>]
                              [--smooth] [--max-missed <n>] [--jsonl <out.jsonl>] [--openpose-json <dir>]
                              [--draw <out.y4m|dir>] [--model <file.npw>] [--threads <n>] [--min-score <0..1>]
        without --model: the built-in PP-TinyPose 256×192 (weights © PaddlePaddle Authors, Apache License 2.0)
        """;

    /// <param name="showProgress">Draw a progress bar on <paramref name="error"/> (it is a terminal).</param>
    /// <param name="cancel">Ctrl+C: a batch stops taking new images and reports what it did.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, bool showProgress = false, CancellationToken cancel = default)
    {
        try
        {
            switch (args)
            {
                case ["predict", .. var options]:
                    return PredictCommand.Run(options, output, error, showProgress, cancel);
                case ["serve", .. var options]:
                    return Serve.ServeCommand.Run(options, output, cancel);
                case ["video", .. var options]:
                    return VideoCommand.Run(options, output, error, showProgress, cancel);
                case ["eval", .. var options]:
                    EvalCommand.Run(options, output);
                    return 0;
                case ["bench", .. var options]:
                    BenchCommand.Run(options, output);
                    return 0;
                case ["info", .. var options]:
                    string? model = Options.Parse(options, ["--model"]).Optional("--model");
                    var file = BuiltInModel.LoadOr(model);
                    output.WriteLine($"vector widths: {Isa.Describe()}; kernels use {Isa.Best}");
                    NetworkInfo.Write(file, PoseNetworks.Load(file, Isa.Best), new PrintableLines(output));   // names and values from the file
                    if (model is null) output.WriteLine(BuiltInModel.Notice);
                    return 0;
                case ["forward", .. var options]:
                    var forward = Options.Parse(options, ["--model", "--input", "--out-dir"]);
                    foreach (string written in Forward.Run(BuiltInModel.LoadOr(forward.Optional("--model")), forward.Required("--input"), forward.Required("--out-dir"), forward.Optional("--model")))
                        output.WriteLine(Printable.Text(written));
                    return 0;
                case [] or ["--help"] or ["-h"] or ["help"]:
                    output.WriteLine(Usage);
                    return 0;
                default:
                    string shown = Printable.Text(args[0]);
                    error.WriteLine(args[0].StartsWith('-') || args[0].Contains('.') || args[0].Contains('/')
                        ? $"error: '{shown}' is not a command; to estimate poses: nanopose predict {shown}"
                        : $"error: unknown command '{shown}'");
                    error.WriteLine(Usage);
                    return InputProblemExitCode;
            }
        }
        catch (Exception e) when (IsInputProblem(e))
        {
            error.WriteLine($"error: {Printable.Text(e.Message)}");
            if (e is UsageException) error.WriteLine(Usage);
            return InputProblemExitCode;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: internal error ({e.GetType().Name}): {Printable.Text(e.Message)}");
            return 1;
        }
    }

    /// <summary>Exceptions that mean the input (arguments, files, images, boxes) is at fault, not NanoPose.</summary>
    public static bool IsInputProblem(Exception e) =>
        e is UsageException or WeightFileException or CocoFormatException or ImageFileException or InvalidDataException
            or ArgumentException or IOException or UnauthorizedAccessException;
}

/// <summary>A writer for reports that hold text from files (a model's names): each line is written through
/// <see cref="FilePaths.Printable"/>, so the report's own line breaks stay and nothing from the file reaches the
/// terminal raw.</summary>
internal sealed class PrintableLines(TextWriter inner) : TextWriter
{
    public override System.Text.Encoding Encoding => inner.Encoding;
    public override void Write(char value) => inner.Write(value == '\n' ? "\n" : Printable.Text(value.ToString()));
    public override void Write(string? value) => WriteLines(value, newLine: false);
    public override void WriteLine(string? value) => WriteLines(value, newLine: true);

    private void WriteLines(string? value, bool newLine)
    {
        string[] lines = (value ?? "").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0) inner.WriteLine();
            inner.Write(Printable.Text(lines[i]));
        }
        if (newLine) inner.WriteLine();
    }
}
