namespace NanoPose.Cli.Serve;

/// <summary>
/// <c>nanopose serve [--port N] [--host IP] [--threads N] [--queue N] [--max-body MB] [--timeout S] [--flip]
/// [--decode dark|default] [--model file.npw] [--detector file.npw|none] [--det-size 192|320] [--det-threshold T]
/// [--max-people N]</c>: runs <see cref="PoseService"/> until Ctrl+C or SIGTERM, then exits with 0. A bad option or
/// model exits with 2 before listening, as the other commands do.
/// </summary>
internal static class ServeCommand
{
    public const string Usage = """
        usage: nanopose serve [--port <n>] [--host <ip>] [--threads <n>] [--queue <n>] [--max-body <MB>] [--timeout <s>]
                              [--flip] [--decode dark|default] [--model <file.npw>] [--detector <file.npw|none>]
                              [--det-size 192|320] [--det-threshold <0..1>] [--max-people <n>]
        """;

    public static int Run(string[] args, TextWriter output, CancellationToken cancel)
    {
        if (args is ["--help"] or ["-h"])
        {
            output.WriteLine(Usage);
            return 0;
        }
        // A port in use or an address this machine lacks is an IOException from Kestrel: exit 2 with its message.
        PoseService.RunAsync(ServeOptions.Parse(args), output, cancel).GetAwaiter().GetResult();
        return 0;
    }
}
