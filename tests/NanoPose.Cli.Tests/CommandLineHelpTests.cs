using System.CommandLine;
using System.Reflection;
using System.Text.RegularExpressions;
using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary>
/// The command line System.CommandLine parses (issue 18, item 2): every command's <c>--help</c> lists each of its
/// options with a description and its default, <c>--version</c> prints the assembly's version, a mistyped option is
/// refused (exit 2) with the closest name suggested, a missing value is refused naming the option, response files
/// (<c>@args.rsp</c>) expand, and the README's command table names exactly the options the help lists.
/// </summary>
public sealed partial class CommandLineHelpTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-help-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int Code, string Output, string Error) Run(params string[] args) => Cli.Run(args, TestContext.Current.CancellationToken);

    /// <summary>The commands as the parser declares them (the tests below take every option from here or the help).</summary>
    private static readonly Command[] Commands = [.. CommandLine.Build(TextWriter.Null, TextWriter.Null, false, default).Subcommands];

    private static string[] ValuedOptions(Command command) =>
        [.. command.Options.Where(o => o is Option<string>).Select(o => o.Name)];

    private static string[] AllOptions(Command command) =>
        [.. command.Options.Where(o => o is not System.CommandLine.Help.HelpOption).Select(o => o.Name)];

    [Fact]
    public void EveryCommandsHelpListsEachOptionWithADescriptionAndItsDefault()
    {
        Assert.Equal(["predict", "video", "eval", "bench", "info", "forward", "serve"], Commands.Select(c => c.Name));
        foreach (var command in Commands)
            foreach (string flag in new[] { "--help", "-h" })
            {
                var (code, help, error) = Run(command.Name, flag);
                Assert.True(code == 0, $"{command.Name} {flag}: exit {code}: {error}");
                Assert.Contains($"nanopose {command.Name}", help);
                foreach (string name in AllOptions(command))
                {
                    // "  --threads <n>   images in flight at once, … [default: 1]": the name, a description, the default.
                    string? line = help.Split('\n').FirstOrDefault(l => HelpOptionName().Match(l) is { Success: true } m && m.Groups[1].Value == name);
                    Assert.True(line is not null, $"{command.Name} --help does not list {name}:\n{help}");
                    string description = line![(line.IndexOf(name, StringComparison.Ordinal) + name.Length)..].Trim();
                    // "--annotations <gt.json> (REQUIRED)  COCO keypoint ground truth": a required option has no default.
                    Assert.True(Regex.IsMatch(description, @"^(<[^>]+>\s+)?(\(REQUIRED\)\s+\w.*\S|\w.*\S\s+\[default: [^\]]+\])\s*$"),
                        $"{command.Name} {name}: no description and default in '{line.Trim()}'");
                }
            }
    }

    [Fact]
    public void TopLevelHelpListsEveryCommandAndNoArgumentsShowIt()
    {
        var (code, help, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var command in Commands) Assert.Matches($@"(?m)^\s+{command.Name}\b.*\w", help);
        Assert.Equal((0, help), (Run().Code, Run().Output));
        Assert.Equal(help, Run("help").Output);
    }

    [Fact]
    public void VersionPrintsTheAssemblysInformationalVersion()
    {
        string? expected = typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        Assert.False(string.IsNullOrEmpty(expected));
        var (code, output, error) = Run("--version");
        Assert.True(code == 0, error);
        Assert.Equal(expected + Environment.NewLine, output);
    }

    /// <summary>Each option of each command with one letter dropped: exit 2, "unknown option" naming it on the first
    /// line, and the real name among the suggestions below it.</summary>
    [Fact]
    public void AMistypedOptionExitsTwoAndSuggestsTheClosestName()
    {
        int cases = 0;
        foreach (var command in Commands)
            foreach (string name in AllOptions(command))
            {
                string typo = name.Remove(3, 1);   // "--threads" → "--treads"
                if (AllOptions(command).Contains(typo)) continue;
                var (code, _, error) = Run(command.Name, typo);
                Assert.True(code == 2, $"{command.Name} {typo}: exit {code}: {error}");
                string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                Assert.Equal($"error: unknown option '{typo}'", lines[0]);
                Assert.True(lines.Skip(1).Contains(name), $"{command.Name} {typo}: '{name}' not suggested:\n{error}");
                Assert.Equal($"see 'nanopose {command.Name} --help'", lines[^1]);
                cases++;
            }
        Assert.True(cases >= 50, $"{cases} typos tried");
        var unknownCommand = Run("predcit");
        Assert.Equal(2, unknownCommand.Code);
        Assert.StartsWith("error: unknown command 'predcit'", unknownCommand.Error);
        Assert.Contains("\npredict\n", unknownCommand.Error.ReplaceLineEndings("\n"));
    }

    /// <summary>Each option that takes a value, given last without one: exit 2 and the option named on the first line
    /// (System.CommandLine's own parse errors exit 2, as bad options always did).</summary>
    [Fact]
    public void AMissingValueExitsTwoNamingTheOption()
    {
        int cases = 0;
        foreach (var command in Commands)
            foreach (string name in ValuedOptions(command))
            {
                var result = Run(command.Name, name);
                Cli.AssertRefused(result, $"'{name}'");
                cases++;
            }
        Assert.True(cases >= 30, $"{cases} options tried");
        Cli.AssertRefused(Run("bench", "--runs", "1", "--runs", "2"), "'--runs'");
        Cli.AssertRefused(Run("eval", "--images", _folder), "'--annotations'");
    }

    /// <summary>A response file gives the same run as its arguments typed out; a missing one is refused naming it.</summary>
    [Fact]
    public void AResponseFileExpandsToItsArguments()
    {
        string image = Path.Combine(SharedData.RepositoryRoot, "samples", "000000000785.jpg");
        string[] options = ["--detector", "none", "--decode", "default"];
        string responseFile = Path.Combine(_folder, "args.rsp");
        File.WriteAllLines(responseFile, ["# the sample photo, the whole image as the box", image, .. options]);
        var typed = Run(["predict", image, .. options]);
        var fromFile = Run("predict", $"@{responseFile}");
        Assert.True(typed.Code == 0, typed.Error);
        Assert.True(fromFile.Code == 0, fromFile.Error);
        Assert.Single(typed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(typed.Output, fromFile.Output);

        string missing = Path.Combine(_folder, "missing.rsp");
        Cli.AssertRefused(Run("predict", $"@{missing}"), missing, "does not exist");
    }

    /// <summary>Response files are input files: one that names itself, a device that never ends and one over the size
    /// limit are refused (exit 2, naming the file) in bounded time, never read forever.</summary>
    [Fact]
    public void HostileResponseFilesAreRefused()
    {
        string loop = Path.Combine(_folder, "loop.rsp");
        File.WriteAllText(loop, $"--threads 2\n@{loop}\n");
        Cli.AssertRefused(Run("predict", $"@{loop}"), "response files", "name itself");
        string large = Path.Combine(_folder, "large.rsp");
        File.WriteAllText(large, new string('x', (int)CommandLine.MaxResponseFileBytes + 1));
        Cli.AssertRefused(Run("predict", $"@{large}"), large, "at most");
        if (OperatingSystem.IsLinux()) Cli.AssertRefused(Run("predict", "@/dev/zero"), "/dev/zero", "not a regular");
    }

    /// <summary>
    /// README.md, section "The `nanopose` command": the rows of each command (its own row and the option rows under
    /// it; for <c>video</c>, also the section "Video and cameras") name exactly the options its help lists.
    /// </summary>
    [Fact]
    public void TheReadmesCommandTableNamesExactlyTheOptionsTheHelpLists()
    {
        string readme = File.ReadAllText(Path.Combine(SharedData.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");
        string section = Section(readme, "## The `nanopose` command");
        var rows = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (string row in section.Split('\n').Where(l => l.StartsWith('|')))
        {
            if (ReadmeCommandRow().Match(row) is { Success: true } m) rows[m.Groups[1].Value] = current = [];
            else if (!row.StartsWith("| ` --", StringComparison.Ordinal)) current = null;   // the table's header
            current?.Add(row);
        }
        if (rows.TryGetValue("video", out var videoRows)) videoRows.Add(Section(readme, "## Video and cameras"));
        foreach (var command in Commands)
        {
            Assert.True(rows.ContainsKey(command.Name), $"README.md's command table has no row for nanopose {command.Name}");
            var documented = rows[command.Name].SelectMany(r => ReadmeOptionName().Matches(r).Select(m => m.Value)).ToHashSet();
            string help = Run(command.Name, "--help").Output;
            var listed = help.Split('\n').Select(l => HelpOptionName().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value)
                .Where(name => name != "--help").ToHashSet();
            Assert.True(listed.Count > 0, help);
            Assert.Empty(listed.Except(documented).Select(name => $"{command.Name} {name}: in --help, not in README.md"));
            Assert.Empty(documented.Except(listed).Select(name => $"{command.Name} {name}: in README.md, not in --help"));
        }
    }

    private static string Section(string markdown, string heading)
    {
        int start = markdown.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no section {heading}");
        int end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return markdown[start..(end < 0 ? markdown.Length : end)];
    }

    /// <summary>An option line of the help: "  --name …" or "  -?, -h, --help …"; group 1 is the long name.</summary>
    [GeneratedRegex(@"^\s{2}(?:-\S+, )*(--[a-z][a-z0-9-]*)\b")]
    private static partial Regex HelpOptionName();

    [GeneratedRegex(@"^\| `nanopose ([a-z]+)\b")]
    private static partial Regex ReadmeCommandRow();

    [GeneratedRegex(@"--[a-z][a-z0-9-]*")]
    private static partial Regex ReadmeOptionName();
}
