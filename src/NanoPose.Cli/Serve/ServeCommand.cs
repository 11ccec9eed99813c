namespace NanoPose.Cli.Serve;

/// <summary>
/// <c>nanopose serve [--port N] [--host IP] [--threads N] [--queue N] [--max-body MB] [--timeout S] [--flip]
/// [--decode dark|default] [--model file.npw] [--detector file.npw|none] [--det-size 192|320] [--det-threshold T]
/// [--max-people N]</c>: runs <see cref="PoseService"/> until Ctrl+C or SIGTERM, then exits with 0. A bad option or
/// model exits with 2 before listening, as the other commands do.
/// </summary>
internal static class ServeCommand
{
    public static int Run(Options parsed, TextWriter output, CancellationToken cancel)
    {
        var options = ServeOptions.Parse(parsed);
        try
        {
            PoseService.RunAsync(options, output, cancel).GetAwaiter().GetResult();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            // An address this machine does not have (a port in use is already an IOException): bad input, exit 2.
            throw new IOException($"cannot listen on {options.Host} port {options.Port}: {e.Message}", e);
        }
        return 0;
    }
}
