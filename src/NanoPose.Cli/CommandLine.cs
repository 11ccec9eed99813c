using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Reflection;
using NanoPose.IO;
using NanoPose.Evaluation;
using NanoPose.ImageSharp;
using NanoPose.Kernels.Simd;
using NanoPose.Models;
using NanoPose.Tracking;
using NanoPose.Weights;

namespace NanoPose.Cli;

/// <summary>The <c>nanopose</c> commands, parsed by System.CommandLine: <c>--help</c> on every command (each option
/// with its default), <c>--version</c>, response files (<c>@args.rsp</c>), and typo suggestions. A problem with the
/// input (a missing file, a bad option or value, a bad image or box) prints one line naming it and exits with 2; any
/// other failure prints one line and exits with 1. Without <c>--model</c>, every command uses the built-in model
/// (<see cref="BuiltInModel"/>).</summary>
internal static class CommandLine
{
    public const int InputProblemExitCode = 2;

    /// <summary>As a shell reports a process stopped by Ctrl+C (128 + SIGINT).</summary>
    public const int CanceledExitCode = 130;

    /// <param name="showProgress">Draw a progress bar on <paramref name="error"/> (it is a terminal).</param>
    /// <param name="cancel">Ctrl+C: a batch stops taking new images and reports what it did.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, bool showProgress = false, CancellationToken cancel = default)
    {
        var root = Build(output, error, showProgress, cancel);
        ParseResult? parse = null;
        try
        {
            parse = root.Parse(args is [] or ["help"] ? ["--help"] : args, ParserConfiguration());
            if (parse.Errors.Count > 0) return ReportParseErrors(parse, root, error);
            return parse.Invoke(Writing(output, error));
        }
        catch (Exception e) when (IsInputProblem(e))
        {
            error.WriteLine($"error: {Printable.Text(e.Message)}");
            if (e is UsageException && parse is not null) error.WriteLine(SeeHelp(parse.CommandResult.Command, root));
            return InputProblemExitCode;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: internal error ({e.GetType().Name}): {Printable.Text(e.Message)}");
            return 1;
        }
    }

    /// <summary>A response file may hold at most this many bytes (arguments, not data).</summary>
    public const long MaxResponseFileBytes = 1 << 20;

    /// <summary>Response files one command line may read in all (they may name others): one that names itself is
    /// refused, not read forever.</summary>
    public const int MaxResponseFiles = 64;

    /// <summary>
    /// Response files (<c>@args.rsp</c>) split as System.CommandLine splits them (each line into arguments, quotes
    /// kept together, lines starting with <c>#</c> left out), but read as every other input file is: a regular file of
    /// at most <see cref="MaxResponseFileBytes"/> (<see cref="InputFile"/>), so <c>@/dev/zero</c> or a FIFO is refused
    /// instead of read forever, and at most <see cref="MaxResponseFiles"/> of them.
    /// </summary>
    private static ParserConfiguration ParserConfiguration()
    {
        int read = 0;
        return new ParserConfiguration
        {
            ResponseFileTokenReplacer = (string path, out IReadOnlyList<string>? tokens, out string? error) =>
            {
                (tokens, error) = (null, null);
                if (++read > MaxResponseFiles)
                {
                    error = $"@{path}: more than {MaxResponseFiles} response files in one command line (does one name itself?)";
                    return false;
                }
                try
                {
                    using var reader = new StreamReader(InputFile.OpenRead(path, MaxResponseFileBytes, "response"));
                    var arguments = new List<string>();
                    for (string? line; (line = reader.ReadLine()) is not null;)
                        if (line.Trim() is { Length: > 0 } text && text[0] != '#') arguments.AddRange(CommandLineParser.SplitCommandLine(text));
                    tokens = arguments;
                    return true;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    error = e.Message.Contains(path, StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}";
                    return false;
                }
            },
        };
    }

    /// <summary>Exceptions that mean the input (arguments, files, images, boxes) is at fault, not NanoPose.</summary>
    public static bool IsInputProblem(Exception e) =>
        e is UsageException or WeightFileException or CocoFormatException or ImageFileException or InvalidDataException
            or ArgumentException or IOException or UnauthorizedAccessException;

    /// <summary>The assembly's informational version, which <c>--version</c> prints.</summary>
    public static string Version =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// A command line that does not parse: the first problem on the first line ("error: unknown option '--thread'"),
    /// then System.CommandLine's suggestions of the closest names, and where the help is. Exit code 2.
    /// </summary>
    private static int ReportParseErrors(ParseResult parse, Command root, TextWriter error)
    {
        var command = parse.CommandResult.Command;
        string problem;
        if (command == root && parse.UnmatchedTokens is [var name, ..] && !name.StartsWith('-'))
        {
            string shown = Printable.Text(name);
            problem = name.Contains('.') || name.Contains('/')
                ? $"'{shown}' is not a command; to estimate poses: nanopose predict {shown}"
                : $"unknown command '{shown}'";
        }
        else if (parse.UnmatchedTokens is [var token, ..])
            problem = Printable.Text(token.StartsWith('-') ? $"unknown option '{token}'" : $"unexpected argument '{token}'");
        else   // a response file that cannot be read, then a problem with what was given, then what is missing ("Option '--images' is required.")
            problem = Printable.Text(parse.Errors.OrderBy(e => e.SymbolResult switch
            {
                null => 0,
                OptionResult { IdentifierToken: not null } or ArgumentResult => 1,
                _ => 2,
            }).First().Message);
        error.WriteLine($"error: {problem}");
        foreach (string line in TypoSuggestions(parse, command)) error.WriteLine(Printable.Text(line));
        error.WriteLine(SeeHelp(command, root));
        return InputProblemExitCode;
    }

    private static string SeeHelp(Command command, Command root) => $"see '{(command == root ? "nanopose" : $"nanopose {command.Name}")} --help'";

    /// <summary>How System.CommandLine's actions run here: to these writers, with our own Ctrl+C handling (Program.cs)
    /// and error reporting (<see cref="Run"/>), not its own.</summary>
    private static InvocationConfiguration Writing(TextWriter output, TextWriter error) =>
        new() { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };

    /// <summary>
    /// System.CommandLine's typo corrections ("'--thread' was not matched. Did you mean one of the following?
    /// --threads") for the names it could not match. A command with inputs takes an unknown "--name" as an input
    /// (<see cref="Inputs"/> refuses it): those are parsed again against the command's options alone, where they are
    /// unmatched names like any other.
    /// </summary>
    private static IEnumerable<string> TypoSuggestions(ParseResult parse, Command command)
    {
        string[] optionLikeInputs = [.. parse.CommandResult.Children.OfType<ArgumentResult>()
            .SelectMany(argument => argument.Tokens).Select(token => token.Value).Where(IsOptionLike)];
        if (parse.UnmatchedTokens.Count == 0 && optionLikeInputs.Length > 0)
        {
            var optionsAlone = new Command(command.Name);
            foreach (var option in command.Options) optionsAlone.Options.Add(option);
            parse = optionsAlone.Parse(optionLikeInputs);
        }
        if (parse.Action is not ParseErrorAction action) return [];
        (action.ShowHelp, action.ShowTypoCorrections) = (false, true);
        var report = new StringWriter();
        parse.Invoke(Writing(report, report));
        var errors = parse.Errors.Select(e => e.Message).ToHashSet();   // the report's error lines: the first is printed already
        return report.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(line => !errors.Contains(line));
    }

    /// <summary>What the old parser took for an option, never for an input: "--" and a name.</summary>
    private static bool IsOptionLike(string token) => token.StartsWith("--", StringComparison.Ordinal) && token.Length > 2;

    /// <summary>
    /// Every command and option. The commands' actions run with <paramref name="output"/> and <paramref name="error"/>;
    /// each option's default (or what happens without it) is in the help.
    /// </summary>
    internal static Command Build(TextWriter output, TextWriter error, bool showProgress, CancellationToken cancel)
    {
        // Named "nanopose" whatever process hosts it (a RootCommand takes the executable's name): the help says what to type.
        var root = new Command("nanopose", $"Human poses (17 COCO keypoints per person) in photos and videos. Without --model: the built-in PP-TinyPose 256×192 ({BuiltInModel.Notice}).")
        {
            new HelpOption(),
            new VersionOption { Action = new WriteLine(() => Version) },
        };

        var predict = new Command("predict", "People in each image, as JSON lines on standard output (COCO results format plus file_name).")
        {
            Inputs("image|folder|glob", "image files, folders (their .jpg/.jpeg/.png/.bmp files), globs (photos/*.jpg, photos/**/*.jpg)"),
            Model(),
            Without("--boxes", "dets.json", "person boxes for top-down models, from a COCO results file", "the person detector finds them"),
            Flip(),
            Decode(),
            Without("--json", "out.json", "a COCO results array to this file, written when the batch completes", "JSON lines on standard output"),
            Without("--jsonl", "out.jsonl", "the JSON lines to this file, written when the batch completes", "standard output"),
            Without("--draw", "dir", "writes each image as <dir>/<name>.png with the skeletons drawn", "no pictures"),
            WithDefault("--draw-format", "png|jpg", "the format of the --draw pictures", "png"),
            Flag("--no-boxes", "with --draw: leave out each person's box and detector score"),
            MinScore(),
            WithDefault("--threads", "n", "images in flight at once, each on its own estimator", "1"),
        };
        AddAll(predict, Detector());
        predict.SetAction(parse => PredictCommand.Run(new Options(parse, predict), output, error, showProgress, cancel));

        var video = new Command("video", "People tracked through a video or camera, one JSON line per frame.")
        {
            Inputs("file.y4m|-|folder|glob", "a Y4M file, - for standard input (Y4M, or raw frames with --raw), or a folder or glob of frames"),
            Without("--raw", "WxH", "raw RGB24 frames of this size on standard input", "Y4M"),
            Flag("--bgr", "with --raw: the frames are BGR24"),
            Without("--fps", "rate", "the frame rate of raw frames and image folders (30 or 30000:1001)", "30; a Y4M stream's own"),
            WithDefault("--det-every", "n", "the person detector on every n-th frame; in between, boxes follow the keypoints",
                new PoseTrackerOptions().DetectEvery.ToString(CultureInfo.InvariantCulture)),
            Flag("--smooth", "One-Euro filter on each track's keypoints"),
            WithDefault("--max-missed", "n", "frames a track is kept while its person is not seen",
                new PoseTrackerOptions().MaxMissedFrames.ToString(CultureInfo.InvariantCulture)),
            Without("--jsonl", "out.jsonl", "the JSON lines to this file", "standard output"),
            Without("--openpose-json", "dir", "OpenPose's per-frame keypoint files into this folder", "none"),
            Without("--draw", "out.y4m|-|dir", "the frames with each track drawn: a Y4M file, Y4M on standard output (-), or one PNG per frame in a folder", "none"),
            Flag("--no-boxes", "with --draw: leave out each person's box"),
            Model(),
            WithDefault("--threads", "n", "threads the networks use", "1"),
            MinScore(),
            Flip(),
            Decode(),
        };
        AddAll(video, Detector());
        video.SetAction(parse => VideoCommand.Run(new Options(parse, video), output, error, showProgress, cancel));

        var eval = new Command("eval", "COCO keypoint evaluation: pycocotools' ten statistics.")
        {
            Required("--annotations", "gt.json", "COCO keypoint ground truth"),
            Required("--images", "dir", "the folder of its images"),
            WithDefault("--boxes", "gt|detector|dets.json", "person boxes: the ground truth's, the person detector's, or a COCO results file's", EvalCommand.GroundTruthBoxes),
            Without("--json", "stats.json", "the statistics to this file as JSON", "none"),
            Model(),
            Flip(),
            Decode(),
        };
        AddAll(eval, Detector());
        eval.SetAction(parse => EvalCommand.Run(new Options(parse, eval), output));

        var bench = new Command("bench", "Times the network: warm-up, then median, p90 and minimum latency, GMAC/s.")
        {
            Model(),
            Without("--detector", "192|320", "time the built-in person detector's network (logits only) instead", "the pose model"),
            WithDefault("--runs", "n", "timed runs", "50"),
            Without("--input", "WxH", "the network's input size", "the model's own"),
            WithDefault("--threads", "n", "threads each operation is split over", "1"),
            Flag("--profile", "also the time per kind of operation and the slowest layers"),
        };
        bench.SetAction(parse => BenchCommand.Run(new Options(parse, bench), output));

        var info = new Command("info", "The model's architecture, parameters, multiply-accumulates, and the vector widths in use.") { Model() };
        info.SetAction(parse =>
        {
            string? model = new Options(parse, info).Optional("--model");
            var file = BuiltInModel.LoadOr(model);
            output.WriteLine($"vector widths: {Isa.Describe()}; kernels use {Isa.Best}");
            NetworkInfo.Write(file, PoseNetworks.Load(file, Isa.Best), new PrintableLines(output));   // names and values from the file
            if (model is null) output.WriteLine(BuiltInModel.Notice);
        });

        var forward = new Command("forward", "The raw network outputs as .npy files, for checking against other implementations.")
        {
            Required("--input", "x.npy", "the network input (C×H×W float32)"),
            Required("--out-dir", "dir", "where the outputs go"),
            Model(),
        };
        forward.SetAction(parse =>
        {
            var options = new Options(parse, forward);
            foreach (string written in Forward.Run(BuiltInModel.LoadOr(options.Optional("--model")), options.Required("--input"), options.Required("--out-dir"), options.Optional("--model")))
                output.WriteLine(Printable.Text(written));
        });

        var serve = new Command("serve", "An HTTP service until Ctrl+C or SIGTERM: POST /v1/pose with an image answers what predict --json writes; GET /healthz.")
        {
            WithDefault("--port", "n", "the TCP port (0: any free one)", Serve.ServeOptions.DefaultPort.ToString(CultureInfo.InvariantCulture)),
            WithDefault("--host", "ip", "the address to listen on (0.0.0.0 or :: in a container)", Serve.ServeOptions.DefaultHost),
            WithDefault("--threads", "n", "requests estimated at once, each on its own thread (default: the cores)",
                Serve.ServeOptions.DefaultWorkers.ToString(CultureInfo.InvariantCulture)),
            WithDefault("--queue", "n", "requests that may wait beyond those estimated; one more is answered 503",
                Serve.ServeOptions.DefaultQueue.ToString(CultureInfo.InvariantCulture)),
            WithDefault("--max-body", "MB", "the largest request body; larger is answered 413",
                Serve.ServeOptions.DefaultMaxBodyMegabytes.ToString(CultureInfo.InvariantCulture)),
            WithDefault("--timeout", "s", "a request's whole time: its body (408), waiting and estimating (504)",
                Serve.ServeOptions.DefaultTimeoutSeconds.ToString(CultureInfo.InvariantCulture)),
            Model(),
            Flip(),
            Decode(),
        };
        AddAll(serve, Detector());
        serve.SetAction(parse => Serve.ServeCommand.Run(new Options(parse, serve), output, cancel));

        foreach (var command in new[] { predict, video, eval, bench, info, forward, serve }) root.Subcommands.Add(command);
        return root;
    }

    /// <summary>The bare arguments of a command: any number here; the command says how many it needs.</summary>
    private static Argument<string[]> Inputs(string helpName, string description)
    {
        var inputs = new Argument<string[]>("inputs") { HelpName = helpName, Description = description, Arity = ArgumentArity.ZeroOrMore };
        // System.CommandLine takes an unknown "--name" for an input; it is a mistyped option (the file would be "./--name").
        inputs.Validators.Add(result =>
        {
            foreach (var token in result.Tokens.Where(token => IsOptionLike(token.Value)))
                result.AddError($"unknown option '{token.Value}'");
        });
        return inputs;
    }

    /// <summary>An option whose default the command applies (<see cref="Options.Value"/>, <see cref="Options.IntInRange"/>).</summary>
    private static Option<string> WithDefault(string name, string helpName, string description, string value) =>
        new(name) { HelpName = helpName, Description = description, DefaultValueFactory = _ => value };

    private static Option<string> Required(string name, string helpName, string description) =>
        new(name) { HelpName = helpName, Description = description, Required = true };

    /// <summary>An option without a default value, and what happens without it, shown as its default in the help
    /// (System.CommandLine shows a default value as "[default: …]"): the built-in model, standard output.</summary>
    private static Option<string> Without(string name, string helpName, string description, string shown) =>
        new(name) { HelpName = helpName, Description = $"{description} [default: {shown}]" };

    private static Option<bool> Flag(string name, string description) =>
        new(name) { Description = $"{description} [default: off]", Arity = ArgumentArity.Zero };

    private static void AddAll(Command command, IEnumerable<Option> options)
    {
        foreach (var option in options) command.Options.Add(option);
    }

    private static Option<string> Model() => Without("--model", "file.npw", "another model: any converted .npw, top-down or bottom-up", "built in");

    private static Option<bool> Flip() => Flag("--flip", "flip test: run the mirrored input too and average");

    private static Option<string> Decode() => WithDefault("--decode", "dark|default", "sub-pixel decoding: DARK, or mmpose's quarter-pixel rule", PoseCommand.DarkDecoding);

    private static Option<string> MinScore() => WithDefault("--min-score", "0..1", "joints scoring below this are not drawn, nor their limbs",
        PredictCommand.DefaultMinScore.ToString(CultureInfo.InvariantCulture));

    /// <summary>The options <see cref="BuiltInDetector.FromOptions"/> reads.</summary>
    private static Option[] Detector() =>
    [
        Without("--detector", "file.npw|none", "the person detector for top-down models; none: the whole image is the box", "built-in PicoDet-S"),
        WithDefault("--det-size", string.Join('|', BuiltInDetector.Sizes), "which built-in detector (its input size)",
            BuiltInDetector.DefaultSize.ToString(CultureInfo.InvariantCulture)),
        WithDefault("--det-threshold", "0..1", "the detector score a person needs",
            PersonDetectorOptions.DefaultScoreThreshold.ToString(CultureInfo.InvariantCulture)),
        WithDefault("--max-people", "n", "at most n people per image", BuiltInDetector.DefaultMaxPeople.ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary><c>--version</c>'s action: one line to standard output.</summary>
    private sealed class WriteLine(Func<string> text) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(text());
            return 0;
        }
    }
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
